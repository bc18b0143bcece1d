/*
 * session-manager: the SessionManager service, the only place a person
 * becomes a session. login() asks the CredentialStore, then the
 * AccountStore (status, allowed profiles); only when both agree does it
 * mint a SessionContext (through the kernel's SessionAuthority, which only
 * this service and init hold) and a UserSession (a facet of its own
 * endpoint whose badge names the session). Every decision goes to the audit
 * log as a principal-blanked reason code; the caller only learns
 * "denied" (or "backoff"), never why.
 */
#include "rt/capos.h"
#include <sodium.h>

#define SLOTS 32
struct sess {
    bool used;
    char principal[24], profile[16], method[12];
    uint64_t created;
};
static struct sess slots[SLOTS];
static uint32_t creds, accounts, audit, authority, us_owner;
static struct rt_incoming in;

static void audit_rec(const char *event, const char *reason, uint64_t session)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), session, &r);
}

/* A new session: its context (minted) and its UserSession facet. */
static int open_session(const char *principal, const char *profile, const char *method, uint32_t *facet, uint32_t *ctx)
{
    uint32_t s = 0;
    while (s < SLOTS && slots[s].used)
        s++;
    if (s == SLOTS)
        return -1;
    int64_t c = rt_session_mint(authority, principal, profile);
    int64_t f = c >= 0 ? rt_endpoint_facet(us_owner, s) : -1;
    if (f < 0) {
        if (c >= 0)
            rt_release((uint32_t)c);
        return -1;
    }
    slots[s] = (struct sess){ .used = true, .created = rt_timer_now() };
    strlcpy(slots[s].principal, principal, sizeof slots[s].principal);
    strlcpy(slots[s].profile, profile, sizeof slots[s].profile);
    strlcpy(slots[s].method, method, sizeof slots[s].method);
    *facet = (uint32_t)f;
    *ctx = (uint32_t)c;
    audit_rec("session-open", method, s);
    return (int)s;
}

static void text(capnp_text t, char *out, size_t cap)
{
    size_t n = t.len < cap - 1 ? t.len : cap - 1;
    memcpy(out, t.str, n);
    out[n] = 0;
}

/* Why the account may not log in with this profile (0: it may). The SSH
 * path reports the same causes under ssh-* codes. */
static const char *account_reason(bool found, capos_AccountStore_lookup_Results_reader lr, const char *profile, bool ssh)
{
    if (!found)
        return ssh ? "ssh-account-missing" : "account-missing";
    uint16_t st = capos_AccountStore_lookup_Results_get_status(lr);
    if (st == capos_AccountStatus_disabled)
        return ssh ? "ssh-account-disabled" : "account-disabled";
    if (st == capos_AccountStatus_locked)
        return ssh ? "ssh-account-locked" : "account-locked";
    if (st == capos_AccountStatus_recoveryOnly)
        return ssh ? "ssh-account-recovery-only" : "account-recovery-only";
    capnp_list pl = capos_AccountStore_lookup_Results_get_profiles(lr);
    for (uint32_t i = 0; i < pl.count; i++) {
        capnp_text t = capnp_list_text(pl, i);
        if (t.len == strlen(profile) && !memcmp(t.str, profile, t.len))
            return 0;
    }
    return ssh ? "ssh-profile-not-allowed" : "profile-not-allowed";
}

/* The common end of both login paths.  A denial (reason set) is audited
 * with its reason; otherwise the session is opened and audited.  Returns 1
 * admitted (facet and ctx set), 0 denied, or a negative capOS error. */
static int admit(const char *reason, const char *who, const char *profile, const char *method,
                 uint32_t *facet, uint32_t *ctx)
{
    if (reason) {
        audit_rec("login-denied", reason, 0);
        return 0;
    }
    int s = open_session(who, profile, method, facet, ctx);
    if (s < 0)
        return CAP_ERR_OVERLOADED;
    audit_rec("login", "ok", (uint64_t)s);
    return 1;
}

