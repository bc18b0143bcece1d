/*
 * Threads and the scheduler: round robin, preemptive, on every CPU.
 *
 * The kernel itself is not preemptible: it runs with interrupts off, except
 * in the idle loop. A thread gives up the CPU only by blocking (cap_enter
 * waiting for completions), by exiting, or when the timer tick finds its
 * quantum used up while others wait.
 *
 * SMP: each CPU has its own run queue (struct cpu: runq, nrun), its own idle
 * thread, current thread and quantum. The queues are guarded, like
 * everything here, by the big kernel lock (lock.h); what makes them per CPU
 * is who takes from them:
 *   - a CPU that schedules takes the head of its own queue (count.runs);
 *     when that is empty it steals the head of the longest other queue
 *     (count.steals), and only then runs its idle thread;
 *   - a thread made runnable goes to one CPU's tail (pick_cpu): its last
 *     CPU unless another is less loaded (load = queued threads + the one
 *     running, the idle thread counting 0), so a wake-up lands on an idle
 *     CPU when there is one; if that CPU is not this one and idles
 *     (halted, or about to halt), it gets a reschedule IPI (smp_kick);
 *   - a thread preempted or yielding goes back to its own CPU's tail;
 *   - sched_prefer_thread moves a thread to the head of this CPU's queue
 *     (the IPC hand-off);
 *   - thread_block_to (the endpoint fast path's direct switch) blocks the
 *     current thread and runs a T_BLOCKED one on this CPU at once, with
 *     no queue: a blocked thread is on none, and its context is saved
 *     (it blocked under the BKL, which passed to the thread it switched
 *     to), whichever CPU it last ran on.
 * Invariants (under the BKL): a thread is on a run queue iff it is
 * T_RUNNABLE, and then t->rq is that queue's CPU and counted in its nrun;
 * idle threads are never queued; a T_RUNNING thread is some CPU's current.
 * An idle CPU halts only after finding every queue empty with the BKL held,
 * and a wake-up IPI sent after that stays pending and ends the halt, so no
 * runnable thread waits for a halted CPU while another CPU idles.
 *
 * A thread running on another CPU cannot be freed under it: thread_destroy
 * marks it doomed, and it ends itself at its next kernel entry
 * (kernel_enter), which the IPI forces.
 */
#include "sched.h"
#include "cputime.h"
#include "process.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/lapic.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "dev/serial.h"
#include "cap/objects.h"
#include "arch/x86_64/smp.h"
#include "lock.h"
#include "ring/ring.h"
#include "c/string.h"
#include "ipc_prof.h"
#include "thread_prof.h"

#define KSTACK_SIZE  16384
#define QUANTUM_TICKS 10

/* Guarded by the BKL: the dead threads waiting to be freed, the threads
 * with a wait deadline, the thread ids (the run queues: struct cpu). */
static struct list dead = LIST_INIT(dead);
static struct list timeouts = LIST_INIT(timeouts);
static uint32_t next_tid = 1;

extern void switch_context(uint64_t *save_rsp, uint64_t new_rsp);
extern void thread_first_entry(void);

/* ---- the per-CPU run queues (all under the BKL) ---- */

static uint32_t cpu_load(const struct cpu *c)
{
    return c->nrun + (c->current != c->idle);
}

/* Where a thread made runnable should wait: its last CPU, unless another
 * online CPU carries less load (ties keep the last CPU: its caches). The
 * CPUs online are cpus[0 .. ncpus-1] (smp.c starts them in that order). */
static struct cpu *pick_cpu(struct thread *t)
{
    struct cpu *best = t->cpu && t->cpu->online ? t->cpu : this_cpu();
    uint32_t best_load = cpu_load(best);
    for (uint32_t i = 0; i < ncpus && best_load; i++) {     /* the online CPUs: cpus[0 .. ncpus) */
        struct cpu *c = &cpus[i];
        if (c->online && cpu_load(c) < best_load) {
            best = c;
            best_load = cpu_load(c);
        }
    }
    return best;
}

/* Queue t on c: at the tail, or at the head (front: the next to run). */
static void runq_add(struct cpu *c, struct thread *t, bool front)
{
    t->state = T_RUNNABLE;
    t->rq = c;
    c->nrun++;
    list_add_tail(front ? c->runq.next : &c->runq, &t->run_link);
}

static void runq_del(struct thread *t)
{
    if (t->rq) {
        KASSERT(t->rq->nrun > 0);
        t->rq->nrun--;
        t->rq = 0;
    }
    list_del(&t->run_link);
}

