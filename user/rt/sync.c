/*
 * Mutex, condition variable and once-flag on ParkSpace (the classic
 * three-state futex mutex: the kernel is entered only under contention).
 */
#include "capos.h"

void rt_mutex_lock(struct rt_mutex *m)
{
    uint32_t c = 0;
    if (__atomic_compare_exchange_n(&m->state, &c, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;                                       /* uncontended: no kernel */
    if (c != 2)
        c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        rt_park_wait(&m->state, 2, 0);
        c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
    }
}

void rt_mutex_unlock(struct rt_mutex *m)
{
    if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) == 2)
        rt_park_wake(&m->state, 1);
}

void rt_cond_wait(struct rt_cond *c, struct rt_mutex *m)
{
    uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    rt_mutex_unlock(m);
    rt_park_wait(&c->seq, seq, 0);
    rt_mutex_lock(m);
}

void rt_cond_signal(struct rt_cond *c)
{
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
    rt_park_wake(&c->seq, 1);
}

void rt_cond_broadcast(struct rt_cond *c)
{
    __atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
    rt_park_wake(&c->seq, ~0u);
}

void rt_once(struct rt_once *o, void (*fn)(void))
{
    uint32_t s = 0;
    if (__atomic_load_n(&o->state, __ATOMIC_ACQUIRE) == 2)
        return;
    if (__atomic_compare_exchange_n(&o->state, &s, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
        fn();
        __atomic_store_n(&o->state, 2, __ATOMIC_RELEASE);
        rt_park_wake(&o->state, ~0u);
        return;
    }
    while ((s = __atomic_load_n(&o->state, __ATOMIC_ACQUIRE)) != 2)
        rt_park_wait(&o->state, s, 0);
}
