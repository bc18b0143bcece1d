/* ssh-devserver: runs lib/ssh over real TCP with a small demo shell.
 * One process, one poll loop, many connections.  See README.md. */
#define _GNU_SOURCE
#include "ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define SHELL_OUT 65536

static const char *opt_keys = "authorized_keys";
static const char *opt_hostkey = "ssh_host_ed25519_key";
static const char *opt_bind = "127.0.0.1";
static const char *opt_portfile;
static int opt_port = 2222;
static uint32_t opt_grace_ms = 120000;
static uint64_t opt_rekey;
static FILE *log_fp;

static uint8_t host_sk[64], host_pk[32];

struct shell {
    int pty, started, exit_sent, exit_queued;
    uint32_t exit_code;
    char line[1024]; size_t ll;
    uint8_t out[SHELL_OUT]; size_t out_len, out_off;
    uint64_t blast_left, blast_pos;
    uint64_t sink_left, sink_total;
    crypto_hash_sha256_state sink_h;
    size_t unacked;
    char term[64]; uint32_t cols, rows;
};

struct conn {
    int fd, id, closing;
    uint64_t close_deadline;
    char peer[64];
    char client[80];
    struct shell sh;
    struct ssh_conn ssh;
};

static struct conn *conns[MAX_CONNS];
static int next_id = 1;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void logmsg(struct conn *c, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    va_list ap;
    va_start(ap, fmt);
    fprintf(log_fp, "%ld.%03ld conn=%d ", (long)ts.tv_sec, ts.tv_nsec / 1000000, c ? c->id : 0);
    vfprintf(log_fp, fmt, ap);
    fputc('\n', log_fp);
    fflush(log_fp);
    va_end(ap);
}

/* ------------------------------------------------------------ key files */

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    *len = fread(buf, 1, cap - 1, f);
    buf[*len] = 0;
    fclose(f);
    return 0;
}

static uint32_t get32(const uint8_t *p) { return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }

/* read an SSH string at *off in buf[0..len) */
static const uint8_t *get_str(const uint8_t *buf, size_t len, size_t *off, size_t *sl)
{
    if (len - *off < 4) return NULL;
    uint32_t n = get32(buf + *off);
    if (len - *off - 4 < n) return NULL;
    const uint8_t *s = buf + *off + 4;
    *off += 4 + n;
    *sl = n;
    return s;
}

