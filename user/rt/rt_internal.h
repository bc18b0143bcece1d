/* Runtime internals shared by ring.c, thread.c and park.c. */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H
#include "capos.h"

#define RT_MAX_SLOTS   64                   /* threads per process the bridge can route to */
#define RT_SLOT_SHIFT  48                   /* user_data = (slot + 1) << 48 | sequence */
#define RT_SEQ_MASK    ((1ull << RT_SLOT_SHIFT) - 1)
#define RT_INTERNAL_TAG 0xFFFF000000000000ull   /* the bridge's own parks and wakes */

/* A thread's wait record (in its TCB). */
struct rt_waiter {
    volatile uint32_t word;                 /* bumped on every wake-up; parked on */
    uint32_t slot;
    uint64_t user_data;                     /* what it waits for, 0 when nothing */
    bool done;
    struct cap_cqe cqe;
};

struct rt_waiter *rt_waiter_self(void);
void rt_waiter_attach(struct rt_waiter *w, uint32_t slot);
void rt_waiter_detach(struct rt_waiter *w);
extern volatile int rt_ring_lock;
void rt_submit_locked(struct cap_sqe *s, uint64_t user_data);   /* rt_ring_lock held */
/* Park the calling thread while *word == seq (a ParkSpace wait). */
void rt_park_wait_self(volatile uint32_t *word, uint32_t seq);
/* Queue a wake of one thread parked on word; do not wait for it (ring lock held). */
void rt_park_wake_async(volatile uint32_t *word);
#endif
