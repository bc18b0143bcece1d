#include "kobj.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "ring/ring.h"
#include "mm/vm.h"
#include "objects.h"
#include "endpoint.h"
#include "linedisc.h"
#include "c/string.h"

static size_t live, live_pending;

void kobj_init(struct kobj *o, const struct kobj_type *t)
{
    o->type = t;
    o->refs = 1;
    o->iface = t->iface;
    live++;
}

void kobj_put(struct kobj *o)
{
    KASSERT(o->refs > 0);
    if (--o->refs)
        return;
    live--;
    if (o->type->destroy)
        o->type->destroy(o);
}

size_t kobj_live_count(void) { return live; }
size_t pending_live_count(void) { return live_pending; }

struct kobj *ctx_param_cap(struct call_ctx *c, uint32_t index)
{
    return index < c->nin ? c->in_caps[index] : 0;
}

uint32_t ctx_result_cap(struct call_ctx *c, capnp_sbuilder s, struct kobj *o)
{
    if (c->nout >= CALL_MAX_RESULT_CAPS) {
        kobj_put(o);
        return CAPNP_NO_CAP;
    }
    c->out_caps[c->nout] = o;
    return capnp_add_cap(s, c->nout++);
}

int call_error(int e)
{
    switch (e) {
    case CAPNP_OK:
        return 0;
    case CAPNP_ERR_UNKNOWN_INTERFACE:
        return CAP_ERR_WRONG_INTERFACE;
    case CAPNP_ERR_UNKNOWN_METHOD:
    case CAPNP_ERR_UNIMPLEMENTED:
        return CAP_ERR_UNKNOWN_METHOD;
    case CAPNP_ERR_NO_SPACE:
    case CAPNP_ERR_INVALID:            /* the result buffer cannot even hold a message header */
        return CAP_ERR_RESULT_TOO_SMALL;
    default:
        return e < 0 ? e : CAP_ERR_INVALID_ARGUMENT;   /* a malformed params message */
    }
}

struct pending *pending_new_for(struct process *p, enum pending_kind kind, uint64_t user_data,
                                uint64_t result_addr, uint32_t result_len)
{
    if (p->npending >= PROC_MAX_PENDING)
        return 0;
    KASSERT(!p->exiting);                  /* a dying process makes no new calls */
    struct thread *self = current_thread();
    KASSERT(p == self->proc && self->ring);   /* made while the caller's own ring is processed */
    struct pending *pd = p->npd_spare ? p->pd_spare[--p->npd_spare] : kmalloc(sizeof *pd);
    if (!pd)
        return 0;
    memset(pd, 0, sizeof *pd);
    pd->proc = p;
    pd->to = self->ring->ref;              /* ring_self_ref: its submitter */
    pd->kind = kind;
    pd->user_data = user_data;
    pd->result_addr = result_addr;
    pd->result_len = result_len;
    list_init(&pd->wait_link);
    list_add_tail(&p->pendings, &pd->proc_link);
    p->npending++;
    live_pending++;
    return pd;
}

struct pending *pending_new(struct call_ctx *c, enum pending_kind kind)
{
    struct pending *pd = pending_new_for(c->caller, kind, c->user_data, c->result_addr, c->result_len);
    if (pd)
        pd->silent = c->silent;
    return pd;
}

void pending_retire(struct pending *pd)
{
    KASSERT(pd->proc->npending > 0);
    list_del(&pd->wait_link);
    list_del(&pd->proc_link);
    struct process *p = pd->proc;
    p->npending--;
    live_pending--;
    if (!p->exiting && p->npd_spare < PROC_PENDING_SPARES)
        p->pd_spare[p->npd_spare++] = pd;  /* kept for the next call: no allocation */
    else
        kfree(pd);
}

int pending_spares_fill(struct process *p)
{
    while (p->npd_spare < PROC_PENDING_SPARES) {
        struct pending *pd = kmalloc(sizeof *pd);
        if (!pd)
            return -1;
        p->pd_spare[p->npd_spare++] = pd;
    }
    return 0;
}

void pending_spares_drop(struct process *p)
{
    KASSERT(p->exiting && p->npending == 0);
    while (p->npd_spare)
        kfree(p->pd_spare[--p->npd_spare]);
}

void pending_cancel(struct pending *pd)
{
    switch (pd->kind) {
    case PENDING_EP_CALL:
        endpoint_call_cancel(pd);
        break;
    case PENDING_PARK:
        park_cancel(pd);
        break;
    case PENDING_LINE:
        ld_cancel(pd);                     /* the partial line goes with its reader */
        break;
    case PENDING_TIMER:
    case PENDING_EP_RECV:
    case PENDING_EXIT_WAIT:
    case PENDING_IRQ:
        break;                             /* leaving the wait list is all */
    }
    pending_retire(pd);
}

void pending_complete(struct pending *pd, int result, const void *data, uint32_t len)
{
    struct process *p = pd->proc;
    if (result >= 0 && ring_ref_live(pd)) {      /* an ended submitter's buffer is not written */
        if (len > pd->result_len)
            result = CAP_ERR_RESULT_TOO_SMALL;
        else if (len && !vm_copy_out(&p->vm, pd->result_addr, data, len))
            result = CAP_ERR_INVALID_RESULT_BUFFER;   /* unmapped since submission */
        else
            result = (int)len;
    }
    if (!pd->silent || result < 0)
        ring_post(pd, result, 0, 0);
    pending_retire(pd);
}

void pending_complete_u64(struct pending *pd, uint64_t v)
{
    uint8_t buf[32];
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, sizeof buf);
    capnp_set_u64(capnp_builder_root(&b, 1, 0), 0, v);
    capnp_builder_finish(&b, &len);
    pending_complete(pd, 0, buf, (uint32_t)len);
}

void pending_complete_empty(struct pending *pd)
{
    uint8_t buf[16];
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, sizeof buf);
    capnp_builder_root(&b, 0, 0);
    capnp_builder_finish(&b, &len);
    pending_complete(pd, 0, buf, (uint32_t)len);
}
