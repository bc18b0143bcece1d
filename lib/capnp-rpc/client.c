/*
 * The caller's half: Bootstrap, Call (on an import or pipelined on a
 * question's answer), the Return that answers them, Finish, Release.
 *
 * A question lives from its Bootstrap/Call until both its Return arrived
 * and the application called crpc_finish (a Finish before the Return
 * cancels it: the slot waits for the Return, whose caps the callee then
 * releases itself).  Caps a Return carries become imports: one local
 * handle each, given back with crpc_release.
 */
#include "crpc_internal.h"

crpc_target crpc_target_import(uint32_t handle)
{
    crpc_target t = { 0, 0, { 0 }, handle };
    return t;
}

crpc_target crpc_target_answer(uint32_t qid, uint32_t nops, const uint16_t *ops)
{
    crpc_target t = { 1, 0, { 0 }, qid };
    if (nops > CRPC_MAX_PATH) {
        t.nops = 0xff; /* refused by crpc_call_begin */
        return t;
    }
    t.nops = (uint8_t)nops;
    for (uint32_t i = 0; i < nops; i++)
        t.ops[i] = ops[i];
    return t;
}

static int question_new(crpc_conn *c, uint32_t *qid)
{
    for (uint32_t i = 0; i < c->mem.nquestions; i++) {
        struct crpc_question *q = &c->mem.questions[i];
        if (q->state == Q_FREE) {
            q->state = Q_PENDING;
            q->no_finish = 0;
            *qid = i;
            return CRPC_OK;
        }
    }
    return CRPC_ERR_TABLE_FULL;
}

static struct crpc_question *question_of(crpc_conn *c, uint32_t qid)
{
    if (qid >= c->mem.nquestions || c->mem.questions[qid].state == Q_FREE)
        return 0;
    return &c->mem.questions[qid];
}

int crpc_bootstrap(crpc_conn *c, uint32_t *qid)
{
    if (c->state != CRPC_OPEN)
        return CRPC_ERR_CLOSED;
    int e = question_new(c, qid);
    if (e != CRPC_OK)
        return e;
    capnp_builder b;
    crpc_out_begin(c, &b, false);
    capnp_set_u32(crpc_msg_root(&b, MSG_BOOTSTRAP, BOOT_DW, BOOT_PW), 0, *qid);
    if (!crpc_out_commit(c, &b)) {
        c->mem.questions[*qid].state = Q_FREE;
        return CRPC_ERR_NO_SPACE;
    }
    return CRPC_OK;
}

static capnp_sbuilder call_failed(crpc_call *call, int err)
{
    capnp_sbuilder none = { 0, 0, 0, 0 };
    call->err = err;
    return none;
}

capnp_sbuilder crpc_call_begin(crpc_conn *c, crpc_call *call, crpc_target t,
                               uint64_t interface_id, uint16_t method_id,
                               uint16_t dw, uint16_t pw)
{
    call->err = CRPC_OK;
    if (c->state != CRPC_OPEN)
        return call_failed(call, CRPC_ERR_CLOSED);
    if (t.kind == 0) {
        if (t.id >= c->mem.nimports || !c->mem.imports[t.id].used)
            return call_failed(call, CRPC_ERR_HANDLE);
    } else {
        struct crpc_question *q = question_of(c, t.id);
        if (t.kind != 1 || t.nops > CRPC_MAX_PATH)
            return call_failed(call, CRPC_ERR_INVALID);
        if (!q || q->state == Q_CANCELED || q->no_finish)
            return call_failed(call, CRPC_ERR_HANDLE);
    }
    int e = question_new(c, &call->qid);
    if (e != CRPC_OK)
        return call_failed(call, e);
    crpc_out_begin(c, &call->b, false);
    capnp_builder_set_caps(&call->b, call->caps, CRPC_MAX_CAPS);
    capnp_sbuilder m = crpc_msg_root(&call->b, MSG_CALL, CALL_DW, CALL_PW);
    capnp_set_u32(m, CALL_QID, call->qid);
    capnp_set_u64(m, CALL_IFACE, interface_id);
    capnp_set_u16(m, CALL_METHOD, method_id);
    capnp_sbuilder tg = capnp_init_struct(m, 0, TGT_DW, TGT_PW);
    if (t.kind == 0) {
        capnp_set_u32(tg, 0, c->mem.imports[t.id].id);
    } else {
        capnp_set_u16(tg, TGT_TAG, TGT_PROMISED);
        capnp_sbuilder pa = capnp_init_struct(tg, 0, PA_DW, PA_PW);
        capnp_set_u32(pa, 0, t.id);
        capnp_lbuilder ops = capnp_init_struct_list(pa, 0, t.nops, OP_DW, OP_PW);
        for (uint32_t i = 0; i < t.nops; i++) {
            capnp_sbuilder op = capnp_lget_struct(ops, i);
            capnp_set_u16(op, 0, OP_GET_POINTER_FIELD);
            capnp_set_u16(op, 2, t.ops[i]);
        }
    }
    call->payload = capnp_init_struct(m, 1, PAY_DW, PAY_PW);
    return capnp_init_struct(call->payload, 0, dw, pw);
}

