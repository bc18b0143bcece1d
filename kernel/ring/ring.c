/*
 * The capability rings: one per thread. cap_enter processes every SQE the
 * calling thread has submitted on its own ring, in order, posting one CQE for
 * each (now, or later for calls that wait), then optionally waits for
 * completions on that ring.
 *
 * User space owns sq_tail and cq_head; the kernel keeps its own sq_head and
 * cq_tail and only reports them in the shared header, so a corrupted shared
 * index can never make the kernel read or write outside the ring. An SQE is
 * copied out of the ring before it is checked (no double fetch).
 *
 * Routing: a call that completes later keeps its submitter's ThreadRef
 * (pending->to). ring_post finds that thread's ring through the process's
 * slot table and the slot's generation; a thread that has ended no longer
 * matches, and its completion is dropped (ring.h).
 */
#include "ring.h"
#include "ipc.h"
#include "mm/kheap.h"
#include "mm/frame.h"
#include "kprintf.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "cap/kobj.h"
#include "cap/objects.h"
#include "cap/transfer.h"
#include "cap/endpoint.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/cpu.h"
#include "c/string.h"
#include "ipc_prof.h"
#include "thread_prof.h"

#define RING_PAGES (RING_SIZE / PAGE_SIZE)

struct overflow_cqe {
    struct list link;
    struct cap_cqe cqe;
};

uint64_t ring_dropped;

/* Scratch for one call at a time. Binds on: the kernel runs with interrupts
 * off (asserted in do_call), nothing it calls re-enters do_call, and calls
 * never sleep inside the object (they return CALL_PENDING instead). */
static uint8_t params_buf[CAP_MAX_PARAMS];
static uint8_t result_buf[CAP_MAX_RESULT + CALL_MAX_RESULT_CAPS * sizeof(struct cap_result_cap) + 8] __attribute__((aligned(8)));

/* ---- the ring's memory and its slot ---- */

/* Make a spare ring new again. Only the header page is cleared: the kernel
 * reads SQEs only between its sq_head and the user's sq_tail, and user space
 * reads CQEs only below cq_tail, both 0 again, so the old entries (written
 * by this process's own ended thread) are never taken for new ones. */
static struct ring *ring_reuse(struct ring *r)
{
    KASSERT(r->state == RING_SPARE && !r->thread && list_empty(&r->overflow));
    memset(r->hdr, 0, PAGE_SIZE);
    r->hdr->sq_entries = RING_SQ_ENTRIES;
    r->hdr->cq_entries = RING_CQ_ENTRIES;
    r->sq_head = 0;
    r->cq_tail = 0;
    r->noverflow = 0;
    r->state = RING_NEW;
    return r;
}

struct ring *ring_create(struct process *p)
{
    uint32_t slot = PROC_MAX_THREADS;
    for (uint32_t s = 0; s < PROC_MAX_THREADS; s++) {
        struct ring *sr = p->rings[s];
        if (sr && sr->state == RING_SPARE) {   /* mapped already: no frames, no zeroing, no mapping */
            p->nspare_rings--;
            return ring_reuse(sr);
        }
        if (!sr && slot == PROC_MAX_THREADS)
            slot = s;
    }
    if (slot == PROC_MAX_THREADS)
        return 0;
    struct ring *r = kmalloc(sizeof *r);
    paddr_t pa = r ? frame_alloc_contig(RING_PAGES) : 0;
    if (!pa) {
        kfree(r);
        return 0;
    }
    memset(r, 0, sizeof *r);
    r->state = RING_NEW;
    r->va = ring_vaddr(slot);
    r->pa = pa;
    for (size_t i = 0; i < RING_PAGES; i++) {
        if (vm_map_user(&p->vm, r->va + i * PAGE_SIZE, pa + i * PAGE_SIZE, PTE_W | PTE_NX) < 0) {
            vm_unmap_range(&p->vm, r->va, i, false);            /* frees the frames */
            for (size_t j = i; j < RING_PAGES; j++)
                frame_free(pa + j * PAGE_SIZE);
            kfree(r);
            return 0;
        }
    }
    uint8_t *base = phys_to_virt(pa);
    r->hdr = (struct cap_ring_hdr *)base;
    r->sq = (struct cap_sqe *)(base + RING_SQ_OFFSET);
    r->cq = (struct cap_cqe *)(base + RING_CQ_OFFSET);
    r->hdr->sq_entries = RING_SQ_ENTRIES;
    r->hdr->cq_entries = RING_CQ_ENTRIES;
    list_init(&r->overflow);
    r->ref = (struct thread_ref){ slot, p->ring_gen[slot] };
    p->rings[slot] = r;
    return r;
}

