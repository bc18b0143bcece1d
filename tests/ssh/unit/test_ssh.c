/* Host-side unit tests for lib/ssh: the library runs in memory against the
 * test client (sshc), and every layer is exercised, including hostile input. */
#include "sshc.h"
#include <stdio.h>
#include <stdlib.h>

static int passed, failed;
#define CHECK(cond) do { if (cond) passed++; else { failed++; \
    fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

/* ---- server side of the in-memory pair ---- */
struct pair {
    struct ssh_conn srv;
    struct sshc cli;
    uint8_t c2s[1 << 20]; size_t c2s_len;
    struct { enum ssh_event_type t; enum ssh_reason r; uint64_t v; } ev[256];
    int nev;
    uint8_t got_data[1 << 16]; size_t got_data_len;
    int echo;           /* echo channel data back */
    int no_ack;         /* don't ack channel data */
    int no_drain;       /* don't move server output to the client */
    uint64_t now;
    int bytewise;
};

static uint8_t host_sk[64], host_pk[32], user_sk[64], user_pk[32], other_sk[64], other_pk[32];
static int sign_fail;

static int cb_sign(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64])
{
    (void)ctx;
    if (sign_fail) return -1;
    crypto_sign_detached(sig, NULL, m, n, host_sk);
    return 0;
}
/* what the last authorize call saw of the proof (RFC 4252 7 signed data) */
static struct { int calls_login, proof_ok, query_null; uint8_t signed_data[512]; size_t signed_len; } seen;
static int cb_authorize(void *ctx, enum ssh_auth_phase ph, const char *user, size_t ul, const uint8_t pub[32],
                        const struct ssh_auth_proof *proof)
{
    struct ssh_conn *c = ctx ? &((struct pair *)ctx)->srv : NULL;
    if (ph == SSH_AUTH_QUERY) {
        seen.query_null = proof == NULL;
    } else {
        seen.calls_login++;
        /* the proof verifies on its own, begins with string session_id and
         * ends with the key blob, then nothing */
        seen.proof_ok = proof && proof->signature && proof->signed_len > 4 + 32 + 51 &&
                        proof->signed_len <= sizeof seen.signed_data &&
                        crypto_sign_verify_detached(proof->signature, proof->signed_data, proof->signed_len, pub) == 0 &&
                        memcmp(proof->signed_data, "\0\0\0\x20", 4) == 0 &&
                        (!c || memcmp(proof->signed_data + 4, c->session_id, 32) == 0) &&
                        proof->signed_data[36] == 50 /* SSH_MSG_USERAUTH_REQUEST */ &&
                        memcmp(proof->signed_data + proof->signed_len - 32, pub, 32) == 0;
        if (proof && proof->signed_len <= sizeof seen.signed_data) {
            memcpy(seen.signed_data, proof->signed_data, proof->signed_len);
            seen.signed_len = proof->signed_len;
        }
    }
    return ul == 5 && memcmp(user, "alice", 5) == 0 && memcmp(pub, user_pk, 32) == 0;
}
static void cb_random(void *ctx, uint8_t *p, size_t n) { (void)ctx; randombytes_buf(p, n); }

static void pump(struct pair *P)
{
    size_t off = 0;
    for (;;) {
        size_t before = off;
        if (off < P->c2s_len)
            off += ssh_feed(&P->srv, P->c2s + off, P->bytewise ? 1 : P->c2s_len - off);
        struct ssh_event e;
        int progress = 0;
        while (ssh_poll_event(&P->srv, &e)) {
            progress = 1;
            if (P->nev < 256) {
                P->ev[P->nev].t = e.type;
                P->ev[P->nev].r = e.reason;
                P->ev[P->nev].v = e.value;
                P->nev++;
            }
            if (e.type == SSH_EV_DATA) {
                if (P->got_data_len + e.len <= sizeof P->got_data) {
                    memcpy(P->got_data + P->got_data_len, e.data, e.len);
                    P->got_data_len += e.len;
                }
                if (P->echo) ssh_channel_write(&P->srv, e.data, e.len);
                if (!P->no_ack) ssh_channel_ack(&P->srv, e.len);
            }
        }
        if (off == before && !progress) break;
    }
    memmove(P->c2s, P->c2s + off, P->c2s_len - off);
    P->c2s_len -= off;
}

static int t_xmit(void *ctx, const uint8_t *p, size_t n)
{
    struct pair *P = ctx;
    if (n > sizeof P->c2s - P->c2s_len) return -1;
    memcpy(P->c2s + P->c2s_len, p, n);
    P->c2s_len += n;
    pump(P);
    return 0;
}

