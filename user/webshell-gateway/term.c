/*
 * webshell-gateway: web sessions and the terminal stream (README.md,
 * "The terminal stream").
 *
 * A session is made by a password login (SessionManager.login) and named
 * by a random cookie; its page opens one WebSocket (/ws) and only then is
 * the shell started.  Every end (logout, the page's close, the WebSocket
 * lost, the shell's exit, a login never attached) goes through sess_end(),
 * which kills the shell, logs the session out and releases every cap made
 * for it.
 *
 * Memory is bounded both ways: the page's messages are read only while the
 * typed-keys buffer has room for a whole one (else TCP holds the rest), and
 * the shell's output goes to the page only against credits the page grants
 * as its terminal consumes it; with none left, the shell's write is not
 * answered, so a flooding shell waits instead of growing the gateway.
 */
#include <sodium.h>

#include "gateway.h"

struct sess sess[MAXSESS];
uint32_t term_owner;

static uint8_t term_buf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
static uint8_t reply_buf[4096 + 256] __attribute__((aligned(8)));
static uint8_t obuf[1 + 4096];
static struct rt_incoming tin;

void term_init(uint32_t endpoints)
{
    uint32_t client;
    if (rt_endpoint_create(endpoints, capos_TerminalSession_ID, 0, &term_owner, &client)) {
        printf("webshell-gateway: cannot make the terminal endpoint\n");
        exit(2);
    }
    rt_release(client);         /* shells get facets of the owner, one per session */
}

void term_post_recv(void)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = term_owner, .result_addr = (uint64_t)term_buf,
                         .result_len = sizeof term_buf };
    rt_ring_submit_tagged(&s, TAG(K_TERM, 0, 0));
}

static struct conn *sess_conn(struct sess *x)
{
    if (x->conn < 0)
        return 0;
    struct conn *k = &conns[x->conn];
    return k->used && k->gen == x->conn_gen && !k->done && k->proto == P_WS ? k : 0;
}

/* A message to the page: type byte, then data (never partial: false when
 * the WebSocket's queue lacks room). */
static bool send_msg(struct conn *k, uint8_t type, const void *data, size_t len)
{
    if (len > sizeof obuf - 1)
        return false;
    obuf[0] = type;
    memcpy(obuf + 1, data, len);
    return ws_send(&k->w->ws, WS_OP_BINARY, obuf, len + 1, 1) == 0;
}

