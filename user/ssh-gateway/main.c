/*
 * ssh-gateway: the SSH door into capOS. lib/ssh (unchanged, sans-IO) over a
 * TcpListener made with the one TcpListenAuthority it holds; the host key
 * stays in the key service (SshHostKey.signExchangeHash); logins are
 * SessionManager.sshPublicKey; the shell is capos-shell started through
 * RestrictedShellLauncher on an SSH-backed TerminalSession this process
 * serves (an endpoint: TerminalSession is not a kernel-only interface).
 *
 * Grants: listen (TcpListenAuthority: the one port it may serve), hostkey
 * (SshHostKey), manager (SessionManager), launcher (RestrictedShellLauncher),
 * audit (AuditLog); and the plumbing: console (its log lines), timer (the
 * clock for lib/ssh's deadlines: login grace, keepalive), memory (the heap:
 * one ~210 KiB connection state each) and endpoints (to make the terminal
 * endpoint its shells read and write; released once made).  No broker: what
 * a shell may hold is the launcher's business (it holds the broker), never
 * the gateway's.
 * args: profile=NAME (the profile SSH logins ask for; default operator);
 * maxstartups=START:RATE:FULL (default 10:30:100), persource=N (default
 * 24), grace=SECONDS (default 120): the limits on unauthenticated
 * connections (below).
 *
 * One event loop: an accept always in flight, per connection a recv in
 * flight and at most one send, a RECV on the terminal endpoint, and a wait
 * on each shell. Calls that must finish before the protocol can go on
 * (a signature, a login) are synchronous.
 */
#include "rt/capos.h"
#include "ssh/ssh.h"

#define MAXCONN 32
#define IOMAX 3800
#define KEYBUF 4096
#define TWBUF 8192

enum { K_ACCEPT = 1, K_RECV, K_SEND, K_TERM, K_WAIT };
#define TAG(k, i, g) (0xE000000000000000ull | (uint64_t)(k) << 40 | (uint64_t)(g) << 16 | (uint64_t)(i))
#define TAG_K(t) ((int)(((t) >> 40) & 0xff))
#define TAG_I(t) ((uint32_t)((t) & 0xffff))
#define TAG_G(t) ((uint16_t)((t) >> 16))

static uint32_t listener, hostkey, manager, launcher, audit, term_owner;
static uint8_t host_pub[32];
static char profile[16] = "operator";

struct conn {
    bool used;
    uint16_t gen;
    uint32_t sock;
    struct ssh_conn *ssh;
    bool recv_on, send_on, peer_gone, shell_started, done;
    uint32_t send_len;
    uint8_t rp[64] __attribute__((aligned(8))), rres[IOMAX + 256] __attribute__((aligned(8)));
    uint8_t sp[IOMAX + 128] __attribute__((aligned(8))), sres[128] __attribute__((aligned(8)));
    uint8_t wres[64] __attribute__((aligned(8)));
    /* the session */
    uint32_t session, context, shell, term;   /* ~0u: none */
    bool wait_on;
    uint16_t cols, rows;
    uint8_t keys[KEYBUF];
    uint32_t keys_len;
    bool keys_wait;                 /* a readKeys waits */
    uint32_t keys_call, keys_max;
    uint8_t tw[TWBUF];               /* shell output not yet taken by the channel */
    uint32_t tw_len;
    bool tw_wait;                    /* a write waits for tw to drain */
    uint32_t tw_call;
    char user[SSH_MAX_USER + 1];
    uint32_t id;                    /* connection number, for the log */
    uint32_t peer;                  /* source IPv4 address */
    bool authed;                    /* logged in: no longer counts as a startup */
};
static struct conn conns[MAXCONN];
static uint32_t next_id;

/*
 * Limits on unauthenticated connections (args, OpenSSH's names):
 * maxstartups=START:RATE:FULL: from START unauthenticated connections on, a
 * new one is dropped with probability RATE%, rising linearly to 100% at
 * FULL (random early drop); persource=N: at most N unauthenticated
 * connections from one source address (behind QEMU's user network every
 * client has the same one, hence the high default); grace=SECONDS: time
 * from connect to login (lib/ssh's login_grace_ms).
 */
