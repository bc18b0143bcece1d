/* libFuzzer target for lib/http: the first byte picks the feed step and the
 * configured limits, the rest is fed as one connection's input (several
 * requests, keep-alive), with the accessors, the path mapper and the
 * response writer run on every request head and rejection. */
#include "http.h"

#include <stdint.h>
#include <string.h>

static struct http_conn conn;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const hosts[] = { "a", "localhost:8080", NULL };
    struct http_config cfg;
    memset(&cfg, 0, sizeof cfg);
    size_t step = 1 + (data[0] & 31) * 13;
    cfg.hosts = (data[0] & 0x20) ? hosts : NULL;
    cfg.max_line = (data[0] & 0x40) ? 64 : 0;
    cfg.max_headers = (data[0] & 0x80) ? 4 : 0;
    cfg.max_body = (data[0] & 0x40) ? 100 : 0;
    data++; size--;
    uint64_t now = 0;
    http_init(&conn, &cfg, now);
    size_t off = 0;
    uint8_t out[1024];
    struct http_wr w;
    for (int guard = 0; guard < 100000; guard++) {
        size_t n = size - off < step ? size - off : step;
        struct http_event ev;
        size_t used;
        int t = http_feed(&conn, data + off, n, &used, now++, &ev);
        if (used > n) __builtin_trap();
        off += used;
        if (t == HTTP_EV_ERROR) {
            http_wr_init(&w, out, sizeof out);
            http_wr_error(&w, &conn);
            if (http_wr_failed(&w)) __builtin_trap();
            break;
        }
        if (t == HTTP_EV_HEAD) {
            size_t l;
            char path[256];
            (void)http_method(&conn, &l);
            (void)http_target(&conn, &l);
            (void)http_header(&conn, "content-type", &l);
            (void)http_header_has_token(&conn, "connection", "upgrade");
            (void)http_target_path(&conn, path, sizeof path);
            (void)http_etag_match(&conn, "\"1-2\"");
        }
        if (t == HTTP_EV_BODY && (ev.data < data || ev.data + ev.len > data + size)) __builtin_trap();
        if (t == HTTP_EV_END) {
            if (!http_keep_alive(&conn)) break;
            http_next(&conn, now);
        }
        if (t == HTTP_EV_NONE && off >= size) break;
    }
    (void)http_tick(&conn, now + 20000);
    return 0;
}
