#include "transfer.h"
#include "sched/process.h"
#include "kprintf.h"

int xfer_collect(struct process *src, uint64_t addr, uint32_t count, struct xfer_set *x)
{
    x->src = src;
    x->n = 0;
    if (count == 0)
        return 0;
    if (count > CAP_MAX_XFER)
        return CAP_ERR_INVALID_TRANSFER;
    struct cap_xfer d[CAP_MAX_XFER];
    if (addr >= USER_TOP || !vm_copy_in(&src->vm, d, addr, count * sizeof d[0]))
        return CAP_ERR_INVALID_TRANSFER;
    for (uint32_t i = 0; i < count; i++) {
        struct kobj *o;
        int r = d[i].mode > CAP_XFER_MOVE ? CAP_ERR_INVALID_TRANSFER : cap_lookup(&src->caps, d[i].cap_id, &o);
        if (r) {
            xfer_rollback(x);
            return r;
        }
        if (d[i].mode == CAP_XFER_MOVE)
            cap_reserve(&src->caps, d[i].cap_id);   /* a second move of it now fails the lookup */
        else
            kobj_get(o);
        x->obj[i] = o;
        x->src_id[i] = d[i].cap_id;
        x->mode[i] = (uint8_t)d[i].mode;
        x->n = i + 1;
    }
    return 0;
}

void xfer_rollback(struct xfer_set *x)
{
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->mode[i] == CAP_XFER_MOVE) {
            if (x->src)
                cap_unreserve(&x->src->caps, x->src_id[i]);
        } else {
            kobj_put(x->obj[i]);
        }
    }
    x->n = 0;
    x->src = 0;
}

static void commit(struct xfer_set *x, bool drop_refs)
{
    KASSERT(x->src || x->n == 0);      /* moves are taken out of a sender that still exists */
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->mode[i] == CAP_XFER_MOVE) {
            cap_take(&x->src->caps, x->src_id[i]);     /* its reference went with it */
            if (drop_refs)
                kobj_put(x->obj[i]);
        } else if (drop_refs) {
            kobj_put(x->obj[i]);
        }
    }
    x->n = 0;
    x->src = 0;
}

void xfer_commit_consumed(struct xfer_set *x)
{
    commit(x, true);
}

int xfer_deliver(struct xfer_set *x, struct process *dst, struct cap_result_cap *rec)
{
    uint32_t i;
    for (i = 0; i < x->n; i++) {
        int64_t id = cap_insert(&dst->caps, x->obj[i]);
        if (id < 0)
            break;
        rec[i].cap_id = (uint32_t)id;
        rec[i]._pad = 0;
        rec[i].interface_id = x->obj[i]->iface;
    }
    if (i < x->n) {
        while (i--)
            cap_take(&dst->caps, rec[i].cap_id);      /* back out, keeping the references */
        xfer_rollback(x);
        return CAP_ERR_OVERLOADED;
    }
    commit(x, false);                                 /* the references now live in dst */
    return 0;
}
