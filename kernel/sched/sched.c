/*
 * Threads and the scheduler: one CPU, round robin, preemptive.
 *
 * The kernel itself is not preemptible: it runs with interrupts off, except
 * in the idle loop. A thread gives up the CPU only by blocking (cap_enter
 * waiting for completions), by exiting, or when the timer tick finds its
 * quantum used up while others wait.
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
#include "c/string.h"

#define KSTACK_SIZE  16384
#define QUANTUM_TICKS 10

static struct cpu cpu0;
static struct list runq = LIST_INIT(runq);
static struct list dead = LIST_INIT(dead);
static struct list timeouts = LIST_INIT(timeouts);
static struct thread *idle;
static uint32_t next_tid = 1;
static uint32_t quantum;

extern void switch_context(uint64_t *save_rsp, uint64_t new_rsp);
extern void thread_first_entry(void);

struct thread *current_thread(void) { return cpu0.current; }
struct process *current_process(void) { return cpu0.current ? cpu0.current->proc : 0; }

static void reap(void)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &dead) {
        struct thread *t = container_of(n, struct thread, run_link);
        if (t == cpu0.current)
            continue;
        list_del(&t->run_link);
        struct process *p = t->proc;
        fpu_free(t->fpu);
        kfree(t->kstack);
        kfree(t);
        if (p && p->nthreads == 0 && p->exiting)
            kfree(p);
    }
}

/* Called on a new thread's first run, before it enters user mode. */
void thread_started(void)
{
    reap();
    cputime_leave_to_user();
}

struct thread *thread_create(struct process *p, uint64_t entry, uint64_t rsp,
                             uint64_t a0, uint64_t a1, uint64_t a2)
{
    struct thread *t = kmalloc(sizeof *t);
    if (!t)
        return 0;
    t->kstack = kmalloc(KSTACK_SIZE);
    if (!t->kstack) {
        kfree(t);
        return 0;
    }
    t->tid = next_tid++;
    t->proc = p;
    t->kstack_top = ((uint64_t)t->kstack + KSTACK_SIZE) & ~15ull;
    t->wait_deadline = ~0ull;
    list_init(&t->run_link);
    list_init(&t->timeout_link);
    list_init(&t->proc_link);
    if (p && !(t->fpu = fpu_alloc())) {
        kfree(t->kstack);
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
    t->state = T_RUNNABLE;
    list_add_tail(&runq, &t->run_link);
    return t;
}

void thread_destroy(struct thread *t)
{
    KASSERT(t != cpu0.current);
    park_thread_gone(t);
    list_del(&t->run_link);
    list_del(&t->timeout_link);
    list_del(&t->proc_link);
    if (t->proc)
        t->proc->nthreads--;
    fpu_free(t->fpu);
    kfree(t->kstack);
    kfree(t);
}

static void switch_to(struct thread *next)
{
    struct thread *prev = cpu0.current;
    if (next == prev) {
        prev->state = T_RUNNING;
        return;
    }
    cputime_switch();
    if (prev->proc && prev->state != T_DEAD) {
        fpu_save(prev->fpu);
        prev->fs_base = rdmsr(MSR_FS_BASE);
    }
    if (next->proc) {
        fpu_restore(next->fpu);
        wrmsr(MSR_FS_BASE, next->fs_base);
        vm_activate(&next->proc->vm);
    }
    next->state = T_RUNNING;
    cpu0.current = next;
    cpu0.kstack_top = next->kstack_top;
    tss_set_kernel_stack(next->kstack_top);
    quantum = QUANTUM_TICKS;
    switch_context(&prev->saved_rsp, next->saved_rsp);
    reap();
}

/* Binds on: interrupts off (run queue, dead list and cpu0 have no lock). */
void schedule(void)
{
    KASSERT(!interrupts_enabled());
    struct thread *cur = cpu0.current;
    if (cur->state == T_RUNNING && cur != idle) {
        cur->state = T_RUNNABLE;
        list_add_tail(&runq, &cur->run_link);
    }
    struct list *n = list_pop(&runq);
    switch_to(n ? container_of(n, struct thread, run_link) : idle);
}

void thread_block(void)
{
    KASSERT(cpu0.current != idle);     /* idle must always be runnable */
    cpu0.current->state = T_BLOCKED;
    schedule();
}

void thread_wake(struct thread *t)
{
    if (t->state != T_BLOCKED)
        return;
    thread_clear_timeout(t);
    t->state = T_RUNNABLE;
    list_add_tail(&runq, &t->run_link);
}

void sched_prefer_process(struct process *p)
{
    for (struct list *n = p->threads.next; n != &p->threads; n = n->next) {
        struct thread *t = container_of(n, struct thread, proc_link);
        if (t->state == T_RUNNABLE && t != cpu0.current) {
            list_del(&t->run_link);
            list_add_tail(runq.next, &t->run_link);   /* insert before the first entry */
            return;
        }
    }
}

void thread_exit_current(void)
{
    struct thread *t = cpu0.current;
    park_thread_gone(t);
    list_del(&t->timeout_link);
    list_del(&t->proc_link);
    if (t->proc)
        t->proc->nthreads--;
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

void sched_tick(void)
{
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
    struct thread *cur = cpu0.current;
    if (cur == idle) {
        if (!list_empty(&runq))
            schedule();
    } else {
        if (quantum)
            quantum--;
        if (quantum == 0 && !list_empty(&runq))   /* used up: the next waiter runs */
            schedule();
    }
}

static void idle_loop(void)
{
    for (;;) {
        if (!list_empty(&runq))
            schedule();
        cputime_halt();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        cputime_woken();
    }
}

void sched_init(void)
{
    cpu0.self = &cpu0;
    wrmsr(MSR_GS_BASE, (uint64_t)&cpu0);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    idle = kmalloc(sizeof *idle);
    idle->kstack = kmalloc(KSTACK_SIZE);
    idle->kstack_top = ((uint64_t)idle->kstack + KSTACK_SIZE) & ~15ull;
    list_init(&idle->run_link);
    list_init(&idle->timeout_link);
    list_init(&idle->proc_link);
    idle->state = T_RUNNING;
    cputime_init();
}

void sched_start(void)
{
    /* Become the idle thread on the boot stack... then switch to idle's own
     * stack through a synthetic context so the boot stack is never reused. */
    uint64_t *sp = (uint64_t *)idle->kstack_top;
    *--sp = 0;
    *--sp = (uint64_t)idle_loop;
    for (int i = 0; i < 6; i++)
        *--sp = 0;
    idle->saved_rsp = (uint64_t)sp;
    static struct thread boot;
    boot.state = T_DEAD;       /* never resumed, never reaped (not on the dead list) */
    cpu0.current = &boot;
    switch_to(idle);
    panic("boot context resumed");
}
