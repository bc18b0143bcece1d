/* The test bootstrap of the capnp-rpc tests: see testsrv.h. */
#include <string.h>

#include "capos.capnp.h"
#include "testsrv.h"

static int echo_echo(void *self, capos_Echo_echo_Params_reader p, capos_Echo_echo_Results_builder r)
{
    capnp_data d = capos_Echo_echo_Params_get_data(p);
    capos_Echo_echo_Results_set_data(r, d.ptr, d.len);
    return CAPNP_OK;
}

static const capos_Echo_server echo_srv = { echo_echo };

static int sys_get(void *self, capos_SystemInfo_get_Params_reader p, capos_SystemInfo_get_Results_builder r)
{
    capos_SystemInfo_get_Results_set_uptimeNs(r, 1234567);
    capos_SystemInfo_get_Results_set_kernelVersion(r, "capOS test", 10);
    capos_SystemInfo_get_Results_set_buildVersion(r, "host", 4);
    capos_SystemInfo_get_Results_set_freeFrames(r, 1000);
    capos_SystemInfo_get_Results_set_heapBytes(r, 4096);
    capos_SystemInfo_get_Results_set_processes(r, 7);
    capos_SystemInfo_get_Results_set_capSlots(r, 42);
    return CAPNP_OK;
}

static const capos_SystemInfo_server sys_srv = { sys_get };

static int session_info(void *self, capos_UserSession_info_Params_reader p,
                        capos_UserSession_info_Results_builder r)
{
    struct tsrv *t = self;
    capos_UserSession_info_Results_set_principal(r, "admin", 5);
    capos_UserSession_info_Results_set_profile(r, "operator", 8);
    capos_UserSession_info_Results_set_authMethod(r, t->auth, strlen(t->auth));
    return CAPNP_OK;
}

static int session_logout(void *self, capos_UserSession_logout_Params_reader p,
                          capos_UserSession_logout_Results_builder r)
{
    struct tsrv *t = self;
    crpc_revoke(&t->rpc);
    return CAPNP_OK;
}

/* only what a remote client may do with its session */
static const capos_UserSession_server session_srv = { .info = session_info, .logout = session_logout };

struct entry {
    const char *name;
    const char *description;
    size_t obj_offset;
};

static const struct entry entries[] = {
    { "session", "this login: info, logout", offsetof(struct tsrv, session) },
    { "system-info", "uptime, versions, memory and process counts (read-only)", offsetof(struct tsrv, sysinfo) },
    { "echo", "answers with the bytes it is given", offsetof(struct tsrv, echo) },
};
#define NENTRIES (sizeof entries / sizeof entries[0])

static int capset_list(void *self, capos_RemoteCapSet_list_Params_reader p,
                       capos_RemoteCapSet_list_Results_builder r)
{
    struct tsrv *t = self;
    capnp_lbuilder l = capos_RemoteCapSet_list_Results_init_entries(r, NENTRIES);
    for (uint32_t i = 0; i < NENTRIES; i++) {
        capos_RemoteCapEntry_builder e = capos_RemoteCapEntry_list_at(l, i);
        const crpc_object *o = (const crpc_object *)((const char *)t + entries[i].obj_offset);
        capos_RemoteCapEntry_set_name(e, entries[i].name, strlen(entries[i].name));
        capos_RemoteCapEntry_set_interfaceId(e, o->interface_id);
        capos_RemoteCapEntry_set_description(e, entries[i].description, strlen(entries[i].description));
    }
    return CAPNP_OK;
}

static int capset_get(void *self, capos_RemoteCapSet_get_Params_reader p,
                      capos_RemoteCapSet_get_Results_builder r)
{
    struct tsrv *t = self;
    capnp_text name = capos_RemoteCapSet_get_Params_get_name(p);
    for (uint32_t i = 0; i < NENTRIES; i++) {
        if (strlen(entries[i].name) != name.len || memcmp(entries[i].name, name.str, name.len))
            continue;
        const crpc_object *o = (const crpc_object *)((const char *)t + entries[i].obj_offset);
        uint32_t h = crpc_export(&t->rpc, o);
        if (h == CAPNP_NO_CAP)
            return CAPNP_ERR_NO_SPACE;
        capos_RemoteCapSet_get_Results_set_cap(r, capnp_add_cap(r.s, h));
        return CAPNP_OK;
    }
    return TSRV_ERR_UNKNOWN_CAP;
}

static const capos_RemoteCapSet_server capset_srv = { capset_list, capset_get };

static int grant(struct tsrv *t, const char *auth, capnp_sbuilder r, uint16_t cap_field)
{
    uint32_t h = crpc_export(&t->rpc, &t->capset);
    if (h == CAPNP_NO_CAP)
        return CAPNP_ERR_NO_SPACE;
    t->auth = auth;
    capnp_set_cap(r, cap_field, capnp_add_cap(r, h));
    return CAPNP_OK;
}

