/*
 * capos-shell: the shell a person gets after logging in. It holds its
 * terminal, its UserSession and what the AuthorityBroker gave its session's
 * profile, and nothing else: no spawner, no network, no keys.
 *
 * One event loop: the terminal read, every job's stdio endpoint and every
 * job's end are calls in flight on the ring at once, so a background job's
 * output is shown when it ends, Ctrl-C reaches the foreground program (the
 * shell kills it through its ProcessHandle), and the session's idle
 * timeout and lifetime end the shell even while nobody types.
 */
#include "rt/capos.h"
#include "cpu/rdrand.h"
#include "siphash/siphash.h"
#include "parse.h"

static uint32_t term, session;
static char me[32] = "?", profile[16] = "?", method[16] = "?";
static uint64_t idle_ns, expires_ns, last_input;

/* A duration for people: 2h05m, 15m00s, 42s. */
static const char *dur(uint64_t ns, char *out, size_t cap)
{
    uint64_t s = ns / 1000000000ull;
    if (s >= 3600)
        fmt_snprintf(out, cap, "%luh%02lum", s / 3600, s / 60 % 60);
    else if (s >= 60)
        fmt_snprintf(out, cap, "%lum%02lus", s / 60, s % 60);
    else
        fmt_snprintf(out, cap, "%lus", s);
    return out;
}

/* ---- the ring: one tag per kind of call in flight ---- */
#define TAG_TERM      0x5E11000000000000ull
#define TAG_JOB_RECV  0x5E12000000000000ull     /* | job */
#define TAG_JOB_WAIT  0x5E13000000000000ull     /* | job */
#define TAG_MASK      0xFFFF000000000000ull
#define TAG_MODEL        0x5E14000000000000ull  /* | seq: a LanguageModel call (agent mode) */
#define TAG_MODEL_CANCEL 0x5E15000000000000ull
static uint64_t model_waiting;                  /* the model call waited for (0: none) */
static bool model_outstanding, cancel_outstanding;
static void cancel_answered(void);

/* ---- jobs: programs run with run/spawn, their stdio served here ---- */
#define JOBS 8                                 /* background jobs; slot JOBS is the foreground's */
#define OUTBUF 2048
struct job {
    bool used, ended, killed;
    int64_t code;
    char name[24];
    uint32_t proc, owner;
    uint8_t buf[2048] __attribute__((aligned(8)));      /* its RECV */
    uint8_t waitres[64] __attribute__((aligned(8)));
    char out[OUTBUF];                                   /* output kept until it is shown */
    uint32_t nout;
    bool lost;                                          /* output beyond OUTBUF */
    bool reading;                                       /* a readLine of its is waiting for a line */
    uint32_t read_call;
};
static struct job jobs[JOBS + 1];
static int fg = -1;                                     /* the job in the foreground */
static char ahead[256];                                 /* a line typed while a program ran */
static void term_write(const char *s, size_t n);

/* ---- the terminal: raw keys, in flight while the shell waits for anything ---- */
static bool term_pending;
static uint8_t term_params[64] __attribute__((aligned(8))), term_res[1200] __attribute__((aligned(8)));
static uint8_t kq[1024];                                /* keys typed and not yet taken */
static uint32_t kq_len;
static uint16_t term_cols = 80, term_rows = 24;

/* The terminal's size now (the SSH client may have resized its window). */
static void term_size(void)
{
    RT_BUFS(b, 64, 128);
    capnp_client cl = RT_CLIENT(term);
    capnp_call call;
    capos_TerminalSession_size_Results_reader r;
    if (!capos_TerminalSession_size(&cl, &b, &call, &r) && capos_TerminalSession_size_Results_get_columns(r) >= 20) {
        term_cols = capos_TerminalSession_size_Results_get_columns(r);
        term_rows = capos_TerminalSession_size_Results_get_rows(r);
    }
}

static void term_post(void)
{
    if (term_pending || kq_len > sizeof kq - 256)
        return;
    capnp_builder b;
    capnp_builder_init(&b, term_params, sizeof term_params);
    capos_TerminalSession_readKeys_Params_set_maxBytes(capos_TerminalSession_readKeys_Params_init_root(&b), 256);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = term, .interface_id = capos_TerminalSession_ID,
                         .method_id = capos_TerminalSession_METHOD_readKeys, .addr = (uint64_t)term_params,
                         .len = (uint32_t)len, .result_addr = (uint64_t)term_res, .result_len = sizeof term_res };
    rt_ring_submit_tagged(&s, TAG_TERM);
    term_pending = true;
}

/* A finished key read: its bytes join the queue; -1 if the terminal failed. */
static int term_done(const struct cap_cqe *c)
{
    term_pending = false;
    capnp_msg m;
    if (c->result < 0 || capnp_msg_init(&m, term_res, (size_t)c->result) != CAPNP_OK)
        return -1;
    capnp_data d = capos_TerminalSession_readKeys_Results_get_data(capos_TerminalSession_readKeys_Results_read_root(&m));
    size_t n = d.len < sizeof kq - kq_len ? d.len : sizeof kq - kq_len;
    memcpy(kq + kq_len, d.ptr, n);
    kq_len += (uint32_t)n;
    last_input = rt_timer_now();
    return 0;
}

static void kq_take(uint32_t n)
{
    memmove(kq, kq + n, kq_len - n);
    kq_len -= n;
}

/* ---- the line editor ----
 * Left/Right, Home/End (and Ctrl-A/E), Backspace and Delete by whole UTF-8
 * characters, Ctrl-K (to the end), Ctrl-U (to the start), Ctrl-W (the word
 * before), Ctrl-L (clear the screen), Up/Down (history), Tab (completion of
 * commands, program names and cap names), Ctrl-C (drop the line), Ctrl-D
 * (on an empty line: end). Lines are at most 255 bytes; control bytes never
 * enter one. */
#define ED_LINE 1
#define ED_INTR 2
#define ED_EOF  3
struct editor {
    char buf[256];
    uint32_t len, cur;
    const char *prompt;
    bool echo, history;
    uint32_t hpos;                          /* history entry shown (nhist: the line being typed) */
    char saved[256];                        /* the line being typed, while browsing the history */
};
#define HIST 16
static char hist[HIST][256];
static uint32_t nhist;

static bool cont(uint8_t c) { return (c & 0xC0) == 0x80; }
static uint32_t chars(const char *s, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++)
        k += !cont((uint8_t)s[i]);
    return k;
}

/* Output is gathered and written once per key batch. */
static char eout[2048];
static uint32_t eout_len;
static void eput(const char *s, size_t n)
{
    if (eout_len + n > sizeof eout)
        n = sizeof eout - eout_len;
    memcpy(eout + eout_len, s, n);
    eout_len += (uint32_t)n;
}
static void eputs(const char *s) { eput(s, strlen(s)); }
static void emove(int n)                  /* the cursor n cells right (n < 0: left) */
{
    char b[16];
    if (n)
        eput(b, (size_t)fmt_snprintf(b, sizeof b, "\x1b[%d%c", n < 0 ? -n : n, n < 0 ? 'D' : 'C'));
}
static void eflush(void)
{
    if (eout_len)
        term_write(eout, eout_len);
    eout_len = 0;
}

/* Redraw from the prompt: the whole line, then the cursor where it is. */
static void ed_redraw(struct editor *e)
{
    if (!e->echo)
        return;
    eputs("\r");
    eputs(e->prompt);
    eput(e->buf, e->len);
    eputs("\x1b[K");
    emove(-(int)chars(e->buf + e->cur, e->len - e->cur));
}

static void ed_begin(struct editor *e, const char *prompt, bool echo, bool history)
{
    memset(e, 0, sizeof *e);
    e->prompt = prompt;
    e->echo = echo;
    e->history = history;
    e->hpos = nhist;
    if (echo)
        term_write(prompt, strlen(prompt));
}

static void ed_set(struct editor *e, const char *text)
{
    strlcpy(e->buf, text, sizeof e->buf);
    e->len = e->cur = (uint32_t)strlen(e->buf);
    ed_redraw(e);
}

static void ed_insert(struct editor *e, const char *s, uint32_t n)
{
    if (e->len + n >= sizeof e->buf)
        return;                                            /* full: the key is dropped */
    memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur);
    memcpy(e->buf + e->cur, s, n);
    e->len += n;
    e->cur += n;
    if (!e->echo)
        return;
    if (e->cur == e->len)
        eput(s, n);
    else
        ed_redraw(e);
}

static void ed_delete(struct editor *e, uint32_t from, uint32_t to)   /* bytes [from, to) */
{
    if (from >= to)
        return;
    memmove(e->buf + from, e->buf + to, e->len - to);
    e->len -= to - from;
    e->cur = from;
    ed_redraw(e);
}

static uint32_t ed_prev(struct editor *e, uint32_t i)   /* the start of the character before i */
{
    while (i > 0 && cont((uint8_t)e->buf[--i]))
        ;
    return i;
}

static uint32_t ed_next(struct editor *e, uint32_t i)
{
    if (i < e->len)
        i++;
    while (i < e->len && cont((uint8_t)e->buf[i]))
        i++;
    return i;
}

static void complete_word(struct editor *e);

static void ed_history(struct editor *e, int dir)
{
    uint32_t first = nhist > HIST ? nhist - HIST : 0;
    if (!e->history || (dir < 0 && e->hpos == first) || (dir > 0 && e->hpos == nhist))
        return;
    if (e->hpos == nhist) {
        memcpy(e->saved, e->buf, e->len);
        e->saved[e->len] = 0;
    }
    e->hpos = dir < 0 ? e->hpos - 1 : e->hpos + 1;
    ed_set(e, e->hpos == nhist ? e->saved : hist[e->hpos % HIST]);
}

/* Take keys from the queue until the line is done (ED_*) or they run out
 * (0). An escape sequence cut short stays in the queue for the next read. */
