#include "table.h"
#include "mm/kheap.h"
#include "kprintf.h"

int cap_table_init(struct cap_table *t, uint32_t nslots)
{
    t->slots = kmalloc(nslots * sizeof *t->slots);
    if (!t->slots)
        return -1;
    for (uint32_t i = 0; i < nslots; i++)
        t->slots[i].gen = 1;
    t->nslots = nslots;
    t->used = 0;
    return 0;
}

void cap_table_destroy(struct cap_table *t)
{
    if (!t->slots)
        return;
    for (uint32_t i = 0; i < t->nslots; i++)
        if (t->slots[i].obj)
            kobj_put(t->slots[i].obj);
    kfree(t->slots);
    t->slots = 0;
    t->used = 0;
}

int64_t cap_insert(struct cap_table *t, struct kobj *o)
{
    for (uint32_t i = 0; i < t->nslots; i++) {
        if (!t->slots[i].obj) {
            t->slots[i].obj = o;
            t->used++;
            return (int64_t)(((uint32_t)t->slots[i].gen << 16) | i);
        }
    }
    return CAP_ERR_OVERLOADED;
}

int cap_lookup(struct cap_table *t, uint32_t id, struct kobj **out)
{
    uint32_t i = CAP_SLOT(id);
    if (i >= t->nslots)
        return CAP_ERR_INVALID_CAP;
    struct cap_slot *s = &t->slots[i];
    if (s->gen != CAP_GEN(id))
        return CAP_ERR_STALE_CAP;
    if (!s->obj)
        return CAP_ERR_INVALID_CAP;
    if (s->flags & CAP_SLOT_RESERVED)
        return CAP_ERR_CAP_IN_TRANSFER;
    *out = s->obj;
    return 0;
}

/* Empty a slot without dropping its reference (the caller has it now). */
void cap_take(struct cap_table *t, uint32_t id)
{
    KASSERT(CAP_SLOT(id) < t->nslots && t->used > 0);
    struct cap_slot *s = &t->slots[CAP_SLOT(id)];
    KASSERT(s->obj);
    s->obj = 0;
    s->flags = 0;
    if (++s->gen == 0)
        s->gen = 1;
    t->used--;
}

int cap_reserve(struct cap_table *t, uint32_t id)
{
    struct kobj *o;
    int r = cap_lookup(t, id, &o);
    if (r)
        return r;
    t->slots[CAP_SLOT(id)].flags |= CAP_SLOT_RESERVED;
    return 0;
}

void cap_unreserve(struct cap_table *t, uint32_t id)
{
    if (CAP_SLOT(id) < t->nslots)
        t->slots[CAP_SLOT(id)].flags &= (uint16_t)~CAP_SLOT_RESERVED;
}

int cap_release(struct cap_table *t, uint32_t id)
{
    struct kobj *o;
    int r = cap_lookup(t, id, &o);
    if (r)
        return r;
    cap_take(t, id);
    kobj_put(o);
    return 0;
}
