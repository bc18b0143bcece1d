/*
 * webshell-gateway: passkeys (README.md, "Passkeys").  The gateway only
 * carries bytes: challenges come from the session manager (which verifies
 * every response with lib/webauthn and keeps nothing but a bounded
 * challenge table) and credentials live in the account service.  What the
 * gateway adds is the origin it checked (https://<Host>, which the page's
 * clientDataJSON must name) and, for registration, the session the cookie
 * names: only a logged-in session registers a passkey, for its own
 * principal.
 *
 * Bodies are application/x-www-form-urlencoded; binary fields base64url
 * without padding, as the page gets them from navigator.credentials.
 */
#include <sodium.h>

#include "gateway.h"

#define B64_FIELD 6000          /* a field's characters (an attestation of 4 KiB) */

static char field[B64_FIELD];
static uint8_t f_id[256], f_cd[2048], f_ad[1024], f_sig[80], f_att[4096];

/* Field `name` of the request body, base64url-decoded into out; its length or -1. */
static long b64_field(struct conn *k, const char *name, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (!form_field(k->rq, k->rq_len, name, field, sizeof field) ||
        sodium_base642bin(out, cap, field, strlen(field), 0, &n, 0, sodium_base64_VARIANT_URLSAFE_NO_PADDING) || !n)
        return -1;
    return (long)n;
}

static void challenge_reply(struct conn *k, const uint8_t *c, size_t n, const char *user)
{
    char b64[64], body[160];
    sodium_bin2base64(b64, sizeof b64, c, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    int bl = user ? fmt_snprintf(body, sizeof body, "{\"challenge\":\"%s\",\"rpId\":\"localhost\",\"user\":\"%s\"}", b64,
                                 user)
                  : fmt_snprintf(body, sizeof body, "{\"challenge\":\"%s\",\"rpId\":\"localhost\"}", b64);
    reply(k, 200, "application/json", body, (uint32_t)bl, 0, 0, 0, 0);
}

void pk_login_options(struct conn *k)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_passkeyChallenge_Results_reader r;
    if (rt_error(capos_SessionManager_passkeyChallenge(&cl, &b, &call, &r))) {
        refuse(k, 503, "passkey.no-challenge");
        return;
    }
    capnp_data c = capos_SessionManager_passkeyChallenge_Results_get_challenge(r);
    challenge_reply(k, c.ptr, c.len, 0);
}

void pk_login(struct conn *k)
{
    long il = b64_field(k, "id", f_id, sizeof f_id), cl = b64_field(k, "clientData", f_cd, sizeof f_cd);
    long al = b64_field(k, "authData", f_ad, sizeof f_ad), sl = b64_field(k, "signature", f_sig, sizeof f_sig);
    if (il < 0 || cl < 0 || al < 0 || sl < 0) {
        refuse(k, 400, "passkey.body");
        return;
    }
    int s = sess_free_slot();
    if (s < 0) {
        refuse(k, 503, "login.gateway-full");
        return;
    }
    char origin[80];
    fmt_snprintf(origin, sizeof origin, "https://%s", k->host);
    RT_BUFS(b, 4096, 512);
    capnp_client mc = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_passkeyLogin_Results_reader r;
    int e = rt_error(capos_SessionManager_passkeyLogin(&mc, &b, &call, f_id, (size_t)il, f_cd, (size_t)cl, f_ad,
                                                       (size_t)al, f_sig, (size_t)sl, origin, strlen(origin), profile,
                                                       strlen(profile), &r));
    int res = e ? -1 : capos_SessionManager_passkeyLogin_Results_get_result(r);
    if (res != capos_LoginResult_ok || call.result_ncaps != 2) {
        for (uint32_t j = 0; j < call.result_ncaps; j++)
            rt_release(b.result_caps[j]);
        char why[64] = "passkey.unavailable";
        if (!e) {
            capnp_text t = capos_SessionManager_passkeyLogin_Results_get_reason(r);
            fmt_snprintf(why, sizeof why, "%.*s", (int)(t.len < 48 ? t.len : 48), t.str);
        }
        refuse(k, res == capos_LoginResult_tooManySessions ? 503 : e ? 502 : 401, why);
        return;
    }
    char who[33] = "";
    RT_BUFS(ib, 64, 512);
    capnp_client sc = RT_CLIENT(b.result_caps[capos_SessionManager_passkeyLogin_Results_get_session(r)]);
    capnp_call ic;
    capos_UserSession_info_Results_reader ir;
    if (!capos_UserSession_info(&sc, &ib, &ic, &ir)) {
        capnp_text p = capos_UserSession_info_Results_get_principal(ir);
        fmt_snprintf(who, sizeof who, "%.*s", (int)(p.len < 32 ? p.len : 32), p.str);
    }
    sess_new((uint32_t)s, b.result_caps[capos_SessionManager_passkeyLogin_Results_get_session(r)],
             b.result_caps[capos_SessionManager_passkeyLogin_Results_get_context(r)], who, strlen(who));
    set_cookie_reply(k, (uint32_t)s);
}

void pk_register_options(struct conn *k)
{
    int s = cookie_sess(k);
    if (s < 0) {
        refuse(k, 401, "passkey.no-session");
        return;
    }
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(sess[s].session);
    capnp_call call;
    capos_UserSession_passkeyChallenge_Results_reader r;
    if (rt_error(capos_UserSession_passkeyChallenge(&cl, &b, &call, &r))) {
        refuse(k, 503, "passkey.no-challenge");
        return;
    }
    capnp_data c = capos_UserSession_passkeyChallenge_Results_get_challenge(r);
    challenge_reply(k, c.ptr, c.len, sess[s].user);
}

void pk_register(struct conn *k)
{
    int s = cookie_sess(k);
    if (s < 0) {
        refuse(k, 401, "passkey.no-session");
        return;
    }
    long cl = b64_field(k, "clientData", f_cd, sizeof f_cd), al = b64_field(k, "attestation", f_att, sizeof f_att);
    if (cl < 0 || al < 0 || cl + al > 3800) {
        refuse(k, 400, "passkey.body");
        return;
    }
    char origin[80];
    fmt_snprintf(origin, sizeof origin, "https://%s", k->host);
    RT_BUFS(b, 4096, 256);
    capnp_client uc = RT_CLIENT(sess[s].session);
    capnp_call call;
    capos_UserSession_passkeyRegister_Results_reader r;
    if (rt_error(capos_UserSession_passkeyRegister(&uc, &b, &call, f_cd, (size_t)cl, f_att, (size_t)al, origin,
                                                   strlen(origin), &r))) {
        refuse(k, 502, "passkey.unavailable");
        return;
    }
    capnp_text t = capos_UserSession_passkeyRegister_Results_get_reason(r);
    char why[64];
    fmt_snprintf(why, sizeof why, "%.*s", (int)(t.len < 48 ? t.len : 48), t.str);
    if (!capos_UserSession_passkeyRegister_Results_get_ok(r)) {
        refuse(k, 400, why);
        return;
    }
    static const char ok[] = "{\"registered\":true}";
    reply(k, 200, "application/json", ok, sizeof ok - 1, 0, 0, 0, 0);
    printf("webshell-gateway: session %08x: passkey registered for %s\n", sess[s].id, sess[s].user);
}
