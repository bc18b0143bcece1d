#ifndef RING_RING_H
#define RING_RING_H
#include "types.h"
struct process;
/* SYS_CAP_ENTER */
int64_t ring_enter(struct process *p, uint32_t min_complete, uint64_t timeout_ns);
/* Post a completion to p's CQ (or its overflow queue when the CQ is full) and
 * wake a thread waiting for it. */
void ring_post(struct process *p, uint64_t user_data, int32_t result, uint32_t nxfer);
void ring_discard_overflow(struct process *p);
/* 0 if [addr, addr+len) is mapped user memory of p (writable if asked) clear
 * of the ring and the CapSet page; else err or CAP_ERR_BUFFER_OVERLAPS_RING. */
int ring_check_buffer(struct process *p, uint64_t addr, uint32_t len, bool write, int err);
#endif
