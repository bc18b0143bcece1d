#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H
#include "types.h"
#include "list.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/percpu.h"

enum thread_state { T_RUNNABLE, T_RUNNING, T_BLOCKED, T_DEAD };

struct thread {
    uint32_t tid;
    struct process *proc;      /* 0 for the idle thread */
    enum thread_state state;
    void *kstack;
    uint64_t kstack_top;
    uint64_t saved_rsp;
    uint64_t fs_base;
    struct list run_link;      /* run queue, or the dead list */
    struct list proc_link;
    /* waiting in cap_enter */
    struct thread_handle *handle;   /* its joinable end, if any */
    struct pending *park;           /* its ParkSpace wait, while parked */
    struct ring *ring;              /* its own ring (ring/ring.h); 0 for idle threads */
    uint32_t wait_min;
    uint64_t wait_deadline;    /* ns; ~0 = none */
    struct list timeout_link;
    struct fpu_state *fpu;         /* user threads only */
    struct cpu *cpu;               /* where it runs (T_RUNNING) or last ran */
    struct cpu *rq;                /* whose run queue holds it (T_RUNNABLE), else 0 */
    bool fs_base_set;              /* fs_base was set while it ran on another CPU */
    bool doomed;                   /* destroyed while running on another CPU: it
                                      leaves at its next kernel entry (already
                                      unlinked from its process and counted out) */
};

void sched_init(void);
void sched_prepare_cpu(struct cpu *c);     /* its idle thread, before it starts */
void sched_start_cpu(struct cpu *c) __attribute__((noreturn));
/* Kernel entry and exit from user mode (system calls, interrupts, faults):
 * take and release the BKL; entry ends a doomed thread. */
void kernel_enter(void);
void kernel_exit(void);
/* A new runnable thread entering user mode at entry with rdi, rsi, rdx =
 * a0, a1, a2 and rcx = its own id. */
struct thread *thread_create(struct process *p, uint64_t entry, uint64_t rsp,
                             uint64_t a0, uint64_t a1, uint64_t a2);
void thread_destroy(struct thread *t);     /* t must not be running */
/* Free the kernel stacks p keeps for its next threads (process_exit). */
void kstack_spares_drop(struct process *p);
void sched_start(void) __attribute__((noreturn));
void schedule(void);                       /* give up the CPU; returns when chosen again */
void thread_block(void);                   /* current thread sleeps until thread_wake */
void thread_wake(struct thread *t);
/* Move t, if it is runnable (0: nothing), to the front of this CPU's run
 * queue (from whichever queue held it): the next thread to run when the
 * current one blocks (the direct IPC hand-off: the thread an endpoint call
 * or its answer just woke). */
void sched_prefer_thread(struct thread *t);
/* thread_wake, straight to the head of this CPU's run queue (the IPC
 * hand-off: what thread_wake and then sched_prefer_thread would leave,
 * without choosing a CPU first). */
void thread_wake_handoff(struct thread *t);
/* The direct switch (the endpoint fast path, ring_enter_ipc): the current
 * thread blocks and next, a thread still T_BLOCKED whose wait the caller
 * has just satisfied, runs at once on this CPU, without a run queue's
 * round. If next is not blocked any more (someone else woke it), this is
 * thread_block. Returns when the current thread is woken and chosen again. */
void thread_block_to(struct thread *next);
void thread_exit_current(void) __attribute__((noreturn));
void sched_tick(void);
/* Wake t at deadline (ns) unless woken earlier. */
void thread_set_timeout(struct thread *t, uint64_t deadline);
void thread_clear_timeout(struct thread *t);

struct thread *current_thread(void);
struct process *current_process(void);
#endif
