#ifndef SCHED_CPUTIME_H
#define SCHED_CPUTIME_H
#include "types.h"
#include "arch/x86_64/cpu.h"

/* Where a CPU's cycles go now (struct cputime_cpu's `mode`). */
enum cpu_mode { MODE_KERNEL, MODE_USER, MODE_IDLE };

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
/* Charge the cycles since the last transition to one of this CPU's totals
 * (cpu_total, in acct) and one process counter (proc_total), and start the
 * next account in `next`: one rdtsc and three adds. For the callers below,
 * which know the account to charge. */
static inline void cputime_charge_known(struct cputime_cpu *acct, uint64_t *cpu_total, uint64_t *proc_total,
                                        enum cpu_mode next)
{
    uint64_t now = rdtsc(), d = now - acct->since;
    acct->since = now;
    *cpu_total += d;
    *proc_total += d;
    acct->mode = next;
}

/*
 * The system call's own pair, inline: a system call comes only from user
 * mode (the account is MODE_USER) and goes back to user mode from a thread
 * of a process (the account is MODE_KERNEL, whichever thread ran in
 * between: cputime_switch leaves it so), so neither needs charge()'s
 * switch. `acct` is this CPU's account; `user_tsc` / `kernel_tsc` the
 * counters of the process whose thread entered / leaves. The same binds
 * as for the others: the BKL held, interrupts off.
 */
static inline void cputime_syscall_enter(struct cputime_cpu *acct, uint64_t *user_tsc)
{
    cputime_charge_known(acct, &acct->t.user, user_tsc, MODE_KERNEL);
}

static inline void cputime_syscall_leave(struct cputime_cpu *acct, uint64_t *kernel_tsc)
{
    cputime_charge_known(acct, &acct->t.kernel, kernel_tsc, MODE_USER);
}

/* cputime_switch for a thread switch on this CPU (acct) away from a thread
 * of a process whose counter is kernel_tsc (0: the idle thread or no
 * process): in the kernel, the common case, it is inline; anything else
 * (a doomed thread ending at its entry, still on the user's account; the
 * idle thread) goes through cputime_switch. */
static inline void cputime_switch_from(struct cputime_cpu *acct, uint64_t *kernel_tsc)
{
    if (__builtin_expect(acct->mode != MODE_KERNEL || !kernel_tsc, 0))
        cputime_switch();
    else
        cputime_charge_known(acct, &acct->t.kernel, kernel_tsc, MODE_KERNEL);
}

/* The totals of every online CPU (this one brought up to now). */
void cputime_totals(struct cputime_totals *out);
#endif