static int ed_feed(struct editor *e)
{
    int done = 0;
    uint32_t i = 0;
    while (i < kq_len && !done) {
        uint8_t c = kq[i];
        if (c == 0x1b) {                                  /* ESC [ params final, or ESC O x */
            if (i + 1 >= kq_len)
                break;
            uint32_t j = i + 2;
            char kind = (char)kq[i + 1], fin = 0, param = 0;
            if (kind == '[') {
                while (j < kq_len && kq[j] >= 0x30 && kq[j] <= 0x3f)
                    param = param ? param : (char)kq[j], j++;
                if (j >= kq_len)
                    break;
                fin = (char)kq[j++];
            } else if (kind == 'O') {
                if (j >= kq_len)
                    break;
                fin = (char)kq[j++];
            } else {
                j = i + 1;                                /* a lone ESC: dropped */
            }
            i = j;
            if (fin == 'D' && e->cur > 0) {
                uint32_t p = ed_prev(e, e->cur);
                if (e->echo)
                    emove(-1);
                e->cur = p;
            } else if (fin == 'C' && e->cur < e->len) {
                e->cur = ed_next(e, e->cur);
                if (e->echo)
                    emove(1);
            } else if (fin == 'H' || (fin == '~' && (param == '1' || param == '7'))) {
                if (e->echo)
                    emove(-(int)chars(e->buf, e->cur));
                e->cur = 0;
            } else if (fin == 'F' || (fin == '~' && (param == '4' || param == '8'))) {
                if (e->echo)
                    emove((int)chars(e->buf + e->cur, e->len - e->cur));
                e->cur = e->len;
            } else if (fin == '~' && param == '3') {
                ed_delete(e, e->cur, ed_next(e, e->cur));
            } else if (fin == 'A') {
                ed_history(e, -1);
            } else if (fin == 'B') {
                ed_history(e, 1);
            }
            continue;
        }
        i++;
        switch (c) {
        case '\r':
        case '\n':
            if (c == '\n' && i >= 2 && kq[i - 2] == '\r')
                break;                                    /* CR LF is one Enter */
            if (e->echo) {
                emove((int)chars(e->buf + e->cur, e->len - e->cur));
                eputs("\n");
            }
            done = ED_LINE;
            break;
        case 0x03:
            if (e->echo)
                eputs("^C\n");
            e->len = e->cur = 0;
            done = ED_INTR;
            break;
        case 0x04:
            if (e->len == 0)
                done = ED_EOF;
            else
                ed_delete(e, e->cur, ed_next(e, e->cur));
            break;
        case 0x01:
            if (e->echo)
                emove(-(int)chars(e->buf, e->cur));
            e->cur = 0;
            break;
        case 0x05:
            if (e->echo)
                emove((int)chars(e->buf + e->cur, e->len - e->cur));
            e->cur = e->len;
            break;
        case 0x02:                                        /* Ctrl-B, Ctrl-F: Left, Right */
            if (e->cur > 0) {
                e->cur = ed_prev(e, e->cur);
                if (e->echo)
                    emove(-1);
            }
            break;
        case 0x06:
            if (e->cur < e->len) {
                e->cur = ed_next(e, e->cur);
                if (e->echo)
                    emove(1);
            }
            break;
        case 0x0b:
            ed_delete(e, e->cur, e->len);
            e->cur = e->len;
            break;
        case 0x15:
            ed_delete(e, 0, e->cur);
            break;
        case 0x17: {
            uint32_t p = e->cur;
            while (p > 0 && e->buf[p - 1] == ' ')
                p--;
            while (p > 0 && e->buf[p - 1] != ' ')
                p--;
            ed_delete(e, p, e->cur);
            break;
        }
        case 0x0c:
            if (e->echo) {
                eputs("\x1b[H\x1b[2J");
                ed_redraw(e);
            }
            break;
        case 0x7f:
        case 0x08:
            ed_delete(e, ed_prev(e, e->cur), e->cur);
            break;
        case '\t':
            complete_word(e);
            break;
        default:
            if (c >= 0x20)
                ed_insert(e, (const char *)&c, 1);         /* UTF-8 bytes one by one */
            break;
        }
    }
    kq_take(i);
    e->buf[e->len] = 0;
    eflush();
    return done;
}

static void job_recv(int j)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = jobs[j].owner, .result_addr = (uint64_t)jobs[j].buf,
                         .result_len = sizeof jobs[j].buf };
    rt_ring_submit_tagged(&s, TAG_JOB_RECV | (uint64_t)j);
}

/* Bytes to the terminal as they are, in pieces that fit one call. */
static void term_write(const char *s, size_t n)
{
    while (n) {
        size_t k = n < 900 ? n : 900;
        RT_BUFS(b, 1024, 64);
        capnp_client cl = RT_CLIENT(term);
        capnp_call call;
        capos_TerminalSession_write_Results_reader r;
        capos_TerminalSession_write(&cl, &b, &call, s, k, &r);
        s += k;
        n -= k;
    }
}

static void job_out(struct job *jb, const char *s, size_t n)
{
    if (fg >= 0 && jb == &jobs[fg]) {
        term_write(s, n);
        return;
    }
    size_t room = OUTBUF - jb->nout;
    if (n > room) {
        n = room;
        jb->lost = true;
    }
    memcpy(jb->out + jb->nout, s, n);
    jb->nout += (uint32_t)n;
}

static void answer_read(struct job *jb, const char *line)
{
    static uint8_t out[512] __attribute__((aligned(8)));
    capnp_builder b;
    capnp_builder_init(&b, out, sizeof out);
    capos_Console_readLine_Results_set_line(capos_Console_readLine_Results_init_root(&b), line, strlen(line));
    size_t len = 0;
    int e = capnp_builder_finish(&b, &len);
    rt_return(jb->owner, jb->read_call, out, e ? 0 : (uint32_t)len, 0, 0, e != 0);
    jb->reading = false;
}

/* One call from a job's stdio: write is shown (foreground) or kept;
 * readLine waits for the terminal while the job is in the foreground. */
static void job_call(int j, const struct cap_cqe *c)
{
    struct job *jb = &jobs[j];
    if (c->result < 0 || !jb->used)
        return;
    const struct cap_recv_hdr *h = (const void *)jb->buf;
    const uint8_t *params = jb->buf + sizeof *h;
    capnp_msg m;
    bool ok = h->interface_id == capos_Console_ID && capnp_msg_init(&m, params, h->params_len) == CAPNP_OK;
    if (ok && h->method_id == capos_Console_METHOD_write) {
        capnp_data d = capos_Console_write_Params_get_data(capos_Console_write_Params_read_root(&m));
        job_out(jb, (const char *)d.ptr, d.len);
        rt_return(jb->owner, h->call_id, 0, 0, 0, 0, false);
    } else if (ok && h->method_id == capos_Console_METHOD_readLine && !jb->reading) {
        jb->reading = true;                          /* answered with the next line typed while in front */
        jb->read_call = h->call_id;
    } else {
        rt_return(jb->owner, h->call_id, 0, 0, 0, 0, true);
    }
    job_recv(j);
}

static void job_free(int j)
{
    rt_release(jobs[j].owner);                      /* cancels the posted RECV and fails its callers */
    rt_release(jobs[j].proc);
    jobs[j].used = false;
}

/* A job has ended: its end (and, for a background job, what it wrote) is
 * shown now. */
static void job_ended(int j, const struct cap_cqe *c)
{
    struct job *jb = &jobs[j];
    if (!jb->used)
        return;
    int64_t code = -1;
    capnp_msg m;
    if (c->result > 0 && capnp_msg_init(&m, jb->waitres, (size_t)c->result) == CAPNP_OK)
        code = capos_ProcessHandle_wait_Results_get_exitCode(capos_ProcessHandle_wait_Results_read_root(&m));
    jb->ended = true;
    jb->code = code;
    if (j != fg) {
        rt_term_printf(term, "\n[%d] %s ended:\n", j + 1, jb->name);
        if (jb->nout) {
            term_write(jb->out, jb->nout);
            if (jb->out[jb->nout - 1] != '\n')
                term_write("\n", 1);
        }
        if (jb->lost)
            rt_term_printf(term, "[%d] (more output was dropped: %u bytes kept)\n", j + 1, OUTBUF);
    }
    if (jb->killed)
        rt_term_printf(term, "%s%s killed\n", j == fg ? "" : "  ", jb->name);
    else
        rt_term_printf(term, "%s%s exited with %ld\n", j == fg ? "" : "  ", jb->name, code);
    if (j != fg) {
        job_free(j);
        if (fg < 0)
            rt_term_printf(term, "%s@capos> ", me);     /* the prompt it interrupted */
    }
}

/* Wait for the next event; returns TAG_TERM with the read's completion in
 * *c, or 0 when the deadline (ns since boot; 0: none) passed. Job events
 * are handled here (and returned as TAG_JOB_WAIT when `jobs_too`). */
static uint64_t next_event(uint64_t deadline, struct cap_cqe *c, bool jobs_too)
{
    for (;;) {
        while (!rt_ring_poll(c)) {
            uint64_t now = rt_timer_now();
            if (rt_ring_poll(c))                    /* the clock's call may have drained it into the stash */
                break;
            if (deadline && now >= deadline)
                return 0;
            sys_cap_enter(1, deadline ? deadline - now : CAP_TIMEOUT_FOREVER);
        }
        uint64_t kind = c->user_data & TAG_MASK;
        int j = (int)(c->user_data & 0xff);
        if (c->user_data == TAG_TERM)
            return TAG_TERM;
        if (kind == TAG_MODEL_CANCEL) {
            cancel_answered();
            continue;
        }
        if (kind == TAG_MODEL) {                    /* the one waited for; an abandoned one just ends */
            model_outstanding = false;
            if (model_waiting && (c->user_data & ~TAG_MASK) == model_waiting)
                return TAG_MODEL;
            continue;
        }
        if (kind == TAG_JOB_RECV && j <= JOBS)
            job_call(j, c);
        else if (kind == TAG_JOB_WAIT && j <= JOBS)
            job_ended(j, c);
        else
            continue;
        if (jobs_too)
            return TAG_JOB_WAIT;
    }
}

/* The session's deadline for this shell: idle timeout or lifetime. */
static uint64_t session_deadline(const char **why)
{
    uint64_t d = 0;
    *why = 0;
    if (idle_ns) {
        d = last_input + idle_ns;
        *why = "idle";
    }
    if (expires_ns && (!d || expires_ns < d)) {
        d = expires_ns;
        *why = "expired";
    }
    return d;
}

/* ---- commands ---- */

static void cmd_caps(void)
{
    for (uint32_t i = 0; i < rt_capset->count; i++) {
        rt_term_printf(term, "  %-10s %s\n", rt_capset->entries[i].name, capos_interface_name(rt_capset->entries[i].interface_id));
    }
}

static bool session_info(capos_UserSession_info_Results_reader *r, capnp_call_bufs *b, int *err)
{
    capnp_client cl = RT_CLIENT(session);
    capnp_call call;
    *err = rt_error(capos_UserSession_info(&cl, b, &call, r));
    return *err == 0;
}

static void cmd_session(void)
{
    RT_BUFS(b, 64, 512);
    capos_UserSession_info_Results_reader r;
    int e;
    if (!session_info(&r, &b, &e)) {
        rt_term_printf(term, "session: error %d\n", e);
        return;
    }
    capnp_text p = capos_UserSession_info_Results_get_principal(r), f = capos_UserSession_info_Results_get_profile(r);
    capnp_text m = capos_UserSession_info_Results_get_authMethod(r);
    uint64_t exp = capos_UserSession_info_Results_get_expiresNs(r), idle = capos_UserSession_info_Results_get_idleTimeoutNs(r);
    uint64_t now = rt_timer_now();
    char e1[24] = "never", e2[24] = "never";
    if (exp)
        fmt_snprintf(e1, sizeof e1, "in %s", dur(exp > now ? exp - now : 0, e2, sizeof e2));
    if (idle)
        dur(idle, e2, sizeof e2);
    else
        strlcpy(e2, "never", sizeof e2);
    rt_term_printf(term, "principal %.*s, profile %.*s, auth %.*s, expires %s, idle logout after %s\n", (int)p.len,
                   p.str, (int)f.len, f.str, (int)m.len, m.str, e1, e2);
}

static void cmd_audit(const char *arg)
{
    int64_t a = rt_capset_lookup("audit");
    uint32_t n = 10;
    if (a < 0) {
        rt_term_printf(term, "audit: not available to this session\n");
        return;
    }
    if (*arg && (!sh_number(arg, &n) || n == 0 || n > 32)) {
        rt_term_printf(term, "audit: N is a whole number from 1 to 32\n");
        return;
    }
    RT_BUFS(b, 64, 8192);
    uint32_t ac = (uint32_t)a;
    capnp_client cl = RT_CLIENT(ac);
    capnp_call call;
    capos_AuditLog_tail_Results_reader r;
    int e = rt_error(capos_AuditLog_tail(&cl, &b, &call, n, &r));
    if (e) {
        rt_term_printf(term, "audit: denied (%d)\n", e);
        return;
    }
    capnp_list l = capos_AuditLog_tail_Results_get_records(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_AuditRecord_reader x = capos_AuditRecord_list_get(l, i);
        capnp_text ev = capos_AuditRecord_get_event(x), rs = capos_AuditRecord_get_reason(x);
        capnp_text pr = capos_AuditRecord_get_principal(x);
        uint64_t t = capos_AuditRecord_get_timeNs(x);
        rt_term_printf(term, "  #%lu %5lu.%03lus %.*s %.*s%s%.*s session %lu\n", capos_AuditRecord_get_seq(x),
                       t / 1000000000u, t / 1000000 % 1000, (int)ev.len, ev.str, (int)rs.len, rs.str,
                       pr.len ? " by " : "", (int)pr.len, pr.str, capos_AuditRecord_get_session(x));
    }
}

