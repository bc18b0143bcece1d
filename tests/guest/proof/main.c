/*
 * proof: the guest side of the QEMU proofs. A test manifest starts it as a
 * service with the grants its mode needs; its args name the mode. It prints
 * facts (results, codes, counters) and powers the machine off with a status;
 * the host harness judges what it printed. Test images only.
 */
#include "rt/capos.h"
#include "../include/authority.h"
#include "capos_test.capnp.h"
#include "proof.h"

static uint32_t cap_spawner = ~0u, cap_power = ~0u;

/* Spawn a boot-package program granting it the named caps of our own (same
 * names in the child), with its own thread caps when `threads` (benchmarks
 * use threads). Returns the child's ProcessHandle cap or a CAP_ERR_*. */
static int64_t spawn_granting(const char *binary, const char *const *grants, bool threads)
{
    uint32_t caps[8];
    uint32_t ng = 0;
    for (; grants[ng] && ng < 7; ng++) {
        int64_t id = rt_capset_lookup(grants[ng]);
        if (id < 0)
            return CAP_ERR_NOT_FOUND;
        caps[ng] = (uint32_t)id;
    }
    return threads ? rt_spawn_threads(cap_spawner, binary, grants, caps, ng, "")
                   : rt_spawn(cap_spawner, binary, grants, caps, ng, ~0u);
}

static int64_t spawn_program(const char *binary, const char *const *grants)
{
    return spawn_granting(binary, grants, false);
}

int64_t spawn_with_console(const char *binary)
{
    static const char *const g[] = { "console", 0 };
    return spawn_program(binary, g);
}

/* Mode "bench NAME...": run each benchmark program in turn. */
static int run_benches(const char *args)
{
    static const char *const g[] = { "console", "timer", "memory", "spawner", "endpoints", 0 };
    char name[32];
    int failed = 0;
    for (const char *p = args; *p;) {
        while (*p == ' ')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ')
            n++;
        if (!n)
            break;
        if (n < sizeof name) {
            memcpy(name, p, n);
            name[n] = 0;
            int64_t h = spawn_granting(name, g, true);
            int64_t code = h >= 0 ? process_wait((uint32_t)h) : h;
            printf("BENCH-DONE %s exit=%ld\n", name, code);
            failed |= code != 0;
            if (h >= 0)
                rt_release((uint32_t)h);
        }
        p += n;
    }
    return failed;
}

int64_t process_wait(uint32_t handle)
{
    return rt_wait(handle);
}

static __attribute__((noreturn)) void power_off(uint32_t status)
{
    rt_power_off(cap_power, status);
}

/* Mode "credentials": the CredentialStore service, called by the proof. */
static uint32_t cred_cap;
static int cred_verify(const char *who, const char *pw, uint64_t *retry)
{
    RT_BUFS(b, 512, 64);
    capnp_client cl = RT_CLIENT(cred_cap);
    capnp_call call;
    capos_CredentialStore_verify_Results_reader r;
    int e = rt_error(capos_CredentialStore_verify(&cl, &b, &call, who, strlen(who), pw, strlen(pw), &r));
    if (e)
        return e;
    if (retry)
        *retry = capos_CredentialStore_verify_Results_get_retryAfterMs(r);
    return capos_CredentialStore_verify_Results_get_result(r);
}

static int cred_setup(const char *who, const char *pw)
{
    RT_BUFS(b, 512, 64);
    capnp_client cl = RT_CLIENT(cred_cap);
    capnp_call call;
    capos_CredentialStore_setup_Results_reader r;
    int e = rt_error(capos_CredentialStore_setup(&cl, &b, &call, who, strlen(who), pw, strlen(pw), &r));
    return e ? e : capos_CredentialStore_setup_Results_get_created(r);
}

