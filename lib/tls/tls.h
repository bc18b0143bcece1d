/* lib/tls: a sans-IO TLS 1.2 server over BearSSL's engine.
 *
 * The caller owns the socket, the entropy and the key material; the library
 * moves bytes between four caller-facing windows: network in (records from
 * the peer), network out (records to send), application in (decrypted
 * plaintext) and application out (plaintext to encrypt).  All state is a
 * caller-allocated struct tls_conn; no allocation, no global state, no
 * system calls (BearSSL's own seeder is never used: the caller injects
 * entropy).  One ECDSA P-256 certificate; TLS 1.2 only (BearSSL 0.6). */
#ifndef CAPOS_TLS_H
#define CAPOS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

#define TLS_ENTROPY_LEN 32u
#define TLS_SIG_MAX 72u          /* a DER ECDSA P-256 signature, at most */

/* A signer outside the library (a key service): sign the hash_len-byte
 * hash (hash_id: BearSSL's br_sha256_ID, br_sha384_ID or br_sha512_ID) of a
 * ServerKeyExchange with the certificate's P-256 key; write the DER ECDSA
 * signature to sig (room for cap bytes) and return its length, 0 on
 * failure (the handshake then fails). */
typedef size_t (*tls_sign_fn)(void *ctx, int hash_id, const uint8_t *hash, size_t hash_len, uint8_t *sig,
                              size_t cap);

/* The key is either in this process (key, key_len) or behind a signer
 * (sign, sign_ctx; key NULL): never both. */
struct tls_config {
    const uint8_t *cert_der;    /* the server certificate (DER), self-signed or issued by an EC CA */
    size_t cert_len;
    const uint8_t *key;         /* the P-256 private scalar, big-endian */
    size_t key_len;
    const uint8_t *entropy;     /* TLS_ENTROPY_LEN bytes from the caller's source */
    tls_sign_fn sign;           /* or, key NULL: the signer that holds the key */
    void *sign_ctx;
};

enum tls_state {
    TLS_HANDSHAKING = 0,        /* no application data yet */
    TLS_OPEN,                   /* application data flows both ways */
    TLS_CLOSED,                 /* closed cleanly (close_notify) */
    TLS_FAILED                  /* closed on an error: tls_error() */
};

/* BearSSL's server policy for an external signer (tls.c). */
struct tls_signer_policy {
    const br_ssl_server_policy_class *vtable;   /* first: BearSSL passes &vtable */
    const br_x509_certificate *chain;
    tls_sign_fn sign;
    void *ctx;
};

/* Caller-allocated (about 37 KiB); fields are private to tls.c. */
struct tls_conn {
    br_ssl_server_context sc;
    br_x509_certificate chain[1];
    br_ec_private_key sk;
    struct tls_signer_policy policy;
    int opened;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* 0, or -1 when the configuration is unusable (no entropy, key size, both
 * or neither of a key and a signer). */
int tls_server_init(struct tls_conn *c, const struct tls_config *cfg);
int tls_state(struct tls_conn *c);
int tls_error(const struct tls_conn *c);  /* BearSSL's error code (BR_ERR_*), 0 when none */

/* Network in: give up to len bytes of the peer's records; returns how many were taken. */
size_t tls_net_in(struct tls_conn *c, const uint8_t *in, size_t len);
/* ... or receive straight into the engine: room for *room bytes (NULL when
 * none now: drain the application side first), then say how many arrived. */
uint8_t *tls_net_in_buf(struct tls_conn *c, size_t *room);
void tls_net_in_done(struct tls_conn *c, size_t n);
/* Network out: records waiting to be written, and how many were written. */
const uint8_t *tls_net_out(struct tls_conn *c, size_t *len);
void tls_net_out_done(struct tls_conn *c, size_t n);
/* Application in: decrypted plaintext, and how much of it was consumed. */
const uint8_t *tls_app_in(struct tls_conn *c, size_t *len);
void tls_app_in_done(struct tls_conn *c, size_t n);
/* Application out: take up to len plaintext bytes (fewer when the engine's
 * buffer is full: back-pressure); they are flushed into records at once. */
size_t tls_app_out(struct tls_conn *c, const uint8_t *data, size_t len);
/* Send close_notify. */
void tls_close(struct tls_conn *c);

#endif