static size_t t_recv(void *ctx, uint8_t *p, size_t n)
{
    struct pair *P = ctx;
    for (int i = 0; i < 4; i++) {
        const uint8_t *o;
        size_t have = ssh_output(&P->srv, &o);
        if (have && !P->no_drain) {
            if (have > n) have = n;
            memcpy(p, o, have);
            ssh_output_consume(&P->srv, have);
            pump(P);
            return have;
        }
        pump(P);
    }
    return 0;
}

static struct pair *pair_new(const struct ssh_server_config *over)
{
    struct pair *P = calloc(1, sizeof *P);
    struct ssh_server_config cfg = { 0 };
    if (over) cfg = *over;
    cfg.software = "capOS_test";
    memcpy(cfg.host_public, host_pk, 32);
    cfg.sign = cb_sign;
    cfg.authorize = cb_authorize;
    cfg.random = cb_random;
    cfg.ctx = P;
    P->now = 1000;
    ssh_server_init(&P->srv, &cfg, P->now);
    P->cli.xmit = t_xmit;
    P->cli.recv = t_recv;
    P->cli.ctx = P;
    return P;
}

static int has_event(struct pair *P, enum ssh_event_type t, enum ssh_reason r)
{
    for (int i = 0; i < P->nev; i++)
        if (P->ev[i].t == t && (r == SSH_R_NONE || P->ev[i].r == r)) return 1;
    return 0;
}
static enum ssh_reason disc_reason(struct pair *P)
{
    for (int i = 0; i < P->nev; i++)
        if (P->ev[i].t == SSH_EV_DISCONNECT) return P->ev[i].r;
    return SSH_R_NONE;
}

/* logged-in pair with an open session */
static struct pair *session_pair(const struct ssh_server_config *over)
{
    struct pair *P = pair_new(over);
    sshc_init(&P->cli);
    if (sshc_login(&P->cli, "alice", user_sk) != 0) return P;
    sshc_open_session(&P->cli);
    return P;
}

/* ---------------------------------------------------------------- tests */

static void test_login_shell(void)
{
    struct pair *P = pair_new(NULL);
    P->echo = 1;
    sshc_init(&P->cli);
    CHECK(sshc_handshake(&P->cli) == 0);
    CHECK(strncmp(P->cli.v_s, "SSH-2.0-capOS_test", 18) == 0);
    CHECK(memcmp(P->cli.host_pub, host_pk, 32) == 0);
    CHECK(P->srv.strict == 1);
    CHECK(has_event(P, SSH_EV_CLIENT_VERSION, 0));
    CHECK(has_event(P, SSH_EV_KEX_DONE, 0));
    CHECK(sshc_service(&P->cli) == 0);
    CHECK(P->cli.got_ext_info == 1);
    seen.query_null = 0;
    CHECK(sshc_auth_query(&P->cli, "alice", user_pk) == 0);
    CHECK(seen.query_null == 1);
    seen.calls_login = seen.proof_ok = 0;
    CHECK(sshc_auth_sign(&P->cli, "alice", user_sk) == 0);
    CHECK(has_event(P, SSH_EV_AUTH_SUCCESS, 0));
    CHECK(seen.calls_login == 1 && seen.proof_ok == 1);
    CHECK(sshc_open_session(&P->cli) == 0);
    CHECK(has_event(P, SSH_EV_SESSION_OPEN, 0));
    uint8_t pty[128];
    struct ssh_wr w;
    wr_init(&w, pty, sizeof pty);
    wr_cstr(&w, "xterm");
    wr_u32(&w, 80); wr_u32(&w, 24); wr_u32(&w, 0); wr_u32(&w, 0);
    wr_cstr(&w, "");
    CHECK(sshc_chan_request(&P->cli, "pty-req", pty, wr_len(&w)) == 1);
    CHECK(has_event(P, SSH_EV_PTY, 0));
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    CHECK(has_event(P, SSH_EV_SHELL, 0));
    CHECK(sshc_chan_data(&P->cli, "hello\n", 6) == 0);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_DATA);
    CHECK(P->cli.last_len == 9 + 6 && memcmp(P->cli.last + 9, "hello\n", 6) == 0);
    /* window-change: no reply */
    uint8_t wc[16];
    put_be32(wc, 100); put_be32(wc + 4, 40); put_be32(wc + 8, 0); put_be32(wc + 12, 0);
    {
        uint8_t buf[64];
        wr_init(&w, buf, sizeof buf);
        wr_u8(&w, SSH_MSG_CHANNEL_REQUEST); wr_u32(&w, P->cli.chan_remote);
        wr_cstr(&w, "window-change"); wr_u8(&w, 0); wr_raw(&w, wc, 16);
        sshc_send(&P->cli, buf, wr_len(&w));
    }
    CHECK(has_event(P, SSH_EV_WINDOW_CHANGE, 0));
    /* exit */
    ssh_channel_exit(&P->srv, 3);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_REQUEST);
    CHECK(P->cli.last_len == 1 + 4 + 4 + 11 + 1 + 4 && be32(P->cli.last + 21) == 3);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_EOF);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_CLOSE);
    uint8_t cl[5] = { SSH_MSG_CHANNEL_CLOSE };
    put_be32(cl + 1, P->cli.chan_remote);
    sshc_send(&P->cli, cl, 5);
    CHECK(has_event(P, SSH_EV_CHANNEL_CLOSED, 0));
    uint8_t d[32];
    wr_init(&w, d, sizeof d);
    wr_u8(&w, SSH_MSG_DISCONNECT); wr_u32(&w, 11); wr_cstr(&w, "bye"); wr_cstr(&w, "");
    sshc_send(&P->cli, d, wr_len(&w));
    CHECK(disc_reason(P) == SSH_R_PEER_DISCONNECT);
    CHECK(ssh_is_closed(&P->srv));
    free(P);
}

