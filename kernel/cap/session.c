/*
 * Sessions: SessionAuthority mints SessionContext objects; every process
 * carries exactly one, fixed at spawn (inherited, or chosen by whoever holds
 * a SessionContext cap: the session path). Endpoint deliveries carry an
 * opaque caller reference derived here from a boot secret, so no process can
 * choose or forge the identity a service sees.
 *   SessionAuthority.mint(principal, profile) -> SessionContext
 *   SessionContext.info() -> principal, profile, epoch, live
 *   SessionContext.revoke()   calls from its processes now fail closed
 */
#include "session.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "dev/entropy.h"
#include "siphash/siphash.h"
#include "c/string.h"
#include "capos.capnp.h"

static uint8_t boot_key[16];
static bool have_key;
static uint64_t next_session_id = 1;

bool session_init(void)
{
    have_key = entropy_get(boot_key, sizeof boot_key);
    return have_key;
}

uint64_t session_random_u64(void)
{
    uint64_t v = 0;
    entropy_get(&v, sizeof v);
    return v;
}

void session_caller_ref(struct session *s, uint64_t scope, uint64_t out[2])
{
    if (s->ref_scope != scope) {          /* scopes are random and never 0 */
        struct { uint64_t tag, scope, id; } in = { 1, scope, s->id };
        s->ref[0] = siphash24(boot_key, &in, sizeof in);
        in.tag = 2;
        s->ref[1] = siphash24(boot_key, &in, sizeof in);
        s->ref_scope = scope;
    }
    out[0] = s->ref[0];
    out[1] = s->ref[1];
}

static int ctx_info(void *self, capos_SessionContext_info_Params_reader p, capos_SessionContext_info_Results_builder r)
{
    struct session *s = (struct session *)((struct call_ctx *)self)->obj;
    capos_SessionContext_info_Results_set_principal(r, s->principal, strlen(s->principal));
    capos_SessionContext_info_Results_set_profile(r, s->profile, strlen(s->profile));
    capos_SessionContext_info_Results_set_epoch(r, s->epoch);
    capos_SessionContext_info_Results_set_live(r, s->live);
    return CAPNP_OK;
}

static int ctx_revoke(void *self, capos_SessionContext_revoke_Params_reader p, capos_SessionContext_revoke_Results_builder r)
{
    struct session *s = (struct session *)((struct call_ctx *)self)->obj;
    if (s->live) {
        s->live = false;
        s->epoch++;
    }
    return CAPNP_OK;
}

static const capos_SessionContext_server ctx_server = { .info = ctx_info, .revoke = ctx_revoke };
static int ctx_call(struct kobj *o, struct call_ctx *c) { return capos_SessionContext_dispatch(&ctx_server, c, &c->sc); }
static void ctx_destroy(struct kobj *o) { kfree(o); }
static const struct kobj_type session_type = { "SessionContext", IFACE_SESSION_CONTEXT, ctx_call, ctx_destroy };

struct session *session_from(struct kobj *o)
{
    return o && o->type == &session_type ? (struct session *)o : 0;
}

static struct session *session_new(const char *principal, size_t plen, const char *profile, size_t flen)
{
    struct session *s = kmalloc(sizeof *s);
    if (!s)
        return 0;
    kobj_init(&s->obj, &session_type);
    s->id = next_session_id++;
    s->epoch = 1;
    s->live = true;
    memcpy(s->principal, principal, plen < 31 ? plen : 31);
    memcpy(s->profile, profile, flen < 31 ? flen : 31);
    return s;
}

struct session *session_boot(void)
{
    static struct session *boot;
    if (!boot)
        boot = session_new("system", 6, "system", 6);
    return boot;
}

static int auth_mint(void *self, capos_SessionAuthority_mint_Params_reader p, capos_SessionAuthority_mint_Results_builder r)
{
    struct call_ctx *c = self;
    capnp_text pr = capos_SessionAuthority_mint_Params_get_principal(p);
    capnp_text pf = capos_SessionAuthority_mint_Params_get_profile(p);
    if (pr.len == 0 || pr.len > 31 || pf.len == 0 || pf.len > 31)
        return CAP_ERR_INVALID_ARGUMENT;
    struct session *s = session_new(pr.str, pr.len, pf.str, pf.len);
    if (!s)
        return CAP_ERR_OVERLOADED;
    capos_SessionAuthority_mint_Results_set_session(r, ctx_result_cap(c, r.s, &s->obj));
    return CAPNP_OK;
}

static const capos_SessionAuthority_server auth_server = { .mint = auth_mint };
static int auth_call(struct kobj *o, struct call_ctx *c) { return capos_SessionAuthority_dispatch(&auth_server, c, &c->sc); }
static const struct kobj_type auth_type = { "SessionAuthority", IFACE_SESSION_AUTHORITY, auth_call, 0 };
struct kobj session_authority_obj = KOBJ_STATIC(auth_type, IFACE_SESSION_AUTHORITY);
