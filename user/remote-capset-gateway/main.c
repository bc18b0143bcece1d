/*
 * remote-capset-gateway (the remote session CapSet gateway): a capOS session over standard Cap'n Proto
 * RPC (lib/capnp-rpc, the two-party protocol of the reference rpc.capnp),
 * so any capnp-rpc implementation can be a client (host/capos-remote, the
 * C++ library).
 *
 * Each TCP connection's bootstrap is a RemoteAdmission.  A login (password:
 * SessionManager.login, Argon2id in the credential store; or an Ed25519 key:
 * a nonce from `challenge`, signed by the client, checked by
 * SessionManager.sshPublicKey against the principal's authorized keys)
 * answers a RemoteCapSet built from what the broker grants the session
 * (AuthorityBroker.shellBundle): "session" (the UserSession, info and
 * logout only), "system-info" (SystemInfo: uptime, versions, memory and
 * process counts, read-only) and "echo" (the bundle's Echo).  Calls on
 * those go to the real in-guest objects (rt_transport); a capability a
 * client passes back is one lib/capnp-rpc found in this connection's export
 * table, or the call never happens.
 *
 * Before every call on a session cap the session's context is asked if it
 * is still live: a session revoked or expired while connected ends there,
 * every cap of the connection goes (crpc_revoke) and calls fail
 * `disconnected`.
 *
 * Grants: listen (TcpListenAuthority: its one port), manager
 * (SessionManager), broker (AuthorityBroker), audit (AuditLog), stats
 * (KernelStats: only its counters are read, for SystemInfo); plumbing:
 * console, timer, memory (one connection's state is ~90 KiB of heap).
 * args: profile=NAME (asked for at login; default operator),
 * version=TEXT (the build version SystemInfo reports).
 *
 * One event loop: an accept always in flight, per connection a recv in
 * flight and at most one send.  Calls into the system (logins, forwarded
 * calls) are synchronous.
 */
#include "rt/capos.h"
#include "crpc.h"
#include <sodium.h>

#define MAXCONN 24
#define IOMAX 3800
#define RPC_MAX 16384          /* the largest frame we take */
#define OUT_CAP 24576
#define SCRATCH 16384          /* params and results of one call, halves */
#define ANSWERS 32
#define EXPORTS 16
#define KEY_DOMAIN "capos-remote-key-v1"

/* Application error codes (lib/capnp-rpc names them through describe) */
enum { GW_UNKNOWN_CAP = 256, GW_DISCONNECTED, GW_CAPS_REFUSED, GW_FAILED, GW_NO_CAP };

enum { K_ACCEPT = 1, K_RECV, K_SEND };
#define TAG(k, i, g) (0xD000000000000000ull | (uint64_t)(k) << 40 | (uint64_t)(g) << 16 | (uint64_t)(i))
#define TAG_K(t) ((int)(((t) >> 40) & 0xff))
#define TAG_I(t) ((uint32_t)((t) & 0xffff))
#define TAG_G(t) ((uint16_t)((t) >> 16))
#define NONE (~0u)

static uint32_t listener, manager, broker, audit, stats;
static char profile[16] = "operator";
static char version[32] = "dev";
#define RETRY_NS 10000000ull    /* back-off after an overloaded recv or send */

/* A forwarded cap: the in-guest object, and the methods a remote may call. */
struct fwd {
    struct gconn *k;
    uint32_t cap;
    uint16_t methods;   /* method ordinals below this exist */
    uint16_t allowed;   /* bit mask of those a remote may call */
};

