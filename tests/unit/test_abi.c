/* The ring ABI's layout is a contract with user space: pin every size and
 * offset so a change is a deliberate one. */
#include <stdio.h>
#include <stddef.h>
#include "capos/abi.h"
#include "capos/bootpkg.h"

_Static_assert(sizeof(struct cap_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct cap_cqe) == 32, "CQE is 32 bytes");
_Static_assert(offsetof(struct cap_sqe, user_data) == 8, "");
_Static_assert(offsetof(struct cap_sqe, interface_id) == 16, "");
_Static_assert(offsetof(struct cap_sqe, addr) == 24, "");
_Static_assert(offsetof(struct cap_sqe, len) == 32, "");
_Static_assert(offsetof(struct cap_sqe, method_id) == 36, "");
_Static_assert(offsetof(struct cap_sqe, result_addr) == 40, "");
_Static_assert(offsetof(struct cap_sqe, result_len) == 48, "");
_Static_assert(offsetof(struct cap_sqe, call_id) == 52, "");
_Static_assert(offsetof(struct cap_sqe, xfer_addr) == 56, "");
_Static_assert(offsetof(struct cap_cqe, result) == 8, "");
_Static_assert(offsetof(struct cap_cqe, xfer_result_count) == 16, "");
_Static_assert(sizeof(struct cap_ring_hdr) == 128, "header: two cache lines");
_Static_assert(offsetof(struct cap_ring_hdr, sq_tail) == 64, "user-written fields on their own line");
_Static_assert((RING_SQ_ENTRIES & (RING_SQ_ENTRIES - 1)) == 0, "");
_Static_assert((RING_CQ_ENTRIES & (RING_CQ_ENTRIES - 1)) == 0, "");
_Static_assert(RING_CQ_ENTRIES >= 2 * RING_SQ_ENTRIES, "");
_Static_assert(RING_SIZE % 4096 == 0, "");
_Static_assert(RING_VADDR + RING_SIZE <= CAPSET_VADDR, "");
_Static_assert(CAPSET_VADDR + 4096 <= ring_vaddr(1), "the CapSet page sits below every thread's ring");
_Static_assert(RING_SIZE <= RING_STRIDE && RING_STRIDE % 4096 == 0, "a thread's ring fits its slot");
_Static_assert(ring_vaddr(0) == RING_VADDR, "the first thread's ring is where the process entry says");
_Static_assert(ring_vaddr(PROC_MAX_THREADS - 1) + RING_SIZE <= RING_AREA_END, "");
_Static_assert(RING_AREA_END <= USER_STACK_TOP - USER_STACK_SIZE, "the ring area stays below the stack");
_Static_assert(sizeof(struct capset) <= 4096, "CapSet fits its page");
_Static_assert(sizeof(struct cap_result_cap) == 16, "");
_Static_assert(sizeof(struct bootpkg_entry) == 48, "");

int main(void)
{
    /* free-running indices: the distance survives wrap-around */
    unsigned head = 0xFFFFFFF0u, tail = head + 40;
    if (tail - head != 40) {
        printf("FAIL index wrap\n");
        return 1;
    }
    printf("unit/abi: layout pinned\n");
    return 0;
}
