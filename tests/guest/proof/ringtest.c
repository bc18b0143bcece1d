/*
 * The ring self-test (boot argument "test"). Prints one line per check; the
 * host harness (tests/boot) holds the expected values and judges them, so
 * this file reports facts and does not grade itself.
 */
#include "rt/capos.h"
#include "proof.h"


/* Timer.now through the kernel, to check the runtime's own reading. */
static uint64_t timer_now_call(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_now_Results_reader r;
    return capos_Timer_now(&cl, &b, &call, &r) ? 0 : capos_Timer_now_Results_get_ns(r);
}
static int32_t submit(struct cap_sqe s)
{
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    return c.result;
}

static struct cap_sqe call(uint32_t cap, uint64_t iface, uint16_t method)
{
    return (struct cap_sqe){ .opcode = CAP_OP_CALL, .cap_id = cap, .interface_id = iface, .method_id = method };
}

static void report(const char *name, int32_t r)
{
    printf("SQE %s -> %d\n", name, r);
}

static const char text_in_rodata[] = "read-only bytes";

/* The kernel's CPU accounts, and the cycles of the processes named `name`. */
struct cpu_accts { uint64_t tsc, sum, user, kernel; uint32_t cpus; };

static int cpu_accts(uint32_t stats, const char *name, struct cpu_accts *a)
{
    {
        RT_BUFS(b, 64, 512);
        capnp_client cl = RT_CLIENT(stats);
        capnp_call c;
        capos_KernelStats_get_Results_reader r;
        if (capos_KernelStats_get(&cl, &b, &c, &r))
            return -1;
        a->tsc = capos_KernelStats_get_Results_get_tsc(r);
        a->sum = capos_KernelStats_get_Results_get_userTsc(r) + capos_KernelStats_get_Results_get_kernelTsc(r) +
                 capos_KernelStats_get_Results_get_irqTsc(r) + capos_KernelStats_get_Results_get_idleTsc(r);
    }
    {
        RT_BUFS(b, 64, 2048);                  /* the accounts are summed over the online CPUs */
        capnp_client cl = RT_CLIENT(stats);
        capnp_call c;
        capos_KernelStats_cpus_Results_reader r;
        if (capos_KernelStats_cpus(&cl, &b, &c, &r))
            return -1;
        a->cpus = capos_KernelStats_cpus_Results_get_list(r).count;
    }
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call c;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &c, &r))
        return -1;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    a->user = a->kernel = 0;
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text t = capos_ProcessCaps_get_name(p);
        if (t.len == strlen(name) && !memcmp(t.str, name, t.len)) {
            a->user += capos_ProcessCaps_get_userTsc(p);
            a->kernel += capos_ProcessCaps_get_kernelTsc(p);
        }
    }
    return 0;
}

