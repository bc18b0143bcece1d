/*
 * session-manager: the WebAuthn admission (passkeys), over lib/webauthn.
 *
 * The relying party is "localhost" (browsers accept WebAuthn on plain
 * localhost names only); the accepted origin is the one the calling
 * gateway saw and checked (https://localhost or https://localhost:PORT:
 * the guest cannot know the host's forwarded port), and user verification
 * is required.  Challenges are 32 bytes from the entropy source (the
 * runtime's getrandom: none, and no challenge is issued), single use,
 * valid CHALLENGE_MS, in one bounded table for both ceremonies: a login
 * challenge is bound to nobody, a registration challenge to the session
 * that asked (its badge), and a registration is accepted only from that
 * same session.  Credentials live in the account service
 * (AccountStore.passkey*); every outcome is audited with its reason code.
 */
#include "sm.h"
#include "webauthn/webauthn.h"

#define CHALLENGE_MS 120000u
#define RP_ID "localhost"

long getrandom(void *buf, size_t len, unsigned flags);

static struct wa_challenges challenges;
static bool challenges_ready;

static uint64_t now_ms(void) { return rt_timer_now() / 1000000; }

/* 0 and the challenge in out, or the reason there is none. */
static const char *issue(int ceremony, uint64_t binding, uint8_t out[WA_CHALLENGE_LEN])
{
    if (!challenges_ready) {
        wa_challenges_init(&challenges, CHALLENGE_MS);
        challenges_ready = true;
    }
    if (getrandom(out, WA_CHALLENGE_LEN, 0) != WA_CHALLENGE_LEN)
        return "passkey-no-entropy";                        /* fails closed */
    int e = wa_challenge_issue(&challenges, ceremony, out, binding, now_ms());
    return e == WA_OK ? 0 : webauthn_reason_str(e);
}

/* The origin the gateway passes: https://localhost, optionally :PORT. */
static bool origin_ok(capnp_text o, char *out, size_t cap)
{
    static const char base[] = "https://" RP_ID;
    size_t bl = sizeof base - 1;
    if (o.len < bl || o.len >= cap || memcmp(o.str, base, bl))
        return false;
    if (o.len > bl) {
        if (o.str[bl] != ':' || o.len - bl - 1 < 1 || o.len - bl - 1 > 5)
            return false;
        for (size_t i = bl + 1; i < o.len; i++)
            if (o.str[i] < '0' || o.str[i] > '9')
                return false;
    }
    text(o, out, cap);
    return true;
}

int do_pk_challenge(void *self, capos_SessionManager_passkeyChallenge_Params_reader p,
                    capos_SessionManager_passkeyChallenge_Results_builder r)
{
    uint8_t c[WA_CHALLENGE_LEN];
    const char *why = issue(WA_GET, 0, c);
    if (why) {
        audit_rec("passkey-challenge-denied", why, 0, "");
        return CAP_ERR_OVERLOADED;
    }
    capos_SessionManager_passkeyChallenge_Results_set_challenge(r, c, sizeof c);
    return CAPNP_OK;
}

int do_pk_login(void *self, capos_SessionManager_passkeyLogin_Params_reader p,
                capos_SessionManager_passkeyLogin_Results_builder r)
{
    capnp_data id = capos_SessionManager_passkeyLogin_Params_get_credentialId(p);
    capnp_data cd = capos_SessionManager_passkeyLogin_Params_get_clientData(p);
    capnp_data ad = capos_SessionManager_passkeyLogin_Params_get_authData(p);
    capnp_data sig = capos_SessionManager_passkeyLogin_Params_get_signature(p);
    capnp_text pf = capos_SessionManager_passkeyLogin_Params_get_profile(p);
    char origin[40], profile[16], who[24] = "";
    if (pf.len == 0 || pf.len >= sizeof profile || id.len == 0 || id.len > WA_CRED_ID_MAX)
        return CAP_ERR_INVALID_ARGUMENT;
    text(pf, profile, sizeof profile);
    const char *reason = 0;
    struct wa_credential cred;
    if (!origin_ok(capos_SessionManager_passkeyLogin_Params_get_origin(p), origin, sizeof origin))
        reason = "passkey-origin";
    RT_BUFS(b, 512, 1024);
    capnp_client ac = RT_CLIENT(accounts);
    capnp_call call;
    capos_AccountStore_passkeyFind_Results_reader fr;
    if (!reason) {
        if (capos_AccountStore_passkeyFind(&ac, &b, &call, id.ptr, id.len, &fr) ||
            !capos_AccountStore_passkeyFind_Results_get_found(fr)) {
            reason = "passkey-unknown";
        } else {
            capnp_data rec = capos_AccountStore_passkeyFind_Results_get_record(fr);
            text(capos_AccountStore_passkeyFind_Results_get_principal(fr), who, sizeof who);
            if (wa_credential_decode(rec.ptr, rec.len, &cred) != WA_OK)
                reason = "passkey-record";
        }
    }
    if (!reason) {
        const char *const origins[] = { origin, 0 };
        struct wa_rp rp = { .rp_id = RP_ID, .origins = origins, .require_uv = 1 };
        struct wa_result res;
        if (!challenges_ready)
            wa_challenges_init(&challenges, CHALLENGE_MS), challenges_ready = true;
        int e = wa_verify_assertion(&rp, &challenges, now_ms(), id.ptr, id.len, cd.ptr, cd.len, ad.ptr, ad.len, sig.ptr,
                                    sig.len, &cred, &res);
        if (e != WA_OK) {
            reason = webauthn_reason_str(e);
        } else {
            RT_BUFS(ub, 512, 128);
            capnp_client uc = RT_CLIENT(accounts);
            capnp_call ucall;
            capos_AccountStore_passkeyUsed_Results_reader ur;
            if (capos_AccountStore_passkeyUsed(&uc, &ub, &ucall, id.ptr, id.len, cred.sign_count, rt_timer_now(), &ur) ||
                capos_AccountStore_passkeyUsed_Results_get_result(ur) != capos_AdminResult_ok)
                reason = "passkey-not-kept";                /* the new sign count must be durable first */
        }
    }
    if (!reason) {
        RT_BUFS(lb, 256, 1024);
        capnp_client lc = RT_CLIENT(accounts);
        capnp_call lcall;
        capos_AccountStore_lookup_Results_reader lr;
        int e = capos_AccountStore_lookup(&lc, &lb, &lcall, who, strlen(who), &lr);
        reason = account_reason(!e && capos_AccountStore_lookup_Results_get_found(lr), lr, profile, false);
    }
    char code[48] = "";
    if (reason && strncmp(reason, "passkey-", 8) && strncmp(reason, "account-", 8) && strncmp(reason, "profile-", 8))
        fmt_snprintf(code, sizeof code, "passkey-%s", reason);     /* lib/webauthn's reason, namespaced */
    else if (reason)
        fmt_snprintf(code, sizeof code, "%s", reason);
    uint32_t facet, ctx, fi, ci;
    uint16_t a = admit(reason ? code : 0, who, profile, "passkey", &facet, &ctx);
    capos_SessionManager_passkeyLogin_Results_set_result(r, a);
    capos_SessionManager_passkeyLogin_Results_set_reason(r, code, strlen(code));
    if (a == capos_LoginResult_ok) {
        hand_out(r.s, facet, ctx, &fi, &ci);
        capos_SessionManager_passkeyLogin_Results_set_session(r, fi);
        capos_SessionManager_passkeyLogin_Results_set_context(r, ci);
    }
    sodium_memzero(&cred, sizeof cred);
    return CAPNP_OK;
}

