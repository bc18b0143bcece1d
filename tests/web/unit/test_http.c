/* lib/http unit tests: valid requests and hostile tables, each fed whole and
 * byte by byte; checks the event sequence, the reason code and the status. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static const char *const hosts[] = { "example.test", "localhost:8080", NULL };

struct result {
    int reason, heads, ends, keep_alive;
    char body[4096];
    size_t body_len;
    size_t left;        /* input not consumed when the run stopped */
};

static struct http_conn conn;

/* Feed s[0..n) in pieces of `step` bytes; stop at the first error or after
 * `max_requests` ENDs (http_next between requests). */
static struct result run_cfg(const struct http_config *cfg, const char *s, size_t n, size_t step, int max_requests)
{
    struct result r;
    memset(&r, 0, sizeof r);
    http_init(&conn, cfg, 0);
    size_t off = 0;
    uint8_t piece[64 * 1024];
    size_t have = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        /* keep up to `step` unconsumed bytes available */
        while (have < step && off < n) piece[have++] = (uint8_t)s[off++];
        struct http_event ev;
        size_t used;
        int t = http_feed(&conn, piece, have, &used, 1, &ev);
        if (t == HTTP_EV_BODY) {
            if (r.body_len + ev.len <= sizeof r.body) memcpy(r.body + r.body_len, ev.data, ev.len);
            r.body_len += ev.len;
        }
        memmove(piece, piece + used, have - used);
        have -= used;
        if (t == HTTP_EV_ERROR) { r.reason = http_reason(&conn); break; }
        if (t == HTTP_EV_HEAD) { r.heads++; r.keep_alive = http_keep_alive(&conn); }
        if (t == HTTP_EV_END) {
            r.ends++;
            if (r.ends >= max_requests) break;
            http_next(&conn, 1);
        }
        if (t == HTTP_EV_NONE && off >= n && have == 0) break;
    }
    r.left = have + (n - off);
    return r;
}

static struct http_config base_cfg(void)
{
    struct http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.hosts = hosts;
    cfg.max_line = 256;
    cfg.max_head = 2048;
    cfg.max_headers = 8;
    cfg.max_body = 1000;
    cfg.header_timeout_ms = 1000;
    return cfg;
}

static struct result run(const char *s, size_t step, int max_requests)
{
    struct http_config cfg = base_cfg();
    return run_cfg(&cfg, s, strlen(s), step, max_requests);
}

struct bad { const char *name; const char *req; int reason; int status; };

