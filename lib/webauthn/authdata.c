/* lib/webauthn: authenticator data (WebAuthn 6.1).
 *
 *   rpIdHash (32) | flags (1) | signCount (4, big-endian)
 *   [AT] aaguid (16) | credentialIdLength (2) | credentialId | credentialPublicKey (CBOR)
 *   [ED] extensions (a CBOR map)
 *
 * Nothing may follow.  The credential key's CBOR is only delimited here
 * (wa_cbor_skip); cose.c reads it. */
#include <string.h>

#include "internal.h"

#define AUTH_DATA_FIXED (WA_HASH_LEN + 1u + 4u)

int wa_auth_data_parse(const uint8_t *p, size_t n, struct wa_auth_data *out)
{
    struct wa_cur c;
    const uint8_t *b;
    memset(out, 0, sizeof *out);
    wa_cur_init(&c, p, n);
    if (!wa_cur_take(&c, WA_HASH_LEN, &out->rp_id_hash) || !wa_cur_take(&c, 1, &b))
        return WA_R_AUTH_DATA;
    out->flags = b[0];
    if (!wa_cur_take(&c, 4, &b))
        return WA_R_AUTH_DATA;
    out->sign_count = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    if (out->flags & WA_FLAG_AT) {
        if (!wa_cur_take(&c, WA_AAGUID_LEN, &out->aaguid) || !wa_cur_take(&c, 2, &b))
            return WA_R_AUTH_DATA;
        size_t idlen = (size_t)b[0] << 8 | b[1];
        if (idlen == 0 || idlen > WA_CRED_ID_MAX)
            return WA_R_CRED_ID_LEN;
        if (!wa_cur_take(&c, idlen, &out->cred_id))
            return WA_R_AUTH_DATA;
        out->cred_id_len = idlen;
        size_t start = c.off;
        int r = wa_cbor_skip(&c);
        if (r != WA_OK)
            return r == WA_R_CBOR ? WA_R_COSE_KEY : r;
        out->cose_key = p + start;
        out->cose_key_len = c.off - start;
    }
    if (out->flags & WA_FLAG_ED) {
        if (wa_cbor_peek(&c) != CBOR_MAP)
            return WA_R_EXTENSIONS;
        int r = wa_cbor_skip(&c);
        if (r != WA_OK)
            return r == WA_R_CBOR ? WA_R_EXTENSIONS : r;
    }
    return wa_cur_left(&c) ? WA_R_AUTH_DATA : WA_OK;
}
