/*
 * The endpoint and transfer self-test (proof mode "ipc"). The proof plays
 * the system's session path: it makes an endpoint, mints two sessions, starts
 * ipc-server and runs ipc-client in various roles. Lines are facts for the
 * host harness (tests/ipc), which judges them.
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"
#include "proof.h"

static uint32_t spawner, factory, authority, stats;
static uint32_t facet, badged, session_a, session_b;

/* Start ipc-client in `session` with the probe facet `probe`; optionally wait. */
static int64_t client(const char *role, uint32_t probe, uint32_t session, bool wait)
{
    const char *names[] = { "console", "probe", "timer" };
    uint32_t caps[] = { rt_console, probe, rt_timer };
    int64_t h = rt_spawn_args(spawner, "ipc-client", names, caps, 3, session, role);
    if (h < 0 || !wait)
        return h;
    int64_t code = rt_wait((uint32_t)h);
    rt_release((uint32_t)h);
    return code;
}

static int64_t server(uint32_t owner, const char *args)
{
    const char *names[] = { "console", "probe", "timer" };
    uint32_t caps[] = { rt_console, owner, rt_timer };
    return rt_spawn_args(spawner, "ipc-server", names, caps, 3, ~0u, args);
}

/* A server in `mode` on a new endpoint, and a caller killed while the
 * server holds its call ("IPC <mode> caller-exit=N"). The server's handle;
 * *facet_out is the endpoint's client facet. */
static int64_t held_call_killed(const char *mode, uint32_t *facet_out)
{
    uint32_t owner;
    rt_endpoint_create(factory, capos_test_IpcProbe_ID, 0, &owner, facet_out);
    int64_t srv = server(owner, mode);
    rt_release(owner);
    rt_timer_sleep_until(rt_timer_now() + 20000000);   /* its RECV is posted */
    int64_t victim = client("hold", *facet_out, session_a, false);
    rt_timer_sleep_until(rt_timer_now() + 50000000);   /* the call is delivered */
    rt_kill((uint32_t)victim);
    printf("IPC %s caller-exit=%ld\n", mode, rt_wait((uint32_t)victim));
    rt_release((uint32_t)victim);
    return srv;
}

static void probe_call_fill(uint32_t probe, bool fill)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(probe);
    capnp_call call;
    if (fill) {
        capos_test_IpcProbe_fillTable_Results_reader r;
        int e = capos_test_IpcProbe_fillTable(&cl, &b, &call, &r);
        printf("IPC fill-table result=%d filled=%u\n", rt_error(e), e ? 0 : capos_test_IpcProbe_fillTable_Results_get_filled(r));
    } else {
        capos_test_IpcProbe_drainTable_Results_reader r;
        printf("IPC drain-table result=%d\n", rt_error(capos_test_IpcProbe_drainTable(&cl, &b, &call, &r)));
    }
}

static void print_stats(const char *tag, struct rt_kernel_stats *s)
{
    printf("IPC stats %s frames=%lu objects=%lu heap=%lu processes=%lu slots=%lu pending=%lu\n", tag,
           s->free_frames, s->objects, s->heap_bytes, s->processes, s->cap_slots, s->pending_calls);
}