/* ---- logins ---- */
int sess_login(const char *user, size_t ul, const uint8_t *pw, size_t pl, int *out, uint64_t *retry_ms)
{
    int s = sess_free_slot();
    if (s < 0 || ul >= sizeof sess[0].user) {
        *out = -2;
        return -1;
    }
    RT_BUFS(b, 512, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_login_Results_reader r;
    int e = rt_error(capos_SessionManager_login(&cl, &b, &call, user, ul, pw, pl, profile, strlen(profile), &r));
    sodium_memzero(b_p, sizeof b_p);                    /* the request held the password */
    int res = e ? -1 : capos_SessionManager_login_Results_get_result(r);
    *out = res;
    if (res != capos_LoginResult_ok || call.result_ncaps != 2) {
        if (res == capos_LoginResult_backoff)
            *retry_ms = capos_SessionManager_login_Results_get_retryAfterMs(r);
        for (uint32_t j = 0; j < call.result_ncaps; j++)
            rt_release(b.result_caps[j]);
        if (res == capos_LoginResult_ok)
            *out = -1;
        return -1;
    }
    return sess_new((uint32_t)s, b.result_caps[capos_SessionManager_login_Results_get_session(r)],
                    b.result_caps[capos_SessionManager_login_Results_get_context(r)], user, ul);
}

int sess_free_slot(void)
{
    for (uint32_t s = 0; s < MAXSESS; s++)
        if (sess[s].state == S_FREE)
            return (int)s;
    return -1;
}

/* Slot s (free) becomes a logged-in session holding these caps. */
int sess_new(uint32_t s, uint32_t session, uint32_t context, const char *user, size_t ul)
{
    struct sess *x = &sess[s];
    uint16_t gen = x->gen;
    memset(x, 0, sizeof *x);
    x->gen = gen;
    x->state = S_LOGGED_IN;
    x->session = session;
    x->context = context;
    x->shell = x->term = ~0u;
    x->conn = -1;
    x->cols = 80;
    x->rows = 24;
    x->credits = WINDOW;
    x->since_ms = now_ms();
    x->id = randombytes_random();
    randombytes_buf(x->token, TOKEN_LEN);
    if (ul >= sizeof x->user)
        ul = sizeof x->user - 1;
    memcpy(x->user, user, ul);
    x->user[ul] = 0;
    return (int)s;
}

int sess_by_cookie(const uint8_t *hex, size_t len)
{
    uint8_t t[TOKEN_LEN];
    size_t bl = 0;
    if (len != 2 * TOKEN_LEN || sodium_hex2bin(t, sizeof t, (const char *)hex, len, 0, &bl, 0) || bl != TOKEN_LEN)
        return -1;
    int found = -1;
    for (uint32_t s = 0; s < MAXSESS; s++)
        if ((sess[s].state == S_LOGGED_IN || sess[s].state == S_ATTACHED) && !sodium_memcmp(sess[s].token, t, TOKEN_LEN))
            found = (int)s;
    sodium_memzero(t, sizeof t);
    return found;
}

/* ---- the shell's TerminalSession ---- */
static struct sess *sess_of_badge(uint64_t badge)
{
    uint32_t s = badge & 0xffff;
    return s < MAXSESS && sess[s].gen == (uint16_t)(badge >> 16) && sess[s].state == S_ATTACHED ? &sess[s] : 0;
}

/* Answer a waiting readKeys with what has been typed (at least one byte). */
static void keys_answer(struct sess *x, bool fail)
{
    if (!x->keys_wait || (!fail && x->keys_len == 0))
        return;
    x->keys_wait = false;
    if (fail) {
        rt_return(term_owner, x->keys_call, 0, 0, 0, 0, true);
        return;
    }
    uint32_t n = x->keys_len < x->keys_max ? x->keys_len : x->keys_max;
    capnp_builder b;
    capnp_builder_init(&b, reply_buf, sizeof reply_buf);
    capos_TerminalSession_readKeys_Results_set_data(capos_TerminalSession_readKeys_Results_init_root(&b), x->keys, n);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    rt_return(term_owner, x->keys_call, reply_buf, (uint32_t)len, 0, 0, false);
    memmove(x->keys, x->keys + n, x->keys_len - n);
    x->keys_len -= n;
}

static void tw_answer(struct sess *x, bool fail)
{
    if (!x->tw_wait || (!fail && x->tw_len))
        return;
    x->tw_wait = false;
    if (fail) {
        rt_return(term_owner, x->tw_call, 0, 0, 0, 0, true);
        return;
    }
    capnp_builder b;
    capnp_builder_init(&b, reply_buf, sizeof reply_buf);
    capos_TerminalSession_write_Results_init_root(&b);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    rt_return(term_owner, x->tw_call, reply_buf, (uint32_t)len, 0, 0, false);
}

/* Shell output to the page, as far as the credits and the queue allow. */
static void tw_flush(struct sess *x)
{
    struct conn *k = sess_conn(x);
    while (k && x->tw_len && x->credits) {
        size_t room = ws_send_room(&k->w->ws);
        uint32_t n = x->tw_len < x->credits ? x->tw_len : x->credits;
        if (n > sizeof obuf - 1)
            n = sizeof obuf - 1;
        if (room < 2)
            break;
        if (n > room - 1)
            n = (uint32_t)(room - 1);
        if (!send_msg(k, 'o', x->tw, n))
            break;
        x->credits -= n;
        memmove(x->tw, x->tw + n, x->tw_len - n);
        x->tw_len -= n;
    }
}

static int t_write(void *self, capos_TerminalSession_write_Params_reader p, capos_TerminalSession_write_Results_builder r)
{
    struct rt_incoming *in = self;
    struct sess *x = sess_of_badge(in->hdr->badge);
    if (!x)
        return CAP_ERR_DISCONNECTED;
    capnp_data d = capos_TerminalSession_write_Params_get_data(p);
    if (d.len > TWBUF || x->tw_wait)
        return CAP_ERR_INVALID_ARGUMENT;
    if (d.len > TWBUF - x->tw_len)
        tw_flush(x);
    if (d.len > TWBUF - x->tw_len)
        return CAP_ERR_OVERLOADED;       /* never: a write is answered only once tw is empty */
    memcpy(x->tw + x->tw_len, d.ptr, d.len);
    x->tw_len += (uint32_t)d.len;
    tw_flush(x);
    if (x->tw_len) {
        x->tw_wait = true;               /* answered once the page took it all */
        x->tw_call = in->hdr->call_id;
        in->deferred = true;
    }
    return CAPNP_OK;
}

static int t_readline(void *self, capos_TerminalSession_readLine_Params_reader p,
                      capos_TerminalSession_readLine_Results_builder r)
{
    return CAP_ERR_INVALID_ARGUMENT;     /* a raw terminal: readKeys */
}

static int t_readkeys(void *self, capos_TerminalSession_readKeys_Params_reader p,
                      capos_TerminalSession_readKeys_Results_builder r)
{
    struct rt_incoming *in = self;
    struct sess *x = sess_of_badge(in->hdr->badge);
    if (!x)
        return CAP_ERR_DISCONNECTED;
    if (x->keys_wait)
        return CAP_ERR_INVALID_ARGUMENT; /* one read at a time */
    uint32_t max = capos_TerminalSession_readKeys_Params_get_maxBytes(p);
    x->keys_wait = true;
    x->keys_call = in->hdr->call_id;
    x->keys_max = max ? (max < 4096 ? max : 4096) : 1;
    in->deferred = true;
    keys_answer(x, false);
    return CAPNP_OK;
}

static int t_size(void *self, capos_TerminalSession_size_Params_reader p, capos_TerminalSession_size_Results_builder r)
{
    struct rt_incoming *in = self;
    struct sess *x = sess_of_badge(in->hdr->badge);
    if (!x)
        return CAP_ERR_DISCONNECTED;
    capos_TerminalSession_size_Results_set_columns(r, x->cols);
    capos_TerminalSession_size_Results_set_rows(r, x->rows);
    return CAPNP_OK;
}

static const capos_TerminalSession_server term_server = { .write = t_write, .readLine = t_readline,
                                                          .readKeys = t_readkeys, .size = t_size };

void term_serve(const struct cap_cqe *c)
{
    if (c->result == CAP_ERR_DISCONNECTED)
        return;
    tin.ncaps = 0;
    rt_serve_delivered(term_owner, c, capos_TerminalSession_dispatch_any, &term_server, &tin, term_buf, &tin);
    for (uint32_t j = 0; j < tin.ncaps; j++)
        if (tin.caps[j] != ~0u)
            rt_release(tin.caps[j]);
}

/* ---- the session's life ---- */
static void post_wait(struct sess *x, uint32_t s)
{
    struct cap_sqe q = { .opcode = CAP_OP_CALL, .cap_id = x->shell, .interface_id = capos_ProcessHandle_ID,
                         .method_id = capos_ProcessHandle_METHOD_wait, .result_addr = (uint64_t)x->wres,
                         .result_len = sizeof x->wres };
    rt_ring_submit_tagged(&q, TAG(K_WAIT, s, x->gen));
    x->wait_on = true;
}

static bool start_shell(struct sess *x, uint32_t s)
{
    int64_t f = rt_endpoint_facet(term_owner, (uint64_t)x->gen << 16 | s);
    if (f < 0)
        return false;
    x->term = (uint32_t)f;
    RT_BUFS(b, 256, 256);
    capnp_client cl = RT_CLIENT(launcher);
    capnp_call call;
    capos_RestrictedShellLauncher_launchShell_Params_builder p = capos_RestrictedShellLauncher_launchShell_start(&call, &cl, &b);
    capos_RestrictedShellLauncher_launchShell_Params_set_context(p, capnp_add_cap(p.s, x->context));
    capos_RestrictedShellLauncher_launchShell_Params_set_terminal(p, capnp_add_cap(p.s, x->term));
    capos_RestrictedShellLauncher_launchShell_Params_set_session(p, capnp_add_cap(p.s, x->session));
    capos_RestrictedShellLauncher_launchShell_Results_reader r;
    int e = rt_error(capos_RestrictedShellLauncher_launchShell_send(&call, &r));
    if (e || call.result_ncaps != 1) {
        printf("webshell-gateway: session %08x: the shell did not start (%d)\n", x->id, e);
        audit_rec("web-shell", "shell-failed");
        return false;
    }
    x->shell = b.result_caps[0];
    RT_BUFS(wb, 128, 64);
    capnp_client sc = RT_CLIENT(x->session);
    capnp_call wc;
    capos_UserSession_watch_Params_builder wp = capos_UserSession_watch_start(&wc, &sc, &wb);
    capos_UserSession_watch_Params_set_shell(wp, capnp_add_cap(wp.s, x->shell));
    capos_UserSession_watch_Results_reader wr;
    capos_UserSession_watch_send(&wc, &wr);
    post_wait(x, s);
    return true;
}

bool sess_attach(uint32_t s, struct conn *k, uint32_t ci)
{
    struct sess *x = &sess[s];
    x->state = S_ATTACHED;
    x->conn = (int)ci;
    x->conn_gen = k->gen;
    k->sess = (int)s;
    char hello[64];
    int n = fmt_snprintf(hello, sizeof hello, "%08x %s", x->id, x->user);
    send_msg(k, 'h', hello, (size_t)n);
    if (!start_shell(x, s)) {
        sess_end(s, "shell-failed");
        return false;
    }
    printf("webshell-gateway: session %08x: shell started for %s\n", x->id, x->user);
    return true;
}

/* Free the slot once its wait is no longer in flight. */
static void sess_reap(struct sess *x)
{
    if (x->state != S_ENDING || x->wait_on)
        return;
    if (x->shell != ~0u)
        rt_release(x->shell);
    x->shell = ~0u;
    x->state = S_FREE;
    x->gen++;
}

void sess_end(uint32_t s, const char *why)
{
    struct sess *x = &sess[s];
    if (x->state != S_LOGGED_IN && x->state != S_ATTACHED)
        return;
    struct conn *k = sess_conn(x);
    if (k) {
        tw_flush(x);
        send_msg(k, 'e', why, strlen(why));
        ws_close(&k->w->ws, WS_CLOSE_NORMAL, why);
        k->sess = -1;
    }
    x->conn = -1;
    keys_answer(x, true);
    tw_answer(x, true);
    x->state = S_ENDING;
    sodium_memzero(x->token, sizeof x->token);
    if (x->shell != ~0u) {
        RT_BUFS(b, 64, 64);
        capnp_client cl = RT_CLIENT(x->shell);
        capnp_call call;
        capos_ProcessHandle_kill_Results_reader r;
        capos_ProcessHandle_kill(&cl, &b, &call, &r);
    }
    {
        RT_BUFS(b, 128, 64);
        capnp_client cl = RT_CLIENT(x->session);
        capnp_call call;
        capos_UserSession_logout_Results_reader r;
        capos_UserSession_logout(&cl, &b, &call, why, strlen(why), &r);
    }
    rt_release(x->session);
    rt_release(x->context);
    if (x->term != ~0u)
        rt_release(x->term);
    x->session = x->context = x->term = ~0u;
    x->keys_len = x->tw_len = 0;
    printf("webshell-gateway: session %08x: ended (%s)\n", x->id, why);
    sess_reap(x);
}

void term_shell_exited(uint32_t s, int64_t code)
{
    struct sess *x = &sess[s];
    x->wait_on = false;
    if (x->state == S_ATTACHED) {
        printf("webshell-gateway: session %08x: shell exited (%ld)\n", x->id, (long)code);
        sess_end(s, "shell-exit");
    }
    sess_reap(x);
}

void term_conn_gone(struct conn *k)
{
    int s = k->sess;
    k->sess = -1;
    if (s >= 0 && sess[s].conn >= 0 && &conns[sess[s].conn] == k) {
        sess[s].conn = -1;
        sess_end((uint32_t)s, "ws-lost");
    }
}

/* ---- messages from the page ---- */
static void keys_put(struct sess *x, const void *d, size_t n)
{
    memcpy(x->keys + x->keys_len, d, n);      /* room: term_feed reads a message only with MSGMAX + 12 free */
    x->keys_len += (uint32_t)n;
}

/* A paste, bracketed (ESC [200~ ... ESC [201~), with any bracket inside it
 * removed so the pasted text cannot end the paste early. */
static void paste(struct sess *x, const uint8_t *d, size_t n)
{
    keys_put(x, "\x1b[200~", 6);
    for (size_t j = 0; j < n;) {
        if (n - j >= 6 && d[j] == 0x1b && !memcmp(d + j + 1, "[20", 3) && (d[j + 4] == '0' || d[j + 4] == '1') &&
            d[j + 5] == '~') {
            j += 6;
            continue;
        }
        keys_put(x, d + j, 1);
        j++;
    }
    keys_put(x, "\x1b[201~", 6);
}

static uint32_t be(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int j = 0; j < n; j++)
        v = v << 8 | p[j];
    return v;
}