void ring_bind(struct ring *r, struct thread *t)
{
    KASSERT(r->state == RING_NEW && !r->thread && !t->ring);
    r->state = RING_BOUND;
    r->thread = t;
    t->ring = r;
}

static void discard_overflow(struct ring *r)
{
    while (!list_empty(&r->overflow))
        kfree(container_of(list_pop(&r->overflow), struct overflow_cqe, link));
    r->noverflow = 0;
}

void ring_discard_overflow(struct process *p)
{
    for (uint32_t s = 0; s < PROC_MAX_THREADS; s++)
        if (p->rings[s])
            discard_overflow(p->rings[s]);
}

void ring_free(struct process *p, struct ring *r)
{
    uint32_t slot = r->ref.slot;
    KASSERT(p->rings[slot] == r);
    discard_overflow(r);
    if (r->thread)
        r->thread->ring = 0;
    if (r->state == RING_SPARE)
        p->nspare_rings--;
    else                                   /* a spare's generation was bumped when it became one */
        p->ring_gen[slot]++;               /* every ThreadRef to this slot is stale now */
    if (p->vm.pml4)                        /* else the frames went with the space */
        vm_unmap_range(&p->vm, r->va, RING_PAGES, false);   /* one shootdown round */
    p->rings[slot] = 0;
    kfree(r);
}

/* Keep r, whose thread has ended, mapped in its slot for the next thread:
 * no frames to zero and map then, no shootdown now. Its slot's generation
 * is bumped, so no ThreadRef to it matches any more. */
static void ring_keep_spare(struct process *p, struct ring *r)
{
    discard_overflow(r);
    r->thread->ring = 0;
    r->thread = 0;
    r->state = RING_SPARE;
    r->ref.gen = ++p->ring_gen[r->ref.slot];   /* what its next thread's calls will carry */
    p->nspare_rings++;
}

static bool same_ref(struct thread_ref a, struct thread_ref b)
{
    return a.slot == b.slot && a.gen == b.gen;
}

void ring_thread_gone(struct thread *t)
{
    park_thread_gone(t);
    struct ring *r = t->ring;
    if (!r)
        return;                            /* an idle thread, or its process already freed the rings */
    struct process *p = t->proc;
    /* waits that would take an event meant for someone else go with the
     * thread: a RECV would swallow a call, a line read a line, an interrupt
     * wait a firing. Its other calls run on and are dropped when they end. */
    struct list *n, *tmp;
    list_for_each_safe(n, tmp, &p->pendings) {
        struct pending *pd = container_of(n, struct pending, proc_link);
        if (!same_ref(pd->to, r->ref))
            continue;
        switch (pd->kind) {
        case PENDING_EP_RECV:
        case PENDING_LINE:
        case PENDING_IRQ:
        case PENDING_PARK:
            pending_cancel(pd);
            break;
        case PENDING_TIMER:
        case PENDING_EP_CALL:
        case PENDING_EXIT_WAIT:
            break;
        }
    }
    if (!p->exiting && p->vm.pml4 && p->nspare_rings < RING_SPARES)
        ring_keep_spare(p, r);
    else
        ring_free(p, r);
}

struct thread_ref ring_self_ref(void)
{
    struct thread *t = current_thread();
    KASSERT(t->ring);                      /* calls are made only while processing the caller's own ring */
    return t->ring->ref;
}

/* ---- completions ---- */

