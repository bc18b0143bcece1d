/*
 * Threads as capabilities. A process's ThreadSpawner and ThreadControl are
 * bound to that process (granted only when its parent asks, through
 * ProcessSpawner.spawn's `threads`); ThreadHandles are per thread.
 *   ThreadSpawner.spawn(entry, arg, stackTop, fsBase) -> (thread, id)
 *                                         the new thread gets its own ring
 *   ThreadHandle.join() -> value          releasing the handle detaches
 *   ThreadControl.exit(id, value)         end a thread of this process (id 0: the caller)
 *   ThreadControl.setFsBase(id, base)     its TLS block (id 0: the caller)
 * Every thread has its own ring, so the thread that submitted a call is the
 * one running it: id 0 names the caller itself.
 */
#include "objects.h"
#include "exit_wait.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "arch/x86_64/smp.h"
#include "ring/ring.h"
#include "thread_prof.h"

struct thread_handle {
    struct kobj obj;
    struct thread *t;          /* 0 once the thread has ended; its ->handle is us until then */
    struct exit_wait exit;     /* value: what ThreadControl.exit (or the process's exit) gave */
};

struct proc_bound {            /* ThreadSpawner and ThreadControl */
    struct kobj obj;
    struct process *p;         /* 0 once the process is gone */
};

/* The process a ThreadSpawner or ThreadControl serves, if the caller is that
 * process; 0 (answer CAP_ERR_DISCONNECTED) when it is gone or another one. */
static struct process *bound_caller(struct call_ctx *c)
{
    struct process *p = ((struct proc_bound *)c->obj)->p;
    return p == c->caller ? p : 0;
}

/* The thread is ending (alone, or with its process): tell its joiners. */
void thread_handle_ended(struct thread *t, uint64_t value)
{
    struct thread_handle *h = t->handle;
    if (!h)
        return;
    KASSERT(h->t == t);
    t->handle = 0;
    h->t = 0;
    exit_wait_done(&h->exit, value);
}

/* End thread t of process p with value; the last thread ends the process. */
static void end_thread(struct process *p, struct thread *t, uint64_t value)
{
    thread_handle_ended(t, value);
    tprof_mark(TP_TEXIT_REST);
    if (p->nthreads <= 1) {
        process_exit(p, (int64_t)value);           /* does not return for the current thread */
        return;
    }
    if (t == current_thread())
        thread_exit_current();
    thread_destroy(t);
}

/* ---- ThreadHandle ---- */

static int h_join(void *self, capos_ThreadHandle_join_Params_reader p, capos_ThreadHandle_join_Results_builder r)
{
    struct call_ctx *c = self;
    struct thread_handle *h = (struct thread_handle *)c->obj;
    uint64_t value;
    tprof_mark(TP_DECODE);
    int err = exit_wait_call(&h->exit, c, &value);
    tprof_mark(TP_JOIN);
    if (err == CAPNP_OK)
        capos_ThreadHandle_join_Results_set_value(r, value);
    return err;
}

static const capos_ThreadHandle_server h_server = { .join = h_join };
static int h_call(struct kobj *o, struct call_ctx *c) { return capos_ThreadHandle_dispatch(&h_server, c, &c->sc); }

static void h_destroy(struct kobj *o)
{
    struct thread_handle *h = (struct thread_handle *)o;
    if (h->t)
        h->t->handle = 0;                           /* detached */
    exit_wait_drop(&h->exit);
    kfree(h);
}

static const struct kobj_type handle_type = { "ThreadHandle", capos_ThreadHandle_ID, h_call, h_destroy };

/* ---- ThreadSpawner ---- */

static int s_spawn(void *self, capos_ThreadSpawner_spawn_Params_reader p, capos_ThreadSpawner_spawn_Results_builder r)
{
    struct call_ctx *c = self;
    struct process *proc = bound_caller(c);
    tprof_mark(TP_DECODE);
    if (!proc)
        return CAP_ERR_DISCONNECTED;
    uint64_t entry = capos_ThreadSpawner_spawn_Params_get_entry(p);
    uint64_t top = capos_ThreadSpawner_spawn_Params_get_stackTop(p);
    uint64_t fs = capos_ThreadSpawner_spawn_Params_get_fsBase(p);
    if (top % 16 || top < 4096 || !vm_translate(&proc->vm, entry, 0) ||
        !vm_translate(&proc->vm, top - 8, PTE_W) || fs >= USER_TOP)
        return CAP_ERR_INVALID_ARGUMENT;
    if (proc->nthreads >= PROC_MAX_THREADS)
        return CAP_ERR_OVERLOADED;
    struct thread_handle *h = kmalloc(sizeof *h);
    struct ring *ring = h ? ring_create(proc) : 0;
    tprof_mark(TP_SPAWN_RING);
    struct thread *t = ring ? thread_create(proc, entry, top - 8, ring->va, capos_ThreadSpawner_spawn_Params_get_arg(p), 0) : 0;
    if (!t) {
        if (ring)
            ring_free(proc, ring);
        kfree(h);
        return CAP_ERR_OVERLOADED;
    }
    tprof_mark(TP_SPAWN_THREAD);
    ring_bind(ring, t);                            /* before it runs: we hold the BKL */
    t->fs_base = fs;
    kobj_init(&h->obj, &handle_type);
    h->t = t;
    exit_wait_init(&h->exit);
    t->handle = h;
    capos_ThreadSpawner_spawn_Results_set_thread(r, ctx_result_cap(c, r.s, &h->obj));
    capos_ThreadSpawner_spawn_Results_set_id(r, t->tid);
    tprof_mark(TP_SPAWN_REST);
    tprof_round(TPP_SPAWN);
    return CAPNP_OK;
}

