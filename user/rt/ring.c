/*
 * Ring submission and completion: the reactor bridge.
 *
 * The kernel ring belongs to the process; its threads share it. Each thread
 * has a wait record in its TCB (thread.c). A thread that needs a completion
 * registers its user_data there; then either it becomes the one CQ drainer
 * (at most one thread drains at a time) and sleeps in cap_enter, or it parks
 * on its record's word with ParkSpace. The drainer routes every completion
 * by user_data (the high 16 bits name the waiting thread's slot) to its
 * record and wakes exactly that thread; completions nobody waits for (event
 * loops' own tags) go to a stash that rt_ring_poll serves. When the drainer's
 * own completion arrives it hands the role to a waiting thread. The spin
 * lock is held only for short bookkeeping, never across a block.
 *
 * This bridge is retired when per-thread rings and completions routed by
 * ThreadRef become the kernel ABI (kernel/README.md).
 */
#include "capos.h"
#include "rt_internal.h"

#define STASH 256
static struct cap_cqe stash[STASH];
static uint32_t nstash;
static uint64_t next_seq = 1;
uint64_t rt_ring_lost;
uint32_t rt_threads_live;
uint32_t rt_drains_max;                     /* the most threads ever draining at once (proof: 1) */
volatile int rt_ring_lock;
#define ring_lock rt_ring_lock
static struct rt_waiter *waiters[RT_MAX_SLOTS];
static struct rt_waiter *drainer;
static uint32_t draining;

void rt_lock(volatile int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        while (*l)
            __asm__ volatile("pause");
}

void rt_unlock(volatile int *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static struct cap_sqe *sq(void) { return (struct cap_sqe *)((char *)rt_ring + RING_SQ_OFFSET); }
static struct cap_cqe *cq(void) { return (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET); }

void rt_waiter_attach(struct rt_waiter *w, uint32_t slot)
{
    rt_lock(&ring_lock);
    w->slot = slot;
    waiters[slot] = w;
    rt_unlock(&ring_lock);
}

void rt_waiter_detach(struct rt_waiter *w)
{
    rt_lock(&ring_lock);
    if (waiters[w->slot] == w)
        waiters[w->slot] = 0;
    rt_unlock(&ring_lock);
}

uint64_t rt_ring_submit(struct cap_sqe *s)
{
    struct rt_waiter *w = rt_waiter_self();
    uint64_t seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED) & RT_SEQ_MASK;
    return rt_ring_submit_tagged(s, ((uint64_t)(w->slot + 1) << RT_SLOT_SHIFT) | seq);
}

/* With ring_lock held. A full SQ is drained by entering the kernel, which
 * never blocks with nothing to wait for. */