static uint32_t ms_start = 10, ms_rate = 30, ms_full = 100, per_source = 24, grace_s = 120;

static uint64_t now_ms(void)
{
    return rt_timer_now() / 1000000;
}

static void audit_rec(const char *event, const char *reason)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), 0, &r);
}

/* ---- lib/ssh's callbacks ---- */
static int cb_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64])
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(hostkey);
    capnp_call call;
    capos_SshHostKey_signExchangeHash_Results_reader r;
    if (capos_SshHostKey_signExchangeHash(&cl, &b, &call, msg, len, &r))
        return -1;
    capnp_data s = capos_SshHostKey_signExchangeHash_Results_get_signature(r);
    if (s.len != 64)
        return -1;
    memcpy(sig, s.ptr, 64);
    return 0;
}

static void cb_random(void *ctx, uint8_t *out, size_t len)
{
    randombytes_buf(out, len);
}

/*
 * The login: SessionManager.sshPublicKey wants the key's signature over
 * what it signed.  lib/ssh has verified it and hands both over in the
 * proof (RFC 4252 7: session id, then the request up to the key blob); the
 * session manager checks them again against the user's authorised keys.
 * A query (no signature yet) is always answered "would accept": the
 * decision is the signed attempt's, and unknown keys look the same.
 */
static int cb_authorize(void *ctx, enum ssh_auth_phase phase, const char *user, size_t ul, const uint8_t pub[32],
                        const struct ssh_auth_proof *proof)
{
    struct conn *k = ctx;
    if (phase == SSH_AUTH_QUERY)
        return 1;
    if (!proof || ul > SSH_MAX_USER)
        return 0;
    char who[SSH_MAX_USER + 1];
    memcpy(who, user, ul);
    who[ul] = 0;
    RT_BUFS(b, 1024, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_sshPublicKey_Results_reader r;
    int e = capos_SessionManager_sshPublicKey(&cl, &b, &call, who, ul, pub, 32, proof->signed_data, proof->signed_len,
                                              proof->signature, 64, profile, strlen(profile), &r);
    if (e || capos_SessionManager_sshPublicKey_Results_get_result(r) != capos_LoginResult_ok)
        return 0;
    uint32_t si = capos_SessionManager_sshPublicKey_Results_get_session(r);
    uint32_t ci = capos_SessionManager_sshPublicKey_Results_get_context(r);
    if (si >= call.result_ncaps || ci >= call.result_ncaps)
        return 0;
    k->session = b.result_caps[si];
    k->context = b.result_caps[ci];
    memcpy(k->user, who, ul + 1);
    return 1;
}

/* ---- socket calls ---- */
static void post_recv(struct conn *k, uint32_t i)
{
    uint8_t *p;
    size_t room = ssh_input_buffer(k->ssh, &p);
    if (k->recv_on || k->peer_gone || k->done || room == 0)
        return;
    capnp_builder b;
    capnp_builder_init(&b, k->rp, sizeof k->rp);
    capos_TcpSocket_recv_Params_set_maxBytes(capos_TcpSocket_recv_Params_init_root(&b), room < IOMAX ? (uint32_t)room : IOMAX);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = k->sock, .interface_id = capos_TcpSocket_ID,
                         .method_id = capos_TcpSocket_METHOD_recv, .addr = (uint64_t)k->rp, .len = (uint32_t)len,
                         .result_addr = (uint64_t)k->rres, .result_len = sizeof k->rres };
    rt_ring_submit_tagged(&s, TAG(K_RECV, i, k->gen));
    k->recv_on = true;
}

