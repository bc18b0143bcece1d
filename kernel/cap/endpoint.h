#ifndef CAP_ENDPOINT_H
#define CAP_ENDPOINT_H
#include "kobj.h"
struct process;
struct cap_sqe;

extern struct kobj endpoint_factory_obj;        /* EndpointFactory */
/* The RECV and RETURN opcodes (ring.c hands them here). Return a CQE result
 * or CALL_PENDING. */
int endpoint_recv(struct process *p, const struct cap_sqe *s);
int endpoint_return(struct process *p, const struct cap_sqe *s);
/* The CALL fast path (ring.c offers it every CALL, after its one copy of
 * the SQE): true if it took the call (*r is then CALL_PENDING); false if
 * the call must go the general way, which decides every error. */
bool endpoint_fast_call(struct process *p, const struct cap_sqe *s, int *r);
size_t endpoint_live_calls(void);
void endpoint_receiver_exit(struct process *p);
void endpoint_call_cancel(struct pending *pd);   /* pending_cancel for PENDING_EP_CALL */
#endif
