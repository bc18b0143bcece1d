/*
 * The ring as a transport for the schema's generated client stubs: a stub
 * builds its params message and calls rt_transport, which submits one CALL
 * (capabilities in the params travel as copy descriptors, in the order of the
 * message's capability table) and waits for its completion. Result caps come
 * back as the kernel's records, in the order of the result's capability table.
 */
#include "capos.h"

__thread uint64_t rt_result_ifaces[CAP_MAX_XFER];

int rt_transport(void *ctx, uint64_t iface, uint16_t method, const void *params, size_t plen,
                 const uint32_t *param_caps, uint32_t nparam_caps, void *result, size_t rcap,
                 size_t *rlen, uint32_t *result_caps, uint32_t rcaps_cap, uint32_t *rncaps)
{
    const uint32_t *cap = ctx;
    struct cap_xfer x[CAP_MAX_XFER];
    if (nparam_caps > CAP_MAX_XFER || plen > CAP_MAX_PARAMS || rcap > 0xFFFFFFFFu)
        return RT_TRANSPORT_ERR(CAP_ERR_INVALID_ARGUMENT);
    for (uint32_t i = 0; i < nparam_caps; i++)
        x[i] = (struct cap_xfer){ param_caps[i], CAP_XFER_COPY };
    struct cap_sqe s = {
        .opcode = CAP_OP_CALL, .cap_id = *cap, .interface_id = iface, .method_id = method,
        .addr = (uint64_t)params, .len = (uint32_t)plen,
        .result_addr = (uint64_t)result, .result_len = (uint32_t)rcap,
        .xfer_cap_count = (uint8_t)nparam_caps, .xfer_addr = nparam_caps ? (uint64_t)x : 0,
    };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    if (c.result < 0)
        return RT_TRANSPORT_ERR(c.result);
    *rlen = (size_t)c.result;
    *rncaps = 0;
    if (c.xfer_result_count) {
        const struct cap_result_cap *rc =
            (const void *)((const uint8_t *)result + (((size_t)c.result + 7) & ~(size_t)7));
        for (uint32_t i = 0; i < c.xfer_result_count; i++) {
            if (i < rcaps_cap) {
                result_caps[i] = rc[i].cap_id;
                if (i < CAP_MAX_XFER)
                    rt_result_ifaces[i] = rc[i].interface_id;
            }
            else
                rt_release(rc[i].cap_id);   /* more than the caller can take: do not leak */
        }
        *rncaps = c.xfer_result_count < rcaps_cap ? c.xfer_result_count : rcaps_cap;
    }
    return CAPNP_OK;
}

int rt_error(int e)
{
    if (e >= RT_TRANSPORT_BASE)
        return -(e - RT_TRANSPORT_BASE);
    return e ? CAP_ERR_INVALID_ARGUMENT : 0;   /* a codec error in our own message */
}
