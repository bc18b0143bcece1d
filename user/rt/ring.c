/*
 * Ring submission and completion. Completions that arrive for other requests
 * while we wait for one are kept in a stash until their waiter asks
 * (user_data is the only key).
 *
 * Threads share the ring under a spin lock held only for a submission or a
 * drain (never while blocked). A thread waits in cap_enter; with other
 * threads alive it wakes at least every 2 ms to look in the stash, because a
 * sibling may have drained its completion while it slept. ParkSpace and a
 * single CQ drainer that wakes exactly the owner replace this (issue 4).
 */
#include "capos.h"

#define STASH 256
static volatile int ring_lock;
uint32_t rt_threads_live;

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
static struct cap_cqe stash[STASH];
static uint32_t nstash;
static uint64_t next_user_data = 1;
uint64_t rt_ring_lost;

static struct cap_sqe *sq(void) { return (struct cap_sqe *)((char *)rt_ring + RING_SQ_OFFSET); }
static struct cap_cqe *cq(void) { return (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET); }

uint64_t ring_submit(struct cap_sqe *s)
{
    return ring_submit_tagged(s, __atomic_fetch_add(&next_user_data, 1, __ATOMIC_RELAXED));
}

uint64_t ring_submit_tagged(struct cap_sqe *s, uint64_t user_data)
{
    s->user_data = user_data;
    rt_lock(&ring_lock);
    uint32_t tail = rt_ring->sq_tail;
    while (tail - __atomic_load_n(&rt_ring->sq_head, __ATOMIC_ACQUIRE) >= RING_SQ_ENTRIES)
        sys_cap_enter(0, 0);
    sq()[tail & (RING_SQ_ENTRIES - 1)] = *s;
    __atomic_store_n(&rt_ring->sq_tail, tail + 1, __ATOMIC_RELEASE);
    rt_unlock(&ring_lock);
    return s->user_data;
}

/* Move every available CQE into the stash; true if `want` is among them. */
static bool drain(uint64_t want, struct cap_cqe *out)
{
    bool found = false;
    uint32_t head = rt_ring->cq_head;
    uint32_t tail = __atomic_load_n(&rt_ring->cq_tail, __ATOMIC_ACQUIRE);
    if (tail - head > RING_CQ_ENTRIES)
        head = tail;        /* our own cq_head was clobbered: resynchronise */
    while (head != tail) {
        struct cap_cqe c = cq()[head & (RING_CQ_ENTRIES - 1)];
        head++;
        if (!found && c.user_data == want) {
            *out = c;
            found = true;
        } else if (nstash < STASH) {
            stash[nstash++] = c;
        } else {
            rt_ring_lost++;  /* more unclaimed completions than the stash holds */
        }
    }
    __atomic_store_n(&rt_ring->cq_head, head, __ATOMIC_RELEASE);
    return found;
}

bool ring_poll(struct cap_cqe *out)
{
    bool got = false;
    rt_lock(&ring_lock);
    if (nstash) {
        *out = stash[0];
        stash[0] = stash[--nstash];
        got = true;
    } else {
        uint32_t head = rt_ring->cq_head;
        if (head != __atomic_load_n(&rt_ring->cq_tail, __ATOMIC_ACQUIRE)) {
            *out = cq()[head & (RING_CQ_ENTRIES - 1)];
            __atomic_store_n(&rt_ring->cq_head, head + 1, __ATOMIC_RELEASE);
            got = true;
        }
    }
    rt_unlock(&ring_lock);
    return got;
}

void ring_wait(uint64_t user_data, struct cap_cqe *out)
{
    for (;;) {
        rt_lock(&ring_lock);
        for (uint32_t i = 0; i < nstash; i++) {
            if (stash[i].user_data == user_data) {
                *out = stash[i];
                stash[i] = stash[--nstash];
                rt_unlock(&ring_lock);
                return;
            }
        }
        bool found = drain(user_data, out);
        rt_unlock(&ring_lock);
        if (found)
            return;
        sys_cap_enter(1, __atomic_load_n(&rt_threads_live, __ATOMIC_RELAXED) ? 2000000 : CAP_TIMEOUT_FOREVER);
    }
}

int32_t cap_call(uint32_t cap, uint64_t iface, uint16_t method, const void *params, uint32_t plen,
                 void *result, uint32_t rlen, struct cap_cqe *cqe_out)
{
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .cap_id = cap, .interface_id = iface, .method_id = method,
        .addr = (uint64_t)params, .len = plen, .result_addr = (uint64_t)result, .result_len = rlen,
    };
    struct cap_cqe c;
    ring_wait(ring_submit(&s), &c);
    if (cqe_out)
        *cqe_out = c;
    return c.result;
}

int32_t cap_release_cap(uint32_t cap)
{
    struct cap_sqe s = { .opcode = CAP_OP_RELEASE, .cap_id = cap };
    struct cap_cqe c;
    ring_wait(ring_submit(&s), &c);
    return c.result;
}
