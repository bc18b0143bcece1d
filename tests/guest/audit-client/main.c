/*
 * audit-client: writes and reads the audit log for the tests (its argument
 * is the role), printing AUDIT lines the harness judges.
 */
#include "rt/capos.h"

static uint32_t audit;

static int record(const char *event, const char *reason, uint64_t session)
{
    RT_BUFS(b, 256, 64);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_record_Results_reader r;
    return rt_error(capos_AuditLog_record(&cl, &b, &call, event, strlen(event), reason, strlen(reason), session, &r));
}

int main(void)
{
    audit = rt_capset_require("audit");
    const char *role = rt_capset->args;
    if (!strcmp(role, "write")) {
        printf("AUDIT write login result=%d\n", record("login", "ok", 7));
        printf("AUDIT write denial result=%d\n", record("login", "password-wrong", 0));
        printf("AUDIT write free-text result=%d\n", record("login", "user typed hunter2 as name", 0));
        printf("AUDIT write uppercase result=%d\n", record("Login", "ok", 0));
        for (int i = 0; i < 300; i++)
            record("noise", "flood", (uint64_t)i);
        printf("AUDIT write flood done\n");
        return 0;
    }
    RT_BUFS(b, 64, 4096);
    capnp_client cl = RT_CLIENT(audit);
    capnp_call call;
    capos_AuditLog_tail_Results_reader r;
    int e = rt_error(capos_AuditLog_tail(&cl, &b, &call, !strcmp(role, "all") ? 32 : 5, &r));
    printf("AUDIT tail %s result=%d\n", role, e);
    if (e)
        return 0;
    capnp_list l = capos_AuditLog_tail_Results_get_records(r);
    printf("AUDIT tail count=%u dropped=%lu\n", l.count, capos_AuditLog_tail_Results_get_dropped(r));
    for (uint32_t i = 0; i < l.count; i++) {
        capos_AuditRecord_reader x = capos_AuditRecord_list_get(l, i);
        capnp_text ev = capos_AuditRecord_get_event(x), rs = capos_AuditRecord_get_reason(x);
        printf("AUDIT rec seq=%lu event=%.*s reason=%.*s session=%lu\n", capos_AuditRecord_get_seq(x), (int)ev.len,
               ev.str, (int)rs.len, rs.str, capos_AuditRecord_get_session(x));
    }
    return 0;
}
