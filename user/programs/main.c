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

/* One line about each program this launcher may be told to run (manifest
 * args name which ones); a program not listed here reads "a program". */
static const struct { const char *name, *about; } known[] = {
    { "hello", "prints a greeting and its pid, then exits with 7" },
    { "fault", "faults on purpose: shows how a crash is reported" },
};

static const char *about(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == n && !memcmp(known[i].name, name, n))
            return known[i].about;
    return "a program";
}

/* The i-th word of the manifest args (the permitted programs), or 0. */
static const char *word(uint32_t i, size_t *len)
{
    const char *a = rt_capset->args;
    for (;;) {
        while (*a == ' ')
            a++;
        if (!*a)
            return 0;
        size_t n = 0;
        while (a[n] && a[n] != ' ')
            n++;
        if (i-- == 0) {
            *len = n;
            return a;
        }
        a += n;
    }
}

static bool allowed(capnp_text bin)
{
    size_t n;
    const char *w;
    for (uint32_t i = 0; (w = word(i, &n)); i++)
        if (n == bin.len && !memcmp(w, bin.str, n))
            return true;
    return false;
}

/* Besides broad authority, a program gets neither a terminal nor an
 * endpoint's owner side nor a way to run more programs or change accounts. */
static bool dangerous(uint64_t iface)
{
    return rt_broad_authority(iface) || iface == capos_TerminalSession_ID || iface == capos_Endpoint_ID ||
           iface == capos_ProgramLauncher_ID || iface == capos_AccountAdmin_ID;
}

static uint16_t check_run(capos_ProgramLauncher_run_Params_reader p, char *bname, size_t bcap,
                          char gnames[8][24], const char **names, uint32_t *caps, uint32_t *n, char *args, size_t acap)
{
    capnp_text bin = capos_ProgramLauncher_run_Params_get_binary(p);
    capnp_list gl = capos_ProgramLauncher_run_Params_get_grants(p);
    uint32_t ci = capos_ProgramLauncher_run_Params_get_context(p);
    if (!allowed(bin) || bin.len >= bcap)
        return capos_RunError_unknownProgram;
    if (ci >= in.ncaps || in.cap_ifaces[ci] != capos_SessionContext_ID)
        return capos_RunError_noContext;
    if (gl.count > 7)
        return capos_RunError_tooManyGrants;
    memcpy(bname, bin.str, bin.len);
    bname[bin.len] = 0;
    for (uint32_t i = 0; i < gl.count; i++) {
        capos_CapGrant_reader g = capos_CapGrant_list_get(gl, i);
        capnp_text t = capos_CapGrant_get_name(g);
        uint32_t ix = capos_CapGrant_get_cap(g);
        if (t.len == 0)
            return capos_RunError_emptyGrantName;
        if (t.len == 7 && !memcmp(t.str, "console", 7))
            return capos_RunError_reservedGrantName;
        if (ix >= in.ncaps || t.len >= 24)
            return capos_RunError_badGrant;
        if (dangerous(in.cap_ifaces[ix]))
            return capos_RunError_grantRefused;
        for (uint32_t k = 0; k < *n; k++)
            if (strlen(gnames[k]) == t.len && !memcmp(gnames[k], t.str, t.len))
                return capos_RunError_badGrant;                 /* a name twice */
        memcpy(gnames[*n], t.str, t.len);
        gnames[*n][t.len] = 0;
        names[*n] = gnames[*n];
        caps[(*n)++] = in.caps[ix];
    }
    capnp_text at = capos_ProgramLauncher_run_Params_get_args(p);
    if (at.len >= acap)
        return capos_RunError_argsTooLong;
    memcpy(args, at.str, at.len);
    args[at.len] = 0;
    return capos_RunError_none;
}

static int do_run(void *self, capos_ProgramLauncher_run_Params_reader p, capos_ProgramLauncher_run_Results_builder r)
{
    char bname[32], gnames[8][24], args[256];
    const char *names[9];
    uint32_t caps[9];
    uint32_t n = 0, owner = ~0u, facet = ~0u;
    uint16_t err = check_run(p, bname, sizeof bname, gnames, names, caps, &n, args, sizeof args);
    if (err == capos_RunError_none && rt_endpoint_create(factory, capos_Console_ID, 0, &owner, &facet))
        err = capos_RunError_spawnFailed;
    if (err == capos_RunError_none) {
        names[n] = "console";
        caps[n++] = facet;
        int64_t h = rt_spawn_args(spawner, bname, names, caps, n, in.caps[capos_ProgramLauncher_run_Params_get_context(p)],
                                  args);
        if (h < 0) {
            err = capos_RunError_spawnFailed;
        } else {                                  /* both move to the caller with the answer */
            capos_ProgramLauncher_run_Results_set_process(r, capnp_add_cap(r.s, (uint32_t)h));
            capos_ProgramLauncher_run_Results_set_stdio(r, capnp_add_cap(r.s, owner));
            owner = ~0u;
        }
    }
    capos_ProgramLauncher_run_Results_set_error(r, err);
    if (owner != ~0u)
        rt_release(owner);
    if (facet != ~0u)
        rt_release(facet);                  /* the child holds its own copy */
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    return CAPNP_OK;
}

static int do_programs(void *self, capos_ProgramLauncher_programs_Params_reader p,
                       capos_ProgramLauncher_programs_Results_builder r)
{
    for (uint32_t i = 0; i < in.ncaps; i++)
        rt_release(in.caps[i]);
    size_t n;
    uint32_t count = 0;
    while (word(count, &n))
        count++;
    capnp_lbuilder nl = capos_ProgramLauncher_programs_Results_init_names(r, count);
    capnp_lbuilder al = capos_ProgramLauncher_programs_Results_init_about(r, count);
    for (uint32_t i = 0; i < count; i++) {
        const char *w = word(i, &n);
        capnp_lset_text(nl, i, w, n);
        const char *a = about(w, n);
        capnp_lset_text(al, i, a, strlen(a));
    }
    return CAPNP_OK;
}

static const capos_ProgramLauncher_server server = { .run = do_run, .programs = do_programs };

int main(void)
{
    uint32_t owner = rt_capset_require("programs");
    spawner = rt_capset_require("spawner");
    factory = rt_capset_require("endpoints");
    return rt_serve_forever(owner, capos_ProgramLauncher_dispatch_any, &server, &in);
}
