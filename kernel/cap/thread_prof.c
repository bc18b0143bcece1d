/*
 * The park/wake and spawn+join instruction profile (thread_prof.h).
 * Compiled to nothing unless CAPOS_THREAD_PROF is defined. Every
 * TPROF_PARK_EVERY wakes (two per ping-pong round trip) or TPROF_SPAWN_EVERY
 * spawns it prints each stage's instructions per round trip (TPROF park=)
 * or per spawn+join (TPROF spawn=) since the last report, then starts
 * again. A gap over TPROF_GAP instructions (a timer tick's idle, a process
 * start) is dropped rather than charged to a stage.
 * Binds on: the BKL (the counters are global).
 */
#include "thread_prof.h"
#ifdef CAPOS_THREAD_PROF
#include "kprintf.h"
#include "arch/x86_64/cpu.h"

#define TPROF_GAP 100000
#define TPROF_PARK_EVERY 2000
#define TPROF_SPAWN_EVERY 50

static const char *const names[TP_NSTAGES] = {
    "user+entry", "sqe", "check", "decode", "park-wait", "wake-find", "wake-resolve",
    "spawn-ring", "spawn-thread", "spawn-rest", "join", "texit-ring", "texit-rest",
    "method", "result", "release", "wait", "sched", "switch", "reap", "exit",
};
static uint64_t sum[TP_NSTAGES], last;
static uint32_t rounds[2];

void tprof_mark(enum tprof_stage s)
{
    uint64_t now = rdtsc();
    if (now - last < TPROF_GAP)
        sum[s] += now - last;
    last = now;
}

void tprof_round(enum tprof_path p)
{
    static const uint32_t every[2] = { TPROF_PARK_EVERY, TPROF_SPAWN_EVERY };
    static const uint32_t per[2] = { 2, 1 };      /* wakes per round trip, spawns per spawn+join */
    if (++rounds[p] < every[p])
        return;
    uint64_t n = rounds[p] / per[p], total = 0;
    for (int i = 0; i < TP_NSTAGES; i++)
        total += sum[i];
    kprintf("TPROF %s=%lu", p == TPP_PARK ? "park" : "spawn", (unsigned long)(total / n));
    for (int i = 0; i < TP_NSTAGES; i++) {
        if (sum[i])
            kprintf(" %s=%lu", names[i], (unsigned long)(sum[i] / n));
        sum[i] = 0;
    }
    kprintf("\n");
    rounds[0] = rounds[1] = 0;
    last = rdtsc();
}
#endif
