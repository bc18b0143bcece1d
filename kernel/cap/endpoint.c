/*
 * Endpoints: how one process serves calls from others.
 *
 * An endpoint has one owner side (struct ep_owner, interface Endpoint) that
 * may RECV and RETURN, and any number of CALL-only client facets (struct
 * ep_facet) whose interface is the one the endpoint serves. A CALL on a
 * facet becomes an ep_call: queued until the owner has a RECV posted (or
 * delivered at once if one is waiting), then in flight until the owner
 * RETURNs it. Each delivery carries a caller reference the kernel derives
 * from the caller's session and the endpoint's scope (never a label anyone
 * chose), the session epoch, and the facet's badge (a routing label only).
 *
 * Bounds: a call's params must fit the receiver's posted buffer, at most
 * EP_MAX_QUEUE calls wait per endpoint, at most PROC_MAX_PENDING calls per
 * caller. When the owner side goes away every queued and in-flight call
 * completes with CAP_ERR_DISCONNECTED; when a caller dies its queued calls
 * are withdrawn (moved caps go back) and in-flight ones are orphaned, so the
 * owner's RETURN learns CAP_ERR_DISCONNECTED. A facet minted with
 * notifyRelease carries a preallocated release notice: when the facet's last
 * reference goes, the notice joins the queue (past EP_MAX_QUEUE: there is
 * at most one per facet) and reaches the owner like a call that needs no
 * RETURN, so a server learns at once that a holder died idle.
 *
 * The fast path (endpoint_fast_call): a CALL that can only be a plain
 * delivery to a RECV already posted goes straight into the receiver's
 * buffer from preallocated records; everything else, and every error,
 * goes the general way (facet_call, deliver).
 *
 *   EndpointFactory.create(interfaceId, disclose) -> (owner, client)
 *   Endpoint.facet(badge) -> client
 */
#include "endpoint.h"
#include "session.h"
#include "transfer.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "sched/process.h"
#include "sched/sched.h"
#include "ring/ring.h"
#include "arch/x86_64/cpu.h"
#include "c/string.h"
#include "capos.capnp.h"
#include "ipc_prof.h"

/* One endpoint. Freed when the last of its references goes: the owner side's
 * (dropped in owner_destroy), one per facet, one per ep_call. */
struct ep_core {
    uint32_t refs;               /* owner + facets + calls */
    bool closed;                 /* the owner side is gone: no new calls or RECVs */
    uint64_t iface;
    uint64_t scope;              /* random: caller references differ per endpoint */
    uint32_t disclose;           /* CAP_RECV_F_PRINCIPAL | CAP_RECV_F_PROFILE */
    uint32_t next_call_id;
    uint32_t nqueue;
    struct list queue;           /* ep_call waiting for a RECV */
    struct list inflight;        /* delivered, waiting for a RETURN */
    struct list receivers;       /* posted RECVs (struct pending) */
    struct ep_call *spare;       /* preallocated record for a small call (EP_FAST_PARAMS); 0 while in use */
};

struct ep_owner { struct kobj obj; struct ep_core *core; };
struct ep_call;
struct ep_facet {
    struct kobj obj;
    struct ep_core *core;
    uint64_t badge;
    struct ep_call *notice;      /* notifyRelease: queued when the facet goes; else 0 */
};

/*
 * The life of an endpoint call (kernel/README.md has the same table):
 *
 *   state      event                                   next; effect
 *   (none)     CALL on a facet                         QUEUED
 *   QUEUED     a posted RECV takes it (deliver)        DELIVERED; call_id given
 *   QUEUED     too large for that RECV, the            freed; the caller gets the error
 *              receiver's table full, owner side gone
 *   QUEUED     caller dies                             freed; withdrawn, moved caps go back
 *   DELIVERED  RETURN                                  freed; the caller gets the result
 *                                                      (or APPLICATION, or the error if the
 *                                                      result does not fit)
 *   DELIVERED  receiver dies, owner side gone          freed; the caller gets DISCONNECTED
 *   DELIVERED  caller dies                             ORPHANED
 *   ORPHANED   RETURN                                  freed; the RETURN gets DISCONNECTED
 *   ORPHANED   receiver dies, owner side gone          freed
 *   NOTICE     a posted RECV takes it                  freed; the owner sees CAP_RECV_F_RELEASED
 *   NOTICE     owner side gone                         freed
 *
 * Who owns what: the ep_call owns its params copy, its transfer (until
 * delivery commits it), a reference on the caller's session and one on the
 * core. The caller's pending call (`pd`) is the caller's: it is finished by
 * whoever finishes the call (pending_complete, or pending_retire after the
 * RETURN posted the CQE), or cancelled by the caller's exit, which then
 * withdraws or orphans the call (endpoint_call_cancel).
 */
