/* lib/ws unit tests: the handshake against requests parsed by lib/http, and
 * client frames built byte by byte (valid and hostile), fed whole and one
 * byte at a time; checks events, reason codes, the close frame queued and
 * the send queue's back-pressure. */
#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond, ...) do { if (cond) passed++; else { failed++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static struct ws_conn ws;
static struct http_conn hc;

/* a client frame: b0 (FIN|RSV|opcode), masked or not, with the length in the
 * given form (0: shortest, 2: 16-bit, 8: 64-bit) */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload, size_t len, int masked, int form)
{
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    size_t o = 0;
    out[o++] = b0;
    uint8_t m = masked ? 0x80 : 0;
    if (!form) form = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
    if (form == 0) out[o++] = (uint8_t)(m | len);
    else if (form == 2) { out[o++] = m | 126; out[o++] = (uint8_t)(len >> 8); out[o++] = (uint8_t)len; }
    else { out[o++] = m | 127; for (int s = 56; s >= 0; s -= 8) out[o++] = (uint8_t)((uint64_t)len >> s); }
    if (masked) { memcpy(out + o, key, 4); o += 4; }
    for (size_t i = 0; i < len; i++) out[o + i] = ((const uint8_t *)payload)[i] ^ (masked ? key[i & 3] : 0);
    return o + len;
}

struct got {
    int events[32], nev, reason;
    uint16_t code;
    uint8_t data[80000];
    size_t data_len;
    int fins, pings, pongs, closes;
};

/* feed in[0..n) in pieces of `step`, collecting events, until input ends or an error */
static struct got feed(const uint8_t *in, size_t n, size_t step, const struct ws_config *cfg)
{
    static struct got g;
    static uint8_t buf[200000];
    memset(&g, 0, sizeof g);
    ws_init(&ws, cfg);
    memcpy(buf, in, n);
    size_t off = 0;
    while (off < n || 1) {
        size_t give = n - off < step ? n - off : step;
        struct ws_event ev;
        size_t used;
        int t = ws_feed(&ws, buf + off, give, &used, &ev);
        off += used;
        if (t != WS_EV_NONE && g.nev < 32) g.events[g.nev++] = t;
        g.pings += t == WS_EV_PING;
        g.pongs += t == WS_EV_PONG;
        g.closes += t == WS_EV_CLOSE;
        if (t == WS_EV_DATA) {
            memcpy(g.data + g.data_len, ev.data, ev.len);
            g.data_len += ev.len;
            g.fins += ev.fin;
        }
        if (t == WS_EV_CLOSE || t == WS_EV_ERROR) g.code = ev.code;
        if (t == WS_EV_ERROR) { g.reason = ws_reason(&ws); break; }
        if (t == WS_EV_NONE && used == 0 && off >= n) break;
        if (t == WS_EV_NONE && used == 0 && give > 0) break;   /* held back */
    }
    return g;
}

/* the close frame at the head of the output, or -1 */
static int queued_close_code(void)
{
    size_t n;
    const uint8_t *o = ws_output(&ws, &n);
    for (size_t i = 0; i + 2 <= n; ) {
        size_t len = o[i + 1] & 0x7f, h = 2;
        if (len == 126) { len = ((size_t)o[i + 2] << 8) | o[i + 3]; h = 4; }
        if ((o[i] & 15) == WS_OP_CLOSE) return len >= 2 ? (o[i + h] << 8) | o[i + h + 1] : len == 0 ? 1005 : -1;
        i += h + len;
    }
    return -1;
}

static void test_accept(void)
{
    char acc[WS_ACCEPT_LEN + 1];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";   /* RFC 6455 1.3 */
    ws_accept_key((const uint8_t *)key, strlen(key), acc);
    CHECK(strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0, "accept %s", acc);
}

static const char *const origins[] = { "http://localhost:8080", NULL };

static int handshake(const char *req, char *resp, size_t cap)
{
    struct http_config hcfg;
    memset(&hcfg, 0, sizeof hcfg);
    http_init(&hc, &hcfg, 0);
    struct http_event ev;
    size_t used;
    if (http_feed(&hc, (const uint8_t *)req, strlen(req), &used, 0, &ev) != HTTP_EV_HEAD) return -1;
    struct ws_config cfg = { origins, 0, 0 };
    struct http_wr w;
    http_wr_init(&w, resp, cap - 1);
    int r = ws_handshake(&hc, &cfg, &w);
    resp[w.len] = 0;
    return r;
}

