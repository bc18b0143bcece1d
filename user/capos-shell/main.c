/*
 * capos-shell: the shell a person gets after logging in. It holds its
 * terminal, its UserSession and what the AuthorityBroker gave its session's
 * profile, and nothing else: no spawner, no network, no keys.
 */
#include "rt/capos.h"

static uint32_t term;

static const char *iface_name(uint64_t id)
{
    for (uint32_t i = 0; i < capos_INTERFACE_COUNT; i++)
        if (capos_interfaces[i].id == id)
            return capos_interfaces[i].name;
    return "?";
}

static void cmd_caps(void)
{
    for (uint32_t i = 0; i < rt_capset->count; i++)
        rt_term_printf(term, "  %-10s %s\n", rt_capset->entries[i].name, iface_name(rt_capset->entries[i].interface_id));
}

/* A duration for people: 2h05m, 15m00s, 42s. */
static const char *dur(uint64_t ns, char *out, size_t cap)
{
    uint64_t s = ns / 1000000000ull;
    if (s >= 3600)
        fmt_snprintf(out, cap, "%luh%02lum", s / 3600, s / 60 % 60);
    else if (s >= 60)
        fmt_snprintf(out, cap, "%lum%02lus", s / 60, s % 60);
    else
        fmt_snprintf(out, cap, "%lus", s);
    return out;
}

static void cmd_session(uint32_t session)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(session);
    capnp_call call;
    capos_UserSession_info_Results_reader r;
    int e = rt_error(capos_UserSession_info(&cl, &b, &call, &r));
    if (e) {
        rt_term_printf(term, "session: error %d\n", e);
        return;
    }
    capnp_text p = capos_UserSession_info_Results_get_principal(r), f = capos_UserSession_info_Results_get_profile(r);
    capnp_text m = capos_UserSession_info_Results_get_authMethod(r);
    uint64_t exp = capos_UserSession_info_Results_get_expiresNs(r), idle = capos_UserSession_info_Results_get_idleTimeoutNs(r);
    uint64_t now = rt_timer_now();
    char e1[24] = "never", e2[24] = "never";
    if (exp)
        fmt_snprintf(e1, sizeof e1, "in %s", dur(exp > now ? exp - now : 0, e2, sizeof e2));
    if (idle)
        dur(idle, e2, sizeof e2);
    else
        strlcpy(e2, "never", sizeof e2);
    rt_term_printf(term, "principal %.*s, profile %.*s, auth %.*s, expires %s, idle logout after %s\n", (int)p.len,
                   p.str, (int)f.len, f.str, (int)m.len, m.str, e1, e2);
}

static void cmd_audit(void)
{
    int64_t a = rt_capset_lookup("audit");
    if (a < 0) {
        rt_term_printf(term, "audit: not available to this session\n");
        return;
    }
    RT_BUFS(b, 64, 4096);
    uint32_t ac = (uint32_t)a;
    capnp_client cl = RT_CLIENT(ac);
    capnp_call call;
    capos_AuditLog_tail_Results_reader r;
    int e = rt_error(capos_AuditLog_tail(&cl, &b, &call, 10, &r));
    if (e) {
        rt_term_printf(term, "audit: denied (%d)\n", e);
        return;
    }
    capnp_list l = capos_AuditLog_tail_Results_get_records(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_AuditRecord_reader x = capos_AuditRecord_list_get(l, i);
        capnp_text ev = capos_AuditRecord_get_event(x), rs = capos_AuditRecord_get_reason(x);
        rt_term_printf(term, "  #%lu %.*s %.*s session %lu\n", capos_AuditRecord_get_seq(x), (int)ev.len, ev.str,
                    (int)rs.len, rs.str, capos_AuditRecord_get_session(x));
    }
}

static void cmd_echo(const char *text)
{
    int64_t ec = rt_capset_lookup("echo");
    if (ec < 0) {
        rt_term_printf(term, "echo: not available to this session\n");
        return;
    }
    RT_BUFS(b, 512, 512);
    uint32_t c = (uint32_t)ec;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    capos_Echo_echo_Results_reader r;
    int e = rt_error(capos_Echo_echo(&cl, &b, &call, text, strlen(text), &r));
    capnp_data d = e ? (capnp_data){ 0, 0 } : capos_Echo_echo_Results_get_data(r);
    rt_term_printf(term, "%.*s\n", (int)d.len, (const char *)d.ptr);
}

/* ---- run: a permitted program, with named grants, and stdio served here ---- */

static int stdio_write(void *self, capos_Console_write_Params_reader p, capos_Console_write_Results_builder r)
{
    capnp_data d = capos_Console_write_Params_get_data(p);
    rt_term_printf(term, "%.*s", (int)d.len, (const char *)d.ptr);
    return CAPNP_OK;
}

static int stdio_read(void *self, capos_Console_readLine_Params_reader p, capos_Console_readLine_Results_builder r)
{
    char line[256];
    int ev;
    if (rt_term_read(term, true, line, sizeof line, &ev) || ev != capos_TerminalEvent_line)
        line[0] = 0;
    capos_Console_readLine_Results_set_line(r, line, strlen(line));
    return CAPNP_OK;
}

