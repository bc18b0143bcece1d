/*
 * sqefuzz: throws pseudo-random SQEs at the kernel (seeded, so a failure
 * replays): random opcodes, cap ids, interface ids, methods, buffers
 * (null, kernel, ring, CapSet, unmapped, its own memory), lengths, transfer
 * descriptors and flags, and now and then a clobbered ring index. Nothing it
 * does may hurt the kernel or anyone else; init checks the kernel's counters
 * after it exits.
 */
#include "rt/capos.h"
#include "capos_test.capnp.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint8_t mem[8192] __attribute__((aligned(4096)));
static const char text_page[64] = "read-only";

static uint64_t pick_addr(void)
{
    switch (next() % 9) {
    case 0: return 0;
    case 1: return 0xFFFF800000000000ull + (next() % 0x100000);
    case 2: return RING_VADDR + (next() % RING_SIZE);
    case 3: return CAPSET_VADDR + (next() % 4096);
    case 4: return next() & 0x00007FFFFFFFFFFFull;
    case 5: return (uint64_t)text_page;
    default: return (uint64_t)mem + (next() % sizeof mem);
    }
}

static uint32_t pick_len(void)
{
    switch (next() % 5) {
    case 0: return 0;
    case 1: return (uint32_t)next();
    case 2: return (uint32_t)(next() % 8192);
    default: return (uint32_t)(next() % 256);
    }
}

int main(void)
{
    const char *seed = rt_capset->args;
    for (; *seed; seed++)
        rng = rng * 31 + (uint8_t)*seed;
    static const uint64_t ifaces[] = { IFACE_CONSOLE, IFACE_TIMER, IFACE_VIRTUAL_MEMORY, IFACE_ENDPOINT_FACTORY,
                                       IFACE_ENDPOINT, capos_test_IpcProbe_ID, 0, 0x1234 };
    uint32_t caps[8];
    uint32_t ncaps = 0;
    for (uint32_t i = 0; i < rt_capset->count && ncaps < 6; i++)
        if (strcmp(rt_capset->entries[i].name, "console"))   /* it reports through console; it does not fuzz it */
            caps[ncaps++] = rt_capset->entries[i].cap_id;
    uint32_t owner, facet;
    if (rt_endpoint_create((uint32_t)rt_capset_require("endpoints"), capos_test_IpcProbe_ID, 3, &owner, &facet) == 0) {
        caps[ncaps++] = owner;
        caps[ncaps++] = facet;
    }
    struct cap_sqe *sq = (struct cap_sqe *)((char *)rt_ring + RING_SQ_OFFSET);
    uint64_t completions = 0, errors = 0;
    const int rounds = 20000;
    for (int i = 0; i < rounds; i++) {
        struct cap_xfer x[4];
        for (int k = 0; k < 4; k++)
            x[k] = (struct cap_xfer){ next() % 3 ? caps[next() % ncaps] : (uint32_t)next(), (uint32_t)(next() % 3) };
        struct cap_sqe s = {
            .opcode = (uint8_t)(next() % 7),
            .flags = (uint16_t)(next() % 5 == 0 ? next() % 4 : 0),
            .cap_id = next() % 4 ? caps[next() % ncaps] : (uint32_t)next(),
            .interface_id = ifaces[next() % 8],
            .method_id = (uint16_t)(next() % 4),
            .addr = pick_addr(), .len = pick_len(),
            .result_addr = pick_addr(), .result_len = pick_len(),
            .xfer_cap_count = (uint8_t)(next() % 6 == 0 ? next() % 20 : 0),
            .xfer_addr = next() % 2 ? (uint64_t)x : pick_addr(),
            .call_id = next() % 4 == 0 ? (uint32_t)next() : 0,
        };
        /* never ask for a line of input or a sleep that would outlive us:
         * those calls only park as pending, which is fine, but keep the
         * console quiet */
        if (s.interface_id == IFACE_CONSOLE && s.method_id == 0)
            s.method_id = 9;
        uint32_t tail = rt_ring->sq_tail;
        if (tail - rt_ring->sq_head < RING_SQ_ENTRIES) {
            sq[tail & (RING_SQ_ENTRIES - 1)] = s;
            rt_ring->sq_tail = tail + 1;
        }
        if (next() % 500 == 0)
            rt_ring->sq_tail = (uint32_t)next();        /* a clobbered index */
        if (next() % 700 == 0)
            rt_ring->cq_head = (uint32_t)next();
        if (i % 8 == 0 || next() % 3 == 0) {
            int64_t n = sys_cap_enter(0, 0);
            if (n < 0)
                errors++;
            /* consume whatever completed */
            uint32_t head = rt_ring->cq_head, ct = rt_ring->cq_tail;
            if (ct - head <= RING_CQ_ENTRIES) {
                completions += ct - head;
                rt_ring->cq_head = ct;
            } else {
                rt_ring->cq_head = ct;
            }
        }
    }
    /* put the ring back in order and prove the kernel still serves us */
    rt_ring->sq_tail = rt_ring->sq_head;
    rt_ring->cq_head = rt_ring->cq_tail;
    sys_cap_enter(0, 0);
    rt_ring->cq_head = rt_ring->cq_tail;
    /* the fuzz may have released or moved away any of its caps; a NOP needs none */
    struct cap_sqe nop = { .opcode = CAP_OP_NOP, .user_data = 0xF00D };
    sq[rt_ring->sq_tail & (RING_SQ_ENTRIES - 1)] = nop;
    rt_ring->sq_tail++;
    int64_t n = sys_cap_enter(1, CAP_TIMEOUT_FOREVER);
    struct cap_cqe *cq = (struct cap_cqe *)((char *)rt_ring + RING_CQ_OFFSET);
    int nop_ok = n >= 1 && cq[(rt_ring->cq_tail - 1) & (RING_CQ_ENTRIES - 1)].user_data == 0xF00D;
    rt_ring->cq_head = rt_ring->cq_tail;
    printf("FUZZ rounds=%d completions=%lu enter-errors=%lu nop-after=%d\n", rounds, completions, errors, nop_ok);
    return 0;
}