static inline uint32_t cq_used(struct ring *r)
{
    uint32_t used = r->cq_tail - r->hdr->cq_head;
    if (unlikely(used > RING_CQ_ENTRIES)) {
        /* user space wrote a cq_head that is ahead of our tail or too far
         * behind: treat the CQ as drained and say so */
        r->hdr->cq_head = r->cq_tail;
        r->hdr->flags |= CAP_RING_F_CORRUPTED;
        r->hdr->corrupt_count++;
        used = 0;
    }
    return used;
}

/* Post c to r now, or queue it while the CQ is full. */
static void post(struct ring *r, const struct cap_cqe *c)
{
    if (list_empty(&r->overflow) && cq_used(r) < RING_CQ_ENTRIES) {
        ring_cq_push(r, c);
        return;
    }
    struct overflow_cqe *o = kmalloc(sizeof *o);
    if (!o)
        panic("ring: no memory for an overflow completion");  /* bounded by the pending quota */
    o->cqe = *c;
    list_add_tail(&r->overflow, &o->link);
    r->noverflow++;
    r->hdr->cq_overflow = r->noverflow;
}

bool ring_ref_live(const struct pending *pd)
{
    return ring_of_ref(pd) != 0;
}


/* Every post reaches a live process: completions go through the caller's
 * pending calls, which process_exit cancels first. handoff: ring_post_handoff. */
static bool post_to(struct pending *pd, int32_t result, const struct cap_result_cap *caps, uint32_t ncaps,
                    bool handoff)
{
    struct process *p = pd->proc;
    KASSERT(!p->exiting);
    struct ring *r = ring_of_ref(pd);
    if (!r) {
        /* its thread has ended: nobody can take this completion. The caps
         * it carries were inserted into the process's table; they go. */
        for (uint32_t i = 0; i < ncaps; i++)
            cap_release(&p->caps, caps[i].cap_id);
        ring_dropped++;
        return false;
    }
    struct cap_cqe c = { .user_data = pd->user_data, .result = result, .xfer_result_count = ncaps };
    post(r, &c);
    struct thread *t = r->thread;
    bool wake = t->state == T_BLOCKED && t->wait_min && cq_used(r) >= t->wait_min;
    if (!handoff) {
        if (wake)
            thread_wake(t);
    } else if (wake) {
        thread_wake_handoff(t);
    } else {
        sched_prefer_thread(t);            /* already runnable: it still goes next */
    }
    return true;
}

bool ring_post(struct pending *pd, int32_t result, const struct cap_result_cap *caps, uint32_t ncaps)
{
    return post_to(pd, result, caps, ncaps, false);
}

bool ring_post_handoff(struct pending *pd, int32_t result, const struct cap_result_cap *caps, uint32_t ncaps)
{
    return post_to(pd, result, caps, ncaps, true);
}

static void flush_overflow(struct ring *r)
{
    while (!list_empty(&r->overflow) && cq_used(r) < RING_CQ_ENTRIES) {
        struct overflow_cqe *o = container_of(list_pop(&r->overflow), struct overflow_cqe, link);
        ring_cq_push(r, &o->cqe);
        kfree(o);
        r->noverflow--;
    }
    r->hdr->cq_overflow = r->noverflow;
}

/* A user buffer must be mapped user memory (writable for results) and must
 * not overlap the ring area (every thread's ring and the CapSet page). */
int ring_check_buffer(struct process *p, uint64_t addr, uint32_t len, bool write, int err)
{
    if (len == 0)
        return 0;
    if (addr >= USER_TOP || len > USER_TOP - addr)
        return err;
    if (addr < RING_AREA_END && addr + len > RING_VADDR)
        return CAP_ERR_BUFFER_OVERLAPS_RING;   /* any thread's ring, or the CapSet page */
    if (!vm_user_range_ok(&p->vm, addr, len, write ? PTE_W : 0))
        return err;
    return 0;
}