/* Make t runnable on the CPU pick_cpu chooses; an idle CPU other than this
 * one gets a reschedule IPI (a busy one finds t at its next schedule). */
static void make_runnable(struct thread *t)
{
    struct cpu *c = pick_cpu(t);
    bool was_idle = c->current == c->idle;
    runq_add(c, t, false);
    if (was_idle && c != this_cpu())
        smp_kick(c);
}

/* The CPU with the most threads waiting, other than me (0 when none waits). */
static struct cpu *busiest_other(const struct cpu *me)
{
    struct cpu *best = 0;
    for (uint32_t i = 0; i < ncpus; i++) {
        struct cpu *c = &cpus[i];
        if (c != me && c->online && c->nrun && (!best || c->nrun > best->nrun))
            best = c;
    }
    return best;
}

/* The next thread for c: its own queue's head, else a stolen one, else 0. */
static struct thread *runq_take(struct cpu *c)
{
    struct cpu *from = c;
    if (!c->nrun && !(from = busiest_other(c)))
        return 0;
    struct thread *t = container_of(from->runq.next, struct thread, run_link);
    runq_del(t);
    if (from == c)
        c->count.runs++;
    else
        c->count.steals++;
    return t;
}

static bool work_waiting(const struct cpu *c)
{
    return c->nrun || busiest_other(c);
}

struct thread *current_thread(void) { return this_cpu()->current; }
struct process *current_process(void)
{
    struct thread *t = this_cpu()->current;
    return t ? t->proc : 0;
}

/* A kernel stack for a thread of p: one its ended threads left, or a new
 * one. A kernel stack is never seen by user space, and thread_create writes
 * the frame its thread starts from, so a reused one needs no clearing. */
static void *kstack_get(struct process *p)
{
    return p && p->nkstack_spare ? p->kstack_spare[--p->nkstack_spare] : kmalloc(KSTACK_SIZE);
}

/* t's kernel stack, which no CPU runs on any more: kept for p's next thread
 * while p lives, else freed. */
static void kstack_put(struct process *p, void *kstack)
{
    if (p && !p->exiting && p->nkstack_spare < PROC_KSTACK_SPARES)
        p->kstack_spare[p->nkstack_spare++] = kstack;
    else
        kfree(kstack);
}

void kstack_spares_drop(struct process *p)
{
    while (p->nkstack_spare)
        kfree(p->kstack_spare[--p->nkstack_spare]);
}

/* Free the dead threads. Binds on: a dead thread is on no CPU once the BKL
 * is released (it left through schedule() with the lock held), so only this
 * CPU's own current can still be on its stack. */
static void reap(void)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &dead) {
        struct thread *t = container_of(n, struct thread, run_link);
        if (t == this_cpu()->current)
            continue;
        list_del(&t->run_link);
        struct process *p = t->proc;
        fpu_free(t->fpu);
        kstack_put(p, t->kstack);
        kfree(t);
        if (p) {
            p->nunreaped--;
            process_free_if_done(p);
        }
    }
}

void kernel_enter(void)
{
    kernel_lock();
    struct thread *t = this_cpu()->current;
    if (t->doomed)
        thread_exit_current();
}

void kernel_exit(void)
{
    struct thread *t = this_cpu()->current;
    if (t->fs_base_set) {
        t->fs_base_set = false;
        wrmsr(MSR_FS_BASE, t->fs_base);
    }
    ipc_prof_mark(IPC_EXIT);
    tprof_mark(TP_EXIT);
    kernel_unlock();
}

/* Called on a new thread's first run, before it enters user mode. */
void thread_started(void)
{
    tprof_mark(TP_SWITCH);
    reap();
    tprof_mark(TP_REAP);
    cputime_leave_to_user();
    kernel_exit();
}