/* The cap named `cap` a command needs, or -1 after telling the user this
 * session does not have it. */
static int64_t need_cap(const char *cap, const char *cmd)
{
    int64_t c = rt_capset_lookup(cap);
    if (c < 0)
        rt_term_printf(term, "%s: not available to this session\n", cmd);
    return c;
}

static void cmd_echo(const char *text)
{
    int64_t ec = need_cap("echo", "echo");
    if (ec < 0)
        return;
    RT_BUFS(b, 512, 1200);
    uint32_t c = (uint32_t)ec;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    capos_Echo_echo_Results_reader r;
    int e = rt_error(capos_Echo_echo(&cl, &b, &call, text, strlen(text), &r));
    if (e) {
        rt_term_printf(term, "echo: the echo service failed (%d)\n", e);
        return;
    }
    capnp_data d = capos_Echo_echo_Results_get_data(r);
    rt_term_printf(term, "%.*s\n", (int)d.len, (const char *)d.ptr);
}

/* ---- net and ping: a read-only NetworkInfo ("netinfo") and IcmpEcho ("ping") ---- */
static void ip_text(uint32_t ip, char *out, size_t cap)
{
    fmt_snprintf(out, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void cmd_net(void)
{
    int64_t ni = need_cap("netinfo", "net");
    if (ni < 0)
        return;
    uint32_t c = (uint32_t)ni;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    char a[16], m[16], g[16];
    {
        RT_BUFS(b, 64, 512);
        capos_NetworkInfo_getConfig_Results_reader r;
        int e = rt_error(capos_NetworkInfo_getConfig(&cl, &b, &call, &r));
        if (e) {
            rt_term_printf(term, "net: the network stack failed (%d)\n", e);
            return;
        }
        capos_NetConfig_reader k = capos_NetworkInfo_getConfig_Results_get_config(r);
        ip_text(capos_NetConfig_get_address(k), a, sizeof a);
        ip_text(capos_NetConfig_get_netmask(k), m, sizeof m);
        ip_text(capos_NetConfig_get_gateway(k), g, sizeof g);
        capnp_data mac = capos_NetConfig_get_mac(k);
        const uint8_t *x = mac.len == 6 ? mac.ptr : (const uint8_t *)"\0\0\0\0\0\0";
        rt_term_printf(term, "address %s mask %s gateway %s\n", a, m, g);
        if (capos_NetConfig_get_dns(k)) {
            char d[16];
            ip_text(capos_NetConfig_get_dns(k), d, sizeof d);
            rt_term_printf(term, "dns     %s\n", d);
        }
        if (capos_NetConfig_get_dhcp(k))
            rt_term_printf(term, "lease   %s, %u s\n", capos_NetConfig_get_bound(k) ? "dhcp" : "dhcp (not bound yet)",
                           capos_NetConfig_get_leaseSeconds(k));
        else
            rt_term_printf(term, "lease   static\n");
        rt_term_printf(term, "mac     %02x:%02x:%02x:%02x:%02x:%02x\n", x[0], x[1], x[2], x[3], x[4], x[5]);
    }
    {
        RT_BUFS(b, 64, 1024);
        capos_NetworkInfo_counters_Results_reader r;
        if (!rt_error(capos_NetworkInfo_counters(&cl, &b, &call, &r))) {
            capos_NetCounters_reader k = capos_NetworkInfo_counters_Results_get_counters(r);
            rt_term_printf(term, "frames  rx %lu tx %lu (tx dropped %lu), drops %lu, refused calls %lu\n",
                           capos_NetCounters_get_rxFrames(k), capos_NetCounters_get_txFrames(k),
                           capos_NetCounters_get_txDropped(k), capos_NetCounters_get_drops(k),
                           capos_NetCounters_get_refused(k));
            rt_term_printf(term, "tcp     opens %lu active %lu passive, retransmits %lu, rst tx %lu rx %lu\n",
                           capos_NetCounters_get_tcpActiveOpens(k), capos_NetCounters_get_tcpPassiveOpens(k),
                           capos_NetCounters_get_tcpRetransmits(k), capos_NetCounters_get_tcpRstTx(k),
                           capos_NetCounters_get_tcpRstRx(k));
            rt_term_printf(term, "udp     rx %lu tx %lu\n", capos_NetCounters_get_udpRx(k), capos_NetCounters_get_udpTx(k));
            rt_term_printf(term, "held    %u sockets, %u listeners, %u udp sockets, %u calls waiting, %lu reclaimed\n",
                           capos_NetCounters_get_tcpSockets(k), capos_NetCounters_get_tcpListeners(k),
                           capos_NetCounters_get_udpSockets(k), capos_NetCounters_get_deferredCalls(k),
                           capos_NetCounters_get_reclaimed(k));
        }
    }
    RT_BUFS(b, 64, 8192);
    capos_NetworkInfo_connections_Results_reader r;
    if (rt_error(capos_NetworkInfo_connections(&cl, &b, &call, &r)))
        return;
    capnp_list l = capos_NetworkInfo_connections_Results_get_list(r);
    rt_term_printf(term, "connections: %u\n", l.count);
    if (l.count)
        rt_term_printf(term, "  %-6s %-21s %-12s %-5s %6s %6s\n", "local", "remote", "state", "held", "sendq", "recvq");
    for (uint32_t i = 0; i < l.count; i++) {
        capos_NetConnection_reader k = capos_NetConnection_list_get(l, i);
        char rem[24];
        ip_text(capos_NetConnection_get_remoteAddress(k), a, sizeof a);
        fmt_snprintf(rem, sizeof rem, "%s:%u", a, capos_NetConnection_get_remotePort(k));
        capnp_text sn = capos_NetConnection_get_state(k);
        rt_term_printf(term, "  %-6u %-21s %-12.*s %-5s %6u %6u\n", capos_NetConnection_get_localPort(k), rem,
                       (int)sn.len, sn.str, capos_NetConnection_get_held(k) ? "yes" : "no",
                       capos_NetConnection_get_sendQueued(k), capos_NetConnection_get_recvQueued(k));
    }
}

static void cmd_ping(const char *arg)
{
    int64_t pc = need_cap("ping", "ping");
    if (pc < 0)
        return;
    char host[20] = { 0 };
    size_t n = 0;
    while (arg[n] && arg[n] != ' ' && n < sizeof host - 1)
        host[n] = arg[n], n++;
    uint32_t ip, count = 4;
    const char *rest = arg + n;
    while (*rest == ' ')
        rest++;
    if ((arg[n] && arg[n] != ' ') || !sh_ip_parse(host, &ip) || (*rest && (!sh_number(rest, &count) || !count || count > 10))) {
        rt_term_printf(term, "ping: usage: ping A.B.C.D [COUNT] (COUNT from 1 to 10, 4 if not given)\n");
        return;
    }
    static uint16_t ping_id;
    ping_id++;
    uint32_t c = (uint32_t)pc, got = 0;
    rt_term_printf(term, "PING %s: 56 data bytes\n", host);
    for (uint32_t seq = 1; seq <= count; seq++) {
        uint64_t t0 = rt_timer_now();
        RT_BUFS(b, 64, 128);
        capnp_client cl = RT_CLIENT(c);
        capnp_call call;
        capos_IcmpEcho_echo_Results_reader r;
        int e = rt_error(capos_IcmpEcho_echo(&cl, &b, &call, ip, ping_id, (uint16_t)seq, 56, &r));
        if (e) {
            rt_term_printf(term, "ping: the network stack failed (%d)\n", e);
            return;
        }
        uint16_t ne = capos_IcmpEcho_echo_Results_get_error(r);
        if (ne == capos_NetError_busy)
            rt_term_printf(term, "seq %u: not sent (the stack's echo budget is in use)\n", seq);
        else if (ne)
            rt_term_printf(term, "seq %u: not sent (error %u)\n", seq, ne);
        else if (capos_IcmpEcho_echo_Results_get_answered(r)) {
            uint32_t us = capos_IcmpEcho_echo_Results_get_rttMicros(r);
            rt_term_printf(term, "reply from %s: seq=%u time=%u.%03u ms\n", host, seq, us / 1000, us % 1000);
            got++;
        } else
            rt_term_printf(term, "seq %u: no reply within 1 s\n", seq);
        if (seq < count)
            rt_timer_sleep_until(t0 + 1000000000ull);
    }
    rt_term_printf(term, "%u sent, %u answered\n", count, got);
}

static void cmd_programs(void)
{
    int64_t pl = need_cap("programs", "programs");
    if (pl < 0)
        return;
    RT_BUFS(b, 64, 2048);
    uint32_t c = (uint32_t)pl;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    capos_ProgramLauncher_programs_Results_reader r;
    int e = rt_error(capos_ProgramLauncher_programs(&cl, &b, &call, &r));
    if (e) {
        rt_term_printf(term, "programs: the launcher failed (%d)\n", e);
        return;
    }
    capnp_list nl = capos_ProgramLauncher_programs_Results_get_names(r);
    capnp_list al = capos_ProgramLauncher_programs_Results_get_about(r);
    for (uint32_t i = 0; i < nl.count; i++) {
        capnp_text n = capnp_list_text(nl, i), a = i < al.count ? capnp_list_text(al, i) : (capnp_text){ "", 0 };
        rt_term_printf(term, "  %-10.*s %.*s\n", (int)n.len, n.str, (int)a.len, a.str);
    }
}

/* ---- run / spawn / wait / jobs / kill ---- */

static const char *run_error(uint16_t e)
{
    switch (e) {
    case capos_RunError_unknownProgram: return "no such program (see 'programs')";
    case capos_RunError_reservedGrantName: return "the grant name 'console' is reserved (it is the program's stdio)";
    case capos_RunError_grantRefused: return "the launcher refuses to pass that cap (too much authority)";
    case capos_RunError_emptyGrantName: return "a grant needs a name (name: @cap)";
    case capos_RunError_tooManyGrants: return "too many grants (at most 7)";
    case capos_RunError_badGrant: return "bad grant (a name over 23 bytes, or a name given twice)";
    case capos_RunError_argsTooLong: return "arguments too long";
    case capos_RunError_noContext: return "no session context to run it in";
    case capos_RunError_spawnFailed: return "the program could not be started";
    default: return "refused";
    }
}

/* Parse "NAME [with { x: @cap, ... }]": false (said why) if it is bad. */
#define MAXG SH_MAX_GRANTS
static bool parse_run(char *line, char **name, const char **gnames, uint32_t *gcaps, uint32_t *ng)
{
    const char *d = "";
    switch (sh_parse_run(line, rt_capset_lookup, name, gnames, gcaps, ng, &d)) {
    case SH_RUN_OK:
        return true;
    case SH_RUN_USAGE:
        rt_term_printf(term, "run: usage: run NAME [with { name: @cap, ... }]\n");
        break;
    case SH_RUN_GRANTS_SHAPE:
        rt_term_printf(term, "run: grants look like: with { name: @cap, ... }\n");
        break;
    case SH_RUN_TRAILING:
        rt_term_printf(term, "run: unexpected text after '}': %s\n", d);
        break;
    case SH_RUN_TOO_MANY:
        rt_term_printf(term, "run: too many grants\n");
        break;
    case SH_RUN_BAD_GRANT:
        rt_term_printf(term, "run: bad grant \"%s\" (want name: @cap)\n", d);
        break;
    case SH_RUN_NO_CAP:
        rt_term_printf(term, "run: no grantable cap named %s\n", d);
        break;
    }
    return false;
}

static int running_jobs(void)
{
    int n = 0;
    for (int j = 0; j < JOBS; j++)
        n += jobs[j].used;
    return n;
}

/* The foreground job runs until it ends: its output is shown as it comes,
 * lines typed go to its readLine, Ctrl-C kills it. */
static void foreground(int j)
{
    struct job *jb = &jobs[j];
    fg = j;
    if (jb->nout) {                                   /* what it wrote while in the background */
        term_write(jb->out, jb->nout);
        jb->nout = 0;
    }
    struct editor ed;
    ed_begin(&ed, "", true, false);
    while (!jb->ended) {
        if (jb->reading && ahead[0]) {               /* typed before it asked */
            answer_read(jb, ahead);
            ahead[0] = 0;
            continue;
        }
        int r = ed_feed(&ed);
        if (r == ED_INTR) {
            jb->killed = true;
            rt_kill(jb->proc);
        } else if (r == ED_LINE && jb->reading) {
            answer_read(jb, ed.buf);
        } else if (r == ED_LINE) {
            strlcpy(ahead, ed.buf, sizeof ahead);     /* its next readLine, or the next command */
        } else if (r == ED_EOF && jb->reading) {
            answer_read(jb, "");
        }
        if (r) {
            ed_begin(&ed, "", true, false);
            continue;
        }
        term_post();
        struct cap_cqe c;
        if (next_event(0, &c, true) == TAG_TERM && term_done(&c) < 0)
            break;
    }
    fg = -1;
    job_free(j);
}

static void cmd_run(char *line, bool background)
{
    int64_t pl = need_cap("programs", "run");
    if (pl < 0)
        return;
    char *name;
    const char *gnames[MAXG];
    uint32_t gcaps[MAXG], ng;
    if (!parse_run(line, &name, gnames, gcaps, &ng))
        return;
    int j = JOBS;
    if (background) {
        j = 0;
        while (j < JOBS && jobs[j].used)
            j++;
        if (j == JOBS) {
            rt_term_printf(term, "spawn: too many jobs (%d running): wait for one or kill one\n", JOBS);
            return;
        }
    }
    RT_BUFS(b, 1024, 256);
    uint32_t plc = (uint32_t)pl;
    capnp_client cl = RT_CLIENT(plc);
    capnp_call call;
    capos_ProgramLauncher_run_Params_builder p = capos_ProgramLauncher_run_start(&call, &cl, &b);
    capos_ProgramLauncher_run_Params_set_binary(p, name, strlen(name));
    capnp_lbuilder gl = capos_ProgramLauncher_run_Params_init_grants(p, ng);
    for (uint32_t i = 0; i < ng; i++) {
        capos_CapGrant_builder g = capos_CapGrant_list_at(gl, i);
        capos_CapGrant_set_name(g, gnames[i], strlen(gnames[i]));
        capos_CapGrant_set_cap(g, capnp_add_cap(p.s, gcaps[i]));
    }
    capos_ProgramLauncher_run_Params_set_context(p, capnp_add_cap(p.s, rt_capset_require("context")));
    capos_ProgramLauncher_run_Results_reader r;
    int e = rt_error(capos_ProgramLauncher_run_send(&call, &r));
    uint16_t err = e ? 0xffff : capos_ProgramLauncher_run_Results_get_error(r);
    if (e || err != capos_RunError_none || call.result_ncaps != 2) {
        for (uint32_t i = 0; i < call.result_ncaps; i++)
            rt_release(b.result_caps[i]);
        if (e)
            rt_term_printf(term, "run: %s: the launcher failed (%d)\n", name, e);
        else
            rt_term_printf(term, "run: %s: %s\n", name, run_error(err));
        return;
    }
    struct job *jb = &jobs[j];
    memset(jb, 0, sizeof *jb);
    jb->used = true;
    strlcpy(jb->name, name, sizeof jb->name);
    jb->proc = b.result_caps[capos_ProgramLauncher_run_Results_get_process(r)];
    jb->owner = b.result_caps[capos_ProgramLauncher_run_Results_get_stdio(r)];
    job_recv(j);
    struct cap_sqe w = { .opcode = CAP_OP_CALL, .cap_id = jb->proc, .interface_id = capos_ProcessHandle_ID,
                         .method_id = capos_ProcessHandle_METHOD_wait, .result_addr = (uint64_t)jb->waitres,
                         .result_len = sizeof jb->waitres };
    rt_ring_submit_tagged(&w, TAG_JOB_WAIT | (uint64_t)j);
    if (background)
        rt_term_printf(term, "[%d] %s started (its output is shown when it ends; 'wait %d' brings it to the front)\n",
                       j + 1, name, j + 1);
    else
        foreground(j);
}

/* "%N" or "N": a job number in use, or -1 (said why). */
static int job_arg(const char *cmd, const char *arg)
{
    uint32_t n;
    if (*arg == '%')
        arg++;
    if (!sh_number(arg, &n)) {
        rt_term_printf(term, "%s: '%s' is not a job number\n", cmd, arg);
        return -1;
    }
    if (n == 0 || n > JOBS || !jobs[n - 1].used) {
        rt_term_printf(term, "%s: no such job %u\n", cmd, n);
        return -1;
    }
    return (int)n - 1;
}

static void cmd_wait(const char *arg)
{
    int j = -1;
    if (*arg) {
        j = job_arg("wait", arg);
        if (j < 0)
            return;
    } else {
        for (int k = 0; k < JOBS && j < 0; k++)
            if (jobs[k].used)
                j = k;
        if (j < 0) {
            rt_term_printf(term, "wait: no jobs\n");
            return;
        }
    }
    foreground(j);
}

static void cmd_jobs(void)
{
    if (!running_jobs())
        rt_term_printf(term, "no jobs\n");
    for (int j = 0; j < JOBS; j++)
        if (jobs[j].used)
            rt_term_printf(term, "[%d] %s %s\n", j + 1, jobs[j].reading ? "waiting-for-input" : "running", jobs[j].name);
}

static void cmd_kill(const char *arg)
{
    int j = job_arg("kill", arg);
    if (j < 0)
        return;
    jobs[j].killed = true;
    rt_kill(jobs[j].proc);                          /* its end is reported by the loop */
}

/* Leaving: running jobs are ended and whatever they still write dropped,
 * so none of it lands on the next person's login screen. */
static void end_jobs(void)
{
    int n = running_jobs();
    if (!n)
        return;
    rt_term_printf(term, "ending %d running job%s:", n, n == 1 ? "" : "s");
    for (int j = 0; j < JOBS; j++)
        if (jobs[j].used)
            rt_term_printf(term, " [%d] %s", j + 1, jobs[j].name);
    rt_term_printf(term, "\n");
    for (int j = 0; j < JOBS; j++)
        if (jobs[j].used) {
            rt_kill(jobs[j].proc);
            rt_wait(jobs[j].proc);
            job_free(j);
        }
}

/* ---- passwd ---- */

/* A line typed without echo (a password): ED_LINE, ED_INTR or ED_EOF; -1
 * if the terminal failed. */
static int read_secret(const char *prompt, char *out, size_t cap)
{
    struct editor ed;
    term_write(prompt, strlen(prompt));
    ed_begin(&ed, prompt, false, false);
    int ev;
    while (!(ev = ed_feed(&ed))) {
        term_post();
        struct cap_cqe c;
        if (next_event(0, &c, false) == TAG_TERM && term_done(&c) < 0)
            return -1;
    }
    term_write(ev == ED_INTR ? "^C\n" : "\n", ev == ED_INTR ? 3 : 1);
    strlcpy(out, ed.buf, cap);
    volatile char *v = ed.buf;
    for (size_t i = 0; i < sizeof ed.buf; i++)
        v[i] = 0;
    return ev;
}

static void wipe(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

static void cmd_passwd(void)
{
    if (!strcmp(profile, "guest") || !strcmp(method, "none")) {
        rt_term_printf(term, "passwd: not available to this session\n");
        return;
    }
    char old[256], pw[256], again[256];
    if (read_secret("current password: ", old, sizeof old) != ED_LINE ||
        read_secret("new password: ", pw, sizeof pw) != ED_LINE ||
        read_secret("new password again: ", again, sizeof again) != ED_LINE) {
        rt_term_printf(term, "passwd: cancelled\n");
    } else if (strcmp(pw, again)) {
        rt_term_printf(term, "passwd: the new passwords differ; nothing changed\n");
    } else {
        RT_BUFS(b, 1024, 128);
        capnp_client cl = RT_CLIENT(session);
        capnp_call call;
        capos_UserSession_changePassword_Results_reader r;
        int e = rt_error(capos_UserSession_changePassword(&cl, &b, &call, old, strlen(old), pw, strlen(pw), &r));
        wipe((char *)b_p, sizeof b_p);
        uint16_t res = e ? 0xffff : capos_UserSession_changePassword_Results_get_result(r);
        if (res == capos_PasswordChange_changed)
            rt_term_printf(term, "passwd: changed\n");
        else if (res == capos_PasswordChange_wrongPassword)
            rt_term_printf(term, "passwd: the current password is not right; nothing changed\n");
        else if (res == capos_PasswordChange_backoff)
            rt_term_printf(term, "passwd: too many failures: try again in %lu s\n",
                           (capos_UserSession_changePassword_Results_get_retryAfterMs(r) + 999) / 1000);
        else if (res == capos_PasswordChange_tooShort)
            rt_term_printf(term, "passwd: the new password needs at least 8 bytes; nothing changed\n");
        else if (res == capos_PasswordChange_notAllowed)
            rt_term_printf(term, "passwd: not available to this session\n");
        else
            rt_term_printf(term, "passwd: the session manager failed (%d)\n", e);
    }
    wipe(old, sizeof old);
    wipe(pw, sizeof pw);
    wipe(again, sizeof again);
}

/* ---- account administration (the operator's AccountAdmin, "accounts") ---- */

static const char *admin_error(uint16_t e)
{
    switch (e) {
    case capos_AdminResult_exists: return "that account exists already";
    case capos_AdminResult_notFound: return "no such account";
    case capos_AdminResult_badName: return "a name is 1 to 23 letters, digits, _ or -";
    case capos_AdminResult_badProfile: return "give 1 to 4 profiles, each 1 to 15 of a-z 0-9 -, joined by commas";
    case capos_AdminResult_badKey: return "not a key line as ssh-keygen writes it (ssh-ed25519 AAAA... [comment])";
    case capos_AdminResult_full: return "no room for another";
    case capos_AdminResult_keyExists: return "that key is authorized already";
    case capos_AdminResult_noSuchKey: return "that key is not authorized for the account";
    default: return "refused";
    }
}

static bool admin_cap(const char *cmd, uint32_t *cap)
{
    int64_t a = need_cap("accounts", cmd);
    if (a < 0)
        return false;
    *cap = (uint32_t)a;
    return true;
}

static void admin_said(const char *cmd, int e, uint16_t res, const char *what)
{
    if (e)
        rt_term_printf(term, "%s: the account service failed (%d)\n", cmd, e);
    else if (res != capos_AdminResult_ok)
        rt_term_printf(term, "%s: %s\n", cmd, admin_error(res));
    else
        rt_term_printf(term, "%s: %s\n", cmd, what);
}

static void cmd_accounts(void)
{
    uint32_t a;
    if (!admin_cap("accounts", &a))
        return;
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(a);
    capnp_call call;
    capos_AccountAdmin_list_Results_reader r;
    int e = rt_error(capos_AccountAdmin_list(&cl, &b, &call, &r));
    if (e) {
        rt_term_printf(term, "accounts: the account service failed (%d)\n", e);
        return;
    }
    static const char *const st[] = { "active", "disabled", "locked", "recovery-only" };
    capnp_list l = capos_AccountAdmin_list_Results_get_accounts(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_AccountInfo_reader x = capos_AccountInfo_list_get(l, i);
        capnp_text p = capos_AccountInfo_get_principal(x);
        uint16_t s = capos_AccountInfo_get_status(x);
        capnp_list pl = capos_AccountInfo_get_profiles(x), kl = capos_AccountInfo_get_keys(x);
        char profs[80] = "";
        size_t n = 0;
        for (uint32_t k = 0; k < pl.count && n < sizeof profs - 20; k++) {
            capnp_text t = capnp_list_text(pl, k);
            n += (size_t)fmt_snprintf(profs + n, sizeof profs - n, "%s%.*s", k ? "," : "", (int)t.len, t.str);
        }
        rt_term_printf(term, "  %-12.*s %-13s %-20s %u key%s\n", (int)p.len, p.str, s < 4 ? st[s] : "?", profs,
                       kl.count, kl.count == 1 ? "" : "s");
        for (uint32_t k = 0; k < kl.count; k++) {
            capnp_text t = capnp_list_text(kl, k);
            rt_term_printf(term, "      %.*s\n", (int)t.len, t.str);
        }
    }
}

/* useradd NAME PROFILE[,PROFILE...] */
static void cmd_useradd(char *args)
{
    uint32_t a;
    if (!admin_cap("useradd", &a))
        return;
    const char *pv[5];
    uint32_t np;
    if (!sh_split_profiles(args, pv, 5, &np)) {
        rt_term_printf(term, "useradd: usage: useradd NAME PROFILE[,PROFILE...]\n");
        return;
    }
    RT_BUFS(b, 512, 64);
    capnp_client cl = RT_CLIENT(a);
    capnp_call call;
    capos_AccountAdmin_add_Params_builder p = capos_AccountAdmin_add_start(&call, &cl, &b);
    capos_AccountAdmin_add_Params_set_principal(p, args, strlen(args));
    capnp_lbuilder l = capos_AccountAdmin_add_Params_init_profiles(p, np);
    for (uint32_t i = 0; i < np; i++)
        capnp_lset_text(l, i, pv[i], strlen(pv[i]));
    capos_AccountAdmin_add_Results_reader r;
    int e = rt_error(capos_AccountAdmin_add_send(&call, &r));
    admin_said("useradd", e, e ? 0 : capos_AccountAdmin_add_Results_get_result(r), "added (active)");
}

static void cmd_status(const char *cmd, const char *who, uint16_t status)
{
    uint32_t a;
    if (!admin_cap(cmd, &a))
        return;
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(a);
    capnp_call call;
    capos_AccountAdmin_setStatus_Results_reader r;
    int e = rt_error(capos_AccountAdmin_setStatus(&cl, &b, &call, who, strlen(who), status, &r));
    admin_said(cmd, e, e ? 0 : capos_AccountAdmin_setStatus_Results_get_result(r),
               status == capos_AccountStatus_active ? "enabled" : "disabled");
}

/* keyadd|keydel NAME ssh-ed25519 AAAA... [comment] */
static void cmd_key(const char *cmd, char *args, bool add)
{
    uint32_t a;
    if (!admin_cap(cmd, &a))
        return;
    char *sp = strchr(args, ' ');
    if (!sp) {
        rt_term_printf(term, "%s: usage: %s NAME ssh-ed25519 AAAA... [comment]\n", cmd, cmd);
        return;
    }
    *sp = 0;
    const char *key = sp + 1;
    while (*key == ' ')
        key++;
    RT_BUFS(b, 1024, 64);
    capnp_client cl = RT_CLIENT(a);
    capnp_call call;
    int e;
    uint16_t res = 0;
    if (add) {
        capos_AccountAdmin_addKey_Results_reader r;
        e = rt_error(capos_AccountAdmin_addKey(&cl, &b, &call, args, strlen(args), key, strlen(key), &r));
        res = e ? 0 : capos_AccountAdmin_addKey_Results_get_result(r);
    } else {
        capos_AccountAdmin_removeKey_Results_reader r;
        e = rt_error(capos_AccountAdmin_removeKey(&cl, &b, &call, args, strlen(args), key, strlen(key), &r));
        res = e ? 0 : capos_AccountAdmin_removeKey_Results_get_result(r);
    }
    admin_said(cmd, e, res, add ? "key authorized" : "key removed");
}

/* ---- help: only what this session can use ---- */
static const struct { const char *usage, *needs, *what; } commands[] = {
    { "help", 0, "this list" },
    { "whoami", 0, "who this session is" },
    { "session", 0, "principal, profile, how you logged in, when the session expires" },
    { "caps", 0, "every capability this shell holds, with its interface" },
    { "uptime", 0, "how long the system and this session have been up" },
    { "time", 0, "the time since boot" },
    { "audit [N]", "audit", "the last N audit records (10 if not given)" },
    { "echo TEXT", "echo", "TEXT through the echo service" },
    { "net", "netinfo", "the network: address, mask, gateway, lease, counters, connections" },
    { "ping A.B.C.D [COUNT]", "ping", "ICMP echo to an address, COUNT times (4 if not given, at most 10)" },
    { "programs", "programs", "what run accepts, one line each" },
    { "run NAME [with { x: @cap }]", "programs", "run a program in the front; Ctrl-C ends it" },
    { "spawn NAME [with { x: @cap }]", "programs", "run a program in the background" },
    { "jobs", "programs", "the background jobs" },
    { "wait [N]", "programs", "bring job N (or the first) to the front until it ends" },
    { "kill %N", "programs", "end job N" },
    { "passwd", "@password", "change your password (the current one is asked first)" },
    { "accounts", "accounts", "the accounts: status, profiles, authorized keys" },
    { "useradd NAME PROFILE[,PROFILE]", "accounts", "add an account that may take these profiles" },
    { "disable NAME", "accounts", "disable an account (enable NAME undoes it)" },
    { "enable NAME", "accounts", "enable an account" },
    { "keyadd NAME ssh-ed25519 AAAA...", "accounts", "authorize a key (a line as ssh-keygen writes it)" },
    { "keydel NAME ssh-ed25519 AAAA...", "accounts", "remove an authorized key" },
    { "agent PROMPT", "model", "ask the model; each tool call it proposes is gated (auto, y/N, password)" },
    { "history", 0, "the last commands; !! repeats the last, !N the Nth" },
    { "exit", 0, "log out (also: logout, Ctrl-D)" },
};

/* A command's need: nothing, a cap the session holds, or "@password": a
 * session whose principal has a password (not a guest's). */
static bool usable(const char *needs)
{
    if (!needs)
        return true;
    if (!strcmp(needs, "@password"))
        return strcmp(profile, "guest") && strcmp(method, "none");
    return rt_capset_lookup(needs) >= 0;
}

static void cmd_help(void)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (usable(commands[i].needs))
            rt_term_printf(term, "  %-30s %s\n", commands[i].usage, commands[i].what);
    rt_term_printf(term, "keys: Left/Right, Home/End (Ctrl-A/E), Up/Down for the history, Tab completes, "
                         "Ctrl-K/U/W cut, Ctrl-L clears, Ctrl-C drops the line\n");
}


/* ---- Tab completion ---- */
#define MAXC 40
static char cands[MAXC][24];
static uint32_t ncands;

static void cand(const char *word, size_t wn, const char *name, size_t n)
{
    if (n < wn || n >= sizeof cands[0] || memcmp(name, word, wn) || ncands == MAXC)
        return;
    for (uint32_t i = 0; i < ncands; i++)
        if (strlen(cands[i]) == n && !memcmp(cands[i], name, n))
            return;
    memcpy(cands[ncands], name, n);
    cands[ncands++][n] = 0;
}

/* What run accepts, asked once. */
static char prog_names[MAXC][24];
static uint32_t nprogs;
static bool progs_known;

static void programs_load(void)
{
    int64_t pl = rt_capset_lookup("programs");
    if (progs_known || pl < 0)
        return;
    progs_known = true;
    RT_BUFS(b, 64, 2048);
    uint32_t c = (uint32_t)pl;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    capos_ProgramLauncher_programs_Results_reader r;
    if (rt_error(capos_ProgramLauncher_programs(&cl, &b, &call, &r)))
        return;
    capnp_list nl = capos_ProgramLauncher_programs_Results_get_names(r);
    for (uint32_t i = 0; i < nl.count && nprogs < MAXC; i++) {
        capnp_text t = capnp_list_text(nl, i);
        if (t.len < sizeof prog_names[0]) {
            memcpy(prog_names[nprogs], t.str, t.len);
            prog_names[nprogs++][t.len] = 0;
        }
    }
}

/* Complete the word before the cursor: the first word from the commands
 * this session can use, the word after run/spawn from the programs, a word
 * after '@' from the caps that may be granted. One match is put in whole;
 * several put in what they share, or are listed. */
static void complete_word(struct editor *e)
{
    uint32_t start = e->cur;
    while (start > 0 && !strchr(" @{,:", e->buf[start - 1]))
        start--;
    const char *word = e->buf + start;
    size_t wn = e->cur - start;
    bool space_after = true;
    ncands = 0;
    if (start > 0 && e->buf[start - 1] == '@') {
        for (uint32_t i = 0; i < rt_capset->count; i++) {
            const char *n = rt_capset->entries[i].name;
            if (strcmp(n, "terminal") && strcmp(n, "session") && strcmp(n, "context"))
                cand(word, wn, n, strlen(n));
        }
    } else if (start == 0) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (!usable(commands[i].needs))
                continue;
            const char *u = commands[i].usage;
            size_t n = 0;
            while (u[n] && u[n] != ' ')
                n++;
            cand(word, wn, u, n);
        }
        cand(word, wn, "logout", 6);
    } else if ((start == 4 && !memcmp(e->buf, "run ", 4)) || (start == 6 && !memcmp(e->buf, "spawn ", 6))) {
        programs_load();
        for (uint32_t i = 0; i < nprogs; i++)
            cand(word, wn, prog_names[i], strlen(prog_names[i]));
    } else {
        return;
    }
    if (ncands == 0)
        return;
    size_t common = strlen(cands[0]);
    for (uint32_t i = 1; i < ncands; i++) {
        size_t k = 0;
        while (k < common && cands[i][k] == cands[0][k])
            k++;
        common = k;
    }
    if (common > wn)
        ed_insert(e, cands[0] + wn, (uint32_t)(common - wn));
    if (ncands == 1) {
        if (space_after)
            ed_insert(e, " ", 1);
        return;
    }
    if (common > wn)
        return;
    /* several, nothing more in common: list them in columns that fit the terminal */
    size_t w = 0;
    for (uint32_t i = 0; i < ncands; i++)
        if (strlen(cands[i]) > w)
            w = strlen(cands[i]);
    w += 2;
    uint32_t per = term_cols / (uint32_t)w ? term_cols / (uint32_t)w : 1;
    eputs("\n");
    for (uint32_t i = 0; i < ncands; i++) {
        char b[32];
        eput(b, (size_t)fmt_snprintf(b, sizeof b, "%-*s", (int)w, cands[i]));
        if (i % per == per - 1 || i == ncands - 1)
            eputs("\n");
    }
    ed_redraw(e);
}

