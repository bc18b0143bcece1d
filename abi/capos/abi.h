/*
 * The capOS kernel ABI: everything user space and the kernel must agree on.
 *
 * Two system calls (SYSCALL instruction, number in RAX):
 *   SYS_CAP_ENTER (0): rdi = min_complete, rsi = timeout_ns (0 = do not wait,
 *                      ~0 = wait forever), rdx = the calling thread's own ring.
 *                      Processes every SQE submitted on that ring, then waits
 *                      until at least min_complete CQEs are available on it or
 *                      the timeout passes. Returns the number of CQEs available,
 *                      or CAP_ERR_WRONG_THREAD if rdx is not the caller's ring.
 *   SYS_EXIT (1):      rdi = exit code. Never returns.
 * Everything else is an SQE opcode on the calling thread's ring.
 *
 * Every thread has its own ring (header, SQ, CQ). The main thread's is at
 * RING_VADDR; a thread made by ThreadSpawner gets one at ring_vaddr(slot).
 * A call's completion goes to the CQ of the thread that submitted it, and
 * only that thread is woken; the ring goes away when its thread ends.
 *
 * Process entry: rdi = ring address, rsi = process id, rdx = CapSet address,
 * rcx = the main thread's id; rsp is 16-byte aligned minus 8 as after a call.
 * Thread entry (ThreadSpawner): rdi = its ring, rsi = arg, rcx = its id.
 */
#ifndef CAPOS_ABI_H
#define CAPOS_ABI_H

#include <stdint.h>

#define SYS_CAP_ENTER 0
#define SYS_EXIT      1

#define CAP_TIMEOUT_FOREVER (~0ull)

/* ---- Ring layout (one region at RING_VADDR, read/write, never executable) ---- */
#define RING_VADDR      0x00007f0000000000ull
#define RING_SQ_ENTRIES 256u               /* power of two */
#define RING_CQ_ENTRIES 512u               /* power of two, >= 2 * SQ */
#define RING_HDR_SIZE   4096u
#define RING_SQ_OFFSET  RING_HDR_SIZE
#define RING_CQ_OFFSET  (RING_SQ_OFFSET + RING_SQ_ENTRIES * 64u)
#define RING_SIZE       (RING_CQ_OFFSET + RING_CQ_ENTRIES * 32u)   /* 9 pages */

#define CAPSET_VADDR    0x00007f0000100000ull  /* read-only CapSet page */
/* The rings of threads made by ThreadSpawner: slot s (1 .. PROC_MAX_THREADS-1)
 * at THREAD_RINGS_VADDR + s * RING_STRIDE (slot 0, the first thread's, is at
 * RING_VADDR). No buffer of any call may lie in [RING_VADDR, RING_AREA_END). */
#define PROC_MAX_THREADS   32u
#define RING_STRIDE        0x10000ull          /* a ring, then an unmapped gap */
#define THREAD_RINGS_VADDR 0x00007f0000200000ull
#define RING_AREA_END      (THREAD_RINGS_VADDR + PROC_MAX_THREADS * RING_STRIDE)
#define ring_vaddr(slot)   ((slot) ? THREAD_RINGS_VADDR + (uint64_t)(slot) * RING_STRIDE : RING_VADDR)
#define USER_STACK_TOP  0x00007ff000000000ull
#define USER_STACK_SIZE (64u * 1024u)
#define USER_TOP        0x0000800000000000ull  /* first non-user address */

/* Indices are free-running u32 counters; slot = index & (entries - 1).
 * User space writes sq_tail and cq_head; the kernel writes sq_head and cq_tail.
 * The two sides live on separate cache lines. */
struct cap_ring_hdr {
    /* written by the kernel */
    volatile uint32_t sq_head;
    volatile uint32_t cq_tail;
    volatile uint32_t cq_overflow;   /* completions queued in the kernel, waiting for CQ room */
    volatile uint32_t flags;         /* CAP_RING_F_* */
    volatile uint32_t corrupt_count; /* how often a bad index was repaired */
    uint32_t sq_entries;
    uint32_t cq_entries;
    uint32_t _kpad[9];
    /* written by user space */
    volatile uint32_t sq_tail;
    volatile uint32_t cq_head;
    uint32_t _upad[14];
};
#define CAP_RING_F_CORRUPTED 1u   /* a head/tail index was found corrupt and repaired */

