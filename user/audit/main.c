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
    char event[CODE], reason[CODE];
};

static struct rec log_[KEEP];
static uint64_t next_seq = 1;

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

static int do_record(void *self, capos_AuditLog_record_Params_reader p, capos_AuditLog_record_Results_builder r)
{
    struct rt_incoming *in = self;
    capnp_text ev = capos_AuditLog_record_Params_get_event(p), rs = capos_AuditLog_record_Params_get_reason(p);
    if (!code_ok(ev) || !code_ok(rs))
        return CAP_ERR_INVALID_ARGUMENT;
    struct rec *x = &log_[next_seq % KEEP];
    x->seq = next_seq++;
    x->time = rt_timer_now();
    x->session = capos_AuditLog_record_Params_get_session(p);
    x->caller = in->hdr->caller_ref[0];
    memcpy(x->event, ev.str, ev.len);
    x->event[ev.len] = 0;
    memcpy(x->reason, rs.str, rs.len);
    x->reason[rs.len] = 0;
    capos_AuditLog_record_Results_set_seq(r, x->seq);
    return CAPNP_OK;
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
    }
    capos_AuditLog_tail_Results_set_dropped(r, next_seq - 1 > KEEP ? next_seq - 1 - KEEP : 0);
    return CAPNP_OK;
}

static const capos_AuditLog_server server = { .record = do_record, .tail = do_tail };

int main(void)
{
    uint32_t owner = rt_capset_require("log");
    struct rt_incoming in;
    return rt_serve_forever(owner, capos_AuditLog_dispatch_any, &server, &in);
}