static void post_send(struct conn *k, uint32_t i)
{
    const uint8_t *q;
    size_t n = ssh_output(k->ssh, &q);
    if (k->send_on || k->peer_gone || n == 0)
        return;
    if (n > IOMAX)
        n = IOMAX;
    capnp_builder b;
    capnp_builder_init(&b, k->sp, sizeof k->sp);
    capos_TcpSocket_send_Params_set_data(capos_TcpSocket_send_Params_init_root(&b), q, n);
    size_t len = 0;
    if (capnp_builder_finish(&b, &len))
        return;
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = k->sock, .interface_id = capos_TcpSocket_ID,
                         .method_id = capos_TcpSocket_METHOD_send, .addr = (uint64_t)k->sp, .len = (uint32_t)len,
                         .result_addr = (uint64_t)k->sres, .result_len = sizeof k->sres };
    rt_ring_submit_tagged(&s, TAG(K_SEND, i, k->gen));
    k->send_on = true;
}

static void post_wait(struct conn *k, uint32_t i)
{
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = k->shell, .interface_id = capos_ProcessHandle_ID,
                         .method_id = capos_ProcessHandle_METHOD_wait, .result_addr = (uint64_t)k->wres,
                         .result_len = sizeof k->wres };
    rt_ring_submit_tagged(&s, TAG(K_WAIT, i, k->gen));
    k->wait_on = true;
}

/* ---- the SSH-backed TerminalSession ---- */
static uint8_t term_buf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
static uint8_t reply_buf[4096 + 256] __attribute__((aligned(8)));
static struct rt_incoming tin;

static void post_term_recv(void)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = term_owner, .result_addr = (uint64_t)term_buf,
                         .result_len = sizeof term_buf };
    rt_ring_submit_tagged(&s, TAG(K_TERM, 0, 0));
}

static struct conn *conn_of_badge(uint64_t badge)
{
    uint32_t i = badge & 0xffff;
    return i < MAXCONN && conns[i].used && conns[i].gen == (uint16_t)(badge >> 16) && !conns[i].done ? &conns[i] : 0;
}

/* Answer a waiting readKeys with what has been typed (at least one byte). */
static void keys_answer(struct conn *k, bool fail)
{
    if (!k->keys_wait || (!fail && k->keys_len == 0))
        return;
    k->keys_wait = false;
    if (fail) {
        rt_return(term_owner, k->keys_call, 0, 0, 0, 0, true);
        return;
    }
    uint32_t n = k->keys_len < k->keys_max ? k->keys_len : k->keys_max;
    capnp_builder b;
    capnp_builder_init(&b, reply_buf, sizeof reply_buf);
    capos_TerminalSession_readKeys_Results_set_data(capos_TerminalSession_readKeys_Results_init_root(&b), k->keys, n);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    rt_return(term_owner, k->keys_call, reply_buf, (uint32_t)len, 0, 0, false);
    memmove(k->keys, k->keys + n, k->keys_len - n);
    k->keys_len -= n;
    ssh_channel_ack(k->ssh, n);
}

static void tw_answer(struct conn *k, bool fail)
{
    if (!k->tw_wait || (!fail && k->tw_len))
        return;
    k->tw_wait = false;
    if (fail) {
        rt_return(term_owner, k->tw_call, 0, 0, 0, 0, true);
        return;
    }
    capnp_builder b;
    capnp_builder_init(&b, reply_buf, sizeof reply_buf);
    capos_TerminalSession_write_Results_init_root(&b);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    rt_return(term_owner, k->tw_call, reply_buf, (uint32_t)len, 0, 0, false);
}

static void tw_flush(struct conn *k)
{
    while (k->tw_len) {
        size_t n = ssh_channel_write(k->ssh, k->tw, k->tw_len);
        if (!n)
            break;
        memmove(k->tw, k->tw + n, k->tw_len - n);
        k->tw_len -= (uint32_t)n;
    }
}

