/* WebSocket server side (RFC 6455), sans-IO.  See ws.h. */
#include "ws.h"

#include <bearssl/bearssl_hash.h>
#include <string.h>

static const struct { const char *name; int status; uint16_t code; } reasons[WS_R_COUNT] = {
    [WS_OK]                   = { "ok", 101, WS_CLOSE_NORMAL },
    [WS_R_NOT_GET]            = { "handshake.method", 405, 0 },
    [WS_R_NOT_HTTP11]         = { "handshake.version", 400, 0 },
    [WS_R_NO_UPGRADE]         = { "handshake.upgrade", 426, 0 },
    [WS_R_NO_CONNECTION]      = { "handshake.connection", 400, 0 },
    [WS_R_VERSION]            = { "handshake.ws-version", 426, 0 },
    [WS_R_KEY]                = { "handshake.key", 400, 0 },
    [WS_R_ORIGIN]             = { "handshake.origin", 403, 0 },
    [WS_R_HAS_BODY]           = { "handshake.body", 400, 0 },
    [WS_R_RSV]                = { "frame.rsv", 0, WS_CLOSE_PROTOCOL },
    [WS_R_OPCODE]             = { "frame.opcode", 0, WS_CLOSE_PROTOCOL },
    [WS_R_UNMASKED]           = { "frame.unmasked", 0, WS_CLOSE_PROTOCOL },
    [WS_R_CONTROL_LEN]        = { "frame.control-len", 0, WS_CLOSE_PROTOCOL },
    [WS_R_CONTROL_FRAGMENTED] = { "frame.control-fragmented", 0, WS_CLOSE_PROTOCOL },
    [WS_R_LEN_ENCODING]       = { "frame.len-encoding", 0, WS_CLOSE_PROTOCOL },
    [WS_R_CONT_UNEXPECTED]    = { "message.cont-unexpected", 0, WS_CLOSE_PROTOCOL },
    [WS_R_DATA_IN_MESSAGE]    = { "message.interleaved", 0, WS_CLOSE_PROTOCOL },
    [WS_R_TOO_BIG]            = { "message.too-big", 0, WS_CLOSE_TOO_BIG },
    [WS_R_UTF8]               = { "message.utf8", 0, WS_CLOSE_INVALID_DATA },
    [WS_R_CLOSE_LEN]          = { "close.len", 0, WS_CLOSE_PROTOCOL },
    [WS_R_CLOSE_CODE]         = { "close.code", 0, WS_CLOSE_PROTOCOL },
};

const char *ws_reason_name(int r)
{
    return (r >= 0 && r < WS_R_COUNT) ? reasons[r].name : "unknown";
}

int ws_reason(const struct ws_conn *c) { return c->reason; }

int ws_handshake_status(int r)
{
    return (r >= 0 && r < WS_R_COUNT && reasons[r].status) ? reasons[r].status : 400;
}

/* ---- the handshake ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(uint8_t ch)
{
    const char *p = ch ? strchr(b64, ch) : NULL;
    return p ? (int)(p - b64) : -1;
}

void ws_accept_key(const uint8_t *key, size_t key_len, char out[WS_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    br_sha1_context h;
    uint8_t d[br_sha1_SIZE + 1];
    br_sha1_init(&h);
    br_sha1_update(&h, key, key_len);
    br_sha1_update(&h, guid, sizeof guid - 1);
    br_sha1_out(&h, d);
    d[20] = 0;
    size_t o = 0;
    for (size_t i = 0; i < 21; i += 3) {
        uint32_t v = ((uint32_t)d[i] << 16) | ((uint32_t)d[i + 1] << 8) | (i + 2 < 21 ? d[i + 2] : 0);
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    out[27] = '=';          /* 20 bytes: 27 characters and one pad */
    out[28] = 0;
}

/* base64 of exactly 16 bytes, canonical: 22 characters (the last with its
 * low 4 bits clear) and "==" */