static const capos_ThreadSpawner_server s_server = { .spawn = s_spawn };
static int s_call(struct kobj *o, struct call_ctx *c) { return capos_ThreadSpawner_dispatch(&s_server, c, &c->sc); }

/* ---- ThreadControl ---- */

static int c_exit(void *self, capos_ThreadControl_exit_Params_reader p, capos_ThreadControl_exit_Results_builder r)
{
    struct call_ctx *c = self;
    struct process *proc = bound_caller(c);
    tprof_mark(TP_DECODE);
    if (!proc)
        return CAP_ERR_DISCONNECTED;
    uint32_t id = capos_ThreadControl_exit_Params_get_id(p);
    struct thread *t = id ? process_thread(proc, id) : current_thread();
    if (!t)
        return CAP_ERR_NOT_FOUND;
    end_thread(proc, t, capos_ThreadControl_exit_Params_get_value(p));
    return CAPNP_OK;                               /* another thread of ours ended */
}

static int c_set_fs(void *self, capos_ThreadControl_setFsBase_Params_reader p, capos_ThreadControl_setFsBase_Results_builder r)
{
    struct call_ctx *c = self;
    struct process *proc = bound_caller(c);
    if (!proc)
        return CAP_ERR_DISCONNECTED;
    uint32_t id = capos_ThreadControl_setFsBase_Params_get_id(p);
    struct thread *t = id ? process_thread(proc, id) : current_thread();
    uint64_t base = capos_ThreadControl_setFsBase_Params_get_base(p);
    if (!t)
        return CAP_ERR_NOT_FOUND;
    if (base >= USER_TOP)
        return CAP_ERR_INVALID_ARGUMENT;
    t->fs_base = base;
    if (t == current_thread()) {
        wrmsr(MSR_FS_BASE, base);
    } else if (t->state == T_RUNNING) {
        t->fs_base_set = true;             /* on another CPU: it loads it at its next kernel exit */
        smp_kick(t->cpu);
    }
    return CAPNP_OK;
}

static const capos_ThreadControl_server c_server = { .exit = c_exit, .setFsBase = c_set_fs };
static int c_call(struct kobj *o, struct call_ctx *c) { return capos_ThreadControl_dispatch(&c_server, c, &c->sc); }

static void bound_destroy(struct kobj *o)
{
    struct proc_bound *b = (struct proc_bound *)o;
    if (b->p) {
        if (b->p->thread_caps[0] == o)
            b->p->thread_caps[0] = 0;
        if (b->p->thread_caps[1] == o)
            b->p->thread_caps[1] = 0;
    }
    kfree(b);
}

static const struct kobj_type spawner_type = { "ThreadSpawner", capos_ThreadSpawner_ID, s_call, bound_destroy };
static const struct kobj_type control_type = { "ThreadControl", capos_ThreadControl_ID, c_call, bound_destroy };

/* Make p's ThreadSpawner (which = 0) or ThreadControl (1); p keeps a weak
 * pointer so its exit can unbind them. */
struct kobj *thread_cap_create(struct process *p, int which)
{
    if (which == 2) {
        struct kobj *o = park_space_create(p);
        if (o)
            p->thread_caps[2] = o;
        return o;
    }
    struct proc_bound *b = kmalloc(sizeof *b);
    if (!b)
        return 0;
    kobj_init(&b->obj, which ? &control_type : &spawner_type);
    b->p = p;
    p->thread_caps[which] = &b->obj;
    return &b->obj;
}

void thread_caps_unbind(struct process *p)
{
    for (int i = 0; i < 2; i++)
        if (p->thread_caps[i]) {
            ((struct proc_bound *)p->thread_caps[i])->p = 0;
            p->thread_caps[i] = 0;
        }
    if (p->thread_caps[2]) {
        park_space_unbind(p->thread_caps[2]);
        p->thread_caps[2] = 0;
    }
}