int crpc_call_send(crpc_conn *c, crpc_call *call, uint32_t *qid)
{
    if (call->err != CRPC_OK)
        return call->err;
    struct crpc_question *q = &c->mem.questions[call->qid];
    int e = c->state == CRPC_OPEN ? CRPC_OK : CRPC_ERR_CLOSED;
    for (uint32_t i = 0; e == CRPC_OK && i < call->b.ncaps; i++) {
        uint32_t h = call->caps[i];
        if (h == CAPNP_NO_CAP)
            continue;
        /* passing our own objects to the peer is not supported */
        if (h & CRPC_H_EXPORT || h >= c->mem.nimports || !c->mem.imports[h].used)
            e = CRPC_ERR_HANDLE;
    }
    if (e == CRPC_OK) {
        crpc_put_cap_table(c, call->payload, call->caps, call->b.ncaps);
        if (!crpc_out_commit(c, &call->b))
            e = call->b.err == CAPNP_ERR_NO_SPACE ? CRPC_ERR_NO_SPACE : CRPC_ERR_INVALID;
    }
    if (e != CRPC_OK) {
        if (c->state == CRPC_OPEN)
            q->state = Q_FREE;
        return e;
    }
    *qid = call->qid;
    return CRPC_OK;
}

int crpc_finish(crpc_conn *c, uint32_t qid)
{
    if (c->state != CRPC_OPEN)
        return CRPC_ERR_CLOSED;
    struct crpc_question *q = question_of(c, qid);
    if (!q || q->state == Q_CANCELED)
        return CRPC_ERR_HANDLE;
    if (q->no_finish) {
        q->state = Q_FREE;
        return CRPC_OK;
    }
    bool pending = q->state == Q_PENDING;
    if (!crpc_send_finish(c, qid, pending))
        return CRPC_ERR_CLOSED;
    q->state = pending ? Q_CANCELED : Q_FREE;
    return CRPC_OK;
}

capnp_struct crpc_content(const crpc_event *ev)
{
    return capnp_get_struct(ev->payload, 0);
}

uint32_t crpc_content_cap(const crpc_event *ev)
{
    uint32_t i = capnp_get_cap(ev->payload, 0);
    return i < ev->ncaps ? ev->caps[i] : CAPNP_NO_CAP;
}

