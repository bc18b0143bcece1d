/* libFuzzer target over lib/ssh's packet layer and state machine.
 *
 * The first input byte picks where the fuzzed bytes enter (bits 0-1) and how:
 *   0: raw bytes from the very first byte of the connection (banner, plaintext
 *      packets, KEXINIT negotiation, ECDH), delivered in fuzzer-chosen chunks;
 *   1: after a real key exchange (phase: service request / user auth): the rest
 *      is a list of [u16 length][payload] messages the client encrypts and sends;
 *   2: as 1, but logged in with an open session channel;
 *   3: as 2, but the bytes are sent raw on the encrypted stream (packet layer).
 * bit 2 (modes 1-3): the connection negotiated aes256-gcm@openssh.com instead
 *   of chacha20-poly1305@openssh.com, so both packet paths are fuzzed;
 * bit 3 (modes 2-3): the server has started a re-key (its KEXINIT is out, its
 *   output is queued) when the bytes arrive; afterwards the client completes
 *   the key exchange, which flushes the queued output under the new keys.
 * Deterministic: randomness comes from a fixed-seed stream reset per input.
 * Snapshots of the handshaken states are taken once and restored per input. */
#include "sshc.h"
#include "ssh_core.h"
#include <stdlib.h>

static uint8_t rng_key[32];
static uint64_t rng_ctr;

static void det_random(uint8_t *p, size_t n)
{
    uint8_t nonce[8];
    memcpy(nonce, &rng_ctr, 8);
    rng_ctr++;
    crypto_stream_chacha20(p, n, nonce, rng_key);
}

/* libsodium randombytes for the test client */
static const char *r_name(void) { return "fuzz"; }
static uint32_t r_random(void) { uint32_t v; det_random((uint8_t *)&v, 4); return v; }
static void r_stir(void) {}
static uint32_t r_uniform(const uint32_t up) { return up ? r_random() % up : 0; }
static void r_buf(void *const buf, const size_t size) { det_random(buf, size); }
static int r_close(void) { return 0; }
static randombytes_implementation fuzz_rng = {
    .implementation_name = r_name, .random = r_random, .stir = r_stir,
    .uniform = r_uniform, .buf = r_buf, .close = r_close,
};

struct world {
    struct ssh_conn srv;
    struct sshc cli;
    uint8_t c2s[1 << 17];
    size_t c2s_len;
};

enum { SUITE_CHACHA, SUITE_GCM, SUITE_COUNT };
static const char *const suite_names[SUITE_COUNT] = {
    [SUITE_CHACHA] = "chacha20-poly1305@openssh.com",
    [SUITE_GCM] = "aes256-gcm@openssh.com",
};

static struct world W;
/* per suite: after the handshake, in a session, in a session mid re-key */
static struct world snap_auth[SUITE_COUNT], snap_sess[SUITE_COUNT], snap_rekey[SUITE_COUNT];
static uint8_t host_sk[64], host_pk[32], user_sk[64], user_pk[32];

static int cb_sign(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64])
{
    (void)ctx;
    crypto_sign_detached(sig, NULL, m, n, host_sk);
    return 0;
}
static int cb_authorize(void *ctx, enum ssh_auth_phase ph, const char *user, size_t ul, const uint8_t pub[32],
                        const struct ssh_auth_proof *proof)
{
    (void)ctx; (void)ph; (void)proof; (void)user; (void)ul;
    return memcmp(pub, user_pk, 32) == 0;
}
static void cb_random(void *ctx, uint8_t *p, size_t n) { (void)ctx; det_random(p, n); }

static void pump(void)
{
    size_t off = 0;
    for (;;) {
        size_t before = off;
        if (off < W.c2s_len) off += ssh_feed(&W.srv, W.c2s + off, W.c2s_len - off);
        struct ssh_event e;
        int progress = 0;
        while (ssh_poll_event(&W.srv, &e)) {
            progress = 1;
            if (e.type == SSH_EV_DATA) {
                ssh_channel_write(&W.srv, e.data, e.len);
                ssh_channel_ack(&W.srv, e.len);
            } else if (e.type == SSH_EV_EOF) {
                ssh_channel_exit(&W.srv, 0);
            }
            (void)ssh_reason_name(e.reason);
        }
        if (off == before && !progress) break;
    }
    memmove(W.c2s, W.c2s + off, W.c2s_len - off);
    W.c2s_len -= off;
}

