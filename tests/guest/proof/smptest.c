/*
 * Mode "smp" (tests/smp): the SMP proofs, run on two CPUs.
 *   1. 4 smpstress processes x 4 threads at once (endpoint calls to one
 *      echo server, park/wake ping-pong, thread spawn/join), then the leak
 *      counters against the baseline taken before them;
 *   2. two ring fuzzers (sqefuzz) at once, then the counters again;
 *   3. the TLB shootdown proof (smpstress tlb): the process must die of
 *      the reader's page fault;
 *   4. the batched shootdown proof (smpstress batch:K, K = the first, a
 *      middle and the last page): one unmap of many pages, one round,
 *      and the reader on the other CPU faults at page K;
 *   5. an unmap over 8 TiB of holes returns (smpstress holes);
 *   6. the per-CPU counters (KernelStats.cpus).
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"
#include "proof.h"

#define STRESS_PROCS 4

static void stats_line(const char *what, const struct rt_kernel_stats *s)
{
    printf("SMP stats %s frames=%lu heappages=%lu objects=%lu heap=%lu slots=%lu pending=%lu processes=%lu\n", what,
           s->free_frames, s->heap_pages, s->objects, s->heap_bytes, s->cap_slots, s->pending_calls, s->processes);
}

static void cpu_lines(uint32_t stats)
{
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_cpus_Results_reader r;
    if (capos_KernelStats_cpus(&cl, &b, &call, &r)) {
        printf("SMP cpus failed\n");
        return;
    }
    capnp_list l = capos_KernelStats_cpus_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_CpuStats_reader c = capos_CpuStats_list_get(l, i);
        printf("SMP cpu %u ticks=%lu busy=%lu switches=%lu syscalls=%lu ipis=%lu runs=%lu steals=%lu ipis-sent=%lu "
               "tlb-rounds=%lu\n", capos_CpuStats_get_cpu(c),
               capos_CpuStats_get_ticks(c), capos_CpuStats_get_busyTicks(c), capos_CpuStats_get_switches(c),
               capos_CpuStats_get_syscalls(c), capos_CpuStats_get_ipis(c), capos_CpuStats_get_runs(c),
               capos_CpuStats_get_steals(c), capos_CpuStats_get_ipisSent(c), capos_CpuStats_get_tlbRounds(c));
    }
}

static void run_stress(uint32_t spawner, uint32_t endpoints)
{
    uint32_t owner, facet;
    if (rt_endpoint_create(endpoints, capos_test_IpcProbe_ID, 0, &owner, &facet)) {
        printf("SMP stress no endpoint\n");
        return;
    }
    const char *snames[] = { "console", "probe", "timer" };
    int64_t srv = rt_spawn_args(spawner, "ipc-server", snames, (uint32_t[]){ rt_console, owner, rt_timer }, 3, ~0u, "");
    rt_release(owner);
    const char *names[] = { "console", "timer", "memory", "probe" };
    int64_t h[STRESS_PROCS];
    for (int i = 0; i < STRESS_PROCS; i++)
        h[i] = rt_spawn_threads(spawner, "smpstress", names, (uint32_t[]){ rt_console, rt_timer, rt_memory, facet }, 4,
                                "stress");
    for (int i = 0; i < STRESS_PROCS; i++) {
        printf("SMP stress proc %d exit=%ld\n", i, h[i] >= 0 ? rt_wait((uint32_t)h[i]) : h[i]);
        if (h[i] >= 0)
            rt_release((uint32_t)h[i]);
    }
    rt_release(facet);
    if (srv >= 0) {                          /* it serves until it is killed */
        rt_kill((uint32_t)srv);
        printf("SMP stress server exit=%ld\n", rt_wait((uint32_t)srv));
        rt_release((uint32_t)srv);
    }
}

static void run_fuzz(uint32_t spawner, uint32_t endpoints)
{
    static const char *const seeds[2] = { "11", "12" };
    const char *g[] = { "console", "timer", "memory", "endpoints" };
    int64_t h[2];
    for (int i = 0; i < 2; i++)
        h[i] = rt_spawn_args(spawner, "sqefuzz", g, (uint32_t[]){ rt_console, rt_timer, rt_memory, endpoints }, 4, ~0u,
                             seeds[i]);
    for (int i = 0; i < 2; i++) {
        printf("SMP fuzz %d exit=%ld\n", i, h[i] >= 0 ? rt_wait((uint32_t)h[i]) : h[i]);
        if (h[i] >= 0)
            rt_release((uint32_t)h[i]);
    }
}

int smptest_run(uint32_t spawner)
{
    uint32_t stats = rt_capset_require("stats"), endpoints = rt_capset_require("endpoints");
    struct rt_kernel_stats s0, s1, s2;
    int64_t warm = spawn_with_console("hello");     /* warm the allocators */
    if (warm >= 0) {
        process_wait((uint32_t)warm);
        rt_release((uint32_t)warm);
    }
    /* a first stress round does whatever is done once (a size class's first
     * pages); the second is measured against it. The heap's class pages
     * follow the peak of concurrent allocations, which on two CPUs depends
     * on the scheduling: frames are compared with them counted in */
    run_stress(spawner, endpoints);
    rt_stats(stats, &s0);
    stats_line("baseline", &s0);
    run_stress(spawner, endpoints);
    rt_stats(stats, &s1);
    stats_line("after-stress", &s1);
    run_fuzz(spawner, endpoints);
    rt_stats(stats, &s2);
    stats_line("after-fuzz", &s2);

    const char *tn[] = { "console", "timer", "memory" };
    int64_t h = rt_spawn_threads(spawner, "smpstress", tn, (uint32_t[]){ rt_console, rt_timer, rt_memory }, 3, "tlb");
    printf("SMP tlb exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
    if (h >= 0)
        rt_release((uint32_t)h);
    static const char *const batch_args[] = { "batch:0", "batch:31", "batch:63" };
    const char *bn[] = { "console", "timer", "memory", "stats" };
    for (int i = 0; i < 3; i++) {
        h = rt_spawn_threads(spawner, "smpstress", bn, (uint32_t[]){ rt_console, rt_timer, rt_memory, stats }, 4,
                             batch_args[i]);
        printf("SMP batch %s exit=%ld\n", batch_args[i], h >= 0 ? rt_wait((uint32_t)h) : h);
        if (h >= 0)
            rt_release((uint32_t)h);
    }
    h = rt_spawn_threads(spawner, "smpstress", tn, (uint32_t[]){ rt_console, rt_timer, rt_memory }, 3, "holes");
    printf("SMP holes exit=%ld\n", h >= 0 ? rt_wait((uint32_t)h) : h);
    if (h >= 0)
        rt_release((uint32_t)h);
    cpu_lines(stats);
    printf("SMP done\n");
    return 0;
}