static int t_write(void *self, capos_TerminalSession_write_Params_reader p, capos_TerminalSession_write_Results_builder r)
{
    struct rt_incoming *in = self;
    struct conn *k = conn_of_badge(in->hdr->badge);
    if (!k)
        return CAP_ERR_DISCONNECTED;
    capnp_data d = capos_TerminalSession_write_Params_get_data(p);
    if (d.len > TWBUF || k->tw_wait)
        return CAP_ERR_INVALID_ARGUMENT;
    /* the shell writes for a raw terminal (CR LF itself): bytes pass as they are */
    if (d.len > TWBUF - k->tw_len)
        tw_flush(k);
    if (d.len > TWBUF - k->tw_len)
        return CAP_ERR_OVERLOADED;       /* never with one write in flight at a time */
    memcpy(k->tw + k->tw_len, d.ptr, d.len);
    k->tw_len += d.len;
    tw_flush(k);
    if (k->tw_len) {
        k->tw_wait = true;               /* answered once the channel took it all */
        k->tw_call = in->hdr->call_id;
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
    struct conn *k = conn_of_badge(in->hdr->badge);
    if (!k)
        return CAP_ERR_DISCONNECTED;
    if (k->keys_wait)
        return CAP_ERR_INVALID_ARGUMENT; /* one read at a time */
    uint32_t max = capos_TerminalSession_readKeys_Params_get_maxBytes(p);
    k->keys_wait = true;
    k->keys_call = in->hdr->call_id;
    k->keys_max = max ? (max < 4096 ? max : 4096) : 1;
    in->deferred = true;
    keys_answer(k, false);               /* keys already typed: answer now (a RETURN of our own) */
    return CAPNP_OK;
}

static int t_size(void *self, capos_TerminalSession_size_Params_reader p, capos_TerminalSession_size_Results_builder r)
{
    struct rt_incoming *in = self;
    struct conn *k = conn_of_badge(in->hdr->badge);
    if (!k)
        return CAP_ERR_DISCONNECTED;
    capos_TerminalSession_size_Results_set_columns(r, k->cols);
    capos_TerminalSession_size_Results_set_rows(r, k->rows);
    return CAPNP_OK;
}

static const capos_TerminalSession_server term_server = { .write = t_write, .readLine = t_readline,
                                                          .readKeys = t_readkeys, .size = t_size };

/* ---- sessions ---- */
static void start_shell(struct conn *k, uint32_t i)
{
    int64_t f = rt_endpoint_facet(term_owner, (uint64_t)k->gen << 16 | i);
    if (f < 0 || k->session == ~0u) {
        ssh_channel_exit(k->ssh, 1);
        return;
    }
    k->term = (uint32_t)f;
    RT_BUFS(b, 256, 256);
    capnp_client cl = RT_CLIENT(launcher);
    capnp_call call;
    capos_RestrictedShellLauncher_launchShell_Params_builder p = capos_RestrictedShellLauncher_launchShell_start(&call, &cl, &b);
    capos_RestrictedShellLauncher_launchShell_Params_set_context(p, capnp_add_cap(p.s, k->context));
    capos_RestrictedShellLauncher_launchShell_Params_set_terminal(p, capnp_add_cap(p.s, k->term));
    capos_RestrictedShellLauncher_launchShell_Params_set_session(p, capnp_add_cap(p.s, k->session));
    capos_RestrictedShellLauncher_launchShell_Results_reader r;
    int e = rt_error(capos_RestrictedShellLauncher_launchShell_send(&call, &r));
    if (e || call.result_ncaps != 1) {
        printf("ssh-gateway: conn %u: the shell did not start (%d)\n", k->id, e);
        audit_rec("ssh-shell", "shell-failed");
        ssh_channel_exit(k->ssh, 1);
        return;
    }
    k->shell = b.result_caps[0];
    k->shell_started = true;
    RT_BUFS(wb, 128, 64);
    capnp_client sc = RT_CLIENT(k->session);
    capnp_call wc;
    capos_UserSession_watch_Params_builder wp = capos_UserSession_watch_start(&wc, &sc, &wb);
    capos_UserSession_watch_Params_set_shell(wp, capnp_add_cap(wp.s, k->shell));
    capos_UserSession_watch_Results_reader wr;
    capos_UserSession_watch_send(&wc, &wr);
    post_wait(k, i);
    printf("ssh-gateway: conn %u: shell started for %s\n", k->id, k->user);
}

/* Everything minted for the connection goes: the shell, the session, the
 * terminal facet, the socket. */
static void teardown(struct conn *k, uint32_t i, const char *why)
{
    if (k->done)
        return;
    k->done = true;
    keys_answer(k, true);
    tw_answer(k, true);
    if (k->shell != ~0u) {
        RT_BUFS(b, 64, 64);
        capnp_client cl = RT_CLIENT(k->shell);
        capnp_call call;
        capos_ProcessHandle_kill_Results_reader r;
        capos_ProcessHandle_kill(&cl, &b, &call, &r);
    }
    if (k->session != ~0u) {
        RT_BUFS(b, 128, 64);
        capnp_client cl = RT_CLIENT(k->session);
        capnp_call call;
        capos_UserSession_logout_Results_reader r;
        capos_UserSession_logout(&cl, &b, &call, why, strlen(why), &r);
        rt_release(k->session);
        k->session = ~0u;
    }
    if (k->context != ~0u)
        rt_release(k->context);
    if (k->term != ~0u)
        rt_release(k->term);
    k->context = k->term = ~0u;
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(k->sock);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, k->peer_gone, &r);
    printf("ssh-gateway: conn %u: closed (%s)\n", k->id, why);
}