enum ep_call_state {
    EP_CALL_QUEUED,              /* on core->queue, counted in nqueue; pd set; call_id 0 */
    EP_CALL_DELIVERED,           /* on core->inflight and the receiver's `received`; pd set */
    EP_CALL_ORPHANED,            /* delivered, then its caller died: pd 0; waits for the RETURN */
    EP_CALL_NOTICE,              /* a release notice on core->queue: no caller, no session, not
                                  * counted in nqueue; freed when delivered */
};

struct ep_call {
    struct list link;            /* core->queue (QUEUED) or core->inflight (DELIVERED, ORPHANED) */
    struct list rx_link;         /* on the receiver's `received` list unless QUEUED */
    struct ep_core *core;
    enum ep_call_state state;
    struct pending *pd;          /* the caller's completion (PENDING_EP_CALL); 0 when ORPHANED */
    struct session *session;     /* the caller's (a reference); 0 for a NOTICE */
    uint32_t call_id;            /* given at delivery: what the RETURN names */
    uint16_t method;
    uint64_t iface;
    uint64_t badge;
    struct xfer_set caps;
    bool from_spare;             /* it is core->spare: call_free gives it back */
    uint32_t plen;
    uint8_t params[];
};

/* The fast path's bounds: a call whose params fit EP_FAST_PARAMS takes the
 * endpoint's preallocated record (when no other call holds it), and a
 * delivery without caps whose header and params fit in the page of the
 * posted RECV buffer is written straight through the direct map, once. */
#define EP_FAST_PARAMS ENDPOINT_FAST_BYTES

static struct ep_call *call_alloc(struct ep_core *core, uint32_t plen)
{
    struct ep_call *call;
    if (core->spare && plen <= EP_FAST_PARAMS) {
        call = core->spare;
        core->spare = 0;
        call->from_spare = true;
    } else if ((call = kmalloc(sizeof *call + plen))) {
        call->from_spare = false;
    }
    return call;
}

uint64_t endpoint_ifaces[4];

static size_t live_calls;
size_t endpoint_live_calls(void) { return live_calls; }

static void core_put(struct ep_core *c)
{
    KASSERT(c->refs > 0);
    if (--c->refs == 0) {
        kfree(c->spare);
        kfree(c);
    }
}

/* Free a call that is on no queue any more (its `link` is unlinked). */
static void call_free(struct ep_call *call)
{
    KASSERT(call->pd == 0);                  /* the caller's completion was finished or cancelled */
    list_del(&call->rx_link);
    if (call->caps.n)
        xfer_rollback(&call->caps);          /* none left once delivered */
    if (call->session)
        kobj_put(&call->session->obj);
    live_calls--;
    struct ep_core *core = call->core;
    if (call->from_spare) {
        KASSERT(!core->spare);
        core->spare = call;                  /* before core_put: it frees the spare with the core */
    } else {
        kfree(call);
    }
    core_put(core);
}

/* Take the call off its endpoint queue, whatever its state. */
static void call_unlink(struct ep_call *call)
{
    switch (call->state) {
    case EP_CALL_QUEUED:
        KASSERT(call->core->nqueue > 0);
        call->core->nqueue--;
        break;
    case EP_CALL_DELIVERED:
    case EP_CALL_ORPHANED:
    case EP_CALL_NOTICE:
        break;
    }
    list_del(&call->link);
}

/* End the call: the caller (if it still waits) completes with err. */
static void call_fail(struct ep_call *call, int err)
{
    call_unlink(call);
    switch (call->state) {
    case EP_CALL_QUEUED:
    case EP_CALL_DELIVERED:
        pending_complete(call->pd, err, 0, 0);
        call->pd = 0;
        break;
    case EP_CALL_ORPHANED:
    case EP_CALL_NOTICE:
        break;                               /* nobody to tell */
    }
    call_free(call);
}

/* The caller is going away (process_exit cancels its pending calls before
 * it releases its caps). pending_cancel frees pd after this. */
void endpoint_call_cancel(struct pending *pd)
{
    KASSERT(pd->kind == PENDING_EP_CALL);
    struct ep_call *call = pd->ep_call.call;
    KASSERT(call->pd == pd);
    call->pd = 0;
    switch (call->state) {
    case EP_CALL_QUEUED:                     /* withdrawn: moved caps go back */
        call_unlink(call);
        call_free(call);
        break;
    case EP_CALL_DELIVERED:                  /* stays, so the owner's RETURN is told */
        call->state = EP_CALL_ORPHANED;
        break;
    case EP_CALL_ORPHANED:
    case EP_CALL_NOTICE:
        panic("endpoint: a call without a caller still had its caller's pending call");
    }
}

