/* The typed client of the kernel's Timer. */
#include "capos.h"

uint64_t rt_timer_now(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_now_Results_reader r;
    if (capos_Timer_now(&cl, &b, &call, &r))
        return 0;
    return capos_Timer_now_Results_get_ns(r);
}

int rt_timer_sleep_until(uint64_t deadline)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_sleepUntil_Results_reader r;
    return rt_error(capos_Timer_sleepUntil(&cl, &b, &call, deadline, &r));
}
