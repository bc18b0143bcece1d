/*
 * login: the door on the serial terminal. It asks who you are, lets the
 * SessionManager decide, and has the RestrictedShellLauncher start your
 * shell in your new session; when the shell ends it asks again. 'guest'
 * gives a guest session; 'setup' sets the password of the operator account
 * 'admin' while no credential exists. A password is read without echo and wiped after use.
 */
#include "rt/capos.h"

static uint32_t term, manager, creds, launcher;

static void wipe(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

static void run_shell(uint32_t session, uint32_t ctx)
{
    RT_BUFS(b, 256, 256);
    capnp_client cl = RT_CLIENT(launcher);
    capnp_call call;
    capos_RestrictedShellLauncher_launchShell_Params_builder p = capos_RestrictedShellLauncher_launchShell_start(&call, &cl, &b);
    capos_RestrictedShellLauncher_launchShell_Params_set_context(p, capnp_add_cap(p.s, ctx));
    capos_RestrictedShellLauncher_launchShell_Params_set_terminal(p, capnp_add_cap(p.s, term));
    capos_RestrictedShellLauncher_launchShell_Params_set_session(p, capnp_add_cap(p.s, session));
    capos_RestrictedShellLauncher_launchShell_Results_reader r;
    int e = rt_error(capos_RestrictedShellLauncher_launchShell_send(&call, &r));
    if (e || call.result_ncaps != 1) {
        rt_term_printf(term, "cannot start a shell (%d)\n", e);
        return;
    }
    uint32_t h = b.result_caps[0];
    rt_wait(h);
    rt_release(h);
    rt_term_printf(term, "logged out\n");
}

static void setup(void)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(creds);
    capnp_call call;
    capos_CredentialStore_isEmpty_Results_reader er;
    if (capos_CredentialStore_isEmpty(&cl, &b, &call, &er) || !capos_CredentialStore_isEmpty_Results_get_empty(er)) {
        rt_term_printf(term, "setup: an operator credential exists already\n");
        return;
    }
    const char *who = "admin";                     /* the operator account the system is seeded with */
    char pw[128], again[128];
    int ev;
    rt_term_printf(term, "setting the password of the operator account 'admin'\npassword: ");
    int e1 = rt_term_read(term, false, pw, sizeof pw, &ev);
    rt_term_printf(term, "again: ");
    int e2 = rt_term_read(term, false, again, sizeof again, &ev);
    if (e1 || e2 || !pw[0] || strcmp(pw, again)) {
        rt_term_printf(term, "setup: the passwords differ (or are empty)\n");
    } else {
        RT_BUFS(b2, 512, 64);
        capnp_client cl2 = RT_CLIENT(creds);
        capos_CredentialStore_setup_Results_reader sr;
        int e = capos_CredentialStore_setup(&cl2, &b2, &call, who, strlen(who), pw, strlen(pw), &sr);
        rt_term_printf(term, "setup: %s\n", !e && capos_CredentialStore_setup_Results_get_created(sr) ? "done" : "refused");
        wipe((char *)b2_p, sizeof b2_p);
    }
    wipe(pw, sizeof pw);
    wipe(again, sizeof again);
}

int main(void)
{
    term = rt_capset_require("terminal");
    manager = rt_capset_require("manager");
    creds = rt_capset_require("credentials");
    launcher = rt_capset_require("launcher");
    for (;;) {
        char who[32], pw[128];
        int ev;
        rt_term_printf(term, "\ncapOS login ('guest' for a guest session, 'setup' for the first operator)\nlogin: ");
        if (rt_term_read(term, true, who, sizeof who, &ev) || ev != capos_TerminalEvent_line || !who[0])
            continue;
        if (!strcmp(who, "setup")) {
            setup();
            continue;
        }
        RT_BUFS(b, 512, 256);
        capnp_client cl = RT_CLIENT(manager);
        capnp_call call;
        if (!strcmp(who, "guest")) {
            capos_SessionManager_guest_Results_reader gr;
            if (!capos_SessionManager_guest(&cl, &b, &call, &gr) && call.result_ncaps == 2) {
                uint32_t s = b.result_caps[capos_SessionManager_guest_Results_get_session(gr)];
                uint32_t c = b.result_caps[capos_SessionManager_guest_Results_get_context(gr)];
                run_shell(s, c);
                rt_release(s);
                rt_release(c);
            }
            continue;
        }
        rt_term_printf(term, "password: ");
        if (rt_term_read(term, false, pw, sizeof pw, &ev) || ev != capos_TerminalEvent_line) {
            wipe(pw, sizeof pw);
            continue;
        }
        capos_SessionManager_login_Results_reader lr;
        int e = rt_error(capos_SessionManager_login(&cl, &b, &call, who, strlen(who), pw, strlen(pw), "operator", 8, &lr));
        wipe(pw, sizeof pw);
        wipe((char *)b_p, sizeof b_p);                    /* the request held the password too */
        int res = e ? -1 : capos_SessionManager_login_Results_get_result(lr);
        if (res == capos_LoginResult_ok && call.result_ncaps == 2) {
            uint32_t s = b.result_caps[capos_SessionManager_login_Results_get_session(lr)];
            uint32_t c = b.result_caps[capos_SessionManager_login_Results_get_context(lr)];
            run_shell(s, c);
            rt_release(s);
            rt_release(c);
        } else if (res == capos_LoginResult_backoff) {
            rt_term_printf(term, "too many failures: wait a moment\n");
        } else {
            rt_term_printf(term, "login incorrect\n");
        }
    }
}
