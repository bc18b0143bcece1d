/*
 * Building outgoing messages straight into the output queue.  A message is
 * built after the bytes already queued and only counted once it is whole;
 * the last CRPC_ABORT_RESERVE bytes are kept for an Abort, so a connection
 * that must abort can always say why.
 */
#include "crpc_internal.h"

bool crpc_out_begin(crpc_conn *c, capnp_builder *b, bool reserve)
{
    size_t room = c->mem.out_cap - c->out_len;
    if (!reserve) {
        if (room < CRPC_ABORT_RESERVE)
            room = 0;
        else
            room -= CRPC_ABORT_RESERVE;
    }
    return capnp_builder_init(b, c->mem.out + c->out_len, room) == CAPNP_OK;
}

bool crpc_out_commit(crpc_conn *c, capnp_builder *b)
{
    size_t len;
    if (capnp_builder_finish(b, &len) != CAPNP_OK)
        return false;
    c->out_len += len;
    c->messages_out++;
    return true;
}

capnp_sbuilder crpc_msg_root(capnp_builder *b, uint16_t which, uint16_t dw,
                             uint16_t pw)
{
    capnp_sbuilder m = capnp_builder_root(b, MSG_DW, MSG_PW);
    capnp_set_u16(m, 0, which);
    return capnp_init_struct(m, 0, dw, pw);
}

void crpc_set_exception(capnp_sbuilder e, int type, const char *reason)
{
    capnp_set_text(e, 0, reason, crpc_strlen16(reason));
    capnp_set_u16(e, EXC_TYPE, (uint16_t)type);
}

/* When even the reserve is gone the connection cannot talk any more. */
static bool out_full(crpc_conn *c)
{
    if (c->state == CRPC_OPEN) {
        c->reason = CRPC_R_OUTPUT_FULL;
        crpc_send_abort(c, CRPC_EXC_FAILED, crpc_reason_name(CRPC_R_OUTPUT_FULL));
        c->aborts_sent++;
        crpc_close(c);
    }
    return false;
}

bool crpc_send_abort(crpc_conn *c, int type, const char *reason)
{
    capnp_builder b;
    if (!crpc_out_begin(c, &b, true))
        return false;
    crpc_set_exception(crpc_msg_root(&b, MSG_ABORT, EXC_DW, EXC_PW), type, reason);
    return crpc_out_commit(c, &b);
}

bool crpc_send_return_exception(crpc_conn *c, uint32_t aid, int type,
                                const char *reason)
{
    capnp_builder b;
    if (!crpc_out_begin(c, &b, false))
        return out_full(c);
    capnp_sbuilder r = crpc_msg_root(&b, MSG_RETURN, RET_DW, RET_PW);
    capnp_set_u32(r, RET_AID, aid);
    capnp_set_u16(r, RET_TAG, RET_EXCEPTION);
    crpc_set_exception(capnp_init_struct(r, 0, EXC_DW, EXC_PW), type, reason);
    return crpc_out_commit(c, &b) || out_full(c);
}

bool crpc_send_unimplemented(crpc_conn *c, capnp_struct root)
{
    capnp_builder b;
    if (!crpc_out_begin(c, &b, false))
        return out_full(c);
    capnp_sbuilder m = capnp_builder_root(&b, MSG_DW, MSG_PW);
    capnp_set_u16(m, 0, MSG_UNIMPLEMENTED);
    if (capnp_copy_struct(m, 0, root) != CAPNP_OK) {
        if (root.msg->err != CAPNP_OK) {
            crpc_fail(c, CRPC_R_MALFORMED);
            return false;
        }
        return out_full(c);
    }
    return crpc_out_commit(c, &b) || out_full(c);
}

/* Finish and Release are one data word each. */
static bool send_word(crpc_conn *c, uint16_t which, uint64_t word)
{
    capnp_builder b;
    if (!crpc_out_begin(c, &b, false))
        return out_full(c);
    capnp_set_u64(crpc_msg_root(&b, which, 1, 0), 0, word);
    return crpc_out_commit(c, &b) || out_full(c);
}

bool crpc_send_finish(crpc_conn *c, uint32_t qid, bool release_results)
{
    /* releaseResultCaps (bit 32) defaults to true: stored inverted */
    return send_word(c, MSG_FINISH, qid | (release_results ? 0 : 1ull << FIN_RELEASE_BIT));
}

bool crpc_send_release(crpc_conn *c, uint32_t id, uint32_t count)
{
    return send_word(c, MSG_RELEASE, id | (uint64_t)count << 32);
}

void crpc_put_cap_table(crpc_conn *c, capnp_sbuilder payload,
                        const uint32_t *caps, uint32_t ncaps)
{
    if (ncaps == 0)
        return;
    capnp_lbuilder l = capnp_init_struct_list(payload, 1, ncaps, CD_DW, CD_PW);
    for (uint32_t i = 0; i < ncaps && l.b; i++) {
        capnp_sbuilder d = capnp_lget_struct(l, i);
        uint32_t h = caps[i];
        if (h == CAPNP_NO_CAP || h == CRPC_H_TRANSIENT) {
            capnp_set_u16(d, 0, CD_NONE);
        } else if (h & CRPC_H_EXPORT) {
            uint32_t eid = h & ~CRPC_H_EXPORT;
            struct crpc_export *e = crpc_export_slot(c, eid);
            if (!e) {
                capnp_set_u16(d, 0, CD_NONE);
                continue;
            }
            e->remote_refs++;
            capnp_set_u16(d, 0, CD_SENDER_HOSTED);
            capnp_set_u32(d, CD_ID, eid);
        } else if (h < c->mem.nimports && c->mem.imports[h].used) {
            capnp_set_u16(d, 0, CD_RECEIVER_HOSTED);
            capnp_set_u32(d, CD_ID, c->mem.imports[h].id);
        } else {
            capnp_set_u16(d, 0, CD_NONE);
        }
    }
}

/* Undo crpc_put_cap_table's references when its message was not sent. */
void crpc_unput_cap_table(crpc_conn *c, const uint32_t *caps, uint32_t ncaps)
{
    for (uint32_t i = 0; i < ncaps; i++) {
        if (caps[i] == CAPNP_NO_CAP || !(caps[i] & CRPC_H_EXPORT))
            continue;
        struct crpc_export *e = crpc_export_slot(c, caps[i] & ~CRPC_H_EXPORT);
        if (e && e->remote_refs)
            e->remote_refs--;
    }
}

/* The exception type of each reason sent in a Return. */
int crpc_reason_type(int reason)
{
    switch (reason) {
    case CRPC_R_UNKNOWN_INTERFACE:
    case CRPC_R_UNKNOWN_METHOD:
    case CRPC_R_UNIMPLEMENTED:
    case CRPC_R_SEND_RESULTS_TO:
        return CRPC_EXC_UNIMPLEMENTED;
    case CRPC_R_DISCONNECTED:
        return CRPC_EXC_DISCONNECTED;
    case CRPC_R_TOO_MANY_QUESTIONS:
        return CRPC_EXC_OVERLOADED;
    default:
        return CRPC_EXC_FAILED;
    }
}
