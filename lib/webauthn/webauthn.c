/* lib/webauthn: the registration and assertion ceremonies (WebAuthn Level 2,
 * sections 7.1 and 7.2), in the specification's order: client data, then
 * the challenge (consumed), origin and cross-origin, then authenticator
 * data (RP ID hash, UP, UV), then keys and signatures, then the sign
 * count.  Outputs are written only on WA_OK. */
#include <string.h>

#include "internal.h"

static const char *const REASON[WA_R_COUNT] = {
    [WA_OK] = "ok",
    [WA_R_INPUT_SIZE] = "input.size",
    [WA_R_CBOR] = "cbor.malformed",
    [WA_R_CBOR_INDEFINITE] = "cbor.indefinite",
    [WA_R_CBOR_DUP_KEY] = "cbor.duplicate-key",
    [WA_R_CBOR_DEPTH] = "cbor.depth",
    [WA_R_CBOR_TRAILING] = "cbor.trailing",
    [WA_R_ATT_SHAPE] = "attestation.shape",
    [WA_R_JSON] = "client-data.json",
    [WA_R_JSON_DUP_KEY] = "client-data.duplicate-key",
    [WA_R_TYPE] = "client-data.type",
    [WA_R_CHALLENGE_FORMAT] = "challenge.format",
    [WA_R_CHALLENGE_UNKNOWN] = "challenge.unknown",
    [WA_R_CHALLENGE_EXPIRED] = "challenge.expired",
    [WA_R_CHALLENGE_CEREMONY] = "challenge.ceremony",
    [WA_R_ORIGIN] = "client-data.origin",
    [WA_R_CROSS_ORIGIN] = "client-data.cross-origin",
    [WA_R_AUTH_DATA] = "auth-data.malformed",
    [WA_R_RP_ID_HASH] = "auth-data.rp-id-hash",
    [WA_R_UP] = "auth-data.user-present",
    [WA_R_UV] = "auth-data.user-verified",
    [WA_R_NO_CREDENTIAL_DATA] = "auth-data.no-credential",
    [WA_R_UNEXPECTED_CREDENTIAL_DATA] = "auth-data.unexpected-credential",
    [WA_R_EXTENSIONS] = "auth-data.extensions",
    [WA_R_CRED_ID_LEN] = "credential.id-length",
    [WA_R_CRED_ID_MISMATCH] = "credential.id-mismatch",
    [WA_R_COSE_KEY] = "key.cose",
    [WA_R_ALG_UNSUPPORTED] = "key.alg",
    [WA_R_KEY_INVALID] = "key.invalid",
    [WA_R_SIGNATURE] = "signature",
    [WA_R_SIGN_COUNT] = "sign-count.clone",
    [WA_R_ATT_FMT] = "attestation.fmt",
    [WA_R_ATT_STMT] = "attestation.statement",
    [WA_R_ATT_X5C] = "attestation.x5c",
    [WA_R_ATT_ALG] = "attestation.alg",
    [WA_R_ATT_SIGNATURE] = "attestation.signature",
    [WA_R_CHALLENGE_TABLE_FULL] = "challenge.table-full",
    [WA_R_RATE_LIMITED] = "rate-limited",
    [WA_R_CONFIG] = "config",
    [WA_R_RECORD] = "credential.record",
};

const char *webauthn_reason_str(int reason)
{
    if (reason < 0 || reason >= WA_R_COUNT || !REASON[reason])
        return "?";
    return REASON[reason];
}

static int rp_usable(const struct wa_rp *rp)
{
    if (!rp || !rp->rp_id || !rp->rp_id[0] || !rp->origins || !rp->origins[0])
        return 0;
    for (unsigned i = 0; rp->origins[i]; i++)
        if (i >= WA_ORIGINS_MAX)
            return 0;
    return 1;
}

static int origin_accepted(const struct wa_rp *rp, const uint8_t *o, size_t n)
{
    for (unsigned i = 0; rp->origins[i]; i++)
        if (wa_text_is(o, n, rp->origins[i]))
            return 1;
    return 0;
}

/* Steps shared by both ceremonies: client data, challenge, origin. */
static int check_client_data(const struct wa_rp *rp, struct wa_challenges *t, uint64_t now_ms, int ceremony,
                             const uint8_t *cd, size_t cd_len, uint64_t *binding, uint8_t hash[WA_HASH_LEN])
{
    struct wa_client_data c;
    if (!cd || cd_len == 0 || cd_len > WA_CLIENT_DATA_MAX)
        return WA_R_INPUT_SIZE;
    int r = wa_json_client_data(cd, cd_len, &c);
    if (r != WA_OK)
        return r;
    const char *want = ceremony == WA_CREATE ? "webauthn.create" : "webauthn.get";
    if (!c.has_type || !wa_text_is(c.type, c.type_len, want))
        return WA_R_TYPE;
    if (!c.has_challenge)
        return WA_R_CHALLENGE_FORMAT;
    if ((r = wa_challenge_take(t, ceremony, c.challenge, c.challenge_len, now_ms, binding)) != WA_OK)
        return r;
    if (!c.has_origin || !origin_accepted(rp, c.origin, c.origin_len))
        return WA_R_ORIGIN;
    if (c.cross_origin)
        return WA_R_CROSS_ORIGIN;
    wa_sha256(cd, cd_len, hash);
    return WA_OK;
}

