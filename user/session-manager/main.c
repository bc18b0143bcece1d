/*
 * session-manager: the SessionManager service, the only place a person
 * becomes a session. login() asks the CredentialStore, then the
 * AccountStore (status, allowed profiles); only when both agree does it
 * mint a SessionContext (through the kernel's SessionAuthority, which only
 * this service and init hold) and a UserSession (a facet of its own
 * endpoint whose badge names the session's slot and generation). Every
 * decision goes to the audit log as a principal-blanked reason code; the
 * caller only learns "denied" (or "backoff", or "too many sessions"),
 * never why.
 *
 * A session ends when its holder calls UserSession.logout, when the shell
 * it watches ends, when its context is revoked (noticed at its next use,
 * or within 5 s), or when it expires (its
 * profile's absolute lifetime; the shell itself logs out after the idle
 * timeout and is killed if it does not). Ending revokes and releases the
 * SessionContext, releases the watched shell's handle and frees the slot;
 * the slot's generation moves on, so the old facet answers nothing.
 *
 * Manifest args (all optional): capacity=N (at most 32) and per profile
 * PROFILE:idle=SECONDS:life=SECONDS (0: none). Defaults: operator idle 15
 * minutes, life 8 hours; every other profile idle 10 minutes, life 1 hour.
 */

#include "sm.h"

#define GRACE_NS 2000000000ull          /* an expired shell's time to say so and log out */
#define NS 1000000000ull

struct sess slots[SLOTS];
static uint32_t capacity = SLOTS, nopen;
static uint64_t opened, ended, refused_full;
static uint32_t creds, audit, authority, us_owner;
uint32_t accounts;
struct rt_incoming in;

struct limits { char profile[16]; uint64_t idle, life; };
static struct limits limits[8];
static uint32_t nlimits;

/* principal: only where naming it leaks nothing (never for a denial) */
void audit_rec(const char *event, const char *reason, uint64_t session, const char *principal)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_recordNamed_Results_reader r;
    capos_AuditLog_recordNamed(&cl, &b, &call, event, strlen(event), reason, strlen(reason), session, principal,
                               strlen(principal), &r);
}

static uint64_t parse_u64(const char *s, const char **end)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9' && v < (1ull << 40))
        v = v * 10 + (uint64_t)(*s++ - '0');
    *end = s;
    return v;
}

static void configure(const char *args)
{
    for (const char *a = args; *a;) {
        while (*a == ' ')
            a++;
        const char *end;
        if (!strncmp(a, "capacity=", 9)) {
            uint64_t v = parse_u64(a + 9, &end);
            capacity = v >= 1 && v <= SLOTS ? (uint32_t)v : SLOTS;
            a = end;
        } else if (*a && nlimits < 8) {
            struct limits *l = &limits[nlimits];
            size_t n = 0;
            while (a[n] && a[n] != ':' && a[n] != ' ')
                n++;
            if (n == 0 || n >= sizeof l->profile || a[n] != ':') {
                while (*a && *a != ' ')
                    a++;
                continue;
            }
            memcpy(l->profile, a, n);
            l->profile[n] = 0;
            l->idle = l->life = ~0ull;
            a += n;
            while (*a == ':') {
                if (!strncmp(a, ":idle=", 6))
                    l->idle = parse_u64(a + 6, &end) * NS, a = end;
                else if (!strncmp(a, ":life=", 6))
                    l->life = parse_u64(a + 6, &end) * NS, a = end;
                else
                    break;
            }
            nlimits++;
        }
        while (*a && *a != ' ')
            a++;
    }
}

static void limits_of(const char *profile, uint64_t *idle, uint64_t *life)
{
    bool op = !strcmp(profile, "operator");
    *idle = (op ? 15 * 60 : 10 * 60) * NS;
    *life = (op ? 8 * 3600 : 3600) * NS;
    for (uint32_t i = 0; i < nlimits; i++)
        if (!strcmp(limits[i].profile, profile)) {
            if (limits[i].idle != ~0ull)
                *idle = limits[i].idle;
            if (limits[i].life != ~0ull)
                *life = limits[i].life;
        }
}

