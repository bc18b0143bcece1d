/*
 * Serving and making endpoints: RECV and RETURN on the owner side, the
 * EndpointFactory, Endpoint.facet and SessionAuthority clients.
 */
#include "capos.h"

/* Describe a delivered call (its RECV completed with cqe) in `in`. */
static int recv_parse(void *buf, const struct cap_cqe *c, struct rt_incoming *in)
{
    if (c->result < 0)
        return c->result;
    const struct cap_recv_hdr *h = buf;
    in->hdr = h;
    in->params = (const uint8_t *)buf + sizeof *h;
    in->ncaps = c->xfer_result_count < CAP_MAX_XFER ? c->xfer_result_count : CAP_MAX_XFER;
    const struct cap_result_cap *rc =
        (const void *)((const uint8_t *)buf + ((sizeof *h + h->params_len + 7) & ~(size_t)7));
    for (uint32_t i = 0; i < in->ncaps; i++) {
        in->caps[i] = rc[i].cap_id;
        in->cap_ifaces[i] = rc[i].interface_id;
    }
    return 0;
}

int rt_recv(uint32_t owner, void *buf, uint32_t len, struct rt_incoming *in)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = len };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    return recv_parse(buf, &c, in);
}

int rt_return(uint32_t owner, uint32_t call_id, const void *result, uint32_t len,
              const struct cap_xfer *x, uint32_t nx, bool fail)
{
    struct cap_sqe s = {
        .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = call_id,
        .addr = (uint64_t)result, .len = len, .flags = fail ? CAP_SQE_F_FAIL : 0,
        .xfer_cap_count = (uint8_t)nx, .xfer_addr = nx ? (uint64_t)x : 0,
    };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&s), &c);
    return c.result;
}

/* What a RETURN's result means for the serve loop. When the RETURN ended
 * the call without delivering its caps (the caller died while its call was
 * handled: DISCONNECTED; its result buffer is too small, or its table is
 * full: the caller gets that error), the caps meant to move are still ours
 * and are released, or every such call would leave them in our table. A
 * caller's death ends that call, not the endpoint: it answers 0, so the
 * serve loop goes on (only a RECV's DISCONNECTED means no client is left). */
static int returned(int r, const struct cap_xfer *x, uint32_t nx)
{
    if (r != CAP_ERR_DISCONNECTED && r != CAP_ERR_RESULT_TOO_SMALL && r != CAP_ERR_OVERLOADED)
        return r;
    for (uint32_t i = 0; i < nx; i++)
        if (x[i].mode == CAP_XFER_MOVE)
            rt_release(x[i].cap_id);
    return r == CAP_ERR_DISCONNECTED ? 0 : r;
}

/* Dispatch the call described by `in` and build its RETURN in *ret, with
 * the caps it carries in x[0 .. *nx). Result caps are moved to the caller
 * (what a server mints for a caller must not stay in its table), except
 * those the handler marks in in->keep: those are copied, for caps the
 * server hands out and keeps using itself. false: nothing to RETURN now
 * (the handler answers later, or never). The result bytes are in a static
 * buffer, good until the next call is dispatched. */
static bool prepare(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self, struct rt_incoming *in,
                    struct cap_sqe *ret, struct cap_xfer *x, uint32_t *nx)
{
    static uint8_t out[CAP_MAX_RESULT] __attribute__((aligned(8)));
    uint32_t out_caps[CAP_MAX_XFER];
    capnp_server_call sc = {
        .interface_id = in->hdr->interface_id, .method_id = in->hdr->method_id,
        .params = in->params, .params_len = in->hdr->params_len,
        .param_caps = in->caps, .param_ncaps = in->ncaps,
        .result = out, .result_cap = sizeof out, .result_caps = out_caps, .result_caps_cap = CAP_MAX_XFER,
    };
    in->deferred = false;
    in->keep = 0;
    int e = dispatch(server, self, &sc);
    if (in->deferred)
        return false;
    *ret = (struct cap_sqe){ .opcode = CAP_OP_RETURN, .cap_id = owner, .call_id = in->hdr->call_id };
    *nx = 0;
    if (e) {
        ret->flags = CAP_SQE_F_FAIL;
        return true;
    }
    for (uint32_t i = 0; i < sc.result_ncaps; i++)
        x[i] = (struct cap_xfer){ out_caps[i], (in->keep >> i) & 1 ? CAP_XFER_COPY : CAP_XFER_MOVE };
    *nx = (uint32_t)sc.result_ncaps;
    ret->addr = (uint64_t)out;
    ret->len = (uint32_t)sc.result_len;
    ret->xfer_cap_count = (uint8_t)*nx;
    ret->xfer_addr = *nx ? (uint64_t)x : 0;
    return true;
}

/* Dispatch the call described by `in` and RETURN its result. */
static int answer(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self, struct rt_incoming *in)
{
    struct cap_sqe ret;
    struct cap_xfer x[CAP_MAX_XFER];
    uint32_t nx;
    if (!prepare(owner, dispatch, server, self, in, &ret, x, &nx))
        return 0;                                   /* the handler answers later (or never) */
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&ret), &c);
    return returned(c.result, x, nx);
}

/* A release notice is no call: the handler (if any) hears of it, nothing
 * is RETURNed. */
static int answer_or_notice(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self,
                            struct rt_incoming *in)
{
    if (in->hdr->flags & CAP_RECV_F_RELEASED) {
        in->ncaps = 0;
        if (in->released)
            in->released(self, in->hdr->badge);
        return 0;
    }
    return answer(owner, dispatch, server, self, in);
}

