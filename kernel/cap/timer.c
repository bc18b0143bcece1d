/*
 * Timer: monotonic time since boot.
 *   now()              result = u64 nanoseconds.
 *   sleepUntil(ns)     params = u64 deadline; completes (empty result) once
 *                      now() >= deadline, at the next timer tick (1 ms).
 */
#include "objects.h"
#include "../arch/x86_64/lapic.h"
#include "../../lib/c/string.h"

static int timer_call(struct kobj *o, struct call_ctx *c);
static const struct kobj_type timer_type = { "Timer", IFACE_TIMER, timer_call, 0 };
struct kobj timer_obj = { &timer_type, 1 };

static struct list sleepers = LIST_INIT(sleepers);

void timer_expire(uint64_t now)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &sleepers) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (pd->arg <= now)
            pending_complete(pd, 0, 0, 0);
    }
}

static int timer_call(struct kobj *o, struct call_ctx *c)
{
    switch (c->method) {
    case TIMER_NOW: {
        if (c->rcap < 8)
            return CAP_ERR_RESULT_TOO_SMALL;
        uint64_t now = time_now_ns();
        memcpy(c->result, &now, 8);
        return 8;
    }
    case TIMER_SLEEP_UNTIL: {
        uint64_t deadline;
        if (c->plen < 8)
            return CAP_ERR_INVALID_ARGUMENT;
        memcpy(&deadline, c->params, 8);
        if (deadline <= time_now_ns())
            return 0;
        struct pending *pd = pending_new(c);
        if (!pd)
            return CAP_ERR_OVERLOADED;
        pd->arg = deadline;
        list_add_tail(&sleepers, &pd->wait_link);
        return CALL_PENDING;
    }
    }
    return CAP_ERR_UNKNOWN_METHOD;
}