/* ---- agent mode: a LanguageModel proposes tool calls, the shell decides ----
 * The model ("model", a LanguageModel the broker gave this profile) gets
 * the prompt and the descriptors of the tools this shell can run with the
 * caps it holds, less the ones the broker's map forbids; it answers with
 * text (shown, never executed) and tool calls. Each call is gated by the
 * map (the shell's args, from the broker through the launcher): auto runs,
 * consent asks y/N, stepUp asks for the password again (UserSession.
 * reauthenticate), forbidden (or not in the map) is refused. Every outcome
 * goes back to the model as a ToolResult. Ctrl-C cancels the turn and the
 * call in flight; a model that does not answer in time, and more calls
 * than the quotas allow, end the turn. Every proposal, decision and outcome
 * is audited with a reason code; arguments and results only as lengths and
 * keyed hashes. */
#define MODEL_TIMEOUT_NS (10ull * 1000000000ull)
#define TOOL_TIMEOUT_NS  (20ull * 1000000000ull)
#define MAX_CALLS_TURN   8
#define MAX_CALLS_SESSION 64
#define MAX_BATCHES      16
#define MAX_ARGS         512
#define MAX_CONTENT      384                 /* a batch's results fit one call (CAP_MAX_PARAMS) */

static uint32_t model_cap;
static bool agent_mode;
static uint32_t agent_calls;                         /* this session's tool calls */
static uint64_t model_seq;
static uint8_t model_params[CAP_MAX_PARAMS] __attribute__((aligned(8))), model_res[8192] __attribute__((aligned(8)));
/* One cancel on the ring at a time (cancel_cur's buffer); one more waits
 * in the other buffer and goes when it is answered. */
