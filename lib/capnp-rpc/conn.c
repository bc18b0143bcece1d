/*
 * The connection: its four tables (questions we asked, answers we owe or
 * keep for pipelining, imports the peer hosts, exports we host), the
 * output queue, and the ways it ends (Abort, transport gone, revoke).
 *
 * Invariants:
 *  - an export is used while remote_refs + pins > 0, or while a handler
 *    that just exported it runs (crpc_export_sweep runs after each message);
 *  - an import is used while local_refs > 0; its remote_refs go back to the
 *    peer in one Release when the last local handle is dropped;
 *  - a closed connection has every table empty.
 */
#include "crpc_internal.h"

static const char *const reason_names[] = {
    [CRPC_R_NONE] = "none",
    [CRPC_R_BAD_FRAME] = "bad-frame",
    [CRPC_R_TOO_LARGE] = "too-large",
    [CRPC_R_MALFORMED] = "malformed",
    [CRPC_R_UNKNOWN_QUESTION] = "unknown-question",
    [CRPC_R_QUESTION_REUSED] = "question-reused",
    [CRPC_R_UNKNOWN_ANSWER] = "unknown-answer",
    [CRPC_R_UNKNOWN_EXPORT] = "unknown-export",
    [CRPC_R_RELEASE_COUNT] = "release-count",
    [CRPC_R_TOO_MANY_QUESTIONS] = "too-many-questions",
    [CRPC_R_TOO_MANY_IMPORTS] = "too-many-imports",
    [CRPC_R_TOO_MANY_EXPORTS] = "too-many-exports",
    [CRPC_R_BAD_CAP] = "bad-cap-descriptor",
    [CRPC_R_BAD_TARGET] = "bad-target",
    [CRPC_R_BAD_TRANSFORM] = "bad-transform",
    [CRPC_R_PEER_ABORT] = "peer-abort",
    [CRPC_R_OUTPUT_FULL] = "output-full",
    [CRPC_R_BAD_RETURN] = "bad-return",
    [CRPC_R_UNKNOWN_INTERFACE] = "unknown-interface",
    [CRPC_R_UNKNOWN_METHOD] = "unknown-method",
    [CRPC_R_UNIMPLEMENTED] = "unimplemented",
    [CRPC_R_STALE_CAP] = "stale-cap",
    [CRPC_R_DISCONNECTED] = "disconnected",
    [CRPC_R_RESULTS_TOO_LARGE] = "results-too-large",
    [CRPC_R_BAD_PARAMS] = "bad-params",
    [CRPC_R_NOT_A_CAP] = "not-a-cap",
    [CRPC_R_NO_BOOTSTRAP] = "no-bootstrap",
    [CRPC_R_SEND_RESULTS_TO] = "results-elsewhere",
    [CRPC_R_CANCELED] = "canceled",
    [CRPC_R_FAILED] = "failed",
};

const char *crpc_reason_name(int reason)
{
    if (reason < 0 || (unsigned)reason >= sizeof reason_names / sizeof reason_names[0] ||
        !reason_names[reason])
        return "unknown";
    return reason_names[reason];
}

void crpc_default_limits(crpc_limits *l)
{
    l->max_segments = 8;
    l->max_message_bytes = 64 * 1024;
    l->traversal_words = 16 * 1024;
    l->nesting = 32;
}

void crpc_init(crpc_conn *c, const crpc_mem *mem, const crpc_limits *lim)
{
    uint8_t *p = (uint8_t *)c;
    for (size_t i = 0; i < sizeof *c; i++)
        p[i] = 0;
    c->mem = *mem;
    if (c->mem.nexports > EXPORT_SLOT_MASK + 1)
        c->mem.nexports = EXPORT_SLOT_MASK + 1;
    if (lim)
        c->lim = *lim;
    else
        crpc_default_limits(&c->lim);
    if (c->lim.max_segments == 0 || c->lim.max_segments > CAPNP_MAX_SEGMENTS)
        c->lim.max_segments = CAPNP_MAX_SEGMENTS;
    for (uint32_t i = 0; i < c->mem.nquestions; i++)
        c->mem.questions[i].state = Q_FREE;
    for (uint32_t i = 0; i < c->mem.nanswers; i++)
        c->mem.answers[i].state = A_FREE;
    for (uint32_t i = 0; i < c->mem.nimports; i++)
        c->mem.imports[i].used = 0;
    for (uint32_t i = 0; i < c->mem.nexports; i++) {
        c->mem.exports[i].used = 0;
        c->mem.exports[i].gen = 0;
    }
    c->state = CRPC_OPEN;
}

