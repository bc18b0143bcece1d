/*
 * login: the door on the serial terminal. It asks who you are, lets the
 * SessionManager decide, and has the RestrictedShellLauncher start your
 * shell in your new session; when the shell ends it asks again. 'guest'
 * gives a guest session; 'setup' sets the password of the operator account
 * 'admin' while no credential exists. A password is read without echo and wiped after use.
 */
#include "rt/capos.h"
#include "door.h"

static uint32_t term, manager, creds, launcher;

static void wipe(char *p, size_t n)
{
    volatile char *v = p;
    while (n--)
        *v++ = 0;
}

/* End the session at the manager (its context, its slot); "reason" is an
 * audit code. */
static void logout(uint32_t session, const char *reason)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(session);
    capnp_call call;
    capos_UserSession_logout_Results_reader r;
    capos_UserSession_logout(&cl, &b, &call, reason, strlen(reason), &r);
}

/* Start the session's shell, have the manager watch it (the session ends
 * with it even if we do not live to say so), wait for it, log out. */
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
        logout(session, "shell-failed");
        return;
    }
    uint32_t h = b.result_caps[0];
    {
        RT_BUFS(wb, 128, 64);
        capnp_client sc = RT_CLIENT(session);
        capnp_call wc;
        capos_UserSession_watch_Params_builder wp = capos_UserSession_watch_start(&wc, &sc, &wb);
        capos_UserSession_watch_Params_set_shell(wp, capnp_add_cap(wp.s, h));
        capos_UserSession_watch_Results_reader wr;
        capos_UserSession_watch_send(&wc, &wr);
    }
    rt_wait(h);
    rt_release(h);
    logout(session, "logout");
    rt_term_printf(term, "logged out\n");
}

/* The shell for a login's result caps (session, context), then both go. */
static void enter(uint32_t session, uint32_t ctx)
{
    run_shell(session, ctx);
    rt_release(session);
    rt_release(ctx);
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
    rt_term_printf(term, "setting the password of the operator account 'admin' (Ctrl-C cancels)\npassword: ");
    int e1 = rt_term_read(term, false, pw, sizeof pw, &ev);
    int e2 = -1;
    if (!e1 && ev == capos_TerminalEvent_line) {
        rt_term_printf(term, "again: ");
        e2 = rt_term_read(term, false, again, sizeof again, &ev);
    }
    if (e1 || e2 || ev != capos_TerminalEvent_line) {
        rt_term_printf(term, "setup: cancelled\n");
    } else if (!pw[0] || strcmp(pw, again)) {
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
        if (rt_term_read(term, true, who, sizeof who, &ev) || ev != capos_TerminalEvent_line)
            continue;
        enum login_door door = login_door(who, sizeof who);
        if (door == DOOR_AGAIN)
            continue;
        if (door == DOOR_SETUP) {
            setup();
            continue;
        }
        RT_BUFS(b, 512, 256);
        capnp_client cl = RT_CLIENT(manager);
        capnp_call call;
        if (door == DOOR_GUEST) {
            capos_SessionManager_guest_Results_reader gr;
            int e = rt_error(capos_SessionManager_guest(&cl, &b, &call, &gr));
            int res = e ? -1 : capos_SessionManager_guest_Results_get_result(gr);
            if (res == capos_LoginResult_ok && call.result_ncaps == 2)
                enter(b.result_caps[capos_SessionManager_guest_Results_get_session(gr)],
                      b.result_caps[capos_SessionManager_guest_Results_get_context(gr)]);
            else if (res == capos_LoginResult_tooManySessions)
                rt_term_printf(term, "too many sessions: try again later\n");
            else
                rt_term_printf(term, "no guest session (%d)\n", e);
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
            enter(b.result_caps[capos_SessionManager_login_Results_get_session(lr)],
                  b.result_caps[capos_SessionManager_login_Results_get_context(lr)]);
        } else if (res == capos_LoginResult_backoff) {
            uint64_t ms = capos_SessionManager_login_Results_get_retryAfterMs(lr);
            rt_term_printf(term, "too many failures: try again in %lu s\n", (ms + 999) / 1000);
        } else if (res == capos_LoginResult_tooManySessions) {
            rt_term_printf(term, "too many sessions: try again later\n");
        } else if (e) {
            rt_term_printf(term, "login failed: the session manager did not answer (%d)\n", e);
        } else {
            rt_term_printf(term, "login incorrect\n");
        }
    }
}
