/* HTTP/1.1 server side (RFC 9112, RFC 9110), sans-IO.  See http.h. */
#include "http.h"
#include <string.h>

enum { P_HEAD, P_BODY, P_CHUNK, P_ENDP, P_DONE, P_ERROR };
enum { CS_SIZE, CS_EXT, CS_SIZE_LF, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_TRAILER, CS_TRAILER_LF };

static const struct { const char *name; int status; } reasons[HTTP_R_COUNT] = {
    [HTTP_OK]                     = { "ok", 200 },
    [HTTP_R_TIMEOUT_HEADER]       = { "timeout.header", 408 },
    [HTTP_R_LINE_TOO_LONG]        = { "line.too-long", 414 },
    [HTTP_R_HEADER_LINE_TOO_LONG] = { "header.line-too-long", 431 },
    [HTTP_R_HEAD_TOO_LARGE]       = { "header.too-large", 431 },
    [HTTP_R_TOO_MANY_HEADERS]     = { "header.too-many", 431 },
    [HTTP_R_BARE_CR]              = { "line.bare-cr", 400 },
    [HTTP_R_BARE_LF]              = { "line.bare-lf", 400 },
    [HTTP_R_REQUEST_LINE]         = { "request-line.malformed", 400 },
    [HTTP_R_METHOD]               = { "request-line.method", 400 },
    [HTTP_R_TARGET]               = { "request-line.target", 400 },
    [HTTP_R_VERSION]              = { "request-line.version", 505 },
    [HTTP_R_OBS_FOLD]             = { "header.obs-fold", 400 },
    [HTTP_R_HEADER_NAME]          = { "header.name", 400 },
    [HTTP_R_HEADER_VALUE]         = { "header.value", 400 },
    [HTTP_R_HOST_MISSING]         = { "host.missing", 400 },
    [HTTP_R_HOST_DUPLICATE]       = { "host.duplicate", 400 },
    [HTTP_R_HOST_UNKNOWN]         = { "host.unknown", 421 },
    [HTTP_R_CL_MALFORMED]         = { "smuggle.cl-malformed", 400 },
    [HTTP_R_CL_DUPLICATE]         = { "smuggle.cl-duplicate", 400 },
    [HTTP_R_CL_AND_TE]            = { "smuggle.cl-and-te", 400 },
    [HTTP_R_TE_DUPLICATE]         = { "smuggle.te-duplicate", 400 },
    [HTTP_R_TE_UNSUPPORTED]       = { "smuggle.te-unsupported", 501 },
    [HTTP_R_TE_HTTP10]            = { "smuggle.te-http10", 400 },
    [HTTP_R_BODY_TOO_LARGE]       = { "body.too-large", 413 },
    [HTTP_R_CHUNK_SIZE]           = { "chunk.size", 400 },
    [HTTP_R_CHUNK_CRLF]           = { "chunk.crlf", 400 },
    [HTTP_R_TRAILER]              = { "chunk.trailer", 400 },
    [HTTP_R_EXPECT]               = { "expect.unsupported", 417 },
    [HTTP_R_PATH]                 = { "target.path", 400 },
};

const char *http_reason_name(int r)
{
    return (r >= 0 && r < HTTP_R_COUNT) ? reasons[r].name : "unknown";
}

int http_reason(const struct http_conn *c) { return c->reason; }
int http_status(const struct http_conn *c) { return reasons[c->reason].status; }

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

static int is_tchar(uint8_t b)
{
    if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')) return 1;
    return b && strchr("!#$%&'*+-.^_`|~", b) != NULL;
}

static uint8_t lower(uint8_t b) { return (b >= 'A' && b <= 'Z') ? (uint8_t)(b + 32) : b; }

static int ieq(const uint8_t *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (l != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lower((uint8_t)lit[i])) return 0;
    return 1;
}

void http_init(struct http_conn *c, const struct http_config *cfg, uint64_t now_ms)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.max_line) c->cfg.max_line = HTTP_DEF_MAX_LINE;
    if (!c->cfg.max_head || c->cfg.max_head > HTTP_HEAD_MAX) c->cfg.max_head = HTTP_HEAD_MAX;
    if (!c->cfg.max_headers || c->cfg.max_headers > HTTP_HEADERS_MAX) c->cfg.max_headers = HTTP_HEADERS_MAX;
    if (!c->cfg.max_body) c->cfg.max_body = HTTP_DEF_MAX_BODY;
    if (!c->cfg.header_timeout_ms) c->cfg.header_timeout_ms = HTTP_DEF_HEADER_TIMEOUT;
    http_next(c, now_ms);
}

