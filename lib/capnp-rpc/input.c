/*
 * Input: one framed message at a time.  The segment table is checked
 * against the limits before anything else (so an oversize frame is refused
 * before it is buffered), the whole message is validated (every pointer,
 * the traversal and nesting limits) before any field is used, then the
 * message goes to its handler by kind.  Kinds this library does not speak
 * are sent back in an Unimplemented.
 */
#include "crpc_internal.h"

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

int crpc_frame(const crpc_limits *l, const uint8_t *buf, size_t len,
               size_t *frame_len, int *reason)
{
    *frame_len = 0;
    *reason = CRPC_R_NONE;
    if (len < 4)
        return CRPC_MORE;
    uint32_t n = ld32(buf) + 1; /* wraps to 0 on 0xffffffff */
    if (n == 0 || n > l->max_segments || n > CAPNP_MAX_SEGMENTS) {
        *reason = CRPC_R_BAD_FRAME;
        return CRPC_ERR_INVALID;
    }
    size_t table = ((size_t)4 + 4 * (size_t)n + 7) & ~(size_t)7;
    if (len < table)
        return CRPC_MORE;
    uint64_t total = table;
    for (uint32_t i = 0; i < n; i++)
        total += (uint64_t)ld32(buf + 4 + 4 * i) * 8;
    if (total > l->max_message_bytes) {
        *reason = CRPC_R_TOO_LARGE;
        return CRPC_ERR_INVALID;
    }
    if (ld32(buf + 4) == 0) { /* the root lives in the first segment */
        *reason = CRPC_R_BAD_FRAME;
        return CRPC_ERR_INVALID;
    }
    if (len < total)
        return CRPC_MORE;
    *frame_len = (size_t)total;
    return CRPC_OK;
}

static int closed(crpc_conn *c, crpc_event *ev)
{
    ev->kind = CRPC_EV_CLOSED;
    if (!ev->reason.str) {
        ev->reason.str = crpc_reason_name(c->reason);
        ev->reason.len = crpc_strlen16(ev->reason.str);
    }
    return CRPC_ERR_CLOSED;
}

int crpc_input(crpc_conn *c, const uint8_t *buf, size_t len, size_t *used,
               crpc_event *ev)
{
    crpc_event none = { 0 };
    *ev = none;
    *used = 0;
    if (c->state != CRPC_OPEN)
        return closed(c, ev);
    size_t fl;
    int reason;
    int r = crpc_frame(&c->lim, buf, len, &fl, &reason);
    if (r == CRPC_MORE)
        return CRPC_MORE;
    if (r != CRPC_OK) {
        crpc_fail(c, reason);
        return closed(c, ev);
    }
    *used = fl;
    c->messages_in++;
    if (capnp_msg_init(&c->in, buf, fl) != CAPNP_OK) {
        crpc_fail(c, CRPC_R_BAD_FRAME);
        return closed(c, ev);
    }
    capnp_msg_set_limits(&c->in, c->lim.traversal_words, c->lim.nesting);
    if (capnp_msg_validate(&c->in) != CAPNP_OK) {
        crpc_fail(c, CRPC_R_MALFORMED);
        return closed(c, ev);
    }
    capnp_msg_set_limits(&c->in, c->lim.traversal_words, c->lim.nesting);
    capnp_struct root = capnp_msg_root(&c->in);
    uint16_t which = capnp_get_u16(root, 0);
    bool body_ok = capnp_ptr_kind(root, 0) == CAPNP_KIND_STRUCT;
    capnp_struct body = body_ok ? capnp_get_struct(root, 0) : root;
    switch (which) {
    case MSG_ABORT: {
        capnp_struct x = capnp_get_struct(root, 0);
        ev->type = capnp_get_u16(x, EXC_TYPE);
        ev->reason = capnp_get_text(x, 0);
        c->reason = CRPC_R_PEER_ABORT;
        crpc_close(c);
        return closed(c, ev);
    }
    case MSG_BOOTSTRAP:
    case MSG_CALL:
    case MSG_RETURN:
    case MSG_FINISH:
    case MSG_RELEASE:
    case MSG_UNIMPLEMENTED:
        if (!body_ok) {
            crpc_fail(c, CRPC_R_MALFORMED);
            return closed(c, ev);
        }
        break;
    default:
        crpc_send_unimplemented(c, root);
        break;
    }
    switch (which) {
    case MSG_BOOTSTRAP:
        crpc_on_bootstrap(c, body);
        break;
    case MSG_CALL:
        crpc_on_call(c, body);
        break;
    case MSG_RETURN:
        crpc_on_return(c, body, ev);
        break;
    case MSG_FINISH:
        crpc_on_finish(c, body);
        break;
    case MSG_RELEASE:
        crpc_on_release(c, body);
        break;
    case MSG_UNIMPLEMENTED:
        crpc_on_unimplemented(c, body, ev);
        break;
    default:
        break;
    }
    if (c->state == CRPC_OPEN && c->in.err != CAPNP_OK)
        crpc_fail(c, CRPC_R_MALFORMED);
    if (c->state != CRPC_OPEN) {
        crpc_event cl = { 0 };
        *ev = cl;
        return closed(c, ev);
    }
    crpc_export_sweep(c);
    return CRPC_OK;
}