static void test_variants(void)
{
    /* non-strict client with the libssh.org alias and no ext-info */
    struct pair *P = pair_new(NULL);
    P->cli.kex_list = "sntrup761x25519-sha512@openssh.com,curve25519-sha256@libssh.org";
    sshc_init(&P->cli);
    CHECK(sshc_login(&P->cli, "alice", user_sk) == 0);
    CHECK(P->srv.strict == 0);
    CHECK(P->cli.got_ext_info == 0);
    free(P);
    /* first_kex_packet_follows with a wrong guess: the guessed packet is ignored */
    P = pair_new(NULL);
    sshc_init(&P->cli);
    {
        const char *l = "SSH-2.0-x\r\n";
        sshc_send_raw(&P->cli, l, strlen(l));
        uint8_t k[512];
        struct ssh_wr w;
        wr_init(&w, k, sizeof k);
        wr_u8(&w, SSH_MSG_KEXINIT); wr_raw(&w, "0123456789abcdef", 16);
        wr_cstr(&w, "ecdh-sha2-nistp256,curve25519-sha256"); wr_cstr(&w, "ssh-ed25519");
        wr_cstr(&w, "chacha20-poly1305@openssh.com"); wr_cstr(&w, "chacha20-poly1305@openssh.com");
        wr_cstr(&w, "hmac-sha2-256"); wr_cstr(&w, "hmac-sha2-256"); wr_cstr(&w, "none"); wr_cstr(&w, "none");
        wr_cstr(&w, ""); wr_cstr(&w, ""); wr_u8(&w, 1); wr_u32(&w, 0);
        sshc_send(&P->cli, k, wr_len(&w));
        CHECK(P->srv.kex_ignore_next == 1);
        uint8_t g[40] = { SSH_MSG_KEX_ECDH_INIT, 0, 0, 0, 3, 1, 2, 3 };
        sshc_send(&P->cli, g, 8);
        CHECK(P->srv.kex_ignore_next == 0 && !P->srv.closed);
    }
    free(P);
}

static void test_gcm(void)
{
    if (!crypto_aead_aes256gcm_is_available()) { printf("aes256-gcm: no AES-NI, skipped\n"); return; }
    struct pair *P = pair_new(NULL);
    P->echo = 1;
    P->cli.cipher_list = "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";
    sshc_init(&P->cli);
    CHECK(sshc_login(&P->cli, "alice", user_sk) == 0);
    CHECK(P->srv.alg_c2s == SSH_CIPHER_AES256_GCM && P->srv.alg_s2c == SSH_CIPHER_AES256_GCM);
    CHECK(sshc_open_session(&P->cli) == 0);
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    static uint8_t big[30000];
    for (int i = 0; i < 3; i++) {
        memset(big, 'a' + i, sizeof big);
        CHECK(sshc_chan_data(&P->cli, big, sizeof big) == 0);
        CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_DATA && P->cli.last[9 + 100] == 'a' + i);
        CHECK(sshc_rekey(&P->cli) == 0);
    }
    CHECK(P->srv.kex_count == 4 && !P->srv.closed);
    /* a flipped tag bit ends it */
    uint8_t pkt[64] = { 0, 0, 0, 16, 10, SSH_MSG_IGNORE, 0, 0, 0, 0 };
    ssh_cipher_seal(&P->cli.k_out, P->cli.seq_out, pkt, 16);
    pkt[4 + 16] ^= 1;
    sshc_send_raw(&P->cli, pkt, 4 + 16 + 16);
    CHECK(disc_reason(P) == SSH_R_PACKET_MAC);
    free(P);
}