void http_next(struct http_conn *c, uint64_t now_ms)
{
    struct http_config cfg = c->cfg;
    memset(c, 0, offsetof(struct http_conn, head));
    c->cfg = cfg;
    c->phase = P_HEAD;
    c->deadline = now_ms + cfg.header_timeout_ms;
}

static int fail(struct http_conn *c, struct http_event *ev, int reason)
{
    c->phase = P_ERROR;
    c->reason = reason;
    c->keep_alive = 0;
    ev->type = HTTP_EV_ERROR;
    return HTTP_EV_ERROR;
}

/* ---- the head, once its blank line has arrived ---- */

static int parse_request_line(struct http_conn *c, size_t end)
{
    const uint8_t *h = c->head;
    size_t i = 0;
    while (i < end && h[i] != ' ') {
        if (!is_tchar(h[i])) return HTTP_R_METHOD;
        i++;
    }
    if (i == 0 || i == end) return i == 0 ? HTTP_R_METHOD : HTTP_R_REQUEST_LINE;
    c->method = 0; c->method_len = (uint16_t)i;
    size_t t = ++i;
    while (i < end && h[i] != ' ') {
        if (h[i] < 0x21 || h[i] > 0x7e) return HTTP_R_TARGET;
        i++;
    }
    if (i == t || i == end) return HTTP_R_REQUEST_LINE;
    c->target = (uint16_t)t; c->target_len = (uint16_t)(i - t);
    i++;
    const uint8_t *v = h + i;
    size_t vl = end - i;
    if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
        v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return HTTP_R_REQUEST_LINE;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return HTTP_R_VERSION;
    c->version_minor = v[7] - '0';
    if (h[t] == '/') return HTTP_OK;
    if (c->target_len == 1 && h[t] == '*' && ieq(h, c->method_len, "OPTIONS")) return HTTP_OK;
    return HTTP_R_TARGET;
}

static int parse_field(struct http_conn *c, size_t at, size_t end)
{
    const uint8_t *h = c->head;
    if (h[at] == ' ' || h[at] == '\t') return HTTP_R_OBS_FOLD;
    size_t i = at;
    while (i < end && h[i] != ':') {
        if (!is_tchar(h[i])) return HTTP_R_HEADER_NAME;
        i++;
    }
    if (i == at || i == end) return HTTP_R_HEADER_NAME;
    size_t vs = i + 1, ve = end;
    while (vs < ve && (h[vs] == ' ' || h[vs] == '\t')) vs++;
    while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t')) ve--;
    for (size_t j = vs; j < ve; j++)
        if ((h[j] < 0x20 && h[j] != '\t') || h[j] == 0x7f) return HTTP_R_HEADER_VALUE;
    if (c->nfields >= c->cfg.max_headers) return HTTP_R_TOO_MANY_HEADERS;
    struct http_field *f = &c->f[c->nfields++];
    f->name = (uint16_t)at; f->name_len = (uint16_t)(i - at);
    f->value = (uint16_t)vs; f->value_len = (uint16_t)(ve - vs);
    return HTTP_OK;
}

static int host_allowed(const struct http_conn *c, const uint8_t *v, size_t n)
{
    if (!c->cfg.hosts) return 1;
    for (const char *const *h = c->cfg.hosts; *h; h++)
        if (ieq(v, n, *h)) return 1;
    return 0;
}