int ringtest_run(void)
{
    /* 1. A NOP round trip: the CQE echoes user_data, result 0. */
    struct cap_sqe nop = { .opcode = CAP_OP_NOP };
    uint64_t ud = rt_ring_submit(&nop);
    struct cap_cqe c;
    rt_ring_wait(ud, &c);
    printf("PROOF nop user_data=%lu echoed=%lu result=%d\n", ud, c.user_data, c.result);

    /* 2. A Console CALL round trip. */
    static const char msg[] = "PROOF console-call: these bytes came through a Console CALL\n";
    int32_t r = rt_console_write(msg, sizeof msg - 1);
    printf("PROOF console-call result=%d\n", r);
    uint64_t t0 = rt_timer_now();
    r = rt_timer_sleep_until(t0 + 5000000);
    uint64_t t1 = rt_timer_now();
    printf("PROOF timer sleep result=%d slept_enough=%d\n", r, t1 >= t0 + 5000000);
    /* The runtime reads the clock itself (Timer.clock's terms and rdtsc):
     * between two Timer.now calls, and never backwards. */
    {
        bool between = true, forward = true;
        for (int i = 0; i < 200; i++) {
            uint64_t k0 = timer_now_call(), l0 = rt_timer_now(), l1 = rt_timer_now(), k1 = timer_now_call();
            between &= k0 && k0 <= l0 && l1 <= k1;
            forward &= l0 <= l1;
        }
        printf("PROOF timer local-clock between-calls=%d forward=%d\n", between, forward);
    }

    /* 3. Malformed SQEs, each with its own stable error code. */
    struct cap_sqe s;
    s = nop; s.opcode = 99;                                   report("unknown-opcode", submit(s));
    s = call((1u << 16) | 200, IFACE_CONSOLE, 0);                          report("empty-slot", submit(s));
    s = call(0xFFFF, IFACE_CONSOLE, 0);                       report("slot-out-of-range", submit(s));
    s = call(rt_console, IFACE_TIMER, 0);                     report("wrong-interface", submit(s));
    s = call(rt_console, IFACE_CONSOLE, 77);                  report("unknown-method", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.flags = 1;   report("reserved-flags", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.xfer_cap_count = 3; report("bad-xfer-count", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.addr = 0x1000; s.len = 16;
    report("params-unmapped", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.addr = 0xFFFF800000000000ull; s.len = 16;
    report("params-kernel", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.addr = (uint64_t)msg; s.len = 0xFFFFFFFFu;
    report("params-too-large", submit(s));
    s = call(rt_console, IFACE_CONSOLE, CONSOLE_WRITE); s.addr = RING_VADDR + 64; s.len = 16;
    report("params-overlap-ring", submit(s));
    s = call(rt_timer, IFACE_TIMER, TIMER_NOW); s.result_addr = (uint64_t)text_in_rodata; s.result_len = 8;
    report("result-read-only", submit(s));
    s = call(rt_timer, IFACE_TIMER, TIMER_NOW); s.result_addr = 0xFFFFFFFF80000000ull; s.result_len = 8;
    report("result-kernel", submit(s));
    s = call(rt_timer, IFACE_TIMER, TIMER_NOW); s.result_addr = CAPSET_VADDR; s.result_len = 8;
    report("result-overlap-capset", submit(s));
    s = call(rt_timer, IFACE_TIMER, TIMER_NOW); s.result_addr = RING_VADDR + RING_CQ_OFFSET; s.result_len = 8;
    report("result-overlap-ring", submit(s));
    uint32_t small;
    s = call(rt_timer, IFACE_TIMER, TIMER_NOW); s.result_addr = (uint64_t)&small; s.result_len = 4;
    report("result-too-small", submit(s));
    s = (struct cap_sqe){ .opcode = CAP_OP_RELEASE, .cap_id = rt_console, .addr = 1 };
    report("release-reserved-field", submit(s));
    s = (struct cap_sqe){ .opcode = CAP_OP_RELEASE, .cap_id = (1u << 16) | 123 };
    report("release-empty-slot", submit(s));

    /* a stale slot: a released ProcessHandle's id must not reach anything */
    int64_t h = spawn_with_console("hello");
    int64_t code = h >= 0 ? process_wait((uint32_t)h) : h;
    printf("PROOF spawn hello exit=%ld\n", code);
    if (h >= 0) {
        report("release-handle", rt_release((uint32_t)h));
        s = call((uint32_t)h, IFACE_PROCESS_HANDLE, PROCESS_WAIT);
        report("stale-slot", submit(s));
        /* the slot is reused by the next spawn with a new generation */
        int64_t h2 = spawn_with_console("hello");
        printf("PROOF slot-reuse same_slot=%d new_gen=%d\n",
               h2 >= 0 && (h2 & 0xFFFF) == (h & 0xFFFF), h2 >= 0 && h2 != h);
        s = call((uint32_t)h, IFACE_PROCESS_HANDLE, PROCESS_WAIT);
        report("stale-slot-after-reuse", submit(s));
        if (h2 >= 0) {
            process_wait((uint32_t)h2);
            rt_release((uint32_t)h2);
        }
    }

    /* A corrupted sq_tail (more SQEs than the ring holds): one RING_CORRUPT
     * completion, the bogus entries are dropped, and the ring goes on. */
    uint32_t head = rt_ring->sq_head;
    rt_ring->sq_tail = head + RING_SQ_ENTRIES + 44;
    sys_cap_enter(0, 0);
    uint32_t cqh = rt_ring->cq_head;
    struct cap_cqe *cq = (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET);
    if (cqh != rt_ring->cq_tail) {
        report("corrupt-sq-tail", cq[cqh & (RING_CQ_ENTRIES - 1)].result);
        rt_ring->cq_head = cqh + 1;
    } else {
        report("corrupt-sq-tail", 1);   /* no completion: the harness fails this */
    }
    printf("PROOF corrupt-flag=%u\n", rt_ring->flags & CAP_RING_F_CORRUPTED);
    /* A corrupted cq_head: repaired, the next call still completes. */
    uint32_t before = rt_ring->corrupt_count;
    rt_ring->cq_head = rt_ring->cq_tail + 1000;
    sys_cap_enter(0, 0);
    printf("PROOF corrupt-cq-head repaired=%d counted=%d\n", rt_ring->cq_head == rt_ring->cq_tail,
           rt_ring->corrupt_count == before + 1);
    ud = rt_ring_submit(&nop);
    rt_ring_wait(ud, &c);
    printf("PROOF after-corrupt-cq nop result=%d echoed=%d\n", c.result, c.user_data == ud);

    /* 4. Batches: 256 NOPs in one enter all complete, in order. */
    uint64_t first = 0;
    for (int i = 0; i < (int)RING_SQ_ENTRIES; i++) {
        struct cap_sqe n = { .opcode = CAP_OP_NOP };
        uint64_t u = rt_ring_submit(&n);
        if (i == 0)
            first = u;
    }
    int64_t avail = sys_cap_enter(RING_SQ_ENTRIES, CAP_TIMEOUT_FOREVER);
    int ok = avail == (int64_t)RING_SQ_ENTRIES;
    uint32_t cqh2 = rt_ring->cq_head;
    for (uint32_t i = 0; ok && i < RING_SQ_ENTRIES; i++) {
        struct cap_cqe *e = &cq[(cqh2 + i) & (RING_CQ_ENTRIES - 1)];
        ok &= e->result == 0 && e->user_data == first + i;
    }
    rt_ring->cq_head = cqh2 + (uint32_t)(avail > 0 ? avail : 0);
    printf("PROOF batch-256 completions=%ld in_order=%d\n", avail, ok);

    /* 5. A process that dereferences null is killed; we go on. */
    h = spawn_with_console("fault");
    code = h >= 0 ? process_wait((uint32_t)h) : h;
    printf("PROOF fault exit=%ld\n", code);
    if (h >= 0)
        rt_release((uint32_t)h);
    r = rt_console_write("PROOF parent still alive\n", 25);
    printf("PROOF after-fault console result=%d\n", r);

    /* 6. Memory protection: each of these is killed by the CPU exception
     * it provokes, with the exit code PROCESS_EXIT_FAULT. */
    static const char *const violators[] = { "wtext", "xstack", "rkernel" };
    for (int i = 0; i < 3; i++) {
        h = spawn_with_console(violators[i]);
        code = h >= 0 ? process_wait((uint32_t)h) : h;
        printf("PROOF violate %s exit=%ld\n", violators[i], code);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    {
        RT_BUFS(b, 128, 64);
        capnp_client cl = RT_CLIENT(rt_memory);
        capnp_call mc;
        capos_VirtualMemory_map_Results_reader mr;
        report("vm-map-write-exec", rt_error(capos_VirtualMemory_map(&cl, &b, &mc, 0, 4096, 3, &mr)));
    }

    /* 7. Preemption: a process that never enters the kernel does not stop
     * the proof; then it is killed through its handle. */
    h = spawn_with_console("spin");
    uint32_t stats = rt_capset_require("stats");
    struct cpu_accts a0, a1;
    int ae = cpu_accts(stats, "spin", &a0);
    uint64_t t = rt_timer_now();
    r = rt_timer_sleep_until(t + 30000000);
    printf("PROOF spin running, parent woke after sleep result=%d\n", r);
    /* CPU time: while we slept the spinner was charged user time, and the
     * accounts together moved as far as the TSC on every CPU (less than 1%
     * apart: the two reads of each are a few instructions apart). */
    ae = ae ? ae : cpu_accts(stats, "spin", &a1);
    if (!ae) {
        uint64_t dt = a1.tsc - a0.tsc, ds = a1.sum - a0.sum, all = dt * a1.cpus;
        uint64_t gap = all > ds ? all - ds : ds - all;
        printf("PROOF cputime spin-user-percent=%lu spin-kernel-below-user=%d accounts-match-tsc=%d\n",
               (a1.user - a0.user) * 100 / (dt ? dt : 1), a1.kernel - a0.kernel < a1.user - a0.user,
               gap * 100 < all);
    }
    if (h >= 0) {
        r = rt_kill((uint32_t)h);
        code = process_wait((uint32_t)h);
        printf("PROOF spin kill result=%d exit=%ld\n", r, code);
        rt_release((uint32_t)h);
    }

    /* 8. Heap */
    char *a = malloc(100), *b = malloc(10000);
    int heap_ok = a && b && ((uint64_t)a & 15) == 0;
    if (heap_ok) {
        memset(b, 0x5a, 10000);
        heap_ok = b[9999] == 0x5a;
    }
    free(a);
    free(b);
    printf("PROOF heap ok=%d\n", heap_ok);
    printf("PROOF ringtest done\n");
    return 0;
}