static int key_ok(const uint8_t *k, size_t n)
{
    if (n != 24 || k[22] != '=' || k[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++)
        if (b64val(k[i]) < 0) return 0;
    return (b64val(k[21]) & 15) == 0;
}

static int origin_ok(const struct http_conn *req, const struct ws_config *cfg)
{
    if (!cfg->origins) return 1;
    size_t n;
    const uint8_t *o = http_header(req, "origin", &n);
    if (!o) return 0;
    for (const char *const *a = cfg->origins; *a; a++)
        if (strlen(*a) == n && memcmp(*a, o, n) == 0) return 1;
    return 0;
}

static int check_upgrade(const struct http_conn *req, const struct ws_config *cfg)
{
    size_t n;
    if (!http_method_is(req, "GET")) return WS_R_NOT_GET;
    if (http_version_minor(req) != 1) return WS_R_NOT_HTTP11;
    if (http_has_body(req)) return WS_R_HAS_BODY;
    if (!http_header_has_token(req, "upgrade", "websocket")) return WS_R_NO_UPGRADE;
    if (!http_header_has_token(req, "connection", "upgrade")) return WS_R_NO_CONNECTION;
    const uint8_t *v = http_header(req, "sec-websocket-version", &n);
    if (!v || n != 2 || v[0] != '1' || v[1] != '3') return WS_R_VERSION;
    v = http_header(req, "sec-websocket-key", &n);
    if (!v || !key_ok(v, n) || http_header_count(req, "sec-websocket-key") != 1) return WS_R_KEY;
    if (http_header_count(req, "origin") > 1 || !origin_ok(req, cfg)) return WS_R_ORIGIN;
    return WS_OK;
}

int ws_handshake(const struct http_conn *req, const struct ws_config *cfg, struct http_wr *w)
{
    int r = check_upgrade(req, cfg);
    if (r == WS_OK) {
        size_t n;
        const uint8_t *k = http_header(req, "sec-websocket-key", &n);
        char acc[WS_ACCEPT_LEN + 1];
        ws_accept_key(k, n, acc);
        http_wr_status(w, 101);
        http_wr_header(w, "Upgrade", "websocket");
        http_wr_header(w, "Connection", "Upgrade");
        http_wr_header(w, "Sec-WebSocket-Accept", acc);
        http_wr_end_head(w);
        return WS_OK;
    }
    const char *name = reasons[r].name;
    http_wr_status(w, reasons[r].status);
    if (r == WS_R_VERSION) http_wr_header(w, "Sec-WebSocket-Version", "13");
    http_wr_header(w, "Content-Type", "application/json");
    http_wr_header_u64(w, "Content-Length", 13 + strlen(name));
    http_wr_header(w, "Connection", "close");
    http_wr_end_head(w);
    http_wr_str(w, "{\"error\":");
    http_wr_json_str(w, (const uint8_t *)name, strlen(name));
    http_wr_str(w, "}\n");
    return r;
}

/* ---- UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF ---- */

static int utf8_step(uint8_t *need, uint8_t *lo, uint8_t *hi, uint8_t b)
{
    if (*need == 0) {
        if (b < 0x80) return 1;
        *lo = 0x80; *hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) *need = 1;
        else if (b == 0xE0) { *need = 2; *lo = 0xA0; }
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) *need = 2;
        else if (b == 0xED) { *need = 2; *hi = 0x9F; }
        else if (b == 0xF0) { *need = 3; *lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) *need = 3;
        else if (b == 0xF4) { *need = 3; *hi = 0x8F; }
        else return 0;
        return 1;
    }
    if (b < *lo || b > *hi) return 0;
    (*need)--;
    *lo = 0x80; *hi = 0xBF;
    return 1;
}

static int utf8_whole(const uint8_t *p, size_t n)
{
    uint8_t need = 0, lo = 0x80, hi = 0xBF;
    for (size_t i = 0; i < n; i++)
        if (!utf8_step(&need, &lo, &hi, p[i])) return 0;
    return need == 0;
}

/* ---- the send queue ---- */

void ws_init(struct ws_conn *c, const struct ws_config *cfg)
{
    memset(c, 0, offsetof(struct ws_conn, q));
    c->cfg = *cfg;
    if (!c->cfg.max_message) c->cfg.max_message = WS_DEF_MAX_MESSAGE;
    if (!c->cfg.sendq || c->cfg.sendq > WS_SENDQ_MAX) c->cfg.sendq = WS_SENDQ_MAX;
    if (c->cfg.sendq < 256) c->cfg.sendq = 256;
}

static size_t room(const struct ws_conn *c) { return c->cfg.sendq - c->q_len; }

static size_t hdr_size(size_t len) { return len < 126 ? 2 : len <= 0xffff ? 4 : 10; }

size_t ws_send_room(const struct ws_conn *c)
{
    /* the largest payload p with p + hdr_size(p) <= room */
    size_t r = room(c), best = 0;
    if (r >= 2) best = r - 2 < 125 ? r - 2 : 125;
    if (r >= 4 + 126) best = r - 4 < 0xffff ? r - 4 : 0xffff;
    if (r >= 10 + 0x10000) best = r - 10;
    return best;
}

