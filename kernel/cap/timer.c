/*
 * Timer: monotonic time since boot.
 *   now() -> ns            nanoseconds since boot.
 *   sleepUntil(deadlineNs) completes once now() >= deadline (at the next
 *                          1 ms tick).
 *   clock() -> (tscBase, nsMult)   now()'s terms, so a holder can read the
 *                          time itself with rdtsc (the runtime does).
 */
#include "objects.h"
#include "arch/x86_64/lapic.h"

static struct list sleepers = LIST_INIT(sleepers);

void timer_expire(uint64_t now)
{
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &sleepers) {
        struct pending *pd = container_of(n, struct pending, wait_link);
        if (pd->timer.deadline_ns <= now)
            pending_complete_empty(pd);
    }
}

static int timer_now(void *self, capos_Timer_now_Params_reader p, capos_Timer_now_Results_builder r)
{
    capos_Timer_now_Results_set_ns(r, time_now_ns());
    return CAPNP_OK;
}

static int timer_sleep_until(void *self, capos_Timer_sleepUntil_Params_reader p, capos_Timer_sleepUntil_Results_builder r)
{
    uint64_t deadline = capos_Timer_sleepUntil_Params_get_deadlineNs(p);
    if (deadline <= time_now_ns())
        return CAPNP_OK;
    struct pending *pd = pending_new(self, PENDING_TIMER);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    pd->timer.deadline_ns = deadline;
    list_add_tail(&sleepers, &pd->wait_link);
    return CALL_PENDING;
}

static int timer_clock(void *self, capos_Timer_clock_Params_reader p, capos_Timer_clock_Results_builder r)
{
    uint64_t base, mult;
    time_calibration(&base, &mult);
    capos_Timer_clock_Results_set_tscBase(r, base);
    capos_Timer_clock_Results_set_nsMult(r, mult);
    return CAPNP_OK;
}

static const capos_Timer_server timer_server = { .now = timer_now, .sleepUntil = timer_sleep_until,
                                                 .clock = timer_clock };
static int timer_call(struct kobj *o, struct call_ctx *c) { return capos_Timer_dispatch(&timer_server, c, &c->sc); }
static const struct kobj_type timer_type = { "Timer", IFACE_TIMER, timer_call, 0 };
struct kobj timer_obj = KOBJ_STATIC(timer_type, IFACE_TIMER);
