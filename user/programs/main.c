/*
 * programs: the ProgramLauncher service. It runs only the programs named in
 * its manifest args, in the caller's session (the SessionContext the caller
 * passes: a process can only name its own), with exactly the grants the
 * caller passed, none of them broad authority, plus a "console" that is an
 * endpoint the caller serves (its stdio). It holds ProcessSpawner and
 * EndpointFactory and lends neither.
 */
#include "rt/capos.h"

static struct rt_incoming in;
static uint32_t spawner, factory;
static uint32_t handed[2] = { ~0u, ~0u };       /* released after the caller has its copies */

static bool allowed(capnp_text bin)
{
    const char *a = rt_capset->args;
    while (*a) {
        while (*a == ' ')
            a++;
        size_t n = 0;
        while (a[n] && a[n] != ' ')
            n++;
        if (n && n == bin.len && !memcmp(a, bin.str, n))
            return true;
        a += n;
    }
    return false;
}

/* Besides broad authority, a program gets neither a terminal nor an
 * endpoint's owner side nor a way to run more programs. */
static bool dangerous(uint64_t iface)
{
    return rt_broad_authority(iface) || iface == capos_TerminalSession_ID || iface == capos_Endpoint_ID ||
           iface == capos_ProgramLauncher_ID;
}

static int do_run(void *self, capos_ProgramLauncher_run_Params_reader p, capos_ProgramLauncher_run_Results_builder r)
{
    int e = CAP_ERR_INVALID_ARGUMENT;
    capnp_text bin = capos_ProgramLauncher_run_Params_get_binary(p);
    capnp_list gl = capos_ProgramLauncher_run_Params_get_grants(p);
    uint32_t ci = capos_ProgramLauncher_run_Params_get_context(p);
    char bname[32], gnames[8][24], args[256];
    const char *names[9];
    uint32_t caps[9];
    uint32_t n = 0, owner = ~0u, facet = ~0u;
    if (!allowed(bin) || bin.len >= sizeof bname || gl.count > 7 || ci >= in.ncaps ||
        in.cap_ifaces[ci] != capos_SessionContext_ID)
        goto out;
    memcpy(bname, bin.str, bin.len);
    bname[bin.len] = 0;
    for (uint32_t i = 0; i < gl.count; i++) {
        capos_CapGrant_reader g = capos_CapGrant_list_get(gl, i);
        capnp_text t = capos_CapGrant_get_name(g);
        uint32_t ix = capos_CapGrant_get_cap(g);
        if (ix >= in.ncaps || t.len == 0 || t.len >= 24 || dangerous(in.cap_ifaces[ix]) ||
            (t.len == 7 && !memcmp(t.str, "console", 7)))
            goto out;
        memcpy(gnames[n], t.str, t.len);
        gnames[n][t.len] = 0;
        names[n] = gnames[n];
        caps[n++] = in.caps[ix];
    }
    capnp_text at = capos_ProgramLauncher_run_Params_get_args(p);
    if (at.len >= sizeof args)
        goto out;
    memcpy(args, at.str, at.len);
    args[at.len] = 0;
    if ((e = rt_endpoint_create(factory, capos_Console_ID, 0, &owner, &facet)))
        goto out;
    names[n] = "console";
    caps[n++] = facet;
    int64_t h = rt_spawn_args(spawner, bname, names, caps, n, in.caps[ci], args);
    if (h < 0) {
        e = (int)h;
        goto out;
    }
    capos_ProgramLauncher_run_Results_set_process(r, capnp_add_cap(r.s, (uint32_t)h));
    capos_ProgramLauncher_run_Results_set_stdio(r, capnp_add_cap(r.s, owner));
    handed[0] = (uint32_t)h;
    handed[1] = owner;
    owner = ~0u;
    e = CAPNP_OK;
out:
    if (owner != ~0u)
        rt_release(owner);
    if (facet != ~0u)
        rt_release(facet);                  /* the child holds its own copy */
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    return e;
}

static const capos_ProgramLauncher_server server = { .run = do_run };
static int dispatch(const void *srv, void *self, capnp_server_call *c) { return capos_ProgramLauncher_dispatch(srv, self, c); }

int main(void)
{
    uint32_t owner = rt_capset_require("programs");
    spawner = rt_capset_require("spawner");
    factory = rt_capset_require("endpoints");
    static uint8_t buf[2048] __attribute__((aligned(8)));
    for (;;) {
        if (rt_serve_one(owner, dispatch, &server, &in, buf, sizeof buf, &in) == CAP_ERR_DISCONNECTED)
            return 0;
        for (int i = 0; i < 2; i++)
            if (handed[i] != ~0u) {
                rt_release(handed[i]);
                handed[i] = ~0u;
            }
    }
}
