/*
 * sessprobe: a test-only service for the session harnesses (test images
 * only). It serves Echo, so a test manifest can hand it to the operator's
 * shell as its "echo" service; the harness then asks it, through the real
 * login door and shell, for what only the kernel and the session manager
 * know:
 *   echo stats    the kernel's counters (KernelStats.get), the session
 *                 manager's table (SessionManager.occupancy) and what the
 *                 session manager holds in the kernel's own table
 *   echo shells   every capos-shell and the interface of each cap it holds,
 *                 from the kernel's tables (KernelStats.processes)
 *   echo watch    from now on, look at the kernel's table while idle: once
 *                 a session opened after this one is the only one open and
 *                 its shell runs, keep what that shell holds (a guest's,
 *                 whose shell cannot ask) and say so on the console
 *   echo seen     that shell's caps, as `shells` shows them
 *   echo caps NAME   what every process NAME holds, from the kernel's tables
 *   echo mem NAME    the user pages the processes NAME have mapped
 *   echo revoke   opens a guest session, revokes its context, and tells
 *                 whether the manager then ended it (its facet fails, its
 *                 slot is back)
 *   echo revoke-quiet  the same, but the session is never used again: it
 *                 waits (up to 60 s) for the manager to notice by itself
 *   anything else comes back as it is (the Echo it stands in for)
 * Args "fill N": at start it opens guest sessions until the table is full,
 * then, once the manager has refused N more logins for a full table, logs
 * its sessions out again. Args "hold": at start it opens one guest session
 * and holds it with no shell and never logs out, until the manager ends it
 * (its lifetime is up), and says so on the console.
 */
#include "rt/capos.h"

static uint32_t stats, manager;
static bool watching;
static uint64_t watch_base;                 /* sessions opened when the watch began */
static char seen[1024];

struct occ { uint32_t open, capacity, held; uint64_t opened, ended, full; };

static int occupancy(struct occ *o)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_occupancy_Results_reader r;
    int e = rt_error(capos_SessionManager_occupancy(&cl, &b, &call, &r));
    if (e)
        return e;
    o->open = capos_SessionManager_occupancy_Results_get_open(r);
    o->capacity = capos_SessionManager_occupancy_Results_get_capacity(r);
    o->held = capos_SessionManager_occupancy_Results_get_held(r);
    o->opened = capos_SessionManager_occupancy_Results_get_opened(r);
    o->ended = capos_SessionManager_occupancy_Results_get_ended(r);
    o->full = capos_SessionManager_occupancy_Results_get_refusedFull(r);
    return 0;
}

/* Walk the kernel's process table: what `name` processes hold. Appends
 * "name held=N: Iface Iface ..." per match to out. */
static size_t walk(const char *name, bool ifaces, char *out, size_t cap)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    size_t len = 0;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return 0;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text n = capos_ProcessCaps_get_name(p);
        if (n.len != strlen(name) || memcmp(n.str, name, n.len))
            continue;
        len += fmt_snprintf(out + len, cap - len, "%s%s held=%u", len ? " | " : "", name, capos_ProcessCaps_get_held(p));
        capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
        for (uint32_t k = 0; ifaces && k < ifs.count && len + 40 < cap; k++)
            len += fmt_snprintf(out + len, cap - len, "%s%s", k ? " " : ": ", capos_interface_name(capnp_list_u64(ifs, k)));
        if (len >= cap)
            len = cap - 1;
    }
    return len;
}

/* "PROBE mem NAME pages=P processes=N": the user pages the processes
 * called NAME have mapped, from the kernel's tables. */
static size_t mem_of(const char *name, char *out, size_t cap)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return (size_t)fmt_snprintf(out, cap, "PROBE mem %s failed", name);
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    uint64_t pages = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text t = capos_ProcessCaps_get_name(p);
        if (t.len == strlen(name) && !memcmp(t.str, name, t.len))
            pages += capos_ProcessCaps_get_pages(p), n++;
    }
    return (size_t)fmt_snprintf(out, cap, "PROBE mem %s pages=%lu processes=%u", name, pages, n);
}

