/*
 * init: the first process. Prints the boot banner and its CapSet; then either
 * runs the ring self-test (boot argument "test", used by the host harness)
 * or offers a tiny console until the login shell exists.
 */
#include "rt/capos.h"
#include "ringtest.h"
#include "services.h"

static uint32_t cap_spawner = ~0u, cap_power = ~0u;
static uint64_t boot_banner_ns, boot_banner_tsc;

static void print_capset(void)
{
    printf("CapSet of pid %u (%u caps):\n", rt_pid, rt_capset->count);
    for (uint32_t i = 0; i < rt_capset->count; i++) {
        const struct capset_entry *e = &rt_capset->entries[i];
        printf("  %-10s cap %08x  interface %016lx\n", e->name, e->cap_id, e->interface_id);
    }
}

/* Spawn a boot-package program, granting it the named caps of init's own
 * (same names in the child). Returns the child's ProcessHandle cap. */
int64_t spawn_program(const char *binary, const char *const *grants)
{
    uint32_t caps[8];
    uint32_t ng = 0;
    for (; grants[ng] && ng < 7; ng++) {
        int64_t id = -1;
        for (uint32_t i = 0; i < rt_capset->count; i++)
            if (!strcmp(rt_capset->entries[i].name, grants[ng]))
                id = rt_capset->entries[i].cap_id;
        if (id < 0)
            return CAP_ERR_NOT_FOUND;
        caps[ng] = (uint32_t)id;
    }
    return rt_spawn(cap_spawner, binary, grants, caps, ng, ~0u);
}

/* The same, with the child's own thread caps (benchmarks use threads). */
static int64_t spawn_program_threads(const char *binary, const char *const *grants)
{
    uint32_t caps[8];
    uint32_t ng = 0;
    for (; grants[ng] && ng < 7; ng++) {
        int64_t id = rt_capset_lookup(grants[ng]);
        if (id < 0)
            return CAP_ERR_NOT_FOUND;
        caps[ng] = (uint32_t)id;
    }
    return rt_spawn_threads(cap_spawner, binary, grants, caps, ng, "");
}

int64_t spawn_with_console(const char *binary)
{
    static const char *const g[] = { "console", 0 };
    return spawn_program(binary, g);
}