int do_pk_reg_challenge(void *self, capos_UserSession_passkeyChallenge_Params_reader p,
                        capos_UserSession_passkeyChallenge_Results_builder r)
{
    int s = us_slot();
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    if (!strcmp(slots[s].profile, "guest") || !strcmp(slots[s].method, "none"))
        return CAP_ERR_INVALID_ARGUMENT;                    /* not for guests */
    uint8_t c[WA_CHALLENGE_LEN];
    const char *why = issue(WA_CREATE, badge_of((uint32_t)s), c);
    if (why) {
        audit_rec("passkey-challenge-denied", why, badge_of((uint32_t)s), "");
        return CAP_ERR_OVERLOADED;
    }
    capos_UserSession_passkeyChallenge_Results_set_challenge(r, c, sizeof c);
    return CAPNP_OK;
}

int do_pk_register(void *self, capos_UserSession_passkeyRegister_Params_reader p,
                   capos_UserSession_passkeyRegister_Results_builder r)
{
    int s = us_slot();
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    struct sess *x = &slots[s];
    capnp_data cd = capos_UserSession_passkeyRegister_Params_get_clientData(p);
    capnp_data att = capos_UserSession_passkeyRegister_Params_get_attestation(p);
    char origin[40];
    const char *reason = 0;
    struct wa_credential cred;
    struct wa_result res;
    if (!strcmp(x->profile, "guest") || !strcmp(x->method, "none"))
        reason = "passkey-guest";
    else if (!origin_ok(capos_UserSession_passkeyRegister_Params_get_origin(p), origin, sizeof origin))
        reason = "passkey-origin";
    else if (!challenges_ready)
        reason = "challenge.unknown";
    if (!reason) {
        const char *const origins[] = { origin, 0 };
        struct wa_rp rp = { .rp_id = RP_ID, .origins = origins, .require_uv = 1 };
        int e = wa_verify_registration(&rp, &challenges, now_ms(), cd.ptr, cd.len, att.ptr, att.len, &cred, &res);
        if (e != WA_OK)
            reason = webauthn_reason_str(e);
        else if (res.binding != badge_of((uint32_t)s))
            reason = "challenge.other-session";             /* issued to another session */
    }
    if (!reason) {
        uint8_t rec[WA_CREDENTIAL_WIRE_MAX];
        size_t n = wa_credential_encode(&cred, rec, sizeof rec);
        RT_BUFS(b, 1024, 128);
        capnp_client ac = RT_CLIENT(accounts);
        capnp_call call;
        capos_AccountStore_passkeyAdd_Results_reader ar;
        int e = n ? capos_AccountStore_passkeyAdd(&ac, &b, &call, x->principal, strlen(x->principal), rec, n,
                                                  rt_timer_now(), &ar) : -1;
        uint16_t res2 = e ? capos_AdminResult_full : capos_AccountStore_passkeyAdd_Results_get_result(ar);
        if (res2 == capos_AdminResult_keyExists)
            reason = "passkey-exists";
        else if (res2 != capos_AdminResult_ok)
            reason = "passkey-not-kept";
    }
    char code[48];
    fmt_snprintf(code, sizeof code, "%s%s", reason && strncmp(reason, "passkey-", 8) ? "passkey-" : "",
                 reason ? reason : "ok");
    audit_rec(reason ? "passkey-register-denied" : "passkey-register", code, badge_of((uint32_t)s),
              reason ? "" : x->principal);
    capos_UserSession_passkeyRegister_Results_set_ok(r, reason == 0);
    capos_UserSession_passkeyRegister_Results_set_reason(r, code, strlen(code));
    sodium_memzero(&cred, sizeof cred);
    return CAPNP_OK;
}
