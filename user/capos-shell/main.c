/*
 * capos-shell: the shell a person gets after logging in. It holds its
 * terminal, its UserSession and what the AuthorityBroker gave its session's
 * profile, and nothing else: no spawner, no network, no keys.
 */
#include "../rt/capos.h"

static uint32_t term;

static const char *iface_name(uint64_t id)
{
    for (uint32_t i = 0; i < capos_INTERFACE_COUNT; i++)
        if (capos_interfaces[i].id == id)
            return capos_interfaces[i].name;
    return "?";
}

static void cmd_caps(void)
{
    for (uint32_t i = 0; i < rt_capset->count; i++)
        term_printf(term, "  %-10s %s\n", rt_capset->entries[i].name, iface_name(rt_capset->entries[i].interface_id));
}

static void cmd_session(uint32_t session)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(session);
    capnp_call call;
    capos_UserSession_info_Results_reader r;
    int e = rt_error(capos_UserSession_info(&cl, &b, &call, &r));
    if (e) {
        term_printf(term, "session: error %d\n", e);
        return;
    }
    capnp_text p = capos_UserSession_info_Results_get_principal(r), f = capos_UserSession_info_Results_get_profile(r);
    capnp_text m = capos_UserSession_info_Results_get_authMethod(r);
    uint64_t exp = capos_UserSession_info_Results_get_expiresNs(r);
    term_printf(term, "principal %.*s, profile %.*s, auth %.*s, expires %s\n", (int)p.len, p.str, (int)f.len, f.str,
                (int)m.len, m.str, exp ? "later" : "never");
}

static void cmd_audit(void)
{
    int64_t a = capset_lookup("audit");
    if (a < 0) {
        term_printf(term, "audit: not available to this session\n");
        return;
    }
    RT_BUFS(b, 64, 4096);
    uint32_t ac = (uint32_t)a;
    capnp_client cl = RT_CLIENT(ac);
    capnp_call call;
    capos_AuditLog_tail_Results_reader r;
    int e = rt_error(capos_AuditLog_tail(&cl, &b, &call, 10, &r));
    if (e) {
        term_printf(term, "audit: denied (%d)\n", e);
        return;
    }
    capnp_list l = capos_AuditLog_tail_Results_get_records(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_AuditRecord_reader x = capos_AuditRecord_list_get(l, i);
        capnp_text ev = capos_AuditRecord_get_event(x), rs = capos_AuditRecord_get_reason(x);
        term_printf(term, "  #%lu %.*s %.*s session %lu\n", capos_AuditRecord_get_seq(x), (int)ev.len, ev.str,
                    (int)rs.len, rs.str, capos_AuditRecord_get_session(x));
    }
}

static void cmd_echo(const char *text)
{
    int64_t ec = capset_lookup("echo");
    if (ec < 0) {
        term_printf(term, "echo: not available to this session\n");
        return;
    }
    RT_BUFS(b, 512, 512);
    uint32_t c = (uint32_t)ec;
    capnp_client cl = RT_CLIENT(c);
    capnp_call call;
    capos_Echo_echo_Results_reader r;
    int e = rt_error(capos_Echo_echo(&cl, &b, &call, text, strlen(text), &r));
    capnp_data d = e ? (capnp_data){ 0, 0 } : capos_Echo_echo_Results_get_data(r);
    term_printf(term, "%.*s\n", (int)d.len, (const char *)d.ptr);
}

int main(void)
{
    term = capset_require("terminal");
    uint32_t session = capset_require("session");
    char me[32] = "?";
    {
        RT_BUFS(b, 64, 512);
        capnp_client cl = RT_CLIENT(session);
        capnp_call call;
        capos_UserSession_info_Results_reader r;
        if (!capos_UserSession_info(&cl, &b, &call, &r)) {
            capnp_text p = capos_UserSession_info_Results_get_principal(r);
            fmt_snprintf(me, sizeof me, "%.*s", (int)p.len, p.str);
        }
    }
    term_printf(term, "Welcome, %s. Type 'help' for commands.\n", me);
    for (;;) {
        char line[256];
        int ev;
        term_printf(term, "%s@capos> ", me);
        if (term_read(term, true, line, sizeof line, &ev) < 0 || ev == capos_TerminalEvent_endOfInput)
            return 0;
        if (ev == capos_TerminalEvent_interrupt || !line[0])
            continue;
        if (!strcmp(line, "help"))
            term_printf(term, "help caps session audit echo TEXT time exit\n");
        else if (!strcmp(line, "caps"))
            cmd_caps();
        else if (!strcmp(line, "session"))
            cmd_session(session);
        else if (!strcmp(line, "audit") || !strcmp(line, "audit tail"))
            cmd_audit();
        else if (!strncmp(line, "echo ", 5))
            cmd_echo(line + 5);
        else if (!strcmp(line, "time"))
            term_printf(term, "%lu ns since boot\n", timer_now());
        else if (!strcmp(line, "exit") || !strcmp(line, "logout"))
            return 0;
        else
            term_printf(term, "unknown command: %s (try 'help')\n", line);
    }
}