static void test_rekey(void)
{
    struct pair *P = session_pair(NULL);
    P->echo = 1;
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    CHECK(sshc_rekey(&P->cli) == 0);
    CHECK(sshc_chan_data(&P->cli, "abc", 3) == 0);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_DATA);
    CHECK(P->srv.kex_count == 2);
    CHECK(sshc_rekey(&P->cli) == 0);
    CHECK(sshc_chan_data(&P->cli, "def", 3) == 0);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_DATA);
    CHECK(memcmp(P->cli.last + 9, "def", 3) == 0);
    CHECK(P->srv.kex_count == 3);
    free(P);

    /* server-initiated re-key after rekey_bytes */
    struct ssh_server_config cfg = { .rekey_bytes = 100000 };
    P = session_pair(&cfg);
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    static uint8_t blk[30000];
    memset(blk, 'x', sizeof blk);
    size_t sent = 0, got = 0;
    int kexes = 0;
    while (got < 400000) {
        while (sent < 400000) {
            size_t n = ssh_channel_write(&P->srv, blk, sizeof blk < 400000 - sent ? sizeof blk : 400000 - sent);
            if (!n) break;
            sent += n;
        }
        int t = sshc_recv(&P->cli);
        if (t == SSH_MSG_CHANNEL_DATA) {
            size_t n = be32(P->cli.last + 5);
            got += n;
            uint8_t adj[9] = { SSH_MSG_CHANNEL_WINDOW_ADJUST };
            put_be32(adj + 1, P->cli.chan_remote);
            put_be32(adj + 5, (uint32_t)n);
            sshc_send(&P->cli, adj, 9);
        } else if (t == SSH_MSG_KEXINIT) {
            CHECK(sshc_rekey_reply(&P->cli) == 0);
            kexes++;
        } else if (t < 0) break;
    }
    CHECK(got == 400000);
    CHECK(kexes >= 3);
    CHECK(!P->srv.closed);
    free(P);
}

/* replies to requests that arrive while our KEXINIT is outstanding wait for NEWKEYS */
static void test_deferred_replies(void)
{
    struct ssh_server_config cfg = { .rekey_bytes = 50000 };
    struct pair *P = session_pair(&cfg);
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    static uint8_t blk[20000];
    size_t sent = 0, n;
    while ((n = ssh_channel_write(&P->srv, blk, sizeof blk)) > 0) sent += n;
    CHECK(sent >= 50000 && P->srv.kex_sent_init && !P->srv.kex_sent_newkeys);
    uint8_t ex[16];
    struct ssh_wr w;
    wr_init(&w, ex, sizeof ex);
    wr_cstr(&w, "id");
    uint8_t buf[64];
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_REQUEST); wr_u32(&w, P->cli.chan_remote); wr_cstr(&w, "exec"); wr_u8(&w, 1);
    wr_cstr(&w, "id");
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(P->srv.defer_len > 0);
    ssh_channel_exit(&P->srv, 7);          /* also deferred */
    CHECK(P->srv.exit_pending == 1);
    int t, kex = 0, data = 0;
    while ((t = sshc_recv(&P->cli)) == SSH_MSG_CHANNEL_DATA) data++;
    if (t == SSH_MSG_KEXINIT) kex = sshc_rekey_reply(&P->cli) == 0;
    CHECK(data >= 2 && kex);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_FAILURE);
    CHECK(P->srv.defer_len == 0);
    /* the exit goes out once the exchange is over */
    pump(P);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_REQUEST && be32(P->cli.last + 21) == 7);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_EOF);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_CLOSE);
    CHECK(!P->srv.closed);
    free(P);
}

