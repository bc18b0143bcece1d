#ifndef THREAD_PROF_H
#define THREAD_PROF_H
/*
 * Where a park/wake round trip's and a thread spawn+join's instructions go.
 * Built only with `make THREAD_PROF=1` (-DCAPOS_THREAD_PROF; use its own
 * BUILD directory); otherwise every mark is nothing. Under QEMU's
 * -icount shift=0 the TSC counts guest instructions, so a mark adds the
 * instructions since the previous mark to its stage (as ipc_prof.h does for
 * the endpoint round trip). The stages are named by where they end;
 * kernel/README.md has the breakdowns they give.
 */
enum tprof_stage {
    TP_USER,           /* user code, the SYSCALL entry stub, the BKL */
    TP_SQE,            /* ring_enter up to the SQE's handler: SQ read, SQE copy */
    TP_CHECK,          /* do_call: cap lookup, buffer checks, params copy-in */
    TP_DECODE,         /* the generated dispatcher up to the method */
    TP_PARK_WAIT,      /* ParkSpace.wait: the word, the wait record */
    TP_WAKE_FIND,      /* ParkSpace.wake: finding the waiters */
    TP_WAKE_RESOLVE,   /* ParkSpace.wake: the waiter's result, CQE and wake-up */
    TP_SPAWN_RING,     /* ThreadSpawner.spawn: the ring (frames, zeroing, mapping) */
    TP_SPAWN_THREAD,   /* ThreadSpawner.spawn: the thread (kernel stack, FPU area, queue) */
    TP_SPAWN_REST,     /* ThreadSpawner.spawn: the handle, the result */
    TP_JOIN,           /* ThreadHandle.join: its wait record */
    TP_TEXIT_RING,     /* a thread's end: its waits and ring withdrawn, the ring freed */
    TP_TEXIT_REST,     /* a thread's end: its joiner answered, unlinked */
    TP_METHOD,         /* any other method's body (VirtualMemory map/unmap, ...) */
    TP_RESULT,         /* do_call after the method: result out, CQE */
    TP_RELEASE,        /* RELEASE: the handle's release */
    TP_WAIT,           /* ring_enter after the SQEs, up to the scheduler */
    TP_SCHED,          /* choosing the next thread */
    TP_SWITCH,         /* FPU, FS base, CR3, stacks and switch_context */
    TP_REAP,           /* freeing dead threads (kernel stack, FPU area) */
    TP_EXIT,           /* back out of ring_enter to the IRETQ */
    TP_NSTAGES
};

enum tprof_path {
    TPP_PARK,          /* one ParkSpace.wake (two per ping-pong round trip) */
    TPP_SPAWN,         /* one ThreadSpawner.spawn */
};

#ifdef CAPOS_THREAD_PROF
void tprof_mark(enum tprof_stage s);
void tprof_round(enum tprof_path p);
#else
static inline void tprof_mark(enum tprof_stage s) { (void)s; }
static inline void tprof_round(enum tprof_path p) { (void)p; }
#endif
#endif