uint64_t badge_of(uint32_t s) { return (uint64_t)slots[s].gen << 8 | s; }

/* The open session a facet's badge names, or -1 (a stale or forged badge). */
static int slot_of(uint64_t badge)
{
    uint32_t s = (uint32_t)(badge & 0xff);
    if (s >= SLOTS || !slots[s].used || slots[s].gen != (uint32_t)(badge >> 8))
        return -1;
    return (int)s;
}

#define TAG_SM    0x5A00000000000001ull
#define TAG_US    0x5A00000000000002ull
#define TAG_SHELL 0x5B00000000000000ull          /* | slot << 32 | gen: a watched shell ended */
static uint8_t wait_res[64] __attribute__((aligned(8)));

/* Everything the session held goes: its context is revoked (its processes'
 * endpoint calls now fail closed) and released, a watched shell is killed
 * (a no-op once it has ended) and its handle released, the slot freed. */
static void end_session(uint32_t s, const char *reason)
{
    struct sess *x = &slots[s];
    if (!x->used)
        return;
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(x->ctx);
    capnp_call call;
    capos_SessionContext_revoke_Results_reader rr;
    capos_SessionContext_revoke(&cl, &b, &call, &rr);
    rt_release(x->ctx);
    if (x->shell != ~0u) {
        rt_kill(x->shell);
        rt_release(x->shell);
    }
    audit_rec("session-end", reason, badge_of(s), x->principal);
    uint32_t gen = (x->gen + 1) & 0xffffff;
    *x = (struct sess){ .gen = gen, .ctx = ~0u, .shell = ~0u };
    nopen--;
    ended++;
}

/* A new session: its context (minted, we keep a copy) and its UserSession
 * facet. -1: the table is full; -2: the kernel refused. */
static int open_session(const char *principal, const char *profile, const char *method, uint32_t *facet, uint32_t *ctx)
{
    uint32_t s = 0;
    if (nopen >= capacity)
        return -1;
    while (s < SLOTS && slots[s].used)
        s++;
    if (s == SLOTS)
        return -1;
    int64_t c = rt_session_mint(authority, principal, profile);
    if (c < 0)
        return -2;
    uint32_t gen = slots[s].gen;
    int64_t f = rt_endpoint_facet(us_owner, (uint64_t)gen << 8 | s);
    if (f < 0) {
        rt_release((uint32_t)c);
        return -2;
    }
    uint64_t now = rt_timer_now(), idle, life;
    limits_of(profile, &idle, &life);
    slots[s] = (struct sess){ .used = true, .gen = gen, .created = now, .expires = life ? now + life : 0,
                              .idle = idle, .ctx = (uint32_t)c, .shell = ~0u };
    strlcpy(slots[s].principal, principal, sizeof slots[s].principal);
    strlcpy(slots[s].profile, profile, sizeof slots[s].profile);
    strlcpy(slots[s].method, method, sizeof slots[s].method);
    *facet = (uint32_t)f;
    *ctx = (uint32_t)c;
    nopen++;
    opened++;
    audit_rec("session-open", method, badge_of(s), principal);
    return (int)s;
}

void text(capnp_text t, char *out, size_t cap)
{
    size_t n = t.len < cap - 1 ? t.len : cap - 1;
    memcpy(out, t.str, n);
    out[n] = 0;
}

/* Why the account may not log in with this profile (0: it may). The SSH
 * path reports the same causes under ssh-* codes. */
const char *account_reason(bool found, capos_AccountStore_lookup_Results_reader lr, const char *profile, bool ssh)
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

/* The common end of every login path.  A denial (reason set) is audited
 * with its reason; otherwise the session is opened and audited.  Returns
 * the LoginResult; facet and ctx are set for ok. */
uint16_t admit(const char *reason, const char *who, const char *profile, const char *method,
                      uint32_t *facet, uint32_t *ctx)
{
    if (reason) {
        audit_rec("login-denied", reason, 0, "");
        return capos_LoginResult_denied;
    }
    int s = open_session(who, profile, method, facet, ctx);
    if (s < 0) {
        if (s == -1)
            refused_full++;
        audit_rec("login-denied", s == -1 ? "session-table-full" : "session-mint-failed", 0, "");
        return s == -1 ? capos_LoginResult_tooManySessions : capos_LoginResult_denied;
    }
    audit_rec("login", "ok", badge_of((uint32_t)s), who);
    return capos_LoginResult_ok;
}