struct gconn {
    bool used, recv_on, send_on, peer_gone, closing, torn;
    uint32_t overload_said; /* overloaded recv/send completions (said once) */
    uint64_t hold_until;    /* after an overloaded recv/send: post nothing before then (ns) */
    uint16_t gen;
    uint32_t id, sock;
    crpc_conn rpc;
    struct crpc_question q[1];
    struct crpc_answer a[ANSWERS];
    struct crpc_import im[1];
    struct crpc_export ex[EXPORTS];
    uint8_t out[OUT_CAP];
    uint8_t scratch[SCRATCH] __attribute__((aligned(8)));
    uint8_t rx[RPC_MAX];
    uint32_t rx_len;
    uint32_t send_len;
    uint8_t rp[64] __attribute__((aligned(8))), rres[IOMAX + 256] __attribute__((aligned(8)));
    uint8_t sp[IOMAX + 128] __attribute__((aligned(8))), sres[128] __attribute__((aligned(8)));
    /* the session, once logged in */
    bool logged_in;
    uint32_t session, context, echo;
    char principal[64], method[12];
    uint8_t nonce[32];
    bool nonce_set;
    crpc_object admission, capset, o_session, o_sysinfo, o_echo;
    struct fwd f_session, f_echo;
};
static struct gconn *conns[MAXCONN];
static uint32_t next_id = 1;

static void audit_rec(const char *event, const char *reason)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), 0, &r);
}

/* ------------------------------------------------------------ the session */

static void release(uint32_t *cap)
{
    if (*cap != NONE)
        rt_release(*cap);
    *cap = NONE;
}

/* The session is over (logout, revoked, expired, the connection ended):
 * every cap of the connection goes; later calls fail `disconnected`. */
static void session_end(struct gconn *k, const char *why, bool logout)
{
    if (!k->logged_in)
        return;
    if (logout && k->session != NONE) {
        RT_BUFS(b, 128, 64);
        capnp_client cl = RT_CLIENT(k->session);
        capnp_call call;
        capos_UserSession_logout_Results_reader r;
        capos_UserSession_logout(&cl, &b, &call, why, strlen(why), &r);
    }
    release(&k->session);
    release(&k->context);
    release(&k->echo);
    k->logged_in = false;
    crpc_revoke(&k->rpc);
    printf("remote-gateway: conn %u: session ended (%s)\n", k->id, why);
    audit_rec("remote-session-end", why);
}

/* Is the session still live?  Asked before every call on its caps. */
static bool session_live(struct gconn *k)
{
    if (!k->logged_in)
        return false;
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(k->context);
    capnp_call call;
    capos_SessionContext_info_Results_reader r;
    if (capos_SessionContext_info(&cl, &b, &call, &r) || !capos_SessionContext_info_Results_get_live(r)) {
        session_end(k, "revoked", false);
        return false;
    }
    return true;
}

/* The broker's bundle for the session: keep its echo, release the rest. */
static void take_bundle(struct gconn *k)
{
    RT_BUFS(b, 128, 2048);
    capnp_client cl = RT_CLIENT(broker);
    capnp_call call;
    capos_AuthorityBroker_shellBundle_Params_builder p = capos_AuthorityBroker_shellBundle_start(&call, &cl, &b);
    capos_AuthorityBroker_shellBundle_Params_set_context(p, capnp_add_cap(p.s, k->context));
    capos_AuthorityBroker_shellBundle_Results_reader r;
    if (capos_AuthorityBroker_shellBundle_send(&call, &r))
        return;
    capnp_list l = capos_AuthorityBroker_shellBundle_Results_get_grants(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_CapGrant_reader g = capos_CapGrant_list_get(l, i);
        capnp_text n = capos_CapGrant_get_name(g);
        uint32_t ci = capos_CapGrant_get_cap(g);
        if (ci >= call.result_ncaps)
            continue;
        uint32_t cap = b.result_caps[ci];
        if (n.len == 4 && !memcmp(n.str, "echo", 4) && k->echo == NONE)
            k->echo = cap;
        else
            rt_release(cap);
    }
}

/* A login answered ok: keep the session, build the CapSet, export it. */
static int logged_in(struct gconn *k, const char *who, const char *method, uint32_t session, uint32_t context,
                     capnp_sbuilder results, uint16_t cap_field)
{
    k->session = session;
    k->context = context;
    k->echo = NONE;
    k->logged_in = true;
    fmt_snprintf(k->principal, sizeof k->principal, "%s", who);
    fmt_snprintf(k->method, sizeof k->method, "%s", method);
    take_bundle(k);
    k->f_session.cap = session;
    k->f_echo.cap = k->echo;
    uint32_t h = crpc_export(&k->rpc, &k->capset);
    if (h == CAPNP_NO_CAP)
        return GW_FAILED;
    capnp_set_cap(results, cap_field, capnp_add_cap(results, h));
    printf("remote-gateway: conn %u: %s logged in (%s)\n", k->id, who, method);
    return CAPNP_OK;
}

