/*
 * The endpoint fast path of cap_enter (ipc.c): ring_enter's first look at
 * a submission, inline so that every other call pays only a few loads.
 * Binds on: the BKL, interrupts off.
 */
#ifndef RING_IPC_H
#define RING_IPC_H
#include "ring.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "cap/kobj.h"
#include "cap/table.h"
#include "cap/endpoint.h"

/* pd's submitter's ring, if its ThreadRef still matches a bound ring; else
 * 0 (its thread has ended). ring.c's posts and the fast path's share it. */
static inline struct ring *ring_of_ref(const struct pending *pd)
{
    struct ring *r = pd->to.slot < PROC_MAX_THREADS ? pd->proc->rings[pd->to.slot] : 0;
    return r && r->state == RING_BOUND && r->ref.slot == pd->to.slot && r->ref.gen == pd->to.gen ? r : 0;
}

/* The first look: could ring_enter_ipc take what is submitted? It reads the SQ
 * in place and decides nothing (ring_enter_ipc copies the SQEs and checks
 * everything again); every other call pays a few loads here. */
static inline uint32_t ring_ipc_shape(struct thread *self, struct ring *r, uint32_t min_complete, uint64_t timeout_ns)
{
    if (!timeout_ns || !min_complete)
        return 0;                          /* no wait to follow */
    uint32_t head = r->sq_head, n = __atomic_load_n(&r->hdr->sq_tail, __ATOMIC_ACQUIRE) - head;
    if (n - 1 > 1)
        return 0;                          /* one SQE or two */
    const volatile struct cap_sqe *sp = &r->sq[head & (RING_SQ_ENTRIES - 1)];
    if (sp->len > ENDPOINT_FAST_BYTES || (n == 1 && !endpoint_iface_maybe(sp->interface_id)))
        return 0;                          /* too large, or no endpoint serves that interface */
    uint32_t slot = CAP_SLOT(sp->cap_id);
    const struct cap_table *caps = &self->proc->caps;
    if (slot >= caps->nslots || sp->opcode != (n == 1 ? CAP_OP_CALL : CAP_OP_RETURN))
        return 0;
    const struct kobj *o = caps->slots[slot].obj;
    if (!o || o->type != (n == 1 ? &endpoint_facet_type : &endpoint_owner_type))
        return 0;
    return self->park || !list_empty(&r->overflow) ? 0 : n;
}

/* Take the n SQEs ring_ipc_shape found the fast way: true with *next the
 * thread to switch to (its CQE posted, not woken); false having changed
 * nothing, and ring_enter's general way decides. */
bool ring_enter_ipc(struct thread *self, struct ring *r, uint32_t n, uint32_t min_complete, struct thread **next);
#endif