void crpc_set_bootstrap(crpc_conn *c, const crpc_object *obj)
{
    c->bootstrap = obj;
}

const uint8_t *crpc_output(const crpc_conn *c, size_t *len)
{
    *len = c->out_len;
    return c->mem.out;
}

void crpc_output_done(crpc_conn *c, size_t n)
{
    if (n > c->out_len)
        n = c->out_len;
    for (size_t i = n; i < c->out_len; i++)
        c->mem.out[i - n] = c->mem.out[i];
    c->out_len -= n;
}

/* ------------------------------------------------------------------ exports */

int crpc_eid_class(const crpc_conn *c, uint32_t eid)
{
    uint32_t slot = eid & EXPORT_SLOT_MASK, gen = eid >> EXPORT_SLOT_BITS;
    if (eid & CRPC_H_EXPORT || slot >= c->mem.nexports || gen == 0)
        return EID_FORGED;
    const struct crpc_export *e = &c->mem.exports[slot];
    if (gen > e->gen)
        return EID_FORGED;
    if (gen == e->gen && e->used)
        return EID_LIVE;
    return EID_STALE;
}

struct crpc_export *crpc_export_slot(crpc_conn *c, uint32_t eid)
{
    return crpc_eid_class(c, eid) == EID_LIVE
               ? &c->mem.exports[eid & EXPORT_SLOT_MASK] : 0;
}

static void export_drop(crpc_conn *c, struct crpc_export *e)
{
    const crpc_object *obj = e->obj;
    e->used = 0;
    e->obj = 0;
    e->remote_refs = 0;
    e->pins = 0;
    if (c->dropped)
        c->dropped(c->ctx, obj);
}

uint32_t crpc_export(crpc_conn *c, const crpc_object *obj)
{
    if (c->state != CRPC_OPEN || c->revoked || !obj)
        return CAPNP_NO_CAP;
    /* one export per object: the peer sees one id however often it is sent */
    for (uint32_t i = 0; i < c->mem.nexports; i++) {
        struct crpc_export *e = &c->mem.exports[i];
        if (e->used && e->obj == obj)
            return CRPC_H_EXPORT | i | (e->gen << EXPORT_SLOT_BITS);
    }
    for (uint32_t i = 0; i < c->mem.nexports; i++) {
        struct crpc_export *e = &c->mem.exports[i];
        if (e->used || e->gen >= EXPORT_MAX_GEN)
            continue;
        e->used = 1;
        e->gen++;
        e->obj = obj;
        e->remote_refs = 0;
        e->pins = 0;
        return CRPC_H_EXPORT | i | (e->gen << EXPORT_SLOT_BITS);
    }
    return CAPNP_NO_CAP;
}

const crpc_object *crpc_export_object(const crpc_conn *c, uint32_t handle)
{
    if (!(handle & CRPC_H_EXPORT) || handle == CAPNP_NO_CAP)
        return 0;
    uint32_t eid = handle & ~CRPC_H_EXPORT;
    if (crpc_eid_class(c, eid) != EID_LIVE)
        return 0;
    return c->mem.exports[eid & EXPORT_SLOT_MASK].obj;
}

void crpc_export_sweep(crpc_conn *c)
{
    for (uint32_t i = 0; i < c->mem.nexports; i++) {
        struct crpc_export *e = &c->mem.exports[i];
        if (e->used && e->remote_refs == 0 && e->pins == 0)
            export_drop(c, e);
    }
}

/* ------------------------------------------------------------------ imports */

int crpc_import_add(crpc_conn *c, uint32_t id, uint32_t *handle)
{
    struct crpc_import *free_slot = 0;
    for (uint32_t i = 0; i < c->mem.nimports; i++) {
        struct crpc_import *im = &c->mem.imports[i];
        if (im->used && im->id == id) {
            im->remote_refs++;
            im->local_refs++;
            *handle = i;
            return CRPC_OK;
        }
        if (!im->used && !free_slot)
            free_slot = im;
    }
    if (!free_slot)
        return CRPC_ERR_TABLE_FULL;
    free_slot->used = 1;
    free_slot->id = id;
    free_slot->remote_refs = 1;
    free_slot->local_refs = 1;
    *handle = (uint32_t)(free_slot - c->mem.imports);
    return CRPC_OK;
}

static struct crpc_import *import_of(crpc_conn *c, uint32_t handle)
{
    if (c->state != CRPC_OPEN || handle >= c->mem.nimports ||
        !c->mem.imports[handle].used)
        return 0;
    return &c->mem.imports[handle];
}

