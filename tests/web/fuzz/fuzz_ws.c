/* libFuzzer target for lib/ws: the first byte picks the feed step, the
 * message limit and the send-queue size; the rest is one connection's input:
 * when it starts with a request head (parsed by lib/http), the upgrade
 * handshake is checked first and the frames follow the head; otherwise it is
 * all client frames (masked or not).  Data events are echoed with ws_send as
 * the dev server does, and the output is drained now and then. */
#include "ws.h"

#include <stdint.h>
#include <string.h>

static struct ws_conn ws;
static struct http_conn hc;
static uint8_t buf[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > sizeof buf) return 0;
    struct ws_config cfg = { NULL, (data[0] & 0x40) ? 64 : 0, (data[0] & 0x80) ? 300 : 0 };
    size_t step = 1 + (data[0] & 31) * 11;
    memcpy(buf, data + 1, size - 1);
    size--;
    ws_init(&ws, &cfg);
    size_t off = 0;
    if (size && buf[0] == 'G') {
        static const char *const origins[] = { "http://localhost:8080", NULL };
        struct ws_config hcfg = cfg;
        struct http_config httpcfg;
        memset(&httpcfg, 0, sizeof httpcfg);
        hcfg.origins = origins;
        http_init(&hc, &httpcfg, 0);
        struct http_event hev;
        size_t used;
        if (http_feed(&hc, buf, size, &used, 0, &hev) == HTTP_EV_HEAD) {
            uint8_t resp[512];
            struct http_wr w;
            http_wr_init(&w, resp, sizeof resp);
            int r = ws_handshake(&hc, &hcfg, &w);
            if (http_wr_failed(&w) || (r == WS_OK) != (w.len > 13 && !memcmp(resp, "HTTP/1.1 101 ", 13)))
                __builtin_trap();
            off = used;
        }
    }
    int echo_open = 0;
    for (int guard = 0; guard < 200000; guard++) {
        size_t n = size - off < step ? size - off : step;
        struct ws_event ev;
        size_t used;
        int t = ws_feed(&ws, buf + off, n, &used, &ev);
        if (used > n) __builtin_trap();
        off += used;
        if (t == WS_EV_DATA) {
            if (ev.data < buf || ev.data + ev.len > buf + size + 1) __builtin_trap();
            int op = echo_open ? WS_OP_CONT : ev.opcode;
            if (ws_send(&ws, op, ev.data, ev.len, ev.fin) == 0) echo_open = !ev.fin;
        }
        size_t on;
        (void)ws_output(&ws, &on);
        if (on > WS_SENDQ_MAX) __builtin_trap();
        if (t == WS_EV_NONE && used == 0) {
            if (on == 0 && off >= size) break;
            ws_output_done(&ws, on);
            if (off >= size) break;
        }
        if (ws_finished(&ws)) break;
    }
    (void)ws_send_room(&ws);
    (void)ws_close(&ws, 1000, "done");
    return 0;
}