/* Free the slot once no call of ours is in flight for it. */
static void reap(struct conn *k)
{
    if (!k->done || k->recv_on || k->send_on || k->wait_on)
        return;
    if (k->shell != ~0u)
        rt_release(k->shell);
    rt_release(k->sock);
    ssh_conn_wipe(k->ssh);
    free(k->ssh);
    k->ssh = 0;
    k->used = false;
    k->gen++;
}

static void handle(struct conn *k, uint32_t i, const struct ssh_event *ev)
{
    switch (ev->type) {
    case SSH_EV_AUTH_SUCCESS:
        k->authed = true;
        printf("ssh-gateway: conn %u: login %s (publickey)\n", k->id, k->user);
        break;
    case SSH_EV_AUTH_FAILURE:
        if (ev->reason != SSH_R_AUTH_NONE)
            audit_rec("ssh-auth-failure", ssh_reason_name(ev->reason));
        printf("ssh-gateway: conn %u: auth failure %s\n", k->id, ssh_reason_name(ev->reason));
        break;
    case SSH_EV_DENIED:
        audit_rec("ssh-denied", ssh_reason_name(ev->reason));
        printf("ssh-gateway: conn %u: denied %s\n", k->id, ssh_reason_name(ev->reason));
        break;
    case SSH_EV_PTY:
    case SSH_EV_WINDOW_CHANGE:
        k->cols = ev->cols > 0 && ev->cols < 1000 ? (uint16_t)ev->cols : 80;
        k->rows = ev->rows > 0 && ev->rows < 1000 ? (uint16_t)ev->rows : 24;
        if (ev->type == SSH_EV_WINDOW_CHANGE)
            printf("ssh-gateway: conn %u: window %ux%u\n", k->id, k->cols, k->rows);
        break;
    case SSH_EV_SHELL:
        if (!k->shell_started)
            start_shell(k, i);
        break;
    case SSH_EV_DATA: {
        uint32_t n = ev->len < KEYBUF - k->keys_len ? (uint32_t)ev->len : KEYBUF - k->keys_len;
        memcpy(k->keys + k->keys_len, ev->data, n);
        k->keys_len += n;
        if (n < ev->len)
            ssh_channel_ack(k->ssh, ev->len - n);    /* over the terminal's buffer: dropped */
        break;
    }
    case SSH_EV_EOF:
        if (k->keys_len < KEYBUF)
            k->keys[k->keys_len++] = 4;              /* end of input: Ctrl-D */
        break;
    case SSH_EV_CHANNEL_CLOSED:
        ssh_disconnect(k->ssh, SSH_R_APP_DISCONNECT);
        break;
    case SSH_EV_DISCONNECT:
        printf("ssh-gateway: conn %u: disconnect %s\n", k->id, ssh_reason_name(ev->reason));
        if (ev->reason != SSH_R_PEER_DISCONNECT && ev->reason != SSH_R_APP_DISCONNECT)
            audit_rec("ssh-disconnect", ssh_reason_name(ev->reason));
        break;
    default:
        break;
    }
}

