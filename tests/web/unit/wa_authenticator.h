/* A software WebAuthn authenticator for lib/webauthn's tests: ES256 keys
 * (BearSSL) and Ed25519 keys (libsodium) from fixed seeds, a small CBOR
 * writer, authenticator data, attestation objects ("none" and "packed"
 * self-attestation), clientDataJSON, and assertion signatures.  Included
 * by the unit test and the fuzzer's seed writer; test-only. */
#ifndef WA_AUTHENTICATOR_H
#define WA_AUTHENTICATOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>
#include <sodium.h>

#include "webauthn.h"

/* ---- a CBOR writer (definite, shortest form) */
struct cw { uint8_t *p; size_t cap, len; };

static void cw_raw(struct cw *w, const void *d, size_t n)
{
    if (n <= w->cap - w->len) { memcpy(w->p + w->len, d, n); w->len += n; }
    else { fprintf(stderr, "wa_authenticator: CBOR buffer too small\n"); abort(); }
}

static void cw_head(struct cw *w, int major, uint64_t v)
{
    uint8_t b[9];
    size_t n;
    if (v < 24) { b[0] = (uint8_t)(major << 5 | v); n = 1; }
    else if (v < 0x100) { b[0] = (uint8_t)(major << 5 | 24); b[1] = (uint8_t)v; n = 2; }
    else if (v < 0x10000) { b[0] = (uint8_t)(major << 5 | 25); b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)v; n = 3; }
    else { b[0] = (uint8_t)(major << 5 | 26); for (int i = 0; i < 4; i++) b[1 + i] = (uint8_t)(v >> (24 - 8 * i)); n = 5; }
    cw_raw(w, b, n);
}

static void cw_int(struct cw *w, int64_t v) { if (v >= 0) cw_head(w, 0, (uint64_t)v); else cw_head(w, 1, (uint64_t)(-1 - v)); }
static void cw_bytes(struct cw *w, const void *d, size_t n) { cw_head(w, 2, n); cw_raw(w, d, n); }
static void cw_text(struct cw *w, const char *s) { cw_head(w, 3, strlen(s)); cw_raw(w, s, strlen(s)); }

/* ---- the authenticator */
struct soft_auth {
    int alg;
    uint8_t ec_sk[BR_EC_KBUF_PRIV_MAX_SIZE], ec_pub[BR_EC_KBUF_PUB_MAX_SIZE];
    br_ec_private_key sk;
    br_ec_public_key pk;
    uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t cred_id[WA_CRED_ID_MAX];
    size_t cred_id_len;
};

static void sa_init(struct soft_auth *a, int alg, uint8_t seed)
{
    uint8_t s[32];
    memset(a, 0, sizeof *a);
    memset(s, seed, sizeof s);
    a->alg = alg;
    if (alg == WA_ALG_ES256) {
        br_hmac_drbg_context rng;
        br_hmac_drbg_init(&rng, &br_sha256_vtable, s, sizeof s);
        br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &a->sk, a->ec_sk, BR_EC_secp256r1);
        br_ec_compute_pub(&br_ec_p256_m31, &a->pk, a->ec_pub, &a->sk);
    } else {
        crypto_sign_seed_keypair(a->ed_pk, a->ed_sk, s);
    }
    a->cred_id_len = 16;
    for (size_t i = 0; i < a->cred_id_len; i++)
        a->cred_id[i] = (uint8_t)(seed + i);
}

/* The credential's COSE_Key. */
static void sa_cose(const struct soft_auth *a, struct cw *w)
{
    if (a->alg == WA_ALG_ES256) {
        cw_head(w, 5, 5);
        cw_int(w, 1); cw_int(w, 2);
        cw_int(w, 3); cw_int(w, -7);
        cw_int(w, -1); cw_int(w, 1);
        cw_int(w, -2); cw_bytes(w, a->pk.q + 1, 32);
        cw_int(w, -3); cw_bytes(w, a->pk.q + 33, 32);
    } else {
        cw_head(w, 5, 4);
        cw_int(w, 1); cw_int(w, 1);
        cw_int(w, 3); cw_int(w, -8);
        cw_int(w, -1); cw_int(w, 6);
        cw_int(w, -2); cw_bytes(w, a->ed_pk, 32);
    }
}