/* Opcodes */
#define CAP_OP_NOP     0
#define CAP_OP_CALL    1
#define CAP_OP_RECV    2   /* endpoint owner: take the next call into the result buffer */
#define CAP_OP_RETURN  3   /* endpoint owner: answer the call named by call_id */
#define CAP_OP_RELEASE 4

struct cap_sqe {                 /* 64 bytes */
    uint8_t  opcode;             /* CAP_OP_* */
    uint8_t  xfer_cap_count;     /* CALL/RETURN: transfer descriptors at xfer_addr (at most CAP_MAX_XFER) */
    uint16_t flags;              /* CAP_SQE_F_*; 0 where the opcode takes none */
    uint32_t cap_id;             /* slot index | generation << 16 (RECV/RETURN: the endpoint owner) */
    uint64_t user_data;          /* echoed in the CQE */
    uint64_t interface_id;       /* CALL: the interface the caller expects */
    uint64_t addr;               /* CALL: params; RETURN: result bytes */
    uint32_t len;
    uint16_t method_id;          /* CALL: method ordinal */
    uint16_t _pad0;              /* must be 0 */
    uint64_t result_addr;        /* CALL, RECV: result buffer */
    uint32_t result_len;
    uint32_t call_id;            /* RETURN: the cap_recv_hdr.call_id being answered; 0 otherwise */
    uint64_t xfer_addr;          /* CALL/RETURN: struct cap_xfer[xfer_cap_count] */
};

struct cap_cqe {                 /* 32 bytes */
    uint64_t user_data;
    int32_t  result;             /* >= 0: bytes of result payload; < 0: CAP_ERR_* */
    uint32_t flags;              /* CAP_CQE_F_* */
    uint32_t xfer_result_count;  /* result-cap records after the payload */
    uint32_t _rsv[3];
};

/* A result capability record, placed in the result buffer after the payload,
 * at an 8-byte aligned offset. */
struct cap_result_cap {
    uint32_t cap_id;
    uint32_t _pad;
    uint64_t interface_id;
};

/* Stable error codes (CQE result, negative). Documented in kernel/README.md. */
#define CAP_OK                        0
#define CAP_ERR_INVALID_REQUEST      (-1)  /* a reserved field or flag is set */
#define CAP_ERR_INVALID_PARAMS_BUFFER (-2) /* params not in mapped user memory */
#define CAP_ERR_INVALID_RESULT_BUFFER (-3) /* result buffer not mapped writable user memory */
#define CAP_ERR_INVOKE_FAILED        (-4)  /* the object failed the call */
#define CAP_ERR_UNSUPPORTED_OPCODE   (-5)
#define CAP_ERR_INVALID_CAP          (-6)  /* slot index out of range or empty */
#define CAP_ERR_STALE_CAP            (-7)  /* generation does not match: slot was released/reused */
#define CAP_ERR_WRONG_INTERFACE      (-8)
#define CAP_ERR_UNKNOWN_METHOD       (-9)
#define CAP_ERR_RESULT_TOO_SMALL     (-10)
#define CAP_ERR_OVERLOADED           (-11) /* a quota is exhausted (outstanding calls, memory, slots) */
#define CAP_ERR_RING_CORRUPT         (-12) /* head/tail index out of range: repaired, SQEs dropped */
#define CAP_ERR_BUFFER_OVERLAPS_RING (-13)
#define CAP_ERR_PARAMS_TOO_LARGE     (-14)
#define CAP_ERR_INVALID_ARGUMENT     (-15) /* the method rejected its parameters */
#define CAP_ERR_DISCONNECTED         (-16)
#define CAP_ERR_NOT_FOUND            (-17)
#define CAP_ERR_CAP_IN_TRANSFER      (-18) /* the slot is reserved by a move still in flight */
#define CAP_ERR_INVALID_TRANSFER     (-19) /* bad transfer descriptor (mode, count, same cap moved twice) */
#define CAP_ERR_SESSION_REVOKED      (-20) /* the caller's session was revoked: fail closed */
#define CAP_ERR_NOT_OWNER            (-21) /* RECV/RETURN on something that is not an endpoint's owner side */
#define CAP_ERR_NO_SUCH_CALL         (-22) /* RETURN names a call that is not in flight on that endpoint */
#define CAP_ERR_MESSAGE_TOO_LARGE    (-23) /* a call's params or a return's result over the endpoint bound */
#define CAP_ERR_APPLICATION          (-24) /* the server failed the call (RETURN with CAP_SQE_F_FAIL) */
#define CAP_ERR_WRONG_THREAD         (-25) /* cap_enter on a ring that is not the caller's, or a
                                            * thread-directed call naming a thread other than the caller */