/* Hand the release notice `call` to the receiver `rp`: a header alone. */
static void deliver_notice(struct ep_core *core, struct ep_call *call, struct pending *rp)
{
    struct cap_recv_hdr h;
    memset(&h, 0, sizeof h);
    h.flags = CAP_RECV_F_RELEASED;
    h.interface_id = call->iface;
    h.badge = call->badge;
    vm_copy_out(&rp->proc->vm, rp->result_addr, &h, sizeof h);
    ring_post_handoff(rp, (int32_t)sizeof h, 0, 0);    /* the receiver runs next */
    pending_retire(rp);
    call_unlink(call);
    call_free(call);
}

/* The delivery header of `call`; gives the call its call_id. */
static void hdr_fill(struct ep_core *core, struct ep_call *call, struct cap_recv_hdr *h)
{
    memset(h, 0, sizeof *h);
    h->call_id = call->call_id = ++core->next_call_id ? core->next_call_id : ++core->next_call_id;
    h->method_id = call->method;
    h->interface_id = call->iface;
    h->badge = call->badge;
    session_caller_ref(call->session, core->scope, h->caller_ref);
    h->session_epoch = call->session->epoch;
    h->params_len = call->plen;
    h->ncaps = call->caps.n;
    if (core->disclose & CAP_RECV_F_PRINCIPAL) {
        memcpy(h->principal, call->session->principal, sizeof h->principal);
        h->flags |= CAP_RECV_F_PRINCIPAL;
    }
    if (core->disclose & CAP_RECV_F_PROFILE) {
        memcpy(h->profile, call->session->profile, sizeof h->profile);
        h->flags |= CAP_RECV_F_PROFILE;
    }
}

/* Try to hand `call` to the receiver `rp`. false: the call failed (and is gone). */
static bool deliver(struct ep_core *core, struct ep_call *call, struct pending *rp)
{
    KASSERT(rp->kind == PENDING_EP_RECV);
    if (call->state == EP_CALL_NOTICE) {
        deliver_notice(core, call, rp);
        return true;
    }
    KASSERT(call->state == EP_CALL_QUEUED);
    KASSERT(!interrupts_enabled());                   /* `out` below is static */
    struct process *rx = rp->proc;
    uint32_t off = (uint32_t)sizeof(struct cap_recv_hdr) + call->plen;
    uint32_t coff = (off + 7) & ~7u;
    uint32_t total = coff + call->caps.n * (uint32_t)sizeof(struct cap_result_cap);
    if (total > rp->result_len) {
        call_fail(call, CAP_ERR_MESSAGE_TOO_LARGE);   /* over what the receiver accepts */
        return false;
    }
    struct cap_recv_hdr h;
    hdr_fill(core, call, &h);
    struct cap_result_cap rec[CAP_MAX_XFER];
    uint32_t ncaps = call->caps.n;
    if (xfer_deliver(&call->caps, rx, rec) < 0) {
        call_fail(call, CAP_ERR_OVERLOADED);          /* receiver's table is full: sender keeps its caps */
        return false;
    }
    if (!ncaps && (rp->result_addr & (PAGE_SIZE - 1)) + off <= PAGE_SIZE) {
        /* the fast path: no caps, one page: written through the direct map */
        paddr_t pa = vm_translate(&rx->vm, rp->result_addr, PTE_W);
        if (pa) {
            uint8_t *dst = phys_to_virt(pa);
            memcpy(dst, &h, sizeof h);
            memcpy(dst + sizeof h, call->params, call->plen);
            ipc_prof_mark(IPC_HEADER);
            goto written;
        }
    }
    /* header, params, padding and cap records go out in one copy. Static:
     * the kernel runs with interrupts off and never sleeps here, so one
     * delivery at a time uses it. */
    static uint8_t out[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS + 8 + CAP_MAX_XFER * sizeof(struct cap_result_cap)];
    ipc_prof_mark(IPC_HEADER);
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, call->params, call->plen);
    memset(out + off, 0, coff - off);
    memcpy(out + coff, rec, ncaps * sizeof rec[0]);
    vm_copy_out(&rx->vm, rp->result_addr, out, ncaps ? total : off);
written:
    ipc_prof_mark(IPC_COPY);
    call_unlink(call);
    call->state = EP_CALL_DELIVERED;
    list_add_tail(&core->inflight, &call->link);
    list_add_tail(&rx->received, &call->rx_link);
    ring_post_handoff(rp, (int32_t)total, rec, ncaps);   /* the receiver runs next; RECVs end with their thread: never dropped */
    pending_retire(rp);
    return true;
}