/* Boot argument "bench NAME...": run each benchmark program in turn. */
static int run_benches(const char *args)
{
    static const char *const g[] = { "console", "timer", "memory", "spawner", "endpoints", 0 };
    char name[32];
    int failed = 0;
    printf("BENCH-BOOT banner-tsc=%lu\n", boot_banner_tsc);
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
            int64_t h = spawn_program_threads(name, g);
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

__attribute__((noreturn)) void power_off(uint32_t status)
{
    rt_power_off(cap_power, status);
}

static void command(const char *line)
{
    if (!strcmp(line, "help") || !line[0]) {
        printf("help caps services time hello fault poweroff\n");
    } else if (!strcmp(line, "caps")) {
        print_capset();
    } else if (!strcmp(line, "services")) {
        services_list();
    } else if (!strcmp(line, "time")) {
        printf("%lu ns since boot\n", rt_timer_now());
    } else if (!strcmp(line, "hello") || !strcmp(line, "fault")) {
        int64_t h = spawn_with_console(line);
        if (h < 0) {
            printf("spawn failed: %ld\n", h);
            return;
        }
        printf("%s exited with %ld\n", line, process_wait((uint32_t)h));
        rt_release((uint32_t)h);
    } else if (!strcmp(line, "poweroff")) {
        power_off(0);
    } else {
        printf("unknown command: %s\n", line);
    }
}

#define CONSOLE_TAG 0xC0C0000000000001ull

/* One event loop: console lines and service exits, whichever comes first. */
static void console_loop(void)
{
    static uint8_t params[64] __attribute__((aligned(8)));
    static uint8_t result[1024] __attribute__((aligned(8)));
    capnp_builder b;
    size_t plen = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_Console_readLine_Params_set_maxBytes(capos_Console_readLine_Params_init_root(&b), 120);
    capnp_builder_finish(&b, &plen);
    struct cap_sqe rl = {
        .opcode = CAP_OP_CALL, .cap_id = rt_console, .interface_id = IFACE_CONSOLE, .method_id = CONSOLE_READ_LINE,
        .addr = (uint64_t)params, .len = (uint32_t)plen, .result_addr = (uint64_t)result, .result_len = sizeof result,
    };
    printf("This is init's boot console; the login shell comes later.\n"
           "Commands: help, caps, services, time, hello, fault, poweroff.  (Ctrl-A X leaves QEMU.)\n");
    printf("init> ");
    rt_ring_submit_tagged(&rl, CONSOLE_TAG);
    services_watch();
    for (;;) {
        struct cap_cqe c;
        if (!rt_ring_poll(&c)) {
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
            continue;
        }
        if (services_event(&c) || c.user_data != CONSOLE_TAG)
            continue;
        char line[128] = "";
        if (c.result >= 0) {
            capnp_msg msg;
            if (capnp_msg_init(&msg, result, (size_t)c.result) == CAPNP_OK) {
                capnp_data d = capos_Console_readLine_Results_get_line(capos_Console_readLine_Results_read_root(&msg));
                size_t n = d.len < sizeof line - 1 ? d.len : sizeof line - 1;
                memcpy(line, d.ptr, n);
                line[n] = 0;
            }
        }
        command(line);
        printf("init> ");
        rt_ring_submit_tagged(&rl, CONSOLE_TAG);
    }
}

/* Boot argument "credtest": the CredentialStore service, called by init. */
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
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text n = capos_ProcessCaps_get_name(p);
        capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
        char line[512];
        int len = fmt_snprintf(line, sizeof line, "AUTHORITY %.*s held=%u:", (int)n.len, n.str, capos_ProcessCaps_get_held(p));
        for (uint32_t k = 0; k < ifs.count && len < (int)sizeof line - 40; k++) {
            uint64_t id = capnp_list_u64(ifs, k);
            const char *name = "?";
            for (uint32_t j = 0; j < capos_INTERFACE_COUNT; j++)
                if (capos_interfaces[j].id == id)
                    name = capos_interfaces[j].name;
            len += fmt_snprintf(line + len, sizeof line - (size_t)len, " %s", name);
        }
        printf("%s\n", line);
    }
}

/* Boot argument "logintest" (with tests/sessions/shell.manifest): log in,
 * run a shell on the terminal until the host types exit, log out; twice,
 * comparing the kernel's counters around the second cycle. */
static int login_cycle(uint32_t sm, uint32_t launcher, uint32_t term)
{
    RT_BUFS(b, 512, 512);
    capnp_client cl = RT_CLIENT(sm);
    capnp_call call;
    capos_SessionManager_login_Results_reader lr;
    int e = rt_error(capos_SessionManager_login(&cl, &b, &call, "admin", 5, "correct horse", 13, "operator", 8, &lr));
    if (e || capos_SessionManager_login_Results_get_result(lr) != capos_LoginResult_ok || call.result_ncaps != 2)
        return -1;
    uint32_t us = b.result_caps[capos_SessionManager_login_Results_get_session(lr)];
    uint32_t ctx = b.result_caps[capos_SessionManager_login_Results_get_context(lr)];
    RT_BUFS(lb, 256, 256);
    capnp_client ll = RT_CLIENT(launcher);
    capos_RestrictedShellLauncher_launchShell_Params_builder p = capos_RestrictedShellLauncher_launchShell_start(&call, &ll, &lb);
    capos_RestrictedShellLauncher_launchShell_Params_set_context(p, capnp_add_cap(p.s, ctx));
    capos_RestrictedShellLauncher_launchShell_Params_set_terminal(p, capnp_add_cap(p.s, term));
    capos_RestrictedShellLauncher_launchShell_Params_set_session(p, capnp_add_cap(p.s, us));
    capos_RestrictedShellLauncher_launchShell_Results_reader r;
    e = rt_error(capos_RestrictedShellLauncher_launchShell_send(&call, &r));
    if (!e && call.result_ncaps == 1) {
        printf("LOGINTEST shell up\n");
        rt_wait(lb.result_caps[0]);
        rt_release(lb.result_caps[0]);
    }
    rt_release(us);
    rt_release(ctx);
    return e;
}