/* ---------------------------------------------------------- RemoteAdmission */

static bool text_ok(capnp_text t, size_t max)
{
    if (t.len == 0 || t.len >= max)
        return false;
    for (uint32_t i = 0; i < t.len; i++)
        if (t.str[i] < 0x21 || t.str[i] > 0x7e)
            return false;
    return true;
}

static int adm_login(void *self, capos_RemoteAdmission_login_Params_reader p,
                     capos_RemoteAdmission_login_Results_builder r)
{
    struct gconn *k = self;
    capnp_text who = capos_RemoteAdmission_login_Params_get_principal(p);
    capnp_data pw = capos_RemoteAdmission_login_Params_get_password(p);
    capos_RemoteAdmission_login_Results_set_result(r, capos_LoginResult_denied);
    if (k->logged_in || !text_ok(who, sizeof k->principal) || pw.len > 1024) {
        audit_rec("remote-login-denied", k->logged_in ? "already-logged-in" : "bad-principal");
        return CAPNP_OK;
    }
    RT_BUFS(b, 2048, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_login_Results_reader lr;
    int e = capos_SessionManager_login(&cl, &b, &call, who.str, who.len, pw.ptr, pw.len, profile, strlen(profile), &lr);
    if (e)
        return GW_FAILED;
    uint16_t res = capos_SessionManager_login_Results_get_result(lr);
    uint32_t si = capos_SessionManager_login_Results_get_session(lr);
    uint32_t ci = capos_SessionManager_login_Results_get_context(lr);
    capos_RemoteAdmission_login_Results_set_result(r, res);
    capos_RemoteAdmission_login_Results_set_retryAfterMs(r, capos_SessionManager_login_Results_get_retryAfterMs(lr));
    if (res != capos_LoginResult_ok || si >= call.result_ncaps || ci >= call.result_ncaps) {
        for (uint32_t i = 0; i < call.result_ncaps; i++)
            rt_release(b.result_caps[i]);
        if (res == capos_LoginResult_ok)
            capos_RemoteAdmission_login_Results_set_result(r, capos_LoginResult_denied);
        printf("remote-gateway: conn %u: password login refused (%u)\n", k->id, res);
        return CAPNP_OK;
    }
    return logged_in(k, who.str, "password", b.result_caps[si], b.result_caps[ci], r.s, 0);
}

static int adm_challenge(void *self, capos_RemoteAdmission_challenge_Params_reader p,
                         capos_RemoteAdmission_challenge_Results_builder r)
{
    struct gconn *k = self;
    randombytes_buf(k->nonce, sizeof k->nonce);
    k->nonce_set = true;
    capos_RemoteAdmission_challenge_Results_set_nonce(r, k->nonce, sizeof k->nonce);
    return CAPNP_OK;
}

static int adm_key_login(void *self, capos_RemoteAdmission_keyLogin_Params_reader p,
                         capos_RemoteAdmission_keyLogin_Results_builder r)
{
    struct gconn *k = self;
    capnp_text who = capos_RemoteAdmission_keyLogin_Params_get_principal(p);
    capnp_data pk = capos_RemoteAdmission_keyLogin_Params_get_publicKey(p);
    capnp_data sig = capos_RemoteAdmission_keyLogin_Params_get_signature(p);
    capos_RemoteAdmission_keyLogin_Results_set_result(r, capos_LoginResult_denied);
    bool fresh = k->nonce_set;
    k->nonce_set = false; /* one attempt per challenge */
    if (k->logged_in || !fresh || !text_ok(who, sizeof k->principal) || pk.len != 32 || sig.len != 64) {
        audit_rec("remote-login-denied", !fresh ? "no-challenge" : "bad-request");
        return CAPNP_OK;
    }
    uint8_t msg[sizeof KEY_DOMAIN - 1 + 32];
    memcpy(msg, KEY_DOMAIN, sizeof KEY_DOMAIN - 1);
    memcpy(msg + sizeof KEY_DOMAIN - 1, k->nonce, 32);
    RT_BUFS(b, 1024, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_sshPublicKey_Results_reader lr;
    int e = capos_SessionManager_sshPublicKey(&cl, &b, &call, who.str, who.len, pk.ptr, 32, msg, sizeof msg, sig.ptr,
                                              64, profile, strlen(profile), &lr);
    if (e)
        return GW_FAILED;
    uint16_t res = capos_SessionManager_sshPublicKey_Results_get_result(lr);
    uint32_t si = capos_SessionManager_sshPublicKey_Results_get_session(lr);
    uint32_t ci = capos_SessionManager_sshPublicKey_Results_get_context(lr);
    if (res != capos_LoginResult_ok || si >= call.result_ncaps || ci >= call.result_ncaps) {
        for (uint32_t i = 0; i < call.result_ncaps; i++)
            rt_release(b.result_caps[i]);
        capos_RemoteAdmission_keyLogin_Results_set_result(r, res == capos_LoginResult_ok ? capos_LoginResult_denied : res);
        printf("remote-gateway: conn %u: key login refused (%u)\n", k->id, res);
        return CAPNP_OK;
    }
    capos_RemoteAdmission_keyLogin_Results_set_result(r, capos_LoginResult_ok);
    return logged_in(k, who.str, "publicKey", b.result_caps[si], b.result_caps[ci], r.s, 0);
}

static const capos_RemoteAdmission_server adm_srv = { adm_login, adm_challenge, adm_key_login };

/* ------------------------------------------------------------- RemoteCapSet */

struct entry {
    const char *name, *description;
};
static const struct entry entries[] = {
    { "session", "this login: info, logout" },
    { "system-info", "uptime, versions, memory and process counts (read-only)" },
    { "echo", "answers with the bytes it is given" },
};
#define NENTRIES (sizeof entries / sizeof entries[0])

static const crpc_object *entry_obj(struct gconn *k, uint32_t i)
{
    switch (i) {
    case 0:
        return &k->o_session;
    case 1:
        return &k->o_sysinfo;
    default:
        return k->echo == NONE ? 0 : &k->o_echo;
    }
}

static int capset_list(void *self, capos_RemoteCapSet_list_Params_reader p, capos_RemoteCapSet_list_Results_builder r)
{
    struct gconn *k = self;
    if (!session_live(k))
        return GW_DISCONNECTED;
    uint32_t n = 0;
    for (uint32_t i = 0; i < NENTRIES; i++)
        n += entry_obj(k, i) != 0;
    capnp_lbuilder l = capos_RemoteCapSet_list_Results_init_entries(r, n);
    for (uint32_t i = 0, j = 0; i < NENTRIES; i++) {
        const crpc_object *o = entry_obj(k, i);
        if (!o)
            continue;
        capos_RemoteCapEntry_builder e = capos_RemoteCapEntry_list_at(l, j++);
        capos_RemoteCapEntry_set_name(e, entries[i].name, strlen(entries[i].name));
        capos_RemoteCapEntry_set_interfaceId(e, o->interface_id);
        capos_RemoteCapEntry_set_description(e, entries[i].description, strlen(entries[i].description));
    }
    return CAPNP_OK;
}

static int capset_get(void *self, capos_RemoteCapSet_get_Params_reader p, capos_RemoteCapSet_get_Results_builder r)
{
    struct gconn *k = self;
    if (!session_live(k))
        return GW_DISCONNECTED;
    capnp_text name = capos_RemoteCapSet_get_Params_get_name(p);
    for (uint32_t i = 0; i < NENTRIES; i++) {
        const crpc_object *o = entry_obj(k, i);
        if (!o || strlen(entries[i].name) != name.len || memcmp(entries[i].name, name.str, name.len))
            continue;
        uint32_t h = crpc_export(&k->rpc, o);
        if (h == CAPNP_NO_CAP)
            return GW_FAILED;
        capos_RemoteCapSet_get_Results_set_cap(r, capnp_add_cap(r.s, h));
        return CAPNP_OK;
    }
    return GW_UNKNOWN_CAP;
}

static const capos_RemoteCapSet_server capset_srv = { capset_list, capset_get };

/* --------------------------------------------------------------- SystemInfo */

static int sys_get(void *self, capos_SystemInfo_get_Params_reader p, capos_SystemInfo_get_Results_builder r)
{
    struct gconn *k = self;
    if (!session_live(k))
        return GW_DISCONNECTED;
    struct rt_kernel_stats st;
    if (rt_stats(stats, &st))
        return GW_FAILED;
    capos_SystemInfo_get_Results_set_uptimeNs(r, rt_timer_now());
    capos_SystemInfo_get_Results_set_kernelVersion(r, "capOS", 5);
    capos_SystemInfo_get_Results_set_buildVersion(r, version, strlen(version));
    capos_SystemInfo_get_Results_set_freeFrames(r, st.free_frames);
    capos_SystemInfo_get_Results_set_heapBytes(r, st.heap_bytes);
    capos_SystemInfo_get_Results_set_processes(r, st.processes);
    capos_SystemInfo_get_Results_set_capSlots(r, st.cap_slots);
    return CAPNP_OK;
}

static const capos_SystemInfo_server sys_srv = { sys_get };

/* ---------------------------------------------------------------- forwarding */

/* A call on a forwarded cap goes to the in-guest object as it is: its
 * params message, no caps either way (a cap in the params or the results
 * is refused: nothing of the guest's leaves through here). */
static int forward(const void *srv, void *self, capnp_server_call *c)
{
    struct fwd *f = self;
    struct gconn *k = f->k;
    if (c->method_id >= f->methods)
        return CAPNP_ERR_UNKNOWN_METHOD;
    if (!(f->allowed & (1u << c->method_id)))
        return CAPNP_ERR_UNIMPLEMENTED;
    if (!session_live(k))
        return GW_DISCONNECTED;
    if (c->param_ncaps)
        return GW_CAPS_REFUSED;
    uint32_t cap = f->cap, rc[CAP_MAX_XFER], nrc = 0;
    int e = rt_transport(&cap, c->interface_id, c->method_id, c->params, c->params_len, 0, 0, c->result,
                         c->result_cap, &c->result_len, rc, CAP_MAX_XFER, &nrc);
    for (uint32_t i = 0; i < nrc; i++)
        rt_release(rc[i]);
    c->result_ncaps = 0;
    if (e == CAPNP_OK && nrc) {
        c->result_len = 0;
        return GW_CAPS_REFUSED;
    }
    if (e != CAPNP_OK) {
        c->result_len = 0;
        int ce = rt_error(e);
        if (ce == CAP_ERR_STALE_CAP || ce == CAP_ERR_INVALID_CAP || ce == CAP_ERR_SESSION_REVOKED ||
            ce == CAP_ERR_DISCONNECTED) {
            session_end(k, "revoked", false);
            return GW_DISCONNECTED;
        }
        if (ce == CAP_ERR_UNKNOWN_METHOD)
            return CAPNP_ERR_UNKNOWN_METHOD;
        return GW_FAILED;
    }
    /* logout went through: the session is over for this connection too */
    if (f == &k->f_session && c->method_id == capos_UserSession_METHOD_logout)
        session_end(k, "logout", false);
    return CAPNP_OK;
}

static int describe(void *ctx, int err, const char **reason)
{
    switch (err) {
    case GW_UNKNOWN_CAP:
        *reason = "unknown-cap";
        return CRPC_EXC_FAILED;
    case GW_DISCONNECTED:
        *reason = "disconnected";
        return CRPC_EXC_DISCONNECTED;
    case GW_CAPS_REFUSED:
        *reason = "caps-refused";
        return CRPC_EXC_FAILED;
    default:
        *reason = "failed";
        return CRPC_EXC_FAILED;
    }
}

/* ---------------------------------------------------------------- the socket */

static void post_recv(struct gconn *k, uint32_t i)
{
    size_t room = sizeof k->rx - k->rx_len;
    if (k->recv_on || k->peer_gone || k->closing || room == 0)
        return;
    capnp_builder b;
    capnp_builder_init(&b, k->rp, sizeof k->rp);
    capos_TcpSocket_recv_Params_set_maxBytes(capos_TcpSocket_recv_Params_init_root(&b),
                                             room < IOMAX ? (uint32_t)room : IOMAX);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = k->sock, .interface_id = capos_TcpSocket_ID,
                         .method_id = capos_TcpSocket_METHOD_recv, .addr = (uint64_t)k->rp, .len = (uint32_t)len,
                         .result_addr = (uint64_t)k->rres, .result_len = sizeof k->rres };
    rt_ring_submit_tagged(&s, TAG(K_RECV, i, k->gen));
    k->recv_on = true;
}

static void post_send(struct gconn *k, uint32_t i)
{
    size_t n;
    const uint8_t *q = crpc_output(&k->rpc, &n);
    if (k->send_on || k->peer_gone || n == 0)
        return;
    if (n > IOMAX)
        n = IOMAX;
    capnp_builder b;
    capnp_builder_init(&b, k->sp, sizeof k->sp);
    capos_TcpSocket_send_Params_set_data(capos_TcpSocket_send_Params_init_root(&b), q, n);
    size_t len = 0;
    if (capnp_builder_finish(&b, &len))
        return;
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = k->sock, .interface_id = capos_TcpSocket_ID,
                         .method_id = capos_TcpSocket_METHOD_send, .addr = (uint64_t)k->sp, .len = (uint32_t)len,
                         .result_addr = (uint64_t)k->sres, .result_len = sizeof k->sres };
    rt_ring_submit_tagged(&s, TAG(K_SEND, i, k->gen));
    k->send_on = true;
}

