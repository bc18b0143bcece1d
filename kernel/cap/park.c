/*
 * ParkSpace: futex-style sleeping for the threads of one process.
 *   wait(addr, expected, timeoutNs, thread) -> result
 *                        parks the calling thread; `thread` is 0 or its own id
 *   wake(addr, count) -> woken
 * The word is read through the process's page tables at the moment the
 * call is processed, and calls are processed in ring order, so a wake that
 * follows a store to the word can never be lost: either the wait sees the new
 * value (mismatch) or the wake finds the waiter. Each thread processes its
 * own ring, so the parked thread is the one that submitted the wait: it
 * blocks in cap_enter (ring.c) until the wait resolves, and the completion
 * goes to its own CQ. A dying thread or process takes its waits with it.
 */
#include "objects.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "arch/x86_64/lapic.h"
#include "thread_prof.h"

struct park_space {
    struct kobj obj;
    struct process *p;                 /* 0 once the process is gone */
};

static struct list parked = LIST_INIT(parked);   /* every waiting thread, all processes */

/* Complete a wait: the thread may leave cap_enter. */
static void resolve(struct pending *pd, uint16_t result)
{
    KASSERT(pd->kind == PENDING_PARK);
    struct thread *t = pd->park.thread;
    KASSERT(t->park == pd);
    t->park = 0;
    thread_wake(t);
    uint8_t buf[32];
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, sizeof buf);
    capos_ParkSpace_wait_Results_set_result(capos_ParkSpace_wait_Results_init_root(&b), result);
    capnp_builder_finish(&b, &len);
    pending_complete(pd, 0, buf, (uint32_t)len);
}

void park_expire(uint64_t now)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &parked) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (pd->park.deadline_ns <= now)
            resolve(pd, capos_ParkResult_timedOut);
    }
}

/* The thread or its process is going away: pending_cancel unlinks pd. */
void park_cancel(struct pending *pd)
{
    KASSERT(pd->kind == PENDING_PARK && pd->park.thread->park == pd);
    pd->park.thread->park = 0;
}

void park_thread_gone(struct thread *t)
{
    if (t->park)
        pending_cancel(t->park);
}

static int p_wait(void *self, capos_ParkSpace_wait_Params_reader prm, capos_ParkSpace_wait_Results_builder r)
{
    struct call_ctx *c = self;
    struct park_space *ps = (struct park_space *)c->obj;
    tprof_mark(TP_DECODE);
    if (ps->p != c->caller)
        return CAP_ERR_DISCONNECTED;       /* its process is gone (0), or the caller is another */
    uint64_t addr = capos_ParkSpace_wait_Params_get_addr(prm);
    paddr_t pa = addr % 4 ? 0 : vm_translate(&ps->p->vm, addr, 0);
    struct thread *t = current_thread();   /* the submitter: only it can be parked */
    uint32_t named = capos_ParkSpace_wait_Params_get_thread(prm);
    if (named && named != t->tid)
        return CAP_ERR_WRONG_THREAD;       /* another thread, live or ended: refused */
    if (!pa || t->park)
        return CAP_ERR_INVALID_ARGUMENT;   /* unmapped or misaligned word, already parked */
    if (*(volatile uint32_t *)phys_to_virt(pa) != capos_ParkSpace_wait_Params_get_expected(prm)) {
        capos_ParkSpace_wait_Results_set_result(r, capos_ParkResult_mismatch);
        return CAPNP_OK;
    }
    struct pending *pd = pending_new(c, PENDING_PARK);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    uint64_t timeout = capos_ParkSpace_wait_Params_get_timeoutNs(prm);
    pd->park.addr = addr;
    pd->park.deadline_ns = timeout ? time_now_ns() + timeout : ~0ull;
    pd->park.thread = t;
    pd->park.space = ps;
    t->park = pd;
    list_add_tail(&parked, &pd->wait_link);
    tprof_mark(TP_PARK_WAIT);
    return CALL_PENDING;
}

static int p_wake(void *self, capos_ParkSpace_wake_Params_reader prm, capos_ParkSpace_wake_Results_builder r)
{
    struct call_ctx *c = self;
    struct park_space *ps = (struct park_space *)c->obj;
    tprof_mark(TP_DECODE);
    if (ps->p != c->caller)
        return CAP_ERR_DISCONNECTED;       /* its process is gone (0), or the caller is another */
    uint64_t addr = capos_ParkSpace_wake_Params_get_addr(prm);
    uint32_t count = capos_ParkSpace_wake_Params_get_count(prm), woken = 0;
    if (addr % 4 || !vm_translate(&ps->p->vm, addr, 0))
        return CAP_ERR_INVALID_ARGUMENT;
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &parked) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (woken < count && pd->park.addr == addr && pd->park.space == ps) {
            tprof_mark(TP_WAKE_FIND);
            resolve(pd, capos_ParkResult_woken);
            tprof_mark(TP_WAKE_RESOLVE);
            woken++;
        }
    }
    capos_ParkSpace_wake_Results_set_woken(r, woken);
    tprof_mark(TP_WAKE_FIND);
    tprof_round(TPP_PARK);
    return CAPNP_OK;
}

static const capos_ParkSpace_server server = { .wait = p_wait, .wake = p_wake };
static int p_call(struct kobj *o, struct call_ctx *c) { return capos_ParkSpace_dispatch(&server, c, &c->sc); }

static void p_destroy(struct kobj *o)
{
    struct park_space *ps = (struct park_space *)o;
    if (ps->p && ps->p->thread_caps[2] == o)
        ps->p->thread_caps[2] = 0;
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &parked) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (pd->park.space == ps)
            resolve(pd, capos_ParkResult_woken);       /* nobody can wake them any more */
    }
    kfree(ps);
}

static const struct kobj_type park_type = { "ParkSpace", capos_ParkSpace_ID, p_call, p_destroy };

struct kobj *park_space_create(struct process *p)
{
    struct park_space *ps = kmalloc(sizeof *ps);
    if (!ps)
        return 0;
    kobj_init(&ps->obj, &park_type);
    ps->p = p;
    return &ps->obj;
}

void park_space_unbind(struct kobj *o)
{
    ((struct park_space *)o)->p = 0;
}
