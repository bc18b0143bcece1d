/*
 * broker: the AuthorityBroker service. Bundles by profile:
 *   operator: timer, audit (the log, which lets operators read it), echo,
 *             programs (runs the permitted programs), accounts (AccountAdmin)
 *   guest:    timer
 *   anything else, or a revoked session: nothing (fail closed)
 * The profile comes from SessionContext.info, answered by the kernel.
 */
#include "rt/capos.h"

static struct rt_incoming in;

static int profile_of(uint32_t ctx, char *out, size_t cap)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(ctx);
    capnp_call call;
    capos_SessionContext_info_Results_reader r;
    int e = rt_error(capos_SessionContext_info(&cl, &b, &call, &r));
    if (e)
        return e;
    if (!capos_SessionContext_info_Results_get_live(r))
        return CAP_ERR_SESSION_REVOKED;
    capnp_text t = capos_SessionContext_info_Results_get_profile(r);
    size_t n = t.len < cap - 1 ? t.len : cap - 1;
    memcpy(out, t.str, n);
    out[n] = 0;
    return 0;
}

static int do_bundle(void *self, capos_AuthorityBroker_shellBundle_Params_reader p,
                     capos_AuthorityBroker_shellBundle_Results_builder r)
{
    uint32_t idx = capos_AuthorityBroker_shellBundle_Params_get_context(p);
    if (idx >= in.ncaps || in.cap_ifaces[idx] != capos_SessionContext_ID)
        return CAP_ERR_INVALID_ARGUMENT;
    char profile[32];
    int e = profile_of(in.caps[idx], profile, sizeof profile);
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    if (e)
        return e;
    static const char *const operator_caps[] = { "timer", "audit", "echo", "programs", "accounts" };
    static const char *const guest_caps[] = { "timer" };
    const char *const *names = 0;
    uint32_t n = 0;
    if (!strcmp(profile, "operator"))
        names = operator_caps, n = rt_capset_lookup("accounts") >= 0 ? 5 : 4;   /* account admin if granted to us */
    else if (!strcmp(profile, "guest"))
        names = guest_caps, n = 1;
    capnp_lbuilder l = capos_AuthorityBroker_shellBundle_Results_init_grants(r, n);
    for (uint32_t i = 0; i < n; i++) {
        int64_t c = rt_capset_lookup(names[i]);
        if (c < 0)
            return CAP_ERR_NOT_FOUND;
        capos_CapGrant_builder g = capos_CapGrant_list_at(l, i);
        capos_CapGrant_set_name(g, names[i], strlen(names[i]));
        uint32_t ix = capnp_add_cap(r.s, (uint32_t)c);
        capos_CapGrant_set_cap(g, ix);
        in.keep |= 1u << ix;                          /* our own caps: the shell gets copies */
    }
    return CAPNP_OK;
}

static const capos_AuthorityBroker_server server = { .shellBundle = do_bundle };

int main(void)
{
    uint32_t owner = rt_capset_require("broker");
    return rt_serve_forever(owner, capos_AuthorityBroker_dispatch_any, &server, &in);
}