int crpc_release(crpc_conn *c, uint32_t handle)
{
    struct crpc_import *im = import_of(c, handle);
    if (!im)
        return c->state == CRPC_OPEN ? CRPC_ERR_HANDLE : CRPC_ERR_CLOSED;
    if (--im->local_refs > 0)
        return CRPC_OK;
    im->used = 0;
    return crpc_send_release(c, im->id, im->remote_refs) ? CRPC_OK
                                                          : CRPC_ERR_CLOSED;
}

int crpc_retain(crpc_conn *c, uint32_t handle)
{
    struct crpc_import *im = import_of(c, handle);
    if (!im)
        return c->state == CRPC_OPEN ? CRPC_ERR_HANDLE : CRPC_ERR_CLOSED;
    if (im->local_refs == 0xffffffffu)
        return CRPC_ERR_INVALID;
    im->local_refs++;
    return CRPC_OK;
}

/* ------------------------------------------------------------------ answers */

struct crpc_answer *crpc_answer_find(crpc_conn *c, uint32_t qid)
{
    for (uint32_t i = 0; i < c->mem.nanswers; i++) {
        struct crpc_answer *a = &c->mem.answers[i];
        if (a->state != A_FREE && a->qid == qid)
            return a;
    }
    return 0;
}

/* Unpin the answer's exports; release_caps also takes back the reference
 * its Return gave the peer for each (Finish with releaseResultCaps). */
void crpc_answer_free(crpc_conn *c, struct crpc_answer *a, bool release_caps)
{
    for (uint32_t i = 0; i < a->nrcaps; i++) {
        uint32_t h = a->rcaps[i];
        if (h == CAPNP_NO_CAP || !(h & CRPC_H_EXPORT))
            continue;
        struct crpc_export *e = crpc_export_slot(c, h & ~CRPC_H_EXPORT);
        if (!e)
            continue; /* revoked meanwhile */
        if (e->pins)
            e->pins--;
        if (release_caps && e->remote_refs)
            e->remote_refs--;
    }
    a->state = A_FREE;
    a->nrcaps = 0;
    a->npaths = 0;
}

/* --------------------------------------------------------------- endings */

static void drop_all(crpc_conn *c)
{
    for (uint32_t i = 0; i < c->mem.nquestions; i++)
        c->mem.questions[i].state = Q_FREE;
    for (uint32_t i = 0; i < c->mem.nanswers; i++) {
        c->mem.answers[i].state = A_FREE;
        c->mem.answers[i].nrcaps = 0;
        c->mem.answers[i].npaths = 0;
    }
    for (uint32_t i = 0; i < c->mem.nimports; i++)
        c->mem.imports[i].used = 0;
    for (uint32_t i = 0; i < c->mem.nexports; i++)
        if (c->mem.exports[i].used)
            export_drop(c, &c->mem.exports[i]);
}

void crpc_close(crpc_conn *c)
{
    if (c->state == CRPC_CLOSED)
        return;
    c->state = CRPC_CLOSED;
    drop_all(c);
}

void crpc_abort(crpc_conn *c, int reason, int type)
{
    if (c->state == CRPC_CLOSED)
        return;
    c->reason = reason;
    crpc_send_abort(c, type, crpc_reason_name(reason));
    c->aborts_sent++;
    crpc_close(c);
}

void crpc_fail(crpc_conn *c, int reason)
{
    crpc_abort(c, reason, crpc_reason_type(reason));
}

void crpc_revoke(crpc_conn *c)
{
    if (c->state != CRPC_OPEN)
        return;
    c->revoked = true;
    for (uint32_t i = 0; i < c->mem.nanswers; i++) {
        struct crpc_answer *a = &c->mem.answers[i];
        if (a->state == A_RESULTS) /* keep the entry for its Finish */
            a->nrcaps = 0, a->npaths = 0;
    }
    for (uint32_t i = 0; i < c->mem.nexports; i++)
        if (c->mem.exports[i].used)
            export_drop(c, &c->mem.exports[i]);
}

uint32_t crpc_live(const crpc_conn *c)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->mem.nquestions; i++)
        n += c->mem.questions[i].state != Q_FREE;
    for (uint32_t i = 0; i < c->mem.nanswers; i++)
        n += c->mem.answers[i].state != A_FREE;
    for (uint32_t i = 0; i < c->mem.nimports; i++)
        n += c->mem.imports[i].used;
    for (uint32_t i = 0; i < c->mem.nexports; i++)
        n += c->mem.exports[i].used;
    return n;
}