static uint8_t cancel_params[2][CAP_MAX_PARAMS] __attribute__((aligned(8))), cancel_res[64] __attribute__((aligned(8)));
static uint32_t cancel_len[2];
static int cancel_cur;
static bool cancel_queued;
static uint8_t hash_key[16];

enum { T_SESSION, T_ECHO, T_PROGRAMS, T_AUDIT, T_PAUSE, T_RUN, T_USERADD, T_DISABLE, T_KEYADD, NTOOLS };
static const struct tool {
    const char *name, *title, *desc, *schema, *cap;
    bool ro, destructive, idempotent, open;
} tools[NTOOLS] = {
    [T_SESSION] = { "session", "Session", "who this session is and when it ends", "{\"type\":\"object\"}", "session",
                    true, false, true, false },
    [T_ECHO] = { "echo", "Echo", "a text through the echo service",
                 "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\",\"maxLength\":200}},\"required\":[\"text\"]}",
                 "echo", true, false, true, false },
    [T_PROGRAMS] = { "programs", "Programs", "the programs run accepts", "{\"type\":\"object\"}", "programs", true,
                     false, true, false },
    [T_AUDIT] = { "audit", "Audit tail", "the last 5 audit records (event and reason)", "{\"type\":\"object\"}",
                  "audit", true, false, true, false },
    [T_PAUSE] = { "pause", "Pause", "wait N seconds (1 to 60)",
                  "{\"type\":\"object\",\"properties\":{\"seconds\":{\"type\":\"integer\"}},\"required\":[\"seconds\"]}",
                  "timer", true, false, true, false },
    [T_RUN] = { "run", "Run a program", "run a permitted program in the front, in this session",
                "{\"type\":\"object\",\"properties\":{\"program\":{\"type\":\"string\"}},\"required\":[\"program\"]}",
                "programs", false, false, false, false },
    [T_USERADD] = { "useradd", "Add an account", "add an active account with these profiles",
                    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"profiles\":{\"type\":\"string\"}},"
                    "\"required\":[\"name\",\"profiles\"]}",
                    "accounts", false, true, false, false },
    [T_DISABLE] = { "disable", "Disable an account", "disable an account",
                    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}",
                    "accounts", false, true, true, false },
    [T_KEYADD] = { "keyadd", "Authorize a key", "authorize an ssh-ed25519 key for an account",
                   "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"key\":{\"type\":\"string\"}},"
                   "\"required\":[\"name\",\"key\"]}",
                   "accounts", false, true, false, true },
};
static uint8_t tool_mode[NTOOLS];                    /* capos_PermissionMode_*; forbidden unless the map says */