/* Limits */
#define CAP_MAX_PARAMS   16384u    /* bytes of params per CALL (a Nic.send of ten full frames) */
#define CAP_MAX_RESULT   16384u    /* bytes of result payload per CALL (a Nic.receive of ten) */
#define CAP_MAX_XFER     16u       /* transfer descriptors per CALL or RETURN */
#define EP_MAX_QUEUE     32u       /* calls waiting on one endpoint */
#define PROC_MAX_PENDING 64u       /* calls one process has waiting for completion */

/* ---- Capability transfer: xfer_addr points at xfer_cap_count of these ---- */
#define CAP_XFER_COPY 0u           /* the receiver gets a new reference; the sender keeps its own */
#define CAP_XFER_MOVE 1u           /* the sender's slot is reserved, then emptied when the receiver accepts */
struct cap_xfer {
    uint32_t cap_id;
    uint32_t mode;
};
/* In a CALL's params (Cap'n Proto), capability pointer i names descriptor i.
 * Capabilities that arrive (result caps, RECV caps) are listed as
 * struct cap_result_cap records; capability pointer i names record i. */

/* SQE flags */
#define CAP_SQE_F_FAIL   1u        /* RETURN: fail the call (caller sees CAP_ERR_APPLICATION) */
#define CAP_SQE_F_SILENT 2u        /* CALL: post no completion if it succeeds (results still land in the buffer);
                                    * RETURN: likewise (the caller is answered as ever), so a server's
                                    * RETURN and next RECV wait in one cap_enter for the next call */

/* ---- Endpoints: what a RECV delivers at the start of its result buffer ---- */
#define CAP_RECV_F_PRINCIPAL 1u    /* principal[] is filled (the endpoint may disclose it) */
#define CAP_RECV_F_PROFILE   2u
#define CAP_RECV_F_RELEASED  4u    /* not a call: the last holder of the facet with this badge
                                     * (minted with notifyRelease) dropped it; never RETURNed */
struct cap_recv_hdr {
    uint32_t call_id;              /* name this in the RETURN */
    uint16_t method_id;
    uint16_t flags;                /* CAP_RECV_F_* */
    uint64_t interface_id;
    uint64_t badge;                /* the facet's routing label (owner-chosen, not identity) */
    uint64_t caller_ref[2];        /* opaque, stable per (endpoint scope, caller session); kernel-derived */
    uint64_t session_epoch;        /* changes when the caller's session is revoked */
    uint32_t params_len;           /* params follow this header */
    uint32_t ncaps;                /* cap records follow the params, 8-aligned */
    char     principal[32];
    char     profile[32];
};

/* ---- CapSet page: which capability sits in which slot under which name ---- */
#define CAPSET_MAGIC   0x74655370614363ull   /* "cCapSet" */
#define CAPSET_MAX     64u
#define CAPSET_NAME    24u
#define CAPSET_ARGS    1024u         /* bytes of arguments, NUL included */
struct capset_entry {
    char     name[CAPSET_NAME];  /* NUL-terminated */
    uint32_t cap_id;
    uint32_t _pad;
    uint64_t interface_id;
};
struct capset {
    uint64_t magic;
    uint32_t count;
    uint32_t pid;
    char     args[CAPSET_ARGS];  /* the program's arguments (init: the boot command line) */
    struct capset_entry entries[CAPSET_MAX];
};

#endif