static int do_login(void *self, capos_SessionManager_login_Params_reader p, capos_SessionManager_login_Results_builder r)
{
    char who[24], profile[16];
    capnp_text w = capos_SessionManager_login_Params_get_principal(p), pf = capos_SessionManager_login_Params_get_profile(p);
    capnp_data pw = capos_SessionManager_login_Params_get_password(p);
    if (w.len == 0 || w.len >= sizeof who || pf.len == 0 || pf.len >= sizeof profile)
        return CAP_ERR_INVALID_ARGUMENT;
    text(w, who, sizeof who);
    text(pf, profile, sizeof profile);

    RT_BUFS(b, 512, 512);
    capnp_call call;
    const char *reason = 0;
    /* the account first: status and profile */
    capnp_client ac = RT_CLIENT(accounts);
    capos_AccountStore_lookup_Results_reader lr;
    int e = capos_AccountStore_lookup(&ac, &b, &call, who, strlen(who), &lr);
    reason = account_reason(!e && capos_AccountStore_lookup_Results_get_found(lr), lr, profile, false);
    /* then the password, always: a refused account costs as much time as a
     * wrong password, so timing does not tell which it was */
    capnp_client cc = RT_CLIENT(creds);
    capos_CredentialStore_verify_Results_reader vr;
    e = capos_CredentialStore_verify(&cc, &b, &call, who, strlen(who), pw.ptr, pw.len, &vr);
    uint16_t cres = e ? capos_CredentialResult_wrongPassword : capos_CredentialStore_verify_Results_get_result(vr);
    if (cres == capos_CredentialResult_backoff) {
        audit_rec("login", "backoff", 0);
        capos_SessionManager_login_Results_set_result(r, capos_LoginResult_backoff);
        return CAPNP_OK;
    }
    if (!reason && cres == capos_CredentialResult_unknownPrincipal)
        reason = "credential-unknown";
    else if (!reason && cres != capos_CredentialResult_ok)
        reason = "password-wrong";
    uint32_t facet, ctx;
    int a = admit(reason, who, profile, "password", &facet, &ctx);
    if (a < 0)
        return a;
    capos_SessionManager_login_Results_set_result(r, a ? capos_LoginResult_ok : capos_LoginResult_denied);
    if (a) {
        capos_SessionManager_login_Results_set_session(r, capnp_add_cap(r.s, facet));
        capos_SessionManager_login_Results_set_context(r, capnp_add_cap(r.s, ctx));
    }
    return CAPNP_OK;
}

static int do_guest(void *self, capos_SessionManager_guest_Params_reader p, capos_SessionManager_guest_Results_builder r)
{
    uint32_t facet, ctx;
    if (open_session("guest", "guest", "none", &facet, &ctx) < 0)
        return CAP_ERR_OVERLOADED;
    capos_SessionManager_guest_Results_set_session(r, capnp_add_cap(r.s, facet));
    capos_SessionManager_guest_Results_set_context(r, capnp_add_cap(r.s, ctx));
    return CAPNP_OK;
}

static int do_info(void *self, capos_UserSession_info_Params_reader p, capos_UserSession_info_Results_builder r)
{
    uint64_t s = in.hdr->badge;
    if (s >= SLOTS || !slots[s].used)
        return CAP_ERR_INVALID_ARGUMENT;
    capos_UserSession_info_Results_set_principal(r, slots[s].principal, strlen(slots[s].principal));
    capos_UserSession_info_Results_set_profile(r, slots[s].profile, strlen(slots[s].profile));
    capos_UserSession_info_Results_set_authMethod(r, slots[s].method, strlen(slots[s].method));
    capos_UserSession_info_Results_set_createdNs(r, slots[s].created);
    capos_UserSession_info_Results_set_expiresNs(r, 0);          /* no expiry for now */
    return CAPNP_OK;
}

/* The SSH bridge: an authorized key's signature over the session id. */
static int do_ssh(void *self, capos_SessionManager_sshPublicKey_Params_reader p,
                  capos_SessionManager_sshPublicKey_Results_builder r)
{
    char who[24], profile[16];
    capnp_text w = capos_SessionManager_sshPublicKey_Params_get_principal(p);
    capnp_text pf = capos_SessionManager_sshPublicKey_Params_get_profile(p);
    capnp_data key = capos_SessionManager_sshPublicKey_Params_get_publicKey(p);
    capnp_data data = capos_SessionManager_sshPublicKey_Params_get_signedData(p);
    capnp_data sig = capos_SessionManager_sshPublicKey_Params_get_signature(p);
    if (w.len == 0 || w.len >= sizeof who || pf.len == 0 || pf.len >= sizeof profile || key.len != 32 ||
        sig.len != 64 || data.len == 0 || data.len > 256)
        return CAP_ERR_INVALID_ARGUMENT;
    text(w, who, sizeof who);
    text(pf, profile, sizeof profile);
    RT_BUFS(b, 256, 1024);
    capnp_call call;
    capnp_client ac = RT_CLIENT(accounts);
    capos_AccountStore_lookup_Results_reader lr;
    const char *reason = 0;
    int e = capos_AccountStore_lookup(&ac, &b, &call, who, strlen(who), &lr);
    bool found = !e && capos_AccountStore_lookup_Results_get_found(lr);
    bool known = false;
    if (found) {
        capnp_list kl = capos_AccountStore_lookup_Results_get_keys(lr);
        for (uint32_t i = 0; i < kl.count; i++) {
            capnp_data k = capnp_list_data(kl, i);
            known |= k.len == 32 && sodium_memcmp(k.ptr, key.ptr, 32) == 0;
        }
    }
    if (!found)
        reason = account_reason(false, lr, profile, true);
    else if (!known)
        reason = "ssh-key-unknown";
    else if (crypto_sign_verify_detached(sig.ptr, data.ptr, data.len, key.ptr) != 0)
        reason = "ssh-bad-signature";
    else
        reason = account_reason(true, lr, profile, true);
    uint32_t facet, ctx;
    int a = admit(reason, who, profile, "publicKey", &facet, &ctx);
    if (a < 0)
        return a;
    capos_SessionManager_sshPublicKey_Results_set_result(r, a ? capos_LoginResult_ok : capos_LoginResult_denied);
    if (a) {
        capos_SessionManager_sshPublicKey_Results_set_session(r, capnp_add_cap(r.s, facet));
        capos_SessionManager_sshPublicKey_Results_set_context(r, capnp_add_cap(r.s, ctx));
    }
    return CAPNP_OK;
}

