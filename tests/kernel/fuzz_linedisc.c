/*
 * libFuzzer target: the UART's line discipline (kernel/cap/linedisc.c) and
 * the two objects that read through it, Console and TerminalSession
 * (console.c, terminal.c), built for the host against a model UART and a
 * model of pending calls. The input is a script of operations:
 *   [0 sel lo hi]      a call: sel picks the object and method (readLine,
 *                      readKeys, write, size; echo on or off), lo hi its
 *                      maxBytes (or the length of the data written)
 *   [1 n bytes...]     n bytes arrive on the UART, then the timer tick
 *   [2 k]              the caller of the k-th waiting read goes away (its
 *                      partial line, if it is the oldest, goes with it)
 *   [3]                a tick with nothing new
 * At the end every read still waiting is finished by typing, so the static
 * state starts the next input clean.
 * Checked: every completion is a valid result message of its method, with
 * at most maxBytes of line; an edited line holds no control bytes; an
 * event ends the line empty; and nothing typed is echoed to a reader that
 * asked for no echo (a password): with echo off only "\n" and "^C\n" go out.
 */
#include <stdlib.h>
#include <string.h>
#include "cap/objects.h"
#include "cap/linedisc.h"
#include "dev/serial.h"
#include "kprintf.h"
#include "capos.capnp.h"

void panic(const char *fmt, ...) { abort(); }
void kprintf(const char *fmt, ...) {}

/* ---- the UART: a queue of received bytes ---- */
static uint8_t rx[4096];
static size_t rx_head, rx_len;

int serial_getc(void)
{
    if (rx_head == rx_len)
        return -1;
    return rx[rx_head++];
}

/* ---- pending calls: the model keeps its own list, oldest first ---- */
#define MAX_WAIT 32
static struct pending *waiting[MAX_WAIT];
static unsigned nwait;
static bool in_input;                    /* the line discipline is running (not an object's write) */

struct pending *pending_new(struct call_ctx *c, enum pending_kind kind)
{
    if (nwait == MAX_WAIT)
        return 0;
    struct pending *pd = calloc(1, sizeof *pd);
    pd->kind = kind;
    pd->result_len = c->result_len;
    pd->user_data = c->user_data;
    list_init(&pd->wait_link);
    waiting[nwait++] = pd;
    return pd;
}

/* The model's side of pending_complete and pending_cancel (the wait link
 * is already off the readers: linedisc.c took it, or ld_cancel did). */
static void forget(unsigned i)
{
    free(waiting[i]);
    memmove(waiting + i, waiting + i + 1, (nwait - i - 1) * sizeof waiting[0]);
    nwait--;
}

/* The method a read was made through rides in user_data. */
enum read_kind { READ_CONSOLE, READ_TERMINAL, READ_KEYS };

void pending_complete(struct pending *pd, int result, const void *data, uint32_t len)
{
    /* the line discipline answers the oldest reader first */
    if (!nwait || waiting[0] != pd || pd->kind != PENDING_LINE || result != 0 || len > pd->result_len)
        abort();
    static uint8_t copy[CAP_MAX_RESULT] __attribute__((aligned(8)));
    memcpy(copy, data, len);
    capnp_msg m;
    if (capnp_msg_init(&m, copy, len) || capnp_msg_validate(&m))
        abort();
    capnp_msg_init(&m, copy, len);
    uint32_t max = pd->line.max;
    capnp_data line = { 0 };
    switch ((enum read_kind)pd->user_data) {
    case READ_KEYS: {
        capnp_data d = capos_TerminalSession_readKeys_Results_get_data(capos_TerminalSession_readKeys_Results_read_root(&m));
        if (d.len == 0 || d.len > max)
            abort();
        break;
    }
    case READ_TERMINAL: {
        capos_TerminalSession_readLine_Results_reader r = capos_TerminalSession_readLine_Results_read_root(&m);
        line = capos_TerminalSession_readLine_Results_get_line(r);
        uint16_t ev = capos_TerminalSession_readLine_Results_get_event(r);
        if (ev > capos_TerminalEvent_endOfInput || (ev != capos_TerminalEvent_line && line.len))
            abort();
        break;
    }
    case READ_CONSOLE:
        line = capos_Console_readLine_Results_get_line(capos_Console_readLine_Results_read_root(&m));
        break;
    }
    if (line.len > max)
        abort();                          /* also: a cancelled reader's line never reaches the next */
    for (uint32_t i = 0; i < line.len; i++)
        if (line.ptr[i] < 0x20 || line.ptr[i] == 0x7f)
            abort();
    list_del(&pd->wait_link);
    forget(0);
}

/* Echo of what is typed goes only to a reader that asked for it. */
static bool echo_allowed(void)
{
    return nwait && (waiting[0]->line.flags & LD_ECHO) && !(waiting[0]->line.flags & LD_RAW);
}

void serial_putc(char c)
{
    if (in_input && !echo_allowed())
        abort();
}

