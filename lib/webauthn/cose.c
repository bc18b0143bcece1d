/* lib/webauthn: COSE_Key (RFC 9053) credential public keys and the two
 * signature algorithms accepted.
 *
 *   ES256: kty 2 (EC2), alg -7, crv 1 (P-256), x and y of 32 bytes each;
 *          the point is checked to be on the curve (BearSSL); signatures
 *          are ASN.1 DER over SHA-256 (BearSSL's i31 ECDSA).
 *   EdDSA: kty 1 (OKP), alg -8, crv 6 (Ed25519), x of 32 bytes; the point
 *          is checked (libsodium); signatures are pure Ed25519 over the
 *          message (libsodium's crypto_sign_verify_detached).
 * Stored keys are raw: X||Y for ES256, the 32-byte point for EdDSA. */
#include <string.h>

#include <bearssl.h>
#include <sodium/crypto_core_ed25519.h>
#include <sodium/crypto_sign.h>

#include "internal.h"

/* COSE key map labels and values */
enum { COSE_KTY = 1, COSE_ALG = 3, COSE_CRV = -1, COSE_X = -2, COSE_Y = -3 };
enum { KTY_OKP = 1, KTY_EC2 = 2, CRV_P256 = 1, CRV_ED25519 = 6 };
#define P256_COORD 32u
#define ED25519_KEY 32u
#define ED25519_SIG 64u

void wa_sha256(const uint8_t *p, size_t n, uint8_t out[WA_HASH_LEN])
{
    br_sha256_context h;
    br_sha256_init(&h);
    br_sha256_update(&h, p, n);
    br_sha256_out(&h, out);
}

static int p256_point_valid(const uint8_t xy[2 * P256_COORD])
{
    uint8_t q[1 + 2 * P256_COORD];
    static const uint8_t one[1] = { 1 };
    q[0] = 0x04;
    memcpy(q + 1, xy, 2 * P256_COORD);
    /* mul() decodes the point and refuses one not on the curve */
    return br_ec_p256_m31.mul(q, sizeof q, one, sizeof one, BR_EC_secp256r1) == 1;
}

int wa_cose_key_parse(const uint8_t *p, size_t n, struct wa_pubkey *out)
{
    struct wa_cur c;
    size_t entries;
    int64_t kty = 0, alg = 0, crv = 0;
    const uint8_t *x = NULL, *y = NULL;
    size_t xlen = 0, ylen = 0;
    memset(out, 0, sizeof *out);
    wa_cur_init(&c, p, n);
    int r = wa_cbor_skip(&c);        /* well-formed, no repeated labels */
    if (r != WA_OK)
        return r;
    if (wa_cur_left(&c))
        return WA_R_CBOR_TRAILING;
    wa_cur_init(&c, p, n);
    if (wa_cbor_map(&c, &entries) != WA_OK)
        return WA_R_COSE_KEY;
    for (size_t i = 0; i < entries; i++) {
        int64_t label;
        int t = wa_cbor_peek(&c);
        if (t != CBOR_UINT && t != CBOR_NINT) {
            /* a text label: not one this library reads */
            if (wa_cbor_skip(&c) != WA_OK || wa_cbor_skip(&c) != WA_OK)
                return WA_R_COSE_KEY;
            continue;
        }
        if (wa_cbor_int(&c, &label) != WA_OK)
            return WA_R_COSE_KEY;
        switch (label) {
        case COSE_KTY:
            r = wa_cbor_int(&c, &kty);
            break;
        case COSE_ALG:
            r = wa_cbor_int(&c, &alg);
            break;
        case COSE_CRV:
            r = wa_cbor_int(&c, &crv);
            break;
        case COSE_X:
            r = wa_cbor_bytes(&c, &x, &xlen);
            break;
        case COSE_Y:
            r = wa_cbor_bytes(&c, &y, &ylen);
            break;
        default:
            r = wa_cbor_skip(&c);
            break;
        }
        if (r != WA_OK)
            return WA_R_COSE_KEY;
    }
    if (alg != WA_ALG_ES256 && alg != WA_ALG_EDDSA)
        return WA_R_ALG_UNSUPPORTED;
    out->alg = (int)alg;
    if (alg == WA_ALG_ES256) {
        if (kty != KTY_EC2 || crv != CRV_P256 || !x || !y || xlen != P256_COORD || ylen != P256_COORD)
            return WA_R_COSE_KEY;
        memcpy(out->key, x, P256_COORD);
        memcpy(out->key + P256_COORD, y, P256_COORD);
        out->key_len = 2 * P256_COORD;
        return p256_point_valid(out->key) ? WA_OK : WA_R_KEY_INVALID;
    }
    if (kty != KTY_OKP || crv != CRV_ED25519 || !x || xlen != ED25519_KEY || y)
        return WA_R_COSE_KEY;
    memcpy(out->key, x, ED25519_KEY);
    out->key_len = ED25519_KEY;
    return crypto_core_ed25519_is_valid_point(out->key) ? WA_OK : WA_R_KEY_INVALID;
}

int wa_sig_verify(int alg, const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen, const uint8_t *sig, size_t sig_len)
{
    if (alg == WA_ALG_ES256) {
        uint8_t q[1 + 2 * P256_COORD], hash[WA_HASH_LEN];
        br_sha256_context h;
        if (key_len != 2 * P256_COORD || sig_len == 0 || sig_len > WA_SIG_MAX)
            return WA_R_SIGNATURE;
        q[0] = 0x04;
        memcpy(q + 1, key, 2 * P256_COORD);
        br_ec_public_key pk = { BR_EC_secp256r1, q, sizeof q };
        br_sha256_init(&h);
        br_sha256_update(&h, a, alen);
        br_sha256_update(&h, b, blen);
        br_sha256_out(&h, hash);
        return br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, sizeof hash, &pk, sig, sig_len) == 1
                   ? WA_OK : WA_R_SIGNATURE;
    }
    if (alg == WA_ALG_EDDSA) {
        /* pure Ed25519 needs the message whole: authenticator data is bounded */
        uint8_t msg[WA_AUTH_DATA_MAX + WA_HASH_LEN];
        if (key_len != ED25519_KEY || sig_len != ED25519_SIG || alen > WA_AUTH_DATA_MAX || blen > WA_HASH_LEN)
            return WA_R_SIGNATURE;
        memcpy(msg, a, alen);
        memcpy(msg + alen, b, blen);
        return crypto_sign_verify_detached(sig, msg, alen + blen, key) == 0 ? WA_OK : WA_R_SIGNATURE;
    }
    return WA_R_ALG_UNSUPPORTED;
}