static const capos_SessionManager_server sm_server = { .login = do_login, .guest = do_guest, .sshPublicKey = do_ssh };
static const capos_UserSession_server us_server = { .info = do_info };

#define TAG_SM 0x5A00000000000001ull
#define TAG_US 0x5A00000000000002ull

static void post_recv(uint32_t owner, void *buf, uint64_t tag)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = 2048 };
    rt_ring_submit_tagged(&s, tag);
}

/* Answer one delivered call: dispatch, then RETURN; result caps move (we
 * keep nothing a caller now holds, except through our own tables). */
static void answer(uint32_t owner, uint8_t *buf, int (*dispatch)(const void *, void *, capnp_server_call *),
                   const void *server)
{
    const struct cap_recv_hdr *h = (const void *)buf;
    in.hdr = h;
    static uint8_t out[2048] __attribute__((aligned(8)));
    uint32_t out_caps[CAP_MAX_XFER];
    capnp_server_call sc = {
        .interface_id = h->interface_id, .method_id = h->method_id,
        .params = buf + sizeof *h, .params_len = h->params_len,
        .result = out, .result_cap = sizeof out, .result_caps = out_caps, .result_caps_cap = CAP_MAX_XFER,
    };
    int e = dispatch(server, &in, &sc);
    uint32_t call_id = h->call_id;
    memset(buf, 0, 2048);                                  /* the request may have held a password */
    if (e) {
        rt_return(owner, call_id, 0, 0, 0, 0, true);
        return;
    }
    struct cap_xfer x[CAP_MAX_XFER];
    for (uint32_t i = 0; i < sc.result_ncaps; i++)
        x[i] = (struct cap_xfer){ out_caps[i], CAP_XFER_MOVE };
    rt_return(owner, call_id, out, (uint32_t)sc.result_len, x, sc.result_ncaps, false);
}

static int sm_dispatch(const void *s, void *self, capnp_server_call *c) { return capos_SessionManager_dispatch(s, self, c); }
static int us_dispatch(const void *s, void *self, capnp_server_call *c) { return capos_UserSession_dispatch(s, self, c); }

int main(void)
{
    uint32_t sm_owner = rt_capset_require("manager");
    creds = rt_capset_require("credentials");
    accounts = rt_capset_require("accounts");
    audit = rt_capset_require("audit");
    authority = rt_capset_require("sessions");
    uint32_t us_client;
    if (rt_endpoint_create(rt_capset_require("endpoints"), capos_UserSession_ID, 0, &us_owner, &us_client))
        return 2;
    rt_release(us_client);                           /* facets are made per session */
    static uint8_t sm_buf[2048] __attribute__((aligned(8))), us_buf[2048] __attribute__((aligned(8)));
    post_recv(sm_owner, sm_buf, TAG_SM);
    post_recv(us_owner, us_buf, TAG_US);
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_poll(&c))
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        if (c.user_data == TAG_SM) {
            if (c.result < 0)
                return 0;
            answer(sm_owner, sm_buf, sm_dispatch, &sm_server);
            post_recv(sm_owner, sm_buf, TAG_SM);
        } else if (c.user_data == TAG_US && c.result >= 0) {
            answer(us_owner, us_buf, us_dispatch, &us_server);
            post_recv(us_owner, us_buf, TAG_US);
        }
    }
}
