/*
 * capos-remote: a command-line client of capOS's remote session CapSet
 * (user/remote-capset-gateway), over standard Cap'n Proto RPC with
 * lib/capnp-rpc.
 *
 *   capos-remote [--host H] [--port N] [--key FILE] login USER [COMMAND...]
 *
 * Logs USER in (password from the terminal without echo, or from
 * $CAPOS_REMOTE_PASSWORD for scripts; with --key FILE, an unencrypted
 * OpenSSH ed25519 private key signs the gateway's challenge), then runs
 * each COMMAND (one argument each), or the lines of standard input when
 * there are none:
 *   list                 the CapSet: name, interface id, description
 *   call system-info     uptime, versions, memory and process counts
 *   call echo TEXT       the echo cap answers TEXT
 *   call session         the session's principal, profile, auth method
 *   logout               end the session
 * The calls of `call` are pipelined: get(name) and the call on the cap it
 * will answer go out together.
 *
 * Output: one line per result; a refused call prints
 * "denied TYPE REASON" (the gateway's stable reason code).
 * Exit codes: 0 every command worked; 1 usage; 2 cannot connect; 3 login
 * denied; 4 a command was refused; 5 the connection failed (Abort, EOF,
 * protocol error).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "capos.capnp.h"
#include "crpc.h"
#include "sshkey.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_CONNECT = 2, EXIT_DENIED = 3, EXIT_REFUSED = 4, EXIT_FAILED = 5 };

#define KEY_DOMAIN "capos-remote-key-v1"
#define RX_CAP (80 * 1024)

struct remote {
    int fd;
    crpc_conn rpc;
    struct crpc_question q[16];
    struct crpc_answer a[2];
    struct crpc_import im[16];
    struct crpc_export ex[2];
    uint8_t out[32768];
    uint8_t scratch[512];
    uint8_t rx[RX_CAP];
    size_t rx_len, rx_off;
    /* the event being read and a copy of its message view */
    crpc_event ev;
    uint32_t boot_q, capset_q; /* the login's question: its capSet pipelines */
    uint16_t capset_field;
};

static void die_conn(struct remote *r, const char *why)
{
    fprintf(stderr, "capos-remote: connection failed: %s\n", why);
    exit(EXIT_FAILED);
}

