/*
 * The two system calls. Everything else goes through the ring.
 */
#include "trap.h"
#include "cpu.h"
#include "capos/abi.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "sched/cputime.h"
#include "ring/ring.h"
#include "sched/lock.h"
#include "arch/x86_64/percpu.h"
#include "ipc_prof.h"
#include "thread_prof.h"

extern void syscall_entry(void);

void syscall_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);                    /* SCE */
    wrmsr(MSR_STAR, ((uint64_t)(0x18 | 3) << 48) | ((uint64_t)0x08 << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_FMASK, 0x47700);                               /* TF IF DF IOPL AC NT */
}

/*
 * Runs under the BKL from its first line to its last (sched/lock.h). This
 * is kernel_enter / kernel_exit with the cputime accounts' transitions,
 * inline and without what is known here: SYSCALL comes from user mode with
 * interrupts off, so the lock is not ours and the account is the user's
 * (lock.h, cputime.h). The thread that returns is the one that entered (we
 * are on its kernel stack), but maybe on another CPU: anything per CPU is
 * read again after the call.
 */
void syscall_dispatch(struct trap_frame *f)
{
    struct cpu *c = this_cpu();
    kernel_lock_syscall(c->index);
    struct thread *t = c->current;
    if (unlikely(t->doomed))
        thread_exit_current();
    ipc_prof_mark(IPC_USER);
    struct process *p = t->proc;
    cputime_syscall_enter(&c->time, &p->user_tsc);
    c->count.syscalls++;
    tprof_mark(TP_USER);
    switch (f->rax) {
    case SYS_CAP_ENTER: {
        int64_t used;
        if (unlikely(t->park) || !ring_enter_nops(t->ring, (uint32_t)f->rdi, f->rsi, f->rdx, &used))
            used = ring_enter(t, (uint32_t)f->rdi, f->rsi, f->rdx);
        f->rax = (uint64_t)used;
        break;
    }
    case SYS_EXIT:
        process_exit(p, (int64_t)f->rdi);
        break;   /* not reached */
    default:
        f->rax = (uint64_t)(int64_t)CAP_ERR_INVALID_REQUEST;
        break;
    }
    c = this_cpu();
    cputime_syscall_leave(&c->time, &p->kernel_tsc);
    if (unlikely(t->fs_base_set)) {
        t->fs_base_set = false;
        wrmsr(MSR_FS_BASE, t->fs_base);
    }
    ipc_prof_mark(IPC_EXIT);
    kernel_lock_syscall_release();
}
