/* lib/webauthn: credential records as bytes, for the caller's store (the
 * layout is in webauthn.h).  Decoding checks everything a verification
 * relies on, so a damaged or forged record is refused, never used. */
#include <string.h>

#include "internal.h"

#define RECORD_VERSION 1u

/* The key length each algorithm needs, or 0 for an unknown algorithm. */
static size_t key_len_of(int alg)
{
    switch (alg) {
    case WA_ALG_ES256:
        return 64;
    case WA_ALG_EDDSA:
        return 32;
    default:
        return 0;
    }
}

static int record_ok(const struct wa_credential *c)
{
    return c->id_len >= 1 && c->id_len <= WA_CRED_ID_MAX && key_len_of(c->alg) != 0 &&
           c->key_len == key_len_of(c->alg);
}

size_t wa_credential_encode(const struct wa_credential *c, uint8_t *out, size_t cap)
{
    if (!record_ok(c))
        return 0;
    size_t n = WA_CREDENTIAL_WIRE_FIXED + c->id_len + c->key_len;
    if (n > cap)
        return 0;
    out[0] = RECORD_VERSION;
    out[1] = (uint8_t)(int8_t)c->alg;
    out[2] = (uint8_t)c->id_len;
    out[3] = (uint8_t)(c->id_len >> 8);
    out[4] = c->key_len;
    out[5] = c->flags;
    for (unsigned i = 0; i < 4; i++)
        out[6 + i] = (uint8_t)(c->sign_count >> (8 * i));
    memcpy(out + 10, c->aaguid, WA_AAGUID_LEN);
    memcpy(out + WA_CREDENTIAL_WIRE_FIXED, c->id, c->id_len);
    memcpy(out + WA_CREDENTIAL_WIRE_FIXED + c->id_len, c->key, c->key_len);
    return n;
}

int wa_credential_decode(const uint8_t *in, size_t len, struct wa_credential *c)
{
    struct wa_credential r;
    struct wa_cur cur;
    const uint8_t *h, *p;
    memset(&r, 0, sizeof r);
    wa_cur_init(&cur, in, len);
    if (!in || !wa_cur_take(&cur, WA_CREDENTIAL_WIRE_FIXED, &h) || h[0] != RECORD_VERSION)
        return WA_R_RECORD;
    r.alg = (int16_t)(int8_t)h[1];
    r.id_len = (uint16_t)(h[2] | h[3] << 8);
    r.key_len = h[4];
    r.flags = h[5];
    r.sign_count = (uint32_t)h[6] | (uint32_t)h[7] << 8 | (uint32_t)h[8] << 16 | (uint32_t)h[9] << 24;
    memcpy(r.aaguid, h + 10, WA_AAGUID_LEN);
    if (!record_ok(&r) || wa_cur_left(&cur) != (size_t)r.id_len + r.key_len)
        return WA_R_RECORD;
    wa_cur_take(&cur, r.id_len, &p);
    memcpy(r.id, p, r.id_len);
    wa_cur_take(&cur, r.key_len, &p);
    memcpy(r.key, p, r.key_len);
    *c = r;
    return WA_OK;
}
