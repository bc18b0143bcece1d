/*
 * ParkSpace: futex-style sleeping for the threads of one process.
 *   wait(addr, expected, timeoutNs, thread) -> result
 *                        parks the calling thread; `thread` is 0 or its own id
 *   wake(addr, count) -> woken
 * The word is read through the process's page tables at the moment the
 * call is processed, and calls are processed in ring order, so a wake that
 * follows a store to the word can never be lost: either the wait sees the new
 * value (mismatch) or the wake finds the waiter. On several CPUs the same
 * holds because a wait's check and its parking, and every wake, happen under
 * the BKL (sched/lock.h), and the waker's store precedes its wake's system
 * call. Each thread processes its own ring, so the parked thread is the one
 * that submitted the wait: it blocks in cap_enter (ring.c) until the wait
 * resolves, and the completion goes to its own CQ. A dying thread or
 * process takes its waits with it.
 *
 * Where the waits are (all under the BKL): each ParkSpace lists its own
 * waiters (wait_link), so a wake looks only at its own process's parked
 * threads (at most PROC_MAX_THREADS); the waits with a deadline are also
 * on one global list (timed_link) that the clock scans.
 *
 * The fast path (park_fast_call, offered every CALL by ring.c): the
 * runtime's wait and wake params are one-segment messages of exactly the
 * method's params struct (no pointers), which it reads at their fixed
 * offsets from the caller's page, and the results it writes are fixed
 * 24-byte messages, so neither side builds or walks a message. Anything
 * else takes the general way, which decides every error; both ways run the
 * same park_wait/park_wake below.
 */
#include "objects.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "arch/x86_64/lapic.h"
#include "ring/ring.h"
#include "c/string.h"
#include "thread_prof.h"

struct park_space {
    struct kobj obj;
    struct process *p;                 /* 0 once the process is gone */
    struct list waiters;               /* its parked threads' pendings (wait_link) */
};

static struct list timed = LIST_INIT(timed);   /* waits with a deadline, all processes (timed_link) */

/* A wait's or a wake's result message: one segment of two words, the root
 * pointer (a struct of one data word, no pointers) and that word. */
#define PARK_RESULT_BYTES 24
static void result_msg(uint8_t out[PARK_RESULT_BYTES], uint32_t value)
{
    const uint32_t seg[2] = { 0, 2 };              /* one segment, two words */
    const uint64_t root = (uint64_t)1 << 32;       /* struct pointer: offset 0, one data word */
    const uint64_t data = value;
    memcpy(out, seg, 8);
    memcpy(out + 8, &root, 8);
    memcpy(out + 16, &data, 8);
}

/* Complete a wait: the thread may leave cap_enter. */
static void resolve(struct pending *pd, uint16_t result)
{
    KASSERT(pd->kind == PENDING_PARK);
    struct thread *t = pd->park.thread;
    KASSERT(t->park == pd);
    t->park = 0;
    list_del(&pd->park.timed_link);
    thread_wake(t);
    uint8_t buf[PARK_RESULT_BYTES];
    result_msg(buf, result);
    pending_complete(pd, 0, buf, sizeof buf);
}

void park_expire(uint64_t now)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &timed) {
        struct pending *pd = container_of(n, struct pending, park.timed_link);
        if (pd->park.deadline_ns <= now)
            resolve(pd, capos_ParkResult_timedOut);
    }
}

/* The thread or its process is going away: pending_cancel unlinks pd. */
void park_cancel(struct pending *pd)
{
    KASSERT(pd->kind == PENDING_PARK && pd->park.thread->park == pd);
    pd->park.thread->park = 0;
    list_del(&pd->park.timed_link);
}

void park_thread_gone(struct thread *t)
{
    if (t->park)
        pending_cancel(t->park);
}

/* What a call needs to become a pending wait (the SQE's, either way). */
struct park_call {
    uint64_t user_data, result_addr;
    uint32_t result_len;
    bool silent;
};

/* ParkSpace.wait for the calling thread of ps's process: CALL_PENDING
 * (parked), 0 with *result set (mismatch), or an error. */
