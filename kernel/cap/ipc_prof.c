/*
 * The endpoint round trip's instruction profile (ipc_prof.h). Compiled to
 * nothing unless CAPOS_IPC_PROF is defined. Every 1000 endpoint CALLs it
 * prints each stage's instructions per call since the last report, then
 * starts again. A gap over IPC_PROF_GAP instructions (a timer tick, a
 * process start) is dropped rather than charged to a stage.
 * Binds on: the BKL (the counters are global).
 */
#include "ipc_prof.h"
#ifdef CAPOS_IPC_PROF
#include "kprintf.h"
#include "arch/x86_64/cpu.h"

#define IPC_PROF_GAP 20000
#define IPC_PROF_EVERY 1000

static const char *const names[IPC_NSTAGES] = {
    "user+entry", "sqe", "lookup", "alloc", "header", "copy", "post",
    "ret-find", "ret-copy", "ret-post", "recv", "wait", "sched", "switch", "exit",
};
static uint64_t sum[IPC_NSTAGES], last;
static uint32_t rounds;

void ipc_prof_mark(enum ipc_stage s)
{
    uint64_t now = rdtsc();
    if (now - last < IPC_PROF_GAP)
        sum[s] += now - last;
    last = now;
}

void ipc_prof_round(void)
{
    if (++rounds < IPC_PROF_EVERY)
        return;
    uint64_t total = 0;
    for (int i = 0; i < IPC_NSTAGES; i++)
        total += sum[i];
    kprintf("IPCPROF total=%lu", (unsigned long)(total / rounds));
    for (int i = 0; i < IPC_NSTAGES; i++) {
        kprintf(" %s=%lu", names[i], (unsigned long)(sum[i] / rounds));
        sum[i] = 0;
    }
    kprintf("\n");
    rounds = 0;
    last = rdtsc();
}
#endif
