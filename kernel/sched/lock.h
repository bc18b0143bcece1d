/*
 * Locks. The kernel takes ONE lock today, the big kernel lock (BKL): every
 * entry into the kernel takes it and every return to user mode releases it,
 * so kernel code runs on one CPU at a time and all the "interrupts off, one
 * CPU" reasoning of the uniprocessor kernel still holds. See kernel/README.md
 * (SMP) for the rules and what is outside it.
 *
 * Lock order (acquire top to bottom; nothing else is a lock yet):
 *   1. kernel_lock   everything the kernel owns: every CPU's run queue
 *                    (struct cpu runq/nrun: any CPU may queue to or steal
 *                    from another's while it holds this lock), threads,
 *                    processes, caps, objects, rings, frames, heap, page
 *                    tables (and PTE_UNMAPPING entries, which exist only
 *                    inside one vm_unmap_range), the timer and deadline
 *                    lists, the static scratch buffers, the log.
 *
 * The kernel runs with interrupts off, so a spinlock is always taken with
 * interrupts off; the idle loop releases the BKL before it enables them.
 */
#ifndef SCHED_LOCK_H
#define SCHED_LOCK_H
#include "types.h"

struct spinlock {
    volatile uint32_t locked;
    uint32_t owner;          /* CPU index + 1 while held, for assertions */
};

void kernel_lock(void);          /* interrupts off; spins, serving shootdowns */
void kernel_unlock(void);
bool kernel_lock_held(void);     /* by this CPU */

/*
 * The system call's own pair, inline (arch/x86_64/syscall.c): SYSCALL
 * arrives with interrupts off (FMASK clears IF) from user mode, where this
 * CPU cannot hold the lock, so kernel_lock's assertions are known true
 * there; an uncontended take is one exchange, anything else goes to
 * kernel_lock_spin (which asserts and spins as kernel_lock does).
 * kernel_lock_syscall_release is kernel_unlock for a CPU that knows it
 * holds the lock (taken above, or handed over with it at a switch).
 */
extern struct spinlock kernel_lk;
void kernel_lock_spin(uint32_t me);

static inline void kernel_lock_syscall(uint32_t cpu_index)
{
    if (__builtin_expect(__atomic_exchange_n(&kernel_lk.locked, 1, __ATOMIC_ACQUIRE), 0))
        kernel_lock_spin(cpu_index + 1);
    kernel_lk.owner = cpu_index + 1;
}

static inline void kernel_lock_syscall_release(void)
{
    kernel_lk.owner = 0;
    __atomic_store_n(&kernel_lk.locked, 0, __ATOMIC_RELEASE);
}
#endif
