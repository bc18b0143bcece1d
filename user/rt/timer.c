/* The typed client of the kernel's Timer. */
#include "capos.h"

/*
 * The time is read here, without a call, once Timer.clock has given the
 * terms the kernel's now() uses (one call, the first time). A Timer that
 * does not give them is asked now() every time. Threads may race on the
 * first read: each stores the same values, `clock_ready` last.
 */
static uint64_t clock_base, clock_mult;
static int clock_ready;                 /* 0 not asked, 1 ready, -1 no clock() */

static uint64_t timer_now_call(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_now_Results_reader r;
    if (capos_Timer_now(&cl, &b, &call, &r))
        return 0;
    return capos_Timer_now_Results_get_ns(r);
}

static void clock_ask(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_clock_Results_reader r;
    int ready = -1;
    if (!capos_Timer_clock(&cl, &b, &call, &r) && capos_Timer_clock_Results_get_nsMult(r)) {
        clock_base = capos_Timer_clock_Results_get_tscBase(r);
        clock_mult = capos_Timer_clock_Results_get_nsMult(r);
        ready = 1;
    }
    __atomic_store_n(&clock_ready, ready, __ATOMIC_RELEASE);
}

uint64_t rt_timer_now(void)
{
    int ready = __atomic_load_n(&clock_ready, __ATOMIC_ACQUIRE);
    if (!ready) {
        clock_ask();
        ready = __atomic_load_n(&clock_ready, __ATOMIC_ACQUIRE);
    }
    if (ready < 0)
        return timer_now_call();
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t tsc = (uint64_t)hi << 32 | lo;
    return (uint64_t)(((unsigned __int128)(tsc - clock_base) * clock_mult) >> 32);
}

int rt_timer_sleep_until(uint64_t deadline)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(rt_timer);
    capnp_call call;
    capos_Timer_sleepUntil_Results_reader r;
    return rt_error(capos_Timer_sleepUntil(&cl, &b, &call, deadline, &r));
}