struct thread *thread_create(struct process *p, uint64_t entry, uint64_t rsp,
                             uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct thread *t = kmalloc(sizeof *t);
    if (!t)
        return 0;
    t->kstack = kstack_get(p);
    if (!t->kstack) {
        kfree(t);
        return 0;
    }
    t->tid = next_tid++;
    t->proc = p;
    t->rq = 0;
    t->doomed = false;
    t->fs_base_set = false;
    t->ring = 0;
    t->park = 0;
    t->kstack_top = ((uint64_t)t->kstack + KSTACK_SIZE) & ~15ull;
    t->wait_deadline = ~0ull;
    list_init(&t->run_link);
    list_init(&t->timeout_link);
    list_init(&t->proc_link);
    if (p && !(t->fpu = fpu_alloc())) {
        kstack_put(p, t->kstack);
        kfree(t);
        return 0;
    }

    struct trap_frame *f = (struct trap_frame *)(t->kstack_top - sizeof *f);
    memset(f, 0, sizeof *f);
    f->rip = entry;
    f->cs = USER_CS;
    f->rflags = 0x202;          /* IF */
    f->rsp = rsp;
    f->ss = USER_DS;
    f->rdi = a0;
    f->rsi = a1;
    f->rdx = a2;
    f->rcx = t->tid;
    uint64_t *sp = (uint64_t *)f;
    *--sp = (uint64_t)thread_first_entry;
    for (int i = 0; i < 6; i++)
        *--sp = 0;              /* rbp rbx r12 r13 r14 r15 */
    t->saved_rsp = (uint64_t)sp;

    if (p) {
        list_add_tail(&p->threads, &t->proc_link);
        p->nthreads++;
    }
    t->cpu = this_cpu();
    make_runnable(t);
    return t;
}

void thread_destroy(struct thread *t)
{
    KASSERT(t != this_cpu()->current && !t->doomed);
    ring_thread_gone(t);
    runq_del(t);
    list_del(&t->timeout_link);
    list_del(&t->proc_link);
    if (t->proc)
        t->proc->nthreads--;
    if (t->state == T_RUNNING) {
        /* the current thread of another CPU: it frees itself (kernel_enter) */
        t->doomed = true;
        if (t->proc)
            t->proc->nunreaped++;
        smp_kick(t->cpu);
        return;
    }
    fpu_free(t->fpu);
    kstack_put(t->proc, t->kstack);
    kfree(t);
}

static void switch_to(struct thread *next)
{
    struct cpu *c = this_cpu();
    struct thread *prev = c->current;
    if (next == prev) {
        prev->state = T_RUNNING;
        return;
    }
    cputime_switch_from(&c->time, prev->proc ? &prev->proc->kernel_tsc : 0);
    ipc_prof_mark(IPC_SCHED);
    tprof_mark(TP_SCHED);
    if (prev->proc && prev->state != T_DEAD) {
        fpu_save(prev->fpu);
        if (!prev->fs_base_set)
            prev->fs_base = rdmsr(MSR_FS_BASE);
        prev->fs_base_set = false;
    }
    if (next->proc) {
        fpu_restore(next->fpu);
        wrmsr(MSR_FS_BASE, next->fs_base);
        vm_activate(&next->proc->vm);
    }
    next->state = T_RUNNING;
    next->cpu = c;
    c->current = next;
    c->kstack_top = next->kstack_top;
    tss_set_kernel_stack(next->kstack_top);
    c->quantum = QUANTUM_TICKS;
    c->count.switches++;
    switch_context(&prev->saved_rsp, next->saved_rsp);
    ipc_prof_mark(IPC_SWITCH);
    tprof_mark(TP_SWITCH);
    if (!list_empty(&dead))               /* most switches find nothing to free */
        reap();
    tprof_mark(TP_REAP);
}

/* Binds on: the BKL, interrupts off. */
void schedule(void)
{
    KASSERT(!interrupts_enabled() && kernel_lock_held());
    ipc_prof_mark(IPC_WAIT);
    tprof_mark(TP_WAIT);
    struct cpu *c = this_cpu();
    struct thread *cur = c->current;
    if (cur->state == T_RUNNING && cur != c->idle)
        runq_add(c, cur, false);
    struct thread *next = runq_take(c);
    switch_to(next ? next : c->idle);
}

void thread_block(void)
{
    struct cpu *c = this_cpu();
    KASSERT(c->current != c->idle);     /* idle must always be runnable */
    c->current->state = T_BLOCKED;
    schedule();
}

void thread_wake(struct thread *t)
{
    if (t->state != T_BLOCKED)
        return;
    thread_clear_timeout(t);
    make_runnable(t);
}

void thread_wake_handoff(struct thread *t)
{
    if (t->state != T_BLOCKED)
        return;
    thread_clear_timeout(t);
    runq_add(this_cpu(), t, true);
}

void thread_block_to(struct thread *next)
{
    struct cpu *c = this_cpu();
    struct thread *cur = c->current;
    KASSERT(cur != c->idle && next != cur && next->proc);
    cur->state = T_BLOCKED;
    if (unlikely(next->state != T_BLOCKED)) {
        schedule();
        return;
    }
    ipc_prof_mark(IPC_WAIT);
    thread_clear_timeout(next);           /* what thread_wake would do; it is on no run queue */
    switch_to(next);
}

