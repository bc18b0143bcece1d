/*
 * The transport-agnostic half of a client call: build the params message,
 * hand it to the transport callback, and check the framing of the result.
 * Generated stubs wrap these two steps with typed params and results.
 */
#include "capnp.h"

capnp_sbuilder capnp_call_start(capnp_call *c, const capnp_client *client,
                                const capnp_call_bufs *bufs, uint16_t dw,
                                uint16_t pw)
{
    c->client = client;
    c->bufs = bufs;
    c->result_ncaps = 0;
    capnp_builder_init(&c->params, bufs->params_buf, bufs->params_cap);
    capnp_builder_set_caps(&c->params, bufs->param_caps, bufs->param_caps_cap);
    return capnp_builder_root(&c->params, dw, pw);
}

int capnp_call_send(capnp_call *c, uint64_t interface_id, uint16_t method_id,
                    capnp_struct *result_root)
{
    size_t plen, rlen = 0;
    int e = capnp_builder_finish(&c->params, &plen);
    if (e != CAPNP_OK)
        return e;
    const capnp_call_bufs *b = c->bufs;
    e = c->client->call(c->client->ctx, interface_id, method_id, b->params_buf,
                        plen, b->param_caps, c->params.ncaps, b->result_buf,
                        b->result_cap, &rlen, b->result_caps, b->result_caps_cap,
                        &c->result_ncaps);
    if (e != CAPNP_OK)
        return e;
    if (rlen > b->result_cap || c->result_ncaps > b->result_caps_cap)
        return CAPNP_ERR_TRANSPORT;
    e = capnp_msg_init(&c->result, b->result_buf, rlen);
    if (e != CAPNP_OK)
        return e;
    capnp_msg_set_caps(&c->result, b->result_caps, c->result_ncaps);
    *result_root = capnp_msg_root(&c->result);
    return c->result.err;
}
