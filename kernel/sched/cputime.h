#ifndef SCHED_CPUTIME_H
#define SCHED_CPUTIME_H
#include "types.h"

/* Where the CPU's cycles went since cputime_init, in TSC cycles. */
struct cputime_totals {
    uint64_t user;      /* in user mode, any process */
    uint64_t kernel;    /* in the kernel on behalf of a process (its calls, and interrupts taken while it ran) */
    uint64_t irq;       /* in the kernel with no process: the idle thread's work (interrupts that woke it, scheduling) */
    uint64_t idle;      /* halted */
};

/* One CPU's account (struct cpu's `time`): the mode its cycles now go to,
 * since when, and its totals. */
struct cputime_cpu {
    int mode;                       /* enum cpu_mode in cputime.c */
    uint64_t since;                 /* TSC when the current account began */
    struct cputime_totals t;
};

struct cpu;
void cputime_init(struct cpu *c);
/* Every entry from user mode, and every interrupt (which can only come in
 * the idle loop when it comes from kernel mode). */
void cputime_enter_kernel(void);
/* Just before IRETQ to user mode. */
void cputime_leave_to_user(void);
/* Around the idle loop's hlt. */
void cputime_halt(void);
void cputime_woken(void);
/* A context switch, before the current thread changes: the time so far is
 * the outgoing thread's. */
void cputime_switch(void);
/* The totals of every online CPU (this one brought up to now). */
void cputime_totals(struct cputime_totals *out);
#endif
