/*
 * webshell-gateway: the browser door into capOS (README.md). lib/tls,
 * lib/http and lib/ws (unchanged, sans-IO) over a TcpListener made with the
 * one TcpListenAuthority it holds; logins are SessionManager.login; the
 * shell is capos-shell started through RestrictedShellLauncher on a
 * TerminalSession this process serves, fed by the page's WebSocket.
 *
 * Grants: listen (TcpListenAuthority), manager (SessionManager), launcher
 * (RestrictedShellLauncher), audit (AuditLog); and the plumbing: console
 * (its log lines), timer (deadlines), memory (the heap: one ~150 KiB
 * protocol state per connection) and endpoints (to make the terminal
 * endpoint; released once made).  No broker: what a shell may hold is the
 * launcher's business.
 * args: profile=NAME (the profile web logins ask for; default operator).
 *
 * This file: the grants, the TLS key, the listener, the event loop and the
 * bytes of each connection (socket <-> TLS <-> HTTP or WebSocket).
 * web.c answers HTTP requests; term.c keeps the sessions and the terminal
 * stream.
 */
#include <sodium.h>

#include "gateway.h"

struct conn conns[MAXCONN];
uint32_t manager, launcher, audit;
char profile[16] = "operator";
static uint32_t listener, next_id;

/* the development certificate and key, embedded at build time (assets.S) */
extern const uint8_t webshell_cert_der[], webshell_cert_der_end[];
extern const uint8_t webshell_key_der[], webshell_key_der_end[];
static uint8_t tls_key[32];
static size_t tls_key_len;

uint64_t now_ms(void)
{
    return rt_timer_now() / 1000000;
}

void audit_rec(const char *event, const char *reason)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), 0, &r);
}

/* The P-256 scalar out of the embedded key (PKCS#8 or SEC 1 DER). */
static int load_key(void)
{
    static br_skey_decoder_context dc;
    br_skey_decoder_init(&dc);
    br_skey_decoder_push(&dc, webshell_key_der, (size_t)(webshell_key_der_end - webshell_key_der));
    const br_ec_private_key *ek = br_skey_decoder_get_ec(&dc);
    int ok = !br_skey_decoder_last_error(&dc) && ek && ek->curve == BR_EC_secp256r1 && ek->xlen <= sizeof tls_key;
    if (ok) {
        memcpy(tls_key, ek->x, ek->xlen);
        tls_key_len = ek->xlen;
    }
    sodium_memzero(&dc, sizeof dc);
    return ok ? 0 : -1;
}

/* ---- socket calls ---- */
static void post_recv(struct conn *k, uint32_t i)
{
    if (k->recv_on || k->peer_gone || k->done || k->in_len)
        return;
    capnp_builder b;
    capnp_builder_init(&b, k->rp, sizeof k->rp);
    capos_TcpSocket_recv_Params_set_maxBytes(capos_TcpSocket_recv_Params_init_root(&b), IOMAX);
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
    size_t n = 0;
    const uint8_t *q = tls_net_out(&k->w->tls, &n);
    if (k->send_on || k->peer_gone || !q || n == 0)
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

/* Plaintext waiting for TLS: the response (head, then body), then the
 * WebSocket's queued frames.  Returns whether anything moved. */
static bool out_flush(struct conn *k)
{
    struct tls_conn *t = &k->w->tls;
    bool moved = false;
    if (k->hb_off < k->hb_len) {
        size_t n = tls_app_out(t, k->hb + k->hb_off, k->hb_len - k->hb_off);
        k->hb_off += (uint32_t)n;
        moved |= n > 0;
    }
    if (k->hb_off == k->hb_len && k->body && k->body_off < k->body_len) {
        size_t n = tls_app_out(t, k->body + k->body_off, k->body_len - k->body_off);
        k->body_off += (uint32_t)n;
        moved |= n > 0;
    }
    if (k->responding && k->hb_off == k->hb_len && (!k->body || k->body_off == k->body_len)) {
        k->responding = false;
        k->body = 0;
        k->hb_len = k->hb_off = 0;
        if (!k->keep)
            k->closing = true;
        else if (k->proto == P_HTTP)
            http_next(&k->w->http, now_ms());
    }
    if (k->proto == P_WS && !k->responding) {
        size_t len = 0;
        const uint8_t *q = ws_output(&k->w->ws, &len);
        if (q && len) {
            size_t n = tls_app_out(t, q, len);
            ws_output_done(&k->w->ws, n);
            moved |= n > 0;
        }
        if (ws_finished(&k->w->ws))
            k->closing = true;
    }
    return moved;
}

/* Everything of the connection goes: its terminal stream's session (a lost
 * WebSocket ends the shell and the session), the socket. */
static void conn_close(struct conn *k, const char *why)
{
    if (k->done)
        return;
    k->done = true;
    if (k->sess >= 0)
        term_conn_gone(k);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(k->sock);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, k->peer_gone, &r);
    printf("webshell-gateway: conn %u: closed (%s)\n", k->id, why);
}

