/*
 * Console: the serial port as a capability.
 *   write(data)        the bytes go to the serial line.
 *   readLine(maxBytes) -> line  completes when Enter is pressed; the line
 *                      has no newline. Input is echoed; Backspace/DEL erase,
 *                      Ctrl-U clears. One line at a time goes to the oldest
 *                      waiting reader.
 */
#include "objects.h"
#include "kprintf.h"
#include "../dev/serial.h"
#include "../../lib/c/string.h"

static struct list readers = LIST_INIT(readers);
static char line[CAP_MAX_RESULT - 64];
static uint32_t line_len;

static void complete_line(struct pending *pd)
{
    uint8_t buf[CAP_MAX_RESULT];
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, sizeof buf);
    capos_Console_readLine_Results_builder r = capos_Console_readLine_Results_init_root(&b);
    capos_Console_readLine_Results_set_line(r, line, line_len);
    int e = capnp_builder_finish(&b, &len);
    pending_complete(pd, e ? CAP_ERR_RESULT_TOO_SMALL : 0, buf, (uint32_t)len);
}

void console_input_ready(void)
{
    while (!list_empty(&readers)) {
        int ch = serial_getc();
        if (ch < 0)
            return;
        struct pending *pd = container_of(readers.next, struct pending, wait_link);
        uint32_t max = (uint32_t)pd->arg;
        if (ch == '\r' || ch == '\n') {
            serial_write("\n", 1);
            complete_line(pd);
            line_len = 0;
        } else if (ch == 0x7F || ch == 0x08) {
            if (line_len) {
                line_len--;
                serial_write("\b \b", 3);
            }
        } else if (ch == 0x15) {
            while (line_len) {
                line_len--;
                serial_write("\b \b", 3);
            }
        } else if (ch >= 0x20 && line_len < max) {
            line[line_len++] = (char)ch;
            serial_putc((char)ch);
        }
    }
}

static int console_write(void *self, capos_Console_write_Params_reader p, capos_Console_write_Results_builder r)
{
    capnp_data d = capos_Console_write_Params_get_data(p);
    serial_write((const char *)d.ptr, d.len);
    return CAPNP_OK;
}

static int console_read_line(void *self, capos_Console_readLine_Params_reader p, capos_Console_readLine_Results_builder r)
{
    struct call_ctx *c = self;
    uint32_t max = capos_Console_readLine_Params_get_maxBytes(p);
    if (max == 0 || max > sizeof line)
        max = sizeof line;
    struct pending *pd = pending_new(c);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    pd->arg = max;
    list_add_tail(&readers, &pd->wait_link);
    console_input_ready();
    return CALL_PENDING;
}

static const capos_Console_server console_server = { .write = console_write, .readLine = console_read_line };
static int console_call(struct kobj *o, struct call_ctx *c) { return capos_Console_dispatch(&console_server, c, &c->sc); }
static const struct kobj_type console_type = { "Console", IFACE_CONSOLE, console_call, 0 };
struct kobj console_obj = KOBJ_STATIC(console_type, IFACE_CONSOLE);
