#include "kobj.h"
#include "kheap.h"
#include "kprintf.h"
#include "../sched/process.h"
#include "../ring/ring.h"
#include "../mm/vm.h"

static size_t live;

void kobj_init(struct kobj *o, const struct kobj_type *t)
{
    o->type = t;
    o->refs = 1;
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

#define MAX_PENDING_PER_PROCESS 64

struct pending *pending_new(struct call_ctx *c)
{
    struct process *p = c->caller;
    if (p->npending >= MAX_PENDING_PER_PROCESS)
        return 0;
    struct pending *pd = kmalloc(sizeof *pd);
    if (!pd)
        return 0;
    pd->proc = p;
    pd->user_data = c->user_data;
    pd->result_addr = c->result_addr;
    pd->result_len = c->result_len;
    list_init(&pd->wait_link);
    list_add_tail(&p->pendings, &pd->proc_link);
    p->npending++;
    return pd;
}

void pending_free(struct pending *pd)
{
    list_del(&pd->wait_link);
    list_del(&pd->proc_link);
    pd->proc->npending--;
    kfree(pd);
}

void pending_complete(struct pending *pd, int result, const void *data, uint32_t len)
{
    struct process *p = pd->proc;
    if (result >= 0) {
        if (len > pd->result_len)
            result = CAP_ERR_RESULT_TOO_SMALL;
        else if (len && !vm_copy_out(&p->vm, pd->result_addr, data, len))
            result = CAP_ERR_INVALID_RESULT_BUFFER;   /* unmapped since submission */
        else
            result = (int)len;
    }
    ring_post(p, pd->user_data, result, 0);
    pending_free(pd);
}