/* "PROBE pend NAME=N ...": every process with calls the kernel holds
 * unanswered, and how many (a leak test names who holds one more). */
static size_t pend_of(char *out, size_t cap)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return (size_t)fmt_snprintf(out, cap, "PROBE pend failed");
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    size_t len = (size_t)fmt_snprintf(out, cap, "PROBE pend");
    for (uint32_t i = 0; i < l.count && len + 48 < cap; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text t = capos_ProcessCaps_get_name(p);
        uint32_t n = capos_ProcessCaps_get_pending(p);
        if (n)
            len += (size_t)fmt_snprintf(out + len, cap - len, " %.*s.%u=%u", (int)(t.len < 24 ? t.len : 24), t.str,
                                        capos_ProcessCaps_get_pid(p), n);
    }
    return len;
}

/* The kernel's counters once the system is quiet: the same counters and
 * the same pending calls in every process at two readings 20 ms apart (at
 * most about a second). On several CPUs the services that carry this very
 * session (the driver, the network stack, the gateway) may be between a
 * call's answer and their next wait at any one instant; a leak is in every
 * reading. */
static void quiet_stats(struct rt_kernel_stats *k)
{
    static char was[512], now[512];
    rt_stats(stats, k);
    pend_of(was, sizeof was);
    for (int i = 0; i < 50; i++) {
        struct rt_kernel_stats n;
        rt_timer_sleep_until(rt_timer_now() + 20000000ull);
        rt_stats(stats, &n);
        pend_of(now, sizeof now);
        bool same = n.pending_calls == k->pending_calls && n.objects == k->objects &&
                    n.heap_bytes == k->heap_bytes && !strcmp(now, was);
        *k = n;
        memcpy(was, now, sizeof was);
        if (same)
            return;
    }
}

/* The pids of the capos-shell processes now. */
static uint32_t shell_pids(uint32_t *pids, uint32_t max)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    uint32_t n = 0;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return 0;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count && n < max; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text nm = capos_ProcessCaps_get_name(p);
        if (nm.len == 11 && !memcmp(nm.str, "capos-shell", 11))
            pids[n++] = capos_ProcessCaps_get_pid(p);
    }
    return n;
}

/* While watching: once the only open session is one opened after the
 * watch began and a shell runs, that shell is recorded (its caps, from the
 * kernel's table) and the watch ends. */
static void look(void)
{
    uint32_t pids[8];
    struct occ o;
    if (occupancy(&o) || o.opened <= watch_base || o.open != 1 || shell_pids(pids, 8) != 1)
        return;
    walk("capos-shell", true, seen, sizeof seen);
    watching = false;
    printf("PROBE seen %s\n", seen);            /* the harness waits for this on the console */
}

/* A guest session: its facet and context (0: the manager refused). */
static bool open_guest(uint32_t *facet, uint32_t *ctx)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(manager);
    capnp_call call;
    capos_SessionManager_guest_Results_reader gr;
    if (rt_error(capos_SessionManager_guest(&cl, &b, &call, &gr)) ||
        capos_SessionManager_guest_Results_get_result(gr) != capos_LoginResult_ok)
        return false;
    *facet = b.result_caps[capos_SessionManager_guest_Results_get_session(gr)];
    *ctx = b.result_caps[capos_SessionManager_guest_Results_get_context(gr)];
    return true;
}

static int facet_info(uint32_t facet)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(facet);
    capnp_call call;
    capos_UserSession_info_Results_reader r;
    return rt_error(capos_UserSession_info(&cl, &b, &call, &r));
}

/* Revoke a session's context behind the manager's back: the manager ends
 * the session at the next call that names it. */