/* Match queued calls with posted receivers. */
static void pump(struct ep_core *core)
{
    while (!list_empty(&core->queue) && !list_empty(&core->receivers)) {
        struct ep_call *call = container_of(core->queue.next, struct ep_call, link);
        struct pending *rp = container_of(core->receivers.next, struct pending, wait_link);
        deliver(core, call, rp);               /* a delivery hands the CPU straight to the receiver */
    }
}

/* ---- the client facet: CALL ---- */

/* What every call starts with, slow or fast: counted, tied to its endpoint
 * (a reference), its caller's pending record and session (a reference),
 * and the facet's badge. Its state, params and transfer are the caller's
 * to set. */
static void call_start(struct ep_call *call, struct ep_core *core, struct pending *pd, struct process *p,
                       const struct ep_facet *f, uint64_t iface, uint32_t method, uint32_t plen)
{
    ipc_prof_mark(IPC_ALLOC);
    ipc_prof_round();
    live_calls++;
    list_init(&call->rx_link);
    call->core = core;
    core->refs++;
    call->pd = pd;
    call->session = p->session;
    kobj_get(&p->session->obj);
    call->call_id = 0;
    call->method = (uint16_t)method;
    call->iface = iface;
    call->badge = f->badge;
    call->plen = plen;
}

static int facet_call(struct kobj *o, struct call_ctx *c)
{
    struct ep_facet *f = (struct ep_facet *)o;
    struct ep_core *core = f->core;
    struct process *p = c->caller;
    if (core->closed)
        return CAP_ERR_DISCONNECTED;
    if (!p->session->live)
        return CAP_ERR_SESSION_REVOKED;
    if (core->nqueue >= EP_MAX_QUEUE)
        return CAP_ERR_OVERLOADED;
    struct ep_call *call = call_alloc(core, (uint32_t)c->sc.params_len);
    if (!call)
        return CAP_ERR_OVERLOADED;
    struct pending *pd = pending_new(c, PENDING_EP_CALL);
    if (!pd) {
        if (call->from_spare)
            core->spare = call;
        else
            kfree(call);
        return CAP_ERR_OVERLOADED;
    }
    call_start(call, core, pd, p, f, c->sc.interface_id, c->sc.method_id, (uint32_t)c->sc.params_len);
    call->state = EP_CALL_QUEUED;
    memcpy(call->params, c->sc.params, c->sc.params_len);
    if (c->xfer->n)
        call->caps = *c->xfer;               /* the message now owns the transfer */
    else
        call->caps.n = 0, call->caps.src = 0;
    c->xfer->n = 0;
    c->xfer_taken = true;
    pd->ep_call.call = call;
    list_add_tail(&core->queue, &call->link);
    core->nqueue++;
    pump(core);
    ipc_prof_mark(IPC_POST);
    return CALL_PENDING;
}

/*
 * The fast path of a CALL: the caller's SQE goes straight into the receiver
 * parked in RECV, allocating nothing. It takes a call only when nothing but
 * a plain delivery can happen:
 *   - no flags, no transfers, a facet of a live endpoint with the SQE's
 *     interface, from a live session;
 *   - a RECV posted and nothing queued ahead (order is kept);
 *   - params of at most EP_FAST_PARAMS bytes (none reads as the empty
 *     struct) in one page of the caller, the result buffer checked as
 *     do_call checks it;
 *   - header and params fit the RECV's bound, in one writable page;
 *   - the endpoint's spare call record and one of the caller's spare
 *     pending records are free, and the caller is under its quota.
 * Anything else returns false before changing anything, and the general
 * way (do_call, facet_call, deliver) decides, so every error keeps the one
 * stable code it has there. The call then lives exactly as a slow one
 * does: DELIVERED on the in-flight list and the receiver's `received`, in
 * the state machine above.
 * Binds on: the BKL, interrupts off.
 */
static const uint8_t empty_params[16] = { 0, 0, 0, 0, 1, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff, 0, 0, 0, 0 };

