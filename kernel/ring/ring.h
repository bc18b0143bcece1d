/*
 * Per-thread capability rings. Every thread of a process has its own ring
 * (header, SQ, CQ) in a slot of the process's ring area (capos/abi.h:
 * ring_vaddr). cap_enter works on the calling thread's ring alone; a call
 * remembers its submitter as a ThreadRef, and its completion goes to that
 * thread's CQ and wakes that thread only.
 *
 * A ThreadRef is (slot, generation): a slot's generation is bumped when its
 * thread ends, so a completion for an ended thread finds a mismatch and is
 * dropped (its result caps released) instead of reaching a later thread in
 * the same slot. Guarded by the BKL like everything else (sched/lock.h).
 */
#ifndef RING_RING_H
#define RING_RING_H
#include "types.h"
#include "list.h"
#include "capos/abi.h"

struct process;
struct thread;
struct pending;

struct thread_ref {
    uint32_t slot;             /* index into the process's rings[] */
    uint32_t gen;              /* must equal the process's ring_gen[slot] */
};

/* A ring's life: made for a thread (NEW), bound to it until it ends
 * (BOUND), then either freed or kept mapped in its slot as a SPARE for the
 * process's next thread (at most RING_SPARES per process), which finds it
 * with its header cleared. A spare is never posted to: its slot's
 * generation was bumped when its thread ended. */
enum ring_state { RING_NEW, RING_BOUND, RING_SPARE };
#define RING_SPARES 4

struct ring {
    enum ring_state state;
    struct thread *thread;     /* the one thread that enters this ring (BOUND only) */
    struct thread_ref ref;
    vaddr_t va;                /* where the thread sees it */
    paddr_t pa;                /* RING_SIZE contiguous bytes, mapped into the space (the space owns the frames) */
    /* shared pages, reached through the direct map */
    struct cap_ring_hdr *hdr;
    struct cap_sqe *sq;
    struct cap_cqe *cq;
    uint32_t sq_head;          /* the kernel's own copies: the shared ones are only reports */
    uint32_t cq_tail;
    struct list overflow;      /* completions waiting for CQ room */
    uint32_t noverflow;
};

/* SYS_CAP_ENTER for self, the current thread; ring_addr must be its own ring. */
int64_t ring_enter(struct thread *self, uint32_t min_complete, uint64_t timeout_ns, uint64_t ring_addr);

/* Push c onto r's CQ (the caller made sure of the room) and publish it. */
static inline void ring_cq_push(struct ring *r, const struct cap_cqe *c)
{
    r->cq[r->cq_tail & (RING_CQ_ENTRIES - 1)] = *c;
    __atomic_store_n(&r->hdr->cq_tail, ++r->cq_tail, __ATOMIC_RELEASE);
}

/* A NOP's completion: its user_data echoed, result 0. */
static inline void ring_nop_cqe(struct cap_cqe *c, const volatile struct cap_sqe *sp)
{
    c->user_data = sp->user_data;
    *(uint64_t *)&c->result = 0;              /* result and flags */
    c->xfer_result_count = 0;
}

/*
 * cap_enter's NOP fast path, inline in the system call (arch/x86_64/
 * syscall.c) before ring_enter. r is the current thread's ring (0: none),
 * and the thread has no park pending. The SQEs submitted are taken while
 * they are NOPs, when ring_addr names r, nothing waits for CQ room and the
 * CQ has room for all of them; their CQEs are written and published once.
 * It returns true, with *used the CQEs available, when that took every SQE
 * and nothing is left to wait for (min_complete is there, or no timeout).
 * Otherwise it returns false, having done exactly what ring_enter's loop
 * (process_sqes) does before that point (nothing, when the first SQE is not
 * a NOP or a check fails), and ring_enter goes on from there and decides
 * everything else, so every error and every wait is its.
 */
