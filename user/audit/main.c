/*
 * audit: the append-only audit log (AuditLog on its export "log").
 * Records are structured: an event and a reason code, each a short
 * lower-case identifier ([a-z0-9][a-z0-9.-]*, at most 47 bytes), so free
 * text (and with it a password typed in the wrong place) cannot be logged.
 * Each record keeps who wrote it (the kernel's caller reference) and when.
 * The newest 256 are kept; older ones are counted as dropped. Reading back
 * is for the operator profile only, which the endpoint discloses.
 */
#include "rt/capos.h"

#define KEEP 256
#define CODE 48

struct rec {
    uint64_t seq, time, session, caller;
    char event[CODE], reason[CODE], principal[24];
};

static struct rec log_[KEEP];
static uint64_t next_seq = 1;
static struct rt_incoming rx;

static bool code_ok(capnp_text t)
{
    if (t.len == 0 || t.len >= CODE)
        return false;
    for (uint32_t i = 0; i < t.len; i++) {
        char c = t.str[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '-')))
            return false;
    }
    return true;
}

/* A principal as the manifest names them: 1 to 23 bytes of A-Z a-z 0-9 _ - */
static bool principal_ok(capnp_text t)
{
    if (t.len >= 24)
        return false;
    for (uint32_t i = 0; i < t.len; i++) {
        char c = t.str[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int add(capnp_text ev, capnp_text rs, uint64_t session, capnp_text pr, uint64_t *seq)
{
    struct rt_incoming *in = &rx;
    if (!code_ok(ev) || !code_ok(rs) || !principal_ok(pr))
        return CAP_ERR_INVALID_ARGUMENT;
    struct rec *x = &log_[next_seq % KEEP];
    x->seq = next_seq++;
    x->time = rt_timer_now();
    x->session = session;
    x->caller = in->hdr->caller_ref[0];
    memcpy(x->event, ev.str, ev.len);
    x->event[ev.len] = 0;
    memcpy(x->reason, rs.str, rs.len);
    x->reason[rs.len] = 0;
    memcpy(x->principal, pr.str, pr.len);
    x->principal[pr.len] = 0;
    *seq = x->seq;
    return CAPNP_OK;
}

static int do_record(void *self, capos_AuditLog_record_Params_reader p, capos_AuditLog_record_Results_builder r)
{
    uint64_t seq;
    int e = add(capos_AuditLog_record_Params_get_event(p), capos_AuditLog_record_Params_get_reason(p),
                capos_AuditLog_record_Params_get_session(p), (capnp_text){ "", 0 }, &seq);
    if (!e)
        capos_AuditLog_record_Results_set_seq(r, seq);
    return e;
}

static int do_record_named(void *self, capos_AuditLog_recordNamed_Params_reader p,
                           capos_AuditLog_recordNamed_Results_builder r)
{
    uint64_t seq;
    int e = add(capos_AuditLog_recordNamed_Params_get_event(p), capos_AuditLog_recordNamed_Params_get_reason(p),
                capos_AuditLog_recordNamed_Params_get_session(p), capos_AuditLog_recordNamed_Params_get_principal(p),
                &seq);
    if (!e)
        capos_AuditLog_recordNamed_Results_set_seq(r, seq);
    return e;
}

static int do_tail(void *self, capos_AuditLog_tail_Params_reader p, capos_AuditLog_tail_Results_builder r)
{
    struct rt_incoming *in = self;
    if (!(in->hdr->flags & CAP_RECV_F_PROFILE) || strncmp(in->hdr->profile, "operator", 32))
        return CAP_ERR_INVALID_ARGUMENT;             /* not the operator: denied */
    uint64_t have = next_seq - 1 < KEEP ? next_seq - 1 : KEEP;
    uint64_t n = capos_AuditLog_tail_Params_get_count(p);
    if (n > have)
        n = have;
    if (n > 32)
        n = 32;                                       /* what one answer carries */
    capnp_lbuilder l = capos_AuditLog_tail_Results_init_records(r, (uint32_t)n);
    for (uint64_t i = 0; i < n; i++) {
        struct rec *x = &log_[(next_seq - n + i) % KEEP];
        capos_AuditRecord_builder b = capos_AuditRecord_list_at(l, (uint32_t)i);
        capos_AuditRecord_set_seq(b, x->seq);
        capos_AuditRecord_set_timeNs(b, x->time);
        capos_AuditRecord_set_event(b, x->event, strlen(x->event));
        capos_AuditRecord_set_reason(b, x->reason, strlen(x->reason));
        capos_AuditRecord_set_session(b, x->session);
        capos_AuditRecord_set_callerRef(b, x->caller);
        capos_AuditRecord_set_principal(b, x->principal, strlen(x->principal));
    }
    capos_AuditLog_tail_Results_set_dropped(r, next_seq - 1 > KEEP ? next_seq - 1 - KEEP : 0);
    return CAPNP_OK;
}

static const capos_AuditLog_server server = { .record = do_record, .tail = do_tail, .recordNamed = do_record_named };

int main(void)
{
    uint32_t owner = rt_capset_require("log");
    return rt_serve_forever(owner, capos_AuditLog_dispatch_any, &server, &rx);
}