static const capos_Console_server stdio_server = { .write = stdio_write, .readLine = stdio_read };

static void serve_until_exit(uint32_t owner, uint32_t proc, const char *name)
{
    static uint8_t buf[2048] __attribute__((aligned(8)));
    static uint8_t waitres[64] __attribute__((aligned(8)));
    const uint64_t tag_recv = 0x5E11000000000001ull, tag_wait = 0x5E11000000000002ull;
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    struct cap_sqe wait = { .opcode = CAP_OP_CALL, .cap_id = proc, .interface_id = capos_ProcessHandle_ID,
                            .method_id = capos_ProcessHandle_METHOD_wait, .result_addr = (uint64_t)waitres,
                            .result_len = sizeof waitres };
    rt_ring_submit_tagged(&recv, tag_recv);
    rt_ring_submit_tagged(&wait, tag_wait);
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_poll(&c))
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
        if (c.user_data == tag_wait) {
            int64_t code = -1;
            capnp_msg m;
            if (c.result > 0 && capnp_msg_init(&m, waitres, (size_t)c.result) == CAPNP_OK)
                code = capos_ProcessHandle_wait_Results_get_exitCode(capos_ProcessHandle_wait_Results_read_root(&m));
            rt_term_printf(term, "%s exited with %ld\n", name, code);
            return;                                   /* the owner's release cancels the posted RECV */
        }
        if (c.user_data != tag_recv || c.result < 0)
            continue;
        const struct cap_recv_hdr *h = (const void *)buf;
        static uint8_t out[2048] __attribute__((aligned(8)));
        capnp_server_call sc = { .interface_id = h->interface_id, .method_id = h->method_id,
                                 .params = buf + sizeof *h, .params_len = h->params_len,
                                 .result = out, .result_cap = sizeof out };
        int e = capos_Console_dispatch(&stdio_server, 0, &sc);
        rt_return(owner, h->call_id, out, e ? 0 : (uint32_t)sc.result_len, 0, 0, e != 0);
        rt_ring_submit_tagged(&recv, tag_recv);
    }
}

/* jobs started with spawn, waited for (and their stdio served) with wait */
#define JOBS 8
static struct { bool used; char name[24]; uint32_t proc, owner; } jobs[JOBS];

static void job_wait(int j)
{
    serve_until_exit(jobs[j].owner, jobs[j].proc, jobs[j].name);
    rt_release(jobs[j].owner);
    rt_release(jobs[j].proc);
    jobs[j].used = false;
}

/* run|spawn NAME [with { local: @held, ... }] */
static void cmd_run(char *line, bool background)
{
    int64_t pl = rt_capset_lookup("programs");
    if (pl < 0) {
        rt_term_printf(term, "run: not available to this session\n");
        return;
    }
    char *name = line, *with = strstr(line, " with ");
    if (with)
        *with = 0;
    const char *gnames[7];
    uint32_t gcaps[7];
    uint32_t ng = 0;
    if (with) {
        char *p = with + 6;
        while (*p == ' ')
            p++;
        if (*p != '{' || !strchr(p, '}')) {
            rt_term_printf(term, "run: grants look like: with { name: @cap, ... }\n");
            return;
        }
        *strchr(p, '}') = 0;
        for (char *g = p + 1; g && *g;) {
            char *comma = strchr(g, ',');
            if (comma)
                *comma = 0;
            char *colon = strchr(g, ':'), *at = colon ? strchr(colon, '@') : 0;
            while (*g == ' ')
                g++;
            if (!colon || !at || ng == 7) {
                rt_term_printf(term, "run: bad grant \"%s\" (want name: @cap)\n", g);
                return;
            }
            *colon = 0;
            char *end = colon;
            while (end > g && end[-1] == ' ')
                *--end = 0;
            char *cap = at + 1, *ce = cap;
            while (*ce && *ce != ' ')
                ce++;
            *ce = 0;
            int64_t id = rt_capset_lookup(cap);
            if (id < 0 || !strcmp(cap, "terminal") || !strcmp(cap, "context") || !strcmp(cap, "session")) {
                rt_term_printf(term, "run: no grantable cap named %s\n", cap);
                return;
            }
            gnames[ng] = g;
            gcaps[ng++] = (uint32_t)id;
            g = comma ? comma + 1 : 0;
        }
    }
    RT_BUFS(b, 1024, 256);
    uint32_t plc = (uint32_t)pl;
    capnp_client cl = RT_CLIENT(plc);
    capnp_call call;
    capos_ProgramLauncher_run_Params_builder p = capos_ProgramLauncher_run_start(&call, &cl, &b);
    capos_ProgramLauncher_run_Params_set_binary(p, name, strlen(name));
    capnp_lbuilder gl = capos_ProgramLauncher_run_Params_init_grants(p, ng);
    for (uint32_t i = 0; i < ng; i++) {
        capos_CapGrant_builder g = capos_CapGrant_list_at(gl, i);
        capos_CapGrant_set_name(g, gnames[i], strlen(gnames[i]));
        capos_CapGrant_set_cap(g, capnp_add_cap(p.s, gcaps[i]));
    }
    capos_ProgramLauncher_run_Params_set_context(p, capnp_add_cap(p.s, rt_capset_require("context")));
    capos_ProgramLauncher_run_Results_reader r;
    int e = rt_error(capos_ProgramLauncher_run_send(&call, &r));
    if (e || call.result_ncaps != 2) {
        rt_term_printf(term, "run: %s refused (%d)\n", name, e);
        return;
    }
    uint32_t proc = b.result_caps[capos_ProgramLauncher_run_Results_get_process(r)];
    uint32_t owner = b.result_caps[capos_ProgramLauncher_run_Results_get_stdio(r)];
    int j = 0;
    while (j < JOBS && jobs[j].used)
        j++;
    if (j == JOBS) {                                  /* no room to keep it: run it in the foreground */
        serve_until_exit(owner, proc, name);
        rt_release(owner);
        rt_release(proc);
        return;
    }
    jobs[j].used = true;
    strlcpy(jobs[j].name, name, sizeof jobs[j].name);
    jobs[j].proc = proc;
    jobs[j].owner = owner;
    if (background)
        rt_term_printf(term, "[%d] %s started (its output waits for 'wait %d')\n", j + 1, name, j + 1);
    else
        job_wait(j);
}

