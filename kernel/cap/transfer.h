/*
 * Capability transfer: the copy and move descriptors beside a CALL or RETURN.
 *
 * Collecting a transfer checks every descriptor before anything changes:
 * copies take a new reference, moves reserve the sender's slot (it keeps the
 * cap but cannot use, release or send it). Delivering inserts every cap into
 * the receiver's table; only when all fit does it commit (moved slots are
 * emptied, their reference now lives in the receiver). Any failure rolls
 * back: inserted caps come out again, copies are dropped, reservations end,
 * and the sender holds exactly what it held before. No cap is ever lost or
 * duplicated.
 */
#ifndef CAP_TRANSFER_H
#define CAP_TRANSFER_H
#include "kobj.h"

struct process;

struct xfer_set {
    struct process *src;        /* 0 once committed or rolled back */
    uint32_t n;
    struct kobj *obj[CAP_MAX_XFER];
    uint32_t src_id[CAP_MAX_XFER];
    uint8_t mode[CAP_MAX_XFER];
};

/* Read and check the SQE's descriptors; 0 or a CAP_ERR_* (nothing changed). */
int  xfer_collect(struct process *src, uint64_t addr, uint32_t count, struct xfer_set *x);
/* Insert into dst and commit; on failure (CAP_ERR_OVERLOADED when dst's table
 * is full) everything is rolled back. Writes one record per cap. */
int  xfer_deliver(struct xfer_set *x, struct process *dst, struct cap_result_cap *records);
/* The caps went to a kernel object that took its own references: commit. */
void xfer_commit_consumed(struct xfer_set *x);
void xfer_rollback(struct xfer_set *x);
#endif