static const uint32_t identity_caps[CAP_MAX_XFER] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static int do_call(struct process *p, const struct cap_sqe *s, uint32_t *nxfer)
{
    KASSERT(!interrupts_enabled());        /* params_buf and result_buf are ours alone */
    if ((s->flags & ~CAP_SQE_F_SILENT) || s->_pad0 || s->call_id)
        return CAP_ERR_INVALID_REQUEST;
    if (s->xfer_cap_count > CAP_MAX_XFER || (!s->xfer_cap_count && s->xfer_addr))
        return CAP_ERR_INVALID_TRANSFER;
    struct kobj *obj;
    int r = cap_lookup(&p->caps, s->cap_id, &obj);
    if (r)
        return r;
    if (obj->iface != s->interface_id)
        return CAP_ERR_WRONG_INTERFACE;
    if (s->len > CAP_MAX_PARAMS)
        return CAP_ERR_PARAMS_TOO_LARGE;
    if ((r = ring_check_buffer(p, s->addr, s->len, false, CAP_ERR_INVALID_PARAMS_BUFFER)) ||
        (r = ring_check_buffer(p, s->result_addr, s->result_len, true, CAP_ERR_INVALID_RESULT_BUFFER)))
        return r;
    if (s->len && !vm_copy_in(&p->vm, params_buf, s->addr, s->len))
        return CAP_ERR_INVALID_PARAMS_BUFFER;
    struct xfer_set x;
    if ((r = xfer_collect(p, s->xfer_addr, s->xfer_cap_count, &x)) < 0)
        return r;

    /* no params at all reads as the empty struct (methods without params) */
    static const uint8_t empty_msg[16] = { 0, 0, 0, 0, 1, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    const void *params = s->len ? (const void *)params_buf : empty_msg;
    uint32_t plen = s->len ? s->len : sizeof empty_msg;
    uint32_t result_handles[CALL_MAX_RESULT_CAPS];
    struct call_ctx c = {
        .caller = p, .obj = obj,
        .sc = {
            .interface_id = s->interface_id, .method_id = s->method_id,
            .params = params, .params_len = plen,
            .param_caps = identity_caps, .param_ncaps = x.n,
            /* result_len 0 means "results not wanted": dispatch into scratch */
            .result = result_buf,
            .result_cap = s->result_len && s->result_len < CAP_MAX_RESULT ? s->result_len : CAP_MAX_RESULT,
            .result_caps = result_handles, .result_caps_cap = CALL_MAX_RESULT_CAPS,
        },
        .in_caps = x.obj, .nin = x.n,
        .user_data = s->user_data, .result_addr = s->result_addr, .result_len = s->result_len,
        .xfer = &x,
        .silent = s->flags & CAP_SQE_F_SILENT,
    };
    ipc_prof_mark(IPC_LOOKUP);
    tprof_mark(TP_CHECK);
    r = obj->type->call(obj, &c);
    tprof_mark(TP_METHOD);
    if (r > 0)
        r = call_error(r);                 /* a codec error from the generated dispatcher */
    if (!c.xfer_taken) {
        if (r == 0 || r == CALL_PENDING)
            xfer_commit_consumed(&x);      /* the object took the references it keeps */
        else
            xfer_rollback(&x);
    }
    if (r < 0 || r == CALL_PENDING) {
        for (uint32_t i = 0; i < c.nout; i++)
            kobj_put(c.out_caps[i]);
        return r;
    }
    /* the result message, then one record per result cap (in the order of
     * the message's capability table) at an 8-byte aligned offset */
    uint32_t len = (uint32_t)c.sc.result_len;
    uint32_t ncaps = c.sc.result_ncaps;
    uint32_t off = (len + 7) & ~7u;
    uint32_t total = ncaps ? off + ncaps * (uint32_t)sizeof(struct cap_result_cap) : len;
    r = 0;
    if (s->result_len == 0 && !ncaps)
        len = total = 0;                   /* discarded, as asked */
    if (total > s->result_len)
        r = CAP_ERR_RESULT_TOO_SMALL;
    for (uint32_t i = 0; i < ncaps && !r; i++)
        if (result_handles[i] >= c.nout)
            r = CAP_ERR_INVOKE_FAILED;
    if (!r && ncaps) {
        memset(result_buf + len, 0, off - len);
        struct cap_result_cap *rc = (void *)(result_buf + off);
        for (uint32_t i = 0; i < ncaps; i++) {
            struct kobj *o = c.out_caps[result_handles[i]];
            int64_t id = cap_insert(&p->caps, kobj_get(o));
            if (id < 0) {
                kobj_put(o);
                while (i--)
                    cap_release(&p->caps, rc[i].cap_id);
                r = CAP_ERR_OVERLOADED;
                break;
            }
            rc[i] = (struct cap_result_cap){ (uint32_t)id, 0, o->iface };
        }
    }
    for (uint32_t i = 0; i < c.nout; i++)
        kobj_put(c.out_caps[i]);           /* the table holds its own references */
    if (r)
        return r;
    if (total && !vm_copy_out(&p->vm, s->result_addr, result_buf, total))
        return CAP_ERR_INVALID_RESULT_BUFFER;
    *nxfer = ncaps;
    return (int)len;
}

static int do_release(struct process *p, const struct cap_sqe *s)
{
    if (s->flags || s->_pad0 || s->xfer_cap_count || s->len || s->result_len || s->call_id ||
        s->xfer_addr || s->addr || s->result_addr)
        return CAP_ERR_INVALID_REQUEST;
    return cap_release(&p->caps, s->cap_id);
}

/* Handle one SQE that is not a NOP. Returns true if it completed now. */
static void slow_sqe(struct process *p, struct ring *ring, const volatile struct cap_sqe *sp, uint8_t op)
{
    struct cap_sqe s = *(const struct cap_sqe *)sp;   /* one copy, then only the copy is used */
    s.opcode = op;
    ipc_prof_mark(IPC_SQE);
    tprof_mark(TP_SQE);
    int r;
    uint32_t nxfer = 0;
    switch (op) {
    case CAP_OP_CALL:
        if (!park_fast_call(p, &s, &r) && !endpoint_fast_call(p, &s, &r, 0))   /* a fast path, or the general way */
            r = do_call(p, &s, &nxfer);
        break;
    case CAP_OP_RELEASE:
        r = do_release(p, &s);
        tprof_mark(TP_RELEASE);
        break;
    case CAP_OP_RECV:
        r = ring_check_buffer(p, s.result_addr, s.result_len, true, CAP_ERR_INVALID_RESULT_BUFFER);
        if (!r)
            r = endpoint_recv(p, &s);
        break;
    case CAP_OP_RETURN:
        r = ring_check_buffer(p, s.addr, s.len, false, CAP_ERR_INVALID_PARAMS_BUFFER);
        if (!r)
            r = endpoint_return(p, &s);
        break;
    default:
        r = CAP_ERR_UNSUPPORTED_OPCODE;
        break;
    }
    /* CAP_SQE_F_SILENT: a CALL or RETURN that succeeds posts nothing (an
     * error always does) */
    if (r != CALL_PENDING && !(r >= 0 && (op == CAP_OP_CALL || op == CAP_OP_RETURN) && (s.flags & CAP_SQE_F_SILENT))) {
        struct cap_cqe c = { .user_data = s.user_data, .result = r, .xfer_result_count = nxfer };
        ring_cq_push(ring, &c);
    }
    tprof_mark(TP_RESULT);
}

static void process_sqes(struct process *p, struct ring *r)
{
    struct cap_ring_hdr *hdr = r->hdr;
    uint32_t tail = __atomic_load_n(&hdr->sq_tail, __ATOMIC_ACQUIRE);
    uint32_t head = r->sq_head;
    if (unlikely(tail - head > RING_SQ_ENTRIES)) {
        /* a corrupted (or hostile) sq_tail: drop everything submitted, say so */
        r->sq_head = tail;
        hdr->sq_head = tail;
        hdr->flags |= CAP_RING_F_CORRUPTED;
        hdr->corrupt_count++;
        struct cap_cqe c = { .user_data = 0, .result = CAP_ERR_RING_CORRUPT };
        post(r, &c);
        return;
    }
    if (unlikely(!list_empty(&r->overflow)))
        return;                       /* completions are still waiting for CQ room */
    uint32_t room = RING_CQ_ENTRIES - cq_used(r);
    const volatile struct cap_sqe *sq = r->sq;
    struct cap_cqe *cq = r->cq;
    while (head != tail && room) {
        /* the fast path: a run of NOPs only echoes user_data; indices stay in
         * registers and the CQ tail is published once for the whole batch */
        uint32_t n = tail - head < room ? tail - head : room;
        uint32_t ct = r->cq_tail;
        const volatile struct cap_sqe *sp;
        uint8_t op = CAP_OP_NOP;
        for (; n; n--) {
            sp = &sq[head & (RING_SQ_ENTRIES - 1)];
            op = sp->opcode;
            if (unlikely(op != CAP_OP_NOP))
                break;
            head++;
            ring_nop_cqe(&cq[ct++ & (RING_CQ_ENTRIES - 1)], sp);
        }
        room -= ct - r->cq_tail;
        r->cq_tail = ct;
        if (!n)
            continue;
        head++;
        r->sq_head = head;
        slow_sqe(p, r, sp, op);
        if (p->exiting)
            return;
        room = list_empty(&r->overflow) ? RING_CQ_ENTRIES - cq_used(r) : 0;
    }
    r->sq_head = head;
    __atomic_store_n(&hdr->cq_tail, r->cq_tail, __ATOMIC_RELEASE);
    __atomic_store_n(&hdr->sq_head, head, __ATOMIC_RELEASE);
}

/* The general way through cap_enter (the NOP fast path, ring_enter_nops
 * in ring.h, comes first from the system call and may have taken a run of
 * NOPs already): the endpoint fast path when the submission has its shape
 * (ring_ipc_shape, ring_enter_ipc: ipc.h, ipc.c), else completions waiting
 * for CQ room first, then every SQE left, a pending park; then the wait for
 * min_complete CQEs or the timeout. Returns the CQEs available. */
int64_t ring_enter(struct thread *self, uint32_t min_complete, uint64_t timeout_ns, uint64_t ring_addr)
{
    struct ring *r = self->ring;
    if (!r || ring_addr != r->va)
        return CAP_ERR_WRONG_THREAD;       /* a thread enters its own ring only */
    /* next: a thread still blocked whose wait ring_enter_ipc satisfied without
     * waking it (the direct switch); it runs in self's place, or is woken
     * as a hand-off if self does not wait after all */
    struct thread *next = 0;
    uint32_t n = ring_ipc_shape(self, r, min_complete, timeout_ns);
    if (!n || !ring_enter_ipc(self, r, n, min_complete, &next)) {
        if (!list_empty(&r->overflow))
            flush_overflow(r);
        process_sqes(self->proc, r);
        /* a thread whose ParkSpace wait is pending sleeps here until it resolves */
        while (self->park)
            thread_block();
    }
    if (min_complete > RING_CQ_ENTRIES)
        min_complete = RING_CQ_ENTRIES;
    if (min_complete && cq_used(r) < min_complete && timeout_ns) {
        uint64_t deadline = timeout_ns == CAP_TIMEOUT_FOREVER ? ~0ull : time_now_ns() + timeout_ns;
        self->wait_min = min_complete;
        while (cq_used(r) < min_complete) {
            if (deadline != ~0ull && time_now_ns() >= deadline)
                break;
            thread_set_timeout(self, deadline);
            if (next) {
                thread_block_to(next);     /* straight to it, no run queue's round */
                next = 0;
            } else {
                thread_block();
            }
            if (!list_empty(&r->overflow))
                flush_overflow(r);
        }
        self->wait_min = 0;
        thread_clear_timeout(self);
    }
    if (unlikely(next))
        thread_wake_handoff(next);         /* self did not wait: it runs next, as a hand-off */
    return cq_used(r);
}