/* Result caps: the facet moves to the caller, the context is copied (we
 * keep ours, to revoke it when the session ends). */
void hand_out(capnp_sbuilder sb, uint32_t facet, uint32_t ctx, uint32_t *fi, uint32_t *ci)
{
    *fi = capnp_add_cap(sb, facet);
    *ci = capnp_add_cap(sb, ctx);
    in.keep |= 1u << *ci;
}

static int do_login(void *self, capos_SessionManager_login_Params_reader p, capos_SessionManager_login_Results_builder r)
{
    char who[24], profile[16];
    capnp_text w = capos_SessionManager_login_Params_get_principal(p), pf = capos_SessionManager_login_Params_get_profile(p);
    capnp_data pw = capos_SessionManager_login_Params_get_password(p);
    if (w.len == 0 || w.len >= sizeof who || pf.len == 0 || pf.len >= sizeof profile) {
        /* no account can have such a name: just "denied", like any other */
        audit_rec("login-denied", w.len == 0 || w.len >= sizeof who ? "principal-invalid" : "profile-invalid", 0, "");
        capos_SessionManager_login_Results_set_result(r, capos_LoginResult_denied);
        return CAPNP_OK;
    }
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
        audit_rec("login", "backoff", 0, "");
        capos_SessionManager_login_Results_set_result(r, capos_LoginResult_backoff);
        capos_SessionManager_login_Results_set_retryAfterMs(r, capos_CredentialStore_verify_Results_get_retryAfterMs(vr));
        return CAPNP_OK;
    }
    if (!reason && cres == capos_CredentialResult_unknownPrincipal)
        reason = "credential-unknown";
    else if (!reason && cres != capos_CredentialResult_ok)
        reason = "password-wrong";
    uint32_t facet, ctx, fi, ci;
    uint16_t a = admit(reason, who, profile, "password", &facet, &ctx);
    capos_SessionManager_login_Results_set_result(r, a);
    if (a == capos_LoginResult_ok) {
        hand_out(r.s, facet, ctx, &fi, &ci);
        capos_SessionManager_login_Results_set_session(r, fi);
        capos_SessionManager_login_Results_set_context(r, ci);
    }
    return CAPNP_OK;
}

static int do_guest(void *self, capos_SessionManager_guest_Params_reader p, capos_SessionManager_guest_Results_builder r)
{
    uint32_t facet, ctx, fi, ci;
    uint16_t a = admit(0, "guest", "guest", "none", &facet, &ctx);
    capos_SessionManager_guest_Results_set_result(r, a);
    if (a == capos_LoginResult_ok) {
        hand_out(r.s, facet, ctx, &fi, &ci);
        capos_SessionManager_guest_Results_set_session(r, fi);
        capos_SessionManager_guest_Results_set_context(r, ci);
    }
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
    uint32_t facet, ctx, fi, ci;
    uint16_t a = admit(reason, who, profile, "publicKey", &facet, &ctx);
    capos_SessionManager_sshPublicKey_Results_set_result(r, a);
    if (a == capos_LoginResult_ok) {
        hand_out(r.s, facet, ctx, &fi, &ci);
        capos_SessionManager_sshPublicKey_Results_set_session(r, fi);
        capos_SessionManager_sshPublicKey_Results_set_context(r, ci);
    }
    return CAPNP_OK;
}

static int do_occupancy(void *self, capos_SessionManager_occupancy_Params_reader p,
                        capos_SessionManager_occupancy_Results_builder r)
{
    uint32_t held = 0;
    for (uint32_t s = 0; s < SLOTS; s++)
        if (slots[s].used)
            held += 1 + (slots[s].shell != ~0u);
    capos_SessionManager_occupancy_Results_set_open(r, nopen);
    capos_SessionManager_occupancy_Results_set_capacity(r, capacity);
    capos_SessionManager_occupancy_Results_set_opened(r, opened);
    capos_SessionManager_occupancy_Results_set_ended(r, ended);
    capos_SessionManager_occupancy_Results_set_refusedFull(r, refused_full);
    capos_SessionManager_occupancy_Results_set_held(r, held);
    return CAPNP_OK;
}