void sched_prefer_thread(struct thread *t)
{
    if (t && t->state == T_RUNNABLE) {
        runq_del(t);
        runq_add(this_cpu(), t, true);
    }
}

void thread_exit_current(void)
{
    struct thread *t = this_cpu()->current;
    if (!t->doomed) {                  /* a doomed one is unlinked and counted already */
        ring_thread_gone(t);
        tprof_mark(TP_TEXIT_RING);
        list_del(&t->timeout_link);
        list_del(&t->proc_link);
        if (t->proc) {
            t->proc->nthreads--;
            t->proc->nunreaped++;
        }
    }
    t->state = T_DEAD;
    list_add_tail(&dead, &t->run_link);
    schedule();
    panic("dead thread resumed");
}

void thread_set_timeout(struct thread *t, uint64_t deadline)
{
    t->wait_deadline = deadline;
    list_del(&t->timeout_link);
    if (deadline != ~0ull)
        list_add_tail(&timeouts, &t->timeout_link);
}

void thread_clear_timeout(struct thread *t)
{
    t->wait_deadline = ~0ull;
    list_del(&t->timeout_link);
}

/* Binds on: the BKL. The clock's work (input, timers, parked and waiting
 * threads) is done by whichever CPU ticks: the lists are global under the
 * BKL, so a deadline fires at the first tick of any CPU past it, whichever
 * CPU armed it (a halted CPU's LAPIC timer still ticks). Every CPU counts
 * its own quantum. */
void sched_tick(void)
{
    struct cpu *c = this_cpu();
    struct thread *cur = c->current;
    c->count.ticks++;
    if (cur != c->idle)
        c->count.busy_ticks++;
    if (serial_poll())
        console_input_ready();
    uint64_t now = time_now_ns();
    timer_expire(now);
    park_expire(now);
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &timeouts) {
        struct thread *t = container_of(n, struct thread, timeout_link);
        if (t->wait_deadline <= now)
            thread_wake(t);
    }
    if (cur == c->idle) {
        if (work_waiting(c))
            schedule();
    } else {
        if (c->quantum)
            c->quantum--;
        if (c->quantum == 0 && c->nrun)   /* used up: the next waiter here runs */
            schedule();
    }
}

/* Holds the BKL except while halted: a wake-up IPI between the release and
 * the halt stays pending (interrupts are off) and ends the halt at once. */
static void idle_loop(void)
{
    for (;;) {
        if (work_waiting(this_cpu()))
            schedule();
        cputime_halt();                  /* under the BKL: the accounts (cputime.c) */
        kernel_unlock();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        kernel_lock();
        cputime_woken();
    }
}

void sched_init(void)
{
    smp_init_boot_cpu();
    sched_prepare_cpu(&cpus[0]);
}

void sched_prepare_cpu(struct cpu *c)
{
    struct thread *idle = kmalloc(sizeof *idle);
    if (!idle)
        panic("sched: no memory for an idle thread");
    memset(idle, 0, sizeof *idle);
    if (!(idle->kstack = kmalloc(KSTACK_SIZE)))
        panic("sched: no memory for an idle thread");
    idle->kstack_top = ((uint64_t)idle->kstack + KSTACK_SIZE) & ~15ull;
    list_init(&idle->run_link);
    list_init(&idle->timeout_link);
    list_init(&idle->proc_link);
    idle->state = T_RUNNING;
    idle->cpu = c;
    c->idle = idle;
    cputime_init(c);
    list_init(&c->runq);
    c->nrun = 0;
}

/* Become this CPU's idle thread: switch to its own stack through a synthetic
 * context, so the boot stack is never reused. Binds on: the BKL is held. */
void sched_start_cpu(struct cpu *c)
{
    struct thread *idle = c->idle;
    uint64_t *sp = (uint64_t *)idle->kstack_top;
    *--sp = 0;
    *--sp = (uint64_t)idle_loop;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    idle->saved_rsp = (uint64_t)sp;
    static struct thread boot[MAX_CPUS];
    boot[c->index].state = T_DEAD;   /* never resumed, never reaped (not on the dead list) */
    c->current = &boot[c->index];
    switch_to(idle);
    panic("boot context resumed");
}

void sched_start(void)
{
    sched_start_cpu(this_cpu());
}
