/*
 * TerminalSession on the UART: what a login shell holds instead of Console.
 *   write(data)
 *   readLine(maxBytes, echo) -> (line, event)   echo off for passwords;
 *                             Ctrl-C / Ctrl-D come back as events.
 *   readKeys(maxBytes) -> data   raw bytes as typed (a line editor's input)
 *   size() -> columns, rows      80x24: a serial line cannot tell
 */
#include "objects.h"
#include "linedisc.h"
#include "dev/serial.h"

static int term_write(void *self, capos_TerminalSession_write_Params_reader p, capos_TerminalSession_write_Results_builder r)
{
    capnp_data d = capos_TerminalSession_write_Params_get_data(p);
    serial_write((const char *)d.ptr, d.len);
    return CAPNP_OK;
}

static int term_read_line(void *self, capos_TerminalSession_readLine_Params_reader p,
                          capos_TerminalSession_readLine_Results_builder r)
{
    unsigned flags = LD_EVENTS | LD_TERMINAL | (capos_TerminalSession_readLine_Params_get_echo(p) ? LD_ECHO : 0);
    return ld_read(self, capos_TerminalSession_readLine_Params_get_maxBytes(p), flags);
}

static int term_read_keys(void *self, capos_TerminalSession_readKeys_Params_reader p,
                          capos_TerminalSession_readKeys_Results_builder r)
{
    return ld_read(self, capos_TerminalSession_readKeys_Params_get_maxBytes(p), LD_RAW);
}

static int term_size(void *self, capos_TerminalSession_size_Params_reader p, capos_TerminalSession_size_Results_builder r)
{
    capos_TerminalSession_size_Results_set_columns(r, 80);     /* a serial line cannot tell */
    capos_TerminalSession_size_Results_set_rows(r, 24);
    return CAPNP_OK;
}

static const capos_TerminalSession_server term_server = { .write = term_write, .readLine = term_read_line,
                                                          .readKeys = term_read_keys, .size = term_size };
static int term_call(struct kobj *o, struct call_ctx *c) { return capos_TerminalSession_dispatch(&term_server, c, &c->sc); }
static const struct kobj_type term_type = { "TerminalSession", capos_TerminalSession_ID, term_call, 0 };
struct kobj terminal_obj = KOBJ_STATIC(term_type, capos_TerminalSession_ID);