static size_t revoke_test(char *out, size_t cap)
{
    struct occ before = { 0 }, mid = { 0 }, after = { 0 };
    uint32_t facet, ctx;
    occupancy(&before);
    if (!open_guest(&facet, &ctx))
        return (size_t)fmt_snprintf(out, cap, "PROBE revoke: no session");
    occupancy(&mid);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(ctx);
    capnp_call call;
    capos_SessionContext_revoke_Results_reader rr;
    capos_SessionContext_revoke(&cl, &b, &call, &rr);
    int e = facet_info(facet);
    occupancy(&after);
    int again = facet_info(facet);
    rt_release(facet);
    rt_release(ctx);
    return (size_t)fmt_snprintf(out, cap, "PROBE revoke open=%u/%u/%u info=%d again=%d ended=%lu", before.open, mid.open,
                                after.open, e, again, after.ended - mid.ended);
}

static size_t revoke_quiet(char *out, size_t cap)
{
    struct occ mid = { 0 }, after = { 0 };
    uint32_t facet, ctx;
    if (!open_guest(&facet, &ctx))
        return (size_t)fmt_snprintf(out, cap, "PROBE revoke-quiet: no session");
    occupancy(&mid);
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(ctx);
    capnp_call call;
    capos_SessionContext_revoke_Results_reader rr;
    capos_SessionContext_revoke(&cl, &b, &call, &rr);
    uint64_t give_up = rt_timer_now() + 60000000000ull;
    while (!occupancy(&after) && after.ended == mid.ended && rt_timer_now() < give_up)
        rt_timer_sleep_until(rt_timer_now() + 100000000ull);
    rt_release(facet);
    rt_release(ctx);
    return (size_t)fmt_snprintf(out, cap, "PROBE revoke-quiet open=%u/%u ended=%lu", mid.open, after.open,
                                after.ended - mid.ended);
}

/* "hold": one session, no shell, never logged out: the manager ends it. */
static void hold(void)
{
    uint32_t facet, ctx;
    if (!open_guest(&facet, &ctx))
        return;
    printf("PROBE holding a guest session\n");
    int e;
    while ((e = facet_info(facet)) == 0)
        rt_timer_sleep_until(rt_timer_now() + 100000000ull);
    struct occ o = { 0 };
    occupancy(&o);
    printf("PROBE held session ended by the manager (%d), table %u/%u\n", e, o.open, o.capacity);
    rt_release(facet);
    rt_release(ctx);
}

static int do_echo(void *self, capos_Echo_echo_Params_reader p, capos_Echo_echo_Results_builder r)
{
    capnp_data d = capos_Echo_echo_Params_get_data(p);
    char out[1024];
    size_t len = 0;
    if (d.len == 5 && !memcmp(d.ptr, "stats", 5)) {
        struct rt_kernel_stats k;
        struct occ o = { 0 };
        char sm[128] = "";
        quiet_stats(&k);
        occupancy(&o);
        walk("session-manager", false, sm, sizeof sm);
        len = (size_t)fmt_snprintf(out, sizeof out,
                                   "PROBE kernel frames=%lu objects=%lu heap=%lu processes=%lu slots=%lu pending=%lu"
                                   " table open=%u capacity=%u held=%u opened=%lu ended=%lu refused-full=%lu %s",
                                   k.free_frames, k.objects, k.heap_bytes, k.processes, k.cap_slots, k.pending_calls,
                                   o.open, o.capacity, o.held, o.opened, o.ended, o.full, sm);
    } else if (d.len == 4 && !memcmp(d.ptr, "pend", 4)) {
        len = pend_of(out, sizeof out);
    } else if (d.len == 6 && !memcmp(d.ptr, "shells", 6)) {
        len = (size_t)fmt_snprintf(out, sizeof out, "PROBE ");
        len += walk("capos-shell", true, out + len, sizeof out - len);
    } else if (d.len > 4 && d.len < 30 && !memcmp(d.ptr, "mem ", 4)) {
        char name[32];
        memcpy(name, d.ptr + 4, d.len - 4);
        name[d.len - 4] = 0;
        len = mem_of(name, out, sizeof out);
    } else if (d.len > 5 && d.len < 30 && !memcmp(d.ptr, "caps ", 5)) {
        char name[32];
        memcpy(name, d.ptr + 5, d.len - 5);
        name[d.len - 5] = 0;
        len = (size_t)fmt_snprintf(out, sizeof out, "PROBE ");
        len += walk(name, true, out + len, sizeof out - len);
    } else if (d.len == 6 && !memcmp(d.ptr, "revoke", 6)) {
        len = revoke_test(out, sizeof out);
    } else if (d.len == 12 && !memcmp(d.ptr, "revoke-quiet", 12)) {
        len = revoke_quiet(out, sizeof out);
    } else if (d.len == 5 && !memcmp(d.ptr, "watch", 5)) {
        struct occ o = { 0 };
        occupancy(&o);
        watch_base = o.opened;
        watching = true;
        seen[0] = 0;
        len = (size_t)fmt_snprintf(out, sizeof out, "PROBE watching");
    } else if (d.len == 4 && !memcmp(d.ptr, "seen", 4)) {
        len = (size_t)fmt_snprintf(out, sizeof out, "PROBE %s", seen);
    } else {
        /* anything else comes back as it is: it stands in for Echo */
        len = d.len < sizeof out ? d.len : sizeof out - 1;
        memcpy(out, d.ptr, len);
    }
    if (len >= sizeof out)
        len = sizeof out - 1;
    capos_Echo_echo_Results_set_data(r, out, len);
    return CAPNP_OK;
}

