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
 * to that process's kernel time: with one CPU there is no better owner.
 *
 * Under QEMU's -icount shift=0 the TSC advances one cycle per guest
 * instruction and, while the CPU is halted, by the virtual time slept; so
 * user + kernel + irq counts the instructions executed, and idle is the
 * time slept (bench/ssh-guest reads them). Each transition costs a rdtsc
 * and a few adds.
 *
 * Binds on: interrupts off (one CPU; `acct` and the per-process counters
 * have no lock).
 */
#include "cputime.h"
#include "sched.h"
#include "process.h"
#include "arch/x86_64/cpu.h"
#include "kprintf.h"

enum cpu_mode { MODE_KERNEL, MODE_USER, MODE_IDLE };

static struct {
    enum cpu_mode mode;
    uint64_t since;                 /* TSC when the current account began */
    struct cputime_totals t;
} acct;

void cputime_init(void)
{
    acct.mode = MODE_KERNEL;
    acct.since = rdtsc();
}

/* Charge the cycles since the last transition to the current account and
 * start the next one in `next`. */
static void charge(enum cpu_mode next)
{
    uint64_t now = rdtsc(), d = now - acct.since;
    struct process *p = current_process();
    acct.since = now;
    switch (acct.mode) {
    case MODE_USER:
        acct.t.user += d;
        if (p)
            p->user_tsc += d;
        break;
    case MODE_KERNEL:
        if (p) {
            acct.t.kernel += d;
            p->kernel_tsc += d;
        } else {
            acct.t.irq += d;
        }
        break;
    case MODE_IDLE:
        acct.t.idle += d;
        break;
    }
    acct.mode = next;
}

void cputime_enter_kernel(void)
{
    KASSERT(!interrupts_enabled());
    if (acct.mode != MODE_KERNEL)
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
    if (acct.mode == MODE_IDLE)     /* no interrupt ended the halt */
        charge(MODE_KERNEL);
}

void cputime_switch(void)
{
    charge(MODE_KERNEL);
}

void cputime_totals(struct cputime_totals *out)
{
    charge(acct.mode);              /* bring the current account up to now */
    *out = acct.t;
}
