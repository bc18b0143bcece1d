/*
 * Console: the serial port as a capability (the kernel log shares it).
 *   write(data)                  the bytes go to the serial line.
 *   readLine(maxBytes) -> line   one edited, echoed line (linedisc.c).
 */
#include "objects.h"
#include "linedisc.h"
#include "dev/serial.h"

static int console_write(void *self, capos_Console_write_Params_reader p, capos_Console_write_Results_builder r)
{
    capnp_data d = capos_Console_write_Params_get_data(p);
    serial_write((const char *)d.ptr, d.len);
    return CAPNP_OK;
}

static int console_read_line(void *self, capos_Console_readLine_Params_reader p, capos_Console_readLine_Results_builder r)
{
    return ld_read(self, capos_Console_readLine_Params_get_maxBytes(p), LD_ECHO);
}

static const capos_Console_server console_server = { .write = console_write, .readLine = console_read_line };
static int console_call(struct kobj *o, struct call_ctx *c) { return capos_Console_dispatch(&console_server, c, &c->sc); }
static const struct kobj_type console_type = { "Console", IFACE_CONSOLE, console_call, 0 };
struct kobj console_obj = KOBJ_STATIC(console_type, IFACE_CONSOLE);