static int parse_head(struct http_conn *c)
{
    const uint8_t *h = c->head;
    size_t i = 0, line = 0;
    while (i + 1 < c->head_len) {
        size_t e = i;
        while (h[e] != '\r') e++;          /* every line ends in CRLF (checked on input) */
        if (e == i) break;                  /* the blank line */
        int r = line == 0 ? parse_request_line(c, e) : parse_field(c, i, e);
        if (r) return r;
        line++;
        i = e + 2;
    }
    int nhost = 0, ncl = 0, nte = 0;
    uint64_t cl = 0;
    const uint8_t *te = NULL;
    size_t te_len = 0;
    for (unsigned k = 0; k < c->nfields; k++) {
        const struct http_field *f = &c->f[k];
        const uint8_t *n = h + f->name, *v = h + f->value;
        if (ieq(n, f->name_len, "host")) {
            if (++nhost > 1) return HTTP_R_HOST_DUPLICATE;
            if (!host_allowed(c, v, f->value_len)) return HTTP_R_HOST_UNKNOWN;
        } else if (ieq(n, f->name_len, "content-length")) {
            if (++ncl > 1) return HTTP_R_CL_DUPLICATE;
            if (f->value_len == 0 || f->value_len > 19) return HTTP_R_CL_MALFORMED;
            for (unsigned j = 0; j < f->value_len; j++) {
                if (v[j] < '0' || v[j] > '9') return HTTP_R_CL_MALFORMED;
                cl = cl * 10 + (uint64_t)(v[j] - '0');
            }
        } else if (ieq(n, f->name_len, "transfer-encoding")) {
            if (++nte > 1) return HTTP_R_TE_DUPLICATE;
            te = v; te_len = f->value_len;
        } else if (ieq(n, f->name_len, "expect")) {
            if (!ieq(v, f->value_len, "100-continue")) return HTTP_R_EXPECT;
            c->expect_continue = 1;
        }
    }
    if (ncl && nte) return HTTP_R_CL_AND_TE;
    if (nte && c->version_minor == 0) return HTTP_R_TE_HTTP10;
    if (nte && !ieq(te, te_len, "chunked")) return HTTP_R_TE_UNSUPPORTED;
    if (!nhost && (c->version_minor == 1 || c->cfg.hosts)) return HTTP_R_HOST_MISSING;
    if (cl > c->cfg.max_body) return HTTP_R_BODY_TOO_LARGE;
    if (c->version_minor == 1)
        c->keep_alive = http_header_has_token(c, "connection", "close") ? HTTP_CLOSE : HTTP_PERSIST;
    else
        c->keep_alive = http_header_has_token(c, "connection", "keep-alive") ? HTTP_PERSIST_10 : HTTP_CLOSE;
    if (nte) {
        c->chunked = 1;
        c->phase = P_CHUNK;
        c->cstate = CS_SIZE;
    } else if (cl) {
        c->body_left = cl;
        c->phase = P_BODY;
    } else {
        c->phase = P_ENDP;
        c->expect_continue = 0;
    }
    return HTTP_OK;
}

/* ---- input ---- */

/* One byte of the head; returns a reason, or -1 when the head is complete. */
static int head_byte(struct http_conn *c, uint8_t b)
{
    if (c->prev_cr && b != '\n') return HTTP_R_BARE_CR;
    if (b == '\n' && !c->prev_cr) return HTTP_R_BARE_LF;
    if (c->head_len == 0) {              /* empty lines before the request line are ignored */
        if (b == '\r') { c->prev_cr = 1; return HTTP_OK; }
        if (b == '\n') { c->prev_cr = 0; return HTTP_OK; }
    }
    if (c->head_len >= c->cfg.max_head) return HTTP_R_HEAD_TOO_LARGE;
    c->head[c->head_len++] = b;
    if (b == '\r') { c->prev_cr = 1; return HTTP_OK; }
    if (b == '\n') {
        c->prev_cr = 0;
        if (c->line_len == 0) return -1;
        c->line_len = 0;
        if (++c->line_no > 1u + c->cfg.max_headers) return HTTP_R_TOO_MANY_HEADERS;
        return HTTP_OK;
    }
    if (++c->line_len > c->cfg.max_line)
        return c->line_no == 0 ? HTTP_R_LINE_TOO_LONG : HTTP_R_HEADER_LINE_TOO_LONG;
    return HTTP_OK;
}

static int hexval(uint8_t b)
{
    if (b >= '0' && b <= '9') return b - '0';
    b = lower(b);
    if (b >= 'a' && b <= 'f') return b - 'a' + 10;
    return -1;
}