static int logintest_run(void)
{
    if (services_boot() < 0)
        return 2;
    cred_cap = (uint32_t)services_client("credentials", "credentials");
    cred_setup("admin", "correct horse");
    uint32_t sm = (uint32_t)services_client("sessionmgr", "manager");
    uint32_t launcher = (uint32_t)services_client("launcher", "launcher");
    uint32_t term = rt_capset_require("terminal"), stats = rt_capset_require("stats");
    printf("LOGINTEST warm-up cycle %d\n", login_cycle(sm, launcher, term));
    struct rt_kernel_stats s0, s1;
    rt_timer_sleep_until(rt_timer_now() + 20000000);
    rt_stats(stats, &s0);
    printf("LOGINTEST measured cycle %d\n", login_cycle(sm, launcher, term));
    rt_timer_sleep_until(rt_timer_now() + 20000000);
    rt_stats(stats, &s1);
    printf("LOGINTEST before frames=%lu objects=%lu heap=%lu processes=%lu slots=%lu pending=%lu\n", s0.free_frames,
           s0.objects, s0.heap_bytes, s0.processes, s0.cap_slots, s0.pending_calls);
    printf("LOGINTEST after  frames=%lu objects=%lu heap=%lu processes=%lu slots=%lu pending=%lu\n", s1.free_frames,
           s1.objects, s1.heap_bytes, s1.processes, s1.cap_slots, s1.pending_calls);
    return 0;
}

/* Boot argument "launchertest" (with tests/sessions/launcher.manifest): ask
 * the launcher for a shell in sessions whose (compromised) broker bundle
 * carries broad authority; every request must fail closed. "timer" is the
 * control: an ordinary bundle does start a shell. */