/* Take whole frames while the output queue has room for their answers. */
static void take_input(struct gconn *k)
{
    uint32_t off = 0;
    while (!k->closing) {
        size_t queued;
        crpc_output(&k->rpc, &queued);
        if (queued > OUT_CAP - SCRATCH / 2 - CRPC_ABORT_RESERVE - 1024)
            break; /* drain first */
        size_t used;
        crpc_event ev;
        int rc = crpc_input(&k->rpc, k->rx + off, k->rx_len - off, &used, &ev);
        if (rc == CRPC_MORE)
            break;
        if (rc != CRPC_OK) {
            printf("remote-gateway: conn %u: closed: %s\n", k->id, crpc_reason_name(k->rpc.reason));
            if (k->rpc.reason != CRPC_R_PEER_ABORT)
                audit_rec("remote-connection-aborted", crpc_reason_name(k->rpc.reason));
            k->closing = true;
            break;
        }
        off += (uint32_t)used;
    }
    memmove(k->rx, k->rx + off, k->rx_len - off);
    k->rx_len -= off;
}

/* The connection is over: its session ends, lib/capnp-rpc drops every
 * export, the socket closes (which completes a recv still in flight). */
static void teardown(struct gconn *k)
{
    k->torn = true;
    session_end(k, "disconnect", true);
    crpc_close(&k->rpc);
    /* the close must reach the stack, or the peer waits on a live socket */
    for (int tries = 0; tries < 100; tries++) {
        RT_BUFS(b, 64, 64);
        capnp_client cl = RT_CLIENT(k->sock);
        capnp_call call;
        capos_TcpSocket_close_Results_reader r;
        if (rt_error(capos_TcpSocket_close(&cl, &b, &call, k->peer_gone, &r)) != CAP_ERR_OVERLOADED)
            break;
        rt_timer_sleep_until(rt_timer_now() + 10000000ull);
    }
    printf("remote-gateway: conn %u: ended (live=%u calls=%lu)\n", k->id, crpc_live(&k->rpc),
           (unsigned long)k->rpc.calls);
}

