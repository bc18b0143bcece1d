/*
 * smpstress: the SMP proofs' worker (tests/smp). Its argument picks one:
 *   stress  4 threads, each ROUNDS rounds of: an endpoint call (cap
 *           "probe", IpcProbe.echo), one park/wake ping-pong step with its
 *           partner thread, and every SPAWN_EVERY rounds a thread spawned
 *           and joined. Exit 0 when every answer was its own and every
 *           count came out exact.
 *   tlb     a thread keeps reading a page while the main thread, on
 *           another CPU (RDTSCP's TSC_AUX names it), unmaps the page: the
 *           reader must fault (the kernel kills the process, -1000) rather
 *           than go on through a stale TLB entry.
 *   batch:K BATCH_PAGES pages, all read over and over by a thread on the
 *           other CPU, then held (it spins on a flag in another page, the
 *           pages still in its TLB); the main thread unmaps them in ONE
 *           VirtualMemory.unmap and counts the shootdown rounds it cost
 *           (KernelStats.cpus, every CPU's tlbRounds summed, before and
 *           after), then lets the reader go on at page K: it must fault
 *           there. Run with several K, it shows every page of the batch
 *           gone from the other CPU's TLB.
 *   holes   one VirtualMemory.unmap of HOLE_SPAN bytes (2^31 pages) of
 *           address space where nothing is mapped: the kernel must skip
 *           the holes a table at a time, not walk page by page under the
 *           big lock (the call returns, and the process goes on).
 * Lines are facts for the host harness, which judges them.
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"

#define THREADS 4
#define ROUNDS 150
#define SPAWN_EVERY 10

static uint32_t probe;
static volatile uint32_t pingpong[THREADS / 2];

static uint32_t this_cpu(void)
{
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    return aux;
}

static int echo_once(uint64_t me, uint64_t i)
{
    uint64_t msg[2] = { me, i };
    RT_BUFS(b, 256, 512);
    capnp_client cl = RT_CLIENT(probe);
    capnp_call call;
    capos_test_IpcProbe_echo_Results_reader r;
    int e = capos_test_IpcProbe_echo(&cl, &b, &call, msg, sizeof msg, &r);
    capnp_data d = e ? (capnp_data){ 0, 0 } : capos_test_IpcProbe_echo_Results_get_data(r);
    return !e && d.len == sizeof msg && !memcmp(d.ptr, msg, sizeof msg);
}

/* One step of the ping-pong: side 0 moves on even values, side 1 on odd. */
static void ping_step(volatile uint32_t *w, uint32_t side, uint32_t i)
{
    uint32_t want = 2 * i + side, v;
    while ((v = __atomic_load_n(w, __ATOMIC_ACQUIRE)) != want)
        rt_park_wait(w, v, 0);
    __atomic_store_n(w, want + 1, __ATOMIC_RELEASE);
    rt_park_wake(w, 1);
}

static void *child(void *arg)
{
    return (void *)((uint64_t)arg * 3);
}

static void *worker(void *arg)
{
    uint64_t me = (uint64_t)arg, bad = 0;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        if (!echo_once(me, i))
            bad++;
        ping_step(&pingpong[me / 2], (uint32_t)(me % 2), i);
        if (i % SPAWN_EVERY == 0) {
            struct rt_thread *t;
            void *ret = 0;
            if (rt_thread_create(&t, child, (void *)(uint64_t)i) || rt_thread_join(t, &ret) || (uint64_t)ret != 3ull * i)
                bad++;
        }
    }
    return (void *)bad;
}

static int stress(void)
{
    int64_t c = rt_capset_lookup("probe");
    if (c < 0)
        return 2;
    probe = (uint32_t)c;
    struct rt_thread *t[THREADS];
    uint64_t bad = 0;
    for (uint64_t i = 0; i < THREADS; i++)
        if (rt_thread_create(&t[i], worker, (void *)i))
            bad++;
    for (int i = 0; i < THREADS; i++) {
        void *ret = (void *)1;
        rt_thread_join(t[i], &ret);
        bad += (uint64_t)ret;
    }
    uint32_t pp_ok = 1;
    for (int i = 0; i < THREADS / 2; i++)
        pp_ok &= pingpong[i] == 2 * ROUNDS;
    printf("SMPSTRESS pid=%u threads=%d rounds=%d bad=%lu pingpong=%u\n", rt_capset->pid, THREADS, ROUNDS, bad, pp_ok);
    return bad || !pp_ok;
}

/* ---- the TLB shootdown proof ---- */
static volatile uint8_t *page;
static volatile uint64_t reads;
static volatile uint32_t reader_cpu = ~0u;

static void *reader(void *arg)
{
    for (;;) {
        (void)page[0];
        reader_cpu = this_cpu();
        __atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

/* A fresh read/write mapping of len bytes (0 if refused), and an unmap. */
static uint64_t map_rw(uint64_t len)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_map_Results_reader mr;
    if (capos_VirtualMemory_map(&cl, &b, &call, 0, len, 1, &mr))
        return 0;
    return capos_VirtualMemory_map_Results_get_addr(mr);
}

static int unmap(uint64_t addr, uint64_t len)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_unmap_Results_reader ur;
    return capos_VirtualMemory_unmap(&cl, &b, &call, addr, len, &ur);
}

