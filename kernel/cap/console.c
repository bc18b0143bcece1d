/*
 * Console: the serial port as a capability.
 *   write(data)      params = the bytes (at most CAP_MAX_PARAMS); result empty.
 *   readLine(max)    params = u32 max bytes (optional); result = the line,
 *                    without its newline. Completes when Enter is pressed.
 * Input is echoed; Backspace/DEL erase; Ctrl-U clears the line. One line at a
 * time goes to the oldest waiting reader.
 */
#include "objects.h"
#include "kprintf.h"
#include "../dev/serial.h"
#include "../../lib/c/string.h"

static int console_call(struct kobj *o, struct call_ctx *c);
static const struct kobj_type console_type = { "Console", IFACE_CONSOLE, console_call, 0 };
struct kobj console_obj = { &console_type, 1 };

static struct list readers = LIST_INIT(readers);
static char line[CAP_MAX_RESULT];
static uint32_t line_len;

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
            pending_complete(pd, 0, line, line_len);
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

static int console_call(struct kobj *o, struct call_ctx *c)
{
    switch (c->method) {
    case CONSOLE_WRITE:
        serial_write((const char *)c->params, c->plen);
        return 0;
    case CONSOLE_READ_LINE: {
        uint32_t max = c->rcap;
        if (c->plen >= 4) {
            uint32_t want;
            memcpy(&want, c->params, 4);
            if (want < max)
                max = want;
        }
        struct pending *pd = pending_new(c);
        if (!pd)
            return CAP_ERR_OVERLOADED;
        pd->arg = max;
        list_add_tail(&readers, &pd->wait_link);
        console_input_ready();
        return CALL_PENDING;
    }
    }
    return CAP_ERR_UNKNOWN_METHOD;
}