/* One byte of chunk framing (never chunk data); a reason, -1 at the end of the body. */
static int chunk_byte(struct http_conn *c, uint8_t b)
{
    switch (c->cstate) {
    case CS_SIZE: {
        int d = hexval(b);
        if (d >= 0) {
            if (++c->ndigits > 16) return HTTP_R_CHUNK_SIZE;
            c->body_left = c->body_left * 16 + (uint64_t)d;
            if (c->body_left > c->cfg.max_body - c->body_total) return HTTP_R_BODY_TOO_LARGE;
            return HTTP_OK;
        }
        if (!c->ndigits) return HTTP_R_CHUNK_SIZE;
        if (b == ';') { c->cstate = CS_EXT; c->cline = c->ndigits + 1; return HTTP_OK; }
        if (b == '\r') { c->cstate = CS_SIZE_LF; return HTTP_OK; }
        return HTTP_R_CHUNK_SIZE;
    }
    case CS_EXT:
        if (b == '\r') { c->cstate = CS_SIZE_LF; return HTTP_OK; }
        if ((b < 0x20 && b != '\t') || b == 0x7f || ++c->cline > c->cfg.max_line) return HTTP_R_CHUNK_SIZE;
        return HTTP_OK;
    case CS_SIZE_LF:
        if (b != '\n') return HTTP_R_BARE_CR;
        c->ndigits = 0;
        if (c->body_left == 0) { c->cstate = CS_TRAILER; c->cline = 0; return HTTP_OK; }
        c->cstate = CS_DATA;
        return HTTP_OK;
    case CS_DATA_CR:
        if (b != '\r') return HTTP_R_CHUNK_CRLF;
        c->cstate = CS_DATA_LF;
        return HTTP_OK;
    case CS_DATA_LF:
        if (b != '\n') return HTTP_R_CHUNK_CRLF;
        c->cstate = CS_SIZE;
        return HTTP_OK;
    case CS_TRAILER:
        if (++c->trailer_len > c->cfg.max_head) return HTTP_R_TRAILER;
        if (b == '\r') { c->cstate = CS_TRAILER_LF; return HTTP_OK; }
        if ((b < 0x20 && b != '\t') || b == 0x7f) return HTTP_R_TRAILER;
        if (c->cline == 0 && (b == ' ' || b == '\t')) return HTTP_R_TRAILER;
        if (++c->cline > c->cfg.max_line) return HTTP_R_TRAILER;
        return HTTP_OK;
    case CS_TRAILER_LF:
        if (b != '\n') return HTTP_R_TRAILER;
        if (c->cline == 0) return -1;
        c->cline = 0;
        c->cstate = CS_TRAILER;
        return HTTP_OK;
    }
    return HTTP_R_CHUNK_SIZE;
}

int http_tick(struct http_conn *c, uint64_t now_ms)
{
    struct http_event ev;
    if (c->phase == P_HEAD && now_ms >= c->deadline) return fail(c, &ev, HTTP_R_TIMEOUT_HEADER);
    return c->phase == P_ERROR ? HTTP_EV_ERROR : HTTP_EV_NONE;
}

int http_feed(struct http_conn *c, const uint8_t *in, size_t len, size_t *used,
              uint64_t now_ms, struct http_event *ev)
{
    size_t i = 0;
    ev->type = HTTP_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    *used = 0;
    switch (c->phase) {
    case P_ERROR:
        ev->type = HTTP_EV_ERROR;
        return HTTP_EV_ERROR;
    case P_DONE:
        return HTTP_EV_NONE;
    case P_ENDP:
        c->phase = P_DONE;
        ev->type = HTTP_EV_END;
        return HTTP_EV_END;
    case P_HEAD:
        if (now_ms >= c->deadline) return fail(c, ev, HTTP_R_TIMEOUT_HEADER);
        for (; i < len; i++) {
            int r = head_byte(c, in[i]);
            if (r > 0) { *used = i + 1; return fail(c, ev, r); }
            if (r < 0) {
                *used = i + 1;
                r = parse_head(c);
                if (r) return fail(c, ev, r);
                ev->type = HTTP_EV_HEAD;
                return HTTP_EV_HEAD;
            }
        }
        *used = len;
        return HTTP_EV_NONE;
    case P_BODY: {
        size_t n = len < c->body_left ? len : (size_t)c->body_left;
        c->body_left -= n;
        *used = n;
        if (c->body_left == 0) c->phase = P_ENDP;
        if (n == 0) return c->phase == P_ENDP ? http_feed(c, in, len, used, now_ms, ev) : HTTP_EV_NONE;
        ev->type = HTTP_EV_BODY;
        ev->data = in;
        ev->len = n;
        return HTTP_EV_BODY;
    }
    case P_CHUNK:
        for (; i < len; i++) {
            if (c->cstate == CS_DATA) {
                size_t n = len - i < c->body_left ? len - i : (size_t)c->body_left;
                c->body_left -= n;
                c->body_total += n;
                if (c->body_left == 0) c->cstate = CS_DATA_CR;
                *used = i + n;
                ev->type = HTTP_EV_BODY;
                ev->data = in + i;
                ev->len = n;
                return HTTP_EV_BODY;
            }
            int r = chunk_byte(c, in[i]);
            if (r > 0) { *used = i + 1; return fail(c, ev, r); }
            if (r < 0) {
                *used = i + 1;
                c->phase = P_DONE;
                ev->type = HTTP_EV_END;
                return HTTP_EV_END;
            }
        }
        *used = len;
        return HTTP_EV_NONE;
    }
    return HTTP_EV_NONE;
}