/* Authenticator data; with AT the attested credential data (and cose, when not NULL, instead of the key). */
static size_t sa_auth_data(const struct soft_auth *a, const char *rp_id, uint8_t flags, uint32_t count,
                           const uint8_t *cose, size_t cose_len, uint8_t *out, size_t cap)
{
    struct cw w = { out, cap, 0 };
    uint8_t h[32], b[4] = { (uint8_t)(count >> 24), (uint8_t)(count >> 16), (uint8_t)(count >> 8), (uint8_t)count };
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, rp_id, strlen(rp_id));
    br_sha256_out(&c, h);
    cw_raw(&w, h, 32);
    cw_raw(&w, &flags, 1);
    cw_raw(&w, b, 4);
    if (flags & WA_FLAG_AT) {
        uint8_t aaguid[16] = { 0xaa, 0x6a };
        uint8_t l[2] = { (uint8_t)(a->cred_id_len >> 8), (uint8_t)a->cred_id_len };
        cw_raw(&w, aaguid, 16);
        cw_raw(&w, l, 2);
        cw_raw(&w, a->cred_id, a->cred_id_len);
        if (cose)
            cw_raw(&w, cose, cose_len);
        else
            sa_cose(a, &w);
    }
    return w.len;
}

static void sa_hash(const void *p, size_t n, uint8_t out[32])
{
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, p, n);
    br_sha256_out(&c, out);
}

/* A signature over ad || SHA-256(client_data). */
static size_t sa_sign(const struct soft_auth *a, const uint8_t *ad, size_t ad_len, const uint8_t *cd, size_t cd_len,
                      uint8_t *sig)
{
    uint8_t ch[32], msg[2048];
    sa_hash(cd, cd_len, ch);
    memcpy(msg, ad, ad_len);
    memcpy(msg + ad_len, ch, 32);
    if (a->alg == WA_ALG_ES256) {
        uint8_t h[32];
        sa_hash(msg, ad_len + 32, h);
        return br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, h, &a->sk, sig);
    }
    unsigned long long sl;
    crypto_sign_detached(sig, &sl, msg, ad_len + 32, a->ed_sk);
    return (size_t)sl;
}

/* {"fmt": fmt, "attStmt": stmt, "authData": ad} */
static size_t sa_att_object(const char *fmt, const uint8_t *stmt, size_t stmt_len, const uint8_t *ad, size_t ad_len,
                            uint8_t *out, size_t cap)
{
    struct cw w = { out, cap, 0 };
    cw_head(&w, 5, 3);
    cw_text(&w, "fmt"); cw_text(&w, fmt);
    cw_text(&w, "attStmt"); cw_raw(&w, stmt, stmt_len);
    cw_text(&w, "authData"); cw_bytes(&w, ad, ad_len);
    return w.len;
}

/* A packed self-attestation statement {"alg": alg, "sig": sig}. */
static size_t sa_packed_stmt(int64_t alg, const uint8_t *sig, size_t sig_len, uint8_t *out, size_t cap)
{
    struct cw w = { out, cap, 0 };
    cw_head(&w, 5, 2);
    cw_text(&w, "alg"); cw_int(&w, alg);
    cw_text(&w, "sig"); cw_bytes(&w, sig, sig_len);
    return w.len;
}

static size_t client_data(char *out, size_t cap, const char *type, const uint8_t ch[WA_CHALLENGE_LEN],
                          const char *origin, const char *extra)
{
    char b64[64];
    wa_b64url_encode(b64, sizeof b64, ch, WA_CHALLENGE_LEN);
    return (size_t)snprintf(out, cap, "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\"%s}", type, b64, origin,
                            extra ? extra : ",\"crossOrigin\":false");
}

#endif