int rt_serve_one(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self,
                 void *buf, uint32_t len, struct rt_incoming *in)
{
    int r = rt_recv(owner, buf, len, in);
    if (r < 0)
        return r;
    return answer_or_notice(owner, dispatch, server, self, in);
}

int rt_serve_delivered(uint32_t owner, const struct cap_cqe *cqe, rt_dispatch_fn dispatch, const void *server,
                       void *self, void *buf, struct rt_incoming *in)
{
    int r = recv_parse(buf, cqe, in);
    if (r < 0)
        return r;
    return answer_or_notice(owner, dispatch, server, self, in);
}

/* Take the CQE tagged `tag` out of the CQ if it is there; false if not
 * (nothing waits). */
static bool take_posted(uint64_t tag, struct cap_cqe *out)
{
    const struct cap_ring_hdr *r = rt_ring;
    const struct cap_cqe *cq = (const struct cap_cqe *)((const char *)r + RING_CQ_OFFSET);
    uint32_t tail = __atomic_load_n(&r->cq_tail, __ATOMIC_ACQUIRE), head = r->cq_head;
    if (tail - head > RING_CQ_ENTRIES)
        head = tail - RING_CQ_ENTRIES;
    for (uint32_t i = head; i != tail; i++)
        if (cq[i & (RING_CQ_ENTRIES - 1)].user_data == tag) {
            rt_ring_wait(tag, out);                 /* found at once: takes it out of the CQ */
            return true;
        }
    return false;
}

/* Reply and receive: each answer is a silent RETURN submitted with the
 * next RECV, one cap_enter per call served (the kernel's endpoint fast
 * path takes the pair and switches straight to the caller when it waits).
 * A RETURN that fails still posts its CQE, before the RECV's: it is taken
 * out, and `returned` releases the caps it would have moved. */
int rt_serve_forever(uint32_t owner, rt_dispatch_fn dispatch, const void *server, struct rt_incoming *in)
{
    uint8_t buf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
    struct cap_sqe recv = { .opcode = CAP_OP_RECV, .cap_id = owner, .result_addr = (uint64_t)buf, .result_len = sizeof buf };
    struct cap_cqe c;
    rt_ring_wait(rt_ring_submit(&recv), &c);
    for (;;) {
        int r = recv_parse(buf, &c, in);
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
        struct cap_sqe ret;
        struct cap_xfer x[CAP_MAX_XFER];
        uint32_t nx = 0;
        bool reply = false;
        if (r == 0 && (in->hdr->flags & CAP_RECV_F_RELEASED))
            answer_or_notice(owner, dispatch, server, in, in);   /* a notice: nothing to RETURN */
        else if (r == 0)
            reply = prepare(owner, dispatch, server, in, in, &ret, x, &nx);
        if (!reply) {
            rt_ring_wait(rt_ring_submit(&recv), &c);
            continue;
        }
        ret.flags |= CAP_SQE_F_SILENT;
        uint64_t ret_tag = rt_ring_submit(&ret);
        rt_ring_wait(rt_ring_submit(&recv), &c);
        struct cap_cqe rc;
        if (take_posted(ret_tag, &rc))
            returned(rc.result, x, nx);
    }
}

int rt_endpoint_create(uint32_t factory, uint64_t iface, uint32_t disclose, uint32_t *owner, uint32_t *client)
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(factory);
    capnp_call call;
    capos_EndpointFactory_create_Results_reader r;
    int e = capos_EndpointFactory_create(&cl, &b, &call, iface, disclose, &r);
    if (e)
        return rt_error(e);
    uint32_t o = capos_EndpointFactory_create_Results_get_owner(r);
    uint32_t f = capos_EndpointFactory_create_Results_get_client(r);
    if (o >= call.result_ncaps || f >= call.result_ncaps)
        return CAP_ERR_INVOKE_FAILED;
    *owner = b.result_caps[o];
    *client = b.result_caps[f];
    return 0;
}

static int64_t facet(uint32_t owner, uint64_t badge, bool notify)
{
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(owner);
    capnp_call call;
    capos_Endpoint_facet_Results_reader r;
    int e = capos_Endpoint_facet(&cl, &b, &call, badge, notify, &r);
    if (e)
        return rt_error(e);
    uint32_t f = capos_Endpoint_facet_Results_get_client(r);
    return f < call.result_ncaps ? (int64_t)b.result_caps[f] : CAP_ERR_INVOKE_FAILED;
}

int64_t rt_endpoint_facet(uint32_t owner, uint64_t badge) { return facet(owner, badge, false); }
int64_t rt_endpoint_facet_notify(uint32_t owner, uint64_t badge) { return facet(owner, badge, true); }

int64_t rt_session_mint(uint32_t authority, const char *principal, const char *profile)
{
    RT_BUFS(b, 256, 256);
    capnp_client cl = RT_CLIENT(authority);
    capnp_call call;
    capos_SessionAuthority_mint_Results_reader r;
    int e = capos_SessionAuthority_mint(&cl, &b, &call, principal, strlen(principal), profile, strlen(profile), &r);
    if (e)
        return rt_error(e);
    uint32_t sidx = capos_SessionAuthority_mint_Results_get_session(r);
    return sidx < call.result_ncaps ? (int64_t)b.result_caps[sidx] : CAP_ERR_INVOKE_FAILED;
}