static int park_wait(struct park_space *ps, const struct park_call *pc, uint64_t addr, uint32_t expected,
                     uint64_t timeout, uint32_t named, uint16_t *result)
{
    struct process *p = ps->p;
    paddr_t pa = addr % 4 ? 0 : vm_translate(&p->vm, addr, 0);
    struct thread *t = current_thread();   /* the submitter: only it can be parked */
    if (named && named != t->tid)
        return CAP_ERR_WRONG_THREAD;       /* another thread, live or ended: refused */
    if (!pa || t->park)
        return CAP_ERR_INVALID_ARGUMENT;   /* unmapped or misaligned word, already parked */
    if (*(volatile uint32_t *)phys_to_virt(pa) != expected) {
        *result = capos_ParkResult_mismatch;
        return 0;
    }
    struct pending *pd = pending_new_for(p, PENDING_PARK, pc->user_data, pc->result_addr, pc->result_len);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    pd->silent = pc->silent;
    pd->park.addr = addr;
    pd->park.deadline_ns = timeout ? time_now_ns() + timeout : ~0ull;
    pd->park.thread = t;
    pd->park.space = ps;
    list_init(&pd->park.timed_link);
    if (timeout)
        list_add_tail(&timed, &pd->park.timed_link);
    t->park = pd;
    list_add_tail(&ps->waiters, &pd->wait_link);
    tprof_mark(TP_PARK_WAIT);
    return CALL_PENDING;
}

/* ParkSpace.wake: up to count of ps's waiters on addr, oldest first. */
static int park_wake(struct park_space *ps, uint64_t addr, uint32_t count, uint32_t *woken)
{
    if (addr % 4 || !vm_translate(&ps->p->vm, addr, 0))
        return CAP_ERR_INVALID_ARGUMENT;
    *woken = 0;
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &ps->waiters) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (*woken == count)
            break;
        if (pd->park.addr == addr) {
            tprof_mark(TP_WAKE_FIND);
            resolve(pd, capos_ParkResult_woken);
            tprof_mark(TP_WAKE_RESOLVE);
            ++*woken;
        }
    }
    tprof_mark(TP_WAKE_FIND);
    tprof_round(TPP_PARK);
    return 0;
}

static int p_wait(void *self, capos_ParkSpace_wait_Params_reader prm, capos_ParkSpace_wait_Results_builder r)
{
    struct call_ctx *c = self;
    struct park_space *ps = (struct park_space *)c->obj;
    tprof_mark(TP_DECODE);
    if (ps->p != c->caller)
        return CAP_ERR_DISCONNECTED;       /* its process is gone (0), or the caller is another */
    struct park_call pc = { c->user_data, c->result_addr, c->result_len, c->silent };
    uint16_t result = 0;
    int e = park_wait(ps, &pc, capos_ParkSpace_wait_Params_get_addr(prm),
                      capos_ParkSpace_wait_Params_get_expected(prm),
                      capos_ParkSpace_wait_Params_get_timeoutNs(prm),
                      capos_ParkSpace_wait_Params_get_thread(prm), &result);
    if (e == 0)
        capos_ParkSpace_wait_Results_set_result(r, result);
    return e;
}

static int p_wake(void *self, capos_ParkSpace_wake_Params_reader prm, capos_ParkSpace_wake_Results_builder r)
{
    struct call_ctx *c = self;
    struct park_space *ps = (struct park_space *)c->obj;
    tprof_mark(TP_DECODE);
    if (ps->p != c->caller)
        return CAP_ERR_DISCONNECTED;       /* its process is gone (0), or the caller is another */
    uint32_t woken = 0;
    int e = park_wake(ps, capos_ParkSpace_wake_Params_get_addr(prm),
                      capos_ParkSpace_wake_Params_get_count(prm), &woken);
    if (e == 0)
        capos_ParkSpace_wake_Results_set_woken(r, woken);
    return e;
}

static const capos_ParkSpace_server server = { .wait = p_wait, .wake = p_wake };
static int p_call(struct kobj *o, struct call_ctx *c) { return capos_ParkSpace_dispatch(&server, c, &c->sc); }

static void p_destroy(struct kobj *o)
{
    struct park_space *ps = (struct park_space *)o;
    if (ps->p && ps->p->thread_caps[2] == o)
        ps->p->thread_caps[2] = 0;
    while (!list_empty(&ps->waiters))          /* nobody can wake them any more */
        resolve(container_of(ps->waiters.next, struct pending, wait_link), capos_ParkResult_woken);
    kfree(ps);
}

