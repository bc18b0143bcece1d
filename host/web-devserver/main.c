/* web-devserver: lib/http, lib/ws, lib/tls and lib/webauthn over real TCP
 * on the host.  Serves static files from a directory (ETag, 304, HEAD),
 * POST /upload (answers the body's length and FNV-1a hash as JSON), GET
 * /api/info (JSON), a WebSocket echo at /ws and passkey registration and
 * login under /api/passkey/ (passkey.c).  One process, one poll loop, many
 * connections; a connection whose output is not drained is not read (the
 * others go on).
 * Usage: web-devserver --root DIR [--bind 127.0.0.1] [--port N|0]
 *        [--port-file F] [--header-timeout-ms N] [--max-body N]
 *        [--stall-timeout-ms N] [--tls-cert CERT.der --tls-key KEY.der]
 *        [--rp-id NAME] [--webauthn-host NAME]... [--extra-host NAME]...
 *        [--passkey-source-burst N] [--passkey-cred-burst N] */
#define _GNU_SOURCE
#include "http.h"
#include "ws.h"
#include "tls.h"
#include "passkey.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 128
#define IN_CAP    65536
#define OUT_CAP   65536

enum { M_HTTP, M_WS };

struct conn {
    int fd, id, mode, close_after, upload;
    int file_fd;
    uint64_t file_left, body_bytes, fnv;
    int echo_open;
    uint64_t progress;      /* when bytes last moved either way */
    size_t in_len, out_len, out_off;
    uint8_t in[IN_CAP];
    uint8_t out[OUT_CAP];
    struct http_conn http;
    struct ws_conn ws;
    struct tls_conn *tls;   /* NULL: plain HTTP */
    char src[64];           /* the peer's address, for rate limits and logs */
    int api, body_over;     /* a /api/passkey/ call: its body collected here */
    size_t body_len;
    uint8_t body[PASSKEY_BODY_MAX];
};

static struct conn *conns[MAX_CONNS];
static int next_id = 1, root_fd = -1;
static const char *opt_bind = "127.0.0.1", *opt_portfile;
static int opt_port = 8080;
static uint64_t opt_stall_ms = 30000;
static struct http_config hcfg;
static struct ws_config wcfg;
#define EXTRA_HOSTS_MAX 4
static char host_a[64], host_b[64], origin_a[80], origin_b[80];
static const char *hosts[3 + 2 * EXTRA_HOSTS_MAX], *origins[3];
/* WebAuthn: the RP ID, and the host names whose origins it accepts
 * (localhost and each --webauthn-host); extra names only accepted as Host (e.g. to show a
 * foreign origin being refused). */
static const char *opt_rp_id = "localhost";
static const char *wa_hosts[EXTRA_HOSTS_MAX], *extra_hosts[EXTRA_HOSTS_MAX];
static int n_wa_hosts, n_extra_hosts;
static char host_x[2 * EXTRA_HOSTS_MAX][96], wa_origin[EXTRA_HOSTS_MAX + 1][112];
static const char *wa_origins[EXTRA_HOSTS_MAX + 2];
static struct passkey_config pcfg = { NULL, NULL, 60, 1000, 20, 3000 };
static uint8_t tls_cert[4096], tls_key[32];
static size_t tls_cert_len;
static int tls_on;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drop(int i)
{
    struct conn *c = conns[i];
    if (c->file_fd >= 0) close(c->file_fd);
    close(c->fd);
    free(c->tls);
    free(c);
    conns[i] = NULL;
}

static struct http_wr out_wr(struct conn *c)
{
    struct http_wr w;
    if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
    http_wr_init(&w, c->out + c->out_len, OUT_CAP - c->out_len);
    return w;
}

static void out_commit(struct conn *c, struct http_wr *w)
{
    if (!http_wr_failed(w)) c->out_len += w->len;
    else c->close_after = 1;
}

static const char *ctype_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".json")) return "application/json";
    if (!strcmp(dot, ".txt")) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

static void respond_status(struct conn *c, int status, const char *msg)
{
    struct http_wr w = out_wr(c);
    int ka = http_keep_alive(&c->http);
    http_wr_response(&w, status, "application/json", 13 + strlen(msg), NULL, ka);
    http_wr_str(&w, "{\"error\":");
    http_wr_json_str(&w, (const uint8_t *)msg, strlen(msg));
    http_wr_str(&w, "}\n");
    out_commit(c, &w);
    if (!ka) c->close_after = 1;
}