bool endpoint_fast_call(struct process *p, const struct cap_sqe *s, int *r, struct thread **direct)
{
    struct kobj *o;
    if (s->flags || s->_pad0 || s->call_id || s->xfer_cap_count || s->xfer_addr || s->len > EP_FAST_PARAMS)
        return false;
    if (cap_lookup(&p->caps, s->cap_id, &o) || o->type != &endpoint_facet_type || o->iface != s->interface_id)
        return false;
    struct ep_facet *f = (struct ep_facet *)o;
    struct ep_core *core = f->core;
    if (core->closed || !p->session->live || !list_empty(&core->queue) || list_empty(&core->receivers) ||
        !core->spare || !p->npd_spare || p->npending >= PROC_MAX_PENDING)
        return false;
    struct pending *rp = container_of(core->receivers.next, struct pending, wait_link);
    struct process *rx = rp->proc;
    uint32_t plen = s->len ? s->len : (uint32_t)sizeof empty_params;
    uint32_t total = (uint32_t)sizeof(struct cap_recv_hdr) + plen;
    if (total > rp->result_len || (rp->result_addr & (PAGE_SIZE - 1)) + total > PAGE_SIZE)
        return false;
    if (s->len && ((s->addr & (PAGE_SIZE - 1)) + s->len > PAGE_SIZE ||
                   ring_check_buffer(p, s->addr, s->len, false, CAP_ERR_INVALID_PARAMS_BUFFER)))
        return false;
    if (ring_check_buffer(p, s->result_addr, s->result_len, true, CAP_ERR_INVALID_RESULT_BUFFER))
        return false;
    paddr_t dpa = vm_translate(&rx->vm, rp->result_addr, PTE_W);
    paddr_t spa = s->len ? vm_translate(&p->vm, s->addr, 0) : 0;
    if (!dpa || (s->len && !spa))
        return false;
    struct thread *to = 0;
    if (direct && !(to = ring_direct_target(rp)))
        return false;
    ipc_prof_mark(IPC_LOOKUP);

    /* taken: from here nothing fails */
    struct pending *pd = pending_new_for(p, PENDING_EP_CALL, s->user_data, s->result_addr, s->result_len);
    KASSERT(pd);                                       /* a spare was free */
    struct ep_call *call = call_alloc(core, plen);
    KASSERT(call && call->from_spare);
    call_start(call, core, pd, p, f, s->interface_id, s->method_id, plen);
    call->caps.n = 0, call->caps.src = 0;
    pd->ep_call.call = call;
    uint8_t *dst = phys_to_virt(dpa);
    hdr_fill(core, call, (struct cap_recv_hdr *)dst);   /* once, through the direct map */
    memcpy(dst + sizeof(struct cap_recv_hdr), s->len ? phys_to_virt(spa) : empty_params, plen);
    ipc_prof_mark(IPC_COPY);
    call->state = EP_CALL_DELIVERED;
    list_add_tail(&core->inflight, &call->link);
    list_add_tail(&rx->received, &call->rx_link);
    if (to)
        ring_post_direct(rp, (int32_t)total);     /* the caller switches to it */
    else
        ring_post_handoff(rp, (int32_t)total, 0, 0);  /* the receiver runs next; RECVs end with their thread: never dropped */
    pending_retire(rp);
    ipc_prof_mark(IPC_POST);
    *r = CALL_PENDING;
    if (direct)
        *direct = to;
    return true;
}

static void facet_destroy(struct kobj *o)
{
    struct ep_facet *f = (struct ep_facet *)o;
    struct ep_core *core = f->core;
    struct ep_call *n = f->notice;
    if (n && !core->closed) {
        memset(n, 0, sizeof *n);
        list_init(&n->rx_link);
        n->core = core;
        core->refs++;
        n->state = EP_CALL_NOTICE;
        n->iface = core->iface;
        n->badge = f->badge;
        live_calls++;
        list_add_tail(&core->queue, &n->link);
        pump(core);
    } else {
        kfree(n);
    }
    core_put(core);
    kfree(f);
}

const struct kobj_type endpoint_facet_type = { "EndpointClient", 0, facet_call, facet_destroy };

static struct kobj *facet_new(struct ep_core *core, uint64_t badge, bool notify)
{
    struct ep_facet *f = kmalloc(sizeof *f);
    struct ep_call *n = notify ? kmalloc(sizeof *n) : 0;
    if (!f || (notify && !n)) {
        kfree(f);
        kfree(n);
        return 0;
    }
    kobj_init(&f->obj, &endpoint_facet_type);
    f->obj.iface = core->iface;
    f->core = core;
    f->badge = badge;
    f->notice = n;
    core->refs++;
    return &f->obj;
}

/* ---- the owner side: Endpoint.facet, RECV, RETURN ---- */

static int owner_facet(void *self, capos_Endpoint_facet_Params_reader p, capos_Endpoint_facet_Results_builder r)
{
    struct call_ctx *c = self;
    struct ep_owner *ow = (struct ep_owner *)c->obj;
    struct kobj *f = facet_new(ow->core, capos_Endpoint_facet_Params_get_badge(p),
                               capos_Endpoint_facet_Params_get_notifyRelease(p));
    if (!f)
        return CAP_ERR_OVERLOADED;
    capos_Endpoint_facet_Results_set_client(r, ctx_result_cap(c, r.s, f));
    return CAPNP_OK;
}

static const capos_Endpoint_server owner_server = { .facet = owner_facet };
static int owner_call(struct kobj *o, struct call_ctx *c) { return capos_Endpoint_dispatch(&owner_server, c, &c->sc); }