/* Free the slot once no call of ours is in flight for it. */
static void reap(struct conn *k)
{
    if (!k->done || k->recv_on || k->send_on)
        return;
    rt_release(k->sock);
    sodium_memzero(k->w, sizeof *k->w);
    free(k->w);
    k->w = 0;
    k->used = false;
    k->gen++;
}

static void conn_pump(struct conn *k, uint32_t i)
{
    if (!k->used)
        return;
    if (k->done) {
        reap(k);
        return;
    }
    struct tls_conn *t = &k->w->tls;
    for (int round = 0; round < 256; round++) {      /* until nothing moves */
        bool moved = false;
        while (k->in_len) {
            size_t n = tls_net_in(t, k->in + k->in_off, k->in_len);
            if (!n)
                break;
            k->in_off += (uint32_t)n;
            k->in_len -= (uint32_t)n;
            moved = true;
        }
        if (tls_state(t) == TLS_OPEN) {
            moved |= out_flush(k);
            size_t before = 0;
            tls_app_in(t, &before);
            if (k->proto == P_HTTP)
                web_request(k, i);
            else
                term_feed(k, i);
            size_t after = 0;
            tls_app_in(t, &after);
            moved |= after != before;
            moved |= out_flush(k);
        }
        if (!moved)
            break;
    }
    if (k->closing && tls_state(t) == TLS_OPEN && k->hb_off == k->hb_len) {
        size_t len = 0;
        if (k->proto != P_WS || !ws_output(&k->w->ws, &len) || !len)
            tls_close(t);
    }
    post_send(k, i);
    post_recv(k, i);
    size_t pend = 0;
    tls_net_out(t, &pend);
    int st = tls_state(t);
    if (k->peer_gone && !k->send_on)
        conn_close(k, "peer-gone");
    else if ((st == TLS_CLOSED || st == TLS_FAILED) && !pend && !k->send_on)
        conn_close(k, st == TLS_FAILED ? "tls-failed" : "closed");
    else if (st == TLS_HANDSHAKING && now_ms() - k->since_ms > HANDSHAKE_MS)
        conn_close(k, "handshake-timeout");
    else if (k->sess < 0 && now_ms() - k->last_ms > CONN_IDLE_MS)
        conn_close(k, "idle");
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

static void refuse_sock(uint32_t sock, const char *why)
{
    printf("webshell-gateway: refused a connection: %s\n", why);
    audit_rec("web-connection-refused", why);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(sock);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, true, &r);
    rt_release(sock);
}

static void accepted(const struct cap_cqe *c)
{
    if (c->result < 0 || c->xfer_result_count < 1) {
        printf("webshell-gateway: accept failed (%d)\n", c->result);
        return;
    }
    const struct cap_result_cap *rc = (const void *)(ares + (((size_t)c->result + 7) & ~(size_t)7));
    for (uint32_t j = 1; j < c->xfer_result_count; j++)
        rt_release(rc[j].cap_id);
    uint32_t sock = rc[0].cap_id;
    uint32_t i = 0;
    while (i < MAXCONN && conns[i].used)
        i++;
    struct wire *w = i < MAXCONN ? malloc(sizeof *w) : 0;
    if (!w) {
        refuse_sock(sock, "too-many-connections");
        return;
    }
    uint8_t entropy[TLS_ENTROPY_LEN];
    randombytes_buf(entropy, sizeof entropy);
    struct tls_config cfg = { .cert_der = webshell_cert_der,
                              .cert_len = (size_t)(webshell_cert_der_end - webshell_cert_der),
                              .key = tls_key, .key_len = tls_key_len, .entropy = entropy };
    int e = tls_server_init(&w->tls, &cfg);
    sodium_memzero(entropy, sizeof entropy);
    if (e) {
        free(w);
        refuse_sock(sock, "tls-init");
        return;
    }
    struct conn *k = &conns[i];
    uint16_t gen = k->gen;
    memset(k, 0, sizeof *k);
    k->gen = gen;
    k->used = true;
    k->sock = sock;
    k->w = w;
    k->sess = -1;
    k->id = ++next_id;
    k->last_ms = k->since_ms = now_ms();
    static const struct http_config hc = { .hosts = 0, .max_body = BODYMAX, .header_timeout_ms = 10000 };
    http_init(&w->http, &hc, k->last_ms);
    printf("webshell-gateway: conn %u: accepted\n", k->id);
}