void rt_submit_locked(struct cap_sqe *s, uint64_t user_data)
{
    s->user_data = user_data;
    uint32_t tail = rt_ring->sq_tail;
    while (tail - __atomic_load_n(&rt_ring->sq_head, __ATOMIC_ACQUIRE) >= RING_SQ_ENTRIES)
        sys_cap_enter(0, 0);
    sq()[tail & (RING_SQ_ENTRIES - 1)] = *s;
    __atomic_store_n(&rt_ring->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

uint64_t rt_ring_submit_tagged(struct cap_sqe *s, uint64_t user_data)
{
    rt_lock(&ring_lock);
    rt_submit_locked(s, user_data);
    rt_unlock(&ring_lock);
    return user_data;
}

/* Wake w (another thread): bump its word so a park that has not happened yet
 * sees a mismatch, and queue a wake (its completion is dropped). */
static void kick(struct rt_waiter *w)
{
    __atomic_fetch_add(&w->word, 1, __ATOMIC_RELEASE);
    rt_park_wake_async(&w->word);
}

/* Take the stash's entry i out, keeping the others in arrival order (an
 * event loop's completions come out in the order the kernel posted them:
 * a stack's Nic.receive answers are its frames in order). Called with
 * ring_lock held. */
static void stash_take(uint32_t i, struct cap_cqe *out)
{
    *out = stash[i];
    memmove(&stash[i], &stash[i + 1], (nstash - i - 1) * sizeof stash[0]);
    nstash--;
}

/* Route every available completion. Called with ring_lock held. */
static void drain_route(void)
{
    uint32_t head = rt_ring->cq_head;
    uint32_t tail = __atomic_load_n(&rt_ring->cq_tail, __ATOMIC_ACQUIRE);
    if (tail - head > RING_CQ_ENTRIES)
        head = tail;                        /* our own cq_head was clobbered: resynchronise */
    while (head != tail) {
        struct cap_cqe c = cq()[head & (RING_CQ_ENTRIES - 1)];
        head++;
        if (c.user_data == RT_INTERNAL_TAG)
            continue;                       /* a park or wake of the bridge itself */
        uint64_t slot = (c.user_data >> RT_SLOT_SHIFT) - 1;
        struct rt_waiter *w = slot < RT_MAX_SLOTS ? waiters[slot] : 0;
        if (w && !w->done && w->user_data == c.user_data) {
            w->cqe = c;
            w->done = true;
            if (w != drainer)
                kick(w);
        } else if (nstash < STASH) {
            stash[nstash++] = c;
        } else {
            rt_ring_lost++;                 /* more unclaimed completions than the stash holds */
        }
    }
    __atomic_store_n(&rt_ring->cq_head, head, __ATOMIC_RELEASE);
}

bool rt_ring_poll(struct cap_cqe *out)
{
    bool got = false;
    rt_lock(&ring_lock);
    if (!drainer)
        drain_route();
    if (nstash) {
        stash_take(0, out);
        got = true;
    }
    rt_unlock(&ring_lock);
    return got;
}

bool rt_ring_next(struct cap_cqe *out, uint64_t timeout_ns)
{
    /* Nothing may run between the last poll and the enter: any call of
     * ours in between could drain the completion we wait for into the
     * stash, and the enter would then sleep past it. */
    if (rt_ring_poll(out))
        return true;
    sys_cap_enter(1, timeout_ns);
    return rt_ring_poll(out);
}

void rt_ring_wait(uint64_t user_data, struct cap_cqe *out)
{
    struct rt_waiter *w = rt_waiter_self();
    rt_lock(&ring_lock);
    for (uint32_t i = 0; i < nstash; i++) {   /* drained before we registered */
        if (stash[i].user_data == user_data) {
            stash_take(i, out);
            rt_unlock(&ring_lock);
            return;
        }
    }
    w->user_data = user_data;
    w->done = false;
    for (;;) {
        if (w->done) {
            *out = w->cqe;
            w->user_data = 0;
            rt_unlock(&ring_lock);
            return;
        }
        uint32_t seq = __atomic_load_n(&w->word, __ATOMIC_ACQUIRE);
        if (!drainer) {
            drainer = w;
            if (++draining > rt_drains_max)
                rt_drains_max = draining;
            rt_unlock(&ring_lock);
            sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
            rt_lock(&ring_lock);
            drain_route();
            draining--;
            drainer = 0;
            if (w->done) {                   /* hand the role to one thread still waiting */
                for (uint32_t i = 0; i < RT_MAX_SLOTS; i++)
                    if (waiters[i] && waiters[i] != w && waiters[i]->user_data && !waiters[i]->done) {
                        kick(waiters[i]);
                        break;
                    }
            }
            continue;
        }
        rt_unlock(&ring_lock);
        rt_park_wait_self(&w->word, seq);
        rt_lock(&ring_lock);
    }
}

int32_t rt_call(uint32_t cap, uint64_t iface, uint16_t method, const void *params, uint32_t plen,
                 void *result, uint32_t rlen, struct cap_cqe *cqe_out)
{
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .cap_id = cap, .interface_id = iface, .method_id = method,
        .addr = (uint64_t)params, .len = plen, .result_addr = (uint64_t)result, .result_len = rlen,
    };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    if (cqe_out)
        *cqe_out = c;
    return c.result;
}

int32_t rt_release(uint32_t cap)
{
    struct cap_sqe s = { .opcode = CAP_OP_RELEASE, .cap_id = cap };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    return c.result;
}
