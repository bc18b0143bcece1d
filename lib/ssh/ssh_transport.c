/* RFC 4253 transport, without the key exchange (ssh_kex.c): the
 * identification line (4.2), the binary packet protocol (6) in both
 * directions with the output queue held back during a key exchange (7.1),
 * DISCONNECT (11.1), UNIMPLEMENTED (11.4), the service request (10), and the
 * caller's input and output buffers. */

#include "ssh_core.h"

#define PKT_MIN_PADDING 4u
#define PKT_MIN_LEN 8u                          /* smallest packet_length accepted */
#define PKT_PLAIN_BLOCK 8u                      /* cipher block before keys */
#define DISCONNECT_FIXED 64u                    /* DISCONNECT without its description */
#define IN_COMPACT_BELOW 16384u                 /* compact input when less room is left */
#define HARD_PACKET_LIMIT (1ull << 31)

size_t ssh_out_free(const struct ssh_conn *c)
{
    return SSH_OUTBUF_SIZE - (c->out_end - c->out_start);
}

static int out_make_room(struct ssh_conn *c, size_t need)
{
    if (SSH_OUTBUF_SIZE - c->out_end >= need) return 1;
    if (c->out_start > 0) {
        memmove(c->out, c->out + c->out_start, c->out_end - c->out_start);
        c->out_end -= c->out_start;
        c->out_start = 0;
    }
    return SSH_OUTBUF_SIZE - c->out_end >= need;
}

static void pad_bytes(struct ssh_conn *c, uint8_t *p, size_t n)
{
    while (n > 0) {
        if (c->pad_avail == 0) {
            uint8_t nonce[8];
            struct ssh_wr w;
            wr_init(&w, nonce, sizeof nonce);
            wr_u32(&w, (uint32_t)(c->pad_ctr >> 32));
            wr_u32(&w, (uint32_t)c->pad_ctr);
            c->pad_ctr++;
            crypto_stream_chacha20(c->pad_pool, sizeof c->pad_pool, nonce, c->pad_key);
            c->pad_avail = sizeof c->pad_pool;
        }
        size_t k = n < c->pad_avail ? n : c->pad_avail;
        memcpy(p, c->pad_pool + sizeof c->pad_pool - c->pad_avail, k);
        c->pad_avail -= k; p += k; n -= k;
    }
}

/* Start a packet whose payload is at most max_payload bytes, written with w
 * straight into the output buffer. */
int ssh_pkt_begin(struct ssh_conn *c, struct ssh_wr *w, size_t max_payload)
{
    if (!out_make_room(c, max_payload + PKT_OVERHEAD)) return -1;
    wr_init(w, c->out + c->out_end + PKT_HEADER, max_payload);
    return 0;
}

/* Frame, pad and seal the payload w holds (RFC 4253 6); -1 if w failed. */
int ssh_pkt_end(struct ssh_conn *c, const struct ssh_wr *w)
{
    if (wr_failed(w)) return -1;
    size_t plen = wr_len(w);
    uint8_t *pkt = c->out + c->out_end;
    /* AEAD: the length field is outside the alignment (as OpenSSH does) */
    size_t block = c->out_encrypted ? ssh_cipher_block(c->k_out.alg) : PKT_PLAIN_BLOCK;
    size_t aligned = c->out_encrypted ? (1 + plen) : (PKT_HEADER + plen);
    size_t pad = block - (aligned % block);
    if (pad < PKT_MIN_PADDING) pad += block;
    uint32_t packet_length = (uint32_t)(1 + plen + pad);
    struct ssh_wr h;
    wr_init(&h, pkt, PKT_HEADER);
    wr_u32(&h, packet_length);
    wr_u8(&h, (uint8_t)pad);
    pad_bytes(c, pkt + PKT_HEADER + plen, pad);
    size_t total = 4 + packet_length;
    if (c->out_encrypted) {
        ssh_cipher_seal(&c->k_out, c->seq_out, pkt, packet_length);
        total += SSH_TAG_LEN;
    }
    c->out_end += total;
    c->seq_out++;
    c->out_pkts_since_kex++;
    c->out_bytes_since_kex += total;
    return 0;
}

/* Is a non-key-exchange message forbidden right now (our KEXINIT outstanding)? */
int ssh_out_blocked(const struct ssh_conn *c)
{
    return c->kex_sent_init && !c->kex_sent_newkeys;
}

/* Send a complete payload, or queue it while a key exchange blocks output. */
static void send_bytes(struct ssh_conn *c, const uint8_t *p, size_t n, int kexmsg)
{
    if (c->closed) return;
    struct ssh_wr w;
    if (!kexmsg && ssh_out_blocked(c)) {
        /* the queue is a sequence of strings */
        wr_init(&w, c->defer + c->defer_len, sizeof c->defer - c->defer_len);
        wr_str(&w, p, n);
        if (wr_failed(&w)) { ssh_fatal(c, SSH_R_INTERNAL); return; }
        c->defer_len += wr_len(&w);
        return;
    }
    if (ssh_pkt_begin(c, &w, n) < 0) { ssh_fatal(c, SSH_R_INTERNAL); return; }
    wr_raw(&w, p, n);
    if (ssh_pkt_end(c, &w) < 0) ssh_fatal(c, SSH_R_INTERNAL);
}