static void test_auth(void)
{
    struct pair *P = pair_new(NULL);
    sshc_init(&P->cli);
    CHECK(sshc_handshake(&P->cli) == 0 && sshc_service(&P->cli) == 0);
    CHECK(sshc_auth_query(&P->cli, "alice", other_pk) == 1);
    CHECK(has_event(P, SSH_EV_AUTH_FAILURE, SSH_R_AUTH_KEY_UNKNOWN));
    CHECK(sshc_auth_query(&P->cli, "bob", user_pk) == 1);
    CHECK(sshc_auth_sign(&P->cli, "alice", other_sk) == 1);  /* valid signature, unknown key */
    /* password and none */
    uint8_t buf[128];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_USERAUTH_REQUEST); wr_cstr(&w, "alice"); wr_cstr(&w, "ssh-connection");
    wr_cstr(&w, "password"); wr_u8(&w, 0); wr_cstr(&w, "secret");
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_USERAUTH_FAILURE);
    CHECK(has_event(P, SSH_EV_AUTH_FAILURE, SSH_R_AUTH_PASSWORD));
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_USERAUTH_REQUEST); wr_cstr(&w, "alice"); wr_cstr(&w, "ssh-connection");
    wr_cstr(&w, "none");
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_USERAUTH_FAILURE);
    CHECK(P->cli.last_len == 1 + 4 + 9 + 1 && memcmp(P->cli.last + 5, "publickey", 9) == 0);
    CHECK(P->srv.auth_failures == 4);
    /* bad signature (signed by the wrong key for the right public key) */
    {
        uint8_t fake[64];
        memcpy(fake, other_sk, 32);
        memcpy(fake + 32, user_pk, 32);
        CHECK(sshc_auth_sign(&P->cli, "alice", fake) == 1);
        CHECK(has_event(P, SSH_EV_AUTH_FAILURE, SSH_R_AUTH_BAD_SIGNATURE));
    }
    /* 6th failure: disconnect */
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_USERAUTH_REQUEST); wr_cstr(&w, "alice"); wr_cstr(&w, "ssh-connection");
    wr_cstr(&w, "keyboard-interactive"); wr_cstr(&w, ""); wr_cstr(&w, "");
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_DISCONNECT);
    CHECK(disc_reason(P) == SSH_R_AUTH_TOO_MANY);
    free(P);

    /* grace timeout */
    struct ssh_server_config cfg = { .login_grace_ms = 5000 };
    P = pair_new(&cfg);
    sshc_init(&P->cli);
    CHECK(sshc_handshake(&P->cli) == 0);
    CHECK(ssh_deadline(&P->srv) == 6000);
    ssh_tick(&P->srv, 7000);
    pump(P);
    CHECK(disc_reason(P) == SSH_R_AUTH_TIMEOUT);
    free(P);

    /* host key signing failure */
    sign_fail = 1;
    P = pair_new(NULL);
    sshc_init(&P->cli);
    CHECK(sshc_handshake(&P->cli) != 0);
    CHECK(disc_reason(P) == SSH_R_KEX_SIGN_FAILED);
    sign_fail = 0;
    free(P);
}

static int req_denied(struct pair *P, const char *type, const uint8_t *extra, size_t el, enum ssh_reason r)
{
    int nev = P->nev;
    int rc = sshc_chan_request(&P->cli, type, extra, el);
    int found = 0;
    for (int i = nev; i < P->nev; i++)
        if (P->ev[i].t == SSH_EV_DENIED && P->ev[i].r == r) found = 1;
    return rc == 0 && found;
}

static int open_denied(struct pair *P, const char *type, enum ssh_reason r)
{
    uint8_t buf[128];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_OPEN); wr_cstr(&w, type); wr_u32(&w, 9); wr_u32(&w, 65536); wr_u32(&w, 32768);
    if (!strcmp(type, "direct-tcpip")) { wr_cstr(&w, "127.0.0.1"); wr_u32(&w, 80); wr_cstr(&w, "127.0.0.1"); wr_u32(&w, 5555); }
    sshc_send(&P->cli, buf, wr_len(&w));
    if (sshc_recv_skip(&P->cli) != SSH_MSG_CHANNEL_OPEN_FAILURE) return 0;
    struct ssh_rd rd;
    rd_init(&rd, P->cli.last + 9, P->cli.last_len - 9);
    size_t dl;
    const uint8_t *desc = rd_str(&rd, &dl);
    return be32(P->cli.last + 1) == 9 && str_eq(desc, dl, ssh_reason_name(r)) &&
           P->ev[P->nev - 1].t == SSH_EV_DENIED && P->ev[P->nev - 1].r == r;
}