static inline bool ring_enter_nops(struct ring *r, uint32_t min_complete, uint64_t timeout_ns,
                                   uint64_t ring_addr, int64_t *used)
{
    if (__builtin_expect(!r || ring_addr != r->va || !list_empty(&r->overflow), 0))
        return false;
    struct cap_ring_hdr *hdr = r->hdr;
    const volatile struct cap_sqe *sq = r->sq;
    uint32_t tail = __atomic_load_n(&hdr->sq_tail, __ATOMIC_ACQUIRE);
    uint32_t head = r->sq_head, n = tail - head;
    const volatile struct cap_sqe *sp = &sq[head & (RING_SQ_ENTRIES - 1)];
    if (n && sp->opcode != CAP_OP_NOP)
        return false;                          /* a call: ring_enter's, untouched */
    uint32_t ct = r->cq_tail, u = ct - hdr->cq_head;
    if (__builtin_expect((uint64_t)u + n > RING_CQ_ENTRIES || n > RING_SQ_ENTRIES, 0))
        return false;                          /* a corrupt index, or no room: ring_enter's */
    struct cap_cqe *cq = r->cq;
    bool all = true;
    if (n) {                                   /* sp, the first, is a NOP */
        ring_nop_cqe(&cq[ct++ & (RING_CQ_ENTRIES - 1)], sp);
        for (head++; head != tail; head++) {
            sp = &sq[head & (RING_SQ_ENTRIES - 1)];
            if (__builtin_expect(sp->opcode != CAP_OP_NOP, 0)) {
                all = false;
                break;
            }
            ring_nop_cqe(&cq[ct++ & (RING_CQ_ENTRIES - 1)], sp);
        }
    }
    u += ct - r->cq_tail;
    r->sq_head = head;
    r->cq_tail = ct;
    __atomic_store_n(&hdr->cq_tail, ct, __ATOMIC_RELEASE);
    __atomic_store_n(&hdr->sq_head, head, __ATOMIC_RELEASE);
    *used = u;
    return all && (u >= min_complete || !timeout_ns);
}
/* (ipc.c) The thread pd's completion would wake now, if it can be switched to
 * directly: its ring live with CQ room and nothing waiting for room, the
 * thread blocked in cap_enter for one CQE more, not parked, not current.
 * Else 0. */
struct thread *ring_direct_target(const struct pending *pd);
/* Post pd's completion (no caps) to its thread's CQ without waking it: the
 * caller switches to it (ring_direct_target said it may). */
void ring_post_direct(struct pending *pd, int32_t result);
/* A ring for p's next thread: a spare one (its header cleared) or a new one
 * mapped at a free slot (the first thread's at slot 0); 0 if p has neither a
 * spare, nor a free slot, nor memory (the caller answers CAP_ERR_OVERLOADED). */
struct ring *ring_create(struct process *p);
/* Bind ring r to thread t (before t can run). */
void ring_bind(struct ring *r, struct thread *t);
/* Thread t is ending: withdraw its waits that would take an event meant for
 * someone else (RECV, line reads, interrupts, a park), bump its slot's
 * generation, and keep its ring mapped as a spare (up to RING_SPARES per
 * process) or unmap and free it. Its other calls run on; their completions
 * are dropped by the generation check. */
void ring_thread_gone(struct thread *t);
/* Free a ring never bound to a thread, or every ring of an exiting process
 * (its space, which owns the ring frames, is destroyed by then). */
void ring_free(struct process *p, struct ring *r);
/* The current thread's ThreadRef (the submitter of the call being processed). */
struct thread_ref ring_self_ref(void);
/* Is pd's submitter still there (its ThreadRef matches)? A completion for an
 * ended thread writes nothing into the process's memory: its buffers may
 * be gone with the thread's stack. */
bool ring_ref_live(const struct pending *pd);

/* Post pd's completion to its submitter's CQ (or its overflow queue) and wake
 * that thread. When the submitter has ended, the completion is dropped and
 * the caps it carries (records already inserted into pd's process's table)
 * are released; returns false then. */
bool ring_post(struct pending *pd, int32_t result, const struct cap_result_cap *caps, uint32_t ncaps);
/* ring_post for the endpoint's hand-off: the thread it goes to, woken or
 * already runnable, is put at the head of this CPU's run queue, the next to
 * run when the current thread blocks (sched_prefer_thread). */
bool ring_post_handoff(struct pending *pd, int32_t result, const struct cap_result_cap *caps, uint32_t ncaps);
/* Drop every completion waiting for CQ room in p's rings (process_exit). */
void ring_discard_overflow(struct process *p);
/* Completions dropped because their thread had ended (KernelStats-free: a
 * test reads the effect through cap slots and objects). */
extern uint64_t ring_dropped;
/* 0 if [addr, addr+len) is mapped user memory of p (writable if asked) clear
 * of the ring and the CapSet page; else err or CAP_ERR_BUFFER_OVERLAPS_RING. */
int ring_check_buffer(struct process *p, uint64_t addr, uint32_t len, bool write, int err);
#endif