int ipctest_run(void)
{
    spawner = rt_capset_require("spawner");
    factory = rt_capset_require("endpoints");
    authority = rt_capset_require("sessions");
    stats = rt_capset_require("stats");
    uint32_t owner;
    int r = rt_endpoint_create(factory, capos_test_IpcProbe_ID, CAP_RECV_F_PRINCIPAL | CAP_RECV_F_PROFILE, &owner, &facet);
    printf("IPC endpoint-create result=%d\n", r);
    if (r)
        return 1;
    int64_t b = rt_endpoint_facet(owner, 42);
    badged = b >= 0 ? (uint32_t)b : ~0u;
    int64_t sa = rt_session_mint(authority, "alice", "operator");
    int64_t sb = rt_session_mint(authority, "bob", "guest");
    printf("IPC sessions minted=%d\n", sa >= 0 && sb >= 0);
    session_a = (uint32_t)sa;
    session_b = (uint32_t)sb;

    int64_t srv = server(owner, "");
    rt_release(owner);           /* the server is now the only owner */
    printf("IPC server started=%d\n", srv >= 0);

    /* identity: stable per session, different across sessions, never chosen by the caller */
    client("echo A1", facet, session_a, true);
    client("echo A2", facet, session_a, true);
    client("echo B1", facet, session_b, true);
    client("echo BADGE", badged, session_a, true);
    client("echo INHERIT", facet, ~0u, true);         /* the proof's own (system) session */

    /* nobody may serve an interface only the kernel can vouch for */
    uint32_t fo, ff;
    printf("IPC forge-session-context result=%d\n", rt_endpoint_create(factory, capos_SessionContext_ID, 0, &fo, &ff));

    /* a spawned process holds exactly its grants */
    client("caps", facet, session_a, true);

    /* a facet can only CALL */
    client("owner-ops", facet, session_a, true);
    /* a message over the receiver's bound is refused; the endpoint goes on */
    client("big", facet, session_a, true);

    /* transfer */
    client("copy", facet, session_a, true);
    client("move", facet, session_a, true);
    client("move-bad", facet, session_a, true);
    probe_call_fill(facet, true);
    client("move-rollback", facet, session_a, true);  /* receiver's table is full */
    probe_call_fill(facet, false);

    /* leak accounting over a thousand spawn/transfer/exit cycles */
    struct rt_kernel_stats before, after;
    client("xfer", facet, session_a, true);           /* warm the allocators */
    rt_stats(stats, &before);
    int fails = 0;
    for (int i = 0; i < 1000; i++)
        fails += client("xfer", facet, session_a, true) != 0;
    rt_stats(stats, &after);
    print_stats("before", &before);
    print_stats("after", &after);
    printf("IPC cycles=1000 failures=%d\n", fails);

    /* a receiver that dies mid-transfer: the move is queued on an endpoint
     * whose owner never receives, then the owner is killed */
    uint32_t idle_owner, idle_facet;
    rt_endpoint_create(factory, capos_test_IpcProbe_ID, 0, &idle_owner, &idle_facet);
    int64_t idle = server(idle_owner, "idle");
    rt_release(idle_owner);
    /* a caller that dies withdraws its queued call */
    struct rt_kernel_stats s0, s1;
    rt_timer_sleep_until(rt_timer_now() + 20000000);       /* let the idle server settle into its sleep */
    rt_stats(stats, &s0);
    int64_t doomed = client("hold", idle_facet, session_a, false);
    rt_timer_sleep_until(rt_timer_now() + 20000000);
    rt_kill((uint32_t)doomed);
    printf("IPC dying-caller exit=%ld\n", rt_wait((uint32_t)doomed));
    rt_release((uint32_t)doomed);
    rt_stats(stats, &s1);
    printf("IPC dying-caller pending before=%lu after=%lu objects before=%lu after=%lu\n",
           s0.pending_calls, s1.pending_calls, s0.objects, s1.objects);

    int64_t mover = client("move-rollback", idle_facet, session_a, false);
    rt_timer_sleep_until(rt_timer_now() + 20000000);
    rt_kill((uint32_t)idle);
    printf("IPC idle-server exit=%ld\n", rt_wait((uint32_t)idle));
    printf("IPC dying-receiver client exit=%ld\n", rt_wait((uint32_t)mover));

    /* the fast path's hostile ends, with the leak counters back where they
     * started: a caller killed while the server holds its call (delivered
     * straight into the parked RECV), then RETURNs to it, to a call id
     * never given and to the same id twice. Twice: the first round warms
     * the allocators, the second is measured. */
    struct rt_kernel_stats o0, o1;
    for (int round = 0; round < 2; round++) {
        rt_stats(stats, &o0);
        uint32_t of;
        int64_t osrv = held_call_killed("orphan", &of);
        printf("IPC orphan server-exit=%ld\n", rt_wait((uint32_t)osrv));
        rt_release((uint32_t)osrv);
        rt_release(of);
        rt_stats(stats, &o1);
    }
    print_stats("orphan-before", &o0);
    print_stats("orphan-after", &o1);

    /* a caller killed while a server's handler runs (rt_serve_forever):
     * the server's RETURN finds it gone, and the server goes on serving */
    {
        uint32_t so, sf;
        rt_endpoint_create(factory, capos_test_IpcProbe_ID, 0, &so, &sf);
        int64_t ssrv = server(so, "slow");
        rt_release(so);
        rt_timer_sleep_until(rt_timer_now() + 20000000);   /* its RECV is posted */
        int64_t victim = client("hold", sf, session_a, false);
        rt_timer_sleep_until(rt_timer_now() + 50000000);   /* delivered: the handler sleeps */
        rt_kill((uint32_t)victim);
        printf("IPC slow caller-exit=%ld\n", rt_wait((uint32_t)victim));
        rt_release((uint32_t)victim);
        rt_timer_sleep_until(rt_timer_now() + 300000000);  /* the handler has answered the dead caller */
        RT_BUFS(eb, 256, 512);
        capnp_client ecl = RT_CLIENT(sf);
        capnp_call ecall;
        capos_test_IpcProbe_echo_Results_reader er;
        int e = rt_error(capos_test_IpcProbe_echo(&ecl, &eb, &ecall, "after", 5, &er));
        capnp_data d = e ? (capnp_data){ 0 } : capos_test_IpcProbe_echo_Results_get_data(er);
        printf("IPC slow next-call=%d echoed=%d\n", e, d.len == 5 && !memcmp(d.ptr, "after", 5));
        rt_release(sf);
        rt_timer_sleep_until(rt_timer_now() + 20000000);
        printf("IPC slow server-kill=%d\n", rt_kill((uint32_t)ssrv));   /* still serving: it holds its owner */
        printf("IPC slow server-exit=%ld\n", rt_wait((uint32_t)ssrv));
        rt_release((uint32_t)ssrv);
    }

    /* a silent RETURN (CAP_SQE_F_SILENT): each caller gets its answer, the
     * server's CQ gets nothing for it, and its errors are still posted */
    {
        uint32_t so, sf;
        rt_endpoint_create(factory, capos_test_IpcProbe_ID, 0, &so, &sf);
        int64_t ssrv = server(so, "silent");
        rt_release(so);
        struct cap_sqe sc = { .opcode = CAP_OP_CALL, .cap_id = sf, .interface_id = capos_test_IpcProbe_ID };
        int ok = 0;
        for (int i = 0; i < 3; i++) {
            struct cap_cqe c;
            rt_ring_wait(rt_ring_submit(&sc), &c);
            ok += c.result == 0;
        }
        printf("IPC silent calls=3 answered=%d\n", ok);
        printf("IPC silent server-exit=%ld\n", rt_wait((uint32_t)ssrv));
        rt_release((uint32_t)ssrv);
        rt_release(sf);
    }

    /* the answer-and-wait pair's hostile ends (ipc-server "pair"), with the
     * leak counters back where they started: a caller killed while the
     * server holds its call, a RETURN to an id never given, the same id
     * twice, RECVs into unmapped memory and into the ring, then calls
     * answered the fast way. Twice: the second round is measured. */
    struct rt_kernel_stats p0, p1;
    for (int round = 0; round < 2; round++) {
        rt_stats(stats, &p0);
        uint32_t pf;
        int64_t psrv = held_call_killed("pair", &pf);
        struct cap_sqe sc = { .opcode = CAP_OP_CALL, .cap_id = pf, .interface_id = capos_test_IpcProbe_ID };
        int ok = 0;
        for (int i = 0; i < 4; i++) {
            struct cap_cqe c;
            rt_ring_wait(rt_ring_submit(&sc), &c);
            ok += c.result == 0;
        }
        printf("IPC pair calls=4 answered=%d\n", ok);
        printf("IPC pair server-exit=%ld\n", rt_wait((uint32_t)psrv));
        rt_release((uint32_t)psrv);
        rt_release(pf);
        rt_stats(stats, &p1);
    }
    print_stats("pair-before", &p0);
    print_stats("pair-after", &p1);

    /* the owner dies with a call in flight: the caller sees "disconnected" */
    int64_t holder = client("hold", facet, session_a, false);
    rt_timer_sleep_until(rt_timer_now() + 20000000);
    rt_kill((uint32_t)srv);
    printf("IPC server exit=%ld\n", rt_wait((uint32_t)srv));
    printf("IPC holder exit=%ld\n", rt_wait((uint32_t)holder));
    client("echo AFTER", facet, session_a, true);     /* the endpoint is gone */

    /* a revoked session fails closed */
    RT_BUFS(rb, 64, 64);
    capnp_client cl = RT_CLIENT(session_b);
    capnp_call call;
    capos_SessionContext_revoke_Results_reader rr;
    printf("IPC revoke result=%d\n", rt_error(capos_SessionContext_revoke(&cl, &rb, &call, &rr)));
    uint32_t o2, f2;
    rt_endpoint_create(factory, capos_test_IpcProbe_ID, 0, &o2, &f2);
    int64_t srv2 = server(o2, "");
    rt_release(o2);
    client("echo REVOKED", f2, session_b, true);
    client("echo LIVE", f2, session_a, true);
    rt_kill((uint32_t)srv2);
    rt_wait((uint32_t)srv2);
    printf("IPC done\n");
    return 0;
}