/* Send the payload w built; a writer that overflowed fails closed. */
void ssh_send(struct ssh_conn *c, const struct ssh_wr *w, int kexmsg)
{
    if (wr_failed(w)) { ssh_fatal(c, SSH_R_INTERNAL); return; }
    send_bytes(c, wr_data(w), wr_len(w), kexmsg);
}

void ssh_flush_defer(struct ssh_conn *c)
{
    struct ssh_rd r;
    rd_init(&r, c->defer, c->defer_len);
    while (rd_left(&r) > 0 && !c->closed) {
        size_t n;
        const uint8_t *p = rd_str(&r, &n);
        if (rd_failed(&r)) { ssh_fatal(c, SSH_R_INTERNAL); break; }
        send_bytes(c, p, n, 0);
    }
    c->defer_len = 0;
}

static uint32_t disconnect_code(enum ssh_reason r)
{
    switch (r) {
    case SSH_R_PACKET_MAC: return SSH_DISCONNECT_MAC_ERROR;
    case SSH_R_KEX_NO_KEX_ALG: case SSH_R_KEX_NO_HOSTKEY_ALG: case SSH_R_KEX_NO_CIPHER:
    case SSH_R_KEX_NO_COMPRESSION: case SSH_R_KEX_BAD_PUBLIC: case SSH_R_KEX_SIGN_FAILED:
        return SSH_DISCONNECT_KEY_EXCHANGE_FAILED;
    case SSH_R_BAD_SERVICE: return SSH_DISCONNECT_SERVICE_NOT_AVAILABLE;
    case SSH_R_AUTH_TOO_MANY: return SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE;
    case SSH_R_APP_DISCONNECT: return SSH_DISCONNECT_BY_APPLICATION;
    default: return SSH_DISCONNECT_PROTOCOL_ERROR;
    }
}

void ssh_fatal(struct ssh_conn *c, enum ssh_reason r)
{
    if (c->closed) return;
    if (c->phase > PH_BANNER && r != SSH_R_PEER_DISCONNECT && r != SSH_R_INTERNAL) {
        /* straight to the output buffer: never deferred behind a key exchange */
        struct ssh_wr w;
        const char *d = ssh_reason_name(r);
        if (ssh_pkt_begin(c, &w, DISCONNECT_FIXED + strlen(d)) == 0) {
            wr_u8(&w, SSH_MSG_DISCONNECT);
            wr_u32(&w, disconnect_code(r));
            wr_cstr(&w, d);
            wr_cstr(&w, "");                /* language tag */
            (void)ssh_pkt_end(c, &w);
        }
    }
    c->closed = 1;
    c->close_reason = r;
    sodium_memzero(&c->k_in, sizeof c->k_in);
    sodium_memzero(&c->k_in_next, sizeof c->k_in_next);
    sodium_memzero(&c->k_out, sizeof c->k_out);
    sodium_memzero(&c->h_state, sizeof c->h_state);
}

void ssh_disconnect(struct ssh_conn *c, enum ssh_reason reason)
{
    ssh_fatal(c, reason);
}

void ssh_release_in(struct ssh_conn *c)
{
    c->in_start += c->in_release;
    c->in_release = 0;
    if (c->in_start == c->in_end) c->in_start = c->in_end = 0;
}

static void compact_in(struct ssh_conn *c)
{
    if (c->in_start == 0) return;
    memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
    c->in_end -= c->in_start;
    c->in_start = 0;
}

size_t ssh_input_buffer(struct ssh_conn *c, uint8_t **buf)
{
    ssh_release_in(c);
    if (c->in_start > 0 && SSH_INBUF_SIZE - c->in_end < IN_COMPACT_BELOW) compact_in(c);
    *buf = c->in + c->in_end;
    if (c->closed) return 0;
    return SSH_INBUF_SIZE - c->in_end;
}

void ssh_input_commit(struct ssh_conn *c, size_t n)
{
    if (n > SSH_INBUF_SIZE - c->in_end) n = SSH_INBUF_SIZE - c->in_end;
    c->in_end += n;
}

size_t ssh_feed(struct ssh_conn *c, const uint8_t *in, size_t len)
{
    uint8_t *p;
    size_t space = ssh_input_buffer(c, &p);
    if (len > space) len = space;
    memcpy(p, in, len);
    ssh_input_commit(c, len);
    return len;
}

size_t ssh_output(struct ssh_conn *c, const uint8_t **buf)
{
    *buf = c->out + c->out_start;
    return c->out_end - c->out_start;
}

void ssh_output_consume(struct ssh_conn *c, size_t n)
{
    size_t have = c->out_end - c->out_start;
    if (n > have) n = have;
    c->out_start += n;
    if (c->out_start == c->out_end) c->out_start = c->out_end = 0;
}

/* RFC 4253 4.2: the client's identification line.
 * 1: event, 0: need more, -1: ssh_fatal */
