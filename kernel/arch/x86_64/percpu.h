/*
 * Per-CPU data. In the kernel the GS base points at this CPU's struct cpu
 * (SWAPGS on every entry from and exit to user mode), so this_cpu() is one
 * load. entry.S reaches user_rsp and kstack_top by the offsets below.
 *
 * Who writes what: every field but tlb_req, runq and nrun is written only
 * by its own CPU, and (after boot) only while it holds the big kernel lock;
 * tlb_req is set by a CPU doing a TLB shootdown and cleared by the target
 * (smp.c). runq and nrun are this CPU's run queue: any CPU holding the big
 * kernel lock may add to it (a wake-up aimed here) or take from it (a
 * steal), see sched/sched.c.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H
#include "types.h"
#include "sched/cputime.h"
#include "list.h"

#define MAX_CPUS 8

struct thread;

/* Work done on one CPU (KernelStats.cpus). */
struct cpu_counters {
    uint64_t ticks;          /* timer interrupts taken */
    uint64_t busy_ticks;     /* ... of which found a user thread running */
    uint64_t switches;       /* thread switches onto this CPU */
    uint64_t syscalls;       /* system calls entered here */
    uint64_t ipis;           /* IPIs received (wake-ups and shootdowns) */
    uint64_t runs;           /* threads this CPU took from its own run queue */
    uint64_t steals;         /* ... and from another CPU's queue */
    uint64_t ipis_sent;      /* IPIs sent (wake-ups and shootdowns) */
    uint64_t tlb_rounds;     /* TLB shootdown rounds begun (one per unmap call) */
};

struct cpu {
    struct cpu *self;        /* offset 0: this_cpu() */
    uint64_t user_rsp;       /* offset 8: scratch for syscall_entry */
    uint64_t kstack_top;     /* offset 16: the running thread's kernel stack */
    struct thread *current;  /* offset 24 */
    uint32_t index;          /* 0 = the boot CPU; also in TSC_AUX (RDPID) */
    uint32_t apic_id;
    struct thread *idle;     /* runs when nothing else can; never on a run queue */
    uint32_t quantum;        /* ticks left for current */
    struct list runq;        /* runnable threads waiting for this CPU (run_link) */
    uint32_t nrun;           /* how many are on runq */
    bool online;             /* started and scheduling */
    paddr_t cr3;             /* the page tables this CPU has loaded */
    volatile uint32_t tlb_req;   /* TLB_REQ_* asked by a shooter (smp.c) */
    struct cpu_counters count;
    struct cputime_cpu time;     /* where this CPU's cycles went (sched/cputime.c) */
};

extern struct cpu cpus[MAX_CPUS];
extern uint32_t ncpus;       /* CPUs online */

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}
#endif
