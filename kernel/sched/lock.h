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
#endif