/* One whole message: its type byte, then its data.  A malformed one ends
 * the session with its reason (stream.*). */
static void on_msg(struct conn *k, uint32_t s, const uint8_t *m, uint32_t len)
{
    struct sess *x = &sess[s];
    const char *bad = 0;
    if (len == 0) {
        bad = "stream.empty";
    } else if (m[0] == 'i') {
        keys_put(x, m + 1, len - 1);
    } else if (m[0] == 'p') {
        if (len - 1 > PASTEMAX)
            bad = "stream.paste-too-long";
        else {
            uint32_t was = x->keys_len;
            paste(x, m + 1, len - 1);
            printf("webshell-gateway: session %08x: paste %u bytes\n", x->id, x->keys_len - was - 12);
        }
    } else if (m[0] == 'r') {
        uint32_t c = len == 5 ? be(m + 1, 2) : 0, r = len == 5 ? be(m + 3, 2) : 0;
        if (c < 2 || c > 500 || r < 2 || r > 500) {
            bad = "stream.resize";
        } else {
            x->cols = (uint16_t)c;
            x->rows = (uint16_t)r;
            printf("webshell-gateway: session %08x: window %ux%u\n", x->id, c, r);
        }
    } else if (m[0] == 'c' && len == 1) {
        keys_put(x, "\x03", 1);                   /* cancel: the shell's interrupt key */
    } else if (m[0] == 'a' && len == 5) {
        uint32_t n = be(m + 1, 4);
        if (n > WINDOW - x->credits)
            bad = "stream.credits";               /* more than was sent: the page is not counting */
        else
            x->credits += n;
    } else if (m[0] == 'x' && len == 1) {
        sess_end(s, "logout");
        return;
    } else {
        bad = "stream.type";
    }
    if (bad) {
        audit_rec("web-stream", bad);
        sess_end(s, bad);
    }
}