static void owner_destroy(struct kobj *o)
{
    struct ep_core *core = ((struct ep_owner *)o)->core;
    core->closed = true;
    while (!list_empty(&core->queue))
        call_fail(container_of(core->queue.next, struct ep_call, link), CAP_ERR_DISCONNECTED);
    while (!list_empty(&core->inflight))
        call_fail(container_of(core->inflight.next, struct ep_call, link), CAP_ERR_DISCONNECTED);
    while (!list_empty(&core->receivers))
        pending_complete(container_of(core->receivers.next, struct pending, wait_link), CAP_ERR_DISCONNECTED, 0, 0);
    KASSERT(core->nqueue == 0);
    core_put(core);
    kfree(o);
}

const struct kobj_type endpoint_owner_type = { "Endpoint", IFACE_ENDPOINT, owner_call, owner_destroy };

static struct ep_core *owner_core(struct process *p, uint32_t cap_id, int *err)
{
    struct kobj *o;
    *err = cap_lookup(&p->caps, cap_id, &o);
    if (*err)
        return 0;
    if (o->type != &endpoint_owner_type) {
        *err = CAP_ERR_NOT_OWNER;
        return 0;
    }
    return ((struct ep_owner *)o)->core;
}

/* The call in flight on core that a RETURN names; 0: none. */
static struct ep_call *inflight_find(struct ep_core *core, uint32_t call_id)
{
    for (struct list *n = core->inflight.next; n != &core->inflight; n = n->next) {
        struct ep_call *c = container_of(n, struct ep_call, link);
        if (c->call_id == call_id)
            return c;
    }
    return 0;
}

int endpoint_recv(struct process *p, const struct cap_sqe *s)
{
    int err;
    if (s->flags || s->xfer_cap_count || s->len || s->addr || s->call_id || s->xfer_addr)
        return CAP_ERR_INVALID_REQUEST;
    struct ep_core *core = owner_core(p, s->cap_id, &err);
    if (!core)
        return err;
    if (core->closed)
        return CAP_ERR_DISCONNECTED;
    if (s->result_len < sizeof(struct cap_recv_hdr))
        return CAP_ERR_RESULT_TOO_SMALL;
    struct pending *rp = pending_new_for(p, PENDING_EP_RECV, s->user_data, s->result_addr, s->result_len);
    if (!rp)
        return CAP_ERR_OVERLOADED;
    list_add_tail(&core->receivers, &rp->wait_link);
    pump(core);
    ipc_prof_mark(IPC_RECV);
    return CALL_PENDING;
}

int endpoint_return(struct process *p, const struct cap_sqe *s)
{
    int err;
    if ((s->flags & ~(CAP_SQE_F_FAIL | CAP_SQE_F_SILENT)) || s->result_addr || s->result_len)
        return CAP_ERR_INVALID_REQUEST;
    struct ep_core *core = owner_core(p, s->cap_id, &err);
    if (!core)
        return err;
    struct ep_call *call = inflight_find(core, s->call_id);
    if (!call)
        return CAP_ERR_NO_SUCH_CALL;
    ipc_prof_mark(IPC_RET_FIND);
    KASSERT(!interrupts_enabled());                   /* `buf` below is static */
    if (s->len > CAP_MAX_RESULT)
        return CAP_ERR_MESSAGE_TOO_LARGE;
    /* static: one RETURN at a time (interrupts off, no sleeping here) */
    static uint8_t buf[CAP_MAX_RESULT + 8 + CAP_MAX_XFER * sizeof(struct cap_result_cap)];
    if (s->len && !vm_copy_in(&p->vm, buf, s->addr, s->len))
        return CAP_ERR_INVALID_PARAMS_BUFFER;
    switch (call->state) {
    case EP_CALL_DELIVERED:
        break;
    case EP_CALL_ORPHANED:                            /* the caller is gone */
        call_unlink(call);
        call_free(call);
        return CAP_ERR_DISCONNECTED;
    case EP_CALL_QUEUED:
    case EP_CALL_NOTICE:
        panic("endpoint: a queued call on the in-flight list");
    }
    if (s->flags & CAP_SQE_F_FAIL) {
        if (s->xfer_cap_count)
            return CAP_ERR_INVALID_REQUEST;
        call_fail(call, CAP_ERR_APPLICATION);
        return 0;
    }
    struct xfer_set x;
    if ((err = xfer_collect(p, s->xfer_addr, s->xfer_cap_count, &x)) < 0)
        return err;                                   /* the call stays in flight */
    struct pending *pd = call->pd;
    uint32_t coff = (s->len + 7) & ~7u;
    uint32_t total = coff + x.n * (uint32_t)sizeof(struct cap_result_cap);
    if (total > pd->result_len || !vm_user_range_ok(&pd->proc->vm, pd->result_addr, total, PTE_W)) {
        xfer_rollback(&x);
        call_fail(call, CAP_ERR_RESULT_TOO_SMALL);
        return CAP_ERR_RESULT_TOO_SMALL;
    }
    struct cap_result_cap rec[CAP_MAX_XFER];
    uint32_t ncaps = x.n;
    if (xfer_deliver(&x, pd->proc, rec) < 0) {        /* the caller's table is full: we keep ours */
        call_fail(call, CAP_ERR_OVERLOADED);
        return CAP_ERR_OVERLOADED;
    }
    memset(buf + s->len, 0, coff - s->len);
    memcpy(buf + coff, rec, ncaps * sizeof rec[0]);
    if (ring_ref_live(pd))                            /* a caller thread that ended: nothing written, its caps go */
        vm_copy_out(&pd->proc->vm, pd->result_addr, buf, ncaps ? total : s->len);
    ipc_prof_mark(IPC_RET_COPY);
    ring_post_handoff(pd, (int32_t)s->len, rec, ncaps);   /* the caller runs next */
    pending_retire(pd);
    call->pd = 0;
    call_unlink(call);
    call_free(call);
    ipc_prof_mark(IPC_RET_POST);
    return 0;
}