/* The Return's capTable as handles: caps the callee hosts become imports. */
static bool result_caps(crpc_conn *c, capnp_struct payload, crpc_event *ev)
{
    capnp_list l = capnp_get_list(payload, 1, CAPNP_ELEM_COMPOSITE);
    if (l.count > CRPC_MAX_CAPS) {
        crpc_fail(c, CRPC_R_BAD_CAP);
        return false;
    }
    for (uint32_t i = 0; i < l.count; i++) {
        capnp_struct d = capnp_list_struct(l, i);
        uint32_t id = capnp_get_u32(d, CD_ID);
        switch (capnp_get_u16(d, 0)) {
        case CD_NONE:
            c->ev_caps[i] = CAPNP_NO_CAP;
            break;
        case CD_SENDER_HOSTED:
        case CD_SENDER_PROMISE:
            if (crpc_import_add(c, id, &c->ev_caps[i]) != CRPC_OK) {
                crpc_fail(c, CRPC_R_TOO_MANY_IMPORTS);
                return false;
            }
            break;
        case CD_RECEIVER_HOSTED:
            if (crpc_eid_class(c, id) == EID_FORGED) {
                crpc_fail(c, CRPC_R_UNKNOWN_EXPORT);
                return false;
            }
            c->ev_caps[i] = crpc_eid_class(c, id) == EID_LIVE ? (CRPC_H_EXPORT | id)
                                                               : CAPNP_NO_CAP;
            break;
        default:
            crpc_fail(c, CRPC_R_BAD_CAP);
            return false;
        }
    }
    ev->caps = c->ev_caps;
    ev->ncaps = l.count;
    capnp_msg_set_caps(&c->in, c->ev_caps, l.count);
    return true;
}

void crpc_on_return(crpc_conn *c, capnp_struct r, crpc_event *ev)
{
    uint32_t aid = capnp_get_u32(r, RET_AID);
    struct crpc_question *q = question_of(c, aid);
    if (!q || q->state == Q_RETURNED) {
        crpc_fail(c, CRPC_R_UNKNOWN_QUESTION);
        return;
    }
    uint16_t tag = capnp_get_u16(r, RET_TAG);
    if (tag > RET_CANCELED) {
        crpc_fail(c, CRPC_R_BAD_RETURN);
        return;
    }
    if (q->state == Q_CANCELED) { /* our Finish released whatever it holds */
        q->state = Q_FREE;
        return;
    }
    ev->question = aid;
    switch (tag) {
    case RET_RESULTS:
        ev->payload = capnp_get_struct(r, 0);
        if (!result_caps(c, ev->payload, ev))
            return;
        ev->kind = CRPC_EV_RETURN;
        break;
    case RET_EXCEPTION: {
        capnp_struct x = capnp_get_struct(r, 0);
        ev->kind = CRPC_EV_EXCEPTION;
        ev->type = capnp_get_u16(x, EXC_TYPE);
        ev->reason = capnp_get_text(x, 0);
        break;
    }
    default:
        ev->kind = CRPC_EV_EXCEPTION;
        ev->type = CRPC_EXC_FAILED;
        ev->reason.str = crpc_reason_name(CRPC_R_CANCELED);
        ev->reason.len = crpc_strlen16(ev->reason.str);
        break;
    }
    q->state = Q_RETURNED;
}

/* The peer did not understand something we sent: a Bootstrap or Call then
 * fails `unimplemented` (and is never finished); anything else is ignored. */
void crpc_on_unimplemented(crpc_conn *c, capnp_struct m, crpc_event *ev)
{
    uint16_t which = capnp_get_u16(m, 0); /* m: the Message we sent */
    if (which != MSG_CALL && which != MSG_BOOTSTRAP)
        return;
    uint32_t qid = capnp_get_u32(capnp_get_struct(m, 0), 0);
    struct crpc_question *q = question_of(c, qid);
    if (!q || q->state == Q_RETURNED)
        return;
    if (q->state == Q_CANCELED) {
        q->state = Q_FREE;
        return;
    }
    q->state = Q_RETURNED;
    q->no_finish = 1;
    ev->kind = CRPC_EV_EXCEPTION;
    ev->question = qid;
    ev->type = CRPC_EXC_UNIMPLEMENTED;
    ev->reason.str = crpc_reason_name(CRPC_R_UNIMPLEMENTED);
    ev->reason.len = crpc_strlen16(ev->reason.str);
}