static int adm_login(void *self, capos_RemoteAdmission_login_Params_reader p,
                     capos_RemoteAdmission_login_Results_builder r)
{
    struct tsrv *t = self;
    capnp_text who = capos_RemoteAdmission_login_Params_get_principal(p);
    capnp_data pw = capos_RemoteAdmission_login_Params_get_password(p);
    if (who.len != 5 || memcmp(who.str, "admin", 5) || pw.len != 6 || memcmp(pw.ptr, "secret", 6)) {
        capos_RemoteAdmission_login_Results_set_result(r, capos_LoginResult_denied);
        return CAPNP_OK;
    }
    capos_RemoteAdmission_login_Results_set_result(r, capos_LoginResult_ok);
    return grant(t, "password", r.s, 0);
}

static int adm_challenge(void *self, capos_RemoteAdmission_challenge_Params_reader p,
                         capos_RemoteAdmission_challenge_Results_builder r)
{
    struct tsrv *t = self;
    t->random(t->nonce, sizeof t->nonce);
    t->nonce_set = true;
    capos_RemoteAdmission_challenge_Results_set_nonce(r, t->nonce, sizeof t->nonce);
    return CAPNP_OK;
}

static int adm_key_login(void *self, capos_RemoteAdmission_keyLogin_Params_reader p,
                         capos_RemoteAdmission_keyLogin_Results_builder r)
{
    struct tsrv *t = self;
    capnp_text who = capos_RemoteAdmission_keyLogin_Params_get_principal(p);
    capnp_data pk = capos_RemoteAdmission_keyLogin_Params_get_publicKey(p);
    capnp_data sig = capos_RemoteAdmission_keyLogin_Params_get_signature(p);
    uint8_t msg[sizeof TSRV_KEY_DOMAIN - 1 + 32];
    bool known = false;
    for (int i = 0; i < t->nkeys && pk.len == 32; i++)
        known |= !memcmp(pk.ptr, t->keys[i], 32);
    bool ok = t->nonce_set && known && who.len == 5 && !memcmp(who.str, "admin", 5) && sig.len == 64;
    t->nonce_set = false; /* one attempt per challenge */
    if (ok) {
        memcpy(msg, TSRV_KEY_DOMAIN, sizeof TSRV_KEY_DOMAIN - 1);
        memcpy(msg + sizeof TSRV_KEY_DOMAIN - 1, t->nonce, 32);
        ok = t->verify(sig.ptr, msg, sizeof msg, pk.ptr) == 0;
    }
    if (!ok) {
        capos_RemoteAdmission_keyLogin_Results_set_result(r, capos_LoginResult_denied);
        return CAPNP_OK;
    }
    capos_RemoteAdmission_keyLogin_Results_set_result(r, capos_LoginResult_ok);
    return grant(t, "publicKey", r.s, 0);
}

static const capos_RemoteAdmission_server adm_srv = { adm_login, adm_challenge, adm_key_login };

static int describe(void *ctx, int err, const char **reason)
{
    *reason = err == TSRV_ERR_UNKNOWN_CAP ? "unknown-cap" : "failed";
    return CRPC_EXC_FAILED;
}

static void dropped(void *ctx, const crpc_object *obj)
{
    struct tsrv *t = ctx;
    t->dropped++;
}

static crpc_object object(uint64_t id, int (*dispatch)(const void *, void *, capnp_server_call *),
                          const void *srv, void *self)
{
    crpc_object o = { id, dispatch, srv, self };
    return o;
}

void tsrv_init(struct tsrv *t, const crpc_limits *lim)
{
    crpc_mem m = { t->q, TSRV_QUESTIONS, t->a, TSRV_ANSWERS, t->im, TSRV_IMPORTS,
                   t->ex, TSRV_EXPORTS, t->out, TSRV_OUT, t->scratch, TSRV_SCRATCH };
    crpc_init(&t->rpc, &m, lim);
    t->admission = object(capos_RemoteAdmission_ID, capos_RemoteAdmission_dispatch_any, &adm_srv, t);
    t->capset = object(capos_RemoteCapSet_ID, capos_RemoteCapSet_dispatch_any, &capset_srv, t);
    t->session = object(capos_UserSession_ID, capos_UserSession_dispatch_any, &session_srv, t);
    t->echo = object(capos_Echo_ID, capos_Echo_dispatch_any, &echo_srv, t);
    t->sysinfo = object(capos_SystemInfo_ID, capos_SystemInfo_dispatch_any, &sys_srv, t);
    t->nonce_set = false;
    t->auth = "";
    t->dropped = 0;
    t->rpc.ctx = t;
    t->rpc.dropped = dropped;
    t->rpc.describe = describe;
    crpc_set_bootstrap(&t->rpc, &t->admission);
}