static int launchertest_run(void)
{
    if (services_boot() < 0)
        return 2;
    uint32_t launcher = (uint32_t)services_client("launcher", "launcher");
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

/* Boot argument "sessiontest" (with tests/sessions/sessions.manifest): the
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
    if (services_boot() < 0)
        return 2;
    cred_cap = (uint32_t)services_client("credentials", "credentials");
    printf("SESSION setup %d\n", cred_setup("admin", "correct horse"));
    uint32_t sm = (uint32_t)services_client("sessionmgr", "manager");
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
    uint32_t cc[] = { rt_console, (uint32_t)services_client("audit", "log") };
    int64_t h = rt_spawn_args(cap_spawner, "audit-client", cn, cc, 2, (uint32_t)op, "all");
    printf("SESSION audit-reader exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
    return 0;
}

/* Boot argument "audittest": the audit service, written by one session and
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

/* Boot argument "termtest": TerminalSession reads, driven by the host. */
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

/* Boot argument "threadtest": run threadtest in each of its modes with
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

    /* the reactor stress, against an endpoint that answers out of order */
    uint32_t owner, facet;
    rt_endpoint_create((uint32_t)rt_capset_lookup("endpoints"), capos_IpcProbe_ID, 0, &owner, &facet);
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

/* Boot argument "services-test": start the manifest's services, use one,
 * kill it, and watch the supervisor restart it. */
static int services_test(void)
{
    if (services_boot() < 0)
        return 2;
    int64_t echo = services_client("echo", "echo");
    for (int round = 0; round < 2; round++) {
        RT_BUFS(b, 256, 256);
        uint32_t cap = (uint32_t)echo;
        capnp_client cl = RT_CLIENT(cap);
        capnp_call call;
        capos_Echo_echo_Results_reader r;
        int e = rt_error(capos_Echo_echo(&cl, &b, &call, "ping", 4, &r));
        capnp_data d = e ? (capnp_data){ 0, 0 } : capos_Echo_echo_Results_get_data(r);
        printf("SERVICES echo round=%d result=%d reply=%.*s\n", round, e, (int)d.len, (const char *)d.ptr);
        if (round == 0) {
            int64_t h = services_handle("echo");
            services_watch();
            printf("SERVICES kill echo result=%d\n", h >= 0 ? rt_kill((uint32_t)h) : -1);
            struct cap_cqe c;
            for (;;) {                              /* until the supervisor has handled the exit */
                if (!rt_ring_poll(&c)) {
                    sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
                    continue;
                }
                if (services_event(&c))
                    break;
            }
        }
    }
    services_list();
    printf("SERVICES done\n");
    return 0;
}

int main(void)
{
    int64_t c = rt_capset_find("spawner", IFACE_PROCESS_SPAWNER);
    if (c >= 0)
        cap_spawner = (uint32_t)c;
    c = rt_capset_find("power", IFACE_POWER);
    if (c >= 0)
        cap_power = (uint32_t)c;

    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    boot_banner_tsc = ((uint64_t)hi << 32) | lo;
    boot_banner_ns = rt_timer_now();
    printf("\ncapOS: init is up (pid %u) at %lu us after boot\n", rt_pid, boot_banner_ns / 1000);
    print_capset();
    if (!strcmp(rt_capset->args, "test"))
        power_off(ringtest_run() == 0 ? 0 : 1);
    if (!strcmp(rt_capset->args, "services-test"))
        power_off((uint32_t)services_test());
    if (!strncmp(rt_capset->args, "run ", 4)) {       /* "run PROGRAM": one program, then off */
        static const char *const g[] = { "console", "timer", "memory", 0 };
        int64_t h = spawn_program(rt_capset->args + 4, g);
        int64_t code = h >= 0 ? process_wait((uint32_t)h) : h;
        printf("RUN %s exit=%ld\n", rt_capset->args + 4, code);
        power_off(code == 0 ? 0 : 1);
    }
    if (!strncmp(rt_capset->args, "sqefuzz", 7)) {    /* "sqefuzz SEED..." */
        uint32_t stats = rt_capset_require("stats");
        static const char *const g[] = { "console", "timer", "memory", "endpoints", 0 };
        struct rt_kernel_stats s0, s1;
        int64_t warm = spawn_program("hello", (const char *const[]){ "console", 0 });   /* warm the allocators */
        if (warm >= 0) {
            process_wait((uint32_t)warm);
            rt_release((uint32_t)warm);
        }
        rt_stats(stats, &s0);
        const char *seeds = rt_capset->args + 7;
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
        printf("FUZZ stats before frames=%lu objects=%lu heap=%lu slots=%lu pending=%lu\n",
               s0.free_frames, s0.objects, s0.heap_bytes, s0.cap_slots, s0.pending_calls);
        printf("FUZZ stats after  frames=%lu objects=%lu heap=%lu slots=%lu pending=%lu\n",
               s1.free_frames, s1.objects, s1.heap_bytes, s1.cap_slots, s1.pending_calls);
        power_off(0);
    }
    if (!strcmp(rt_capset->args, "logintest"))
        power_off((uint32_t)logintest_run());
    if (!strcmp(rt_capset->args, "launchertest"))
        power_off((uint32_t)launchertest_run());
    if (!strcmp(rt_capset->args, "sessiontest"))
        power_off((uint32_t)sessiontest_run());
    if (!strcmp(rt_capset->args, "credtest"))
        power_off((uint32_t)credtest_run());
    if (!strcmp(rt_capset->args, "audittest"))
        power_off((uint32_t)audittest_run());
    if (!strcmp(rt_capset->args, "termtest"))
        power_off((uint32_t)termtest_run());
    if (!strcmp(rt_capset->args, "threadtest"))
        power_off((uint32_t)threadtest_run());
    if (!strcmp(rt_capset->args, "ipctest"))
        power_off(ipctest_run() == 0 ? 0 : 1);
    if (!strncmp(rt_capset->args, "bench ", 6))
        power_off(run_benches(rt_capset->args + 6) == 0 ? 0 : 1);
    if (services_boot() < 0) {
        printf("init: the boot stops here.\n");
        power_off(2);
    }
    if (services_has("login"))
        services_supervise();          /* the terminal is the login service's */
    console_loop();
    return 0;
}