/* ---- the request, after HEAD ---- */

const uint8_t *http_method(const struct http_conn *c, size_t *len)
{
    *len = c->method_len;
    return c->head + c->method;
}

const uint8_t *http_target(const struct http_conn *c, size_t *len)
{
    *len = c->target_len;
    return c->head + c->target;
}

int http_version_minor(const struct http_conn *c) { return c->version_minor; }
int http_keep_alive(const struct http_conn *c) { return c->keep_alive; }
int http_expect_continue(const struct http_conn *c) { return c->expect_continue; }
int http_has_body(const struct http_conn *c) { return c->chunked || c->phase == P_BODY; }

int http_method_is(const struct http_conn *c, const char *m)
{
    size_t n = strlen(m);
    return c->method_len == n && memcmp(c->head + c->method, m, n) == 0;
}

const uint8_t *http_header(const struct http_conn *c, const char *name, size_t *len)
{
    for (unsigned k = 0; k < c->nfields; k++) {
        const struct http_field *f = &c->f[k];
        if (ieq(c->head + f->name, f->name_len, name)) {
            *len = f->value_len;
            return c->head + f->value;
        }
    }
    *len = 0;
    return NULL;
}

unsigned http_header_count(const struct http_conn *c, const char *name)
{
    unsigned n = 0;
    for (unsigned k = 0; k < c->nfields; k++)
        n += ieq(c->head + c->f[k].name, c->f[k].name_len, name);
    return n;
}

int http_header_has_token(const struct http_conn *c, const char *name, const char *tok)
{
    for (unsigned k = 0; k < c->nfields; k++) {
        const struct http_field *f = &c->f[k];
        if (!ieq(c->head + f->name, f->name_len, name)) continue;
        const uint8_t *v = c->head + f->value;
        size_t i = 0, n = f->value_len;
        while (i <= n) {
            size_t s = i;
            while (i < n && v[i] != ',') i++;
            size_t e = i;
            while (s < e && (v[s] == ' ' || v[s] == '\t')) s++;
            while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
            if (ieq(v + s, e - s, tok)) return 1;
            i++;
        }
    }
    return 0;
}

int http_target_path(const struct http_conn *c, char *out, size_t cap)
{
    const uint8_t *t = c->head + c->target;
    size_t n = c->target_len, o = 0;
    if (!n || t[0] != '/' || !cap) return HTTP_R_PATH;
    for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
        uint8_t b = t[i];
        if (b == '%') {
            int hi = i + 2 < n ? hexval(t[i + 1]) : -1, lo = i + 2 < n ? hexval(t[i + 2]) : -1;
            if (hi < 0 || lo < 0) return HTTP_R_PATH;
            b = (uint8_t)(hi * 16 + lo);
            i += 2;
            if (b < 0x20 || b == 0x7f) return HTTP_R_PATH;
        }
        if (b == '\\') return HTTP_R_PATH;
        if (o + 1 >= cap) return HTTP_R_PATH;
        out[o++] = (char)b;
    }
    out[o] = 0;
    /* segment checks: no empty (//), "." or ".." segment */
    for (size_t s = 1; s <= o; ) {
        size_t e = s;
        while (e < o && out[e] != '/') e++;
        size_t l = e - s;
        if (e < o && l == 0) return HTTP_R_PATH;
        if ((l == 1 && out[s] == '.') || (l == 2 && out[s] == '.' && out[s + 1] == '.')) return HTTP_R_PATH;
        s = e + 1;
    }
    return HTTP_OK;
}