/* After any event: move what can move; end a connection that is done, and
 * free it once no call of ours is in flight for it. */
static void pump(uint32_t i)
{
    struct gconn *k = conns[i];
    if (!k)
        return;
    if (!k->torn && rt_timer_now() < k->hold_until)
        return;                         /* a quota was full: wait out the back-off */
    if (!k->torn) {
        take_input(k);
        post_send(k, i);
        size_t queued;
        crpc_output(&k->rpc, &queued);
        if (k->peer_gone || (k->closing && queued == 0 && !k->send_on))
            teardown(k);
        else
            post_recv(k, i);
    }
    if (k->torn && !k->recv_on && !k->send_on) {
        rt_release(k->sock);
        conns[i] = 0;
        free(k);
    }
}

static crpc_object object(uint64_t id, int (*dispatch)(const void *, void *, capnp_server_call *), const void *srv,
                          void *self)
{
    crpc_object o = { id, dispatch, srv, self };
    return o;
}

static uint8_t ares[256] __attribute__((aligned(8))), ap[64] __attribute__((aligned(8)));
static uint16_t gens[MAXCONN];

static void accept_post(void)
{
    capnp_builder b;
    capnp_builder_init(&b, ap, sizeof ap);
    capos_TcpListener_accept_Params_init_root(&b);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = listener, .interface_id = capos_TcpListener_ID,
                         .method_id = capos_TcpListener_METHOD_accept, .addr = (uint64_t)ap, .len = (uint32_t)len,
                         .result_addr = (uint64_t)ares, .result_len = sizeof ares };
    rt_ring_submit_tagged(&s, TAG(K_ACCEPT, 0, 0));
}

