/*
 * CPU time from the TSC. Every cycle since boot is charged to exactly one
 * account: a process's user time, a process's kernel time, the kernel's
 * own time with no process to charge (the idle thread: the interrupts that
 * end a halt, scheduling), or idle (halted).
 *
 * The accounts change at four kinds of transition: entry from user mode (a
 * system call, any trap) and the IRETQ back; the idle loop's hlt and the
 * interrupt that ends it; and a context switch, which ends the outgoing
 * thread's kernel time. An interrupt taken while a process runs is charged
 * to that process's kernel time: there is no better owner.
 *
 * Under QEMU's -icount shift=0 the TSC advances one cycle per guest
 * instruction and, while the CPU is halted, by the virtual time slept; so
 * user + kernel + irq counts the instructions executed, and idle is the
 * time slept (bench/ssh-guest reads them). Each transition costs a rdtsc
 * and a few adds; a system call's entry and exit, the hot pair, are
 * inline in cputime.h (cputime_syscall_enter / _leave) and skip the
 * switch on the mode, which is known there.
 *
 * Each CPU keeps its own account (struct cpu's `time`), written only by
 * that CPU. Binds on: interrupts off and the big kernel lock held at every
 * call (the per-process counters are shared, and cputime_totals reads the
 * other CPUs' accounts), so the idle loop charges its halt before it lets
 * go of the lock and its wake-up after it takes it back.
 */
#include "cputime.h"
#include "sched.h"
#include "process.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "kprintf.h"

void cputime_init(struct cpu *c)
{
    c->time.mode = MODE_KERNEL;
    c->time.since = rdtsc();
}

/* Charge the cycles since the last transition to the current account and
 * start the next one in `next`. */
static void charge(enum cpu_mode next)
{
    struct cputime_cpu *a = &this_cpu()->time;
    uint64_t now = rdtsc(), d = now - a->since;
    struct process *p = current_process();
    a->since = now;
    switch ((enum cpu_mode)a->mode) {
    case MODE_USER:
        a->t.user += d;
        if (p)
            p->user_tsc += d;
        break;
    case MODE_KERNEL:
        if (p) {
            a->t.kernel += d;
            p->kernel_tsc += d;
        } else {
            a->t.irq += d;
        }
        break;
    case MODE_IDLE:
        a->t.idle += d;
        break;
    }
    a->mode = next;
}

void cputime_enter_kernel(void)
{
    KASSERT(!interrupts_enabled());
    if (this_cpu()->time.mode != MODE_KERNEL)
        charge(MODE_KERNEL);
}

void cputime_leave_to_user(void)
{
    charge(MODE_USER);
}

void cputime_halt(void)
{
    charge(MODE_IDLE);
}

void cputime_woken(void)
{
    if (this_cpu()->time.mode == MODE_IDLE)     /* no interrupt ended the halt */
        charge(MODE_KERNEL);
}

void cputime_switch(void)
{
    charge(MODE_KERNEL);
}

void cputime_totals(struct cputime_totals *out)
{
    charge((enum cpu_mode)this_cpu()->time.mode);   /* bring this CPU's account up to now */
    uint64_t now = rdtsc();
    *out = (struct cputime_totals){ 0 };
    for (uint32_t i = 0; i < MAX_CPUS; i++) {
        const struct cputime_cpu *a = &cpus[i].time;
        if (!cpus[i].online && i != this_cpu()->index)
            continue;
        out->user += a->t.user;
        out->kernel += a->t.kernel;
        out->irq += a->t.irq;
        out->idle += a->t.idle;
        if (i == this_cpu()->index)
            continue;
        /* Another CPU's current span (in user mode or halted: it does not
         * hold the lock, so it charges nothing now) is counted to its
         * account as of now, or the totals would lag the TSC by up to a
         * tick per CPU. A CPU between its entry and the lock may charge
         * the same few cycles again a moment later: a read of counters. */
        uint64_t since = __atomic_load_n(&a->since, __ATOMIC_RELAXED);
        uint64_t d = now > since ? now - since : 0;
        switch ((enum cpu_mode)__atomic_load_n(&a->mode, __ATOMIC_RELAXED)) {
        case MODE_USER:   out->user += d; break;
        case MODE_KERNEL: out->kernel += d; break;
        case MODE_IDLE:   out->idle += d; break;
        }
    }
}