/* The shell's args: "agent TOOL:MODE ..." when the broker gave agent mode. */
static void agent_init(void)
{
    const char *a = rt_capset->args;
    int64_t m = rt_capset_lookup("model");
    if (m < 0 || strncmp(a, "agent", 5) || (a[5] && a[5] != ' '))
        return;
    model_cap = (uint32_t)m;
    agent_mode = true;
    for (a += 5; *a;) {
        while (*a == ' ')
            a++;
        const char *c = strchr(a, ':');
        if (!c)
            break;
        for (int t = 0; t < NTOOLS; t++)
            if (strlen(tools[t].name) == (size_t)(c - a) && !strncmp(tools[t].name, a, (size_t)(c - a)) &&
                c[1] >= '0' && c[1] <= '3')
                tool_mode[t] = (uint8_t)(c[1] - '0');
        a = c + 1;
        while (*a && *a != ' ')
            a++;
    }
    if (!rdrand_fill(hash_key, sizeof hash_key))
        for (size_t i = 0; i < sizeof hash_key; i++)
            hash_key[i] = (uint8_t)(rt_timer_now() >> (i % 8 * 8));
}

static bool tool_shown(int t)
{
    return tool_mode[t] != capos_PermissionMode_forbidden && rt_capset_lookup(tools[t].cap) >= 0;
}

/* ---- audit: reason codes only; content as a length and a keyed hash ---- */
static void agent_audit(const char *event, const char *reason)
{
    int64_t a = rt_capset_lookup("audit");
    if (a < 0)
        return;
    RT_BUFS(b, 256, 64);
    uint32_t ac = (uint32_t)a;
    capnp_client cl = RT_CLIENT(ac);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), 0, &r);
}

static void redacted(char *out, size_t cap, const char *what, const void *p, size_t n)
{
    fmt_snprintf(out, cap, "%s-%lu.h-%08lx", what, (unsigned long)n,
                 (unsigned long)(siphash24(hash_key, p, n) & 0xffffffffu));
}

/* A tool name as a reason code: the table's names, anything else "unknown". */
static const char *code_name(capnp_text n)
{
    for (int t = 0; t < NTOOLS; t++)
        if (strlen(tools[t].name) == n.len && !memcmp(tools[t].name, n.str, n.len))
            return tools[t].name;
    return "unknown";
}

/* ---- a minimal reader for a flat JSON object's string and number fields ---- */
static bool json_object(const char *s, size_t n)
{
    while (n && (*s == ' '))
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    return n >= 2 && s[0] == '{' && s[n - 1] == '}';
}

static const char *json_field(const char *s, size_t n, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 < n; i++)
        if (s[i] == '"' && !strncmp(s + i + 1, key, k) && s[i + 1 + k] == '"') {
            size_t j = i + k + 2;
            while (j < n && s[j] == ' ')
                j++;
            if (j >= n || s[j] != ':')
                return 0;
            j++;
            while (j < n && s[j] == ' ')
                j++;
            return j < n ? s + j : 0;
        }
    return 0;
}

static bool json_str(const char *s, size_t n, const char *key, char *out, size_t cap)
{
    const char *v = json_field(s, n, key);
    if (!v || *v != '"')
        return false;
    size_t i = 0;
    for (v++; v < s + n && *v != '"'; v++) {
        if (*v == '\\' || (uint8_t)*v < 0x20 || i + 1 >= cap)
            return false;
        out[i++] = *v;
    }
    out[i] = 0;
    return v < s + n && i > 0;
}

static bool json_num(const char *s, size_t n, const char *key, uint32_t *out)
{
    const char *v = json_field(s, n, key);
    uint32_t x = 0;
    if (!v || *v < '0' || *v > '9')
        return false;
    while (v < s + n && *v >= '0' && *v <= '9' && x < 100000)
        x = x * 10 + (uint32_t)(*v++ - '0');
    *out = x;
    return true;
}

/* ---- waiting for a model call (or a pause) with the terminal live ---- */
/* Keys read while waiting: a Ctrl-C among them is taken (and true
 * returned); other keys stay typed ahead for the prompt. */
static bool take_intr(void)
{
    for (uint32_t i = 0; i < kq_len; i++)
        if (kq[i] == 3) {
            memmove(kq + i, kq + i + 1, kq_len - i - 1);
            kq_len--;
            return true;
        }
    return false;
}

#define W_DONE    0
#define W_INTR    1
#define W_TIMEOUT 2
#define W_TERM    3
/* Wait until the model call we wait for completes (*c), Ctrl-C, the
 * deadline, or the terminal failing. deadline 0 with no call: no wait. */
static int agent_wait(uint64_t deadline, struct cap_cqe *c)
{
    for (;;) {
        if (take_intr())
            return W_INTR;
        term_post();
        uint64_t t = next_event(deadline, c, false);
        if (!t)
            return W_TIMEOUT;
        if (t == TAG_MODEL)
            return W_DONE;
        if (t == TAG_TERM && term_done(c) < 0)
            return W_TERM;
    }
}

/* A call to the model on the ring (its answer lands in model_res). */
static void model_submit(uint16_t mid, size_t len)
{
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = model_cap, .interface_id = capos_LanguageModel_ID,
                         .method_id = mid, .addr = (uint64_t)model_params, .len = (uint32_t)len,
                         .result_addr = (uint64_t)model_res, .result_len = sizeof model_res };
    model_waiting = ++model_seq;
    model_outstanding = true;
    rt_ring_submit_tagged(&s, TAG_MODEL | model_waiting);
}

struct result { uint32_t id; uint16_t status; char reason[32]; char content[MAX_CONTENT + 1]; };
static struct result results[MAX_CALLS_TURN];
static uint32_t nresults;

static void put_results(capnp_lbuilder l)
{
    for (uint32_t i = 0; i < nresults; i++) {
        capos_ToolResult_builder r = capos_ToolResult_list_at(l, i);
        capos_ToolResult_set_id(r, results[i].id);
        capos_ToolResult_set_status(r, results[i].status);
        capos_ToolResult_set_reason(r, results[i].reason, strlen(results[i].reason));
        capos_ToolResult_set_content(r, results[i].content, strlen(results[i].content));
    }
}

/* Tell the model the turn is over (with the results so far); nobody waits
 * for the answer. The call in flight, if any, is no longer waited for. */
static void cancel_submit(void)
{
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = model_cap, .interface_id = capos_LanguageModel_ID,
                         .method_id = capos_LanguageModel_METHOD_cancel, .addr = (uint64_t)cancel_params[cancel_cur],
                         .len = cancel_len[cancel_cur], .result_addr = (uint64_t)cancel_res,
                         .result_len = sizeof cancel_res };
    cancel_outstanding = true;
    rt_ring_submit_tagged(&s, TAG_MODEL_CANCEL);
}

/* The cancel on the ring was answered: the one waiting goes now. */
static void cancel_answered(void)
{
    cancel_outstanding = false;
    if (cancel_queued) {
        cancel_queued = false;
        cancel_cur ^= 1;
        cancel_submit();
    }
}

static void model_cancel(uint32_t turn)
{
    model_waiting = 0;
    /* while an earlier cancel is unanswered this one waits its turn: were
     * it dropped, the model would go on with this turn (a slow one for
     * its whole time) and the next turn would find it busy */
    int k = cancel_outstanding ? cancel_cur ^ 1 : cancel_cur;
    capnp_builder b;
    capnp_builder_init(&b, cancel_params[k], sizeof cancel_params[k]);
    capos_LanguageModel_cancel_Params_builder p = capos_LanguageModel_cancel_Params_init_root(&b);
    capos_LanguageModel_cancel_Params_set_turn(p, turn);
    put_results(capos_LanguageModel_cancel_Params_init_results(p, nresults));
    size_t len = 0;
    if (capnp_builder_finish(&b, &len))
        return;
    cancel_len[k] = (uint32_t)len;
    if (cancel_outstanding)
        cancel_queued = true;
    else
        cancel_submit();
}

