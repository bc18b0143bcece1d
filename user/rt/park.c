/* ParkSpace clients: parking the calling thread and waking others. Each is
 * one CALL on the thread's own ring: a wait blocks this thread in cap_enter
 * until it resolves, and its completion comes back to this thread.
 *
 * The params are written directly, as the one encoding the kernel's fast
 * path reads at fixed offsets (kernel/cap/park.c): one segment, the root
 * struct pointer (offset 0, the params struct's data words, no pointers),
 * then the data words. lib/capnp's builder writes exactly this; the kernel
 * takes any other valid encoding the general way. A 64-aligned buffer of at
 * most 64 bytes never crosses a page, which the fast path also asks. */
#include "capos.h"

#define MSG_SEG(words)  ((uint64_t)(words) << 32)           /* segment count - 1 = 0; size in words */
#define MSG_ROOT(data)  ((uint64_t)(data) << 32)            /* struct pointer at offset 0, no pointers */
#define WAIT_WORDS capos_ParkSpace_wait_Params_DATA_WORDS
#define WAKE_WORDS capos_ParkSpace_wake_Params_DATA_WORDS

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
    /* addr @0, expected @8, thread @12 (0: the caller, the only one it may park), timeoutNs @16 */
    uint64_t params[2 + WAIT_WORDS] __attribute__((aligned(64))) = {
        MSG_SEG(1 + WAIT_WORDS), MSG_ROOT(WAIT_WORDS), (uint64_t)word, expected, timeout_ns,
    };
    uint64_t res[3] __attribute__((aligned(8)));   /* read only as far as the kernel wrote it */
    int32_t r = rt_call(cap, capos_ParkSpace_ID, capos_ParkSpace_METHOD_wait, params, sizeof params,
                        res, sizeof res, 0);
    if (r < 0)
        return r;
    if (r == (int32_t)sizeof res && res[0] == MSG_SEG(2) && res[1] == MSG_ROOT(1))
        return (uint16_t)res[2];                   /* the result struct's one data word */
    /* any other encoding: read it as a message, its length in the table,
     * within the r bytes the kernel wrote */
    uint8_t *result = (uint8_t *)res;
    uint32_t words;
    if (r < 8 || (uint32_t)r > sizeof res)
        return -1;
    memcpy(&words, result + 4, 4);
    capnp_msg m;
    if (words > ((uint32_t)r - 8) / 8 || capnp_msg_init(&m, result, 8 + (size_t)words * 8) != CAPNP_OK)
        return -1;
    return capos_ParkSpace_wait_Results_get_result(capos_ParkSpace_wait_Results_read_root(&m));
}

void rt_park_wake(volatile uint32_t *word, uint32_t count)
{
    if (park() == ~1u)
        return;
    /* addr @0, count @8 */
    uint64_t params[2 + WAKE_WORDS] __attribute__((aligned(64))) = {
        MSG_SEG(1 + WAKE_WORDS), MSG_ROOT(WAKE_WORDS), (uint64_t)word, count,
    };
    /* The wake is done while the kernel processes it, and it is silent: no
     * CQE when it succeeds, so one cap_enter that waits for nothing does it.
     * A failed wake still posts its CQE; it is found among the CQEs posted
     * meanwhile and taken out, so nothing stray stays in the CQ. */
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .flags = CAP_SQE_F_SILENT, .cap_id = park(),
        .interface_id = capos_ParkSpace_ID, .method_id = capos_ParkSpace_METHOD_wake,
        .addr = (uint64_t)params, .len = sizeof params,
    };
    struct cap_ring_hdr *r = rt_ring;
    const struct cap_cqe *cq = (const struct cap_cqe *)((const char *)r + RING_CQ_OFFSET);
    uint32_t before = __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE);
    uint32_t mine = r->sq_tail;                    /* our SQE's index */
    uint64_t tag = rt_ring_submit(&s);
    do                                             /* processed unless the CQ was full */
        sys_cap_enter(0, 0);
    while ((int32_t)(__atomic_load_n(&r->sq_head, __ATOMIC_ACQUIRE) - mine) <= 0);
    uint32_t after = __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE);
    if (after - before > RING_CQ_ENTRIES)
        before = after - RING_CQ_ENTRIES;
    for (uint32_t i = before; i != after; i++)
        if (cq[i & (RING_CQ_ENTRIES - 1)].user_data == tag) {
            struct cap_cqe c;
            rt_ring_wait(tag, &c);                 /* found at once: takes it out of the CQ */
            break;
        }
}
