/* lib/webauthn: the attestation object (WebAuthn 6.5) and its statement.
 *
 *   { "fmt": text, "attStmt": map, "authData": bytes }, nothing after it.
 *   "none":   attStmt must be the empty map.
 *   "packed": self-attestation only: { "alg": int, "sig": bytes }, alg the
 *             credential key's, sig by the credential key over
 *             authData || clientDataHash.  A certificate chain (x5c) is
 *             refused: this relying party trusts no attestation CA. */
#include <string.h>

#include "internal.h"

int wa_attestation_parse(const uint8_t *p, size_t n, const uint8_t **auth_data, size_t *auth_data_len,
                         struct wa_cur *fmt, struct wa_cur *stmt)
{
    struct wa_cur c;
    size_t entries;
    int have_fmt = 0, have_stmt = 0, have_ad = 0;
    wa_cur_init(&c, p, n);
    int r = wa_cbor_skip(&c);
    if (r != WA_OK)
        return r;
    if (wa_cur_left(&c))
        return WA_R_CBOR_TRAILING;
    wa_cur_init(&c, p, n);
    if (wa_cbor_map(&c, &entries) != WA_OK)
        return WA_R_ATT_SHAPE;
    for (size_t i = 0; i < entries; i++) {
        const uint8_t *k;
        size_t klen;
        if (wa_cbor_text(&c, &k, &klen) != WA_OK)
            return WA_R_ATT_SHAPE;
        size_t start = c.off;
        if (wa_text_is(k, klen, "fmt")) {
            const uint8_t *t;
            size_t tlen;
            if (wa_cbor_text(&c, &t, &tlen) != WA_OK)
                return WA_R_ATT_SHAPE;
            wa_cur_init(fmt, t, tlen);
            have_fmt = 1;
        } else if (wa_text_is(k, klen, "attStmt")) {
            if (wa_cbor_peek(&c) != CBOR_MAP || wa_cbor_skip(&c) != WA_OK)
                return WA_R_ATT_SHAPE;
            wa_cur_init(stmt, p + start, c.off - start);
            have_stmt = 1;
        } else if (wa_text_is(k, klen, "authData")) {
            if (wa_cbor_bytes(&c, auth_data, auth_data_len) != WA_OK)
                return WA_R_ATT_SHAPE;
            have_ad = 1;
        } else {
            return WA_R_ATT_SHAPE;
        }
    }
    return have_fmt && have_stmt && have_ad ? WA_OK : WA_R_ATT_SHAPE;
}

static int packed_self(struct wa_cur *stmt, const struct wa_pubkey *key, const uint8_t *auth_data,
                       size_t auth_data_len, const uint8_t client_hash[WA_HASH_LEN])
{
    size_t entries;
    int64_t alg = 0;
    int have_alg = 0;
    const uint8_t *sig = NULL;
    size_t sig_len = 0;
    if (wa_cbor_map(stmt, &entries) != WA_OK)
        return WA_R_ATT_STMT;
    for (size_t i = 0; i < entries; i++) {
        const uint8_t *k;
        size_t klen;
        if (wa_cbor_text(stmt, &k, &klen) != WA_OK)
            return WA_R_ATT_STMT;
        if (wa_text_is(k, klen, "alg")) {
            if (wa_cbor_int(stmt, &alg) != WA_OK)
                return WA_R_ATT_STMT;
            have_alg = 1;
        } else if (wa_text_is(k, klen, "sig")) {
            if (wa_cbor_bytes(stmt, &sig, &sig_len) != WA_OK)
                return WA_R_ATT_STMT;
        } else if (wa_text_is(k, klen, "x5c")) {
            return WA_R_ATT_X5C;
        } else {
            return WA_R_ATT_STMT;
        }
    }
    if (!have_alg || !sig)
        return WA_R_ATT_STMT;
    if (alg != key->alg)
        return WA_R_ATT_ALG;
    return wa_sig_verify(key->alg, key->key, key->key_len, auth_data, auth_data_len, client_hash, WA_HASH_LEN,
                         sig, sig_len) == WA_OK ? WA_OK : WA_R_ATT_SIGNATURE;
}

int wa_attestation_check(const struct wa_cur *fmt, const struct wa_cur *stmt, const struct wa_pubkey *key,
                         const uint8_t *auth_data, size_t auth_data_len,
                         const uint8_t client_hash[WA_HASH_LEN])
{
    struct wa_cur s = *stmt;
    size_t entries;
    if (wa_text_is(fmt->p, fmt->len, "none"))
        return wa_cbor_map(&s, &entries) == WA_OK && entries == 0 ? WA_OK : WA_R_ATT_STMT;
    if (wa_text_is(fmt->p, fmt->len, "packed"))
        return packed_self(&s, key, auth_data, auth_data_len, client_hash);
    return WA_R_ATT_FMT;
}
