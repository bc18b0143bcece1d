/* ParkSpace clients: parking the calling thread and waking others. */
#include "rt_internal.h"

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
    capos_ParkSpace_wait_Params_set_thread(p, rt_thread_self());
    capnp_builder_finish(&b, &len);
    memset(result, 0, sizeof result);
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .flags = CAP_SQE_F_SILENT, .cap_id = cap, .interface_id = capos_ParkSpace_ID,
        .method_id = capos_ParkSpace_METHOD_wait, .addr = (uint64_t)params, .len = (uint32_t)len,
        .result_addr = (uint64_t)result, .result_len = sizeof result,
    };
    rt_ring_submit_tagged(&s, RT_INTERNAL_TAG);
    /* the kernel processes the wait in order and keeps us here until it
     * resolves; the result is written before we run again */
    sys_cap_enter(0, 0);
    /* the completion itself goes to the drainer, which drops it; the result
     * message is in our buffer: one segment, its length in the table */
    uint32_t words;
    memcpy(&words, result + 4, 4);
    capnp_msg m;
    if (words > (sizeof result - 8) / 8 || capnp_msg_init(&m, result, 8 + (size_t)words * 8) != CAPNP_OK)
        return -1;
    return capos_ParkSpace_wait_Results_get_result(capos_ParkSpace_wait_Results_read_root(&m));
}

void rt_park_wait_self(volatile uint32_t *word, uint32_t seq)
{
    rt_park_wait(word, seq, 0);
}

/* Params of queued wakes must live until the kernel reads them: one buffer
 * per SQ entry, reused round robin. */
static uint8_t wake_params[RING_SQ_ENTRIES][48] __attribute__((aligned(8)));
static uint32_t wake_next;

static void submit_wake(volatile uint32_t *word, uint32_t count)
{
    uint8_t *buf = wake_params[wake_next++ % RING_SQ_ENTRIES];
    capnp_builder b;
    size_t len = 0;
    capnp_builder_init(&b, buf, 48);
    capos_ParkSpace_wake_Params_builder p = capos_ParkSpace_wake_Params_init_root(&b);
    capos_ParkSpace_wake_Params_set_addr(p, (uint64_t)word);
    capos_ParkSpace_wake_Params_set_count(p, count);
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .flags = CAP_SQE_F_SILENT, .cap_id = park(), .interface_id = capos_ParkSpace_ID,
        .method_id = capos_ParkSpace_METHOD_wake, .addr = (uint64_t)buf, .len = (uint32_t)len,
    };
    rt_submit_locked(&s, RT_INTERNAL_TAG);
}

void rt_park_wake_async(volatile uint32_t *word)
{
    if (park() != ~1u)
        submit_wake(word, 1);
}

void rt_park_wake(volatile uint32_t *word, uint32_t count)
{
    if (park() == ~1u)
        return;
    rt_lock(&rt_ring_lock);
    submit_wake(word, count);
    rt_unlock(&rt_ring_lock);
    sys_cap_enter(0, 0);                           /* process it now */
}