/* unencrypted OpenSSH private key ("openssh-key-v1"), as written by ssh-keygen -t ed25519 -N '' */
static int load_hostkey(const char *path)
{
    static char text[16384];
    static uint8_t bin[12000];
    size_t tl, bl;
    if (read_file(path, text, sizeof text, &tl) < 0) return -1;
    char *b = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----");
    char *e = strstr(text, "-----END OPENSSH PRIVATE KEY-----");
    if (!b || !e || e < b) return -1;
    b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
    if (sodium_base642bin(bin, sizeof bin, b, (size_t)(e - b), "\r\n \t", &bl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) return -1;
    if (bl < 15 || memcmp(bin, "openssh-key-v1\0", 15) != 0) return -1;
    size_t off = 15, sl;
    const uint8_t *cipher = get_str(bin, bl, &off, &sl);
    if (!cipher || sl != 4 || memcmp(cipher, "none", 4) != 0) return -1;   /* encrypted keys unsupported */
    if (!get_str(bin, bl, &off, &sl)) return -1;  /* kdf */
    if (!get_str(bin, bl, &off, &sl)) return -1;  /* kdf options */
    if (bl - off < 4 || get32(bin + off) != 1) return -1;
    off += 4;
    if (!get_str(bin, bl, &off, &sl)) return -1;  /* public blob */
    size_t pl;
    const uint8_t *priv = get_str(bin, bl, &off, &pl);
    if (!priv || pl < 8 || get32(priv) != get32(priv + 4)) return -1;
    size_t po = 8;
    const uint8_t *type = get_str(priv, pl, &po, &sl);
    if (!type || sl != 11 || memcmp(type, "ssh-ed25519", 11) != 0) return -1;
    const uint8_t *pk = get_str(priv, pl, &po, &sl);
    if (!pk || sl != 32) return -1;
    const uint8_t *sk = get_str(priv, pl, &po, &sl);
    if (!sk || sl != 64 || memcmp(sk + 32, pk, 32) != 0) return -1;
    memcpy(host_sk, sk, 64);
    memcpy(host_pk, pk, 32);
    sodium_memzero(bin, sizeof bin);
    sodium_memzero(text, sizeof text);
    /* the seed must really produce this public key */
    uint8_t chk_pk[32], chk_sk[64];
    crypto_sign_seed_keypair(chk_pk, chk_sk, host_sk);
    sodium_memzero(chk_sk, sizeof chk_sk);
    return memcmp(chk_pk, host_pk, 32) == 0 ? 0 : -1;
}

/* Is pub listed as an ssh-ed25519 key in the authorized-keys file?  The file is
 * re-read on every call, so edits take effect for the next login. */
static int key_authorized(const uint8_t pub[32])
{
    FILE *f = fopen(opt_keys, "r");
    if (!f) return 0;
    char line[8192];
    int ok = 0;
    while (!ok && fgets(line, sizeof line, f)) {
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (!tok || tok[0] == '#') continue;
        /* options may come first: find the key type token */
        while (tok && strcmp(tok, "ssh-ed25519") != 0) tok = strtok_r(NULL, " \t\r\n", &save);
        if (!tok) continue;
        char *b64 = strtok_r(NULL, " \t\r\n", &save);
        if (!b64) continue;
        uint8_t blob[128];
        size_t bl;
        if (sodium_base642bin(blob, sizeof blob, b64, strlen(b64), NULL, &bl, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0) continue;
        if (bl == 51 && get32(blob) == 11 && memcmp(blob + 4, "ssh-ed25519", 11) == 0 &&
            get32(blob + 15) == 32 && sodium_memcmp(blob + 19, pub, 32) == 0)
            ok = 1;
    }
    fclose(f);
    return ok;
}

/* ------------------------------------------------------------ callbacks */

static int cb_sign(void *ctx, const uint8_t *m, size_t n, uint8_t sig[64])
{
    (void)ctx;
    return crypto_sign_detached(sig, NULL, m, n, host_sk);
}

static int cb_authorize(void *ctx, enum ssh_auth_phase ph, const char *user, size_t ul, const uint8_t pub[32],
                        const struct ssh_auth_proof *proof)
{
    (void)ctx; (void)ph; (void)proof; (void)user; (void)ul;
    /* any user name: the key decides (the demo has no user database) */
    return key_authorized(pub);
}

static void cb_random(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    randombytes_buf(p, n);
}

/* ------------------------------------------------------------ demo shell */

static const char blast_pattern[] = "capOS ssh-devserver blast 0123456789 abcdefghijklmnopqrstuvwxyz\n";
#define BLAST_PLEN (sizeof blast_pattern - 1)

static void sh_out(struct conn *c, const char *s, size_t n)
{
    struct shell *sh = &c->sh;
    if (sh->out_off == sh->out_len) sh->out_off = sh->out_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (sh->out_len + 2 > SHELL_OUT) {
            if (sh->out_off == 0) return;   /* full: drop (demo shell) */
            memmove(sh->out, sh->out + sh->out_off, sh->out_len - sh->out_off);
            sh->out_len -= sh->out_off;
            sh->out_off = 0;
        }
        if (s[i] == '\n' && sh->pty) sh->out[sh->out_len++] = '\r';
        sh->out[sh->out_len++] = (uint8_t)s[i];
    }
}

static void sh_printf(struct conn *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) sh_out(c, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void sh_prompt(struct conn *c) { sh_out(c, "capos$ ", 7); }

static void sh_exit(struct conn *c, uint32_t code)
{
    c->sh.exit_queued = 1;
    c->sh.exit_code = code;
}

static void sh_command(struct conn *c, char *line)
{
    struct shell *sh = &c->sh;
    char *args = line;
    while (*args == ' ') args++;
    char *cmd = args;
    while (*args && *args != ' ') args++;
    if (*args) *args++ = 0;
    while (*args == ' ') args++;
    if (!*cmd) { sh_prompt(c); return; }
    if (!strcmp(cmd, "echo")) sh_printf(c, "%s\n", args);
    else if (!strcmp(cmd, "help"))
        sh_printf(c, "commands: echo TEXT, whoami, info, env, agent, blast N, sink N, exit [N], help\n");
    else if (!strcmp(cmd, "whoami")) sh_printf(c, "%s\n", c->ssh.user);
    else if (!strcmp(cmd, "info"))
        sh_printf(c, "client=%s pty=%s term=%s size=%ux%u\n", c->client, sh->pty ? "yes" : "no",
                  sh->pty ? sh->term : "-", sh->cols, sh->rows);
    else if (!strcmp(cmd, "env")) sh_printf(c, "no environment is forwarded\n");
    else if (!strcmp(cmd, "agent")) sh_printf(c, "no agent is forwarded\n");
    else if (!strcmp(cmd, "blast")) {
        sh->blast_left = strtoull(args, NULL, 10);
        sh->blast_pos = 0;
        return;   /* prompt once done */
    } else if (!strcmp(cmd, "sink")) {
        sh->sink_left = sh->sink_total = strtoull(args, NULL, 10);
        crypto_hash_sha256_init(&sh->sink_h);
        if (sh->sink_left) return;
        sh_printf(c, "sink 0\n");
    } else if (!strcmp(cmd, "exit")) {
        if (sh->pty) sh_printf(c, "logout\n");
        sh_exit(c, (uint32_t)strtoul(args, NULL, 10));
        return;
    } else sh_printf(c, "unknown command: %.64s\n", cmd);
    sh_prompt(c);
}

static void sh_input(struct conn *c, const uint8_t *d, size_t n)
{
    struct shell *sh = &c->sh;
    for (size_t i = 0; i < n && !sh->exit_queued; i++) {
        if (sh->sink_left) {
            size_t k = n - i < sh->sink_left ? n - i : (size_t)sh->sink_left;
            crypto_hash_sha256_update(&sh->sink_h, d + i, k);
            sh->sink_left -= k;
            i += k - 1;
            if (!sh->sink_left) {
                uint8_t h[32];
                char hex[65];
                crypto_hash_sha256_final(&sh->sink_h, h);
                sodium_bin2hex(hex, sizeof hex, h, 32);
                sh_printf(c, "sink %llu sha256=%s\n", (unsigned long long)sh->sink_total, hex);
                sh_prompt(c);
            }
            continue;
        }
        uint8_t ch = d[i];
        if (sh->pty) {
            if (ch == '\r' || ch == '\n') {
                if (ch == '\n' && i > 0 && d[i - 1] == '\r') continue;
                sh_out(c, "\n", 1);
                sh->line[sh->ll] = 0;
                sh->ll = 0;
                sh_command(c, sh->line);
            } else if (ch == 0x7f || ch == 0x08) {
                if (sh->ll) { sh->ll--; sh_out(c, "\b \b", 3); }
            } else if (ch == 0x03) {
                sh->ll = 0;
                sh_out(c, "^C\n", 3);
                sh_prompt(c);
            } else if (ch == 0x04) {
                if (sh->ll == 0) { sh_printf(c, "logout\n"); sh_exit(c, 0); }
            } else if (ch >= 0x20 && ch < 0x7f && sh->ll + 1 < sizeof sh->line) {
                sh->line[sh->ll++] = (char)ch;
                sh_out(c, (const char *)&ch, 1);
            }
        } else {
            if (ch == '\n') {
                if (sh->ll && sh->line[sh->ll - 1] == '\r') sh->ll--;
                sh->line[sh->ll] = 0;
                sh->ll = 0;
                sh_command(c, sh->line);
            } else if (sh->ll + 1 < sizeof sh->line) sh->line[sh->ll++] = (char)ch;
        }
    }
}

/* move shell output into the channel */
static void sh_pump(struct conn *c)
{
    struct shell *sh = &c->sh;
    while (ssh_channel_writable(&c->ssh)) {
        if (sh->out_off < sh->out_len) {
            size_t n = ssh_channel_write(&c->ssh, sh->out + sh->out_off, sh->out_len - sh->out_off);
            if (!n) break;
            sh->out_off += n;
            continue;
        }
        if (sh->blast_left) {
            /* the pattern repeats every BLAST_PLEN bytes: write straight from a
             * pre-filled buffer at the right phase */
            static uint8_t pat[32768 + BLAST_PLEN];
            if (!pat[0])
                for (size_t i = 0; i < sizeof pat; i++) pat[i] = (uint8_t)blast_pattern[i % BLAST_PLEN];
            size_t k = sh->blast_left < 32768 ? (size_t)sh->blast_left : 32768;
            size_t n = ssh_channel_write(&c->ssh, pat + sh->blast_pos % BLAST_PLEN, k);
            if (!n) break;
            sh->blast_pos += n;
            sh->blast_left -= n;
            if (!sh->blast_left) sh_prompt(c);
            continue;
        }
        break;
    }
    if (sh->unacked && sh->out_len - sh->out_off < SHELL_OUT / 4) {
        ssh_channel_ack(&c->ssh, sh->unacked);
        sh->unacked = 0;
    }
    if (sh->exit_queued && !sh->exit_sent && sh->out_off == sh->out_len && !sh->blast_left &&
        ssh_channel_writable(&c->ssh)) {
        sh->exit_sent = 1;
        logmsg(c, "event=exit status=%u", sh->exit_code);
        ssh_channel_exit(&c->ssh, sh->exit_code);
    }
}

/* ------------------------------------------------------------ connections */

static void sanitize_copy(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < cap; i++)
        dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? (char)s[i] : '?';
    dst[j] = 0;
}

static void handle_event(struct conn *c, struct ssh_event *ev)
{
    char text[160];
    switch (ev->type) {
    case SSH_EV_CLIENT_VERSION:
        sanitize_copy(c->client, sizeof c->client, ev->data, ev->len);
        logmsg(c, "event=client-version version=\"%s\"", c->client);
        break;
    case SSH_EV_KEX_DONE:
        logmsg(c, "event=kex-done count=%llu strict=%d", (unsigned long long)ev->value, ssh_kex_strict(&c->ssh));
        break;
    case SSH_EV_AUTH_FAILURE:
        logmsg(c, "event=auth-failure reason=%s", ssh_reason_name(ev->reason));
        break;
    case SSH_EV_AUTH_SUCCESS:
        sanitize_copy(text, sizeof text, ev->data, ev->len);
        logmsg(c, "event=login user=\"%s\"", text);
        break;
    case SSH_EV_DENIED:
        sanitize_copy(text, sizeof text, ev->data, ev->len);
        logmsg(c, "event=denied reason=%s what=\"%s\"", ssh_reason_name(ev->reason), text);
        /* a client that asked for a command without wanting a reply (dbclient)
         * would wait forever: end the session with a failure status */
        if ((ev->reason == SSH_R_DENY_EXEC || ev->reason == SSH_R_DENY_SUBSYSTEM) && !ev->value &&
            !c->sh.started)
            ssh_channel_exit(&c->ssh, 1);
        break;
    case SSH_EV_KEEPALIVE:
        logmsg(c, "event=keepalive");
        break;
    case SSH_EV_SESSION_OPEN:
        logmsg(c, "event=session-open");
        break;
    case SSH_EV_PTY:
        c->sh.pty = 1;
        sanitize_copy(c->sh.term, sizeof c->sh.term, ev->data, ev->len);
        c->sh.cols = ev->cols;
        c->sh.rows = ev->rows;
        logmsg(c, "event=pty term=\"%s\" cols=%u rows=%u", c->sh.term, ev->cols, ev->rows);
        break;
    case SSH_EV_WINDOW_CHANGE:
        c->sh.cols = ev->cols;
        c->sh.rows = ev->rows;
        logmsg(c, "event=window-change cols=%u rows=%u", ev->cols, ev->rows);
        break;
    case SSH_EV_SHELL:
        c->sh.started = 1;
        logmsg(c, "event=shell");
        if (c->sh.pty) sh_printf(c, "Welcome to the capOS ssh-devserver demo shell. Type 'help'.\n");
        sh_prompt(c);
        break;
    case SSH_EV_DATA:
        if (c->sh.started) sh_input(c, ev->data, ev->len);
        c->sh.unacked += ev->len;
        break;
    case SSH_EV_EOF:
        logmsg(c, "event=eof");
        if (c->sh.started && !c->sh.exit_queued) sh_exit(c, 0);
        else if (!c->sh.started) ssh_channel_exit(&c->ssh, 0);
        break;
    case SSH_EV_CHANNEL_CLOSED:
        logmsg(c, "event=session-closed");
        break;
    case SSH_EV_DISCONNECT:
        logmsg(c, "event=disconnect reason=%s", ssh_reason_name(ev->reason));
        c->closing = 1;
        c->close_deadline = now_ms() + 2000;
        break;
    default:
        break;
    }
}

static void conn_free(int i, const char *why)
{
    struct conn *c = conns[i];
    logmsg(c, "event=closed why=%s", why);
    close(c->fd);
    ssh_conn_wipe(&c->ssh);
    free(c);
    conns[i] = NULL;
}

static int flush_out(struct conn *c)
{
    for (;;) {
        const uint8_t *p;
        size_t n = ssh_output(&c->ssh, &p);
        if (!n) return 0;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        ssh_output_consume(&c->ssh, (size_t)w);
    }
}

/* run the library until it wants I/O; -1: connection to drop */
static int conn_process(struct conn *c)
{
    for (int round = 0; round < 64; round++) {
        struct ssh_event ev;
        int any = 0;
        ssh_tick(&c->ssh, now_ms());
        while (ssh_poll_event(&c->ssh, &ev)) { handle_event(c, &ev); any = 1; }
        sh_pump(c);
        const uint8_t *p;
        size_t before = ssh_output(&c->ssh, &p);
        if (flush_out(c) < 0) return -1;
        size_t after = ssh_output(&c->ssh, &p);
        if (c->closing) return after == 0 ? -1 : 0;
        if (!any && after == before) break;
        if (after == before && after > 0) break;  /* socket full */
    }
    return 0;
}

static int listen_on(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port) };
    if (inet_pton(AF_INET, opt_bind, &a.sin_addr) != 1) { fprintf(stderr, "bad bind address\n"); exit(2); }
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        perror("bind/listen");
        exit(2);
    }
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    opt_port = ntohs(a.sin_port);
    return fd;
}

