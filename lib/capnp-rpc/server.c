/*
 * The callee's half: Bootstrap, Call (importedCap and promisedAnswer
 * targets, getPointerField transforms), Finish and Release.
 *
 * Calls are dispatched synchronously, so by the time a pipelined call
 * arrives the answer it names has already been returned: an answer keeps
 * the handles of its Return's capTable and, for each cap reachable through
 * struct pointer fields (at most CRPC_MAX_PATH deep), the path to it.  The
 * answer pins its exports until the caller's Finish.
 *
 * A protocol violation aborts (crpc_fail); a call that cannot be served is
 * answered with an exception and the connection goes on.
 */
#include "crpc_internal.h"

/* An exception to answer with: a reason code, or (reason 0) type + text. */
struct exc {
    int reason;
    int type;
    const char *text;
};

static void set_exc(struct exc *x, int reason)
{
    if (x->reason || x->text)
        return; /* the first one stands */
    x->reason = reason;
    x->type = crpc_reason_type(reason);
    x->text = crpc_reason_name(reason);
}

static struct crpc_answer *answer_new(crpc_conn *c, uint32_t qid)
{
    if (crpc_answer_find(c, qid)) {
        crpc_fail(c, CRPC_R_QUESTION_REUSED);
        return 0;
    }
    for (uint32_t i = 0; i < c->mem.nanswers; i++) {
        struct crpc_answer *a = &c->mem.answers[i];
        if (a->state == A_FREE) {
            a->qid = qid;
            a->nrcaps = 0;
            a->npaths = 0;
            a->reason = 0;
            return a;
        }
    }
    crpc_fail(c, CRPC_R_TOO_MANY_QUESTIONS);
    return 0;
}

/* Record an exception answer (for calls pipelined on it) and send it. */
static void answer_exception(crpc_conn *c, struct crpc_answer *a,
                             const struct exc *x)
{
    a->state = A_EXCEPTION;
    a->exc_type = (uint8_t)x->type;
    a->reason = x->text;
    crpc_send_return_exception(c, a->qid, x->type, x->text);
}

/* ------------------------------------------------------------ targets */

static uint32_t resolve_eid(crpc_conn *c, uint32_t eid, struct exc *x)
{
    switch (crpc_eid_class(c, eid)) {
    case EID_LIVE:
        return CRPC_H_EXPORT | eid;
    case EID_STALE:
        set_exc(x, c->revoked ? CRPC_R_DISCONNECTED : CRPC_R_STALE_CAP);
        return CAPNP_NO_CAP;
    default:
        crpc_fail(c, CRPC_R_UNKNOWN_EXPORT);
        return CAPNP_NO_CAP;
    }
}

static uint32_t resolve_promised(crpc_conn *c, capnp_struct pa, struct exc *x)
{
    uint32_t qid = capnp_get_u32(pa, 0);
    capnp_list ops = capnp_get_list(pa, 0, CAPNP_ELEM_COMPOSITE);
    uint16_t path[CRPC_MAX_PATH];
    uint32_t len = 0;
    bool too_deep = false;
    for (uint32_t i = 0; i < ops.count && c->in.err == CAPNP_OK; i++) {
        capnp_struct op = capnp_list_struct(ops, i);
        switch (capnp_get_u16(op, 0)) {
        case OP_NOOP:
            break;
        case OP_GET_POINTER_FIELD:
            if (len == CRPC_MAX_PATH)
                too_deep = true;
            else
                path[len++] = capnp_get_u16(op, 2);
            break;
        default:
            crpc_fail(c, CRPC_R_BAD_TRANSFORM);
            return CAPNP_NO_CAP;
        }
    }
    if (c->in.err != CAPNP_OK) {
        crpc_fail(c, CRPC_R_MALFORMED);
        return CAPNP_NO_CAP;
    }
    struct crpc_answer *a = crpc_answer_find(c, qid);
    if (!a) {
        crpc_fail(c, CRPC_R_UNKNOWN_ANSWER);
        return CAPNP_NO_CAP;
    }
    if (c->revoked) {
        set_exc(x, CRPC_R_DISCONNECTED);
        return CAPNP_NO_CAP;
    }
    if (a->state == A_EXCEPTION) { /* the promise broke: the same exception */
        if (!x->reason && !x->text) {
            x->type = a->exc_type;
            x->text = a->reason;
        }
        return CAPNP_NO_CAP;
    }
    for (uint32_t i = 0; !too_deep && i < a->npaths; i++) {
        const struct crpc_answer_path *p = &a->paths[i];
        bool same = p->len == len;
        for (uint32_t k = 0; same && k < len; k++)
            same = p->field[k] == path[k];
        if (!same)
            continue;
        uint32_t h = a->rcaps[p->cap];
        if (h != CAPNP_NO_CAP && (h & CRPC_H_EXPORT))
            return resolve_eid(c, h & ~CRPC_H_EXPORT, x);
        set_exc(x, CRPC_R_UNIMPLEMENTED); /* a cap the caller hosts */
        return CAPNP_NO_CAP;
    }
    set_exc(x, CRPC_R_NOT_A_CAP);
    return CAPNP_NO_CAP;
}