#define UPG "Host: localhost:8080\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
#define GOODKEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define V13 "Sec-WebSocket-Version: 13\r\n"
#define ORIG "Origin: http://localhost:8080\r\n"

static void test_handshake(void)
{
    char resp[1024];
    int r = handshake("GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 ORIG "\r\n", resp, sizeof resp);
    CHECK(r == WS_OK, "good handshake %s", ws_reason_name(r));
    CHECK(strstr(resp, "HTTP/1.1 101 Switching Protocols\r\n") == resp, "101");
    CHECK(strstr(resp, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL, "accept header");
    static const struct { const char *req; int reason, status; } bad[] = {
        { "POST /ws HTTP/1.1\r\n" UPG GOODKEY V13 ORIG "\r\n", WS_R_NOT_GET, 405 },
        { "GET /ws HTTP/1.0\r\n" UPG GOODKEY V13 ORIG "\r\n", WS_R_NOT_HTTP11, 400 },
        { "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n" GOODKEY V13 ORIG "\r\n", WS_R_NO_UPGRADE, 426 },
        { "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n" GOODKEY V13 ORIG "\r\n", WS_R_NO_CONNECTION, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY "Sec-WebSocket-Version: 8\r\n" ORIG "\r\n", WS_R_VERSION, 426 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY ORIG "\r\n", WS_R_VERSION, 426 },
        { "GET /ws HTTP/1.1\r\n" UPG V13 ORIG "\r\n", WS_R_KEY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n" V13 ORIG "\r\n", WS_R_KEY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" V13 ORIG "\r\n", WS_R_KEY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n" V13 ORIG "\r\n", WS_R_KEY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 "\r\n", WS_R_ORIGIN, 403 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 "Origin: http://evil.test\r\n\r\n", WS_R_ORIGIN, 403 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 "Origin: http://localhost:8080.evil.test\r\n\r\n", WS_R_ORIGIN, 403 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 ORIG "Content-Length: 1\r\n\r\n", WS_R_HAS_BODY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY GOODKEY V13 ORIG "\r\n", WS_R_KEY, 400 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 ORIG "Origin: http://evil.test\r\n\r\n", WS_R_ORIGIN, 403 },
        { "GET /ws HTTP/1.1\r\n" UPG GOODKEY V13 "Origin: http://LOCALHOST:8080\r\n\r\n", WS_R_ORIGIN, 403 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = handshake(bad[i].req, resp, sizeof resp);
        CHECK(r == bad[i].reason, "handshake %zu: %s want %s", i, ws_reason_name(r), ws_reason_name(bad[i].reason));
        char st[32];
        snprintf(st, sizeof st, "HTTP/1.1 %d ", bad[i].status);
        CHECK(strstr(resp, st) == resp && strstr(resp, "Connection: close\r\n"), "refusal %zu: %.40s", i, resp);
        CHECK(ws_handshake_status(r) == bad[i].status, "status %zu", i);
        if (r == WS_R_VERSION) CHECK(strstr(resp, "Sec-WebSocket-Version: 13\r\n") != NULL, "426 names 13");
    }
}

static void test_messages(void)
{
    uint8_t in[200000];
    struct ws_config cfg = { NULL, 100000, 0 };
    size_t n = 0;
    /* a text message in three fragments, a ping between them, € split across fragments */
    n += frame(in + n, 0x01, "hello \xe2", 7, 1, 0);
    n += frame(in + n, 0x89, "pp", 2, 1, 0);
    n += frame(in + n, 0x00, "\x82\xac", 2, 1, 0);
    n += frame(in + n, 0x00, "", 0, 1, 0);
    n += frame(in + n, 0x80, " end", 4, 1, 0);
    /* a binary message with a 16-bit length, then one with a 64-bit length */
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
    n += frame(in + n, 0x82, big, 300, 1, 0);
    n += frame(in + n, 0x82, big, 70000, 1, 0);
    /* an empty text message, a pong, a close */
    n += frame(in + n, 0x81, "", 0, 1, 0);
    n += frame(in + n, 0x8A, "x", 1, 1, 0);
    n += frame(in + n, 0x88, "\x03\xe8" "bye", 5, 1, 0);
    for (size_t step = 1; step < 100000; step = step * 3 + 1) {
        struct got g = feed(in, n, step, &cfg);
        CHECK(g.reason == 0, "step %zu: %s", step, ws_reason_name(g.reason));
        CHECK(g.fins == 4, "step %zu: %d messages", step, g.fins);
        CHECK(g.data_len == 13 + 300 + 70000 && memcmp(g.data, "hello \xe2\x82\xac end", 13) == 0 &&
              memcmp(g.data + 13, big, 300) == 0 && memcmp(g.data + 313, big, 70000) == 0, "data step %zu", step);
        CHECK(g.pings == 1 && g.pongs == 1 && g.closes == 1 && g.code == 1000, "control events step %zu", step);
        /* our output: the pong (unmasked, same payload) then the close echoing 1000 */
        size_t on;
        const uint8_t *o = ws_output(&ws, &on);
        CHECK(on == 4 + 4 && memcmp(o, "\x8a\x02pp\x88\x02\x03\xe8", 8) == 0, "pong and close queued");
        CHECK(!ws_finished(&ws), "not finished before drained");
        ws_output_done(&ws, on);
        CHECK(ws_finished(&ws), "finished");
        CHECK(ws_send(&ws, WS_OP_TEXT, "x", 1, 1) == -1, "no send after close");
    }
    /* a close without a code is answered without one */
    n = frame(in, 0x88, "", 0, 1, 0);
    struct got g = feed(in, n, 1, &cfg);
    CHECK(g.code == 1005 && queued_close_code() == 1005, "empty close");
    /* codes allowed on the wire */
    unsigned okc[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999 };
    for (size_t i = 0; i < sizeof okc / sizeof okc[0]; i++) {
        uint8_t p[2] = { (uint8_t)(okc[i] >> 8), (uint8_t)okc[i] };
        n = frame(in, 0x88, p, 2, 1, 0);
        g = feed(in, n, 1, &cfg);
        CHECK(g.reason == 0 && g.code == okc[i], "close code %u refused", okc[i]);
    }
    /* input after the peer's close is ignored */
    n = frame(in, 0x88, "\x03\xe8", 2, 1, 0);
    n += frame(in + n, 0x01, "x", 1, 0, 0);
    g = feed(in, n, 3, &cfg);
    CHECK(g.reason == 0 && g.nev == 1, "after close");
}

struct badf { const char *name; uint8_t b0; const char *payload; size_t len; int masked, form, reason; uint16_t code; };

static void test_hostile(void)
{
    static const struct badf bad[] = {
        { "unmasked text", 0x81, "hi", 2, 0, 0, WS_R_UNMASKED, 1002 },
        { "unmasked close", 0x88, "", 0, 0, 0, WS_R_UNMASKED, 1002 },
        { "rsv1", 0xC1, "hi", 2, 1, 0, WS_R_RSV, 1002 },
        { "rsv3", 0x91, "hi", 2, 1, 0, WS_R_RSV, 1002 },
        { "opcode 3", 0x83, "hi", 2, 1, 0, WS_R_OPCODE, 1002 },
        { "opcode 0xb", 0x8B, "", 0, 1, 0, WS_R_OPCODE, 1002 },
        { "ping 126", 0x89, NULL, 126, 1, 0, WS_R_CONTROL_LEN, 1002 },
        { "fragmented ping", 0x09, "a", 1, 1, 0, WS_R_CONTROL_FRAGMENTED, 1002 },
        { "16-bit len for 5", 0x82, "hello", 5, 1, 2, WS_R_LEN_ENCODING, 1002 },
        { "64-bit len for 300", 0x82, NULL, 300, 1, 8, WS_R_LEN_ENCODING, 1002 },
        { "cont first", 0x80, "x", 1, 1, 0, WS_R_CONT_UNEXPECTED, 1002 },
        { "too big", 0x82, NULL, 1001, 1, 0, WS_R_TOO_BIG, 1009 },
        { "close len 1", 0x88, "\x03", 1, 1, 0, WS_R_CLOSE_LEN, 1002 },
        { "close 999", 0x88, "\x03\xe7", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 1004", 0x88, "\x03\xec", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 1005", 0x88, "\x03\xed", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 1006", 0x88, "\x03\xee", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 1015", 0x88, "\x03\xf7", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 2000", 0x88, "\x07\xd0", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 5000", 0x88, "\x13\x88", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close 0", 0x88, "\x00\x00", 2, 1, 0, WS_R_CLOSE_CODE, 1002 },
        { "close reason utf8", 0x88, "\x03\xe8\xc0\xaf", 4, 1, 0, WS_R_UTF8, 1007 },
        { "overlong 2", 0x81, "\xc0\xaf", 2, 1, 0, WS_R_UTF8, 1007 },
        { "overlong c1", 0x81, "\xc1\xbf", 2, 1, 0, WS_R_UTF8, 1007 },
        { "overlong 3", 0x81, "\xe0\x80\xaf", 3, 1, 0, WS_R_UTF8, 1007 },
        { "overlong 4", 0x81, "\xf0\x80\x80\xaf", 4, 1, 0, WS_R_UTF8, 1007 },
        { "surrogate d800", 0x81, "\xed\xa0\x80", 3, 1, 0, WS_R_UTF8, 1007 },
        { "surrogate dfff", 0x81, "\xed\xbf\xbf", 3, 1, 0, WS_R_UTF8, 1007 },
        { "past 10ffff", 0x81, "\xf4\x90\x80\x80", 4, 1, 0, WS_R_UTF8, 1007 },
        { "f5", 0x81, "\xf5\x80\x80\x80", 4, 1, 0, WS_R_UTF8, 1007 },
        { "ff", 0x81, "a\xff", 2, 1, 0, WS_R_UTF8, 1007 },
        { "lone continuation", 0x81, "\x80", 1, 1, 0, WS_R_UTF8, 1007 },
        { "truncated at end", 0x81, "ab\xe2\x82", 4, 1, 0, WS_R_UTF8, 1007 },
        { "missing continuation", 0x81, "\xe2\x28\xa1", 3, 1, 0, WS_R_UTF8, 1007 },
    };
    static uint8_t in[4096], zeros[2048];
    struct ws_config cfg = { NULL, 1000, 0 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t step = 1; step <= 4096; step *= 64) {
            size_t n = frame(in, bad[i].b0, bad[i].payload ? bad[i].payload : (const char *)zeros,
                             bad[i].len, bad[i].masked, bad[i].form);
            struct got g = feed(in, n, step, &cfg);
            CHECK(g.reason == bad[i].reason, "%s step %zu: %s want %s", bad[i].name, step,
                  ws_reason_name(g.reason), ws_reason_name(bad[i].reason));
            CHECK(g.code == bad[i].code && queued_close_code() == bad[i].code, "%s: code %u queued %d",
                  bad[i].name, g.code, queued_close_code());
            CHECK(g.fins == 0, "%s: a message was delivered", bad[i].name);
            /* nothing more is read after an error */
            struct ws_event ev;
            size_t used;
            CHECK(ws_feed(&ws, in, n, &used, &ev) == WS_EV_NONE && used == n, "%s: after error", bad[i].name);
            size_t on;
            ws_output(&ws, &on);
            ws_output_done(&ws, on);
            CHECK(ws_finished(&ws), "%s: finished after our close", bad[i].name);
        }
    }
    /* message-level: interleaved data frame, fragments summing over the limit,
     * invalid UTF-8 split across fragments, 64-bit length with the top bit set */
    size_t n = frame(in, 0x01, "a", 1, 1, 0);
    n += frame(in + n, 0x81, "b", 1, 1, 0);
    struct got g = feed(in, n, 1, &cfg);
    CHECK(g.reason == WS_R_DATA_IN_MESSAGE && g.code == 1002, "interleaved");
    n = frame(in, 0x02, zeros, 600, 1, 0);
    n += frame(in + n, 0x80, zeros, 401, 1, 0);
    g = feed(in, n, 100, &cfg);
    CHECK(g.reason == WS_R_TOO_BIG && g.code == 1009 && g.data_len == 600, "fragments over the limit");
    n = frame(in, 0x01, "ok\xed", 3, 1, 0);
    n += frame(in + n, 0x80, "\xa0\x80", 2, 1, 0);
    g = feed(in, n, 1, &cfg);
    CHECK(g.reason == WS_R_UTF8 && g.code == 1007, "surrogate across fragments");
    n = frame(in, 0x01, "ok\xe2\x82", 4, 1, 0);
    n += frame(in + n, 0x80, "", 0, 1, 0);
    g = feed(in, n, 1, &cfg);
    CHECK(g.reason == WS_R_UTF8, "message ends inside a character");
    uint8_t h[14] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
    g = feed(h, sizeof h, 1, &cfg);
    CHECK(g.reason == WS_R_LEN_ENCODING, "64-bit msb");
}

static void test_send_queue(void)
{
    struct ws_config cfg = { NULL, 0, 1000 };
    ws_init(&ws, &cfg);
    static uint8_t data[2000];
    CHECK(ws_send(&ws, WS_OP_CONT, data, 1, 1) == -1, "cont without message");
    CHECK(ws_send(&ws, WS_OP_PING, data, 126, 1) == -1, "ping too long");
    CHECK(ws_send(&ws, 3, data, 1, 1) == -1, "bad opcode");
    CHECK(ws_send(&ws, WS_OP_TEXT, "ab", 2, 0) == 0, "open message");
    CHECK(ws_send(&ws, WS_OP_BINARY, "ab", 2, 1) == -1, "interleave refused");
    CHECK(ws_send(&ws, WS_OP_CONT, "c", 1, 1) == 0, "finish message");
    size_t on;
    const uint8_t *o = ws_output(&ws, &on);
    CHECK(on == 7 && memcmp(o, "\x01\x02" "ab\x80\x01" "c", 7) == 0, "frames unmasked");
    /* fill: sends are whole or refused */
    size_t r = ws_send_room(&ws);
    CHECK(ws_send(&ws, WS_OP_BINARY, data, r + 1, 1) == -1, "over room refused");
    CHECK(ws_send(&ws, WS_OP_BINARY, data, r, 1) == 0, "room exact %zu", r);
    o = ws_output(&ws, &on);
    CHECK(on <= 1000, "bounded %zu", on);
    /* back-pressure: a ping is not read while a pong could not be queued */
    uint8_t in[64];
    size_t n = frame(in, 0x89, "zz", 2, 1, 0);
    struct ws_event ev;
    size_t used;
    CHECK(ws_feed(&ws, in, n, &used, &ev) == WS_EV_NONE && used == 0, "held back");
    ws_output_done(&ws, 7);
    CHECK(ws_feed(&ws, in, n, &used, &ev) == WS_EV_NONE && used == 0, "still held back");
    ws_output_done(&ws, 100000);
    CHECK(ws_feed(&ws, in, n, &used, &ev) == WS_EV_PING && used == n, "read after draining");
    o = ws_output(&ws, &on);
    CHECK(on == 4 && memcmp(o, "\x8a\x02zz", 4) == 0, "pong");
    /* 64-bit length frames are written in their shortest form */
    struct ws_config big = { NULL, 0, 0 };
    ws_init(&ws, &big);
    static uint8_t huge[65536];
    CHECK(ws_send(&ws, WS_OP_BINARY, huge, 65526, 1) == 0, "largest frame");
    o = ws_output(&ws, &on);
    CHECK(on == 65530 && o[1] == 126, "16-bit header");
    ws_output_done(&ws, on);
    CHECK(ws_close(&ws, 1000, "\xc0") == -1, "reason not utf8");
    CHECK(ws_close(&ws, 1001, "going") == 0 && ws_close(&ws, 1000, NULL) == -1, "close once");
    CHECK(queued_close_code() == 1001, "close queued");
    CHECK(!ws_finished(&ws), "waiting for the peer's close");
    CHECK(ws_send_room(&ws) > 0, "room");
    CHECK(strcmp(ws_reason_name(-1), "unknown") == 0, "unknown reason");
}

int main(void)
{
    test_accept();
    test_handshake();
    test_messages();
    test_hostile();
    test_send_queue();
    printf("test-ws-unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