static int credtest_run(void)
{
    uint32_t owner, facet;
    if (rt_endpoint_create(rt_capset_require("endpoints"), capos_CredentialStore_ID, 0, &owner, &facet))
        return 3;
    const char *names[] = { "console", "credentials", "timer", "memory" };
    uint32_t caps[] = { rt_console, owner, rt_timer, rt_memory };
    int64_t srv = rt_spawn(cap_spawner, "credentials", names, caps, 4, ~0u);
    rt_release(owner);
    cred_cap = facet;
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(cred_cap);
    capnp_call call;
    capos_CredentialStore_isEmpty_Results_reader er;
    int e = rt_error(capos_CredentialStore_isEmpty(&cl, &b, &call, &er));
    printf("CRED empty result=%d empty=%d\n", e, e ? -1 : capos_CredentialStore_isEmpty_Results_get_empty(er));
    printf("CRED verify-before-setup %d\n", cred_verify("admin", "correct horse", 0));
    printf("CRED setup %d\n", cred_setup("admin", "correct horse"));
    printf("CRED setup-again %d\n", cred_setup("mallory", "x"));
    uint64_t t0 = rt_timer_now();
    int ok = cred_verify("admin", "correct horse", 0);
    printf("CRED verify-good %d (Argon2id verify took %lu ms)\n", ok, (rt_timer_now() - t0) / 1000000);
    printf("CRED verify-unknown %d\n", cred_verify("nobody", "correct horse", 0));
    for (int i = 0; i < 3; i++)
        printf("CRED verify-wrong %d\n", cred_verify("admin", "wrong", 0));
    uint64_t retry = 0;
    int r = cred_verify("admin", "correct horse", &retry);
    printf("CRED verify-during-backoff %d retry-ms=%lu\n", r, retry);
    rt_timer_sleep_until(rt_timer_now() + (retry + 10) * 1000000);
    printf("CRED verify-after-backoff %d\n", cred_verify("admin", "correct horse", 0));
    rt_kill((uint32_t)srv);
    rt_wait((uint32_t)srv);
    return 0;
}

/* Print every process and the interfaces of every cap it holds, from the
 * kernel's own tables: the harness checks what a shell really holds. */
static void authority_walk(void)
{
    RT_BUFS(b, 64, 4096);
    uint32_t stats = rt_capset_require("stats");
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        char line[AUTHORITY_LINE_MAX];
        authority_line(capos_ProcessCaps_list_get(l, i), false, line);
        printf("%s\n", line);
    }
}

/* Mode "launcher" (with tests/sessions/launcher.manifest): ask
 * the launcher for a shell in sessions whose (compromised) broker bundle
 * carries broad authority; every request must fail closed. "timer" is the
 * control: an ordinary bundle does start a shell. */
static int launchertest_run(void)
{
        uint32_t launcher = (uint32_t)rt_capset_require("launcher");
    uint32_t auth = rt_capset_require("sessions");
    uint32_t term = rt_capset_require("terminal");
    static const char *const profiles[] = { "spawner", "endpoints", "sessions", "power", "timer" };
    for (unsigned i = 0; i < 5; i++) {
        int64_t ctx = rt_session_mint(auth, "mallory", profiles[i]);
        RT_BUFS(b, 256, 256);
        capnp_client cl = RT_CLIENT(launcher);
        capnp_call call;
        capos_RestrictedShellLauncher_launchShell_Params_builder p = capos_RestrictedShellLauncher_launchShell_start(&call, &cl, &b);
        capos_RestrictedShellLauncher_launchShell_Params_set_context(p, capnp_add_cap(p.s, (uint32_t)ctx));
        capos_RestrictedShellLauncher_launchShell_Params_set_terminal(p, capnp_add_cap(p.s, term));
        /* the launcher only checks the UserSession's interface; a facet of
         * an endpoint nobody serves will do */
        uint32_t fo, ff;
        rt_endpoint_create(rt_capset_require("endpoints"), capos_UserSession_ID, 0, &fo, &ff);
        capos_RestrictedShellLauncher_launchShell_Params_set_session(p, capnp_add_cap(p.s, ff));
        capos_RestrictedShellLauncher_launchShell_Results_reader r;
        int e = rt_error(capos_RestrictedShellLauncher_launchShell_send(&call, &r));
        printf("LAUNCH %s result=%d shells=%u\n", profiles[i], e, call.result_ncaps);
        if (!e && call.result_ncaps == 1) {
            authority_walk();
            rt_kill(b.result_caps[0]);
            rt_wait(b.result_caps[0]);
            rt_release(b.result_caps[0]);
        }
        rt_release(fo);
        rt_release(ff);
        rt_release((uint32_t)ctx);
    }
    return 0;
}

