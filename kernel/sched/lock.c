/*
 * The big kernel lock (lock.h). A test-and-test-and-set spinlock; the kernel
 * runs with interrupts off, so it is always held with interrupts off. While
 * it spins, a CPU serves TLB shootdown requests: the CPU holding the lock
 * may be waiting for exactly that (smp.c), and this CPU cannot take the
 * shootdown IPI with interrupts off.
 *
 * The lock belongs to the CPU, not to a thread: a thread that blocks in the
 * kernel hands the held lock to the thread switch_context resumes, which
 * releases it on its own way out (xv6's ptable lock across swtch).
 */
#include "lock.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/smp.h"

/* kernel_lock guards: everything the kernel owns (lock.h). Order: 1, the
 * only one. Touched only here and by lock.h's inline system-call pair. */
struct spinlock kernel_lk;

/* Spin until the lock is ours (the caller sets the owner). */
void kernel_lock_spin(uint32_t me)
{
    KASSERT(!interrupts_enabled());
    KASSERT(kernel_lk.owner != me);           /* not recursive */
    while (__atomic_exchange_n(&kernel_lk.locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&kernel_lk.locked, __ATOMIC_RELAXED)) {
            smp_serve_requests();
            pause();
        }
    }
}

void kernel_lock(void)
{
    KASSERT(!interrupts_enabled());
    uint32_t me = this_cpu()->index + 1;
    KASSERT(kernel_lk.owner != me);           /* not recursive */
    kernel_lock_spin(me);
    kernel_lk.owner = me;
}

void kernel_unlock(void)
{
    KASSERT(kernel_lock_held());
    kernel_lk.owner = 0;
    __atomic_store_n(&kernel_lk.locked, 0, __ATOMIC_RELEASE);
}

bool kernel_lock_held(void)
{
    return kernel_lk.locked && kernel_lk.owner == this_cpu()->index + 1;
}
