/*
 * broker: the AuthorityBroker service. Bundles by profile:
 *   operator: timer, audit (the log, which lets operators read it), echo,
 *             programs (runs the permitted programs), accounts (AccountAdmin),
 *             netinfo (NetworkInfo, read-only) and ping (IcmpEcho): never
 *             NetworkManager, a socket or a device
 *   guest:    timer
 *   anything else, or a revoked session: nothing (fail closed)
 * The profile comes from SessionContext.info, answered by the kernel.
 *
 * A remote session CapSet's view (remoteView, for the Cap'n Proto RPC
 * gateway), narrower than a shell's bundle:
 *   operator: "system-info" (the sysinfo service's read-only SystemInfo, if
 *             granted to us as "sysinfo") and "echo"
 *   anything else, or a revoked session: nothing
 *
 * Agent mode (toolPolicy): the manifest args name, per profile, the
 * permission mode of each agent tool:
 *   agent:PROFILE=TOOL:MODE,TOOL:MODE,...   MODE: auto, consent, stepup, forbidden
 * A profile listed there also gets "model" (a LanguageModel facet, if the
 * broker was granted one) in its bundle; a profile not listed has no agent
 * mode (guests only if the manifest says so). Never model administration,
 * a catalogue or a provider token: the broker holds none.
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

/* The args' tool map for a profile: "TOOL:MODE,..." or 0. */
static const char *agent_map(const char *profile)
{
    const char *a = rt_capset->args;
    size_t pn = strlen(profile);
    while (a && *a) {
        while (*a == ' ')
            a++;
        if (!strncmp(a, "agent:", 6) && !strncmp(a + 6, profile, pn) && a[6 + pn] == '=')
            return a + 7 + pn;
        a = strchr(a, ' ');
    }
    return 0;
}

/* The profile of the SessionContext the call carries at cap index idx (the
 * kernel vouches for it); every cap the call brought is released. */
static int caller_profile(uint32_t idx, char *profile, size_t n)
{
    int e = idx < in.ncaps && in.cap_ifaces[idx] == capos_SessionContext_ID ? profile_of(in.caps[idx], profile, n)
                                                                            : CAP_ERR_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    return e;
}

static int do_policy(void *self, capos_AuthorityBroker_toolPolicy_Params_reader p,
                     capos_AuthorityBroker_toolPolicy_Results_builder r)
{
    char profile[32];
    int e = caller_profile(capos_AuthorityBroker_toolPolicy_Params_get_context(p), profile, sizeof profile);
    if (e)
        return e;
    const char *m = agent_map(profile);
    bool agent = m && rt_capset_lookup("model") >= 0;
    capos_AuthorityBroker_toolPolicy_Results_set_agent(r, agent);
    uint32_t n = 0;
    for (const char *q = m; agent && q && *q && *q != ' '; q++)
        if (*q == ':')
            n++;
    if (n > 24)
        n = 24;
    capnp_lbuilder l = capos_AuthorityBroker_toolPolicy_Results_init_tools(r, n);
    const char *q = m;
    for (uint32_t i = 0; i < n; i++) {
        const char *c = strchr(q, ':');
        size_t tl = (size_t)(c - q), ml = 0;
        while (c[1 + ml] && c[1 + ml] != ',' && c[1 + ml] != ' ')
            ml++;
        const char *mode = c + 1;
        capos_ToolPolicy_builder t = capos_ToolPolicy_list_at(l, i);
        capos_ToolPolicy_set_tool(t, q, tl);
        uint16_t pm = capos_PermissionMode_forbidden;           /* anything unknown: forbidden */
        if (ml == 4 && !strncmp(mode, "auto", 4))
            pm = capos_PermissionMode_auto;
        else if (ml == 7 && !strncmp(mode, "consent", 7))
            pm = capos_PermissionMode_consent;
        else if (ml == 6 && !strncmp(mode, "stepup", 6))
            pm = capos_PermissionMode_stepUp;
        capos_ToolPolicy_set_mode(t, pm);
        q = mode + ml;
        if (*q == ',')
            q++;
    }
    return CAPNP_OK;
}

/* Fill a List(CapGrant) of n entries: names[i] given as a copy of our cap
 * ours[i] (our own caps: the caller gets copies, we keep them). */
static int grant(capnp_lbuilder l, capnp_sbuilder s, const char *const *names, const char *const *ours, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        int64_t c = rt_capset_lookup(ours[i]);
        if (c < 0)
            return CAP_ERR_NOT_FOUND;
        capos_CapGrant_builder g = capos_CapGrant_list_at(l, i);
        capos_CapGrant_set_name(g, names[i], strlen(names[i]));
        uint32_t ix = capnp_add_cap(s, (uint32_t)c);
        capos_CapGrant_set_cap(g, ix);
        in.keep |= 1u << ix;
    }
    return CAPNP_OK;
}

static int do_bundle(void *self, capos_AuthorityBroker_shellBundle_Params_reader p,
                     capos_AuthorityBroker_shellBundle_Results_builder r)
{
    char profile[32];
    int e = caller_profile(capos_AuthorityBroker_shellBundle_Params_get_context(p), profile, sizeof profile);
    if (e)
        return e;
    const char *names[10];
    uint32_t n = 0;
    if (!strcmp(profile, "operator")) {
        names[n++] = "timer", names[n++] = "audit", names[n++] = "echo", names[n++] = "programs";
        if (rt_capset_lookup("accounts") >= 0)                  /* account admin if granted to us */
            names[n++] = "accounts";
        if (rt_capset_lookup("netinfo") >= 0)                   /* the network's view and ping, if granted */
            names[n++] = "netinfo";
        if (rt_capset_lookup("ping") >= 0)
            names[n++] = "ping";
    } else if (!strcmp(profile, "guest")) {
        names[n++] = "timer";
    }
    if (n && agent_map(profile) && rt_capset_lookup("model") >= 0)
        names[n++] = "model";
    return grant(capos_AuthorityBroker_shellBundle_Results_init_grants(r, n), r.s, names, names, n);
}

static int do_remote(void *self, capos_AuthorityBroker_remoteView_Params_reader p,
                     capos_AuthorityBroker_remoteView_Results_builder r)
{
    char profile[32];
    int e = caller_profile(capos_AuthorityBroker_remoteView_Params_get_context(p), profile, sizeof profile);
    if (e)
        return e;
    const char *names[2], *ours[2];                     /* the name in the view; ours in our CapSet */
    uint32_t n = 0;
    if (!strcmp(profile, "operator")) {
        if (rt_capset_lookup("sysinfo") >= 0)
            names[n] = "system-info", ours[n++] = "sysinfo";
        names[n] = "echo", ours[n++] = "echo";
    }
    return grant(capos_AuthorityBroker_remoteView_Results_init_grants(r, n), r.s, names, ours, n);
}

static const capos_AuthorityBroker_server server = {
    .shellBundle = do_bundle, .toolPolicy = do_policy, .remoteView = do_remote
};

int main(void)
{
    uint32_t owner = rt_capset_require("broker");
    return rt_serve_forever(owner, capos_AuthorityBroker_dispatch_any, &server, &in);
}