/* A revoked context ends its session at the next call that names it. */
static bool live(uint32_t s)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(slots[s].ctx);
    capnp_call call;
    capos_SessionContext_info_Results_reader r;
    return !capos_SessionContext_info(&cl, &b, &call, &r) && capos_SessionContext_info_Results_get_live(r);
}

int us_slot(void)
{
    int s = slot_of(in.hdr->badge);
    if (s >= 0 && !live((uint32_t)s)) {
        end_session((uint32_t)s, "revoked");
        return -1;
    }
    return s;
}

static int do_info(void *self, capos_UserSession_info_Params_reader p, capos_UserSession_info_Results_builder r)
{
    int s = us_slot();
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    struct sess *x = &slots[s];
    capos_UserSession_info_Results_set_principal(r, x->principal, strlen(x->principal));
    capos_UserSession_info_Results_set_profile(r, x->profile, strlen(x->profile));
    capos_UserSession_info_Results_set_authMethod(r, x->method, strlen(x->method));
    capos_UserSession_info_Results_set_createdNs(r, x->created);
    capos_UserSession_info_Results_set_expiresNs(r, x->expires);
    capos_UserSession_info_Results_set_idleTimeoutNs(r, x->idle);
    return CAPNP_OK;
}

static bool code_ok(capnp_text t)
{
    if (t.len == 0 || t.len >= 24)
        return false;
    for (uint32_t i = 0; i < t.len; i++)
        if (!((t.str[i] >= 'a' && t.str[i] <= 'z') || (i && t.str[i] == '-')))
            return false;
    return true;
}

static int do_logout(void *self, capos_UserSession_logout_Params_reader p, capos_UserSession_logout_Results_builder r)
{
    int s = slot_of(in.hdr->badge);
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    capnp_text t = capos_UserSession_logout_Params_get_reason(p);
    char reason[24] = "logout";
    if (code_ok(t))
        text(t, reason, sizeof reason);
    end_session((uint32_t)s, reason);
    return CAPNP_OK;
}

static int do_watch(void *self, capos_UserSession_watch_Params_reader p, capos_UserSession_watch_Results_builder r)
{
    int s = us_slot();
    uint32_t ix = capos_UserSession_watch_Params_get_shell(p);
    if (s < 0 || ix >= in.ncaps || in.cap_ifaces[ix] != capos_ProcessHandle_ID || slots[s].shell != ~0u)
        return CAP_ERR_INVALID_ARGUMENT;
    uint32_t h = in.caps[ix];
    in.caps[ix] = ~0u;                              /* ours now: not released with the call */
    slots[s].shell = h;
    struct cap_sqe w = { .opcode = CAP_OP_CALL, .cap_id = h, .interface_id = capos_ProcessHandle_ID,
                         .method_id = capos_ProcessHandle_METHOD_wait, .result_addr = (uint64_t)wait_res,
                         .result_len = sizeof wait_res };
    rt_ring_submit_tagged(&w, TAG_SHELL | (uint64_t)s << 32 | slots[s].gen);
    return CAPNP_OK;
}

/* Password checks for a session (changePassword, reauthenticate): only
 * sessions opened with a password have one; the credential store's answer
 * as a PasswordChange result (e: the call failed), and its audit reasons. */
bool has_password(const struct sess *x)
{
    return strcmp(x->profile, "guest") && strcmp(x->method, "none");
}

static uint16_t password_outcome(int e, uint16_t c)
{
    if (e)
        return capos_PasswordChange_wrongPassword;
    return c == capos_CredentialResult_ok ? capos_PasswordChange_changed
         : c == capos_CredentialResult_backoff ? capos_PasswordChange_backoff
         : c == capos_CredentialResult_unknownPrincipal ? capos_PasswordChange_notAllowed
                                                        : capos_PasswordChange_wrongPassword;
}

static const char *const pw_reasons[] = { "ok", "password-wrong", "backoff", "not-allowed", "too-short" };

