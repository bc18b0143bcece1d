#ifndef CAP_ENDPOINT_H
#define CAP_ENDPOINT_H
#include "kobj.h"
struct process;
struct cap_sqe;
struct thread;

extern struct kobj endpoint_factory_obj;        /* EndpointFactory */
/* The types of an endpoint's owner side and of its client facets (the
 * system call's first look at a submission: ring/enter_fast.h). */
extern const struct kobj_type endpoint_owner_type, endpoint_facet_type;
/* The most params (a CALL) or result bytes (a RETURN) the fast paths take. */
#define ENDPOINT_FAST_BYTES 128
/* A filter of the interfaces any endpoint was ever made for: bit
 * (iface & 255) is set at EndpointFactory.create and never cleared. A CALL
 * whose interface_id's bit is clear cannot be a facet call that the fast
 * path takes (it asks interface_id == the facet's), so the first look
 * steps aside from it without touching the cap table. */
extern uint64_t endpoint_ifaces[4];
static inline bool endpoint_iface_maybe(uint64_t iface)
{
    return (endpoint_ifaces[(iface >> 6) & 3] >> (iface & 63)) & 1;
}
/* The RECV and RETURN opcodes (ring.c hands them here). Return a CQE result
 * or CALL_PENDING. */
int endpoint_recv(struct process *p, const struct cap_sqe *s);
int endpoint_return(struct process *p, const struct cap_sqe *s);
/* The CALL fast path (ring.c offers it every CALL, after its one copy of
 * the SQE): true if it took the call (*r is then CALL_PENDING); false if
 * the call must go the general way, which decides every error. direct
 * (ring_enter_ipc): take the call only if the receiver's thread can be
 * switched to directly (ring_direct_target), post its CQE without waking
 * it and give it in *direct; 0: the receiver is woken as a hand-off. */
bool endpoint_fast_call(struct process *p, const struct cap_sqe *s, int *r, struct thread **direct);
/* A silent RETURN and the next RECV on the same endpoint, together
 * (ring_enter_ipc): true if it took both, with the caller's CQE posted and
 * its thread, to switch to, in *next; false, having changed nothing, if
 * either must go the general way (endpoint_return, endpoint_recv), which
 * decides every error. */
bool endpoint_fast_reply_recv(struct process *p, const struct cap_sqe *ret, const struct cap_sqe *recv,
                              struct thread **next);
size_t endpoint_live_calls(void);
void endpoint_receiver_exit(struct process *p);
void endpoint_call_cancel(struct pending *pd);   /* pending_cancel for PENDING_EP_CALL */
#endif