static void flush(struct remote *r)
{
    size_t n;
    const uint8_t *o = crpc_output(&r->rpc, &n);
    while (n) {
        ssize_t w = write(r->fd, o, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die_conn(r, "write");
        crpc_output_done(&r->rpc, (size_t)w);
        o = crpc_output(&r->rpc, &n);
    }
}

/* Wait for the answer to question q (other events are taken as they come:
 * none are expected).  The event stays readable until the next wait. */
static const crpc_event *wait_for(struct remote *r, uint32_t q)
{
    flush(r);
    for (;;) {
        if (r->rx_off) {
            memmove(r->rx, r->rx + r->rx_off, r->rx_len - r->rx_off);
            r->rx_len -= r->rx_off;
            r->rx_off = 0;
        }
        size_t used;
        int rc = crpc_input(&r->rpc, r->rx, r->rx_len, &used, &r->ev);
        flush(r);
        if (rc == CRPC_OK) {
            r->rx_off = used;
            if ((r->ev.kind == CRPC_EV_RETURN || r->ev.kind == CRPC_EV_EXCEPTION) && r->ev.question == q)
                return &r->ev;
            continue;
        }
        if (rc != CRPC_MORE) {
            fprintf(stderr, "capos-remote: connection closed: %.*s\n", (int)r->ev.reason.len, r->ev.reason.str);
            exit(EXIT_FAILED);
        }
        if (r->rx_len == sizeof r->rx)
            die_conn(r, "message too large");
        ssize_t n = read(r->fd, r->rx + r->rx_len, sizeof r->rx - r->rx_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die_conn(r, "the gateway closed the connection");
        r->rx_len += (size_t)n;
    }
}

static const char *type_name(int t)
{
    static const char *const names[] = { "failed", "overloaded", "disconnected", "unimplemented" };
    return t >= 0 && t < 4 ? names[t] : "unknown";
}

/* An exception event: say so; returns true if it was one. */
static bool denied(const crpc_event *e)
{
    if (e->kind != CRPC_EV_EXCEPTION)
        return false;
    printf("denied %s %.*s\n", type_name(e->type), (int)e->reason.len, e->reason.str);
    return true;
}

static void finish(struct remote *r, uint32_t q)
{
    crpc_finish(&r->rpc, q);
}

static void release_caps(struct remote *r, const crpc_event *e)
{
    for (uint32_t i = 0; i < e->ncaps; i++)
        if (e->caps[i] != CAPNP_NO_CAP && !(e->caps[i] & CRPC_H_EXPORT))
            crpc_release(&r->rpc, e->caps[i]);
}

/* ------------------------------------------------------------------ connect */

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
    if (getaddrinfo(host, port, &hints, &res))
        return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

/* ------------------------------------------------------------------- login */

static void read_password(char *pw, size_t cap)
{
    const char *env = getenv("CAPOS_REMOTE_PASSWORD");
    if (env) {
        snprintf(pw, cap, "%s", env);
        return;
    }
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fprintf(stderr, "capos-remote: no terminal for the password (set CAPOS_REMOTE_PASSWORD)\n");
        exit(EXIT_USAGE);
    }
    struct termios old, quiet;
    fputs("password: ", tty);
    fflush(tty);
    tcgetattr(fileno(tty), &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    if (!fgets(pw, (int)cap, tty))
        pw[0] = 0;
    tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    pw[strcspn(pw, "\r\n")] = 0;
}

/* The login, pipelined on the bootstrap answer.  Leaves r->capset_q (the
 * login question, not finished) for calls to pipeline on. */
static int login(struct remote *r, const char *user, const char *keyfile)
{
    crpc_bootstrap(&r->rpc, &r->boot_q);
    crpc_target adm = crpc_target_answer(r->boot_q, 0, 0);
    crpc_call call;
    uint32_t q;
    if (!keyfile) {
        char pw[1024];
        read_password(pw, sizeof pw);
        capos_RemoteAdmission_login_Params_builder p = {
            crpc_call_begin(&r->rpc, &call, adm, capos_RemoteAdmission_ID, capos_RemoteAdmission_METHOD_login,
                            capos_RemoteAdmission_login_Params_DATA_WORDS, capos_RemoteAdmission_login_Params_PTR_WORDS) };
        capos_RemoteAdmission_login_Params_set_principal(p, user, strlen(user));
        capos_RemoteAdmission_login_Params_set_password(p, pw, strlen(pw));
        sodium_memzero(pw, sizeof pw);
        if (crpc_call_send(&r->rpc, &call, &q))
            die_conn(r, "cannot send");
        const crpc_event *e = wait_for(r, q);
        if (denied(e))
            return EXIT_FAILED;
        capos_RemoteAdmission_login_Results_reader res = { crpc_content(e) };
        if (capos_RemoteAdmission_login_Results_get_result(res) != capos_LoginResult_ok) {
            printf("login denied (%u)\n", capos_RemoteAdmission_login_Results_get_result(res));
            return EXIT_DENIED;
        }
        r->capset_field = 0;
    } else {
        uint8_t sk[64], pk[32];
        char err[128];
        if (sshkey_load_ed25519(keyfile, sk, pk, err, sizeof err)) {
            fprintf(stderr, "capos-remote: %s: %s\n", keyfile, err);
            return EXIT_USAGE;
        }
        uint32_t qc;
        crpc_call_begin(&r->rpc, &call, adm, capos_RemoteAdmission_ID, capos_RemoteAdmission_METHOD_challenge, 0, 0);
        if (crpc_call_send(&r->rpc, &call, &qc))
            die_conn(r, "cannot send");
        const crpc_event *e = wait_for(r, qc);
        if (denied(e))
            return EXIT_FAILED;
        capos_RemoteAdmission_challenge_Results_reader cr = { crpc_content(e) };
        capnp_data nonce = capos_RemoteAdmission_challenge_Results_get_nonce(cr);
        uint8_t msg[sizeof KEY_DOMAIN - 1 + 32], sig[64];
        if (nonce.len != 32)
            die_conn(r, "bad challenge");
        memcpy(msg, KEY_DOMAIN, sizeof KEY_DOMAIN - 1);
        memcpy(msg + sizeof KEY_DOMAIN - 1, nonce.ptr, 32);
        crypto_sign_detached(sig, 0, msg, sizeof msg, sk);
        sodium_memzero(sk, sizeof sk);
        finish(r, qc);
        capos_RemoteAdmission_keyLogin_Params_builder p = {
            crpc_call_begin(&r->rpc, &call, adm, capos_RemoteAdmission_ID, capos_RemoteAdmission_METHOD_keyLogin,
                            capos_RemoteAdmission_keyLogin_Params_DATA_WORDS,
                            capos_RemoteAdmission_keyLogin_Params_PTR_WORDS) };
        capos_RemoteAdmission_keyLogin_Params_set_principal(p, user, strlen(user));
        capos_RemoteAdmission_keyLogin_Params_set_publicKey(p, pk, 32);
        capos_RemoteAdmission_keyLogin_Params_set_signature(p, sig, 64);
        if (crpc_call_send(&r->rpc, &call, &q))
            die_conn(r, "cannot send");
        e = wait_for(r, q);
        if (denied(e))
            return EXIT_FAILED;
        capos_RemoteAdmission_keyLogin_Results_reader res = { crpc_content(e) };
        if (capos_RemoteAdmission_keyLogin_Results_get_result(res) != capos_LoginResult_ok) {
            printf("login denied (%u)\n", capos_RemoteAdmission_keyLogin_Results_get_result(res));
            return EXIT_DENIED;
        }
        r->capset_field = 0;
    }
    /* the import of the CapSet is kept by the login answer's event; the
     * question stays open so calls pipeline on it */
    r->capset_q = q;
    printf("logged in as %s\n", user);
    return EXIT_OK;
}

/* --------------------------------------------------------------- commands */

static crpc_target capset(struct remote *r)
{
    return crpc_target_answer(r->capset_q, 1, &r->capset_field);
}

static int cmd_list(struct remote *r)
{
    crpc_call call;
    uint32_t q;
    crpc_call_begin(&r->rpc, &call, capset(r), capos_RemoteCapSet_ID, capos_RemoteCapSet_METHOD_list, 0, 0);
    if (crpc_call_send(&r->rpc, &call, &q))
        return EXIT_FAILED;
    const crpc_event *e = wait_for(r, q);
    int rc = EXIT_OK;
    if (denied(e)) {
        rc = EXIT_REFUSED;
    } else {
        capos_RemoteCapSet_list_Results_reader res = { crpc_content(e) };
        capnp_list l = capos_RemoteCapSet_list_Results_get_entries(res);
        for (uint32_t i = 0; i < l.count; i++) {
            capos_RemoteCapEntry_reader x = capos_RemoteCapEntry_list_get(l, i);
            capnp_text n = capos_RemoteCapEntry_get_name(x), d = capos_RemoteCapEntry_get_description(x);
            printf("%-12.*s %016llx  %.*s\n", (int)n.len, n.str,
                   (unsigned long long)capos_RemoteCapEntry_get_interfaceId(x), (int)d.len, d.str);
        }
    }
    finish(r, q);
    return rc;
}

/* get(name) and the call on its answer, sent together; returns the call's
 * question after both answers are in (get's released and finished). */
static int pipelined(struct remote *r, const char *name, uint64_t iface, uint16_t method,
                     void (*params)(capnp_sbuilder, const char *), const char *arg, uint16_t dw, uint16_t pw,
                     uint32_t *qcall)
{
    crpc_call call;
    uint32_t qget;
    capos_RemoteCapSet_get_Params_builder g = {
        crpc_call_begin(&r->rpc, &call, capset(r), capos_RemoteCapSet_ID, capos_RemoteCapSet_METHOD_get,
                        capos_RemoteCapSet_get_Params_DATA_WORDS, capos_RemoteCapSet_get_Params_PTR_WORDS) };
    capos_RemoteCapSet_get_Params_set_name(g, name, strlen(name));
    if (crpc_call_send(&r->rpc, &call, &qget))
        return EXIT_FAILED;
    uint16_t f0 = 0;
    capnp_sbuilder p = crpc_call_begin(&r->rpc, &call, crpc_target_answer(qget, 1, &f0), iface, method, dw, pw);
    if (params)
        params(p, arg);
    if (crpc_call_send(&r->rpc, &call, qcall))
        return EXIT_FAILED;
    const crpc_event *e = wait_for(r, qget);
    int rc = EXIT_OK;
    if (e->kind == CRPC_EV_RETURN)
        release_caps(r, e);
    else
        rc = EXIT_REFUSED; /* the call fails the same way: reported there */
    finish(r, qget);
    return rc;
}

static void echo_params(capnp_sbuilder p, const char *text)
{
    capos_Echo_echo_Params_builder b = { p };
    capos_Echo_echo_Params_set_data(b, text, strlen(text));
}

static int cmd_call(struct remote *r, const char *what, const char *arg)
{
    uint32_t q;
    int rc;
    if (!strcmp(what, "echo")) {
        rc = pipelined(r, "echo", capos_Echo_ID, capos_Echo_METHOD_echo, echo_params, arg ? arg : "",
                       capos_Echo_echo_Params_DATA_WORDS, capos_Echo_echo_Params_PTR_WORDS, &q);
    } else if (!strcmp(what, "system-info")) {
        rc = pipelined(r, "system-info", capos_SystemInfo_ID, capos_SystemInfo_METHOD_get, 0, 0, 0, 0, &q);
    } else if (!strcmp(what, "session")) {
        rc = pipelined(r, "session", capos_UserSession_ID, capos_UserSession_METHOD_info, 0, 0, 0, 0, &q);
    } else {
        fprintf(stderr, "capos-remote: call what? (echo TEXT, system-info, session)\n");
        return EXIT_USAGE;
    }
    if (rc == EXIT_FAILED)
        return rc;
    const crpc_event *e = wait_for(r, q);
    if (denied(e)) {
        finish(r, q);
        return EXIT_REFUSED;
    }
    capnp_struct c = crpc_content(e);
    if (!strcmp(what, "echo")) {
        capos_Echo_echo_Results_reader x = { c };
        capnp_data d = capos_Echo_echo_Results_get_data(x);
        printf("%.*s\n", (int)d.len, (const char *)d.ptr);
    } else if (!strcmp(what, "system-info")) {
        capos_SystemInfo_get_Results_reader x = { c };
        capnp_text kv = capos_SystemInfo_get_Results_get_kernelVersion(x);
        capnp_text bv = capos_SystemInfo_get_Results_get_buildVersion(x);
        uint64_t up = capos_SystemInfo_get_Results_get_uptimeNs(x);
        printf("uptime %llu.%03llu s\nkernel %.*s\nbuild %.*s\nfree-frames %llu\nheap-bytes %llu\n"
               "processes %u\ncap-slots %llu\n", (unsigned long long)(up / 1000000000),
               (unsigned long long)(up / 1000000 % 1000), (int)kv.len, kv.str, (int)bv.len, bv.str,
               (unsigned long long)capos_SystemInfo_get_Results_get_freeFrames(x),
               (unsigned long long)capos_SystemInfo_get_Results_get_heapBytes(x),
               capos_SystemInfo_get_Results_get_processes(x),
               (unsigned long long)capos_SystemInfo_get_Results_get_capSlots(x));
    } else {
        capos_UserSession_info_Results_reader x = { c };
        capnp_text p = capos_UserSession_info_Results_get_principal(x);
        capnp_text pr = capos_UserSession_info_Results_get_profile(x);
        capnp_text a = capos_UserSession_info_Results_get_authMethod(x);
        printf("principal %.*s\nprofile %.*s\nauth %.*s\n", (int)p.len, p.str, (int)pr.len, pr.str, (int)a.len,
               a.str);
    }
    finish(r, q);
    return EXIT_OK;
}

static int cmd_logout(struct remote *r)
{
    uint32_t q;
    int rc = pipelined(r, "session", capos_UserSession_ID, capos_UserSession_METHOD_logout, 0, 0,
                       capos_UserSession_logout_Params_DATA_WORDS, capos_UserSession_logout_Params_PTR_WORDS, &q);
    if (rc == EXIT_FAILED)
        return rc;
    const crpc_event *e = wait_for(r, q);
    rc = denied(e) ? EXIT_REFUSED : EXIT_OK;
    if (rc == EXIT_OK)
        printf("logged out\n");
    finish(r, q);
    return rc;
}

static int run(struct remote *r, char *line)
{
    char *save = 0, *cmd = strtok_r(line, " \t\r\n", &save);
    if (!cmd)
        return EXIT_OK;
    if (!strcmp(cmd, "list"))
        return cmd_list(r);
    if (!strcmp(cmd, "logout"))
        return cmd_logout(r);
    if (!strcmp(cmd, "call")) {
        char *what = strtok_r(0, " \t\r\n", &save);
        char *arg = strtok_r(0, "\r\n", &save);
        return what ? cmd_call(r, what, arg) : EXIT_USAGE;
    }
    fprintf(stderr, "capos-remote: unknown command %s (list, call ..., logout)\n", cmd);
    return EXIT_USAGE;
}

static int usage(void)
{
    fprintf(stderr, "usage: capos-remote [--host H] [--port N] [--key FILE] login USER [COMMAND...]\n"
                    "commands: list | call system-info | call echo TEXT | call session | logout\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "2327", *key = 0;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--host"))
            host = argv[++i];
        else if (!strcmp(argv[i], "--port"))
            port = argv[++i];
        else if (!strcmp(argv[i], "--key"))
            key = argv[++i];
        else
            return usage();
    }
    if (i + 2 > argc || strcmp(argv[i], "login"))
        return usage();
    const char *user = argv[i + 1];
    if (sodium_init() < 0)
        return EXIT_FAILED;
    setvbuf(stdout, 0, _IOLBF, 0);
    static struct remote r;
    r.fd = dial(host, port);
    if (r.fd < 0) {
        fprintf(stderr, "capos-remote: cannot connect to %s port %s\n", host, port);
        return EXIT_CONNECT;
    }
    crpc_mem m = { r.q, 16, r.a, 2, r.im, 16, r.ex, 2, r.out, sizeof r.out, r.scratch, sizeof r.scratch };
    crpc_limits lim;
    crpc_default_limits(&lim);
    crpc_init(&r.rpc, &m, &lim);
    int rc = login(&r, user, key);
    if (rc != EXIT_OK)
        return rc;
    int worst = EXIT_OK;
    if (i + 2 < argc) {
        for (int k = i + 2; k < argc; k++) {
            char line[4096];
            snprintf(line, sizeof line, "%s", argv[k]);
            rc = run(&r, line);
            if (rc > worst)
                worst = rc;
        }
    } else {
        char line[4096];
        while (fgets(line, sizeof line, stdin)) {
            rc = run(&r, line);
            if (rc > worst)
                worst = rc;
        }
    }
    close(r.fd);
    return worst;
}