/* The session's own principal's password, with the current one. */
static int do_change_password(void *self, capos_UserSession_changePassword_Params_reader p,
                              capos_UserSession_changePassword_Results_builder r)
{
    int s = us_slot();
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    struct sess *x = &slots[s];
    capnp_data old = capos_UserSession_changePassword_Params_get_old(p);
    capnp_data pw = capos_UserSession_changePassword_Params_get_new(p);
    uint16_t res;
    uint64_t retry = 0;
    if (!has_password(x)) {
        res = capos_PasswordChange_notAllowed;
    } else if (pw.len < 8 || pw.len > 200 || old.len == 0 || old.len > 200) {
        res = capos_PasswordChange_tooShort;
    } else {
        RT_BUFS(b, 1024, 128);
        capnp_client cc = RT_CLIENT(creds);
        capnp_call call;
        capos_CredentialStore_change_Results_reader cr;
        int e = capos_CredentialStore_change(&cc, &b, &call, x->principal, strlen(x->principal), old.ptr, old.len,
                                             pw.ptr, pw.len, &cr);
        res = password_outcome(e, e ? 0 : capos_CredentialStore_change_Results_get_result(cr));
        retry = e ? 0 : capos_CredentialStore_change_Results_get_retryAfterMs(cr);
        sodium_memzero(b_p, sizeof b_p);
    }
    if (res == capos_PasswordChange_changed)
        audit_rec("password-change", "ok", badge_of((uint32_t)s), x->principal);
    else
        audit_rec("password-change-denied", pw_reasons[res], badge_of((uint32_t)s), "");
    capos_UserSession_changePassword_Results_set_result(r, res);
    capos_UserSession_changePassword_Results_set_retryAfterMs(r, retry);
    return CAPNP_OK;
}

/* Step-up: the session's own principal's password again; nothing changes. */
static int do_reauthenticate(void *self, capos_UserSession_reauthenticate_Params_reader p,
                             capos_UserSession_reauthenticate_Results_builder r)
{
    int s = us_slot();
    if (s < 0)
        return CAP_ERR_SESSION_REVOKED;
    struct sess *x = &slots[s];
    capnp_data pw = capos_UserSession_reauthenticate_Params_get_password(p);
    capnp_text purpose = capos_UserSession_reauthenticate_Params_get_purpose(p);
    uint16_t res;
    uint64_t retry = 0;
    if (!has_password(x)) {
        res = capos_PasswordChange_notAllowed;
    } else if (pw.len == 0 || pw.len > 200) {
        res = capos_PasswordChange_wrongPassword;
    } else {
        RT_BUFS(b, 1024, 128);
        capnp_client cc = RT_CLIENT(creds);
        capnp_call call;
        capos_CredentialStore_verify_Results_reader cr;
        int e = capos_CredentialStore_verify(&cc, &b, &call, x->principal, strlen(x->principal), pw.ptr, pw.len, &cr);
        res = password_outcome(e, e ? 0 : capos_CredentialStore_verify_Results_get_result(cr));
        retry = e ? 0 : capos_CredentialStore_verify_Results_get_retryAfterMs(cr);
        sodium_memzero(b_p, sizeof b_p);
    }
    char why[24] = "step-up";
    if (code_ok(purpose))
        text(purpose, why, sizeof why);
    audit_rec(res == capos_PasswordChange_changed ? "reauth" : "reauth-denied",
              res == capos_PasswordChange_changed ? why : pw_reasons[res], badge_of((uint32_t)s), "");
    capos_UserSession_reauthenticate_Results_set_result(r, res);
    capos_UserSession_reauthenticate_Results_set_retryAfterMs(r, retry);
    return CAPNP_OK;
}

static const capos_SessionManager_server sm_server = { .login = do_login, .guest = do_guest,
                                                       .sshPublicKey = do_ssh, .occupancy = do_occupancy,
                                                       .passkeyChallenge = do_pk_challenge,
                                                       .passkeyLogin = do_pk_login };