/* append one unmasked frame; the caller checked the room */
static void put_frame(struct ws_conn *c, int opcode, int fin, const uint8_t *a, size_t an,
                      const void *b, size_t bn)
{
    size_t len = an + bn;
    if (c->q_off + c->q_len + hdr_size(len) + len > c->cfg.sendq) {
        memmove(c->q, c->q + c->q_off, c->q_len);
        c->q_off = 0;
    }
    uint8_t *p = c->q + c->q_off + c->q_len;
    size_t h = 0;
    p[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        p[h++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        p[h++] = 126;
        p[h++] = (uint8_t)(len >> 8);
        p[h++] = (uint8_t)len;
    } else {
        p[h++] = 127;
        for (int s = 56; s >= 0; s -= 8) p[h++] = (uint8_t)((uint64_t)len >> s);
    }
    if (an) memcpy(p + h, a, an);
    if (bn) memcpy(p + h + an, b, bn);
    c->q_len += h + len;
}

int ws_send(struct ws_conn *c, int opcode, const void *data, size_t len, int fin)
{
    if (c->closed_tx) return -1;
    switch (opcode) {
    case WS_OP_TEXT: case WS_OP_BINARY:
        if (c->send_open) return -1;
        break;
    case WS_OP_CONT:
        if (!c->send_open) return -1;
        break;
    case WS_OP_PING: case WS_OP_PONG:
        if (len > WS_CONTROL_MAX || !fin) return -1;
        break;
    default:
        return -1;
    }
    if (len > room(c) || hdr_size(len) + len > room(c)) return -1;
    put_frame(c, opcode, fin, NULL, 0, data, len);
    if (opcode <= WS_OP_BINARY) c->send_open = !fin;
    return 0;
}

static int queue_close(struct ws_conn *c, uint16_t code, const uint8_t *reason, size_t rlen)
{
    if (c->closed_tx) return -1;
    if (rlen > WS_CONTROL_MAX - 2) rlen = WS_CONTROL_MAX - 2;
    if (2 + 2 + rlen > room(c)) return -1;
    uint8_t cb[2] = { (uint8_t)(code >> 8), (uint8_t)code };
    if (code == WS_CLOSE_NO_STATUS) put_frame(c, WS_OP_CLOSE, 1, NULL, 0, NULL, 0);
    else put_frame(c, WS_OP_CLOSE, 1, cb, 2, reason, rlen);
    c->closed_tx = 1;
    return 0;
}

int ws_close(struct ws_conn *c, uint16_t code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n > WS_CONTROL_MAX - 2 || !utf8_whole((const uint8_t *)reason, n)) return -1;
    return queue_close(c, code, (const uint8_t *)reason, n);
}

const uint8_t *ws_output(const struct ws_conn *c, size_t *len)
{
    *len = c->q_len;
    return c->q + c->q_off;
}

void ws_output_done(struct ws_conn *c, size_t n)
{
    if (n > c->q_len) n = c->q_len;
    c->q_off += n;
    c->q_len -= n;
    if (c->q_len == 0) c->q_off = 0;
}

int ws_finished(const struct ws_conn *c)
{
    return c->closed_tx && (c->closed_rx || c->failed) && c->q_len == 0;
}

/* ---- frames ---- */

static int fail(struct ws_conn *c, struct ws_event *ev, int reason)
{
    c->failed = 1;
    c->reason = reason;
    ev->type = WS_EV_ERROR;
    ev->code = reasons[reason].code;
    queue_close(c, ev->code, NULL, 0);
    return WS_EV_ERROR;
}