static void serve_file(struct conn *c)
{
    char path[1024];
    if (http_target_path(&c->http, path, sizeof path - 16)) { respond_status(c, 400, "target.path"); return; }
    if (path[strlen(path) - 1] == '/') strcat(path, "index.html");
    int fd = openat(root_fd, path + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        respond_status(c, 404, "not-found");
        return;
    }
    char etag[HTTP_ETAG_MAX];
    http_etag(etag, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    int ka = http_keep_alive(&c->http);
    struct http_wr w = out_wr(c);
    if (http_etag_match(&c->http, etag)) {
        http_wr_response(&w, 304, NULL, 0, etag, ka);
        close(fd);
    } else {
        http_wr_response(&w, 200, ctype_of(path), (uint64_t)st.st_size, etag, ka);
        if (http_method_is(&c->http, "HEAD")) close(fd);
        else { c->file_fd = fd; c->file_left = (uint64_t)st.st_size; }
    }
    out_commit(c, &w);
    if (!ka) c->close_after = 1;
}

static void on_head(struct conn *c)
{
    size_t tl;
    const uint8_t *t = http_target(&c->http, &tl);
    c->upload = 0;
    c->api = 0;
    if (passkey_path(t, tl) && http_method_is(&c->http, "POST")) {
        c->api = 1;
        c->body_len = 0;
        c->body_over = 0;
        return;
    }
    if (tl == 3 && !memcmp(t, "/ws", 3)) {
        struct http_wr w = out_wr(c);
        int r = ws_handshake(&c->http, &wcfg, &w);
        out_commit(c, &w);
        if (r != WS_OK) {
            fprintf(stderr, "web-devserver: conn %d: websocket refused: %s\n", c->id, ws_reason_name(r));
            c->close_after = 1;
            return;
        }
        c->mode = M_WS;
        ws_init(&c->ws, &wcfg);
        c->echo_open = 0;
        return;
    }
    if (tl == 7 && !memcmp(t, "/upload", 7) && http_method_is(&c->http, "POST")) {
        c->upload = 1;
        c->body_bytes = 0;
        c->fnv = 0xcbf29ce484222325ull;
        if (http_expect_continue(&c->http)) {
            struct http_wr w = out_wr(c);
            http_wr_str(&w, "HTTP/1.1 100 Continue\r\n\r\n");
            out_commit(c, &w);
        }
    }
}

static void on_end(struct conn *c)
{
    size_t tl;
    const uint8_t *t = http_target(&c->http, &tl);
    if (c->api) {
        static char body[4096];
        int status = 400;
        size_t n = c->body_over ? 0 : passkey_handle(t, tl, c->body, c->body_len, c->src, now_ms(), body,
                                                       sizeof body, &status);
        if (c->body_over) {
            respond_status(c, 413, "request.body-size");
            return;
        }
        struct http_wr w = out_wr(c);
        int ka = http_keep_alive(&c->http);
        http_wr_response(&w, status, "application/json", (uint64_t)n, NULL, ka);
        http_wr_raw(&w, body, n);
        out_commit(c, &w);
        if (!ka) c->close_after = 1;
    } else if (c->upload) {
        char body[128];
        int n = snprintf(body, sizeof body, "{\"bytes\":%llu,\"fnv1a\":\"%016llx\"}\n",
                         (unsigned long long)c->body_bytes, (unsigned long long)c->fnv);
        struct http_wr w = out_wr(c);
        int ka = http_keep_alive(&c->http);
        http_wr_response(&w, 200, "application/json", (uint64_t)n, NULL, ka);
        http_wr_raw(&w, body, (size_t)n);
        out_commit(c, &w);
        if (!ka) c->close_after = 1;
    } else if (tl == 9 && !memcmp(t, "/api/info", 9)) {
        char body[128];
        int n = snprintf(body, sizeof body, "{\"server\":\"capos-web-devserver\",\"connection\":%d}\n", c->id);
        struct http_wr w = out_wr(c);
        int ka = http_keep_alive(&c->http);
        http_wr_response(&w, 200, "application/json", (uint64_t)n, NULL, ka);
        http_wr_raw(&w, body, (size_t)n);
        out_commit(c, &w);
        if (!ka) c->close_after = 1;
    } else if (http_method_is(&c->http, "GET") || http_method_is(&c->http, "HEAD")) {
        serve_file(c);
    } else {
        respond_status(c, 405, "method");
    }
}

static void consume(struct conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

static int pending_out(const struct conn *c)
{
    size_t wl = 0, tl = 0;
    if (c->mode == M_WS) ws_output(&c->ws, &wl);
    if (c->tls) tls_net_out(c->tls, &tl);
    return wl > 0 || tl > 0 || c->out_len > c->out_off || c->file_left > 0;
}

static void process_ws(struct conn *c)
{
    for (;;) {
        size_t give = c->in_len, room = ws_send_room(&c->ws);
        if (give > room) give = room;
        struct ws_event ev;
        size_t used;
        int t = ws_feed(&c->ws, c->in, give, &used, &ev);
        if (t == WS_EV_DATA) {
            int op = c->echo_open ? WS_OP_CONT : ev.opcode;
            if (ws_send(&c->ws, op, ev.data, ev.len, ev.fin) == 0) c->echo_open = !ev.fin;
            else c->close_after = 1;     /* cannot happen: give <= room */
        }
        if (t == WS_EV_ERROR)
            fprintf(stderr, "web-devserver: conn %d: websocket error: %s\n", c->id, ws_reason_name(ws_reason(&c->ws)));
        consume(c, used);
        if (t == WS_EV_NONE) return;
    }
}

static void process(struct conn *c, uint64_t now)
{
    while (c->mode == M_HTTP && !c->close_after) {
        struct http_event ev;
        size_t used;
        int t = http_feed(&c->http, c->in, c->in_len, &used, now, &ev);
        if (t == HTTP_EV_BODY && c->upload) {
            c->body_bytes += ev.len;
            for (size_t i = 0; i < ev.len; i++) { c->fnv ^= ev.data[i]; c->fnv *= 0x100000001b3ull; }
        }
        if (t == HTTP_EV_BODY && c->api) {
            if (ev.len > PASSKEY_BODY_MAX - c->body_len) c->body_over = 1;
            else { memcpy(c->body + c->body_len, ev.data, ev.len); c->body_len += ev.len; }
        }
        consume(c, used);
        if (t == HTTP_EV_NONE) return;
        if (t == HTTP_EV_ERROR) {
            fprintf(stderr, "web-devserver: conn %d: rejected: %s\n", c->id, http_reason_name(http_reason(&c->http)));
            struct http_wr w = out_wr(c);
            http_wr_error(&w, &c->http);
            out_commit(c, &w);
            c->close_after = 1;
            return;
        }
        if (t == HTTP_EV_HEAD) on_head(c);
        if (t == HTTP_EV_END) {
            on_end(c);
            http_next(&c->http, now);
            return;     /* the next request waits until this response is written */
        }
    }
    if (c->mode == M_WS) process_ws(c);
}

static void accept_one(int lfd)
{
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    /* records go out as soon as they are made: without this a handshake
     * flight written in pieces waits for the peer's delayed ACK */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int slot = -1;
    for (int i = 0; i < MAX_CONNS; i++) if (!conns[i]) { slot = i; break; }
    struct conn *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
    if (!c) { close(fd); return; }
    c->fd = fd;
    c->id = next_id++;
    c->progress = now_ms();
    c->file_fd = -1;
    if (!inet_ntop(AF_INET, &peer.sin_addr, c->src, sizeof c->src)) strcpy(c->src, "?");
    if (tls_on) {
        uint8_t seed[TLS_ENTROPY_LEN];
        struct tls_config tc = { tls_cert, tls_cert_len, tls_key, sizeof tls_key, seed };
        c->tls = malloc(sizeof *c->tls);
        if (!c->tls || getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed || tls_server_init(c->tls, &tc)) {
            free(c->tls);
            free(c);
            close(fd);
            return;
        }
    }
    http_init(&c->http, &hcfg, now_ms());
    conns[slot] = c;
}

/* write what is pending; 0 when the connection must go */
static int flush(struct conn *c)
{
    for (;;) {
        const uint8_t *p;
        size_t n;
        int from_ws = c->mode == M_WS && c->out_off == c->out_len;   /* the 101 goes first */
        if (from_ws) {
            p = ws_output(&c->ws, &n);
        } else {
            if (c->out_off == c->out_len && c->file_left) {
                c->out_off = c->out_len = 0;
                size_t want = c->file_left < OUT_CAP ? (size_t)c->file_left : OUT_CAP;
                ssize_t r = read(c->file_fd, c->out, want);
                if (r <= 0) return 0;
                c->out_len = (size_t)r;
                c->file_left -= (uint64_t)r;
                if (!c->file_left) { close(c->file_fd); c->file_fd = -1; }
            }
            p = c->out + c->out_off;
            n = c->out_len - c->out_off;
        }
        if (c->tls) {
            size_t k = n ? tls_app_out(c->tls, p, n) : 0;
            if (from_ws) ws_output_done(&c->ws, k);
            else c->out_off += k;
            size_t m;
            const uint8_t *q = tls_net_out(c->tls, &m);
            if (m) {
                ssize_t w = send(c->fd, q, m, MSG_NOSIGNAL);
                if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
                tls_net_out_done(c->tls, (size_t)w);
                c->progress = now_ms();
                continue;
            }
            if (k == 0) return tls_state(c->tls) != TLS_FAILED;
            continue;
        }
        if (n == 0) return 1;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
        c->progress = now_ms();
        if (from_ws) ws_output_done(&c->ws, (size_t)w);
        else c->out_off += (size_t)w;
    }
}

/* decrypted bytes into the connection's input */
static void pull_app(struct conn *c)
{
    while (c->tls && c->in_len < IN_CAP) {
        size_t n;
        const uint8_t *p = tls_app_in(c->tls, &n);
        if (!n) return;
        if (n > IN_CAP - c->in_len) n = IN_CAP - c->in_len;
        memcpy(c->in + c->in_len, p, n);
        c->in_len += n;
        tls_app_in_done(c->tls, n);
    }
}

static int want_read(struct conn *c)
{
    if (c->close_after || pending_out(c)) return 0;
    if (!c->tls) return c->in_len < IN_CAP;
    size_t room;
    tls_net_in_buf(c->tls, &room);
    return room > 0;
}

static int load_file(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    *len = fread(buf, 1, cap, f);
    int ok = *len > 0 && *len < cap && !ferror(f);
    fclose(f);
    return ok ? 0 : -1;
}

static void skey_push(void *ctx, const void *d, size_t n) { br_skey_decoder_push(ctx, d, n); }

int main(int argc, char **argv)
{
    const char *root = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "web-devserver: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "--root")) root = v;
        else if (!strcmp(a, "--bind")) opt_bind = v;
        else if (!strcmp(a, "--port")) opt_port = atoi(v);
        else if (!strcmp(a, "--port-file")) opt_portfile = v;
        else if (!strcmp(a, "--header-timeout-ms")) hcfg.header_timeout_ms = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--max-body")) hcfg.max_body = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--stall-timeout-ms")) opt_stall_ms = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--rp-id")) opt_rp_id = v;
        else if (!strcmp(a, "--webauthn-host") && n_wa_hosts < EXTRA_HOSTS_MAX) wa_hosts[n_wa_hosts++] = v;
        else if (!strcmp(a, "--extra-host") && n_extra_hosts < EXTRA_HOSTS_MAX) extra_hosts[n_extra_hosts++] = v;
        else if (!strcmp(a, "--passkey-source-burst")) pcfg.source_burst = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--passkey-cred-burst")) pcfg.cred_burst = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--tls-cert")) {
            if (load_file(v, tls_cert, sizeof tls_cert, &tls_cert_len)) { perror(v); return 1; }
            tls_on = 1;
        } else if (!strcmp(a, "--tls-key")) {
            static uint8_t der[4096];
            size_t n;
            br_skey_decoder_context dc;
            if (load_file(v, der, sizeof der, &n)) { perror(v); return 1; }
            br_skey_decoder_init(&dc);
            skey_push(&dc, der, n);
            const br_ec_private_key *k = br_skey_decoder_get_ec(&dc);
            if (!k || k->curve != BR_EC_secp256r1 || k->xlen != 32) {
                fprintf(stderr, "web-devserver: %s: not a P-256 private key (DER)\n", v);
                return 1;
            }
            memcpy(tls_key, k->x, 32);
        }
        else { fprintf(stderr, "web-devserver: unknown option %s\n", a); return 2; }
        i++;
    }
    if (!root) { fprintf(stderr, "usage: web-devserver --root DIR [--port N] [--port-file F]\n"); return 2; }
    root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) { perror(root); return 1; }
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port) };
    if (inet_pton(AF_INET, opt_bind, &sa.sin_addr) != 1) { fprintf(stderr, "web-devserver: bad --bind\n"); return 2; }
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 64)) { perror("bind"); return 1; }
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    int port = ntohs(sa.sin_port);
    snprintf(host_a, sizeof host_a, "127.0.0.1:%d", port);
    snprintf(host_b, sizeof host_b, "localhost:%d", port);
    const char *scheme = tls_on ? "https" : "http";
    snprintf(origin_a, sizeof origin_a, "%s://127.0.0.1:%d", scheme, port);
    snprintf(origin_b, sizeof origin_b, "%s://localhost:%d", scheme, port);
    hosts[0] = host_a; hosts[1] = host_b;
    int nh = 2;
    /* WebAuthn origins: https://localhost:PORT always, then each --webauthn-host */
    snprintf(wa_origin[0], sizeof wa_origin[0], "%s://localhost:%d", scheme, port);
    wa_origins[0] = wa_origin[0];
    for (int i = 0; i < n_wa_hosts; i++) {
        snprintf(wa_origin[i + 1], sizeof wa_origin[0], "%s://%s:%d", scheme, wa_hosts[i], port);
        wa_origins[i + 1] = wa_origin[i + 1];
        snprintf(host_x[nh - 2], sizeof host_x[0], "%s:%d", wa_hosts[i], port);
        hosts[nh] = host_x[nh - 2];
        nh++;
    }
    for (int i = 0; i < n_extra_hosts; i++) {
        snprintf(host_x[nh - 2], sizeof host_x[0], "%s:%d", extra_hosts[i], port);
        hosts[nh] = host_x[nh - 2];
        nh++;
    }
    hosts[nh] = NULL;
    wa_origins[n_wa_hosts + 1] = NULL;
    pcfg.rp_id = opt_rp_id;
    pcfg.origins = wa_origins;
    passkey_init(&pcfg);
    origins[0] = origin_a; origins[1] = origin_b; origins[2] = NULL;
    hcfg.hosts = hosts;
    wcfg.origins = origins;
    if (opt_portfile) {
        FILE *f = fopen(opt_portfile, "w");
        if (!f) { perror(opt_portfile); return 1; }
        fprintf(f, "%d\n", port);
        fclose(f);
    }
    fprintf(stderr, "web-devserver: listening on %s:%d\n", opt_bind, port);

    for (;;) {
        struct pollfd pf[MAX_CONNS + 1];
        int idx[MAX_CONNS + 1], n = 0;
        pf[n].fd = lfd; pf[n].events = POLLIN; idx[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = conns[i];
            if (!c) continue;
            short ev = 0;
            if (pending_out(c)) ev |= POLLOUT;
            else if (want_read(c)) ev |= POLLIN;
            pf[n].fd = c->fd; pf[n].events = ev; idx[n++] = i;
        }
        poll(pf, (nfds_t)n, 100);
        uint64_t now = now_ms();
        if (pf[0].revents & POLLIN) accept_one(lfd);
        for (int k = 1; k < n; k++) {
            int i = idx[k];
            struct conn *c = conns[i];
            if (!c) continue;
            if (pf[k].revents & (POLLERR | POLLNVAL)) { drop(i); continue; }
            if (pf[k].revents & (POLLIN | POLLHUP) && want_read(c)) {
                size_t room = IN_CAP - c->in_len;
                uint8_t *dst = c->tls ? tls_net_in_buf(c->tls, &room) : c->in + c->in_len;
                ssize_t r = recv(c->fd, dst, room, 0);
                if (r == 0 || (r < 0 && errno != EAGAIN)) { drop(i); continue; }
                if (r > 0) c->progress = now;
                if (r > 0 && c->tls) tls_net_in_done(c->tls, (size_t)r);
                else if (r > 0) c->in_len += (size_t)r;
            }
            pull_app(c);
            if (!pending_out(c)) process(c, now);
            if (!flush(c)) { drop(i); continue; }
            pull_app(c);
            if (!pending_out(c) && c->in_len && !c->close_after) process(c, now);   /* pipelined input */
            if (c->mode == M_HTTP && !c->close_after && !pending_out(c) && http_tick(&c->http, now) == HTTP_EV_ERROR) {
                fprintf(stderr, "web-devserver: conn %d: rejected: %s\n", c->id, http_reason_name(http_reason(&c->http)));
                struct http_wr w = out_wr(c);
                http_wr_error(&w, &c->http);
                out_commit(c, &w);
                c->close_after = 1;
            }
            if (!flush(c)) { drop(i); continue; }
            if (pending_out(c) && now > c->progress + opt_stall_ms) {
                fprintf(stderr, "web-devserver: conn %d: output stalled, closed\n", c->id);
                drop(i);
                continue;
            }
            if (c->tls && tls_state(c->tls) >= TLS_CLOSED && !pending_out(c)) { drop(i); continue; }
            if (!pending_out(c) && (c->close_after || (c->mode == M_WS && ws_finished(&c->ws)))) drop(i);
        }
    }
}
