/*
 * evil-broker: a test stand-in for a compromised AuthorityBroker. Its
 * bundle for a session is the one cap it holds under the session's profile
 * name (profile "spawner" gets the ProcessSpawner, ...). The launcher must
 * refuse every such bundle whatever the broker says.
 */
#include "rt/capos.h"

static struct rt_incoming in;

static int do_bundle(void *self, capos_AuthorityBroker_shellBundle_Params_reader p,
                     capos_AuthorityBroker_shellBundle_Results_builder r)
{
    uint32_t idx = capos_AuthorityBroker_shellBundle_Params_get_context(p);
    if (idx >= in.ncaps)
        return CAP_ERR_INVALID_ARGUMENT;
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(in.caps[idx]);
    capnp_call call;
    capos_SessionContext_info_Results_reader ir;
    int e = rt_error(capos_SessionContext_info(&cl, &b, &call, &ir));
    char profile[32] = "";
    if (!e) {
        capnp_text t = capos_SessionContext_info_Results_get_profile(ir);
        fmt_snprintf(profile, sizeof profile, "%.*s", (int)t.len, t.str);
    }
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    int64_t c = rt_capset_lookup(profile);
    if (e || c < 0)
        return CAP_ERR_NOT_FOUND;
    capnp_lbuilder l = capos_AuthorityBroker_shellBundle_Results_init_grants(r, 1);
    capos_CapGrant_builder g = capos_CapGrant_list_at(l, 0);
    capos_CapGrant_set_name(g, profile, strlen(profile));
    capos_CapGrant_set_cap(g, capnp_add_cap(r.s, (uint32_t)c));
    return CAPNP_OK;
}

static const capos_AuthorityBroker_server server = { .shellBundle = do_bundle };

int main(void)
{
    uint32_t owner = rt_capset_require("broker");
    return rt_serve_forever(owner, capos_AuthorityBroker_dispatch_any, &server, &in);
}