/* ---- responses ---- */

void http_wr_init(struct http_wr *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
}

void http_wr_raw(struct http_wr *w, const void *d, size_t n)
{
    if (w->err || w->cap - w->len < n) { w->err = 1; return; }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}

void http_wr_str(struct http_wr *w, const char *s) { http_wr_raw(w, s, strlen(s)); }

void http_wr_u64(struct http_wr *w, uint64_t v)
{
    char b[20];
    size_t i = sizeof b;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    http_wr_raw(w, b + i, sizeof b - i);
}

void http_wr_status(struct http_wr *w, int status)
{
    http_wr_str(w, "HTTP/1.1 ");
    http_wr_u64(w, (uint64_t)status);
    http_wr_str(w, " ");
    http_wr_str(w, http_status_text(status));
    http_wr_str(w, "\r\n");
}

void http_wr_header(struct http_wr *w, const char *name, const char *value)
{
    http_wr_str(w, name);
    http_wr_str(w, ": ");
    http_wr_str(w, value);
    http_wr_str(w, "\r\n");
}

void http_wr_header_u64(struct http_wr *w, const char *name, uint64_t v)
{
    http_wr_str(w, name);
    http_wr_str(w, ": ");
    http_wr_u64(w, v);
    http_wr_str(w, "\r\n");
}

void http_wr_end_head(struct http_wr *w) { http_wr_str(w, "\r\n"); }

void http_wr_json_str(struct http_wr *w, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    http_wr_str(w, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b == '"' || b == '\\') {
            char e[2] = { '\\', (char)b };
            http_wr_raw(w, e, 2);
        } else if (b < 0x20 || b == 0x7f) {
            char e[6] = { '\\', 'u', '0', '0', hex[b >> 4], hex[b & 15] };
            http_wr_raw(w, e, 6);
        } else {
            http_wr_raw(w, &b, 1);
        }
    }
    http_wr_str(w, "\"");
}

int http_wr_failed(const struct http_wr *w) { return w->err; }

void http_wr_response(struct http_wr *w, int status, const char *ctype, uint64_t length,
                      const char *etag, int keep_alive)
{
    http_wr_status(w, status);
    if (ctype) http_wr_header(w, "Content-Type", ctype);
    if (status != 304 && status != 204) http_wr_header_u64(w, "Content-Length", length);
    if (etag) http_wr_header(w, "ETag", etag);
    if (keep_alive == HTTP_CLOSE) http_wr_header(w, "Connection", "close");
    else if (keep_alive == HTTP_PERSIST_10) http_wr_header(w, "Connection", "keep-alive");
    http_wr_end_head(w);
}

void http_wr_error(struct http_wr *w, const struct http_conn *c)
{
    const char *name = http_reason_name(c->reason);
    uint64_t blen = 13 + strlen(name);        /* {"error":"<name>"} and LF */
    http_wr_response(w, http_status(c), "application/json", blen, NULL, 0);
    http_wr_str(w, "{\"error\":");
    http_wr_json_str(w, (const uint8_t *)name, strlen(name));
    http_wr_str(w, "}\n");
}

void http_etag(char out[HTTP_ETAG_MAX], uint64_t size, uint64_t mtime)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    for (int pass = 0; pass < 2; pass++) {
        uint64_t v = pass ? mtime : size;
        int started = 0;
        for (int sh = 60; sh >= 0; sh -= 4) {
            int d = (int)((v >> sh) & 15);
            if (d || started || sh == 0) { out[o++] = hex[d]; started = 1; }
        }
        if (!pass) out[o++] = '-';
    }
    out[o++] = '"';
    out[o] = 0;
}

int http_etag_match(const struct http_conn *c, const char *etag)
{
    size_t n;
    const uint8_t *v = http_header(c, "if-none-match", &n);
    if (!v) return 0;
    size_t el = strlen(etag), i = 0;
    while (i <= n) {
        size_t s = i;
        while (i < n && v[i] != ',') i++;
        size_t e = i;
        while (s < e && (v[s] == ' ' || v[s] == '\t')) s++;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == 1 && v[s] == '*') return 1;
        if (e - s > 2 && v[s] == 'W' && v[s + 1] == '/') s += 2;
        if (e - s == el && memcmp(v + s, etag, el) == 0) return 1;
        i++;
    }
    return 0;
}
