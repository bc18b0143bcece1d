/*
 * cpuprobe: the guest side of bench-ssh-guest's instruction counts (test
 * and bench images only). Holds the console, KernelStats and a NetworkInfo.
 * Each line it reads on the console ("snap") is answered with one line:
 *   CPUPROBE tsc=T hz=H user=U kernel=K irq=I idle=D switches=S syscalls=C
 *            rx=R tx=X proc=NAME:USER:KERNEL ...
 * the kernel's CPU accounts (TSC cycles since boot), its thread switches
 * and system calls (summed over the CPUs), the stack's frame counters, and
 * each process's user and kernel cycles (processes of one name summed). The host takes one before and one after a transfer and
 * divides the differences by the frames; the probe itself moves no frame.
 * "loop" runs a loop of LOOP_ITERS iterations of two instructions and
 * answers
 *   CPUPROBE loop instructions=N tsc=T user=U
 * the rdtsc difference across it and this process's user cycles: under
 * QEMU's -icount shift=0 both are N (plus the interrupts taken, in T only)
 * when a TSC cycle is one instruction, which the bench checks before it
 * trusts the counts.
 */
#include "rt/capos.h"

#define OUT_MAX 2048
#define NAMES 24
#define LOOP_ITERS 20000000ul

static uint32_t stats, info;

struct proc_sum { char name[32]; uint64_t user, kernel; };

static size_t processes(char *out, size_t len, size_t cap)
{
    static struct proc_sum sums[NAMES];
    uint32_t n = 0;
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return len;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text t = capos_ProcessCaps_get_name(p);
        size_t tl = t.len < sizeof sums[0].name - 1 ? t.len : sizeof sums[0].name - 1;
        uint32_t k = 0;
        while (k < n && (strlen(sums[k].name) != tl || memcmp(sums[k].name, t.str, tl)))
            k++;
        if (k == n) {
            if (n == NAMES)
                continue;
            memcpy(sums[n].name, t.str, tl);
            sums[n].name[tl] = 0;
            sums[n].user = sums[n].kernel = 0;
            n++;
        }
        sums[k].user += capos_ProcessCaps_get_userTsc(p);
        sums[k].kernel += capos_ProcessCaps_get_kernelTsc(p);
    }
    for (uint32_t k = 0; k < n && len + 80 < cap; k++)
        len += (size_t)fmt_snprintf(out + len, cap - len, " proc=%s:%lu:%lu", sums[k].name, sums[k].user,
                                    sums[k].kernel);
    return len;
}

static size_t snap(char *out, size_t cap)
{
    size_t len = 0;
    {
        RT_BUFS(b, 64, 512);
        capnp_client cl = RT_CLIENT(stats);
        capnp_call call;
        capos_KernelStats_get_Results_reader r;
        if (capos_KernelStats_get(&cl, &b, &call, &r))
            return (size_t)fmt_snprintf(out, cap, "CPUPROBE failed");
        len += (size_t)fmt_snprintf(out, cap, "CPUPROBE tsc=%lu hz=%lu user=%lu kernel=%lu irq=%lu idle=%lu",
                                    capos_KernelStats_get_Results_get_tsc(r),
                                    capos_KernelStats_get_Results_get_tscHz(r),
                                    capos_KernelStats_get_Results_get_userTsc(r),
                                    capos_KernelStats_get_Results_get_kernelTsc(r),
                                    capos_KernelStats_get_Results_get_irqTsc(r),
                                    capos_KernelStats_get_Results_get_idleTsc(r));
    }
    {
        RT_BUFS(b, 64, 2048);
        capnp_client cl = RT_CLIENT(stats);
        capnp_call call;
        capos_KernelStats_cpus_Results_reader r;
        if (!capos_KernelStats_cpus(&cl, &b, &call, &r)) {
            capnp_list l = capos_KernelStats_cpus_Results_get_list(r);
            uint64_t sw = 0, sc = 0;
            for (uint32_t i = 0; i < l.count; i++) {
                capos_CpuStats_reader c = capos_CpuStats_list_get(l, i);
                sw += capos_CpuStats_get_switches(c);
                sc += capos_CpuStats_get_syscalls(c);
            }
            len += (size_t)fmt_snprintf(out + len, cap - len, " switches=%lu syscalls=%lu", sw, sc);
        }
    }
    {
        RT_BUFS(b, 64, 1024);
        capnp_client cl = RT_CLIENT(info);
        capnp_call call;
        capos_NetworkInfo_counters_Results_reader r;
        if (!capos_NetworkInfo_counters(&cl, &b, &call, &r)) {
            capos_NetCounters_reader c = capos_NetworkInfo_counters_Results_get_counters(r);
            len += (size_t)fmt_snprintf(out + len, cap - len, " rx=%lu tx=%lu", capos_NetCounters_get_rxFrames(c),
                                        capos_NetCounters_get_txFrames(c));
        }
    }
    return processes(out, len, cap);
}

static uint64_t own_user(void)
{
    RT_BUFS(b, 64, 8192);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return 0;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text t = capos_ProcessCaps_get_name(p);
        if (t.len == 8 && !memcmp(t.str, "cpuprobe", 8))
            return capos_ProcessCaps_get_userTsc(p);
    }
    return 0;
}

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static size_t loop(char *out, size_t cap)
{
    uint64_t u0 = own_user(), n = LOOP_ITERS, t0 = tsc();
    __asm__ volatile("1: dec %0; jnz 1b" : "+r"(n) : : "cc");
    uint64_t t1 = tsc(), u1 = own_user();
    /* own_user's call is user time too: measure one and take it off */
    uint64_t u2 = own_user();
    uint64_t call = u2 - u1;
    return (size_t)fmt_snprintf(out, cap, "CPUPROBE loop instructions=%lu tsc=%lu user=%lu", 2 * LOOP_ITERS,
                                t1 - t0, u1 - u0 > call ? u1 - u0 - call : 0);
}

int main(void)
{
    stats = rt_capset_require("stats");
    info = rt_capset_require("info");
    printf("cpuprobe: ready\n");
    for (;;) {
        char line[64];
        static char out[OUT_MAX];
        int n = rt_console_read_line(line, sizeof line);
        if (n < 0)
            return 1;
        size_t len = n >= 4 && !memcmp(line, "loop", 4) ? loop(out, sizeof out - 1) : snap(out, sizeof out - 1);
        out[len++] = '\n';
        rt_console_write(out, len);
    }
}