static void on_recv(struct conn *k, const struct cap_cqe *c)
{
    k->recv_on = false;
    capnp_msg m;
    if (c->result < 0 || capnp_msg_init(&m, k->rres, (size_t)c->result) != CAPNP_OK) {
        k->peer_gone = true;
        return;
    }
    capos_TcpSocket_recv_Results_reader rr = capos_TcpSocket_recv_Results_read_root(&m);
    capnp_data d = capos_TcpSocket_recv_Results_get_data(rr);
    if (d.len && !k->done && d.len <= IOMAX) {
        memcpy(k->in, d.ptr, d.len);
        k->in_off = 0;
        k->in_len = (uint32_t)d.len;
        k->last_ms = now_ms();
    }
    if (capos_TcpSocket_recv_Results_get_error(rr) || (capos_TcpSocket_recv_Results_get_eof(rr) && !d.len))
        k->peer_gone = true;
}

static void on_send(struct conn *k, const struct cap_cqe *c)
{
    k->send_on = false;
    capnp_msg m;
    if (c->result < 0 || capnp_msg_init(&m, k->sres, (size_t)c->result) != CAPNP_OK) {
        k->peer_gone = true;
        return;
    }
    capos_TcpSocket_send_Results_reader sr = capos_TcpSocket_send_Results_read_root(&m);
    uint32_t sent = capos_TcpSocket_send_Results_get_sent(sr);
    if (capos_TcpSocket_send_Results_get_error(sr) || !sent)
        k->peer_gone = true;
    else if (!k->done)
        tls_net_out_done(&k->w->tls, sent);
}

int main(void)
{
    uint32_t auth = rt_capset_require("listen");
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
    if (sodium_init() < 0) {
        printf("webshell-gateway: no entropy\n");        /* fails closed: no TLS, no cookies */
        return 2;
    }
    if (load_key()) {
        printf("webshell-gateway: the TLS key does not decode\n");
        return 2;
    }
    term_init(endpoints);
    rt_release(endpoints);
    RT_BUFS(pb, 64, 256);
    capnp_client pc = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_port_Results_reader pr;
    if (capos_TcpListenAuthority_port(&pc, &pb, &call, &pr)) {
        printf("webshell-gateway: the listen authority does not answer\n");
        return 2;
    }
    uint16_t port = capos_TcpListenAuthority_port_Results_get_port(pr);
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, port, 16, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("webshell-gateway: cannot listen on port %u\n", port);
        return 2;
    }
    listener = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    printf("webshell-gateway: serving HTTPS on port %u (profile %s; DEVELOPMENT certificate, NOT FOR PRODUCTION)\n",
           port, profile);
    accept_post();
    term_post_recv();
    for (;;) {
        struct cap_cqe c;
        if (rt_ring_next(&c, 1000000000ull)) {
            int kind = TAG_K(c.user_data);
            uint32_t i = TAG_I(c.user_data);
            struct conn *k = i < MAXCONN ? &conns[i] : 0;
            bool mine = k && k->used && k->gen == TAG_G(c.user_data);
            if (kind == K_ACCEPT) {
                accepted(&c);
                accept_post();
            } else if (kind == K_TERM) {
                term_serve(&c);
                term_post_recv();
            } else if (kind == K_RECV && mine) {
                on_recv(k, &c);
            } else if (kind == K_SEND && mine) {
                on_send(k, &c);
            } else if (kind == K_WAIT && i < MAXSESS && sess[i].gen == TAG_G(c.user_data)) {
                int64_t code = 0;
                capnp_msg m;
                if (c.result >= 0 && capnp_msg_init(&m, sess[i].wres, (size_t)c.result) == CAPNP_OK)
                    code = capos_ProcessHandle_wait_Results_get_exitCode(capos_ProcessHandle_wait_Results_read_root(&m));
                term_shell_exited(i, code);
            }
        }
        for (uint32_t s = 0; s < MAXSESS; s++)
            term_pump(s);
        for (uint32_t i = 0; i < MAXCONN; i++)
            conn_pump(&conns[i], i);
    }
}