static const struct kobj_type park_type = { "ParkSpace", capos_ParkSpace_ID, p_call, p_destroy };

/* ---- the fast path ---- */

/* The params the fast path takes: one segment holding the root pointer and
 * a struct of exactly data_words data words and no pointers, the struct
 * right after its pointer (what lib/capnp's builder writes). m is the
 * kernel's own copy. */
static bool fast_params(const uint64_t *m, uint32_t data_words)
{
    return m[0] == (uint64_t)(1 + data_words) << 32 &&    /* segment count - 1 = 0; its size in words */
           m[1] == (uint64_t)data_words << 32;            /* struct pointer: offset 0, no pointers */
}

/* [addr, addr+len) is user space within one page, clear of the ring area. */
static bool in_one_page(uint64_t addr, uint32_t len)
{
    return addr < USER_TOP && addr % PAGE_SIZE + len <= PAGE_SIZE &&
           !(addr < RING_AREA_END && addr + len > RING_VADDR);
}

bool park_fast_call(struct process *p, const struct cap_sqe *s, int *r)
{
    if ((s->flags & ~CAP_SQE_F_SILENT) || s->_pad0 || s->call_id || s->xfer_cap_count || s->xfer_addr ||
        s->interface_id != capos_ParkSpace_ID)
        return false;
    uint32_t words;
    switch (s->method_id) {
    case capos_ParkSpace_METHOD_wait:
        words = capos_ParkSpace_wait_Params_DATA_WORDS;
        break;
    case capos_ParkSpace_METHOD_wake:
        words = capos_ParkSpace_wake_Params_DATA_WORDS;
        break;
    default:
        return false;
    }
    /* params: 8-aligned in one page, clear of the ring area, mapped (below);
     * the result buffer, if any: in one page, clear of the ring area,
     * mapped writable (what ring_check_buffer asks of it) */
    uint64_t m[2 + capos_ParkSpace_wait_Params_DATA_WORDS];
    uint32_t len = 16 + 8 * words;
    if (s->len != len || s->addr % 8 || !in_one_page(s->addr, len))
        return false;
    if (s->result_len && (s->result_len < PARK_RESULT_BYTES || !in_one_page(s->result_addr, s->result_len) ||
                          !vm_translate(&p->vm, s->result_addr, PTE_W)))
        return false;
    struct kobj *obj;
    if (cap_lookup(&p->caps, s->cap_id, &obj) || obj->type != &park_type)
        return false;
    struct park_space *ps = (struct park_space *)obj;
    paddr_t pa = ps->p == p ? vm_translate(&p->vm, s->addr, 0) : 0;
    if (!pa)
        return false;
    memcpy(m, phys_to_virt(pa), len);          /* read once: only the copy is used */
    if (!fast_params(m, words))
        return false;
    tprof_mark(TP_CHECK);
    uint32_t value = 0;
    int e;
    if (s->method_id == capos_ParkSpace_METHOD_wait) {
        struct park_call pc = { s->user_data, s->result_addr, s->result_len, s->flags & CAP_SQE_F_SILENT };
        uint16_t result = 0;
        e = park_wait(ps, &pc, m[2], (uint32_t)m[3], m[4], (uint32_t)(m[3] >> 32), &result);
        value = result;
    } else {
        e = park_wake(ps, m[2], (uint32_t)m[3], &value);
    }
    if (e == 0 && s->result_len) {            /* the result, as the general way writes it */
        uint8_t buf[PARK_RESULT_BYTES];
        result_msg(buf, value);
        e = vm_copy_out(&p->vm, s->result_addr, buf, sizeof buf) ? PARK_RESULT_BYTES : CAP_ERR_INVALID_RESULT_BUFFER;
    }
    *r = e;
    return true;
}

struct kobj *park_space_create(struct process *p)
{
    struct park_space *ps = kmalloc(sizeof *ps);
    if (!ps)
        return 0;
    kobj_init(&ps->obj, &park_type);
    ps->p = p;
    list_init(&ps->waiters);
    return &ps->obj;
}

void park_space_unbind(struct kobj *o)
{
    ((struct park_space *)o)->p = 0;
}
