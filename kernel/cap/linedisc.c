/*
 * The UART's line discipline, shared by Console and TerminalSession:
 * characters typed go to the oldest waiting reader's line; Backspace/DEL
 * erase one character (all the bytes of a UTF-8 sequence), Ctrl-U clears,
 * Enter completes. A reader may ask for no echo (password entry: nothing
 * typed is shown) and for events: Ctrl-C ends the
 * read as an interrupt (the partial line is dropped) and Ctrl-D on an empty
 * line as end of input. A raw reader (TerminalSession.readKeys, for a
 * line editor in user space) gets the bytes as typed. A reader whose caller
 * goes away takes its partial line with it (ld_cancel).
 */
#include "objects.h"
#include "linedisc.h"
#include "dev/serial.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"
#include "c/string.h"

/* One line being edited, for the oldest reader. Binds on: only the timer
 * tick (an interrupt gate) and readLine calls (system calls) touch these,
 * both with interrupts off, so neither can interrupt the other. */
static struct list readers = LIST_INIT(readers);      /* struct pending (PENDING_LINE), oldest first */
#define LD_LINE_MAX 4032        /* the longest line, whatever a result may hold */
static char line[LD_LINE_MAX];
static uint32_t line_len;
static int esc;                 /* inside an escape sequence (arrow keys...): 1 after ESC, 2 inside CSI */

static void complete(struct pending *pd, uint16_t event)
{
    uint8_t buf[LD_LINE_MAX + 64];      /* on the kernel stack: the line and its message's words */
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, sizeof buf);
    if (pd->line.flags & LD_RAW) {
        capos_TerminalSession_readKeys_Results_set_data(capos_TerminalSession_readKeys_Results_init_root(&b), line,
                                                        line_len);
    } else if (pd->line.flags & LD_TERMINAL) {
        capos_TerminalSession_readLine_Results_builder r = capos_TerminalSession_readLine_Results_init_root(&b);
        capos_TerminalSession_readLine_Results_set_line(r, line, event == capos_TerminalEvent_line ? line_len : 0);
        capos_TerminalSession_readLine_Results_set_event(r, event);
    } else {
        capos_Console_readLine_Results_set_line(capos_Console_readLine_Results_init_root(&b), line, line_len);
    }
    int e = capnp_builder_finish(&b, &len);
    pending_complete(pd, e ? CAP_ERR_RESULT_TOO_SMALL : 0, buf, (uint32_t)len);
    line_len = 0;
}

void console_input_ready(void)
{
    KASSERT(!interrupts_enabled());
    while (!list_empty(&readers)) {
        int ch = serial_getc();
        if (ch < 0)
            return;
        struct pending *pd = container_of(readers.next, struct pending, wait_link);
        uint32_t max = pd->line.max;
        bool echo = pd->line.flags & LD_ECHO, events = pd->line.flags & LD_EVENTS;
        if (pd->line.flags & LD_RAW) {   /* everything waiting, as typed (a line editor's input) */
            line_len = 0;
            line[line_len++] = (char)ch;
            while (line_len < max && (ch = serial_getc()) >= 0)
                line[line_len++] = (char)ch;
            complete(pd, capos_TerminalEvent_line);
            continue;
        }
        if (esc) {
            /* swallow ESC [ params final-byte, so cursor keys never land in the line */
            if (esc == 1)
                esc = ch == '[' ? 2 : 0;
            else if (ch >= 0x40 && ch <= 0x7e)
                esc = 0;
            continue;
        }
        if (ch == 0x1b) {
            esc = 1;
        } else if (ch == '\r' || ch == '\n') {
            serial_write("\n", 1);
            complete(pd, capos_TerminalEvent_line);
        } else if (events && ch == 0x03) {
            serial_write("^C\n", 3);
            complete(pd, capos_TerminalEvent_interrupt);
        } else if (events && ch == 0x04 && line_len == 0) {
            complete(pd, capos_TerminalEvent_endOfInput);
        } else if (ch == 0x7F || ch == 0x08) {
            if (line_len) {              /* one character: a UTF-8 lead byte and its continuation bytes */
                while (line_len > 1 && ((uint8_t)line[line_len - 1] & 0xC0) == 0x80)
                    line_len--;
                line_len--;
                if (echo)
                    serial_write("\b \b", 3);
            }
        } else if (ch == 0x15) {
            while (line_len) {
                line_len--;
                if (echo && ((uint8_t)line[line_len] & 0xC0) != 0x80)
                    serial_write("\b \b", 3);
            }
        } else if (ch >= 0x20 && line_len < max) {
            line[line_len++] = (char)ch;
            if (echo)
                serial_putc((char)ch);
        }
    }
}

void ld_cancel(struct pending *pd)
{
    /* the line being edited is the oldest reader's: it goes with it (wiped,
     * it may be a password), and the next reader starts on an empty line */
    if (!list_empty(&readers) && readers.next == &pd->wait_link) {
        memset(line, 0, line_len);
        line_len = 0;
        esc = 0;
    }
    list_del(&pd->wait_link);
}

int ld_read(struct call_ctx *c, uint32_t max, unsigned flags)
{
    if (max == 0 || max > sizeof line)
        max = sizeof line;
    struct pending *pd = pending_new(c, PENDING_LINE);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    pd->line.max = max;
    pd->line.flags = flags;
    list_add_tail(&readers, &pd->wait_link);
    console_input_ready();
    return CALL_PENDING;
}