static void test_denials(void)
{
    struct pair *P = session_pair(NULL);
    uint8_t ex[64];
    struct ssh_wr w;
    wr_init(&w, ex, sizeof ex);
    wr_cstr(&w, "id");
    CHECK(req_denied(P, "exec", ex, wr_len(&w), SSH_R_DENY_EXEC));
    wr_init(&w, ex, sizeof ex);
    wr_cstr(&w, "sftp");
    CHECK(req_denied(P, "subsystem", ex, wr_len(&w), SSH_R_DENY_SUBSYSTEM));
    wr_init(&w, ex, sizeof ex);
    wr_cstr(&w, "LANG"); wr_cstr(&w, "C");
    CHECK(req_denied(P, "env", ex, wr_len(&w), SSH_R_DENY_ENV));
    wr_init(&w, ex, sizeof ex);
    wr_u8(&w, 0); wr_cstr(&w, "MIT-MAGIC-COOKIE-1"); wr_cstr(&w, "00"); wr_u32(&w, 0);
    CHECK(req_denied(P, "x11-req", ex, wr_len(&w), SSH_R_DENY_X11));
    CHECK(req_denied(P, "auth-agent-req@openssh.com", NULL, 0, SSH_R_DENY_AGENT));
    CHECK(req_denied(P, "frobnicate", NULL, 0, SSH_R_DENY_CHANNEL_REQUEST));
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    CHECK(req_denied(P, "shell", NULL, 0, SSH_R_DENY_SHELL));
    CHECK(open_denied(P, "session", SSH_R_DENY_SECOND_SESSION));
    CHECK(open_denied(P, "direct-tcpip", SSH_R_DENY_DIRECT_TCPIP));
    CHECK(open_denied(P, "x11", SSH_R_DENY_X11));
    CHECK(open_denied(P, "auth-agent@openssh.com", SSH_R_DENY_AGENT));
    CHECK(open_denied(P, "weird", SSH_R_DENY_CHANNEL_TYPE));
    /* global requests */
    uint8_t buf[128];
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_GLOBAL_REQUEST); wr_cstr(&w, "tcpip-forward"); wr_u8(&w, 1);
    wr_cstr(&w, "127.0.0.1"); wr_u32(&w, 9999);
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_REQUEST_FAILURE);
    CHECK(has_event(P, SSH_EV_DENIED, SSH_R_DENY_TCPIP_FORWARD));
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_GLOBAL_REQUEST); wr_cstr(&w, "keepalive@openssh.com"); wr_u8(&w, 1);
    sshc_send(&P->cli, buf, wr_len(&w));
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_REQUEST_FAILURE);
    CHECK(has_event(P, SSH_EV_KEEPALIVE, 0));
    /* unknown message number -> UNIMPLEMENTED with its sequence number */
    uint32_t seq = P->cli.seq_out;
    uint8_t odd[4] = { 200, 1, 2, 3 };
    sshc_send(&P->cli, odd, 4);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_UNIMPLEMENTED && be32(P->cli.last + 1) == seq);
    /* after all that the session still works */
    P->echo = 1;
    CHECK(sshc_chan_data(&P->cli, "ok", 2) == 0);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_DATA);
    CHECK(!P->srv.closed);
    free(P);
}

static void test_flow(void)
{
    struct pair *P = session_pair(NULL);
    P->no_ack = 1;
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    /* server -> client: bounded by the client's window (1 MiB) and max packet */
    static uint8_t big[1 << 21];
    size_t total = 0, n;
    while ((n = ssh_channel_write(&P->srv, big, sizeof big)) > 0) {
        CHECK(n <= 32768);
        total += n;
        const uint8_t *o;
        size_t have = ssh_output(&P->srv, &o);
        ssh_output_consume(&P->srv, have);   /* discard: window accounting only */
    }
    CHECK(total == (1u << 20));
    CHECK(ssh_channel_write(&P->srv, big, 1) == 0);
    free(P);

    /* client -> server beyond the advertised window: protocol error */
    P = session_pair(NULL);
    P->no_ack = 1;
    size_t sent = 0;
    static uint8_t chunk[32768];
    while (sent < SSH_CHAN_WINDOW && !P->srv.closed) {
        sshc_chan_data(&P->cli, chunk, sizeof chunk);
        sent += sizeof chunk;
    }
    CHECK(!P->srv.closed);
    sshc_chan_data(&P->cli, chunk, 1);
    CHECK(disc_reason(P) == SSH_R_CHANNEL_PROTOCOL);
    free(P);

    /* oversize data packet */
    P = session_pair(NULL);
    static uint8_t huge[32769];
    sshc_chan_data(&P->cli, huge, sizeof huge);
    CHECK(disc_reason(P) == SSH_R_CHANNEL_PROTOCOL);
    free(P);

    /* acked data reopens the window */
    P = session_pair(NULL);
    CHECK(sshc_chan_request(&P->cli, "shell", NULL, 0) == 1);
    P->cli.chan_window = 0;
    for (int i = 0; i < 100; i++) sshc_chan_data(&P->cli, chunk, sizeof chunk);
    CHECK(!P->srv.closed);
    CHECK(P->got_data_len == sizeof P->got_data);
    /* EOF then close from the client */
    uint8_t m[5] = { SSH_MSG_CHANNEL_EOF };
    put_be32(m + 1, P->cli.chan_remote);
    sshc_send(&P->cli, m, 5);
    CHECK(has_event(P, SSH_EV_EOF, 0));
    m[0] = SSH_MSG_CHANNEL_CLOSE;
    sshc_send(&P->cli, m, 5);
    CHECK(sshc_recv_skip(&P->cli) == SSH_MSG_CHANNEL_CLOSE);
    CHECK(has_event(P, SSH_EV_CHANNEL_CLOSED, 0));
    free(P);

    /* output back-pressure: input is not processed while output is full */
    P = session_pair(NULL);
    P->no_drain = 1;
    while (ssh_channel_write(&P->srv, big, sizeof big) > 0) {}
    int nev = P->nev;
    uint8_t gr[64];
    struct ssh_wr w;
    for (int i = 0; i < 3; i++) {
        wr_init(&w, gr, sizeof gr);
        wr_u8(&w, SSH_MSG_GLOBAL_REQUEST); wr_cstr(&w, "keepalive@openssh.com"); wr_u8(&w, 1);
        sshc_send(&P->cli, gr, wr_len(&w));
    }
    CHECK(P->nev - nev <= 1);
    P->no_drain = 0;
    free(P);
}