/*
 * A server's answer and its next wait together: a RETURN with
 * CAP_SQE_F_SILENT alone, then a RECV on the same owner cap, submitted in
 * one cap_enter (ring_enter_ipc). Taken only when both would succeed the
 * general way exactly as here and nothing else can happen:
 *   - the RETURN: no flag but SILENT, no result buffer of its own, no
 *     transfers, at most EP_FAST_PARAMS result bytes in one page, naming a
 *     DELIVERED call whose caller's buffer takes them in one writable page
 *     (or, with no bytes, lies below USER_TOP: what vm_user_range_ok asks
 *     of an empty range), and whose caller's thread is blocked waiting for
 *     exactly this (ring_direct_target);
 *   - the RECV: no flags, nothing but its result buffer (checked as
 *     slow_sqe checks it, at least a header long), the endpoint open with
 *     nothing queued (so it waits), the process under its quota with a
 *     spare pending record (so nothing is allocated).
 * Anything else returns false before changing anything: ring_enter then
 * runs both SQEs through endpoint_return and endpoint_recv, which decide
 * every error. The caller's CQE is posted without a wake-up; its thread is
 * *next, for the direct switch. The RETURN's SQE posts nothing (silent).
 * Binds on: the BKL, interrupts off.
 */
bool endpoint_fast_reply_recv(struct process *p, const struct cap_sqe *ret, const struct cap_sqe *recv,
                              struct thread **next)
{
    if (ret->flags != CAP_SQE_F_SILENT || ret->result_addr || ret->result_len || ret->xfer_cap_count ||
        ret->xfer_addr || ret->len > EP_FAST_PARAMS)
        return false;
    if (recv->flags || recv->xfer_cap_count || recv->len || recv->addr || recv->call_id || recv->xfer_addr ||
        recv->cap_id != ret->cap_id || recv->result_len < sizeof(struct cap_recv_hdr))
        return false;
    struct kobj *o;
    if (cap_lookup(&p->caps, ret->cap_id, &o) || o->type != &endpoint_owner_type)
        return false;
    struct ep_core *core = ((struct ep_owner *)o)->core;
    if (core->closed || !list_empty(&core->queue) || p->npending >= PROC_MAX_PENDING || !p->npd_spare)
        return false;                                 /* the RECV's record is a spare: nothing to allocate */
    struct ep_call *call = inflight_find(core, ret->call_id);
    if (!call || call->state != EP_CALL_DELIVERED)
        return false;
    struct pending *pd = call->pd;
    uint32_t len = ret->len, coff = (len + 7) & ~7u;
    if (coff > pd->result_len)
        return false;
    paddr_t src = 0, dst = 0;
    if (len) {
        if ((ret->addr & (PAGE_SIZE - 1)) + len > PAGE_SIZE ||
            (pd->result_addr & (PAGE_SIZE - 1)) + coff > PAGE_SIZE ||
            ring_check_buffer(p, ret->addr, len, false, CAP_ERR_INVALID_PARAMS_BUFFER))
            return false;
        src = vm_translate(&p->vm, ret->addr, 0);
        dst = vm_translate(&pd->proc->vm, pd->result_addr, PTE_W);
        if (!src || !dst)
            return false;
    } else if (pd->result_addr >= USER_TOP_ADDR) {
        return false;
    }
    if (ring_check_buffer(p, recv->result_addr, recv->result_len, true, CAP_ERR_INVALID_RESULT_BUFFER))
        return false;
    struct thread *to = ring_direct_target(pd);
    if (!to)
        return false;
    ipc_prof_mark(IPC_RET_FIND);

