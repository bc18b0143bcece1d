/*
 * Ring submission and completion on the calling thread's own ring.
 *
 * Every thread has its own ring (the kernel maps one per thread and routes
 * each completion to the CQ of the thread that submitted the call), so no
 * lock guards the SQ and nobody drains for anyone else: rt_ring_wait enters
 * the kernel on its own ring until its user_data has completed. It takes
 * that one CQE out of the CQ (the entry at the head moves into its place);
 * every other CQE stays in the CQ, where the thread's event loop finds it
 * with rt_ring_poll / rt_ring_next.
 */
#include "capos.h"

__thread struct cap_ring_hdr *rt_ring;
__thread uint64_t rt_ring_others;           /* CQEs rt_ring_wait found ahead of its own */
static uint64_t next_seq = 1;
#define RT_SEQ_MASK ((1ull << 48) - 1)

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

uint64_t rt_ring_submit(struct cap_sqe *s)
{
    /* process-wide unique: a completion on the wrong CQ could never pass for ours */
    uint64_t seq = __atomic_fetch_add(&next_seq, 1, __ATOMIC_RELAXED) & RT_SEQ_MASK;
    return rt_ring_submit_tagged(s, RT_RING_TAG_BASE | seq);
}

/* A full SQ is drained by entering the kernel, which never blocks with
 * nothing to wait for. */
uint64_t rt_ring_submit_tagged(struct cap_sqe *s, uint64_t user_data)
{
    struct cap_ring_hdr *r = rt_ring;
    s->user_data = user_data;
    uint32_t tail = r->sq_tail;
    while (tail - __atomic_load_n(&r->sq_head, __ATOMIC_ACQUIRE) >= RING_SQ_ENTRIES)
        sys_cap_enter(0, 0);
    sq()[tail & (RING_SQ_ENTRIES - 1)] = *s;
    __atomic_store_n(&r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    return user_data;
}

/* How many CQEs are waiting, with our own cq_head repaired if it was clobbered. */
static uint32_t cq_avail(struct cap_ring_hdr *r, uint32_t *head)
{
    uint32_t tail = __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE);
    *head = r->cq_head;
    if (tail - *head > RING_CQ_ENTRIES)
        *head = r->cq_head = tail;
    return tail - *head;
}

bool rt_ring_poll(struct cap_cqe *out)
{
    struct cap_ring_hdr *r = rt_ring;
    uint32_t head;
    if (!cq_avail(r, &head))
        return false;
    *out = cq()[head & (RING_CQ_ENTRIES - 1)];
    __atomic_store_n(&r->cq_head, head + 1, __ATOMIC_RELEASE);
    return true;
}

bool rt_ring_next(struct cap_cqe *out, uint64_t timeout_ns)
{
    if (rt_ring_poll(out))
        return true;
    sys_cap_enter(1, timeout_ns);
    return rt_ring_poll(out);
}

void rt_ring_wait(uint64_t user_data, struct cap_cqe *out)
{
    struct cap_ring_hdr *r = rt_ring;
    struct cap_cqe *q = cq();
    uint32_t seen = 0;                      /* CQEs already looked at (not ours) */
    for (;;) {
        uint32_t head, n = cq_avail(r, &head);
        if (n < seen)
            seen = 0;                       /* cq_head was clobbered and repaired: look again */
        for (uint32_t i = seen; i < n; i++) {
            struct cap_cqe *c = &q[(head + i) & (RING_CQ_ENTRIES - 1)];
            if (c->user_data != user_data)
                continue;
            *out = *c;
            /* the entries before ours move up one, keeping their order (an
             * event loop takes them in the order the kernel posted them: a
             * network stack's Nic.receive answers are its frames in order) */
            for (uint32_t k = i; k > 0; k--)
                q[(head + k) & (RING_CQ_ENTRIES - 1)] = q[(head + k - 1) & (RING_CQ_ENTRIES - 1)];
            rt_ring_others += i;
            __atomic_store_n(&r->cq_head, head + 1, __ATOMIC_RELEASE);
            return;
        }
        seen = n;
        /* wait for one more than we have seen: nothing can be lost, the
         * kernel counts what is in the CQ when it decides to sleep */
        sys_cap_enter(n + 1, CAP_TIMEOUT_FOREVER);
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