/* ---- hostile input straight into the server ---- */
static enum ssh_reason feed_raw(const void *d, size_t n, struct pair **keep)
{
    struct pair *P = pair_new(NULL);
    t_xmit(P, d, n);
    enum ssh_reason r = disc_reason(P);
    if (keep) *keep = P; else free(P);
    return r;
}

static void test_hostile(void)
{
    CHECK(feed_raw("GET / HTTP/1.0\r\n", 16, NULL) == SSH_R_BANNER_MALFORMED);
    CHECK(feed_raw("SSH-1.5-old\r\n", 13, NULL) == SSH_R_BANNER_VERSION);
    CHECK(feed_raw("SSH-2.0-\r\n", 10, NULL) == SSH_R_BANNER_MALFORMED);
    CHECK(feed_raw("SSH-2.0-a\x01\r\n", 12, NULL) == SSH_R_BANNER_MALFORMED);
    {
        char longb[400];
        memset(longb, 'a', sizeof longb);
        memcpy(longb, "SSH-2.0-", 8);
        CHECK(feed_raw(longb, sizeof longb, NULL) == SSH_R_BANNER_TOO_LONG);
        struct pair *P;
        CHECK(feed_raw(longb, 100, &P) == SSH_R_NONE);  /* partial: still waiting */
        free(P);
    }
    /* packet length limits */
    uint8_t pk[64] = "SSH-2.0-x\r\n";
    put_be32(pk + 11, 0x7fffffff);
    CHECK(feed_raw(pk, 15, NULL) == SSH_R_PACKET_LENGTH);
    put_be32(pk + 11, SSH_MAX_PACKET_LEN + 4);
    CHECK(feed_raw(pk, 15, NULL) == SSH_R_PACKET_LENGTH);
    put_be32(pk + 11, 13);  /* not a block multiple */
    CHECK(feed_raw(pk, 15, NULL) == SSH_R_PACKET_LENGTH);
    /* bad padding: padding_length 2 */
    put_be32(pk + 11, 12); pk[15] = 2; pk[16] = SSH_MSG_IGNORE;
    CHECK(feed_raw(pk, 11 + 16, NULL) == SSH_R_PACKET_PADDING);
    /* padding longer than the packet */
    put_be32(pk + 11, 12); pk[15] = 11;
    CHECK(feed_raw(pk, 11 + 16, NULL) == SSH_R_PACKET_PADDING);
    /* packet before KEX: SERVICE_REQUEST as the first packet */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        sshc_send_raw(&P->cli, "SSH-2.0-x\r\n", 11);
        uint8_t sr[32];
        struct ssh_wr w;
        wr_init(&w, sr, sizeof sr);
        wr_u8(&w, SSH_MSG_SERVICE_REQUEST); wr_cstr(&w, "ssh-userauth");
        sshc_send(&P->cli, sr, wr_len(&w));
        CHECK(disc_reason(P) == SSH_R_UNEXPECTED_MESSAGE);
        free(P);
    }
    /* strict KEX: IGNORE before KEXINIT */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        CHECK(sshc_banner(&P->cli) == 0);
        uint8_t ig[5] = { SSH_MSG_IGNORE, 0, 0, 0, 0 };
        sshc_send(&P->cli, ig, 5);
        CHECK(sshc_kex(&P->cli) != 0);
        CHECK(disc_reason(P) == SSH_R_KEX_STRICT);
        free(P);
    }
    /* no common cipher */
    {
        struct pair *P = pair_new(NULL);
        P->cli.cipher_list = "aes128-ctr";
        sshc_init(&P->cli);
        CHECK(sshc_handshake(&P->cli) != 0);
        CHECK(disc_reason(P) == SSH_R_KEX_NO_CIPHER);
        free(P);
        P = pair_new(NULL);
        P->cli.kex_list = "diffie-hellman-group14-sha256";
        sshc_init(&P->cli);
        CHECK(sshc_handshake(&P->cli) != 0);
        CHECK(disc_reason(P) == SSH_R_KEX_NO_KEX_ALG);
        free(P);
    }
    /* bad MAC: flip a ciphertext bit after NEWKEYS */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        CHECK(sshc_handshake(&P->cli) == 0);
        uint8_t pkt[64];
        uint8_t msg[20] = { SSH_MSG_IGNORE, 0, 0, 0, 3, 'a', 'b', 'c' };
        size_t plen = 16; /* 1 + 8 + 7 pad -> 16 */
        put_be32(pkt, (uint32_t)plen); pkt[4] = 7; memcpy(pkt + 5, msg, 8); memset(pkt + 13, 0, 7);
        ssh_cipher_seal(&P->cli.k_out, P->cli.seq_out, pkt, plen);
        pkt[10] ^= 1;
        sshc_send_raw(&P->cli, pkt, 4 + plen + 16);
        CHECK(disc_reason(P) == SSH_R_PACKET_MAC);
        free(P);
    }
    /* garbage after NEWKEYS */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        CHECK(sshc_handshake(&P->cli) == 0);
        uint8_t g[256];
        for (int i = 0; i < 256; i++) g[i] = (uint8_t)(i * 37 + 11);
        sshc_send_raw(&P->cli, g, sizeof g);
        enum ssh_reason r = disc_reason(P);
        CHECK(r == SSH_R_PACKET_LENGTH || r == SSH_R_PACKET_MAC);
        free(P);
    }
    /* KEX messages out of order */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        sshc_send_raw(&P->cli, "SSH-2.0-x\r\n", 11);
        uint8_t nk = SSH_MSG_NEWKEYS;
        sshc_send(&P->cli, &nk, 1);
        CHECK(disc_reason(P) == SSH_R_UNEXPECTED_MESSAGE);
        free(P);
    }
    /* an all-zero (low order) ECDH public */
    {
        struct pair *P = pair_new(NULL);
        sshc_init(&P->cli);
        sshc_send_raw(&P->cli, "SSH-2.0-x\r\n", 11);
        uint8_t k[512];
        struct ssh_wr w;
        wr_init(&w, k, sizeof k);
        wr_u8(&w, SSH_MSG_KEXINIT); wr_raw(&w, "0123456789abcdef", 16);
        wr_cstr(&w, "curve25519-sha256"); wr_cstr(&w, "ssh-ed25519");
        wr_cstr(&w, "chacha20-poly1305@openssh.com"); wr_cstr(&w, "chacha20-poly1305@openssh.com");
        wr_cstr(&w, ""); wr_cstr(&w, ""); wr_cstr(&w, "none"); wr_cstr(&w, "none");
        wr_cstr(&w, ""); wr_cstr(&w, ""); wr_u8(&w, 0); wr_u32(&w, 0);
        sshc_send(&P->cli, k, wr_len(&w));
        uint8_t e[37] = { SSH_MSG_KEX_ECDH_INIT, 0, 0, 0, 32 };
        sshc_send(&P->cli, e, sizeof e);
        CHECK(disc_reason(P) == SSH_R_KEX_BAD_PUBLIC);
        free(P);
    }
    /* channel message for a channel that does not exist */
    {
        struct pair *P = session_pair(NULL);
        uint8_t m[5] = { SSH_MSG_CHANNEL_EOF, 0, 0, 0, 5 };
        sshc_send(&P->cli, m, 5);
        CHECK(disc_reason(P) == SSH_R_CHANNEL_PROTOCOL);
        free(P);
    }
    /* byte-at-a-time delivery works */
    {
        struct pair *P = pair_new(NULL);
        P->bytewise = 1;
        sshc_init(&P->cli);
        CHECK(sshc_login(&P->cli, "alice", user_sk) == 0);
        free(P);
    }
}

static void test_names(void)
{
    for (int r = 0; r < SSH_R__COUNT; r++) CHECK(strcmp(ssh_reason_name((enum ssh_reason)r), "unknown") != 0);
    CHECK(strcmp(ssh_reason_name(SSH_R__COUNT), "unknown") == 0);
    CHECK(ssh_namelist_has((const uint8_t *)"a,bb,c", 6, "bb"));
    CHECK(!ssh_namelist_has((const uint8_t *)"a,bb,c", 6, "b"));
    CHECK(!ssh_namelist_has((const uint8_t *)"", 0, "a"));
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    crypto_sign_keypair(host_pk, host_sk);
    crypto_sign_keypair(user_pk, user_sk);
    crypto_sign_keypair(other_pk, other_sk);
    test_names();
    test_login_shell();
    test_variants();
    test_rekey();
    test_gcm();
    test_deferred_replies();
    test_auth();
    test_denials();
    test_flow();
    test_hostile();
    printf("lib/ssh unit tests\n%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