int ssh_read_banner(struct ssh_conn *c, struct ssh_event *ev)
{
    struct ssh_rd r;
    size_t n;
    rd_init(&r, c->in + c->in_start, c->in_end - c->in_start);
    const uint8_t *p = rd_line(&r, SSH_MAX_VERSION, &n);
    if (!p) {
        if (rd_left(&r) >= SSH_MAX_VERSION) { ssh_fatal(c, SSH_R_BANNER_TOO_LONG); return -1; }
        return 0;
    }
    if (n < 4 || memcmp(p, "SSH-", 4) != 0 || !ssh_printable(p, n)) {
        ssh_fatal(c, SSH_R_BANNER_MALFORMED);
        return -1;
    }
    size_t pre;
    if (n >= 8 && memcmp(p, "SSH-2.0-", 8) == 0) pre = 8;
    else if (n >= 9 && memcmp(p, "SSH-1.99-", 9) == 0) pre = 9;
    else { ssh_fatal(c, SSH_R_BANNER_VERSION); return -1; }
    if (n == pre || p[pre] == ' ') { ssh_fatal(c, SSH_R_BANNER_MALFORMED); return -1; }
    memcpy(c->v_c, p, n);
    c->v_c_len = n;
    size_t line;
    (void)rd_consumed(&r, &line);
    c->in_start += line;
    c->phase = PH_KEX;
    ev->type = SSH_EV_CLIENT_VERSION;
    ev->data = c->v_c;
    ev->len = c->v_c_len;
    return 1;
}

/* RFC 4253 6: the next packet's payload, decrypted and checked, in *payload.
 * 1: packet, 0: need more, -1: ssh_fatal */
int ssh_read_packet(struct ssh_conn *c, struct ssh_rd *payload)
{
    size_t avail = c->in_end - c->in_start;
    if (avail < 4) {
        if (c->in_start + 4 > SSH_INBUF_SIZE) compact_in(c);
        return 0;
    }
    uint8_t *p = c->in + c->in_start;
    if (!c->have_in_len) {
        uint32_t len;
        if (c->in_encrypted) {
            len = ssh_cipher_length(&c->k_in, c->seq_in, p);
        } else {
            struct ssh_rd h;
            rd_init(&h, p, 4);
            len = rd_u32(&h);
        }
        /* bounds before any further use */
        if (len > SSH_MAX_PACKET_LEN || len < PKT_MIN_LEN) { ssh_fatal(c, SSH_R_PACKET_LENGTH); return -1; }
        if (c->in_encrypted ? (len % ssh_cipher_block(c->k_in.alg)) != 0
                            : ((len + 4) % PKT_PLAIN_BLOCK) != 0) {
            ssh_fatal(c, SSH_R_PACKET_LENGTH);
            return -1;
        }
        c->have_in_len = 1;
        c->in_pkt_len = len;
    }
    uint32_t len = c->in_pkt_len;
    size_t total = 4 + (size_t)len + (c->in_encrypted ? SSH_TAG_LEN : 0);
    if (avail < total) {
        if (c->in_start + total > SSH_INBUF_SIZE) compact_in(c);
        return 0;
    }
    if (c->in_encrypted && ssh_cipher_open(&c->k_in, c->seq_in, p, len) != 0) {
        ssh_fatal(c, SSH_R_PACKET_MAC);
        return -1;
    }
    struct ssh_rd body;
    rd_init(&body, p + 4, len);
    uint8_t pad = rd_u8(&body);
    /* padding >= 4, payload >= 1 byte */
    if (pad < PKT_MIN_PADDING || (size_t)pad + 2 > len) { ssh_fatal(c, SSH_R_PACKET_PADDING); return -1; }
    rd_init(payload, p + PKT_HEADER, len - 1 - pad);
    c->in_release = total;
    c->have_in_len = 0;
    c->seq_in++;
    c->in_pkts_since_kex++;
    c->in_bytes_since_kex += total;
    if (c->seq_in == 0 && c->kex_count == 0) { ssh_fatal(c, SSH_R_SEQ_WRAP); return -1; }
    if (c->in_pkts_since_kex >= HARD_PACKET_LIMIT) { ssh_fatal(c, SSH_R_SEQ_WRAP); return -1; }
    return 1;
}

void ssh_send_unimplemented(struct ssh_conn *c)
{
    struct ssh_reply m;
    struct ssh_wr *w = ssh_reply_begin(&m, SSH_MSG_UNIMPLEMENTED);
    wr_u32(w, c->seq_in - 1);           /* the rejected packet's sequence number */
    ssh_send(c, w, 0);
}

/* RFC 4253 10 */
int ssh_on_service_request(struct ssh_conn *c, struct ssh_rd *r)
{
    size_t nl;
    const uint8_t *name = rd_str(r, &nl);
    if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (!str_eq(name, nl, "ssh-userauth")) { ssh_fatal(c, SSH_R_BAD_SERVICE); return -1; }
    struct ssh_reply m;
    struct ssh_wr *w = ssh_reply_begin(&m, SSH_MSG_SERVICE_ACCEPT);
    wr_cstr(w, "ssh-userauth");
    ssh_send(c, w, 0);
    c->phase = PH_AUTH;
    return 0;
}