static void refuse(uint32_t sock, const char *why)
{
    printf("remote-gateway: refused a connection: %s\n", why);
    audit_rec("remote-connection-refused", why);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(sock);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, true, &r);
    rt_release(sock);
}

static void accepted(const struct cap_cqe *c)
{
    if (c->result < 0 || c->xfer_result_count < 1) {
        printf("remote-gateway: accept failed (%d)\n", c->result);
        return;
    }
    const struct cap_result_cap *rc = (const void *)(ares + (((size_t)c->result + 7) & ~(size_t)7));
    for (uint32_t j = 1; j < c->xfer_result_count; j++)
        rt_release(rc[j].cap_id);
    uint32_t sock = rc[0].cap_id;
    uint32_t i = 0;
    while (i < MAXCONN && conns[i])
        i++;
    struct gconn *k = i < MAXCONN ? calloc(1, sizeof *k) : 0;
    if (!k) {
        refuse(sock, "too-many-connections");
        return;
    }
    conns[i] = k;
    k->used = true;
    k->gen = ++gens[i];
    k->sock = sock;
    k->id = next_id++;
    k->session = k->context = k->echo = NONE;
    crpc_limits lim;
    crpc_default_limits(&lim);
    lim.max_message_bytes = RPC_MAX;
    crpc_mem mem = { k->q, 1, k->a, ANSWERS, k->im, 1, k->ex, EXPORTS, k->out, OUT_CAP, k->scratch, SCRATCH };
    crpc_init(&k->rpc, &mem, &lim);
    k->rpc.ctx = k;
    k->rpc.describe = describe;
    k->f_session = (struct fwd){ k, NONE, 5, 1u << capos_UserSession_METHOD_info | 1u << capos_UserSession_METHOD_logout };
    k->f_echo = (struct fwd){ k, NONE, 1, 1u << capos_Echo_METHOD_echo };
    k->admission = object(capos_RemoteAdmission_ID, capos_RemoteAdmission_dispatch_any, &adm_srv, k);
    k->capset = object(capos_RemoteCapSet_ID, capos_RemoteCapSet_dispatch_any, &capset_srv, k);
    k->o_sysinfo = object(capos_SystemInfo_ID, capos_SystemInfo_dispatch_any, &sys_srv, k);
    k->o_session = object(capos_UserSession_ID, forward, 0, &k->f_session);
    k->o_echo = object(capos_Echo_ID, forward, 0, &k->f_echo);
    crpc_set_bootstrap(&k->rpc, &k->admission);
    printf("remote-gateway: conn %u: accepted\n", k->id);
}

