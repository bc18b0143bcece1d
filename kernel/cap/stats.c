/*
 * KernelStats: the counters leak tests compare before and after a workload.
 *   get() -> freeFrames, objects, heapBytes, processes, capSlots, pendingCalls,
 *            deviceMaps, dmaPages, irqRoutes (device.h), heapPages, and
 *            where the CPUs' time went (sched/cputime.c)
 *   processes() -> every process and the interfaces it holds
 *   cpus() -> per-CPU counters (percpu.h): the work each CPU has done
 */
#include "objects.h"
#include "endpoint.h"
#include "device.h"
#include "mm/kheap.h"
#include "mm/frame.h"
#include "sched/process.h"
#include "arch/x86_64/percpu.h"
#include "sched/cputime.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"

static int stats_get(void *self, capos_KernelStats_get_Params_reader p, capos_KernelStats_get_Results_builder r)
{
    capos_KernelStats_get_Results_set_freeFrames(r, frame_free_count());
    capos_KernelStats_get_Results_set_objects(r, kobj_live_count());
    capos_KernelStats_get_Results_set_heapBytes(r, kheap_live_bytes());
    capos_KernelStats_get_Results_set_processes(r, process_count());
    capos_KernelStats_get_Results_set_capSlots(r, process_cap_slots_used());
    capos_KernelStats_get_Results_set_pendingCalls(r, pending_live_count() + endpoint_live_calls());
    capos_KernelStats_get_Results_set_deviceMaps(r, dev_stat_maps);
    capos_KernelStats_get_Results_set_dmaPages(r, dev_stat_dma_pages);
    capos_KernelStats_get_Results_set_irqRoutes(r, dev_stat_irq_routes);
    capos_KernelStats_get_Results_set_heapPages(r, kheap_pages_held());
    struct cputime_totals t;
    cputime_totals(&t);
    capos_KernelStats_get_Results_set_tscHz(r, time_tsc_hz());
    capos_KernelStats_get_Results_set_tsc(r, rdtsc());
    capos_KernelStats_get_Results_set_userTsc(r, t.user);
    capos_KernelStats_get_Results_set_kernelTsc(r, t.kernel);
    capos_KernelStats_get_Results_set_irqTsc(r, t.irq);
    capos_KernelStats_get_Results_set_idleTsc(r, t.idle);
    return CAPNP_OK;
}

static int stats_processes(void *self, capos_KernelStats_processes_Params_reader p,
                           capos_KernelStats_processes_Results_builder r)
{
    return process_list_caps(r);
}

static int stats_cpus(void *self, capos_KernelStats_cpus_Params_reader p, capos_KernelStats_cpus_Results_builder r)
{
    capnp_lbuilder l = capos_KernelStats_cpus_Results_init_list(r, ncpus);
    for (uint32_t i = 0, k = 0; i < MAX_CPUS && k < ncpus; i++) {
        const struct cpu *c = &cpus[i];
        if (!c->online)
            continue;
        capos_CpuStats_builder b = capos_CpuStats_list_at(l, k++);
        capos_CpuStats_set_cpu(b, c->index);
        capos_CpuStats_set_ticks(b, c->count.ticks);
        capos_CpuStats_set_busyTicks(b, c->count.busy_ticks);
        capos_CpuStats_set_switches(b, c->count.switches);
        capos_CpuStats_set_syscalls(b, c->count.syscalls);
        capos_CpuStats_set_ipis(b, c->count.ipis);
        capos_CpuStats_set_runs(b, c->count.runs);
        capos_CpuStats_set_steals(b, c->count.steals);
        capos_CpuStats_set_ipisSent(b, c->count.ipis_sent);
        capos_CpuStats_set_tlbRounds(b, c->count.tlb_rounds);
    }
    return CAPNP_OK;
}

static const capos_KernelStats_server stats_server = { .get = stats_get, .processes = stats_processes, .cpus = stats_cpus };
static int stats_call(struct kobj *o, struct call_ctx *c) { return capos_KernelStats_dispatch(&stats_server, c, &c->sc); }
static const struct kobj_type stats_type = { "KernelStats", IFACE_KERNEL_STATS, stats_call, 0 };
struct kobj stats_obj = KOBJ_STATIC(stats_type, IFACE_KERNEL_STATS);
