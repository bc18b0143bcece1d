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

/* Runs under the BKL from kernel_enter to kernel_exit (sched/lock.h). */
void syscall_dispatch(struct trap_frame *f)
{
    kernel_enter();
    ipc_prof_mark(IPC_USER);
    tprof_mark(TP_USER);
    this_cpu()->count.syscalls++;
    struct process *p = current_process();
    cputime_enter_kernel();
    switch (f->rax) {
    case SYS_CAP_ENTER:
        f->rax = (uint64_t)ring_enter(p, (uint32_t)f->rdi, f->rsi, f->rdx);
        break;
    case SYS_EXIT:
        process_exit(p, (int64_t)f->rdi);
        break;   /* not reached */
    default:
        f->rax = (uint64_t)(int64_t)CAP_ERR_INVALID_REQUEST;
        break;
    }
    cputime_leave_to_user();
    kernel_exit();
}