static int tlb(void)
{
    page = (volatile uint8_t *)map_rw(4096);
    if (!page)
        return 2;
    page[0] = 1;
    struct rt_thread *t;
    if (rt_thread_create(&t, reader, 0))
        return 3;
    /* wait until the reader runs on the other CPU and has the page in its TLB */
    uint64_t deadline = rt_timer_now() + 5000000000ull;
    while (!(reads > 1000 && reader_cpu != ~0u && reader_cpu != this_cpu()) && rt_timer_now() < deadline)
        __asm__ volatile("pause");
    uint32_t mine = this_cpu(), theirs = reader_cpu;
    printf("SMPTLB unmapping %p on cpu %u, reader on cpu %u\n", (void *)page, mine, theirs);
    int e = unmap((uint64_t)page, 4096);
    printf("SMPTLB unmapped result=%d cpu=%u\n", e, this_cpu());
    /* the reader faults at its next read: the process dies with it */
    rt_timer_sleep_until(rt_timer_now() + 3000000000ull);
    printf("SMPTLB reader survived the unmap: reads=%lu\n", reads);
    return 4;
}

/* ---- the batched shootdown proof ---- */
#define BATCH_PAGES 64
static volatile uint8_t *batch;
static volatile uint32_t hold, held, go;
static volatile uint64_t batch_reads;
static volatile uint32_t batch_cpu = ~0u;
static uint32_t batch_first;

static void *batch_reader(void *arg)
{
    while (!hold) {
        for (uint32_t i = 0; i < BATCH_PAGES; i++)
            (void)batch[i * 4096];
        batch_cpu = this_cpu();
        __atomic_fetch_add(&batch_reads, 1, __ATOMIC_RELAXED);
    }
    held = 1;
    while (!go)
        __asm__ volatile("pause");
    (void)batch[batch_first * 4096];          /* unmapped: the fault kills the process */
    printf("SMPBATCH reader survived at page %u\n", batch_first);
    for (;;)
        __asm__ volatile("pause");
    return 0;
}

/* The sum over the CPUs of tlbRounds and ipisSent (KernelStats.cpus). */
static int cpu_sums(uint32_t stats, uint64_t *rounds, uint64_t *sent)
{
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_cpus_Results_reader r;
    if (capos_KernelStats_cpus(&cl, &b, &call, &r))
        return -1;
    capnp_list l = capos_KernelStats_cpus_Results_get_list(r);
    *rounds = *sent = 0;
    for (uint32_t i = 0; i < l.count; i++) {
        capos_CpuStats_reader c = capos_CpuStats_list_get(l, i);
        *rounds += capos_CpuStats_get_tlbRounds(c);
        *sent += capos_CpuStats_get_ipisSent(c);
    }
    return 0;
}

static int batch_unmap(const char *arg)
{
    batch_first = 0;
    for (const char *p = arg; *p; p++) {
        if (*p < '0' || *p > '9' || batch_first >= BATCH_PAGES)
            return 2;
        batch_first = batch_first * 10 + (uint32_t)(*p - '0');
    }
    int64_t stats = rt_capset_lookup("stats");
    if (stats < 0 || !*arg || batch_first >= BATCH_PAGES)
        return 2;
    batch = (volatile uint8_t *)map_rw(BATCH_PAGES * 4096);
    if (!batch)
        return 3;
    for (uint32_t i = 0; i < BATCH_PAGES; i++)
        batch[i * 4096] = (uint8_t)i;
    struct rt_thread *t;
    if (rt_thread_create(&t, batch_reader, 0))
        return 4;
    uint64_t deadline = rt_timer_now() + 5000000000ull;
    while (!(batch_reads > 100 && batch_cpu != ~0u && batch_cpu != this_cpu()) && rt_timer_now() < deadline)
        __asm__ volatile("pause");
    hold = 1;
    while (!held && rt_timer_now() < deadline)
        __asm__ volatile("pause");
    uint64_t r0, s0, r1, s1;
    uint32_t mine = this_cpu(), theirs = batch_cpu;
    if (cpu_sums((uint32_t)stats, &r0, &s0))
        return 5;
    int e = unmap((uint64_t)batch, BATCH_PAGES * 4096);
    if (cpu_sums((uint32_t)stats, &r1, &s1))
        return 6;
    printf("SMPBATCH unmapped %u pages at %p result=%d on cpu %u, reader on cpu %u: rounds=%lu ipis-sent=%lu, "
           "reader goes to page %u\n", BATCH_PAGES, (void *)batch, e, mine, theirs, r1 - r0, s1 - s0, batch_first);
    go = 1;
    rt_timer_sleep_until(rt_timer_now() + 3000000000ull);
    printf("SMPBATCH reader survived the unmap\n");
    return 7;
}

/* ---- an unmap over terabytes of holes ---- */
#define HOLE_OFFSET (1ull << 40)        /* well above anything the runtime maps */
#define HOLE_SPAN   (1ull << 43)        /* 8 TiB */

static int holes(void)
{
    uint64_t base = map_rw(4096);
    if (!base)
        return 2;
    int e = unmap(base + HOLE_OFFSET, HOLE_SPAN);
    printf("SMPHOLES unmap of %lu pages of holes result=%d\n", (unsigned long)(HOLE_SPAN / 4096), e);
    return e != 0;
}

int main(void)
{
    const char *mode = rt_capset->args;
    if (!strcmp(mode, "holes"))
        return holes();
    if (!strncmp(mode, "batch:", 6))
        return batch_unmap(mode + 6);
    if (!strcmp(mode, "stress"))
        return stress();
    if (!strcmp(mode, "tlb"))
        return tlb();
    printf("smpstress: unknown mode %s\n", mode);
    return 9;
}