void term_feed(struct conn *k, uint32_t ci)
{
    struct tls_conn *t = &k->w->tls;
    for (;;) {
        int s = k->sess;
        if (s >= 0 && KEYBUF - sess[s].keys_len < MSGMAX + 12)
            break;                                /* the shell reads first: TCP holds the rest */
        size_t avail = 0, used = 0;
        uint8_t *in = (uint8_t *)tls_app_in(t, &avail);
        struct ws_event ev;
        int type = ws_feed(&k->w->ws, in, in ? avail : 0, &used, &ev);
        if (used)
            tls_app_in_done(t, used);
        if (type == WS_EV_NONE)
            break;
        if (type == WS_EV_DATA && s >= 0) {
            if (ev.opcode != WS_OP_BINARY) {
                audit_rec("web-stream", "stream.text");
                sess_end((uint32_t)s, "stream.text");
                continue;
            }
            if (ev.len > MSGMAX - k->msg_len) {
                k->msg_over = true;               /* never: max_message is MSGMAX */
            } else {
                memcpy(k->msg + k->msg_len, ev.data, ev.len);
                k->msg_len += (uint32_t)ev.len;
            }
            if (ev.fin) {
                if (!k->msg_over)
                    on_msg(k, (uint32_t)s, k->msg, k->msg_len);
                k->msg_len = 0;
                k->msg_over = false;
            }
        } else if ((type == WS_EV_CLOSE || type == WS_EV_ERROR) && s >= 0) {
            if (type == WS_EV_ERROR)
                audit_rec("web-stream", ws_reason_name(ws_reason(&k->w->ws)));
            sess_end((uint32_t)s, type == WS_EV_CLOSE ? "ws-closed" : ws_reason_name(ws_reason(&k->w->ws)));
        }
    }
    if (k->sess >= 0)
        term_pump((uint32_t)k->sess);
}

void term_pump(uint32_t s)
{
    struct sess *x = &sess[s];
    if (x->state == S_LOGGED_IN && now_ms() - x->since_ms > ATTACH_MS) {
        sess_end(s, "attach-timeout");
        return;
    }
    if (x->state != S_ATTACHED)
        return;
    keys_answer(x, false);
    tw_flush(x);
    tw_answer(x, false);
}