#define H "Host: example.test\r\n"
static const struct bad bad[] = {
    { "cl and te", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_R_CL_AND_TE, 400 },
    { "te and cl", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", HTTP_R_CL_AND_TE, 400 },
    { "cl twice same", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", HTTP_R_CL_DUPLICATE, 400 },
    { "cl twice differ", "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", HTTP_R_CL_DUPLICATE, 400 },
    { "cl list", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl sign", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl negative", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl hex", "POST / HTTP/1.1\r\n" H "Content-Length: 0x5\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl empty", "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl huge", "POST / HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", HTTP_R_CL_MALFORMED, 400 },
    { "cl over max", "POST / HTTP/1.1\r\n" H "Content-Length: 1001\r\n\r\n", HTTP_R_BODY_TOO_LARGE, 413 },
    { "te twice", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_R_TE_DUPLICATE, 400 },
    { "te gzip chunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", HTTP_R_TE_UNSUPPORTED, 501 },
    { "te chunked twice", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n", HTTP_R_TE_UNSUPPORTED, 501 },
    { "te xchunked", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: xchunked\r\n\r\n", HTTP_R_TE_UNSUPPORTED, 501 },
    { "te in 1.0", "POST / HTTP/1.0\r\n" H "Transfer-Encoding: chunked\r\n\r\n", HTTP_R_TE_HTTP10, 400 },
    { "te space before colon", "POST / HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n", HTTP_R_HEADER_NAME, 400 },
    { "te obs-fold", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n chunked\r\n\r\n", HTTP_R_OBS_FOLD, 400 },
    { "obs-fold tab", "GET / HTTP/1.1\r\n" H "X: a\r\n\tb\r\n\r\n", HTTP_R_OBS_FOLD, 400 },
    { "bare lf in header", "GET / HTTP/1.1\r\n" H "X: a\n\r\n", HTTP_R_BARE_LF, 400 },
    { "bare lf request line", "GET / HTTP/1.1\n" H "\r\n", HTTP_R_BARE_LF, 400 },
    { "bare lf end", "GET / HTTP/1.1\r\n" H "\n", HTTP_R_BARE_LF, 400 },
    { "bare cr in value", "GET / HTTP/1.1\r\n" H "X: a\rb\r\n\r\n", HTTP_R_BARE_CR, 400 },
    { "bare cr end", "GET / HTTP/1.1\r\n" H "\r\r\n", HTTP_R_BARE_CR, 400 },
    { "nul in value", "GET / HTTP/1.1\r\n" H "X: a\001b\r\n\r\n", HTTP_R_HEADER_VALUE, 400 },
    { "del in value", "GET / HTTP/1.1\r\n" H "X: a\177\r\n\r\n", HTTP_R_HEADER_VALUE, 400 },
    { "empty name", "GET / HTTP/1.1\r\n" H ": a\r\n\r\n", HTTP_R_HEADER_NAME, 400 },
    { "no colon", "GET / HTTP/1.1\r\n" H "Xa\r\n\r\n", HTTP_R_HEADER_NAME, 400 },
    { "name with slash", "GET / HTTP/1.1\r\n" H "X/Y: a\r\n\r\n", HTTP_R_HEADER_NAME, 400 },
    { "no host", "GET / HTTP/1.1\r\n\r\n", HTTP_R_HOST_MISSING, 400 },
    { "host twice", "GET / HTTP/1.1\r\n" H H "\r\n", HTTP_R_HOST_DUPLICATE, 400 },
    { "host unknown", "GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n", HTTP_R_HOST_UNKNOWN, 421 },
    { "host wrong port", "GET / HTTP/1.1\r\nHost: localhost:8081\r\n\r\n", HTTP_R_HOST_UNKNOWN, 421 },
    { "version 2", "GET / HTTP/2.0\r\n" H "\r\n", HTTP_R_VERSION, 505 },
    { "version 1.2", "GET / HTTP/1.2\r\n" H "\r\n", HTTP_R_VERSION, 505 },
    { "version junk", "GET / HTTQ/1.1\r\n" H "\r\n", HTTP_R_REQUEST_LINE, 400 },
    { "two spaces", "GET  / HTTP/1.1\r\n" H "\r\n", HTTP_R_REQUEST_LINE, 400 },
    { "no version", "GET /\r\n" H "\r\n", HTTP_R_REQUEST_LINE, 400 },
    { "trailing space", "GET / HTTP/1.1 \r\n" H "\r\n", HTTP_R_REQUEST_LINE, 400 },
    { "method junk", "G(T / HTTP/1.1\r\n" H "\r\n", HTTP_R_METHOD, 400 },
    { "absolute form", "GET http://example.test/ HTTP/1.1\r\n" H "\r\n", HTTP_R_TARGET, 400 },
    { "star not options", "GET * HTTP/1.1\r\n" H "\r\n", HTTP_R_TARGET, 400 },
    { "target high byte", "GET /\200 HTTP/1.1\r\n" H "\r\n", HTTP_R_TARGET, 400 },
    { "expect other", "POST / HTTP/1.1\r\n" H "Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx", HTTP_R_EXPECT, 417 },
    { "chunk size junk", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\nzz\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk size empty", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk size space", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk size 17 digits", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk size lf", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk too large", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n3e9\r\n", HTTP_R_BODY_TOO_LARGE, 413 },
    { "chunks sum too large", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n1f4\r\n"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "\r\n1f5\r\n", HTTP_R_BODY_TOO_LARGE, 413 },
    { "chunk data no crlf", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n", HTTP_R_CHUNK_CRLF, 400 },
    { "chunk data lf only", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", HTTP_R_CHUNK_CRLF, 400 },
    { "chunk ext ctl", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5;a\001\r\n", HTTP_R_CHUNK_SIZE, 400 },
    { "chunk size cr junk", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n5\rX", HTTP_R_BARE_CR, 400 },
    { "trailer fold", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\n a\r\n\r\n", HTTP_R_TRAILER, 400 },
    { "trailer bare lf", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\n\r\n", HTTP_R_TRAILER, 400 },
    { "trailer cr junk", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb", HTTP_R_TRAILER, 400 },
    { "trailer ctl", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n0\r\nX: \002\r\n\r\n", HTTP_R_TRAILER, 400 },
};

static void test_bad_table(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t step = 1; step <= 4096; step = step == 1 ? 7 : step * 64) {
            struct result r = run(bad[i].req, step, 1);
            CHECK(r.reason == bad[i].reason, "%s (step %zu): reason %s, want %s", bad[i].name, step,
                  http_reason_name(r.reason), http_reason_name(bad[i].reason));
            CHECK(r.reason == 0 || http_status(&conn) == bad[i].status, "%s: status %d want %d",
                  bad[i].name, http_status(&conn), bad[i].status);
            CHECK(r.ends == 0, "%s: a rejected request completed", bad[i].name);
        }
    }
}

static void test_limits(void)
{
    char buf[8192];
    /* request line of max_line bytes is fine, one more is 414 */
    size_t n = 0;
    n += (size_t)sprintf(buf, "GET /");
    while (n < 256 - 9) buf[n++] = 'a';
    n += (size_t)sprintf(buf + n, " HTTP/1.1\r\n" H "\r\n");
    struct result r = run(buf, 1, 1);
    CHECK(r.reason == 0 && r.ends == 1, "line at max_line: %s", http_reason_name(r.reason));
    n = (size_t)sprintf(buf, "GET /");
    while (n < 256 - 8) buf[n++] = 'a';
    n += (size_t)sprintf(buf + n, " HTTP/1.1\r\n" H "\r\n");
    r = run(buf, 1, 1);
    CHECK(r.reason == HTTP_R_LINE_TOO_LONG, "line over max_line: %s", http_reason_name(r.reason));
    CHECK(http_status(&conn) == 414, "414");
    /* a header line over max_line */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n" H "X: ");
    for (int i = 0; i < 300; i++) buf[n++] = 'b';
    sprintf(buf + n, "\r\n\r\n");
    r = run(buf, 5, 1);
    CHECK(r.reason == HTTP_R_HEADER_LINE_TOO_LONG && http_status(&conn) == 431, "header line: %s", http_reason_name(r.reason));
    /* header count: 8 fine, 9 refused */
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n" H);
    for (int i = 0; i < 7; i++) n += (size_t)sprintf(buf + n, "X%d: v\r\n", i);
    sprintf(buf + n, "\r\n");
    r = run(buf, 3, 1);
    CHECK(r.reason == 0 && r.ends == 1, "8 headers: %s", http_reason_name(r.reason));
    n += (size_t)sprintf(buf + n, "Y: v\r\n");
    sprintf(buf + n, "\r\n");
    r = run(buf, 3, 1);
    CHECK(r.reason == HTTP_R_TOO_MANY_HEADERS && http_status(&conn) == 431, "9 headers: %s", http_reason_name(r.reason));
    /* whole head over max_head */
    struct http_config cfg = base_cfg();
    cfg.max_headers = 64;
    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n" H);
    for (int i = 0; i < 20; i++) {
        n += (size_t)sprintf(buf + n, "X%d: ", i);
        for (int k = 0; k < 150; k++) buf[n++] = 'c';
        n += (size_t)sprintf(buf + n, "\r\n");
    }
    n += (size_t)sprintf(buf + n, "\r\n");
    r = run_cfg(&cfg, buf, n, 100, 1);
    CHECK(r.reason == HTTP_R_HEAD_TOO_LARGE && http_status(&conn) == 431, "head too large: %s", http_reason_name(r.reason));
    /* body at max is fine */
    n = (size_t)sprintf(buf, "POST / HTTP/1.1\r\n" H "Content-Length: 1000\r\n\r\n");
    memset(buf + n, 'z', 1000);
    buf[n + 1000] = 0;
    r = run(buf, 13, 1);
    CHECK(r.reason == 0 && r.ends == 1 && r.body_len == 1000, "body at max: %s %zu", http_reason_name(r.reason), r.body_len);
}

static void test_timeout(void)
{
    struct http_config cfg = base_cfg();
    http_init(&conn, &cfg, 100);
    struct http_event ev;
    size_t used;
    const char *part = "GET / HTTP/1.1\r\nHost: exa";
    CHECK(http_feed(&conn, (const uint8_t *)part, strlen(part), &used, 500, &ev) == HTTP_EV_NONE, "partial head");
    CHECK(http_tick(&conn, 1099) == HTTP_EV_NONE, "before the deadline");
    CHECK(http_tick(&conn, 1100) == HTTP_EV_ERROR, "at the deadline");
    CHECK(http_reason(&conn) == HTTP_R_TIMEOUT_HEADER && http_status(&conn) == 408, "408");
    /* a slow client trickling one byte at a time still hits the deadline */
    http_init(&conn, &cfg, 0);
    const char *req = "GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    int t = HTTP_EV_NONE;
    uint64_t now = 0;
    for (size_t i = 0; i < strlen(req) && t == HTTP_EV_NONE; i++, now += 20)
        t = http_feed(&conn, (const uint8_t *)req + i, 1, &used, now, &ev);
    CHECK(t == HTTP_EV_ERROR && http_reason(&conn) == HTTP_R_TIMEOUT_HEADER, "slow header: %d %s", t,
          http_reason_name(http_reason(&conn)));
    /* the deadline is gone once the head is in: a body may take its time */
    http_init(&conn, &cfg, 0);
    req = "POST / HTTP/1.1\r\n" H "Content-Length: 2\r\n\r\n";
    t = http_feed(&conn, (const uint8_t *)req, strlen(req), &used, 10, &ev);
    CHECK(t == HTTP_EV_HEAD, "head");
    CHECK(http_tick(&conn, 5000) == HTTP_EV_NONE, "no deadline in the body");
    /* keep-alive: the deadline restarts at http_next */
    t = http_feed(&conn, (const uint8_t *)"ab", 2, &used, 5000, &ev);
    t = http_feed(&conn, (const uint8_t *)"", 0, &used, 5000, &ev);
    CHECK(t == HTTP_EV_END, "end");
    http_next(&conn, 5000);
    CHECK(http_tick(&conn, 5999) == HTTP_EV_NONE && http_tick(&conn, 6000) == HTTP_EV_ERROR, "idle deadline");
}

static void test_good(void)
{
    /* keep-alive pipelining: three requests, chunked in the middle */
    const char *s =
        "\r\nGET /a HTTP/1.1\r\nHost: EXAMPLE.test\r\nAccept: */*\r\n\r\n"
        "POST /up HTTP/1.1\r\n" H "Transfer-Encoding: Chunked\r\nExpect: 100-continue\r\n\r\n"
        "5;name=val\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nTrailer-X: y\r\n\r\n"
        "POST /cl HTTP/1.1\r\n" H "Content-Length: 3\r\nConnection: close\r\n\r\nxyz";
    for (size_t step = 1; step < 600; step += 37) {
        struct result r = run(s, step, 3);
        CHECK(r.reason == 0 && r.heads == 3 && r.ends == 3, "pipeline step %zu: %s %d %d", step,
              http_reason_name(r.reason), r.heads, r.ends);
        CHECK(r.body_len == 24 && memcmp(r.body, "hello world0123456789xyz", 24) == 0, "bodies %zu %.*s", r.body_len, (int)r.body_len, r.body);
        CHECK(r.keep_alive == 0 && r.left == 0, "last one closes");
    }
    /* accessors */
    struct http_config cfg = base_cfg();
    http_init(&conn, &cfg, 0);
    const char *req = "OPTIONS * HTTP/1.0\r\nHost: localhost:8080\r\nConnection: foo, Keep-Alive\r\n"
                      "If-None-Match: W/\"1-2\", \"a-b\"\r\nX-Empty:   \r\n\r\n";
    struct http_event ev;
    size_t used, n;
    CHECK(http_feed(&conn, (const uint8_t *)req, strlen(req), &used, 0, &ev) == HTTP_EV_HEAD, "options *");
    CHECK(used == strlen(req), "used");
    CHECK(http_method_is(&conn, "OPTIONS") && !http_method_is(&conn, "GET"), "method");
    const uint8_t *t = http_target(&conn, &n);
    CHECK(n == 1 && t[0] == '*', "target");
    CHECK(http_version_minor(&conn) == 0 && http_keep_alive(&conn) == HTTP_PERSIST_10, "1.0 keep-alive");
    CHECK(http_etag_match(&conn, "\"a-b\"") && http_etag_match(&conn, "\"1-2\"") && !http_etag_match(&conn, "\"c\""), "etag");
    const uint8_t *v = http_header(&conn, "x-empty", &n);
    CHECK(v && n == 0, "empty value");
    CHECK(!http_header(&conn, "nope", &n), "absent");
    CHECK(http_header_count(&conn, "NOPE") == 0 && http_header_count(&conn, "if-none-match") == 1, "count");
    CHECK(!http_has_body(&conn) && !http_expect_continue(&conn), "no body");
    CHECK(http_feed(&conn, NULL, 0, &used, 0, &ev) == HTTP_EV_END, "end without input");
    CHECK(http_feed(&conn, (const uint8_t *)"x", 1, &used, 0, &ev) == HTTP_EV_NONE && used == 0, "done holds input");
    /* 1.0 without keep-alive closes; bodyless with HEAD and upgrade leftovers stay unconsumed */
    http_init(&conn, &cfg, 0);
    req = "GET /x HTTP/1.0\r\n" H "\r\nLEFTOVER";
    CHECK(http_feed(&conn, (const uint8_t *)req, strlen(req), &used, 0, &ev) == HTTP_EV_HEAD, "1.0");
    CHECK(strlen(req) - used == 8 && !http_keep_alive(&conn), "leftover");
    /* a request with a chunked body reports expect-continue */
    http_init(&conn, &cfg, 0);
    req = "PUT /x HTTP/1.1\r\n" H "Content-Length: 1\r\nExpect: 100-Continue\r\n\r\n";
    CHECK(http_feed(&conn, (const uint8_t *)req, strlen(req), &used, 0, &ev) == HTTP_EV_HEAD, "expect");
    CHECK(http_expect_continue(&conn) && http_has_body(&conn), "expect-continue");
    /* after an error, feeding again reports the error again */
    http_init(&conn, &cfg, 0);
    CHECK(http_feed(&conn, (const uint8_t *)"\n", 1, &used, 0, &ev) == HTTP_EV_ERROR, "bare lf first");
    CHECK(http_feed(&conn, (const uint8_t *)"x", 1, &used, 0, &ev) == HTTP_EV_ERROR && used == 0, "sticky");
    CHECK(http_tick(&conn, 0) == HTTP_EV_ERROR, "tick sticky");
    /* no host set configured: any Host, 1.0 may omit it */
    cfg.hosts = NULL;
    struct result r = run_cfg(&cfg, "GET / HTTP/1.0\r\n\r\n", 18, 4, 1);
    CHECK(r.reason == 0 && r.ends == 1, "1.0 without host");
}

static int path_of(const char *target, char *out, size_t cap)
{
    char req[512];
    struct http_config cfg = base_cfg();
    cfg.hosts = NULL;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", target);
    http_init(&conn, &cfg, 0);
    struct http_event ev;
    size_t used;
    if (http_feed(&conn, (const uint8_t *)req, strlen(req), &used, 0, &ev) != HTTP_EV_HEAD) return -1;
    return http_target_path(&conn, out, cap);
}

static void test_paths(void)
{
    char out[64];
    CHECK(path_of("/", out, sizeof out) == 0 && strcmp(out, "/") == 0, "root");
    CHECK(path_of("/a/b.html?x=../..#f", out, sizeof out) == 0 && strcmp(out, "/a/b.html") == 0, "query dropped");
    CHECK(path_of("/a%20b", out, sizeof out) == 0 && strcmp(out, "/a b") == 0, "decoded");
    CHECK(path_of("/dir/", out, sizeof out) == 0 && strcmp(out, "/dir/") == 0, "trailing slash");
    const char *badp[] = { "/..", "/a/../b", "/%2e%2e/x", "/a//b", "/./a", "/a%00", "/a%2", "/a%zz",
                           "/a%5cb", "/a%0a", "/.", "/a/.." };
    for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++)
        CHECK(path_of(badp[i], out, sizeof out) == HTTP_R_PATH, "path %s accepted", badp[i]);
    CHECK(path_of("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", out, sizeof out) == HTTP_R_PATH, "too long");
}

static void test_writer(void)
{
    uint8_t buf[512];
    struct http_wr w;
    char etag[HTTP_ETAG_MAX];
    http_etag(etag, 0x1234, 0);
    CHECK(strcmp(etag, "\"1234-0\"") == 0, "etag %s", etag);
    http_etag(etag, UINT64_MAX, UINT64_MAX);
    CHECK(strlen(etag) == 35, "etag max");
    http_wr_init(&w, buf, sizeof buf);
    http_wr_response(&w, 200, "text/html", 5, "\"5-1\"", 0);
    http_wr_raw(&w, "hello", 5);
    const char *want = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nETag: \"5-1\"\r\nConnection: close\r\n\r\nhello";
    CHECK(!http_wr_failed(&w) && w.len == strlen(want) && memcmp(buf, want, w.len) == 0, "response");
    http_wr_init(&w, buf, sizeof buf);
    http_wr_json_str(&w, (const uint8_t *)"a\"b\\c\n\001\xc3\xa9", 9);
    want = "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\"";
    CHECK(w.len == strlen(want) && memcmp(buf, want, w.len) == 0, "json %.*s", (int)w.len, buf);
    /* overflow is sticky and writes nothing */
    http_wr_init(&w, buf, 10);
    http_wr_str(&w, "0123456789A");
    http_wr_str(&w, "x");
    CHECK(http_wr_failed(&w) && w.len == 0, "overflow");
    /* every reason's error response is well formed and its length right */
    for (int rsn = 1; rsn < HTTP_R_COUNT; rsn++) {
        conn.reason = rsn;
        http_wr_init(&w, buf, sizeof buf);
        http_wr_error(&w, &conn);
        char *body = strstr((char *)buf, "\r\n\r\n");
        buf[w.len < sizeof buf ? w.len : sizeof buf - 1] = 0;
        CHECK(!http_wr_failed(&w) && body, "error response %d", rsn);
        size_t blen = w.len - (size_t)((uint8_t *)body + 4 - buf);
        char cl[64];
        snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", blen);
        CHECK(strstr((char *)buf, cl) != NULL, "error length for %s", http_reason_name(rsn));
        CHECK(strcmp(http_status_text(http_status(&conn)), "Unknown") != 0, "status text %d", http_status(&conn));
        CHECK(strstr(http_reason_name(rsn), ".") != NULL, "reason name %d", rsn);
    }
    CHECK(strcmp(http_reason_name(-1), "unknown") == 0 && strcmp(http_status_text(299), "Unknown") == 0, "unknowns");
    int sts[] = { 100, 101, 204, 304, 403, 404, 405, 500, 503 };
    for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++)
        CHECK(strcmp(http_status_text(sts[i]), "Unknown") != 0, "status %d", sts[i]);
    http_wr_init(&w, buf, sizeof buf);
    http_wr_response(&w, 200, NULL, 0, NULL, HTTP_PERSIST_10);
    want = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n";
    CHECK(w.len == strlen(want) && memcmp(buf, want, w.len) == 0, "1.0 keep-alive response");
    http_wr_init(&w, buf, sizeof buf);
    http_wr_response(&w, 304, NULL, 0, NULL, HTTP_PERSIST);
    CHECK(w.len == strlen("HTTP/1.1 304 Not Modified\r\n\r\n"), "304 has no length");
}

int main(void)
{
    test_bad_table();
    test_limits();
    test_timeout();
    test_good();
    test_paths();
    test_writer();
    printf("test-http-unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
