/* lib/webauthn internals: the bounded CBOR reader, the clientDataJSON
 * reader, authenticator data, COSE keys and signatures.  Every read goes
 * through one checked cursor (struct wa_cur); every function answers WA_OK
 * or a reason code from webauthn.h. */
#ifndef CAPOS_WEBAUTHN_INTERNAL_H
#define CAPOS_WEBAUTHN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "webauthn.h"

/* A read cursor over p[0..len): off never passes len. */
struct wa_cur {
    const uint8_t *p;
    size_t len, off;
};

static inline void wa_cur_init(struct wa_cur *c, const uint8_t *p, size_t len)
{
    c->p = p;
    c->len = len;
    c->off = 0;
}

static inline size_t wa_cur_left(const struct wa_cur *c)
{
    return c->len - c->off;
}

/* Take n bytes (*out points at them); 0 when fewer are left. */
static inline int wa_cur_take(struct wa_cur *c, size_t n, const uint8_t **out)
{
    if (n > wa_cur_left(c))
        return 0;
    *out = c->p + c->off;
    c->off += n;
    return 1;
}

/* ---- cbor.c: definite lengths only, minimal argument encodings, no tags
 * or floats (simple values false/true/null only), maps without repeated
 * keys, nesting <= WA_CBOR_DEPTH_MAX, <= WA_CBOR_ITEMS_MAX entries each. */
enum { CBOR_UINT = 0, CBOR_NINT = 1, CBOR_BYTES = 2, CBOR_TEXT = 3,
       CBOR_ARRAY = 4, CBOR_MAP = 5, CBOR_TAG = 6, CBOR_SIMPLE = 7 };

/* Check that one whole item starts at the cursor and step over it. */
int wa_cbor_skip(struct wa_cur *c);
/* The major type of the next item, or -1 at the end. */
int wa_cbor_peek(const struct wa_cur *c);
/* Typed reads of an item already validated by wa_cbor_skip (they check again). */
int wa_cbor_int(struct wa_cur *c, int64_t *v);
int wa_cbor_bytes(struct wa_cur *c, const uint8_t **p, size_t *n);
int wa_cbor_text(struct wa_cur *c, const uint8_t **p, size_t *n);
int wa_cbor_map(struct wa_cur *c, size_t *entries);
/* Is the text at p[0..n) equal to the NUL-terminated s? */
int wa_text_is(const uint8_t *p, size_t n, const char *s);

/* ---- json.c: the members of clientDataJSON this library reads. */
#define WA_JSON_STR_MAX 256u   /* decoded bytes of a string the checks read */
struct wa_client_data {
    uint8_t type[WA_JSON_STR_MAX];
    size_t type_len;
    uint8_t challenge[WA_JSON_STR_MAX];
    size_t challenge_len;
    uint8_t origin[WA_JSON_STR_MAX];
    size_t origin_len;
    int has_type, has_challenge, has_origin;
    int cross_origin;          /* 0: absent or false; 1: anything else */
};
int wa_json_client_data(const uint8_t *p, size_t n, struct wa_client_data *out);

/* ---- authdata.c */
struct wa_auth_data {
    const uint8_t *rp_id_hash; /* WA_HASH_LEN bytes */
    uint8_t flags;
    uint32_t sign_count;
    /* attested credential data (AT) */
    const uint8_t *aaguid;
    const uint8_t *cred_id;
    size_t cred_id_len;
    const uint8_t *cose_key;
    size_t cose_key_len;
};
int wa_auth_data_parse(const uint8_t *p, size_t n, struct wa_auth_data *out);

/* ---- cose.c */
struct wa_pubkey {
    int alg;
    uint8_t key[WA_KEY_MAX];
    size_t key_len;
};
/* A COSE_Key (EC2 P-256 with alg ES256, or OKP Ed25519 with alg EdDSA),
 * the point checked. */
int wa_cose_key_parse(const uint8_t *p, size_t n, struct wa_pubkey *out);
/* Verify sig over a || b (authenticator data || clientDataHash). */
int wa_sig_verify(int alg, const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen, const uint8_t *sig, size_t sig_len);
void wa_sha256(const uint8_t *p, size_t n, uint8_t out[WA_HASH_LEN]);

/* ---- attest.c: the attestation object's statement for fmt "none"/"packed". */
int wa_attestation_parse(const uint8_t *p, size_t n, const uint8_t **auth_data, size_t *auth_data_len,
                         struct wa_cur *fmt, struct wa_cur *stmt);
int wa_attestation_check(const struct wa_cur *fmt, const struct wa_cur *stmt, const struct wa_pubkey *key,
                         const uint8_t *auth_data, size_t auth_data_len,
                         const uint8_t client_hash[WA_HASH_LEN]);

/* ---- challenge.c */
int wa_challenge_take(struct wa_challenges *t, int ceremony, const uint8_t *b64, size_t b64_len,
                      uint64_t now_ms, uint64_t *binding);

#endif