/* ---- the tools: shell functions over caps the shell holds ---- */
static int tool_run(int t, const char *args, size_t an, char *out, size_t cap, uint16_t *status, const char **why)
{
    char a1[200], a2[200];
    uint32_t n;
    *status = capos_ToolStatus_ok;                  /* *why stays the gate's decision unless it fails */
    out[0] = 0;
    if (!json_object(args, an))
        goto bad;
    switch (t) {
    case T_SESSION: {
        RT_BUFS(b, 64, 512);
        capos_UserSession_info_Results_reader r;
        int e;
        if (!session_info(&r, &b, &e))
            goto failed;
        capnp_text p = capos_UserSession_info_Results_get_principal(r), f = capos_UserSession_info_Results_get_profile(r);
        fmt_snprintf(out, cap, "principal %.*s, profile %.*s", (int)p.len, p.str, (int)f.len, f.str);
        return 0;
    }
    case T_ECHO: {
        if (!json_str(args, an, "text", a1, sizeof a1))
            goto bad;
        RT_BUFS(b, 512, 1200);
        uint32_t c = (uint32_t)rt_capset_require("echo");
        capnp_client cl = RT_CLIENT(c);
        capnp_call call;
        capos_Echo_echo_Results_reader r;
        if (rt_error(capos_Echo_echo(&cl, &b, &call, a1, strlen(a1), &r)))
            goto failed;
        capnp_data d = capos_Echo_echo_Results_get_data(r);
        fmt_snprintf(out, cap, "%.*s", (int)d.len, (const char *)d.ptr);
        return 0;
    }
    case T_PROGRAMS: {
        RT_BUFS(b, 64, 2048);
        uint32_t c = (uint32_t)rt_capset_require("programs");
        capnp_client cl = RT_CLIENT(c);
        capnp_call call;
        capos_ProgramLauncher_programs_Results_reader r;
        if (rt_error(capos_ProgramLauncher_programs(&cl, &b, &call, &r)))
            goto failed;
        capnp_list nl = capos_ProgramLauncher_programs_Results_get_names(r);
        size_t k = 0;
        for (uint32_t i = 0; i < nl.count && k < cap; i++) {
            capnp_text x = capnp_list_text(nl, i);
            k += (size_t)fmt_snprintf(out + k, cap - k, "%s%.*s", i ? " " : "", (int)x.len, x.str);
        }
        return 0;
    }
    case T_AUDIT: {
        RT_BUFS(b, 64, 4096);
        uint32_t c = (uint32_t)rt_capset_require("audit");
        capnp_client cl = RT_CLIENT(c);
        capnp_call call;
        capos_AuditLog_tail_Results_reader r;
        if (rt_error(capos_AuditLog_tail(&cl, &b, &call, 5, &r)))
            goto failed;
        capnp_list l = capos_AuditLog_tail_Results_get_records(r);
        size_t k = 0;
        for (uint32_t i = 0; i < l.count && k < cap; i++) {
            capos_AuditRecord_reader x = capos_AuditRecord_list_get(l, i);
            capnp_text ev = capos_AuditRecord_get_event(x), rs = capos_AuditRecord_get_reason(x);
            k += (size_t)fmt_snprintf(out + k, cap - k, "%s%.*s %.*s", i ? "; " : "", (int)ev.len, ev.str,
                                      (int)rs.len, rs.str);
        }
        return 0;
    }
    case T_PAUSE: {
        if (!json_num(args, an, "seconds", &n) || n < 1 || n > 60)
            goto bad;
        uint64_t now = rt_timer_now(), end = now + (uint64_t)n * 1000000000ull;
        uint64_t limit = now + TOOL_TIMEOUT_NS;
        struct cap_cqe c;
        rt_term_printf(term, "agent: pausing %u s (Ctrl-C cancels)\n", n);
        int w = agent_wait(end < limit ? end : limit, &c);
        if (w == W_INTR || w == W_TERM) {
            *status = capos_ToolStatus_cancelled;
            *why = "interrupted";
            return 1;
        }
        if (end > limit) {
            *status = capos_ToolStatus_timedOut;
            *why = "tool-timeout";
            return 0;
        }
        fmt_snprintf(out, cap, "paused %u s", n);
        return 0;
    }
    case T_RUN: {
        if (!json_str(args, an, "program", a1, sizeof a1) || strchr(a1, ' '))
            goto bad;
        cmd_run(a1, false);
        bool killed = jobs[JOBS].killed;
        if (killed) {
            *status = capos_ToolStatus_cancelled;
            *why = "interrupted";
            return 1;
        }
        fmt_snprintf(out, cap, "%s ran", a1);
        return 0;
    }
    case T_USERADD:
    case T_DISABLE:
    case T_KEYADD: {
        if (!json_str(args, an, "name", a1, sizeof a1) ||
            (t == T_USERADD && !json_str(args, an, "profiles", a2, sizeof a2)) ||
            (t == T_KEYADD && !json_str(args, an, "key", a2, sizeof a2)))
            goto bad;
        RT_BUFS(b, 1024, 128);
        uint32_t c = (uint32_t)rt_capset_require("accounts");
        capnp_client cl = RT_CLIENT(c);
        capnp_call call;
        int e;
        uint16_t res = 0xffff;
        if (t == T_USERADD) {
            capos_AccountAdmin_add_Params_builder p = capos_AccountAdmin_add_start(&call, &cl, &b);
            capos_AccountAdmin_add_Params_set_principal(p, a1, strlen(a1));
            capnp_lbuilder pl = capos_AccountAdmin_add_Params_init_profiles(p, 1);
            capnp_lset_text(pl, 0, a2, strlen(a2));
            capos_AccountAdmin_add_Results_reader r;
            e = rt_error(capos_AccountAdmin_add_send(&call, &r));
            if (!e)
                res = capos_AccountAdmin_add_Results_get_result(r);
        } else if (t == T_DISABLE) {
            capos_AccountAdmin_setStatus_Results_reader r;
            e = rt_error(capos_AccountAdmin_setStatus(&cl, &b, &call, a1, strlen(a1), capos_AccountStatus_disabled, &r));
            if (!e)
                res = capos_AccountAdmin_setStatus_Results_get_result(r);
        } else {
            capos_AccountAdmin_addKey_Results_reader r;
            e = rt_error(capos_AccountAdmin_addKey(&cl, &b, &call, a1, strlen(a1), a2, strlen(a2), &r));
            if (!e)
                res = capos_AccountAdmin_addKey_Results_get_result(r);
        }
        if (e || res != capos_AdminResult_ok) {
            fmt_snprintf(out, cap, "%s", e ? "the account store failed" : admin_error(res));
            goto failed;
        }
        fmt_snprintf(out, cap, "%s: done", a1);
        return 0;
    }
    }
bad:
    *status = capos_ToolStatus_failed;
    *why = "bad-arguments";
    return 0;
failed:
    *status = capos_ToolStatus_failed;
    *why = "tool-failed";
    return 0;
}

/* A line typed with echo (y/N answers): ED_LINE, ED_INTR, ED_EOF or -1. */
static int read_answer(const char *prompt, char *out, size_t cap)
{
    struct editor ed;
    ed_begin(&ed, prompt, true, false);
    int ev;
    while (!(ev = ed_feed(&ed))) {
        term_post();
        struct cap_cqe c;
        if (next_event(0, &c, false) == TAG_TERM && term_done(&c) < 0)
            return -1;
    }
    if (ev == ED_INTR)
        term_write("^C\n", 3);
    strlcpy(out, ed.buf, cap);
    return ev;
}

/* Printable text, one line: control bytes become '?'. */
static void show(const char *label, const char *s, size_t n)
{
    char buf[600];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof buf - 1; i++)
        buf[k++] = (uint8_t)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[k] = 0;
    rt_term_printf(term, "%s%s\n", label, buf);
}

/* One proposed call: gated, run or refused; its result is queued for the
 * model. Returns false when the turn must end (Ctrl-C). */
static bool agent_call(capos_ToolCall_reader call)
{
    capnp_text name = capos_ToolCall_get_name(call), args = capos_ToolCall_get_arguments(call);
    struct result *res = &results[nresults++];
    memset(res, 0, sizeof *res);
    res->id = capos_ToolCall_get_id(call);
    const char *cn = code_name(name);
    char code[48], red[32];
    redacted(red, sizeof red, "args", args.str, args.len);
    fmt_snprintf(code, sizeof code, "%s.%s", cn, red);
    agent_audit("agent-propose", code);
    int t = -1;
    for (int i = 0; i < NTOOLS; i++)
        if (cn == tools[i].name)
            t = i;
    const char *decision = 0;
    uint16_t status = capos_ToolStatus_ok;
    show("agent: the model proposes ", name.str, name.len > 40 ? 40 : name.len);
    if (t < 0) {
        status = capos_ToolStatus_failed, decision = "unknown-tool";
    } else if (!tool_shown(t)) {
        status = capos_ToolStatus_denied, decision = "forbidden";
    } else if (args.len > MAX_ARGS) {
        status = capos_ToolStatus_failed, decision = "oversize-arguments";
    } else if (tool_mode[t] == capos_PermissionMode_consent) {
        char q[300], a[16];
        fmt_snprintf(q, sizeof q, "allow %s %.*s? [y/N] ", tools[t].name, (int)(args.len > 200 ? 200 : args.len),
                     args.str);
        for (char *p = q; *p; p++)
            if ((uint8_t)*p < 0x20)
                *p = '?';
        int ev = read_answer(q, a, sizeof a);
        if (ev == ED_INTR || ev < 0) {
            status = capos_ToolStatus_cancelled, decision = "interrupted";
        } else if (!strcmp(a, "y") || !strcmp(a, "yes")) {
            decision = "consent-yes";
        } else {
            status = capos_ToolStatus_denied, decision = "consent-no";
        }
    } else if (tool_mode[t] == capos_PermissionMode_stepUp) {
        char pw[256];
        char q[64];
        fmt_snprintf(q, sizeof q, "password for %s: ", tools[t].name);
        int ev = read_secret(q, pw, sizeof pw);
        if (ev == ED_INTR || ev != ED_LINE) {
            status = capos_ToolStatus_cancelled, decision = "interrupted";
        } else {
            RT_BUFS(b, 512, 128);
            capnp_client cl = RT_CLIENT(session);
            capnp_call c2;
            capos_UserSession_reauthenticate_Results_reader r;
            int e = rt_error(capos_UserSession_reauthenticate(&cl, &b, &c2, pw, strlen(pw), "agent-tool", 10, &r));
            wipe((char *)b_p, sizeof b_p);
            uint16_t ok = e ? 0xffff : capos_UserSession_reauthenticate_Results_get_result(r);
            if (ok == capos_PasswordChange_changed)
                decision = "stepup-ok";
            else
                status = capos_ToolStatus_denied,
                decision = ok == capos_PasswordChange_backoff ? "stepup-backoff" : "stepup-wrong";
        }
        wipe(pw, sizeof pw);
    } else if (tool_mode[t] == capos_PermissionMode_auto) {
        decision = "auto";
    } else {
        status = capos_ToolStatus_denied, decision = "forbidden";
    }
    fmt_snprintf(code, sizeof code, "%s.%s", cn, decision);
    agent_audit("agent-decision", code);
    const char *why = decision;
    bool go_on = status != capos_ToolStatus_cancelled;
    if (status == capos_ToolStatus_ok) {
        if (tool_run(t, args.str, args.len, res->content, sizeof res->content, &status, &why))
            go_on = false;
    }
    res->status = status;
    strlcpy(res->reason, why, sizeof res->reason);
    static const char *const st[] = { "ok", "denied", "cancelled", "failed", "timed-out" };
    size_t cl = strlen(res->content);
    redacted(red, sizeof red, "res", res->content, cl);
    fmt_snprintf(code, sizeof code, "%s.%s.%s", cn, st[status], red);
    agent_audit("agent-outcome", code);
    rt_term_printf(term, "agent: %s %s (%s)\n", cn, st[status], why);
    if (status == capos_ToolStatus_ok && cl)
        show("  ", res->content, cl > 200 ? 200 : cl);
    return go_on;
}

