/*
 * The endpoint fast path of cap_enter: the ring's side. ring_enter offers
 * it a submission of the right shape (ring_ipc_shape); ring_enter_ipc
 * copies the SQEs once and hands them to the endpoint's fast paths
 * (cap/endpoint.c), which take them only when the general way would do
 * exactly the same, and name the thread to switch to. The wait and the
 * direct switch are ring_enter's (ring.c). kernel/README.md, "The fast
 * path", has the rules and the measurements.
 */
#include "ipc.h"
#include "kprintf.h"
#include "ipc_prof.h"

struct thread *ring_direct_target(const struct pending *pd)
{
    struct ring *r = ring_of_ref(pd);
    if (!r || !list_empty(&r->overflow))
        return 0;
    struct thread *t = r->thread;
    uint32_t used = r->cq_tail - r->hdr->cq_head;   /* a bad cq_head: > RING_CQ_ENTRIES, refused */
    if (t->state != T_BLOCKED || !t->wait_min || used >= RING_CQ_ENTRIES || used + 1 < t->wait_min || t->park)
        return 0;                          /* blocked: never the current thread */
    return t;
}

void ring_post_direct(struct pending *pd, int32_t result)
{
    struct ring *r = ring_of_ref(pd);
    KASSERT(r && list_empty(&r->overflow));
    struct cap_cqe c = { .user_data = pd->user_data, .result = result };
    ring_cq_push(r, &c);
}

/*
 * cap_enter's endpoint fast path (ring_enter offers it the submissions of
 * the right shape, after a first look in place: one SQE or two, the first a
 * CALL on a client facet or a RETURN on an owner side, nothing waiting for
 * CQ room, no park, and a wait to follow). It takes exactly two shapes, and
 * only when the thread then waits (fewer than min_complete CQEs now) and
 * the other side is blocked waiting for what this gives it:
 *   - one CALL that endpoint_fast_call takes (the client);
 *   - a RETURN and then a RECV on the same endpoint that
 *     endpoint_fast_reply_recv takes (a server answering and waiting for
 *     its next call).
 * Then the other side's CQE is posted without a wake-up, and *next is its
 * thread: ring_enter's wait blocks this one and switches straight to it
 * (thread_block_to). Otherwise it returns false having changed nothing,
 * and ring_enter's general way decides everything: every error, every
 * wait; the endpoint functions take only what it would do exactly so.
 */
bool ring_enter_ipc(struct thread *self, struct ring *r, uint32_t n, uint32_t min_complete, struct thread **next)
{
    struct cap_ring_hdr *hdr = r->hdr;
    uint32_t head = r->sq_head, u = r->cq_tail - hdr->cq_head;
    if (u >= min_complete || min_complete > RING_CQ_ENTRIES)
        return false;                      /* u < min <= 512: a sound cq_head, CQ room, and a wait */
    const struct cap_sqe *sq = r->sq;
    struct cap_sqe s0 = sq[head & (RING_SQ_ENTRIES - 1)];   /* one copy each, then only the copies */
    if (n == 1) {
        int res;
        if (s0.opcode != CAP_OP_CALL)
            return false;
        ipc_prof_mark(IPC_SQE);
        if (!endpoint_fast_call(self->proc, &s0, &res, next))
            return false;
    } else {
        struct cap_sqe s1 = sq[(head + 1) & (RING_SQ_ENTRIES - 1)];
        if (s0.opcode != CAP_OP_RETURN || s1.opcode != CAP_OP_RECV)
            return false;
        ipc_prof_mark(IPC_SQE);
        if (!endpoint_fast_reply_recv(self->proc, &s0, &s1, next))
            return false;
    }
    head += n;
    r->sq_head = head;
    __atomic_store_n(&hdr->sq_head, head, __ATOMIC_RELEASE);
    return true;
}
