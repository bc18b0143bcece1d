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

/* Dispatch the call described by `in` and RETURN its result. Result caps
 * are moved to the caller (what a server mints for a caller must not stay
 * in its table), except those the handler marks in in->keep: those are
 * copied, for caps the server hands out and keeps using itself. */
static int answer(uint32_t owner, rt_dispatch_fn dispatch, const void *server, void *self, struct rt_incoming *in)
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
        return 0;                                   /* the handler answers later (or never) */
    if (e)
        return returned(rt_return(owner, in->hdr->call_id, 0, 0, 0, 0, true), 0, 0);
    struct cap_xfer x[CAP_MAX_XFER];
    for (uint32_t i = 0; i < sc.result_ncaps; i++)
        x[i] = (struct cap_xfer){ out_caps[i], (in->keep >> i) & 1 ? CAP_XFER_COPY : CAP_XFER_MOVE };
    return returned(rt_return(owner, in->hdr->call_id, out, (uint32_t)sc.result_len, x, sc.result_ncaps, false),
                    x, sc.result_ncaps);
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

int rt_serve_forever(uint32_t owner, rt_dispatch_fn dispatch, const void *server, struct rt_incoming *in)
{
    uint8_t buf[sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS] __attribute__((aligned(8)));
    for (;;) {
        int r = rt_serve_one(owner, dispatch, server, in, buf, sizeof buf, in);
        if (r == CAP_ERR_DISCONNECTED)
            return 0;
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
