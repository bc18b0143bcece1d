/* libFuzzer target over lib/ssh's packet layer and state machine.
 *
 * The first input byte picks where the fuzzed bytes enter:
 *   0: raw bytes from the very first byte of the connection (banner, plaintext
 *      packets, KEXINIT negotiation, ECDH), delivered in fuzzer-chosen chunks;
 *   1: after a real key exchange (phase: service request / user auth): the rest
 *      is a list of [u16 length][payload] messages the client encrypts and sends;
 *   2: as 1, but logged in with an open session channel;
 *   3: as 2, but the bytes are sent raw on the encrypted stream (packet layer).
 * Deterministic: randomness comes from a fixed-seed stream reset per input.
 * Snapshots of the handshaken states are taken once and restored per input. */
#include "sshc.h"
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

static struct world W, snap_auth, snap_sess;
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

static void world_init(void)
{
    memset(&W, 0, sizeof W);
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
    world_init();
    if (sshc_handshake(&W.cli) != 0 || sshc_service(&W.cli) != 0) abort();
    snap_auth = W;
    if (sshc_auth_sign(&W.cli, "alice", user_sk) != 0 || sshc_open_session(&W.cli) != 0) abort();
    if (sshc_chan_request(&W.cli, "shell", NULL, 0) != 1) abort();
    drain();
    snap_sess = W;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0] & 3;
    data++; size--;
    rng_ctr = 0;
    if (mode == 0) {
        world_init();
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
    W = mode == 1 ? snap_auth : snap_sess;
    if (mode == 3) {
        x_send(NULL, data, size);
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
    /* the application side too: write, EOF and exit at the end */
    ssh_channel_write(&W.srv, "x", 1);
    ssh_channel_eof(&W.srv);
    ssh_channel_exit(&W.srv, 1);
    pump();
    drain();
    return 0;
}
