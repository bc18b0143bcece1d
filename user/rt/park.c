/* ParkSpace clients: parking the calling thread and waking others. Each is
 * one CALL on the thread's own ring: a wait blocks this thread in cap_enter
 * until it resolves, and its completion comes back to this thread. */
#include "capos.h"

static uint32_t park_cap = ~0u;

static uint32_t park(void)
{
    if (park_cap == ~0u) {
        int64_t c = rt_capset_lookup("park");
        park_cap = c < 0 ? ~1u : (uint32_t)c;
    }
    return park_cap;
}

int rt_park_wait(volatile uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
    uint32_t cap = park();
    if (cap == ~1u) {                              /* no ParkSpace: a short sleep instead */
        sys_cap_enter(1, timeout_ns && timeout_ns < 2000000 ? timeout_ns : 2000000);
        return capos_ParkResult_timedOut;
    }
    uint8_t params[64] __attribute__((aligned(8)));
    uint8_t result[64] __attribute__((aligned(8)));
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_ParkSpace_wait_Params_builder p = capos_ParkSpace_wait_Params_init_root(&b);
    capos_ParkSpace_wait_Params_set_addr(p, (uint64_t)word);
    capos_ParkSpace_wait_Params_set_expected(p, expected);
    capos_ParkSpace_wait_Params_set_timeoutNs(p, timeout_ns);
    capnp_builder_finish(&b, &len);                /* thread 0: the caller, the only one it may park */
    memset(result, 0, sizeof result);
    int32_t r = rt_call(cap, capos_ParkSpace_ID, capos_ParkSpace_METHOD_wait, params, (uint32_t)len,
                        result, sizeof result, 0);
    if (r < 0)
        return r;
    /* the result message: one segment, its length in the table */
    uint32_t words;
    memcpy(&words, result + 4, 4);
    capnp_msg m;
    if (words > (sizeof result - 8) / 8 || capnp_msg_init(&m, result, 8 + (size_t)words * 8) != CAPNP_OK)
        return -1;
    return capos_ParkSpace_wait_Results_get_result(capos_ParkSpace_wait_Results_read_root(&m));
}

void rt_park_wake(volatile uint32_t *word, uint32_t count)
{
    if (park() == ~1u)
        return;
    uint8_t params[48] __attribute__((aligned(8)));
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, params, sizeof params);
    capos_ParkSpace_wake_Params_builder p = capos_ParkSpace_wake_Params_init_root(&b);
    capos_ParkSpace_wake_Params_set_addr(p, (uint64_t)word);
    capos_ParkSpace_wake_Params_set_count(p, count);
    capnp_builder_finish(&b, &len);
    /* the wake completes while the kernel processes it: no waiting */
    rt_call(park(), capos_ParkSpace_ID, capos_ParkSpace_METHOD_wake, params, (uint32_t)len, 0, 0, 0);
}