static void cmd_wait(const char *arg)
{
    int j = -1;
    if (*arg)
        j = (int)(arg[0] - '1');
    else
        for (int k = 0; k < JOBS && j < 0; k++)
            if (jobs[k].used)
                j = k;
    if (j < 0 || j >= JOBS || !jobs[j].used) {
        rt_term_printf(term, "wait: no such job\n");
        return;
    }
    job_wait(j);
}

/* history: the last commands; !! repeats the last, !N the Nth */
#define HIST 16
static char hist[HIST][256];
static uint32_t nhist;

int main(void)
{
    term = rt_capset_require("terminal");
    uint32_t session = rt_capset_require("session");
    char me[32] = "?";
    {
        RT_BUFS(b, 64, 512);
        capnp_client cl = RT_CLIENT(session);
        capnp_call call;
        capos_UserSession_info_Results_reader r;
        if (!capos_UserSession_info(&cl, &b, &call, &r)) {
            capnp_text p = capos_UserSession_info_Results_get_principal(r);
            fmt_snprintf(me, sizeof me, "%.*s", (int)p.len, p.str);
        }
    }
    rt_term_printf(term, "Welcome, %s. Type 'help' for commands.\n", me);
    for (;;) {
        char line[256];
        int ev;
        rt_term_printf(term, "%s@capos> ", me);
        if (rt_term_read(term, true, line, sizeof line, &ev) < 0 || ev == capos_TerminalEvent_endOfInput)
            return 0;
        if (ev == capos_TerminalEvent_interrupt || !line[0])
            continue;
        if (line[0] == '!') {
            uint32_t n = !strcmp(line, "!!") ? nhist : (uint32_t)(line[1] - '0') * (line[2] ? 10 : 1) + (line[2] ? (uint32_t)(line[2] - '0') : 0);
            if (n == 0 || n > nhist || n + HIST <= nhist) {
                rt_term_printf(term, "%s: no such command in the history\n", line);
                continue;
            }
            strlcpy(line, hist[(n - 1) % HIST], sizeof line);
            rt_term_printf(term, "%s\n", line);
        }
        strlcpy(hist[nhist++ % HIST], line, sizeof hist[0]);
        if (!strcmp(line, "help"))
            rt_term_printf(term, "help caps session audit echo TEXT run|spawn NAME [with { x: @cap }] wait [N] history !! !N time exit\n");
        else if (!strcmp(line, "caps"))
            cmd_caps();
        else if (!strcmp(line, "session"))
            cmd_session(session);
        else if (!strcmp(line, "audit") || !strcmp(line, "audit tail"))
            cmd_audit();
        else if (!strncmp(line, "echo ", 5))
            cmd_echo(line + 5);
        else if (!strncmp(line, "run ", 4))
            cmd_run(line + 4, false);
        else if (!strncmp(line, "spawn ", 6))
            cmd_run(line + 6, true);
        else if (!strcmp(line, "wait") || !strncmp(line, "wait ", 5))
            cmd_wait(line[4] ? line + 5 : "");
        else if (!strcmp(line, "history"))
            for (uint32_t i = nhist > HIST ? nhist - HIST : 0; i < nhist; i++)
                rt_term_printf(term, "  %u  %s\n", i + 1, hist[i % HIST]);
        else if (!strcmp(line, "time"))
            rt_term_printf(term, "%lu ns since boot\n", rt_timer_now());
        else if (!strcmp(line, "exit") || !strcmp(line, "logout"))
            return 0;
        else
            rt_term_printf(term, "unknown command: %s (try 'help')\n", line);
    }
}