static void args_word(const char *key, char *out, size_t cap)
{
    const char *a = strstr(rt_capset->args, key);
    if (!a)
        return;
    a += strlen(key);
    size_t n = 0;
    while (a[n] && a[n] != ' ' && n < cap - 1)
        n++;
    memcpy(out, a, n);
    out[n] = 0;
}

int main(void)
{
    uint32_t auth = rt_capset_require("listen");
    manager = rt_capset_require("manager");
    broker = rt_capset_require("broker");
    audit = rt_capset_require("audit");
    stats = rt_capset_require("stats");
    args_word("profile=", profile, sizeof profile);
    args_word("version=", version, sizeof version);
    if (sodium_init() < 0) {
        printf("remote-gateway: no entropy\n");
        return 2;
    }
    RT_BUFS(pb, 64, 256);
    capnp_client pc = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_port_Results_reader pr;
    if (capos_TcpListenAuthority_port(&pc, &pb, &call, &pr)) {
        printf("remote-gateway: the listen authority does not answer\n");
        return 2;
    }
    uint16_t port = capos_TcpListenAuthority_port_Results_get_port(pr);
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, port, MAXCONN + 8, &r); /* a burst of connects waits */
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("remote-gateway: cannot listen on port %u\n", port);
        return 2;
    }
    listener = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    printf("remote-gateway: serving Cap'n Proto RPC on port %u (profile %s)\n", port, profile);
    accept_post();
    bool retry = false;
    for (;;) {
        struct cap_cqe c;
        /* after an overloaded recv or send, look again within 10 ms */
        bool got = rt_ring_next(&c, retry ? RETRY_NS : CAP_TIMEOUT_FOREVER);
        retry = false;
        for (uint32_t j = 0; j < MAXCONN; j++)
            if (conns[j] && conns[j]->hold_until > rt_timer_now())
                retry = true;           /* a back-off still runs: wake for it */
        if (!got) {
            for (uint32_t j = 0; j < MAXCONN; j++)
                pump(j);
            continue;
        }
        int kind = TAG_K(c.user_data);
        uint32_t i = TAG_I(c.user_data);
        struct gconn *k = i < MAXCONN ? conns[i] : 0;
        bool mine = k && k->gen == TAG_G(c.user_data);
        if (kind == K_ACCEPT) {
            accepted(&c);
            accept_post();
        } else if (kind == K_RECV && mine) {
            k->recv_on = false;
            capnp_msg m;
            if (c.result == CAP_ERR_OVERLOADED) {
                retry = true;           /* a quota is full for now: post it again in 10 ms */
                k->hold_until = rt_timer_now() + RETRY_NS;
                if (!k->overload_said++)
                    printf("remote-gateway: conn %u: recv overloaded, again\n", k->id);
            } else if (c.result < 0 || capnp_msg_init(&m, k->rres, (size_t)c.result) != CAPNP_OK) {
                printf("remote-gateway: conn %u: recv failed (%d)\n", k->id, c.result);
                k->peer_gone = true;
            } else {
                capos_TcpSocket_recv_Results_reader rr = capos_TcpSocket_recv_Results_read_root(&m);
                capnp_data d = capos_TcpSocket_recv_Results_get_data(rr);
                if (d.len && !k->closing && d.len <= sizeof k->rx - k->rx_len) {
                    memcpy(k->rx + k->rx_len, d.ptr, d.len);
                    k->rx_len += d.len;
                }
                if (capos_TcpSocket_recv_Results_get_error(rr) ||
                    (capos_TcpSocket_recv_Results_get_eof(rr) && !d.len))
                    k->peer_gone = true;
            }
        } else if (kind == K_SEND && mine) {
            k->send_on = false;
            capnp_msg m;
            if (c.result == CAP_ERR_OVERLOADED) {
                retry = true;
                k->hold_until = rt_timer_now() + RETRY_NS;
                if (!k->overload_said++)
                    printf("remote-gateway: conn %u: send overloaded, again\n", k->id);
            } else if (c.result < 0 || capnp_msg_init(&m, k->sres, (size_t)c.result) != CAPNP_OK) {
                printf("remote-gateway: conn %u: send failed (%d)\n", k->id, c.result);
                k->peer_gone = true;
            } else {
                capos_TcpSocket_send_Results_reader sr = capos_TcpSocket_send_Results_read_root(&m);
                uint32_t sent = capos_TcpSocket_send_Results_get_sent(sr);
                if (capos_TcpSocket_send_Results_get_error(sr) || !sent)
                    k->peer_gone = true;
                else
                    crpc_output_done(&k->rpc, sent);
            }
        }
        for (uint32_t j = 0; j < MAXCONN; j++)
            pump(j);
    }
}