/* RP ID hash and the user flags. */
static int check_auth_flags(const struct wa_rp *rp, const struct wa_auth_data *ad)
{
    uint8_t want[WA_HASH_LEN];
    wa_sha256((const uint8_t *)rp->rp_id, strlen(rp->rp_id), want);
    if (memcmp(want, ad->rp_id_hash, WA_HASH_LEN) != 0)
        return WA_R_RP_ID_HASH;
    if ((ad->flags & WA_FLAG_BS) && !(ad->flags & WA_FLAG_BE))
        return WA_R_AUTH_DATA;          /* backed up but not backup-eligible (Level 3 6.1) */
    if (!(ad->flags & WA_FLAG_UP))
        return WA_R_UP;
    if (rp->require_uv && !(ad->flags & WA_FLAG_UV))
        return WA_R_UV;
    return WA_OK;
}

int wa_verify_registration(const struct wa_rp *rp, struct wa_challenges *t, uint64_t now_ms,
                           const uint8_t *client_data, size_t client_data_len,
                           const uint8_t *attestation, size_t attestation_len,
                           struct wa_credential *cred, struct wa_result *res)
{
    uint64_t binding = 0;
    uint8_t hash[WA_HASH_LEN];
    const uint8_t *ad_bytes;
    size_t ad_len;
    struct wa_cur fmt, stmt;
    struct wa_auth_data ad;
    struct wa_pubkey key;
    if (!rp_usable(rp) || !t || !cred || !res)
        return WA_R_CONFIG;
    if (!attestation || attestation_len == 0 || attestation_len > WA_ATTESTATION_MAX)
        return WA_R_INPUT_SIZE;
    int r = check_client_data(rp, t, now_ms, WA_CREATE, client_data, client_data_len, &binding, hash);
    if (r != WA_OK)
        return r;
    if ((r = wa_attestation_parse(attestation, attestation_len, &ad_bytes, &ad_len, &fmt, &stmt)) != WA_OK)
        return r;
    if (ad_len > WA_AUTH_DATA_MAX)
        return WA_R_INPUT_SIZE;
    if ((r = wa_auth_data_parse(ad_bytes, ad_len, &ad)) != WA_OK)
        return r;
    if ((r = check_auth_flags(rp, &ad)) != WA_OK)
        return r;
    if (!(ad.flags & WA_FLAG_AT))
        return WA_R_NO_CREDENTIAL_DATA;
    if ((r = wa_cose_key_parse(ad.cose_key, ad.cose_key_len, &key)) != WA_OK)
        return r;
    if ((r = wa_attestation_check(&fmt, &stmt, &key, ad_bytes, ad_len, hash)) != WA_OK)
        return r;
    memset(cred, 0, sizeof *cred);
    memcpy(cred->id, ad.cred_id, ad.cred_id_len);
    cred->id_len = (uint16_t)ad.cred_id_len;
    cred->alg = (int16_t)key.alg;
    cred->key_len = (uint8_t)key.key_len;
    memcpy(cred->key, key.key, key.key_len);
    cred->sign_count = ad.sign_count;
    memcpy(cred->aaguid, ad.aaguid, WA_AAGUID_LEN);
    cred->flags = ad.flags;
    res->binding = binding;
    res->flags = ad.flags;
    res->sign_count = ad.sign_count;
    return WA_OK;
}

/* Clone detection (WebAuthn 7.2 step 21): when either counter is non-zero
 * the new one must be greater than the stored one. */
static int sign_count_ok(uint32_t stored, uint32_t seen)
{
    if (stored == 0 && seen == 0)
        return 1;
    return seen > stored;
}

int wa_verify_assertion(const struct wa_rp *rp, struct wa_challenges *t, uint64_t now_ms,
                        const uint8_t *cred_id, size_t cred_id_len,
                        const uint8_t *client_data, size_t client_data_len,
                        const uint8_t *auth_data, size_t auth_data_len,
                        const uint8_t *sig, size_t sig_len,
                        struct wa_credential *cred, struct wa_result *res)
{
    uint64_t binding = 0;
    uint8_t hash[WA_HASH_LEN];
    struct wa_auth_data ad;
    if (!rp_usable(rp) || !t || !cred || !res || cred->id_len == 0 || cred->id_len > WA_CRED_ID_MAX)
        return WA_R_CONFIG;
    if (!auth_data || auth_data_len == 0 || auth_data_len > WA_AUTH_DATA_MAX || !sig || sig_len == 0 ||
        sig_len > WA_SIG_MAX)
        return WA_R_INPUT_SIZE;
    if (!cred_id || cred_id_len != cred->id_len || memcmp(cred_id, cred->id, cred_id_len) != 0)
        return WA_R_CRED_ID_MISMATCH;
    int r = check_client_data(rp, t, now_ms, WA_GET, client_data, client_data_len, &binding, hash);
    if (r != WA_OK)
        return r;
    if ((r = wa_auth_data_parse(auth_data, auth_data_len, &ad)) != WA_OK)
        return r;
    if (ad.flags & WA_FLAG_AT)
        return WA_R_UNEXPECTED_CREDENTIAL_DATA;
    if ((r = check_auth_flags(rp, &ad)) != WA_OK)
        return r;
    if ((r = wa_sig_verify(cred->alg, cred->key, cred->key_len, auth_data, auth_data_len, hash, WA_HASH_LEN,
                           sig, sig_len)) != WA_OK)
        return r;
    if (!sign_count_ok(cred->sign_count, ad.sign_count))
        return WA_R_SIGN_COUNT;
    if (ad.sign_count > cred->sign_count)
        cred->sign_count = ad.sign_count;
    res->binding = binding;
    res->flags = ad.flags;
    res->sign_count = ad.sign_count;
    return WA_OK;
}