/* Mode "sessions" (with tests/sessions/sessions.manifest): the
 * session path, driven by init. */
static void print_session(const char *label, uint32_t us, uint32_t ctx)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(us);
    capnp_call call;
    capos_UserSession_info_Results_reader r;
    int e = rt_error(capos_UserSession_info(&cl, &b, &call, &r));
    capnp_text p = e ? (capnp_text){ "", 0 } : capos_UserSession_info_Results_get_principal(r);
    capnp_text f = e ? (capnp_text){ "", 0 } : capos_UserSession_info_Results_get_profile(r);
    capnp_text m = e ? (capnp_text){ "", 0 } : capos_UserSession_info_Results_get_authMethod(r);
    printf("SESSION %s info=%d principal=%.*s profile=%.*s method=%.*s\n", label, e, (int)p.len, p.str, (int)f.len,
           f.str, (int)m.len, m.str);
    RT_BUFS(b2, 64, 512);
    capnp_client cl2 = RT_CLIENT(ctx);
    capos_SessionContext_info_Results_reader cr;
    e = rt_error(capos_SessionContext_info(&cl2, &b2, &call, &cr));
    capnp_text cp = e ? (capnp_text){ "", 0 } : capos_SessionContext_info_Results_get_principal(cr);
    printf("SESSION %s context=%d principal=%.*s live=%d\n", label, e, (int)cp.len, cp.str,
           e ? 0 : capos_SessionContext_info_Results_get_live(cr));
}