void serial_write(const char *s, size_t n)
{
    if (!in_input)
        return;                           /* an object's write(): any bytes */
    if ((n == 1 && s[0] == '\n') || (n == 3 && !memcmp(s, "^C\n", 3)))
        return;
    if (n == 3 && !memcmp(s, "\b \b", 3) && echo_allowed())
        return;
    abort();
}

/* ---- calls through the objects ---- */
static uint8_t pbuf[512] __attribute__((aligned(8)));
static uint8_t rbuf[CAP_MAX_RESULT] __attribute__((aligned(8)));

static void call(uint8_t sel, uint16_t arg)
{
    capnp_builder b;
    capnp_builder_init(&b, pbuf, sizeof pbuf);
    struct kobj *o = &terminal_obj;
    uint64_t iface = capos_TerminalSession_ID;
    uint16_t method;
    enum read_kind kind = READ_TERMINAL;
    static const char data[256] = "hello";
    switch (sel % 7) {
    case 0:
        o = &console_obj, iface = capos_Console_ID, method = capos_Console_METHOD_readLine, kind = READ_CONSOLE;
        capos_Console_readLine_Params_set_maxBytes(capos_Console_readLine_Params_init_root(&b), arg);
        break;
    case 1:
    case 2: {
        method = capos_TerminalSession_METHOD_readLine;
        capos_TerminalSession_readLine_Params_builder p = capos_TerminalSession_readLine_Params_init_root(&b);
        capos_TerminalSession_readLine_Params_set_maxBytes(p, arg);
        capos_TerminalSession_readLine_Params_set_echo(p, sel % 7 == 1);
        break;
    }
    case 3:
        method = capos_TerminalSession_METHOD_readKeys, kind = READ_KEYS;
        capos_TerminalSession_readKeys_Params_set_maxBytes(capos_TerminalSession_readKeys_Params_init_root(&b), arg);
        break;
    case 4:
        method = capos_TerminalSession_METHOD_write;
        capos_TerminalSession_write_Params_set_data(capos_TerminalSession_write_Params_init_root(&b), data, arg % 256);
        break;
    case 5:
        o = &console_obj, iface = capos_Console_ID, method = capos_Console_METHOD_write;
        capos_Console_write_Params_set_data(capos_Console_write_Params_init_root(&b), data, arg % 256);
        break;
    default:
        method = capos_TerminalSession_METHOD_size;
        capos_TerminalSession_size_Params_init_root(&b);
        break;
    }
    size_t plen;
    if (capnp_builder_finish(&b, &plen))
        abort();
    struct call_ctx c = { .obj = o, .user_data = kind, .result_len = CAP_MAX_RESULT };
    c.sc = (capnp_server_call){ .interface_id = iface, .method_id = method, .params = pbuf, .params_len = plen,
                                .result = rbuf, .result_cap = sizeof rbuf };
    unsigned before = nwait;
    in_input = sel % 7 <= 3;              /* a read runs the discipline on what is queued */
    int e = o->type->call(o, &c);
    in_input = false;
    if (e == CALL_PENDING ? nwait > before + 1 : e == CAP_ERR_OVERLOADED ? before != MAX_WAIT : e != CAPNP_OK)
        abort();
}

static void tick(void)
{
    in_input = true;
    console_input_ready();
    in_input = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 0;
    rx_head = rx_len = 0;
    while (i < size) {
        uint8_t op = data[i++];
        switch (op % 4) {
        case 0: {
            uint8_t sel = i < size ? data[i++] : 0;
            uint16_t arg = i + 1 < size ? (uint16_t)(data[i] | data[i + 1] << 8) : 0;
            i += 2;
            call(sel, arg);
            break;
        }
        case 1: {
            size_t n = i < size ? data[i++] : 0;
            if (n > size - i)
                n = size - i;
            if (rx_len + n > sizeof rx) {
                memmove(rx, rx + rx_head, rx_len - rx_head);
                rx_len -= rx_head;
                rx_head = 0;
                if (rx_len + n > sizeof rx)
                    n = sizeof rx - rx_len;
            }
            memcpy(rx + rx_len, data + i, n);
            rx_len += n;
            i += n;
            tick();
            break;
        }
        case 2: {
            uint8_t k = i < size ? data[i++] : 0;
            if (nwait) {                  /* pending_cancel for a PENDING_LINE */
                ld_cancel(waiting[k % nwait]);
                forget(k % nwait);
            }
            break;
        }
        default:
            tick();
            break;
        }
    }
    /* finish every read still waiting: 'A' ends an escape sequence (or is
     * typed), CR ends the line; a raw read takes the 'A' */
    rx_head = rx_len = 0;
    for (unsigned guard = 0; nwait; guard++) {
        if (guard > 2 * MAX_WAIT + 2)
            abort();                      /* a reader that no input completes */
        rx_head = 0;
        rx_len = 2;
        rx[0] = 'A';
        rx[1] = '\r';
        tick();
    }
    rx_head = rx_len = 0;
    return 0;
}
