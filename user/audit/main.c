/*
 * audit: the append-only audit log (AuditLog on its export "log").
 * Records are structured: an event and a reason code, each a short
 * lower-case identifier ([a-z0-9][a-z0-9.-]*, at most 47 bytes), so free
 * text (and with it a password typed in the wrong place) cannot be logged.
 * Each record keeps who wrote it (the kernel's caller reference) and when.
 * The newest 256 are kept; older ones are counted as dropped. Reading back
 * is for the operator profile only, which the endpoint discloses.
 *
 * With a "store" cap (a Store namespace of user/store) the trail survives a
 * reboot: each record is committed (key "rec:N", N its slot, with the next
 * sequence number in the same commit) before the call is answered, and
 * the newest KEEP are loaded at start. Times and caller references are
 * those of the boot that wrote them. A record the store refuses is kept in
 * RAM and counted (the log says so once).
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

#define REC_VERSION 1
static uint32_t store = ~0u;
static uint64_t unkept;

static void slot_key(uint64_t seq, char *key) { fmt_snprintf(key, 12, "rec:%03u", (unsigned)(seq % KEEP)); }

/* Commit record x and the next sequence number together. */
static bool keep(const struct rec *x)
{
    if (store == ~0u)
        return true;
    char key[12];
    slot_key(x->seq, key);
    uint8_t val[1 + sizeof *x];
    val[0] = REC_VERSION;
    memcpy(val + 1, x, sizeof *x);
    RT_BUFS(b, 1024, 128);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_commit_Params_builder p = capos_Store_commit_start(&call, &cl, &b);
    capnp_lbuilder l = capos_Store_commit_Params_init_ops(p, 2);
    capos_StoreOp_builder o = capos_StoreOp_list_at(l, 0);
    capos_StoreOp_set_key(o, key, strlen(key));
    capos_StoreOp_set_value(o, val, sizeof val);
    o = capos_StoreOp_list_at(l, 1);
    capos_StoreOp_set_key(o, "next", 4);
    capos_StoreOp_set_value(o, &next_seq, sizeof next_seq);
    capos_Store_commit_Results_reader r;
    int e = capos_Store_commit_send(&call, &r);
    return e == 0 && capos_Store_commit_Results_get_error(r) == capos_StoreError_none;
}

static int sget(const char *key, void *out, uint32_t cap)
{
    RT_BUFS(b, 128, 1024);
    capnp_client cl = RT_CLIENT(store);
    capnp_call call;
    capos_Store_get_Results_reader r;
    if (capos_Store_get(&cl, &b, &call, key, strlen(key), &r) || capos_Store_get_Results_get_error(r))
        return -1;
    capnp_data d = capos_Store_get_Results_get_value(r);
    if (d.len != cap)
        return -1;
    memcpy(out, d.ptr, d.len);
    return 0;
}

/* Load the newest KEEP records the store holds. */
static void load(void)
{
    uint64_t next = 0;
    if (sget("next", &next, sizeof next) || next < 1)
        return;
    next_seq = next;
    uint32_t n = 0;
    for (uint64_t seq = next > KEEP ? next - KEEP : 1; seq < next; seq++) {
        char key[12];
        slot_key(seq, key);
        uint8_t val[1 + sizeof(struct rec)];
        struct rec x;
        if (sget(key, val, sizeof val) || val[0] != REC_VERSION)
            continue;
        memcpy(&x, val + 1, sizeof x);
        if (x.seq != seq)
            continue;
        x.event[CODE - 1] = x.reason[CODE - 1] = x.principal[sizeof x.principal - 1] = 0;
        log_[seq % KEEP] = x;
        n++;
    }
    printf("audit: %u records loaded from the store, the next is %lu\n", n, next_seq);
}

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
    if (!keep(x) && unkept++ == 0)
        printf("audit: the store refused a record: records are kept in memory only\n");
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
    int64_t sc = rt_capset_find("store", capos_Store_ID);
    if (sc >= 0) {
        store = (uint32_t)sc;
        load();
    }
    return rt_serve_forever(owner, capos_AuditLog_dispatch_any, &server, &rx);
}
