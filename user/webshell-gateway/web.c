/*
 * webshell-gateway: the HTTP side (README.md, "Requests").  One request at a
 * time per connection: the next is not parsed until the response is out.
 *
 * Every request: Host must be localhost or 127.0.0.1 (any port: the host's
 * forwarded port is not the guest's).  Every state-changing request (POST,
 * the WebSocket upgrade) must carry Origin equal to https://<its Host>, so
 * another site's page cannot drive it; the session cookie is Secure,
 * HttpOnly and SameSite=Strict on top.  Every response carries a
 * Content-Security-Policy that lets the page run only the gateway's own
 * scripts and connect only to the gateway.
 */
#include <sodium.h>

#include "gateway.h"

/* the page, embedded at build time (assets.S) */
extern const uint8_t webshell_index_html[], webshell_index_html_end[];
extern const uint8_t webshell_app_js[], webshell_app_js_end[];
extern const uint8_t webshell_app_css[], webshell_app_css_end[];
extern const uint8_t webshell_xterm_js[], webshell_xterm_js_end[];
extern const uint8_t webshell_xterm_css[], webshell_xterm_css_end[];
extern const uint8_t webshell_fit_js[], webshell_fit_js_end[];

static const struct asset {
    const char *path, *ctype;
    const uint8_t *start, *end;
} assets[] = {
    { "/", "text/html; charset=utf-8", webshell_index_html, webshell_index_html_end },
    { "/app.js", "text/javascript; charset=utf-8", webshell_app_js, webshell_app_js_end },
    { "/app.css", "text/css; charset=utf-8", webshell_app_css, webshell_app_css_end },
    { "/xterm.js", "text/javascript; charset=utf-8", webshell_xterm_js, webshell_xterm_js_end },
    { "/xterm.css", "text/css; charset=utf-8", webshell_xterm_css, webshell_xterm_css_end },
    { "/addon-fit.js", "text/javascript; charset=utf-8", webshell_fit_js, webshell_fit_js_end },
};
#define NASSETS (sizeof assets / sizeof assets[0])

/* xterm.js's DOM renderer themes itself through a <style> element: styles
 * may be inline, scripts never. */
#define CSP "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " \
            "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
#define COOKIE "capos_webshell"

enum route {
    R_NONE = 0, R_ASSET_0 = 1,                 /* R_ASSET_0 + index into assets[] */
    R_LOGIN = 100, R_LOGOUT, R_WS, R_PK_LOGIN_OPT, R_PK_LOGIN, R_PK_REG_OPT, R_PK_REG,
    R_BAD_HOST, R_BAD_PATH, R_NOT_FOUND, R_METHOD
};

static bool is_digits(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    for (size_t j = 0; j < n; j++)
        if (p[j] < '0' || p[j] > '9')
            return false;
    return true;
}

/* Host: localhost or 127.0.0.1, with an optional port; kept for Origin. */
static bool host_ok(struct conn *k)
{
    size_t n = 0;
    const uint8_t *v = http_header(&k->w->http, "Host", &n);
    k->host[0] = 0;
    if (!v || n >= sizeof k->host)
        return false;
    static const char *const names[] = { "localhost", "127.0.0.1" };
    for (size_t j = 0; j < 2; j++) {
        size_t l = strlen(names[j]);
        if (n >= l && !memcmp(v, names[j], l) && (n == l || (v[l] == ':' && is_digits(v + l + 1, n - l - 1)))) {
            memcpy(k->host, v, n);
            k->host[n] = 0;
            return true;
        }
    }
    return false;
}

/* Origin, once, exactly https://<Host>. */
bool origin_ok(struct conn *k)
{
    size_t n = 0;
    const uint8_t *v = http_header(&k->w->http, "Origin", &n);
    size_t hl = strlen(k->host);
    return v && http_header_count(&k->w->http, "Origin") == 1 && n == 8 + hl && !memcmp(v, "https://", 8) &&
           !memcmp(v + 8, k->host, hl);
}