static void agent_turn(const char *prompt)
{
    if (!agent_mode) {
        rt_term_printf(term, "agent: not available to this session\n");
        return;
    }
    if (rt_capset_lookup("audit") < 0) {             /* no audit trail, no agent */
        rt_term_printf(term, "agent: no audit log for this session\n");
        return;
    }
    struct cap_cqe c;
    while (model_outstanding) {                     /* an abandoned call must end before its buffer is reused */
        model_waiting = model_seq;
        int w = agent_wait(rt_timer_now() + MODEL_TIMEOUT_NS, &c);
        if (w != W_DONE) {
            model_waiting = 0;
            rt_term_printf(term, "agent: the model is still busy with the last turn\n");
            return;
        }
    }
    /* the turn: the prompt and the tools shown */
    capnp_builder b;
    capnp_builder_init(&b, model_params, sizeof model_params);
    capos_LanguageModel_turn_Params_builder p = capos_LanguageModel_turn_Params_init_root(&b);
    capos_ChatMessage_builder m = capos_ChatMessage_list_at(capos_LanguageModel_turn_Params_init_messages(p, 1), 0);
    capos_ChatMessage_set_role(m, "user", 4);
    capos_ChatMessage_set_text(m, prompt, strlen(prompt));
    uint32_t nt = 0;
    for (int t = 0; t < NTOOLS; t++)
        nt += tool_shown(t);
    capnp_lbuilder tl = capos_LanguageModel_turn_Params_init_tools(p, nt);
    for (int t = 0, i = 0; t < NTOOLS; t++) {
        if (!tool_shown(t))
            continue;
        capos_ToolDescriptor_builder d = capos_ToolDescriptor_list_at(tl, (uint32_t)i++);
        const struct tool *x = &tools[t];
        capos_ToolDescriptor_set_name(d, x->name, strlen(x->name));
        capos_ToolDescriptor_set_title(d, x->title, strlen(x->title));
        capos_ToolDescriptor_set_description(d, x->desc, strlen(x->desc));
        capos_ToolDescriptor_set_inputSchema(d, x->schema, strlen(x->schema));
        capos_ToolDescriptor_set_readOnly(d, x->ro);
        capos_ToolDescriptor_set_destructive(d, x->destructive);
        capos_ToolDescriptor_set_idempotent(d, x->idempotent);
        capos_ToolDescriptor_set_openWorld(d, x->open);
    }
    size_t len = 0;
    if (capnp_builder_finish(&b, &len)) {
        rt_term_printf(term, "agent: the prompt is too long\n");
        return;
    }
    agent_audit("agent-turn", "start");
    model_submit(capos_LanguageModel_METHOD_turn, len);
    uint32_t turn = 0, calls = 0;
    nresults = 0;
    rt_term_printf(term, "agent: thinking (Ctrl-C cancels)\n");
    for (uint32_t batch = 0;; batch++) {
        int w = agent_wait(rt_timer_now() + MODEL_TIMEOUT_NS, &c);
        if (w != W_DONE) {
            model_cancel(turn);
            const char *why = w == W_INTR ? "interrupted" : w == W_TIMEOUT ? "model-timeout" : "terminal";
            agent_audit("agent-turn", why);
            rt_term_printf(term, w == W_INTR ? "^C\nagent: cancelled\n"
                                 : w == W_TIMEOUT ? "agent: the model did not answer in time: turn ended\n"
                                                  : "agent: the terminal failed\n");
            return;
        }
        capnp_msg msg;
        capnp_list ev;
        bool done;
        if (c.result < 0 || capnp_msg_init(&msg, model_res, (size_t)c.result) != CAPNP_OK) {
            agent_audit("agent-turn", "model-failed");
            rt_term_printf(term, "agent: the model failed (%ld)\n", (long)c.result);
            return;
        }
        if (batch == 0) {
            capos_LanguageModel_turn_Results_reader r = capos_LanguageModel_turn_Results_read_root(&msg);
            turn = capos_LanguageModel_turn_Results_get_turn(r);
            ev = capos_LanguageModel_turn_Results_get_events(r);
            done = capos_LanguageModel_turn_Results_get_done(r);
        } else {
            capos_LanguageModel_next_Results_reader r = capos_LanguageModel_next_Results_read_root(&msg);
            ev = capos_LanguageModel_next_Results_get_events(r);
            done = capos_LanguageModel_next_Results_get_done(r);
        }
        nresults = 0;
        bool stop = false;
        const char *why = 0;
        for (uint32_t i = 0; i < ev.count && i < 8 && !stop; i++) {
            capos_ModelEvent_reader e = capos_ModelEvent_list_get(ev, i);
            capnp_text tx = capos_ModelEvent_get_text(e);
            if (tx.len)
                show("model: ", tx.str, tx.len > 512 ? 512 : tx.len);
            if (!capos_ModelEvent_get_isCall(e))
                continue;
            if (calls >= MAX_CALLS_TURN || agent_calls >= MAX_CALLS_SESSION) {
                stop = true;
                why = "quota";
                break;
            }
            calls++, agent_calls++;
            if (!agent_call(capos_ModelEvent_get_call(e)))
                stop = true, why = "interrupted";
        }
        if (!stop && !done && batch + 1 >= MAX_BATCHES)
            stop = true, why = "quota";
        if (stop) {
            model_cancel(turn);
            agent_audit("agent-turn", why);
            if (!strcmp(why, "quota"))
                rt_term_printf(term, "agent: quota reached (%u tool calls a turn, %u a session): turn ended\n",
                               MAX_CALLS_TURN, MAX_CALLS_SESSION);
            else
                rt_term_printf(term, "agent: cancelled\n");
            return;
        }
        if (done) {
            agent_audit("agent-turn", "done");
            return;
        }
        capnp_builder_init(&b, model_params, sizeof model_params);
        capos_LanguageModel_next_Params_builder np = capos_LanguageModel_next_Params_init_root(&b);
        capos_LanguageModel_next_Params_set_turn(np, turn);
        put_results(capos_LanguageModel_next_Params_init_results(np, nresults));
        if (capnp_builder_finish(&b, &len)) {
            model_cancel(turn);
            rt_term_printf(term, "agent: results too large\n");
            return;
        }
        model_submit(capos_LanguageModel_METHOD_next, len);
    }
}

static void logout(const char *reason)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(session);
    capnp_call call;
    capos_UserSession_logout_Results_reader r;
    capos_UserSession_logout(&cl, &b, &call, reason, strlen(reason), &r);
}

int main(void)
{
    term = rt_capset_require("terminal");
    session = rt_capset_require("session");
    uint64_t born = rt_timer_now();
    last_input = born;
    {
        RT_BUFS(b, 64, 512);
        capos_UserSession_info_Results_reader r;
        int e;
        if (session_info(&r, &b, &e)) {
            capnp_text p = capos_UserSession_info_Results_get_principal(r);
            capnp_text f = capos_UserSession_info_Results_get_profile(r);
            capnp_text m = capos_UserSession_info_Results_get_authMethod(r);
            fmt_snprintf(me, sizeof me, "%.*s", (int)p.len, p.str);
            fmt_snprintf(profile, sizeof profile, "%.*s", (int)f.len, f.str);
            fmt_snprintf(method, sizeof method, "%.*s", (int)m.len, m.str);
            idle_ns = capos_UserSession_info_Results_get_idleTimeoutNs(r);
            expires_ns = capos_UserSession_info_Results_get_expiresNs(r);
        }
    }
    term_size();
    agent_init();
    rt_term_printf(term, "Welcome, %s. Type 'help' for commands.\n", me);
    for (;;) {
        char line[256];
        static char prompt[48];
        fmt_snprintf(prompt, sizeof prompt, "%s@capos> ", me);
        const char *why;
        int ev;
        if (ahead[0]) {
            term_write(prompt, strlen(prompt));
            strlcpy(line, ahead, sizeof line);
            ahead[0] = 0;
            rt_term_printf(term, "%s\n", line);
            ev = ED_LINE;
        } else {
            struct editor ed;
            ed_begin(&ed, prompt, true, true);
            while (!(ev = ed_feed(&ed))) {
                term_post();
                struct cap_cqe c;
                if (!next_event(session_deadline(&why), &c, false)) {
                    char d[24];
                    rt_term_printf(term, "\n%s: logged out\n", !strcmp(why, "idle")
                                       ? (fmt_snprintf(line, sizeof line, "idle for %s", dur(idle_ns, d, sizeof d)), line)
                                       : "the session has expired");
                    end_jobs();
                    logout(why);
                    return 0;
                }
                if (term_done(&c) < 0) {
                    ev = -1;
                    break;
                }
            }
            strlcpy(line, ed.buf, sizeof line);
        }
        if (ev < 0 || ev == ED_EOF) {
            end_jobs();
            return 0;
        }
        sh_trim(line);                                 /* blanks around a command do not count */
        if (ev == ED_INTR || !line[0])
            continue;
        if (line[0] == '!') {
            uint32_t n = sh_history_ref(line, nhist, HIST);
            if (n == 0) {
                rt_term_printf(term, "%s: no such command in the history\n", line);
                continue;
            }
            strlcpy(line, hist[(n - 1) % HIST], sizeof line);
            rt_term_printf(term, "%s\n", line);
        }
        strlcpy(hist[nhist++ % HIST], line, sizeof hist[0]);
        char *arg;
        switch (sh_command(line, &arg)) {
        case SH_HELP: cmd_help(); break;
        case SH_CAPS: cmd_caps(); break;
        case SH_SESSION: cmd_session(); break;
        case SH_WHOAMI:
            term_size();
            rt_term_printf(term, "%s (profile %s, logged in by %s) on a %ux%u terminal\n", me, profile, method,
                           term_cols, term_rows);
            break;
        case SH_AUDIT: cmd_audit(arg); break;
        case SH_NET: cmd_net(); break;
        case SH_PING: cmd_ping(arg); break;
        case SH_ECHO: cmd_echo(arg); break;
        case SH_PROGRAMS: cmd_programs(); break;
        case SH_PASSWD: cmd_passwd(); break;
        case SH_ACCOUNTS: cmd_accounts(); break;
        case SH_USERADD: cmd_useradd(arg); break;
        case SH_DISABLE: cmd_status("disable", arg, capos_AccountStatus_disabled); break;
        case SH_ENABLE: cmd_status("enable", arg, capos_AccountStatus_active); break;
        case SH_KEYADD: cmd_key("keyadd", arg, true); break;
        case SH_KEYDEL: cmd_key("keydel", arg, false); break;
        case SH_RUN: cmd_run(arg, false); break;
        case SH_SPAWN: cmd_run(arg, true); break;
        case SH_WAIT: cmd_wait(arg); break;
        case SH_JOBS: cmd_jobs(); break;
        case SH_KILL: cmd_kill(arg); break;
        case SH_AGENT: agent_turn(arg); break;
        case SH_HISTORY:
            for (uint32_t i = nhist > HIST ? nhist - HIST : 0; i < nhist; i++)
                rt_term_printf(term, "  %u  %s\n", i + 1, hist[i % HIST]);
            break;
        case SH_TIME: {
            char d[24];
            uint64_t now = rt_timer_now();
            rt_term_printf(term, "%s since boot (%lu.%03lu s; capOS has no wall clock yet)\n", dur(now, d, sizeof d),
                           now / 1000000000u, now / 1000000 % 1000);
            break;
        }
        case SH_UPTIME: {
            char d1[24], d2[24];
            uint64_t now = rt_timer_now();
            rt_term_printf(term, "up %s, this session %s, %d job%s\n", dur(now, d1, sizeof d1),
                           dur(now - born, d2, sizeof d2), running_jobs(), running_jobs() == 1 ? "" : "s");
            break;
        }
        case SH_EXIT:
            end_jobs();
            return 0;
        case SH_UNKNOWN:
            rt_term_printf(term, "unknown command: %s (try 'help')\n", line);
            break;
        }
    }
}