    /* taken: from here nothing fails */
    if (len)
        memcpy(phys_to_virt(dst), phys_to_virt(src), len);
    ipc_prof_mark(IPC_RET_COPY);
    ring_post_direct(pd, (int32_t)len);
    pending_retire(pd);
    call->pd = 0;
    call_unlink(call);
    call_free(call);
    ipc_prof_mark(IPC_RET_POST);
    struct pending *rp = pending_new_for(p, PENDING_EP_RECV, recv->user_data, recv->result_addr, recv->result_len);
    KASSERT(rp);                                      /* a spare, under the quota: npending did not grow */
    list_add_tail(&core->receivers, &rp->wait_link);
    ipc_prof_mark(IPC_RECV);
    *next = to;
    return true;
}

/* A process that received calls is gone: its callers are told at once
 * (another owner of the endpoint, e.g. a restarted server, serves new calls). */
void endpoint_receiver_exit(struct process *p)
{
    while (!list_empty(&p->received)) {
        struct ep_call *call = container_of(p->received.next, struct ep_call, rx_link);
        KASSERT(call->state != EP_CALL_QUEUED);
        call_fail(call, CAP_ERR_DISCONNECTED);
    }
}

/* ---- the factory ---- */

/* Interfaces whose answers only the kernel can vouch for: an endpoint may
 * not serve them, so a cap with one of these interfaces is always the
 * kernel's own object (a SessionContext cannot be forged by a process that
 * answers for it). Console, Timer, VirtualMemory and TerminalSession stay
 * open: wrapping them (a logger, an SSH terminal) is ordinary attenuation. */
static bool kernel_interface(uint64_t iface)
{
    static const uint64_t ids[] = {
        capos_ProcessSpawner_ID, capos_ProcessHandle_ID, capos_Power_ID, capos_EndpointFactory_ID,
        capos_Endpoint_ID, capos_SessionAuthority_ID, capos_SessionContext_ID, capos_KernelStats_ID,
        capos_BootPackage_ID, capos_ThreadSpawner_ID, capos_ThreadHandle_ID, capos_ThreadControl_ID,
        capos_ParkSpace_ID,
    };
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] == iface)
            return true;
    return false;
}

static int factory_create(void *self, capos_EndpointFactory_create_Params_reader p,
                          capos_EndpointFactory_create_Results_builder r)
{
    struct call_ctx *c = self;
    uint64_t iface = capos_EndpointFactory_create_Params_get_interfaceId(p);
    uint32_t disclose = capos_EndpointFactory_create_Params_get_disclose(p);
    if (iface == 0 || kernel_interface(iface) || (disclose & ~(uint32_t)(CAP_RECV_F_PRINCIPAL | CAP_RECV_F_PROFILE)))
        return CAP_ERR_INVALID_ARGUMENT;
    uint64_t scope = session_random_u64();
    if (!scope)
        return CAP_ERR_INVOKE_FAILED;                 /* no entropy: fail closed */
    struct ep_core *core = kmalloc(sizeof *core);
    struct ep_owner *ow = kmalloc(sizeof *ow);
    struct ep_call *spare = kmalloc(sizeof *spare + EP_FAST_PARAMS);
    if (!core || !ow || !spare) {
        kfree(core);
        kfree(ow);
        kfree(spare);
        return CAP_ERR_OVERLOADED;
    }
    memset(core, 0, sizeof *core);
    endpoint_ifaces[(iface >> 6) & 3] |= 1ull << (iface & 63);
    core->spare = spare;
    core->refs = 1;                                   /* the owner's */
    core->iface = iface;
    core->scope = scope;
    core->disclose = disclose;
    list_init(&core->queue);
    list_init(&core->inflight);
    list_init(&core->receivers);
    kobj_init(&ow->obj, &endpoint_owner_type);
    ow->core = core;
    struct kobj *f = facet_new(core, 0, false);
    if (!f) {
        kobj_put(&ow->obj);
        return CAP_ERR_OVERLOADED;
    }
    capos_EndpointFactory_create_Results_set_owner(r, ctx_result_cap(c, r.s, &ow->obj));
    capos_EndpointFactory_create_Results_set_client(r, ctx_result_cap(c, r.s, f));
    return CAPNP_OK;
}

static const capos_EndpointFactory_server factory_server = { .create = factory_create };
static int factory_call(struct kobj *o, struct call_ctx *c) { return capos_EndpointFactory_dispatch(&factory_server, c, &c->sc); }
static const struct kobj_type factory_type = { "EndpointFactory", IFACE_ENDPOINT_FACTORY, factory_call, 0 };
struct kobj endpoint_factory_obj = KOBJ_STATIC(factory_type, IFACE_ENDPOINT_FACTORY);