static void pump(struct conn *k, uint32_t i)
{
    if (!k->used || k->done) {
        if (k->used)
            reap(k);
        return;
    }
    ssh_tick(k->ssh, now_ms());
    struct ssh_event ev;
    while (ssh_poll_event(k->ssh, &ev))
        handle(k, i, &ev);
    keys_answer(k, false);
    tw_flush(k);
    tw_answer(k, false);
    post_send(k, i);
    post_recv(k, i);
    if ((ssh_is_closed(k->ssh) && !k->send_on) || (k->peer_gone && !k->send_on))
        teardown(k, i, k->peer_gone ? "peer-gone" : "ssh-closed");
    reap(k);
}

static uint8_t ares[256] __attribute__((aligned(8))), ap[64] __attribute__((aligned(8)));

static void accept_post(void)
{
    capnp_builder b;
    capnp_builder_init(&b, ap, sizeof ap);
    capos_TcpListener_accept_Params_init_root(&b);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = listener, .interface_id = capos_TcpListener_ID,
                         .method_id = capos_TcpListener_METHOD_accept, .addr = (uint64_t)ap, .len = (uint32_t)len,
                         .result_addr = (uint64_t)ares, .result_len = sizeof ares };
    rt_ring_submit_tagged(&s, TAG(K_ACCEPT, 0, 0));
}

static void refuse(uint32_t sock, uint32_t peer, const char *why)
{
    printf("ssh-gateway: refused a connection from %u.%u.%u.%u: %s\n", peer >> 24, (peer >> 16) & 255,
           (peer >> 8) & 255, peer & 255, why);
    audit_rec("ssh-connection-refused", why);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(sock);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, true, &r);
    rt_release(sock);
}

/* The reason to turn a new connection from peer away, or 0. */
static const char *admission(uint32_t peer)
{
    uint32_t unauth = 0, mine = 0;
    for (uint32_t i = 0; i < MAXCONN; i++)
        if (conns[i].used && !conns[i].done && !conns[i].authed) {
            unauth++;
            mine += conns[i].peer == peer;
        }
    if (mine >= per_source)
        return "per-source-limit";
    if (unauth >= ms_full)
        return "max-startups";
    if (unauth >= ms_start) {
        uint32_t p = ms_rate + (100 - ms_rate) * (unauth - ms_start) / (ms_full - ms_start);
        if (randombytes_uniform(100) < p)
            return "max-startups";
    }
    return 0;
}

static void accepted(const struct cap_cqe *c)
{
    if (c->result < 0 || c->xfer_result_count < 1) {
        printf("ssh-gateway: accept failed (%d)\n", c->result);
        return;
    }
    const struct cap_result_cap *rc = (const void *)(ares + (((size_t)c->result + 7) & ~(size_t)7));
    for (uint32_t j = 1; j < c->xfer_result_count; j++)
        rt_release(rc[j].cap_id);
    uint32_t sock = rc[0].cap_id;
    uint32_t peer = 0;
    {
        RT_BUFS(b, 64, 64);
        capnp_client cl = RT_CLIENT(sock);
        capnp_call call;
        capos_TcpSocket_peer_Results_reader r;
        if (!capos_TcpSocket_peer(&cl, &b, &call, &r))
            peer = capos_TcpSocket_peer_Results_get_address(r);
    }
    const char *why = admission(peer);
    if (why) {
        refuse(sock, peer, why);
        return;
    }
    uint32_t i = 0;
    while (i < MAXCONN && conns[i].used)
        i++;
    struct ssh_conn *sc = i < MAXCONN ? malloc(sizeof *sc) : 0;
    if (!sc) {
        refuse(sock, peer, "too-many-connections");
        return;
    }
    struct conn *k = &conns[i];
    uint16_t gen = k->gen;
    memset(k, 0, sizeof *k);
    k->gen = gen;
    k->used = true;
    k->sock = sock;
    k->ssh = sc;
    k->session = k->context = k->shell = k->term = ~0u;
    k->cols = 80, k->rows = 24;
    k->id = ++next_id;
    k->peer = peer;
    struct ssh_server_config cfg = { .software = "capOS_ssh-gateway", .sign = cb_sign, .authorize = cb_authorize,
                                     .random = cb_random, .ctx = k, .login_grace_ms = grace_s * 1000u };
    memcpy(cfg.host_public, host_pub, 32);
    if (ssh_server_init(sc, &cfg, now_ms())) {
        k->done = true;
        return;
    }
    printf("ssh-gateway: conn %u: accepted\n", k->id);
}