static const capos_UserSession_server us_server = { .info = do_info, .logout = do_logout, .watch = do_watch,
                                                    .changePassword = do_change_password,
                                                    .reauthenticate = do_reauthenticate,
                                                    .passkeyChallenge = do_pk_reg_challenge,
                                                    .passkeyRegister = do_pk_register };

static void post_recv(uint32_t owner, void *buf, uint64_t tag)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = RECV_BUF };
    rt_ring_submit_tagged(&s, tag);
}

static int sm_dispatch(const void *s, void *self, capnp_server_call *c) { return capos_SessionManager_dispatch(s, self, c); }
static int us_dispatch(const void *s, void *self, capnp_server_call *c) { return capos_UserSession_dispatch(s, self, c); }

/* Serve one delivered call; caps that came with it and were not taken are
 * released, and the request (it may have held a password) is wiped. */
static void serve(uint32_t owner, const struct cap_cqe *c, rt_dispatch_fn d, const void *server, uint8_t *buf)
{
    in.ncaps = 0;
    rt_serve_delivered(owner, c, d, server, &in, buf, &in);
    for (uint32_t i = 0; i < in.ncaps; i++)
        if (in.caps[i] != ~0u)
            rt_release(in.caps[i]);
    sodium_memzero(buf, 2048);
}

/* Sessions past their lifetime end (their shells had GRACE_NS to log out
 * themselves), and every LIVE_CHECK_NS a session whose context was revoked
 * behind our back ends too (its shell is killed); returns the next
 * deadline. */
#define LIVE_CHECK_NS (5 * NS)
static uint64_t next_live_check;

static uint64_t sweep(uint64_t now)
{
    uint64_t next = ~0ull;
    bool check = now >= next_live_check;
    if (check)
        next_live_check = now + LIVE_CHECK_NS;
    for (uint32_t s = 0; s < SLOTS; s++) {
        if (!slots[s].used)
            continue;
        if (check && !live(s)) {
            end_session(s, "revoked");
            continue;
        }
        if (!slots[s].expires)
            continue;
        uint64_t end = slots[s].expires + GRACE_NS;
        if (now >= end)
            end_session(s, "expired");
        else if (end < next)
            next = end;
    }
    if (nopen && next_live_check < next)
        next = next_live_check;
    return next;
}

int main(void)
{
    uint32_t sm_owner = rt_capset_require("manager");
    creds = rt_capset_require("credentials");
    accounts = rt_capset_require("accounts");
    audit = rt_capset_require("audit");
    authority = rt_capset_require("sessions");
    configure(rt_capset->args);
    for (uint32_t s = 0; s < SLOTS; s++)
        slots[s].ctx = slots[s].shell = ~0u;
    uint32_t us_client;
    if (rt_endpoint_create(rt_capset_require("endpoints"), capos_UserSession_ID, 0, &us_owner, &us_client))
        return 2;
    rt_release(us_client);                           /* facets are made per session */
    static uint8_t sm_buf[RECV_BUF] __attribute__((aligned(8))), us_buf[RECV_BUF] __attribute__((aligned(8)));
    post_recv(sm_owner, sm_buf, TAG_SM);
    post_recv(us_owner, us_buf, TAG_US);
    for (;;) {
        struct cap_cqe c;
        for (;;) {
            uint64_t now = rt_timer_now(), next = sweep(now);
            if (rt_ring_next(&c, next == ~0ull ? CAP_TIMEOUT_FOREVER : next - now + 1))
                break;
        }
        if (c.user_data == TAG_SM) {
            if (c.result < 0)
                return 0;
            serve(sm_owner, &c, sm_dispatch, &sm_server, sm_buf);
            post_recv(sm_owner, sm_buf, TAG_SM);
        } else if (c.user_data == TAG_US) {
            if (c.result >= 0)
                serve(us_owner, &c, us_dispatch, &us_server, us_buf);
            post_recv(us_owner, us_buf, TAG_US);
        } else if ((c.user_data & 0xFF00000000000000ull) == TAG_SHELL) {
            uint32_t s = (uint32_t)(c.user_data >> 32) & 0xff, gen = (uint32_t)c.user_data;
            if (s < SLOTS && slots[s].used && slots[s].gen == gen)
                end_session(s, "shell-ended");
        }
    }
}
