/*
 * launcher: the RestrictedShellLauncher service. It holds ProcessSpawner
 * and lends none of it: launchShell starts capos-shell (there is no binary
 * selector) in the caller's session with exactly the terminal, the
 * UserSession and the broker's bundle, after checking that the bundle
 * carries no broad authority (spawners, endpoint or session factories,
 * key or network authority, this launcher, the broker).
 * The broker's agent tool map for the session (toolPolicy) becomes the
 * shell's args: "agent TOOL:MODE ..." (modes as PermissionMode numbers),
 * or nothing when the profile has no agent mode.
 */
#include "rt/capos.h"

static struct rt_incoming in;
static uint32_t spawner, broker;

/* The shell's args: the broker's tool map for this session. */
static void policy_args(uint32_t ctx, char *out, size_t cap)
{
    RT_BUFS(b, 128, 2048);
    capnp_client cl = RT_CLIENT(broker);
    capnp_call call;
    capos_AuthorityBroker_toolPolicy_Params_builder bp = capos_AuthorityBroker_toolPolicy_start(&call, &cl, &b);
    capos_AuthorityBroker_toolPolicy_Params_set_context(bp, capnp_add_cap(bp.s, ctx));
    capos_AuthorityBroker_toolPolicy_Results_reader r;
    out[0] = 0;
    if (rt_error(capos_AuthorityBroker_toolPolicy_send(&call, &r)) || !capos_AuthorityBroker_toolPolicy_Results_get_agent(r))
        return;
    size_t n = (size_t)fmt_snprintf(out, cap, "agent");
    capnp_list l = capos_AuthorityBroker_toolPolicy_Results_get_tools(r);
    for (uint32_t i = 0; i < l.count && n < cap; i++) {
        capos_ToolPolicy_reader t = capos_ToolPolicy_list_get(l, i);
        capnp_text nm = capos_ToolPolicy_get_tool(t);
        if (nm.len == 0 || nm.len > 23)
            continue;
        n += (size_t)fmt_snprintf(out + n, cap - n, " %.*s:%u", (int)nm.len, nm.str, capos_ToolPolicy_get_mode(t));
    }
    if (n >= cap)
        out[0] = 0;                                   /* a map that does not fit: no agent mode */
}

static int do_launch(void *self, capos_RestrictedShellLauncher_launchShell_Params_reader p,
                     capos_RestrictedShellLauncher_launchShell_Results_builder r)
{
    uint32_t ci = capos_RestrictedShellLauncher_launchShell_Params_get_context(p);
    uint32_t ti = capos_RestrictedShellLauncher_launchShell_Params_get_terminal(p);
    uint32_t si = capos_RestrictedShellLauncher_launchShell_Params_get_session(p);
    int e = CAP_ERR_INVALID_ARGUMENT;
    uint32_t bundle[CAP_MAX_XFER];
    uint32_t nb = 0;
    if (ci >= in.ncaps || ti >= in.ncaps || si >= in.ncaps || in.cap_ifaces[ci] != capos_SessionContext_ID ||
        in.cap_ifaces[ti] != capos_TerminalSession_ID || in.cap_ifaces[si] != capos_UserSession_ID)
        goto out;
    /* the broker decides the bundle */
    {
        RT_BUFS(b, 128, 1024);
        capnp_client cl = RT_CLIENT(broker);
        capnp_call call;
        capos_AuthorityBroker_shellBundle_Params_builder bp = capos_AuthorityBroker_shellBundle_start(&call, &cl, &b);
        capos_AuthorityBroker_shellBundle_Params_set_context(bp, capnp_add_cap(bp.s, in.caps[ci]));
        capos_AuthorityBroker_shellBundle_Results_reader br;
        if ((e = rt_error(capos_AuthorityBroker_shellBundle_send(&call, &br))))
            goto out;
        capnp_list gl = capos_AuthorityBroker_shellBundle_Results_get_grants(br);
        char gnames[CAP_MAX_XFER][24];
        const char *names[CAP_MAX_XFER];
        uint32_t caps[CAP_MAX_XFER];
        names[0] = "terminal", caps[0] = in.caps[ti];
        names[1] = "session", caps[1] = in.caps[si];
        names[2] = "context", caps[2] = in.caps[ci];   /* its own session: programs it runs stay in it */
        uint32_t n = 3;
        for (uint32_t i = 0; i < call.result_ncaps; i++)
            bundle[nb++] = b.result_caps[i];
        for (uint32_t i = 0; i < gl.count && n < CAP_MAX_XFER - 1; i++) {
            capos_CapGrant_reader g = capos_CapGrant_list_get(gl, i);
            capnp_text t = capos_CapGrant_get_name(g);
            uint32_t ix = capos_CapGrant_get_cap(g);
            if (ix >= call.result_ncaps || t.len == 0 || t.len >= 24) {
                e = CAP_ERR_INVALID_ARGUMENT;
                goto out;
            }
            if (rt_broad_authority(rt_result_ifaces[ix])) {   /* whatever the broker said */
                e = CAP_ERR_INVALID_ARGUMENT;
                goto out;
            }
            memcpy(gnames[n], t.str, t.len);
            gnames[n][t.len] = 0;
            names[n] = gnames[n];
            caps[n] = b.result_caps[ix];
            n++;
        }
        char args[512];
        policy_args(in.caps[ci], args, sizeof args);
        int64_t h = rt_spawn_args(spawner, "capos-shell", names, caps, n, in.caps[ci], args);
        if (h < 0) {
            e = (int)h;
            goto out;
        }
        capos_RestrictedShellLauncher_launchShell_Results_set_shell(r, capnp_add_cap(r.s, (uint32_t)h));
                                                   /* it moves to the caller with the answer */
        e = CAPNP_OK;
    }
out:
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    for (uint32_t i = 0; i < nb; i++)
        rt_release(bundle[i]);
    return e;
}

static const capos_RestrictedShellLauncher_server server = { .launchShell = do_launch };

int main(void)
{
    uint32_t owner = rt_capset_require("launcher");
    spawner = rt_capset_require("spawner");
    broker = rt_capset_require("broker");
    return rt_serve_forever(owner, capos_RestrictedShellLauncher_dispatch_any, &server, &in);
}