static uint32_t resolve_target(crpc_conn *c, capnp_struct t, struct exc *x)
{
    switch (capnp_get_u16(t, TGT_TAG)) {
    case TGT_IMPORTED:
        if (c->revoked) {
            if (crpc_eid_class(c, capnp_get_u32(t, 0)) == EID_FORGED)
                crpc_fail(c, CRPC_R_UNKNOWN_EXPORT);
            set_exc(x, CRPC_R_DISCONNECTED);
            return CAPNP_NO_CAP;
        }
        return resolve_eid(c, capnp_get_u32(t, 0), x);
    case TGT_PROMISED:
        return resolve_promised(c, capnp_get_struct(t, 0), x);
    default:
        crpc_fail(c, CRPC_R_BAD_TARGET);
        return CAPNP_NO_CAP;
    }
}

/* The params' capTable as handles (caps the caller hosts are transient:
 * the Return releases them, releaseParamCaps being left true). */
static uint32_t param_caps(crpc_conn *c, capnp_struct payload, uint32_t *caps,
                           struct exc *x)
{
    capnp_list l = capnp_get_list(payload, 1, CAPNP_ELEM_COMPOSITE);
    if (l.count > CRPC_MAX_CAPS) {
        crpc_fail(c, CRPC_R_BAD_CAP);
        return 0;
    }
    for (uint32_t i = 0; i < l.count && c->state == CRPC_OPEN; i++) {
        capnp_struct d = capnp_list_struct(l, i);
        switch (capnp_get_u16(d, 0)) {
        case CD_NONE:
            caps[i] = CAPNP_NO_CAP;
            break;
        case CD_SENDER_HOSTED:
        case CD_SENDER_PROMISE:
            caps[i] = CRPC_H_TRANSIENT;
            break;
        case CD_RECEIVER_HOSTED:
            caps[i] = resolve_eid(c, capnp_get_u32(d, CD_ID), x);
            break;
        case CD_RECEIVER_ANSWER:
            caps[i] = resolve_promised(c, capnp_get_struct(d, 0), x);
            break;
        default:
            crpc_fail(c, CRPC_R_BAD_CAP);
            return 0;
        }
    }
    return l.count;
}

/* ------------------------------------------------------------ results */

/* Remember where the caps of a result are, for calls pipelined on it. */
static void walk_paths(struct crpc_answer *a, capnp_struct s, uint16_t idx,
                       uint16_t *path, uint32_t len)
{
    if (a->npaths == CRPC_ANSWER_PATHS)
        return;
    switch (capnp_ptr_kind(s, idx)) {
    case CAPNP_KIND_CAP: {
        uint32_t ci = capnp_get_cap(s, idx);
        if (ci == CAPNP_NO_CAP || ci >= a->nrcaps)
            return;
        struct crpc_answer_path *p = &a->paths[a->npaths++];
        p->len = (uint8_t)len;
        p->cap = (uint8_t)ci;
        for (uint32_t k = 0; k < len; k++)
            p->field[k] = path[k];
        return;
    }
    case CAPNP_KIND_STRUCT: {
        if (len == CRPC_MAX_PATH)
            return;
        capnp_struct t = capnp_get_struct(s, idx);
        for (uint16_t i = 0; i < t.nptrs && s.msg->err == CAPNP_OK; i++) {
            path[len] = i;
            walk_paths(a, t, i, path, len + 1);
        }
        return;
    }
    default:
        return;
    }
}

static void answer_results(crpc_conn *c, struct crpc_answer *a, capnp_msg *rm,
                           const uint32_t *rcaps, uint32_t nrc)
{
    a->state = A_RESULTS;
    a->nrcaps = (uint8_t)nrc;
    for (uint32_t i = 0; i < nrc; i++) {
        a->rcaps[i] = rcaps[i];
        if (rcaps[i] != CAPNP_NO_CAP && (rcaps[i] & CRPC_H_EXPORT)) {
            struct crpc_export *e = crpc_export_slot(c, rcaps[i] & ~CRPC_H_EXPORT);
            if (e)
                e->pins++;
            else
                a->rcaps[i] = CAPNP_NO_CAP;
        }
    }
    uint16_t path[CRPC_MAX_PATH];
    walk_paths(a, capnp_msg_root_holder(rm), 0, path, 0);
}