static const capos_Echo_server server = { .echo = do_echo };

/* "fill N": take every free slot, hold them until N logins were refused. */
static void fill(uint32_t refusals)
{
    static uint32_t held[32];
    uint32_t n = 0;
    struct occ o;
    for (;;) {
        RT_BUFS(b, 64, 256);
        capnp_client cl = RT_CLIENT(manager);
        capnp_call call;
        capos_SessionManager_guest_Results_reader gr;
        if (rt_error(capos_SessionManager_guest(&cl, &b, &call, &gr)) ||
            capos_SessionManager_guest_Results_get_result(gr) != capos_LoginResult_ok || n == 32)
            break;
        held[n++] = b.result_caps[capos_SessionManager_guest_Results_get_session(gr)];
        rt_release(b.result_caps[capos_SessionManager_guest_Results_get_context(gr)]);
    }
    if (occupancy(&o))
        return;
    printf("PROBE filled %u sessions, table %u/%u\n", n, o.open, o.capacity);
    uint64_t base = o.full;
    while (!occupancy(&o) && o.full < base + refusals)
        rt_timer_sleep_until(rt_timer_now() + 100000000ull);
    for (uint32_t i = 0; i < n; i++) {
        RT_BUFS(b, 128, 64);
        capnp_client cl = RT_CLIENT(held[i]);
        capnp_call call;
        capos_UserSession_logout_Results_reader lr;
        capos_UserSession_logout(&cl, &b, &call, "logout", 6, &lr);
        rt_release(held[i]);
    }
    occupancy(&o);
    printf("PROBE released %u sessions, table %u/%u\n", n, o.open, o.capacity);
}

int main(void)
{
    uint32_t owner = rt_capset_require("echo");
    stats = rt_capset_require("stats");
    manager = rt_capset_require("manager");
    if (!strncmp(rt_capset->args, "fill ", 5))
        fill((uint32_t)(rt_capset->args[5] - '0'));
    if (!strcmp(rt_capset->args, "hold"))
        hold();
    /* serve; while watching, look at the kernel's table between calls */
    static uint8_t buf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
    const uint64_t tag = 0x5B0BE00000000001ull;
    struct rt_incoming in;
    struct cap_sqe rs = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    rt_ring_submit_tagged(&rs, tag);
    for (;;) {
        struct cap_cqe c;
        for (;;) {
            if (watching)
                look();
            if (rt_ring_next(&c, watching ? 5000000ull : CAP_TIMEOUT_FOREVER))
                break;
        }
        if (c.user_data != tag)
            continue;
        if (c.result == CAP_ERR_DISCONNECTED)
            return 0;
        rt_serve_delivered(owner, &c, capos_Echo_dispatch_any, &server, &in, buf, &in);
        rt_ring_submit_tagged(&rs, tag);
    }
}