/* The session the request's cookie names (capos_webshell=<64 hex>), or -1. */
int cookie_sess(struct conn *k)
{
    size_t n = 0;
    const uint8_t *v = http_header(&k->w->http, "Cookie", &n);
    if (!v)
        return -1;
    size_t cl = strlen(COOKIE);
    for (size_t j = 0; j + cl + 1 + 2 * TOKEN_LEN <= n; j++) {
        if ((j == 0 || v[j - 1] == ' ' || v[j - 1] == ';') && !memcmp(v + j, COOKIE, cl) && v[j + cl] == '=') {
            size_t e = j + cl + 1 + 2 * TOKEN_LEN;
            if (e != n && v[e] != ';')
                return -1;
            return sess_by_cookie(v + j + cl + 1, 2 * TOKEN_LEN);
        }
    }
    return -1;
}

/* A response head (and a small body) into hb; body_ext: a static body. */
void reply(struct conn *k, int status, const char *ctype, const void *body, uint32_t len,
                  const uint8_t *body_ext, uint32_t ext_len, const char *extra_name, const char *extra_value)
{
    struct http_wr w;
    http_wr_init(&w, k->hb, sizeof k->hb);
    http_wr_status(&w, status);
    if (ctype)
        http_wr_header(&w, "Content-Type", ctype);
    http_wr_header_u64(&w, "Content-Length", body_ext ? ext_len : len);
    http_wr_header(&w, "Content-Security-Policy", CSP);
    http_wr_header(&w, "X-Content-Type-Options", "nosniff");
    http_wr_header(&w, "Referrer-Policy", "no-referrer");
    http_wr_header(&w, "X-Frame-Options", "DENY");
    http_wr_header(&w, "Cross-Origin-Opener-Policy", "same-origin");
    http_wr_header(&w, "Cache-Control", "no-store");
    if (extra_name)
        http_wr_header(&w, extra_name, extra_value);
    if (!k->keep)
        http_wr_header(&w, "Connection", "close");
    http_wr_end_head(&w);
    if (!body_ext && len)
        http_wr_raw(&w, body, len);
    if (http_wr_failed(&w)) {                 /* never: the heads are bounded */
        k->keep = false;
        http_wr_init(&w, k->hb, sizeof k->hb);
        http_wr_str(&w, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    k->hb_len = (uint32_t)w.len;
    k->hb_off = 0;
    k->body = body_ext;
    k->body_len = ext_len;
    k->body_off = 0;
    k->responding = true;
}

/* {"error":"<reason>"} with its status; the connection closes after it. */
void refuse(struct conn *k, int status, const char *reason)
{
    char b[96];
    int n = fmt_snprintf(b, sizeof b, "{\"error\":\"%s\"}", reason);
    k->keep = false;
    reply(k, status, "application/json", b, (uint32_t)n, 0, 0, 0, 0);
    printf("webshell-gateway: conn %u: refused %s\n", k->id, reason);
}

/* One field of an application/x-www-form-urlencoded body, decoded. */
bool form_field(const uint8_t *b, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (size_t j = 0; j < n;) {
        size_t e = j;
        while (e < n && b[e] != '&')
            e++;
        if (e - j > nl && !memcmp(b + j, name, nl) && b[j + nl] == '=') {
            size_t o = 0;
            for (size_t p = j + nl + 1; p < e; p++) {
                uint8_t c = b[p];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    if (p + 2 >= e)
                        return false;
                    int v = 0;
                    for (int q = 1; q <= 2; q++) {
                        uint8_t h = b[p + q];
                        v = v * 16 + (h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
                                      h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1000);
                    }
                    if (v < 1)
                        return false;             /* a bad escape, or NUL */
                    c = (uint8_t)v;
                    p += 2;
                }
                if (o + 1 >= cap)
                    return false;
                out[o++] = (char)c;
            }
            out[o] = 0;
            return true;
        }
        j = e + 1;
    }
    return false;
}

static void do_login(struct conn *k)
{
    size_t n = 0;
    const uint8_t *ct = http_header(&k->w->http, "Content-Type", &n);
    static const char form[] = "application/x-www-form-urlencoded";
    if (!origin_ok(k)) {
        audit_rec("web-denied", "origin");
        refuse(k, 403, "origin");
        return;
    }
    if (!ct || n < sizeof form - 1 || memcmp(ct, form, sizeof form - 1) || k->rq_over) {
        refuse(k, 400, "login.body");
        return;
    }
    char user[33], pw[129];
    bool ok = form_field(k->rq, k->rq_len, "user", user, sizeof user) &&
              form_field(k->rq, k->rq_len, "password", pw, sizeof pw) && user[0];
    sodium_memzero(k->rq, sizeof k->rq);
    if (!ok) {
        sodium_memzero(pw, sizeof pw);
        refuse(k, 400, "login.body");
        return;
    }
    int res = -1;
    uint64_t retry = 0;
    int s = sess_login(user, strlen(user), (const uint8_t *)pw, strlen(pw), &res, &retry);
    sodium_memzero(pw, sizeof pw);
    if (s < 0) {
        const char *why = res == capos_LoginResult_denied ? "login.denied" :
                          res == capos_LoginResult_backoff ? "login.backoff" :
                          res == capos_LoginResult_tooManySessions ? "login.too-many-sessions" :
                          res == -2 ? "login.gateway-full" : "login.unavailable";
        int status = res == capos_LoginResult_denied ? 401 : res == capos_LoginResult_backoff ? 429 :
                     res == -1 ? 502 : 503;
        char b[128];
        int bl = fmt_snprintf(b, sizeof b, "{\"error\":\"%s\",\"retryAfterMs\":%lu}", why, (unsigned long)retry);
        k->keep = false;
        reply(k, status, "application/json", b, (uint32_t)bl, 0, 0, 0, 0);
        printf("webshell-gateway: conn %u: login refused %s\n", k->id, why);
        return;
    }
    set_cookie_reply(k, (uint32_t)s);
}

void set_cookie_reply(struct conn *k, uint32_t s)
{
    char cookie[200], hex[2 * TOKEN_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, sess[s].token, TOKEN_LEN);
    fmt_snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", hex);
    sodium_memzero(hex, sizeof hex);
    char b[128];
    int bl = fmt_snprintf(b, sizeof b, "{\"session\":\"%08x\",\"principal\":\"%s\"}", sess[s].id, sess[s].user);
    reply(k, 200, "application/json", b, (uint32_t)bl, 0, 0, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof cookie);
    printf("webshell-gateway: conn %u: login %s (session %08x)\n", k->id, sess[s].user, sess[s].id);
}

static void do_logout(struct conn *k)
{
    if (!origin_ok(k)) {
        audit_rec("web-denied", "origin");
        refuse(k, 403, "origin");
        return;
    }
    int s = cookie_sess(k);
    if (s >= 0)
        sess_end((uint32_t)s, "logout");
    static const char ok[] = "{\"loggedOut\":true}";
    reply(k, 200, "application/json", ok, sizeof ok - 1, 0, 0, "Set-Cookie",
          COOKIE "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

static void do_upgrade(struct conn *k, uint32_t ci)
{
    int s = cookie_sess(k);
    if (s < 0 || sess[s].state != S_LOGGED_IN) {
        audit_rec("web-denied", "ws.no-session");
        refuse(k, 401, "ws.no-session");
        return;
    }
    char origin[80];
    fmt_snprintf(origin, sizeof origin, "https://%s", k->host);
    const char *const origins[] = { origin, 0 };
    struct ws_config wc = { .origins = origins, .max_message = MSGMAX, .sendq = WS_SENDQ_MAX };
    struct http_wr w;
    http_wr_init(&w, k->hb, sizeof k->hb);
    int reason = ws_handshake(&k->w->http, &wc, &w);
    if (reason != WS_OK) {
        audit_rec("web-denied", ws_reason_name(reason));
        printf("webshell-gateway: conn %u: refused %s\n", k->id, ws_reason_name(reason));
        k->keep = false;
    } else {
        wc.origins = 0;                         /* checked: the frames do not need it */
        ws_init(&k->w->ws, &wc);
        k->proto = P_WS;
        k->keep = true;
    }
    k->hb_len = (uint32_t)w.len;
    k->hb_off = 0;
    k->body = 0;
    k->responding = true;
    if (reason == WS_OK && !sess_attach((uint32_t)s, k, ci))
        ws_close(&k->w->ws, WS_CLOSE_INTERNAL, "shell.failed");
}

static void on_head(struct conn *k)
{
    struct http_conn *h = &k->w->http;
    k->rq_len = 0;
    k->rq_over = false;
    k->keep = http_keep_alive(h) == HTTP_PERSIST;
    if (!host_ok(k)) {
        k->route = R_BAD_HOST;
        return;
    }
    char path[64];
    if (http_target_path(h, path, sizeof path)) {
        k->route = R_BAD_PATH;          /* %00, .., //, a bad escape, or longer than any route */
        return;
    }
    bool get = http_method_is(h, "GET"), post = http_method_is(h, "POST");
    k->route = R_NOT_FOUND;
    for (uint32_t j = 0; j < NASSETS; j++)
        if (!strcmp(path, assets[j].path))
            k->route = get ? R_ASSET_0 + (int)j : R_METHOD;
    if (!strcmp(path, "/login"))
        k->route = post ? R_LOGIN : R_METHOD;
    else if (!strcmp(path, "/logout"))
        k->route = post ? R_LOGOUT : R_METHOD;
    else if (!strcmp(path, "/ws"))
        k->route = get ? R_WS : R_METHOD;
    static const struct { const char *path; int route; } posts[] = {
        { "/passkey/login-options", R_PK_LOGIN_OPT }, { "/passkey/login", R_PK_LOGIN },
        { "/passkey/register-options", R_PK_REG_OPT }, { "/passkey/register", R_PK_REG } };
    for (uint32_t j = 0; j < sizeof posts / sizeof posts[0]; j++)
        if (!strcmp(path, posts[j].path))
            k->route = post ? posts[j].route : R_METHOD;
}

static void on_end(struct conn *k, uint32_t ci)
{
    switch (k->route) {
    case R_BAD_HOST:
        refuse(k, 421, "host.unknown");
        break;
    case R_BAD_PATH:
        refuse(k, 400, "target.path");
        break;
    case R_METHOD:
        refuse(k, 405, "method");
        break;
    case R_LOGIN:
        do_login(k);
        break;
    case R_LOGOUT:
        do_logout(k);
        break;
    case R_WS:
        do_upgrade(k, ci);
        break;
    case R_PK_LOGIN_OPT:
    case R_PK_LOGIN:
    case R_PK_REG_OPT:
    case R_PK_REG:
        if (!origin_ok(k)) {
            audit_rec("web-denied", "origin");
            refuse(k, 403, "origin");
        } else if (k->rq_over) {
            refuse(k, 413, "passkey.body");
        } else if (k->route == R_PK_LOGIN_OPT) {
            pk_login_options(k);
        } else if (k->route == R_PK_LOGIN) {
            pk_login(k);
        } else if (k->route == R_PK_REG_OPT) {
            pk_register_options(k);
        } else {
            pk_register(k);
        }
        break;
    default:
        if (k->route >= R_ASSET_0 && k->route < R_ASSET_0 + (int)NASSETS) {
            const struct asset *a = &assets[k->route - R_ASSET_0];
            reply(k, 200, a->ctype, 0, 0, a->start, (uint32_t)(a->end - a->start), 0, 0);
        } else {
            refuse(k, 404, "not-found");
        }
        break;
    }
}

void web_request(struct conn *k, uint32_t ci)
{
    struct tls_conn *t = &k->w->tls;
    struct http_conn *h = &k->w->http;
    while (!k->responding && k->proto == P_HTTP && !k->closing) {
        size_t avail = 0, used = 0;
        const uint8_t *in = tls_app_in(t, &avail);
        struct http_event ev;
        int type = http_feed(h, in, in ? avail : 0, &used, now_ms(), &ev);
        if (used)
            tls_app_in_done(t, used);
        switch (type) {
        case HTTP_EV_HEAD:
            on_head(k);
            break;
        case HTTP_EV_BODY:
            if (ev.len > sizeof k->rq - k->rq_len)
                k->rq_over = true;
            else
                memcpy(k->rq + k->rq_len, ev.data, ev.len), k->rq_len += (uint32_t)ev.len;
            break;
        case HTTP_EV_END:
            on_end(k, ci);
            break;
        case HTTP_EV_ERROR: {
            k->keep = false;
            struct http_wr w;
            http_wr_init(&w, k->hb, sizeof k->hb);
            http_wr_error(&w, h);
            k->hb_len = (uint32_t)w.len;
            k->hb_off = 0;
            k->body = 0;
            k->responding = true;
            printf("webshell-gateway: conn %u: refused %s\n", k->id, http_reason_name(http_reason(h)));
            return;
        }
        default:
            return;
        }
    }
}