/* Send the Return of a successful call: results copied from the handler's
 * message rm into the frame.  False (nothing sent) if it does not fit. */
static bool send_results(crpc_conn *c, uint32_t aid, capnp_msg *rm,
                         const uint32_t *rcaps, uint32_t nrc)
{
    capnp_builder b;
    if (!crpc_out_begin(c, &b, false))
        return false;
    capnp_sbuilder r = crpc_msg_root(&b, MSG_RETURN, RET_DW, RET_PW);
    capnp_set_u32(r, RET_AID, aid);
    capnp_set_u16(r, RET_TAG, RET_RESULTS);
    capnp_sbuilder p = capnp_init_struct(r, 0, PAY_DW, PAY_PW);
    capnp_copy_ptr(p, 0, capnp_msg_root_holder(rm), 0);
    crpc_put_cap_table(c, p, rcaps, nrc);
    if (rm->err != CAPNP_OK || !crpc_out_commit(c, &b)) {
        crpc_unput_cap_table(c, rcaps, nrc);
        return false;
    }
    return true;
}

/* A handler's error code as an exception. */
static void map_error(crpc_conn *c, int e, struct exc *x)
{
    switch (e) {
    case CAPNP_ERR_UNKNOWN_INTERFACE:
        set_exc(x, CRPC_R_UNKNOWN_INTERFACE);
        return;
    case CAPNP_ERR_UNKNOWN_METHOD:
        set_exc(x, CRPC_R_UNKNOWN_METHOD);
        return;
    case CAPNP_ERR_UNIMPLEMENTED:
        set_exc(x, CRPC_R_UNIMPLEMENTED);
        return;
    case CAPNP_ERR_NO_SPACE:
        set_exc(x, CRPC_R_RESULTS_TOO_LARGE);
        return;
    }
    if (e < 256 || !c->describe) {
        set_exc(x, e < 256 ? CRPC_R_BAD_PARAMS : CRPC_R_FAILED);
        return;
    }
    const char *text = 0;
    int type = c->describe(c->ctx, e, &text);
    x->type = type;
    x->text = text ? text : crpc_reason_name(CRPC_R_FAILED);
}

/* ------------------------------------------------------------ messages */

void crpc_on_bootstrap(crpc_conn *c, capnp_struct bs)
{
    struct crpc_answer *a = answer_new(c, capnp_get_u32(bs, 0));
    if (!a)
        return;
    struct exc x = { 0, 0, 0 };
    if (c->revoked)
        set_exc(&x, CRPC_R_DISCONNECTED);
    else if (!c->bootstrap)
        set_exc(&x, CRPC_R_NO_BOOTSTRAP);
    if (x.text) {
        answer_exception(c, a, &x);
        return;
    }
    uint32_t h = crpc_export(c, c->bootstrap);
    if (h == CAPNP_NO_CAP) {
        crpc_fail(c, CRPC_R_TOO_MANY_EXPORTS);
        return;
    }
    capnp_builder b;
    if (!crpc_out_begin(c, &b, false)) {
        crpc_fail(c, CRPC_R_OUTPUT_FULL);
        return;
    }
    capnp_sbuilder r = crpc_msg_root(&b, MSG_RETURN, RET_DW, RET_PW);
    capnp_set_u32(r, RET_AID, a->qid);
    capnp_set_u16(r, RET_TAG, RET_RESULTS);
    capnp_sbuilder p = capnp_init_struct(r, 0, PAY_DW, PAY_PW);
    capnp_set_cap(p, 0, 0);
    crpc_put_cap_table(c, p, &h, 1);
    if (!crpc_out_commit(c, &b)) {
        crpc_unput_cap_table(c, &h, 1);
        crpc_fail(c, CRPC_R_OUTPUT_FULL);
        return;
    }
    a->state = A_RESULTS;
    a->nrcaps = 1;
    a->rcaps[0] = h;
    a->npaths = 1;
    a->paths[0].len = 0;
    a->paths[0].cap = 0;
    crpc_export_slot(c, h & ~CRPC_H_EXPORT)->pins++;
}