static void accept_all(int lfd, const struct ssh_server_config *cfg)
{
    for (;;) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = accept4(lfd, (struct sockaddr *)&a, &al, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int slot = -1;
        for (int i = 0; i < MAX_CONNS; i++) if (!conns[i]) { slot = i; break; }
        if (slot < 0) { close(fd); logmsg(NULL, "event=refused why=too-many-connections"); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        c->id = next_id++;
        inet_ntop(AF_INET, &a.sin_addr, c->peer, sizeof c->peer);
        ssh_server_init(&c->ssh, cfg, now_ms());
        conns[slot] = c;
        logmsg(c, "event=accept peer=%s:%u", c->peer, ntohs(a.sin_port));
        if (conn_process(c) < 0) conn_free(slot, "error");
    }
}

static void usage(void)
{
    fprintf(stderr,
        "usage: ssh-devserver [-p PORT] [-b ADDR] [-a AUTHORIZED_KEYS] [-k HOSTKEY]\n"
        "                     [-l LOGFILE] [-g GRACE_SECONDS] [-r REKEY_BYTES] [-P PORTFILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int o;
    const char *logpath = NULL;
    while ((o = getopt(argc, argv, "p:b:a:k:l:g:r:P:h")) != -1) {
        switch (o) {
        case 'p': opt_port = atoi(optarg); break;
        case 'b': opt_bind = optarg; break;
        case 'a': opt_keys = optarg; break;
        case 'k': opt_hostkey = optarg; break;
        case 'l': logpath = optarg; break;
        case 'g': opt_grace_ms = (uint32_t)(atof(optarg) * 1000); break;
        case 'r': opt_rekey = strtoull(optarg, NULL, 10); break;
        case 'P': opt_portfile = optarg; break;
        default: usage();
        }
    }
    log_fp = stderr;
    if (logpath && !(log_fp = fopen(logpath, "a"))) { perror(logpath); return 2; }
    if (sodium_init() < 0) return 2;
    if (load_hostkey(opt_hostkey) < 0) {
        fprintf(stderr, "ssh-devserver: cannot load Ed25519 host key %s "
                "(make one with: ssh-keygen -t ed25519 -N '' -f %s)\n", opt_hostkey, opt_hostkey);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = listen_on();
    if (opt_portfile) {
        FILE *pf = fopen(opt_portfile, "w");
        if (pf) { fprintf(pf, "%d\n", opt_port); fclose(pf); }
    }
    struct ssh_server_config cfg = {
        .software = "capOS_devserver_0.1",
        .sign = cb_sign, .authorize = cb_authorize, .random = cb_random, .ctx = NULL,
        .login_grace_ms = opt_grace_ms, .rekey_bytes = opt_rekey,
    };
    memcpy(cfg.host_public, host_pk, 32);
    logmsg(NULL, "event=listening addr=%s port=%d", opt_bind, opt_port);

    static struct pollfd pfd[MAX_CONNS + 1];
    static int idx[MAX_CONNS + 1];
    for (;;) {
        int n = 0;
        uint64_t now = now_ms(), next = now + 1000;
        pfd[n].fd = lfd; pfd[n].events = POLLIN; idx[n] = -1; n++;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = conns[i];
            if (!c) continue;
            uint8_t *p;
            const uint8_t *q;
            short evs = 0;
            if (!c->closing && ssh_input_buffer(&c->ssh, &p) > 0) evs |= POLLIN;
            if (ssh_output(&c->ssh, &q) > 0) evs |= POLLOUT;
            pfd[n].fd = c->fd; pfd[n].events = evs; idx[n] = i; n++;
            uint64_t d = c->closing ? c->close_deadline : ssh_deadline(&c->ssh);
            if (d < next) next = d;
        }
        int timeout = next > now ? (int)(next - now) : 0;
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR) { perror("poll"); return 1; }
        now = now_ms();
        for (int k = 0; k < n; k++) {
            if (idx[k] < 0) {
                if (pfd[k].revents & POLLIN) accept_all(lfd, &cfg);
                continue;
            }
            int i = idx[k];
            struct conn *c = conns[i];
            if (!c) continue;
            if (pfd[k].revents & POLLIN) {
                uint8_t *p;
                size_t space = ssh_input_buffer(&c->ssh, &p);
                ssize_t got = space ? recv(c->fd, p, space, 0) : 0;
                if (got == 0 && space) { conn_free(i, "peer-eof"); continue; }
                if (got < 0 && errno != EAGAIN && errno != EINTR) { conn_free(i, "read-error"); continue; }
                if (got > 0) ssh_input_commit(&c->ssh, (size_t)got);
            } else if (pfd[k].revents & (POLLERR | POLLHUP)) {
                conn_free(i, "peer-hangup");
                continue;
            }
            if (conn_process(c) < 0) { conn_free(i, c->closing ? "disconnect" : "write-error"); continue; }
            if (c->closing && now >= c->close_deadline) { conn_free(i, "disconnect-timeout"); continue; }
        }
        /* timeouts for connections that saw no I/O */
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = conns[i];
            if (c && !c->closing && ssh_deadline(&c->ssh) <= now && conn_process(c) < 0)
                conn_free(i, "disconnect");
        }
    }
}