int main(void)
{
    uint32_t auth = rt_capset_require("listen");
    hostkey = rt_capset_require("hostkey");
    manager = rt_capset_require("manager");
    launcher = rt_capset_require("launcher");
    audit = rt_capset_require("audit");
    uint32_t endpoints = rt_capset_require("endpoints");
    const char *pa = strstr(rt_capset->args, "profile=");
    if (pa) {
        size_t n = 0;
        pa += 8;
        while (pa[n] && pa[n] != ' ' && n < sizeof profile - 1)
            n++;
        memcpy(profile, pa, n);
        profile[n] = 0;
    }
    const char *a = rt_capset->args;
    if ((pa = strstr(a, "maxstartups="))) {
        uint32_t x = 0, y = 0, z = 0;
        const char *q = pa + 12;
        while (*q >= '0' && *q <= '9') x = x * 10 + (uint32_t)(*q++ - '0');
        if (*q == ':') { q++; while (*q >= '0' && *q <= '9') y = y * 10 + (uint32_t)(*q++ - '0'); }
        if (*q == ':') { q++; while (*q >= '0' && *q <= '9') z = z * 10 + (uint32_t)(*q++ - '0'); }
        if (x > 0 && y <= 100 && z > x) ms_start = x, ms_rate = y, ms_full = z;
    }
    if ((pa = strstr(a, "persource="))) {
        uint32_t x = 0;
        for (const char *q = pa + 10; *q >= '0' && *q <= '9'; q++) x = x * 10 + (uint32_t)(*q - '0');
        if (x > 0) per_source = x;
    }
    if ((pa = strstr(a, "grace="))) {
        uint32_t x = 0;
        for (const char *q = pa + 6; *q >= '0' && *q <= '9' && x < 100000; q++) x = x * 10 + (uint32_t)(*q - '0');
        if (x > 0) grace_s = x;
    }
    if (sodium_init() < 0) {
        printf("ssh-gateway: no entropy\n");
        return 2;
    }
    {
        RT_BUFS(b, 64, 256);
        capnp_client cl = RT_CLIENT(hostkey);
        capnp_call call;
        capos_SshHostKey_publicKey_Results_reader r;
        if (capos_SshHostKey_publicKey(&cl, &b, &call, &r)) {
            printf("ssh-gateway: the host key service does not answer\n");
            return 2;
        }
        capnp_data d = capos_SshHostKey_publicKey_Results_get_key(r);
        if (d.len != 32)
            return 2;
        memcpy(host_pub, d.ptr, 32);
    }
    uint32_t term_client;
    if (rt_endpoint_create(endpoints, capos_TerminalSession_ID, 0, &term_owner, &term_client)) {
        printf("ssh-gateway: cannot make the terminal endpoint\n");
        return 2;
    }
    rt_release(endpoints);
    rt_release(term_client);    /* shells get facets of the owner, one per connection */
    RT_BUFS(pb, 64, 256);
    capnp_client pc = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_port_Results_reader pr;
    if (capos_TcpListenAuthority_port(&pc, &pb, &call, &pr)) {
        printf("ssh-gateway: the listen authority does not answer\n");
        return 2;
    }
    uint16_t port = capos_TcpListenAuthority_port_Results_get_port(pr);
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, port, 16, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("ssh-gateway: cannot listen on port %u\n", port);
        return 2;
    }
    listener = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    printf("ssh-gateway: serving SSH on port %u (profile %s, maxstartups %u:%u:%u, persource %u, grace %us)\n", port,
           profile, ms_start, ms_rate, ms_full, per_source, grace_s);
    accept_post();
    post_term_recv();
    for (;;) {
        uint64_t dl = UINT64_MAX, now = now_ms();
        for (uint32_t i = 0; i < MAXCONN; i++)
            if (conns[i].used && !conns[i].done) {
                uint64_t d = ssh_deadline(conns[i].ssh);
                if (d < dl)
                    dl = d;
            }
        uint64_t timeout = dl == UINT64_MAX ? CAP_TIMEOUT_FOREVER : (dl > now ? (dl - now) * 1000000 : 0) + 1000000;
        struct cap_cqe c;
        if (rt_ring_next(&c, timeout)) {
            int kind = TAG_K(c.user_data);
            uint32_t i = TAG_I(c.user_data);
            struct conn *k = i < MAXCONN ? &conns[i] : 0;
            bool mine = k && k->used && k->gen == TAG_G(c.user_data);
            if (kind == K_ACCEPT) {
                accepted(&c);
                accept_post();
            } else if (kind == K_TERM) {
                if (c.result != CAP_ERR_DISCONNECTED) {
                    tin.ncaps = 0;
                    rt_serve_delivered(term_owner, &c, capos_TerminalSession_dispatch_any, &term_server, &tin,
                                       term_buf, &tin);
                    for (uint32_t j = 0; j < tin.ncaps; j++)
                        if (tin.caps[j] != ~0u)
                            rt_release(tin.caps[j]);
                }
                post_term_recv();
            } else if (kind == K_RECV && mine) {
                k->recv_on = false;
                capnp_msg m;
                if (c.result < 0 || capnp_msg_init(&m, k->rres, (size_t)c.result) != CAPNP_OK) {
                    k->peer_gone = true;
                } else {
                    capos_TcpSocket_recv_Results_reader rr = capos_TcpSocket_recv_Results_read_root(&m);
                    capnp_data d = capos_TcpSocket_recv_Results_get_data(rr);
                    if (d.len && !k->done)
                        ssh_feed(k->ssh, d.ptr, d.len);
                    if (capos_TcpSocket_recv_Results_get_error(rr) ||
                        (capos_TcpSocket_recv_Results_get_eof(rr) && !d.len))
                        k->peer_gone = true;
                }
            } else if (kind == K_SEND && mine) {
                k->send_on = false;
                capnp_msg m;
                if (c.result < 0 || capnp_msg_init(&m, k->sres, (size_t)c.result) != CAPNP_OK) {
                    k->peer_gone = true;
                } else {
                    capos_TcpSocket_send_Results_reader sr = capos_TcpSocket_send_Results_read_root(&m);
                    uint32_t sent = capos_TcpSocket_send_Results_get_sent(sr);
                    if (capos_TcpSocket_send_Results_get_error(sr) || !sent)
                        k->peer_gone = true;
                    else if (!k->done)
                        ssh_output_consume(k->ssh, sent);
                }
            } else if (kind == K_WAIT && mine) {
                k->wait_on = false;
                int64_t code = 0;
                capnp_msg m;
                if (c.result >= 0 && capnp_msg_init(&m, k->wres, (size_t)c.result) == CAPNP_OK)
                    code = capos_ProcessHandle_wait_Results_get_exitCode(capos_ProcessHandle_wait_Results_read_root(&m));
                printf("ssh-gateway: conn %u: shell exited (%ld)\n", k->id, (long)code);
                rt_release(k->shell);
                k->shell = ~0u;
                if (!k->done) {
                    tw_flush(k);
                    ssh_channel_exit(k->ssh, (uint32_t)code);
                }
            }
        }
        for (uint32_t i = 0; i < MAXCONN; i++)
            pump(&conns[i], i);
    }
}