void crpc_on_call(crpc_conn *c, capnp_struct call)
{
    struct crpc_answer *a = answer_new(c, capnp_get_u32(call, CALL_QID));
    if (!a)
        return;
    c->calls++;
    uint64_t iface = capnp_get_u64(call, CALL_IFACE);
    uint16_t method = capnp_get_u16(call, CALL_METHOD);
    capnp_struct params = capnp_get_struct(call, 1);
    struct exc x = { 0, 0, 0 };
    uint32_t target = resolve_target(c, capnp_get_struct(call, 0), &x);
    uint32_t pcaps[CRPC_MAX_CAPS];
    uint32_t npc = c->state == CRPC_OPEN ? param_caps(c, params, pcaps, &x) : 0;
    if (c->state == CRPC_OPEN && c->in.err != CAPNP_OK)
        crpc_fail(c, CRPC_R_MALFORMED);
    if (c->state != CRPC_OPEN)
        return; /* the abort dropped the answer too */
    if (capnp_get_u16(call, CALL_SEND_TO) != SEND_TO_CALLER)
        set_exc(&x, CRPC_R_SEND_RESULTS_TO);
    const crpc_object *obj = x.text ? 0 : crpc_export_object(c, target);
    if (obj && obj->interface_id != iface)
        set_exc(&x, CRPC_R_UNKNOWN_INTERFACE);
    if (x.text) {
        answer_exception(c, a, &x);
        return;
    }
    /* params into a message of their own, for the generated dispatch */
    size_t half = c->mem.scratch_cap / 2;
    uint8_t *pbuf = c->mem.scratch, *rbuf = c->mem.scratch + half;
    capnp_builder pb;
    size_t plen = 0;
    capnp_builder_init(&pb, pbuf, half);
    capnp_copy_ptr_to_root(&pb, params, 0);
    if (c->in.err != CAPNP_OK) {
        crpc_fail(c, CRPC_R_MALFORMED);
        return;
    }
    if (capnp_builder_finish(&pb, &plen) != CAPNP_OK) {
        set_exc(&x, CRPC_R_BAD_PARAMS);
        answer_exception(c, a, &x);
        return;
    }
    uint32_t rcaps[CRPC_MAX_CAPS];
    capnp_server_call sc = { iface, method, pbuf, plen, pcaps, npc,
                             rbuf, half, 0, rcaps, CRPC_MAX_CAPS, 0 };
    int e = obj->dispatch(obj->srv, obj->self, &sc);
    if (c->state != CRPC_OPEN)
        return; /* the handler closed the connection */
    capnp_msg rm;
    if (e == CAPNP_OK && sc.result_len > half)
        e = CAPNP_ERR_NO_SPACE;
    if (e == CAPNP_OK && capnp_msg_init(&rm, rbuf, sc.result_len) != CAPNP_OK)
        e = CAPNP_ERR_NO_SPACE;
    if (e != CAPNP_OK) {
        map_error(c, e, &x);
        answer_exception(c, a, &x);
        return;
    }
    uint32_t nrc = sc.result_ncaps > CRPC_MAX_CAPS ? CRPC_MAX_CAPS : sc.result_ncaps;
    capnp_msg_set_caps(&rm, rcaps, nrc);
    capnp_msg_set_limits(&rm, c->lim.traversal_words, c->lim.nesting);
    if (!send_results(c, a->qid, &rm, rcaps, nrc)) {
        set_exc(&x, rm.err != CAPNP_OK ? CRPC_R_FAILED : CRPC_R_RESULTS_TOO_LARGE);
        answer_exception(c, a, &x);
        return;
    }
    capnp_msg_set_limits(&rm, c->lim.traversal_words, c->lim.nesting);
    answer_results(c, a, &rm, rcaps, nrc);
}

void crpc_on_finish(crpc_conn *c, capnp_struct f)
{
    struct crpc_answer *a = crpc_answer_find(c, capnp_get_u32(f, 0));
    if (!a) {
        crpc_fail(c, CRPC_R_UNKNOWN_ANSWER);
        return;
    }
    bool release = !capnp_get_bool(f, FIN_RELEASE_BIT); /* default true */
    crpc_answer_free(c, a, release && a->state == A_RESULTS);
}

void crpc_on_release(crpc_conn *c, capnp_struct r)
{
    uint32_t id = capnp_get_u32(r, 0), n = capnp_get_u32(r, 4);
    switch (crpc_eid_class(c, id)) {
    case EID_LIVE: {
        struct crpc_export *e = crpc_export_slot(c, id);
        if (n > e->remote_refs) {
            crpc_fail(c, CRPC_R_RELEASE_COUNT);
            return;
        }
        e->remote_refs -= n;
        return;
    }
    case EID_STALE:
        if (!c->revoked) /* everything it held was released already */
            crpc_fail(c, CRPC_R_RELEASE_COUNT);
        return;
    default:
        crpc_fail(c, CRPC_R_UNKNOWN_EXPORT);
        return;
    }
}