static int close_code_ok(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

static int control_done(struct ws_conn *c, struct ws_event *ev)
{
    ev->data = c->ctl;
    ev->len = c->ctl_len;
    ev->opcode = c->opcode;
    ev->fin = 1;
    if (c->opcode == WS_OP_PING) {
        put_frame(c, WS_OP_PONG, 1, c->ctl, c->ctl_len, NULL, 0);   /* room held back in ws_feed */
        ev->type = WS_EV_PING;
        return WS_EV_PING;
    }
    if (c->opcode == WS_OP_PONG) {
        ev->type = WS_EV_PONG;
        return WS_EV_PONG;
    }
    uint16_t code = WS_CLOSE_NO_STATUS;
    if (c->ctl_len == 1) return fail(c, ev, WS_R_CLOSE_LEN);
    if (c->ctl_len >= 2) {
        code = (uint16_t)((c->ctl[0] << 8) | c->ctl[1]);
        if (!close_code_ok(code)) return fail(c, ev, WS_R_CLOSE_CODE);
        if (!utf8_whole(c->ctl + 2, c->ctl_len - 2)) return fail(c, ev, WS_R_UTF8);
        ev->data = c->ctl + 2;
        ev->len = c->ctl_len - 2;
    }
    c->closed_rx = 1;
    queue_close(c, code, NULL, 0);
    ev->type = WS_EV_CLOSE;
    ev->code = code;
    return WS_EV_CLOSE;
}

/* the frame header is complete: validate it and set up the payload */
static int header_done(struct ws_conn *c, struct ws_event *ev)
{
    const uint8_t *h = c->hdr;
    uint64_t len = h[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        at = 4;
        if (len < 126) return fail(c, ev, WS_R_LEN_ENCODING);
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | h[2 + i];
        at = 10;
        if (len <= 0xffff || (len >> 63)) return fail(c, ev, WS_R_LEN_ENCODING);
    }
    memcpy(c->mask, h + at, 4);
    c->mask_off = 0;
    c->payload_left = len;
    c->in_payload = 1;
    c->ctl_len = 0;
    if (c->opcode >= WS_OP_CLOSE) return WS_EV_NONE;
    if (c->opcode == WS_OP_CONT) {
        if (!c->msg_open) return fail(c, ev, WS_R_CONT_UNEXPECTED);
    } else {
        if (c->msg_open) return fail(c, ev, WS_R_DATA_IN_MESSAGE);
        c->msg_open = 1;
        c->msg_opcode = c->opcode;
        c->msg_len = 0;
        c->u8_need = 0;
    }
    if (len > c->cfg.max_message - c->msg_len) return fail(c, ev, WS_R_TOO_BIG);
    c->msg_len += len;
    return WS_EV_NONE;
}

/* the first two header bytes are in: what they alone can refuse, and the header's length */
static int first_two(struct ws_conn *c, struct ws_event *ev, size_t *need)
{
    uint8_t b0 = c->hdr[0], b1 = c->hdr[1];
    c->fin = b0 >> 7;
    c->opcode = b0 & 15;
    if (b0 & 0x70) return fail(c, ev, WS_R_RSV);
    if ((c->opcode > WS_OP_BINARY && c->opcode < WS_OP_CLOSE) || c->opcode > WS_OP_PONG)
        return fail(c, ev, WS_R_OPCODE);
    if (!(b1 & 0x80)) return fail(c, ev, WS_R_UNMASKED);
    unsigned l7 = b1 & 0x7f;
    if (c->opcode >= WS_OP_CLOSE) {
        if (l7 > WS_CONTROL_MAX) return fail(c, ev, WS_R_CONTROL_LEN);
        if (!c->fin) return fail(c, ev, WS_R_CONTROL_FRAGMENTED);
    }
    *need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + 4;
    return WS_EV_NONE;
}

int ws_feed(struct ws_conn *c, uint8_t *in, size_t len, size_t *used, struct ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    *used = 0;
    if (c->failed || c->closed_rx) {   /* nothing after a close or an error is read */
        *used = len;
        return WS_EV_NONE;
    }
    if (room(c) < 2 + WS_CONTROL_MAX) return WS_EV_NONE;   /* back-pressure */
    size_t i = 0;
    while (i < len || (c->in_payload && c->payload_left == 0)) {
        if (!c->in_payload) {
            c->hdr[c->hdr_len++] = in[i++];
            size_t need = 2;
            if (c->hdr_len >= 2) {
                if (first_two(c, ev, &need)) { *used = i; return WS_EV_ERROR; }
            }
            if (c->hdr_len < need) continue;
            c->hdr_len = 0;
            if (header_done(c, ev)) { *used = i; return WS_EV_ERROR; }
            continue;       /* an empty payload is handled by the loop condition */
        }
        size_t n = len - i < c->payload_left ? len - i : (size_t)c->payload_left;
        uint8_t *p = in + i;
        for (size_t k = 0; k < n; k++) p[k] ^= c->mask[c->mask_off++ & 3];
        c->payload_left -= n;
        i += n;
        *used = i;
        if (c->opcode >= WS_OP_CLOSE) {
            memcpy(c->ctl + c->ctl_len, p, n);
            c->ctl_len += n;
            if (c->payload_left) continue;
            c->in_payload = 0;
            return control_done(c, ev);
        }
        int last = c->payload_left == 0;
        if (c->msg_opcode == WS_OP_TEXT) {
            for (size_t k = 0; k < n; k++)
                if (!utf8_step(&c->u8_need, &c->u8_lo, &c->u8_hi, p[k])) return fail(c, ev, WS_R_UTF8);
            if (last && c->fin && c->u8_need) return fail(c, ev, WS_R_UTF8);
        }
        if (last) c->in_payload = 0;
        if (n == 0 && !(last && c->fin)) continue;   /* empty non-final frame: nothing to report */
        ev->type = WS_EV_DATA;
        ev->opcode = c->msg_opcode;
        ev->fin = last && c->fin;
        ev->data = p;
        ev->len = n;
        if (ev->fin) c->msg_open = 0;
        return WS_EV_DATA;
    }
    *used = i;
    return WS_EV_NONE;
}