static int x_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    if (n > sizeof W.c2s - W.c2s_len) return -1;
    memcpy(W.c2s + W.c2s_len, p, n);
    W.c2s_len += n;
    pump();
    return 0;
}

static size_t x_recv(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    const uint8_t *o;
    size_t have = ssh_output(&W.srv, &o);
    if (have > n) have = n;
    memcpy(p, o, have);
    ssh_output_consume(&W.srv, have);
    pump();
    return have;
}

static void world_init(const char *cipher)
{
    memset(&W, 0, sizeof W);
    W.cli.cipher_list = cipher;
    struct ssh_server_config cfg = { 0 };
    cfg.software = "capOS_fuzz";
    memcpy(cfg.host_public, host_pk, 32);
    cfg.sign = cb_sign;
    cfg.authorize = cb_authorize;
    cfg.random = cb_random;
    cfg.max_auth_attempts = 1000;
    ssh_server_init(&W.srv, &cfg, 0);
    W.cli.xmit = x_send;
    W.cli.recv = x_recv;
    sshc_init(&W.cli);
}

static void drain(void)
{
    const uint8_t *o;
    size_t n = ssh_output(&W.srv, &o);
    ssh_output_consume(&W.srv, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    randombytes_set_implementation(&fuzz_rng);
    if (sodium_init() < 0) abort();
    uint8_t seed[32] = { 1 };
    crypto_sign_seed_keypair(host_pk, host_sk, seed);
    seed[0] = 2;
    crypto_sign_seed_keypair(user_pk, user_sk, seed);
    for (int s = 0; s < SUITE_COUNT; s++) {
        world_init(suite_names[s]);
        if (sshc_handshake(&W.cli) != 0 || sshc_service(&W.cli) != 0) abort();
        if (W.srv.k_in.alg != ssh_cipher_from_name(suite_names[s])) abort();
        snap_auth[s] = W;
        if (sshc_auth_sign(&W.cli, "alice", user_sk) != 0 || sshc_open_session(&W.cli) != 0) abort();
        if (sshc_chan_request(&W.cli, "shell", NULL, 0) != 1) abort();
        drain();
        snap_sess[s] = W;
        /* a server-initiated re-key: the byte limit is reached, the server's
         * KEXINIT goes out and the client holds it (in cli.last) unanswered */
        uint64_t limit = W.srv.cfg.rekey_bytes;
        W.srv.cfg.rekey_bytes = 1;
        ssh_channel_ack(&W.srv, 0);
        W.srv.cfg.rekey_bytes = limit;
        if (!ssh_out_blocked(&W.srv) || sshc_recv_skip(&W.cli) != SSH_MSG_KEXINIT) abort();
        snap_rekey[s] = W;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] & 3;
    int suite = data[0] & 4 ? SUITE_GCM : SUITE_CHACHA;
    int rekey = (data[0] & 8) && mode >= 2;
    data++; size--;
    rng_ctr = 0;
    if (mode == 0) {
        world_init(NULL);
        /* chunk sizes come from the data itself: [u8 chunk][bytes...] */
        size_t i = 0;
        while (i < size) {
            size_t k = (size_t)data[i++] + 1;
            if (k > size - i) k = size - i;
            x_send(NULL, data + i, k);
            drain();
            i += k;
        }
        ssh_tick(&W.srv, 1ull << 40);
        pump();
        return 0;
    }
    W = mode == 1 ? snap_auth[suite] : rekey ? snap_rekey[suite] : snap_sess[suite];
    if (mode == 3) {
        x_send(NULL, data, size);
        drain();
        if (rekey && !W.srv.closed) (void)sshc_rekey_reply(&W.cli);
        drain();
        return 0;
    }
    size_t i = 0;
    while (i + 2 <= size && !W.srv.closed) {
        size_t k = ((size_t)data[i] << 8 | data[i + 1]) % 4096;
        i += 2;
        if (k > size - i) k = size - i;
        if (k == 0) continue;
        sshc_send(&W.cli, data + i, k);
        drain();
        i += k;
    }
    /* the client answers the server's re-key: the queued output is flushed */
    if (rekey && !W.srv.closed) (void)sshc_rekey_reply(&W.cli);
    /* the application side too: write, EOF and exit at the end */
    ssh_channel_write(&W.srv, "x", 1);
    ssh_channel_eof(&W.srv);
    ssh_channel_exit(&W.srv, 1);
    pump();
    drain();
    return 0;
}
