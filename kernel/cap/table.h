#ifndef CAP_TABLE_H
#define CAP_TABLE_H
#include "kobj.h"

/* A process's capability table. A cap id is (generation << 16) | slot; the
 * generation changes whenever a slot is released, so a stale id can never
 * reach whatever later occupies the slot. */
struct cap_slot {
    struct kobj *obj;
    uint16_t gen;
    uint16_t flags;        /* CAP_SLOT_RESERVED while a move of it is in flight */
    uint32_t _pad;
};
#define CAP_SLOT_RESERVED 1u

struct cap_table {
    struct cap_slot *slots;
    uint32_t nslots;
    uint32_t used;
};

#define CAP_SLOT(id) ((id) & 0xFFFFu)
#define CAP_GEN(id)  ((id) >> 16)

int  cap_table_init(struct cap_table *t, uint32_t nslots);
void cap_table_destroy(struct cap_table *t);           /* releases every cap */
/* Insert a reference (the table takes it over); returns the cap id, or a
 * negative CAP_ERR_OVERLOADED when the table is full. */
int64_t cap_insert(struct cap_table *t, struct kobj *o);
/* Look up; returns 0 or CAP_ERR_INVALID_CAP / CAP_ERR_STALE_CAP. */
int  cap_lookup(struct cap_table *t, uint32_t id, struct kobj **out);
int  cap_release(struct cap_table *t, uint32_t id);
/* Empty a slot without dropping its reference (it moves elsewhere). */
void cap_take(struct cap_table *t, uint32_t id);
/* Reserve a slot for a move (lookups fail with CAP_ERR_CAP_IN_TRANSFER until
 * cap_unreserve or cap_take). */
int  cap_reserve(struct cap_table *t, uint32_t id);
void cap_unreserve(struct cap_table *t, uint32_t id);
#endif
