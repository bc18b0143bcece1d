/* lib/tls unit tests: an in-memory handshake against a BearSSL client that
 * knows the development certificate's key, data both ways, back-pressure,
 * close_notify, a plaintext HTTP request on the TLS port, bad configuration;
 * and the same handshake with the key behind a signer (the key service's
 * shape: only hashes go out, DER signatures come back), one that fails.
 * Usage: test_tls CERT.der KEY.der */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint8_t cert[4096], keyder[4096], key[32];
static size_t cert_len, keyder_len;
static struct tls_conn srv;
static br_ssl_client_context cli;
static br_x509_knownkey_context xk;
static unsigned char cli_buf[BR_SSL_BUFSIZE_BIDI];
static uint8_t pubkey[65];
static br_ec_public_key pk;

static size_t load(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void x509_push(void *ctx, const void *d, size_t n) { br_x509_decoder_push(ctx, d, n); }

/* move records both ways until nothing moves */
static void pump(void)
{
    for (int moved = 1; moved; ) {
        moved = 0;
        size_t n, room;
        unsigned char *p = br_ssl_engine_sendrec_buf(&cli.eng, &n);
        if (p && n) {
            size_t k = tls_net_in(&srv, p, n);
            if (k) { br_ssl_engine_sendrec_ack(&cli.eng, k); moved = 1; }
        }
        const uint8_t *q = tls_net_out(&srv, &n);
        if (n) {
            unsigned char *d = br_ssl_engine_recvrec_buf(&cli.eng, &room);
            if (d && room) {
                size_t k = n < room ? n : room;
                memcpy(d, q, k);
                br_ssl_engine_recvrec_ack(&cli.eng, k);
                tls_net_out_done(&srv, k);
                moved = 1;
            }
        }
    }
}

/* A client offering SUITES (n of them), or BearSSL's full list when n is 0. */
static void client_start_suites(const uint16_t *suites, size_t n)
{
    static const uint8_t seed[32] = { 9, 8, 7 };
    static br_x509_minimal_context xm;     /* the full profile wants one; replaced below */
    br_ssl_client_init_full(&cli, &xm, NULL, 0);
    if (n)
        br_ssl_engine_set_suites(&cli.eng, suites, n);
    br_x509_knownkey_init_ec(&xk, &pk, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
    br_ssl_engine_set_x509(&cli.eng, &xk.vtable);
    br_ssl_engine_set_buffer(&cli.eng, cli_buf, sizeof cli_buf, 1);
    br_ssl_engine_inject_entropy(&cli.eng, seed, sizeof seed);
    br_ssl_client_reset(&cli, "localhost", 0);
}

static void client_start(void)
{
    client_start_suites(0, 0);
}

static int server_start(void)
{
    static const uint8_t seed[TLS_ENTROPY_LEN] = { 1, 2, 3 };
    struct tls_config cfg = { .cert_der = cert, .cert_len = cert_len, .key = key, .key_len = sizeof key, .entropy = seed };
    return tls_server_init(&srv, &cfg);
}

/* A signer as a key service is one: it holds the key, signs a hash. */
static int signs, sign_hash_id;
static size_t signer(void *ctx, int hash_id, const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t cap)
{
    const br_hash_class *hc = hash_id == br_sha256_ID ? &br_sha256_vtable
                            : hash_id == br_sha384_ID ? &br_sha384_vtable
                            : hash_id == br_sha512_ID ? &br_sha512_vtable : NULL;
    if (!ctx || !hc || hash_len != (hc->desc >> BR_HASHDESC_OUT_OFF & BR_HASHDESC_OUT_MASK) || cap < TLS_SIG_MAX)
        return 0;
    br_ec_private_key sk = { BR_EC_secp256r1, key, sizeof key };
    signs++;
    sign_hash_id = hash_id;
    return br_ecdsa_i31_sign_asn1(br_ec_get_default(), hc, hash, &sk, sig);
}

static int server_start_signer(void *ctx)
{
    static const uint8_t seed[TLS_ENTROPY_LEN] = { 4, 5, 6 };
    struct tls_config cfg = { .cert_der = cert, .cert_len = cert_len, .entropy = seed, .sign = signer, .sign_ctx = ctx };
    return tls_server_init(&srv, &cfg);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: test_tls CERT.der KEY.der\n"); return 2; }
    cert_len = load(argv[1], cert, sizeof cert);
    keyder_len = load(argv[2], keyder, sizeof keyder);
    br_skey_decoder_context kd;
    br_skey_decoder_init(&kd);
    br_skey_decoder_push(&kd, keyder, keyder_len);
    const br_ec_private_key *sk = br_skey_decoder_get_ec(&kd);
    CHECK(sk && sk->xlen == 32, "development key is P-256");
    if (!sk) return 1;
    memcpy(key, sk->x, 32);
    br_x509_decoder_context xd;
    br_x509_decoder_init(&xd, NULL, NULL);
    x509_push(&xd, cert, cert_len);
    const br_x509_pkey *cpk = br_x509_decoder_get_pkey(&xd);
    CHECK(cpk && cpk->key_type == BR_KEYTYPE_EC, "certificate has an EC key");
    if (!cpk) return 1;
    memcpy(pubkey, cpk->key.ec.q, cpk->key.ec.qlen);
    pk.curve = cpk->key.ec.curve;
    pk.q = pubkey;
    pk.qlen = cpk->key.ec.qlen;

    /* a full handshake, then data both ways */
    CHECK(server_start() == 0, "server init");
    CHECK(tls_state(&srv) == TLS_HANDSHAKING, "handshaking");
    client_start();
    pump();
    CHECK(tls_state(&srv) == TLS_OPEN, "server open (error %d)", tls_error(&srv));
    CHECK(br_ssl_engine_current_state(&cli.eng) & BR_SSL_SENDAPP, "client open (error %d)",
          br_ssl_engine_last_error(&cli.eng));
    CHECK(br_ssl_engine_get_version(&cli.eng) == BR_TLS12, "TLS 1.2");
    size_t n;
    unsigned char *p = br_ssl_engine_sendapp_buf(&cli.eng, &n);
    CHECK(p && n >= 5, "client can send");
    if (p) { memcpy(p, "hello", 5); br_ssl_engine_sendapp_ack(&cli.eng, 5); br_ssl_engine_flush(&cli.eng, 0); }
    pump();
    const uint8_t *a = tls_app_in(&srv, &n);
    CHECK(n == 5 && memcmp(a, "hello", 5) == 0, "server got the plaintext");
    tls_app_in_done(&srv, n);
    tls_app_in(&srv, &n);
    CHECK(n == 0, "consumed");
    /* a large write is taken in part (back-pressure), the rest after records move */
    static uint8_t big[100000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)i;
    size_t sent = 0, got = 0;
    int ok = 1;
    for (int rounds = 0; rounds < 1000 && got < sizeof big; rounds++) {
        size_t k = tls_app_out(&srv, big + sent, sizeof big - sent);
        if (rounds == 0) CHECK(k > 0 && k < sizeof big, "partial write %zu", k);
        sent += k;
        pump();
        unsigned char *d = br_ssl_engine_recvapp_buf(&cli.eng, &n);
        if (d && n) {
            ok &= memcmp(d, big + got, n) == 0;
            got += n;
            br_ssl_engine_recvapp_ack(&cli.eng, n);
        }
    }
    CHECK(got == sizeof big && ok, "100000 bytes through, in order (%zu)", got);
    /* close_notify from the server, answered by the client */
    tls_close(&srv);
    pump();
    CHECK(br_ssl_engine_current_state(&cli.eng) & BR_SSL_CLOSED, "client saw close_notify");
    CHECK(tls_state(&srv) == TLS_CLOSED, "server closed cleanly (%d)", tls_error(&srv));

    /* a plaintext HTTP request on the TLS port fails the connection */
    CHECK(server_start() == 0, "server init again");
    const char *plain = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    tls_net_in(&srv, (const uint8_t *)plain, strlen(plain));
    CHECK(tls_state(&srv) == TLS_FAILED && tls_error(&srv) != 0, "plaintext refused (%d)", tls_error(&srv));
    size_t room;
    CHECK(tls_net_in_buf(&srv, &room) == NULL && room == 0, "no more input after failure");
    CHECK(tls_app_out(&srv, (const uint8_t *)"x", 1) == 0, "no output after failure");
    tls_net_in_done(&srv, 0);
    tls_net_out_done(&srv, 0);
    tls_app_in_done(&srv, 0);

    /* the key behind a signer: one signature per handshake, a SHA-2 hash */
    CHECK(server_start_signer(&signs) == 0, "server init with a signer");
    client_start();
    pump();
    CHECK(tls_state(&srv) == TLS_OPEN && (br_ssl_engine_current_state(&cli.eng) & BR_SSL_SENDAPP),
          "a handshake with the key behind a signer (server %d, client %d)", tls_error(&srv),
          br_ssl_engine_last_error(&cli.eng));
    CHECK(signs == 1 && sign_hash_id == br_sha256_ID, "the signer signed once, a SHA-256 hash (%d, %d)", signs,
          sign_hash_id);
    /* a signer that cannot sign (the key service gone): the handshake fails */
    CHECK(server_start_signer(NULL) == 0, "server init with a failing signer");
    client_start();
    pump();
    CHECK(tls_state(&srv) == TLS_FAILED && !(br_ssl_engine_current_state(&cli.eng) & BR_SSL_SENDAPP),
          "no signature, no handshake (%d)", tls_error(&srv));

    /* a client that offers no ECDHE-ECDSA suite: the signer's key cannot
     * serve it, the handshake fails and nothing is signed */
    static const uint16_t rsa_only[] = { BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 };
    signs = 0;
    CHECK(server_start_signer(&signs) == 0, "server init with a signer, again");
    client_start_suites(rsa_only, 1);
    pump();
    CHECK(tls_state(&srv) == TLS_FAILED && !(br_ssl_engine_current_state(&cli.eng) & BR_SSL_SENDAPP) && signs == 0,
          "a client with only ECDHE-RSA suites gets no handshake and no signature (%d, %d)", tls_error(&srv), signs);

    /* unusable configurations */
    struct tls_config both = { .cert_der = cert, .cert_len = cert_len, .key = key, .key_len = 32, .entropy = key,
                               .sign = signer };
    CHECK(tls_server_init(&srv, &both) == -1, "a key and a signer");
    struct tls_config bad = { .cert_der = cert, .cert_len = cert_len, .key = key, .key_len = 31, .entropy = key };
    CHECK(tls_server_init(&srv, &bad) == -1, "short key");
    struct tls_config noent = { .cert_der = cert, .cert_len = cert_len, .key = key, .key_len = 32 };
    CHECK(tls_server_init(&srv, &noent) == -1, "no entropy");

    printf("test-tls-unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