static int sessiontest_run(void)
{
        cred_cap = (uint32_t)rt_capset_require("credentials");
    printf("SESSION setup %d\n", cred_setup("admin", "correct horse"));
    uint32_t sm = (uint32_t)rt_capset_require("manager");
    static const struct { const char *who, *pw, *profile; } tries[] = {
        { "admin", "correct horse", "operator" }, { "admin", "wrong", "operator" },
        { "admin", "correct horse", "root" }, { "bob", "x", "operator" }, { "carol", "x", "operator" },
        { "dave", "x", "operator" }, { "zed", "x", "operator" }, { "erin", "x", "guest" },
    };
    for (unsigned i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        RT_BUFS(b, 512, 512);
        capnp_client cl = RT_CLIENT(sm);
        capnp_call call;
        capos_SessionManager_login_Results_reader r;
        int e = rt_error(capos_SessionManager_login(&cl, &b, &call, tries[i].who, strlen(tries[i].who), tries[i].pw,
                                                     strlen(tries[i].pw), tries[i].profile, strlen(tries[i].profile),
                                                     &r));
        int res = e ? -1 : capos_SessionManager_login_Results_get_result(r);
        printf("SESSION login %s/%s result=%d caps=%u\n", tries[i].who, tries[i].profile, e ? e : res, call.result_ncaps);
        if (!e && res == capos_LoginResult_ok && call.result_ncaps == 2) {
            uint32_t us = b.result_caps[capos_SessionManager_login_Results_get_session(r)];
            uint32_t ctx = b.result_caps[capos_SessionManager_login_Results_get_context(r)];
            print_session(tries[i].who, us, ctx);
        }
    }
    {
        RT_BUFS(b, 64, 512);
        capnp_client cl = RT_CLIENT(sm);
        capnp_call call;
        capos_SessionManager_guest_Results_reader r;
        int e = rt_error(capos_SessionManager_guest(&cl, &b, &call, &r));
        printf("SESSION guest result=%d caps=%u\n", e, call.result_ncaps);
        if (!e && call.result_ncaps == 2)
            print_session("guest", b.result_caps[capos_SessionManager_guest_Results_get_session(r)],
                          b.result_caps[capos_SessionManager_guest_Results_get_context(r)]);
    }
    /* the SSH bridge, as the gateway will use it */
    {
        const char *sn[] = { "console", "manager" };
        uint32_t scaps[] = { rt_console, sm };
        int64_t h = rt_spawn_args(cap_spawner, "sshauth-client", sn, scaps, 2, ~0u, "");
        printf("SESSION ssh-client exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    /* the audit trail, read as an operator */
    int64_t op = rt_session_mint(rt_capset_require("sessions"), "auditor", "operator");
    const char *cn[] = { "console", "audit" };
    uint32_t cc[] = { rt_console, (uint32_t)rt_capset_require("audit") };
    int64_t h = rt_spawn_args(cap_spawner, "audit-client", cn, cc, 2, (uint32_t)op, "all");
    printf("SESSION audit-reader exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
    return 0;
}

/* Mode "audit": the audit service, written by one session and
 * read by an operator and by a guest. */
static int audittest_run(void)
{
    uint32_t owner, facet;
    if (rt_endpoint_create(rt_capset_require("endpoints"), capos_AuditLog_ID, CAP_RECV_F_PROFILE, &owner, &facet))
        return 3;
    const char *names[] = { "console", "log", "timer" };
    uint32_t caps[] = { rt_console, owner, rt_timer };
    int64_t srv = rt_spawn(cap_spawner, "audit", names, caps, 3, ~0u);
    rt_release(owner);
    uint32_t auth = rt_capset_require("sessions");
    int64_t op = rt_session_mint(auth, "alice", "operator"), guest = rt_session_mint(auth, "bob", "guest");
    const char *cn[] = { "console", "audit" };
    uint32_t cc[] = { rt_console, facet };
    static const char *const roles[] = { "write", "operator", "guest" };
    for (int i = 0; i < 3; i++) {
        int64_t s = i == 2 ? guest : op;            /* the writer and the reader are operators */
        int64_t h = rt_spawn_args(cap_spawner, "audit-client", cn, cc, 2, (uint32_t)s, roles[i]);
        printf("AUDITTEST %s exit=%ld\n", roles[i], h >= 0 ? rt_wait((uint32_t)h) : h);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    rt_kill((uint32_t)srv);
    rt_wait((uint32_t)srv);
    return 0;
}

/* Mode "terminal": TerminalSession reads, driven by the host. */
static int termtest_run(void)
{
    uint32_t term = rt_capset_require("terminal");
    char line[128];
    int ev = -1, r;
    printf("TERM ready-echo\n");
    r = rt_term_read(term, true, line, sizeof line, &ev);
    printf("TERM echo result=%d line=%s event=%d\n", r, line, ev);
    printf("TERM ready-secret\n");
    r = rt_term_read(term, false, line, sizeof line, &ev);
    printf("TERM secret result=%d len=%u matches=%d event=%d\n", r, (unsigned)strlen(line), !strcmp(line, "hunter2"), ev);
    memset(line, 0, sizeof line);
    printf("TERM ready-edit\n");
    r = rt_term_read(term, true, line, sizeof line, &ev);
    printf("TERM edit result=%d line=%s event=%d\n", r, line, ev);
    printf("TERM ready-interrupt\n");
    r = rt_term_read(term, true, line, sizeof line, &ev);
    printf("TERM interrupt result=%d len=%u event=%d\n", r, (unsigned)strlen(line), ev);
    printf("TERM ready-eof\n");
    r = rt_term_read(term, true, line, sizeof line, &ev);
    printf("TERM eof result=%d len=%u event=%d\n", r, (unsigned)strlen(line), ev);
    return 0;
}

/* Mode "threads": run threadtest in each of its modes with
 * thread caps granted, and report how each process ended. */
static int threadtest_run(void)
{
    static const char *const modes[] = { "basic", "park", "fault", "last" };
    const char *names[] = { "console", "timer", "memory", "probe" };
    uint32_t caps[] = { rt_console, rt_timer, rt_memory, 0 };
    for (int i = 0; i < 4; i++) {
        int64_t h = rt_spawn_threads(cap_spawner, "threadtest", names, caps, 3, modes[i]);
        int64_t code = h >= 0 ? rt_wait((uint32_t)h) : h;
        printf("THREADTEST %s exit=%ld\n", modes[i], code);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    /* per-thread rings: refusals, a dropped completion, no leak */
    {
        const char *rnames[] = { "console", "timer", "memory", "stats", "endpoints" };
        uint32_t rcaps[] = { rt_console, rt_timer, rt_memory, (uint32_t)rt_capset_lookup("stats"),
                             (uint32_t)rt_capset_lookup("endpoints") };
        int64_t h = rt_spawn_threads(cap_spawner, "threadtest", rnames, rcaps, 5, "rings");
        printf("THREADTEST rings exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    /* a process with parked threads is killed: nothing stays behind */
    uint32_t stats = (uint32_t)rt_capset_lookup("stats");
    struct rt_kernel_stats s0, s1;
    rt_stats(stats, &s0);
    int64_t h = rt_spawn_threads(cap_spawner, "threadtest", names, caps, 3, "parkkill");
    rt_timer_sleep_until(rt_timer_now() + 50000000);
    rt_kill((uint32_t)h);
    printf("THREADTEST parkkill exit=%ld\n", rt_wait((uint32_t)h));
    rt_release((uint32_t)h);
    rt_stats(stats, &s1);
    printf("THREADTEST parkkill pending %lu -> %lu, objects %lu -> %lu, frames %lu -> %lu\n",
           s0.pending_calls, s1.pending_calls, s0.objects, s1.objects, s0.free_frames, s1.free_frames);

    /* the ring stress, against an endpoint that answers out of order */
    uint32_t owner, facet;
    rt_endpoint_create((uint32_t)rt_capset_lookup("endpoints"), capos_test_IpcProbe_ID, 0, &owner, &facet);
    const char *snames[] = { "console", "probe", "timer" };
    uint32_t scaps[] = { rt_console, owner, rt_timer };
    int64_t srv = rt_spawn_args(cap_spawner, "ipc-server", snames, scaps, 3, ~0u, "ooo");
    rt_release(owner);
    caps[3] = facet;
    h = rt_spawn_threads(cap_spawner, "threadtest", names, caps, 4, "stress");
    printf("THREADTEST stress exit=%ld\n", rt_wait((uint32_t)h));
    rt_kill((uint32_t)srv);
    rt_wait((uint32_t)srv);
    return 0;
}

/* Mode "services" (tests/services/services.manifest): use the manifest's
 * echo service through the grant init made; then make the test service
 * "crasher" fail (it answers, then exits with 3) and see that the supervisor
 * restarted it behind the same endpoint. */
static int echo_call(uint32_t cap, const char *what, int round)
{
    RT_BUFS(b, 256, 256);
    capnp_client cl = RT_CLIENT(cap);
    capnp_call call;
    capos_Echo_echo_Results_reader r;
    int e = rt_error(capos_Echo_echo(&cl, &b, &call, "ping", 4, &r));
    capnp_data d = e ? (capnp_data){ 0, 0 } : capos_Echo_echo_Results_get_data(r);
    printf("SERVICES %s round=%d result=%d reply=%.*s\n", what, round, e, (int)d.len, (const char *)d.ptr);
    return e;
}

static int services_test(void)
{
    uint32_t echo = rt_capset_require("echo"), crasher = rt_capset_require("crasher");
    echo_call(echo, "echo", 0);
    for (int round = 0; round < 2; round++) {
        echo_call(crasher, "crasher", round);
        /* the crasher exits after answering: wait until init has started it
         * again (a call before that waits in the endpoint's queue anyway) */
        rt_timer_sleep_until(rt_timer_now() + 50000000);
    }
    printf("SERVICES done\n");
    return 0;
}

static void run_program(const char *name)
{
    static const char *const g[] = { "console", "timer", "memory", 0 };
    int64_t h = spawn_program(name, g);
    int64_t code = h >= 0 ? process_wait((uint32_t)h) : h;
    printf("RUN %s exit=%ld\n", name, code);
    power_off(code == 0 ? 0 : 1);
}

/* Mode "sqefuzz SEED...": the ring fuzzer, one process a seed, and the
 * kernel's counters before and after. */
static void sqefuzz_run(const char *seeds)
{
    uint32_t stats = rt_capset_require("stats");
    static const char *const g[] = { "console", "timer", "memory", "endpoints", 0 };
    struct rt_kernel_stats s0, s1;
    int64_t warm = spawn_program("hello", (const char *const[]){ "console", 0 });   /* warm the allocators */
    if (warm >= 0) {
        process_wait((uint32_t)warm);
        rt_release((uint32_t)warm);
    }
    rt_stats(stats, &s0);
    int runs = 0;
    while (*seeds == ' ') {
        seeds++;
        char seed[16] = "";
        size_t n = 0;
        while (seeds[n] && seeds[n] != ' ' && n < sizeof seed - 1)
            seed[n] = seeds[n], n++;
        seeds += n;
        int64_t h = rt_spawn_args(cap_spawner, "sqefuzz", g, (uint32_t[]){ rt_console, rt_capset_require("timer"),
                                  rt_capset_require("memory"), rt_capset_require("endpoints") }, 4, ~0u, seed);
        int64_t code = h >= 0 ? process_wait((uint32_t)h) : h;
        printf("FUZZ run %d exit=%ld\n", runs++, code);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    rt_stats(stats, &s1);
    /* frames: free ones plus those the kernel heap holds (the heap keeps the
     * pages its peak needed; what it holds live is `heap`) */
    printf("FUZZ stats before frames=%lu objects=%lu heap=%lu slots=%lu pending=%lu\n",
           s0.free_frames + s0.heap_pages, s0.objects, s0.heap_bytes, s0.cap_slots, s0.pending_calls);
    printf("FUZZ stats after  frames=%lu objects=%lu heap=%lu slots=%lu pending=%lu\n",
           s1.free_frames + s1.heap_pages, s1.objects, s1.heap_bytes, s1.cap_slots, s1.pending_calls);
    power_off(0);
}

static int smp_run(void)
{
    return smptest_run(cap_spawner);
}

static const struct mode {
    const char *name;
    int (*run)(void);
} modes[] = {
    { "ring", ringtest_run },         { "services", services_test },
    { "launcher", launchertest_run }, { "sessions", sessiontest_run },   { "credentials", credtest_run },
    { "audit", audittest_run },       { "terminal", termtest_run },      { "threads", threadtest_run },
    { "ipc", ipctest_run },           { "smp", smp_run },
};

int main(void)
{
    int64_t c = rt_capset_lookup("spawner");
    if (c >= 0)
        cap_spawner = (uint32_t)c;
    cap_power = rt_capset_require("power");
    const char *args = rt_capset->args;
    printf("PROOF mode: %s\n", args);
    if (!strncmp(args, "run ", 4))
        run_program(args + 4);
    if (!strncmp(args, "sqefuzz", 7))
        sqefuzz_run(args + 7);
    if (!strncmp(args, "bench ", 6))
        power_off(run_benches(args + 6) == 0 ? 0 : 1);
    for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (!strcmp(args, modes[i].name)) {
            int r = modes[i].run();
            power_off(r >= 0 && r < 64 ? (uint32_t)r : 1);     /* QEMU's exit status keeps 7 bits */
        }
    printf("proof: unknown mode \"%s\"\n", args);
    power_off(3);
}
