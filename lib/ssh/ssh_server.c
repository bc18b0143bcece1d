/* lib/ssh server state machine: transport (RFC 4253), user authentication
 * (RFC 4252, publickey only), connection protocol (RFC 4254, one session). */
#include "ssh_internal.h"

/* c->phase */
enum { PH_BANNER = 0, PH_KEX, PH_SERVICE, PH_AUTH, PH_CONN };
/* c->chan_state */
enum { CHAN_NONE = 0, CHAN_OPEN, CHAN_CLOSED };

/* Output space kept free for protocol replies: before a packet is processed
 * at least this much must be free, and no single packet produces more. */
#define OUT_RESERVE 4096u
#define PKT_HEADER 5u                           /* packet_length, padding_length */
#define PKT_MIN_PADDING 4u
#define PKT_MIN_LEN 8u                          /* smallest packet_length accepted */
#define PKT_PLAIN_BLOCK 8u                      /* cipher block before keys */
#define PKT_OVERHEAD (PKT_HEADER + 19u + SSH_TAG_LEN)   /* header, largest padding, tag */
#define DISCONNECT_FIXED 64u                    /* DISCONNECT without its description */
#define REPLY_MAX 256u                          /* largest reply payload built on the stack */
#define IN_COMPACT_BELOW 16384u                 /* compact input when less room is left */
#define MAX_AUTH_REQUESTS 64u
#define USERAUTH_SIGNED_MAX 512u                /* session id + signed request */
#define DEFAULT_MAX_AUTH_ATTEMPTS 6u
#define DEFAULT_LOGIN_GRACE_MS 120000u
#define DEFAULT_REKEY_BYTES (1ull << 30)
#define REKEY_PACKETS (1ull << 28)
#define HARD_PACKET_LIMIT (1ull << 31)
#define SOFTWARE_MAX 200u                       /* longest softwareversion we send */
#define CHANNEL_DATA_HEADER 9u                  /* type, recipient, data length */
/* window replenished once this much is acknowledged, or the window is this low */
#define WINDOW_ADJUST_ACKED (SSH_CHAN_WINDOW / 8)
#define WINDOW_ADJUST_LOW (SSH_CHAN_WINDOW / 2)
#define OUR_CHANNEL_ID 0u                       /* the one session channel */

static const char *const kex_algs[] = { "curve25519-sha256", "curve25519-sha256@libssh.org", NULL };
/* first exchange: also the strict-KEX marker (never chosen, only announced) */
static const char *const kex_algs_first[] = { "curve25519-sha256", "curve25519-sha256@libssh.org",
                                              "kex-strict-s-v00@openssh.com", NULL };
static const char *const hostkey_algs[] = { "ssh-ed25519", NULL };
static const char *const cipher_algs[] = { "chacha20-poly1305@openssh.com", NULL };
static const char *const cipher_algs_gcm[] = { "chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", NULL };
static const char *const comp_algs[] = { "none", NULL };
/* MACs are not used with an AEAD cipher (and never negotiated here); the
 * list is non-empty only because some clients insist on a common entry. */
static const char *const mac_algs[] = { "hmac-sha2-256", NULL };
static const char *const no_langs[] = { NULL };
static const char *const auth_methods[] = { "publickey", NULL };

static const char *const reason_names[SSH_R__COUNT] = {
    [SSH_R_NONE] = "none",
    [SSH_R_BANNER_MALFORMED] = "banner.malformed",
    [SSH_R_BANNER_TOO_LONG] = "banner.too-long",
    [SSH_R_BANNER_VERSION] = "banner.version",
    [SSH_R_PACKET_LENGTH] = "packet.length",
    [SSH_R_PACKET_PADDING] = "packet.padding",
    [SSH_R_PACKET_MAC] = "packet.mac",
    [SSH_R_PACKET_DECODE] = "packet.decode",
    [SSH_R_SEQ_WRAP] = "packet.sequence-wrap",
    [SSH_R_UNEXPECTED_MESSAGE] = "protocol.unexpected-message",
    [SSH_R_KEX_STRICT] = "kex.strict-violation",
    [SSH_R_KEX_NO_KEX_ALG] = "kex.no-common-kex",
    [SSH_R_KEX_NO_HOSTKEY_ALG] = "kex.no-common-hostkey",
    [SSH_R_KEX_NO_CIPHER] = "kex.no-common-cipher",
    [SSH_R_KEX_NO_COMPRESSION] = "kex.no-common-compression",
    [SSH_R_KEX_BAD_PUBLIC] = "kex.bad-ecdh-public",
    [SSH_R_KEX_SIGN_FAILED] = "kex.hostkey-sign-failed",
    [SSH_R_BAD_SERVICE] = "protocol.bad-service",
    [SSH_R_AUTH_TOO_MANY] = "auth.too-many-attempts",
    [SSH_R_AUTH_TIMEOUT] = "auth.grace-timeout",
    [SSH_R_CHANNEL_PROTOCOL] = "channel.protocol-error",
    [SSH_R_PEER_DISCONNECT] = "peer.disconnect",
    [SSH_R_APP_DISCONNECT] = "app.disconnect",
    [SSH_R_INTERNAL] = "internal.error",
    [SSH_R_DENY_EXEC] = "deny.exec",
    [SSH_R_DENY_SUBSYSTEM] = "deny.subsystem",
    [SSH_R_DENY_ENV] = "deny.env",
    [SSH_R_DENY_X11] = "deny.x11",
    [SSH_R_DENY_AGENT] = "deny.agent",
    [SSH_R_DENY_TCPIP_FORWARD] = "deny.tcpip-forward",
    [SSH_R_DENY_DIRECT_TCPIP] = "deny.direct-tcpip",
    [SSH_R_DENY_STREAMLOCAL] = "deny.streamlocal",
    [SSH_R_DENY_SECOND_SESSION] = "deny.second-session",
    [SSH_R_DENY_CHANNEL_TYPE] = "deny.channel-type",
    [SSH_R_DENY_CHANNEL_REQUEST] = "deny.channel-request",
    [SSH_R_DENY_GLOBAL_REQUEST] = "deny.global-request",
    [SSH_R_DENY_PTY] = "deny.pty",
    [SSH_R_DENY_SHELL] = "deny.shell",
    [SSH_R_AUTH_NONE] = "auth.none",
    [SSH_R_AUTH_PASSWORD] = "auth.password-disabled",
    [SSH_R_AUTH_KBDINT] = "auth.kbdint-disabled",
    [SSH_R_AUTH_METHOD] = "auth.method-unknown",
    [SSH_R_AUTH_KEY_ALG] = "auth.key-algorithm",
    [SSH_R_AUTH_KEY_UNKNOWN] = "auth.key-unknown",
    [SSH_R_AUTH_BAD_SIGNATURE] = "auth.bad-signature",
    [SSH_R_AUTH_BAD_USER] = "auth.bad-user",
    [SSH_R_AUTH_BAD_SERVICE] = "auth.bad-service",
};

const char *ssh_reason_name(enum ssh_reason r)
{
    if ((unsigned)r >= SSH_R__COUNT || !reason_names[r]) return "unknown";
    return reason_names[r];
}

/* ------------------------------------------------------------------ output */

static size_t out_free(const struct ssh_conn *c)
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
static int pkt_begin(struct ssh_conn *c, struct ssh_wr *w, size_t max_payload)
{
    if (!out_make_room(c, max_payload + PKT_OVERHEAD)) return -1;
    wr_init(w, c->out + c->out_end + PKT_HEADER, max_payload);
    return 0;
}

/* Frame, pad and seal the payload w holds (RFC 4253 6); -1 if w failed. */
static int pkt_end(struct ssh_conn *c, const struct ssh_wr *w)
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
static int out_blocked(const struct ssh_conn *c)
{
    return c->kex_sent_init && !c->kex_sent_newkeys;
}

static void fatal(struct ssh_conn *c, enum ssh_reason r);

/* Send a complete payload, or queue it while a key exchange blocks output. */
static void send_bytes(struct ssh_conn *c, const uint8_t *p, size_t n, int kexmsg)
{
    if (c->closed) return;
    struct ssh_wr w;
    if (!kexmsg && out_blocked(c)) {
        /* the queue is a sequence of strings */
        wr_init(&w, c->defer + c->defer_len, sizeof c->defer - c->defer_len);
        wr_str(&w, p, n);
        if (wr_failed(&w)) { fatal(c, SSH_R_INTERNAL); return; }
        c->defer_len += wr_len(&w);
        return;
    }
    if (pkt_begin(c, &w, n) < 0) { fatal(c, SSH_R_INTERNAL); return; }
    wr_raw(&w, p, n);
    if (pkt_end(c, &w) < 0) fatal(c, SSH_R_INTERNAL);
}

/* Send the payload w built; a writer that overflowed fails closed. */
static void send_payload(struct ssh_conn *c, const struct ssh_wr *w, int kexmsg)
{
    if (wr_failed(w)) { fatal(c, SSH_R_INTERNAL); return; }
    send_bytes(c, wr_data(w), wr_len(w), kexmsg);
}

/* A reply being built on the stack. */
struct reply { struct ssh_wr w; uint8_t buf[REPLY_MAX]; };

static struct ssh_wr *reply_begin(struct reply *m, uint8_t type)
{
    wr_init(&m->w, m->buf, sizeof m->buf);
    wr_u8(&m->w, type);
    return &m->w;
}

static void flush_defer(struct ssh_conn *c)
{
    struct ssh_rd r;
    rd_init(&r, c->defer, c->defer_len);
    while (rd_left(&r) > 0 && !c->closed) {
        size_t n;
        const uint8_t *p = rd_str(&r, &n);
        if (rd_failed(&r)) { fatal(c, SSH_R_INTERNAL); break; }
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

static void fatal(struct ssh_conn *c, enum ssh_reason r)
{
    if (c->closed) return;
    if (c->phase > PH_BANNER && r != SSH_R_PEER_DISCONNECT && r != SSH_R_INTERNAL) {
        /* straight to the output buffer: never deferred behind a key exchange */
        struct ssh_wr w;
        const char *d = ssh_reason_name(r);
        if (pkt_begin(c, &w, DISCONNECT_FIXED + strlen(d)) == 0) {
            wr_u8(&w, SSH_MSG_DISCONNECT);
            wr_u32(&w, disconnect_code(r));
            wr_cstr(&w, d);
            wr_cstr(&w, "");                /* language tag */
            (void)pkt_end(c, &w);
        }
    }
    c->closed = 1;
    c->close_reason = r;
    sodium_memzero(&c->k_in, sizeof c->k_in);
    sodium_memzero(&c->k_in_next, sizeof c->k_in_next);
    sodium_memzero(&c->k_out, sizeof c->k_out);
    sodium_memzero(&c->h_state, sizeof c->h_state);
}

/* ------------------------------------------------------------------ init */

static int printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e) return 0;
    return 1;
}

/* copy a peer-supplied string into evtext, replacing non-printables */
static const uint8_t *sanitize(struct ssh_conn *c, const uint8_t *s, size_t n, size_t *outlen)
{
    if (n > sizeof c->evtext) n = sizeof c->evtext;
    for (size_t i = 0; i < n; i++)
        c->evtext[i] = (s[i] >= 0x20 && s[i] <= 0x7e) ? s[i] : '?';
    *outlen = n;
    return c->evtext;
}

static void send_kexinit(struct ssh_conn *c)
{
    struct ssh_wr w;
    wr_init(&w, c->i_s, sizeof c->i_s);
    uint8_t *cookie;
    wr_u8(&w, SSH_MSG_KEXINIT);
    if ((cookie = wr_reserve(&w, SSH_KEXINIT_COOKIE_LEN)) != NULL)
        c->cfg.random(c->cfg.ctx, cookie, SSH_KEXINIT_COOKIE_LEN);
    wr_namelist(&w, c->kex_count == 0 ? kex_algs_first : kex_algs);
    wr_namelist(&w, hostkey_algs);
    const char *const *ciphers = crypto_aead_aes256gcm_is_available() ? cipher_algs_gcm : cipher_algs;
    wr_namelist(&w, ciphers);           /* client to server */
    wr_namelist(&w, ciphers);           /* server to client */
    wr_namelist(&w, mac_algs);
    wr_namelist(&w, mac_algs);
    wr_namelist(&w, comp_algs);
    wr_namelist(&w, comp_algs);
    wr_namelist(&w, no_langs);
    wr_namelist(&w, no_langs);
    wr_bool(&w, 0);                     /* first_kex_packet_follows */
    wr_u32(&w, 0);                      /* reserved */
    c->i_s_len = wr_len(&w);
    send_payload(c, &w, 1);
    c->kex_sent_init = 1;
}

int ssh_server_init(struct ssh_conn *c, const struct ssh_server_config *cfg, uint64_t now_ms)
{
    if (!cfg || !cfg->sign || !cfg->authorize || !cfg->random) return -1;
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.max_auth_attempts) c->cfg.max_auth_attempts = DEFAULT_MAX_AUTH_ATTEMPTS;
    if (!c->cfg.login_grace_ms) c->cfg.login_grace_ms = DEFAULT_LOGIN_GRACE_MS;
    if (!c->cfg.rekey_bytes) c->cfg.rekey_bytes = DEFAULT_REKEY_BYTES;
    c->now_ms = now_ms;
    c->grace_deadline_ms = now_ms + c->cfg.login_grace_ms;
    c->cfg.random(c->cfg.ctx, c->pad_key, sizeof c->pad_key);

    const char *sw = cfg->software ? cfg->software : "capOS";
    size_t swl = strlen(sw);
    if (swl == 0 || swl > SOFTWARE_MAX || !printable((const uint8_t *)sw, swl) || strchr(sw, ' ') ||
        strchr(sw, '-')) {
        sw = "capOS"; swl = 5;
    }
    struct ssh_wr w;
    wr_init(&w, c->v_s, sizeof c->v_s);
    wr_raw(&w, "SSH-2.0-", 8);
    wr_raw(&w, sw, swl);
    c->v_s_len = wr_len(&w);
    wr_init(&w, c->out, sizeof c->out);    /* the identification line goes first */
    wr_raw(&w, c->v_s, c->v_s_len);
    wr_raw(&w, "\r\n", 2);
    c->out_end = wr_len(&w);
    c->phase = PH_BANNER;
    send_kexinit(c);
    return 0;
}

void ssh_conn_wipe(struct ssh_conn *c)
{
    sodium_memzero(c, sizeof *c);
}

/* ------------------------------------------------------------------ I/O */

static void release_in(struct ssh_conn *c)
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
    release_in(c);
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

void ssh_tick(struct ssh_conn *c, uint64_t now_ms)
{
    if (now_ms > c->now_ms) c->now_ms = now_ms;
}

uint64_t ssh_deadline(const struct ssh_conn *c)
{
    if (c->closed || c->phase == PH_CONN) return UINT64_MAX;
    return c->grace_deadline_ms;
}

int ssh_kex_strict(const struct ssh_conn *c)
{
    return c->strict;
}

int ssh_is_closed(const struct ssh_conn *c)
{
    return c->closed && c->disconnect_reported;
}

void ssh_disconnect(struct ssh_conn *c, enum ssh_reason reason)
{
    fatal(c, reason);
}

/* ------------------------------------------------------------------ banner */

/* RFC 4253 4.2: the client's identification line.
 * 1: event, 0: need more, -1: fatal */
static int do_banner(struct ssh_conn *c, struct ssh_event *ev)
{
    struct ssh_rd r;
    size_t n;
    rd_init(&r, c->in + c->in_start, c->in_end - c->in_start);
    const uint8_t *p = rd_line(&r, SSH_MAX_VERSION, &n);
    if (!p) {
        if (rd_left(&r) >= SSH_MAX_VERSION) { fatal(c, SSH_R_BANNER_TOO_LONG); return -1; }
        return 0;
    }
    if (n < 4 || memcmp(p, "SSH-", 4) != 0 || !printable(p, n)) {
        fatal(c, SSH_R_BANNER_MALFORMED);
        return -1;
    }
    size_t pre;
    if (n >= 8 && memcmp(p, "SSH-2.0-", 8) == 0) pre = 8;
    else if (n >= 9 && memcmp(p, "SSH-1.99-", 9) == 0) pre = 9;
    else { fatal(c, SSH_R_BANNER_VERSION); return -1; }
    if (n == pre || p[pre] == ' ') { fatal(c, SSH_R_BANNER_MALFORMED); return -1; }
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

/* ------------------------------------------------------------------ packets */

/* RFC 4253 6: the next packet's payload, decrypted and checked, in *payload.
 * 1: packet, 0: need more, -1: fatal */
static int read_packet(struct ssh_conn *c, struct ssh_rd *payload)
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
        if (len > SSH_MAX_PACKET_LEN || len < PKT_MIN_LEN) { fatal(c, SSH_R_PACKET_LENGTH); return -1; }
        if (c->in_encrypted ? (len % ssh_cipher_block(c->k_in.alg)) != 0
                            : ((len + 4) % PKT_PLAIN_BLOCK) != 0) {
            fatal(c, SSH_R_PACKET_LENGTH);
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
        fatal(c, SSH_R_PACKET_MAC);
        return -1;
    }
    struct ssh_rd body;
    rd_init(&body, p + 4, len);
    uint8_t pad = rd_u8(&body);
    /* padding >= 4, payload >= 1 byte */
    if (pad < PKT_MIN_PADDING || (size_t)pad + 2 > len) { fatal(c, SSH_R_PACKET_PADDING); return -1; }
    rd_init(payload, p + PKT_HEADER, len - 1 - pad);
    c->in_release = total;
    c->have_in_len = 0;
    c->seq_in++;
    c->in_pkts_since_kex++;
    c->in_bytes_since_kex += total;
    if (c->seq_in == 0 && c->kex_count == 0) { fatal(c, SSH_R_SEQ_WRAP); return -1; }
    if (c->in_pkts_since_kex >= HARD_PACKET_LIMIT) { fatal(c, SSH_R_SEQ_WRAP); return -1; }
    return 1;
}

/* ------------------------------------------------------------------ kex */

/* the ten name-lists of a KEXINIT (RFC 4253 7.1) */
enum {
    KEXL_KEX = 0, KEXL_HOSTKEY, KEXL_CIPHER_C2S, KEXL_CIPHER_S2C, KEXL_MAC_C2S, KEXL_MAC_S2C,
    KEXL_COMP_C2S, KEXL_COMP_S2C, KEXL_LANG_C2S, KEXL_LANG_S2C, KEXL__COUNT
};

static int on_kexinit(struct ssh_conn *c, struct ssh_rd *r)
{
    if (c->kex_got_init) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    uint32_t seq_of_this = c->seq_in - 1;
    const uint8_t *l[KEXL__COUNT];
    size_t ll[KEXL__COUNT];
    (void)rd_bytes(r, SSH_KEXINIT_COOKIE_LEN);
    for (int i = 0; i < KEXL__COUNT; i++) l[i] = rd_str(r, &ll[i]);
    int follows = rd_bool(r);
    (void)rd_u32(r);                /* reserved */
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }

    if (c->kex_count == 0) {
        c->strict = ssh_namelist_has(l[KEXL_KEX], ll[KEXL_KEX], "kex-strict-c-v00@openssh.com");
        c->ext_info_c = ssh_namelist_has(l[KEXL_KEX], ll[KEXL_KEX], "ext-info-c");
        if (c->strict && seq_of_this != 0) { fatal(c, SSH_R_KEX_STRICT); return -1; }
    }
    const char *kex = ssh_namelist_choose(l[KEXL_KEX], ll[KEXL_KEX], kex_algs);
    if (!kex) { fatal(c, SSH_R_KEX_NO_KEX_ALG); return -1; }
    const char *hk = ssh_namelist_choose(l[KEXL_HOSTKEY], ll[KEXL_HOSTKEY], hostkey_algs);
    if (!hk) { fatal(c, SSH_R_KEX_NO_HOSTKEY_ALG); return -1; }
    const char *const *ours = crypto_aead_aes256gcm_is_available() ? cipher_algs_gcm : cipher_algs;
    c->alg_c2s = ssh_cipher_from_name(ssh_namelist_choose(l[KEXL_CIPHER_C2S], ll[KEXL_CIPHER_C2S], ours));
    c->alg_s2c = ssh_cipher_from_name(ssh_namelist_choose(l[KEXL_CIPHER_S2C], ll[KEXL_CIPHER_S2C], ours));
    if (!c->alg_c2s || !c->alg_s2c) { fatal(c, SSH_R_KEX_NO_CIPHER); return -1; }
    /* The MAC lists are irrelevant with an AEAD cipher. */
    if (!ssh_namelist_choose(l[KEXL_COMP_C2S], ll[KEXL_COMP_C2S], comp_algs) ||
        !ssh_namelist_choose(l[KEXL_COMP_S2C], ll[KEXL_COMP_S2C], comp_algs)) {
        fatal(c, SSH_R_KEX_NO_COMPRESSION); return -1;
    }
    c->kex_ignore_next = follows && !(ssh_namelist_first_is(l[KEXL_KEX], ll[KEXL_KEX], kex) &&
                                      ssh_namelist_first_is(l[KEXL_HOSTKEY], ll[KEXL_HOSTKEY], hk));
    if (!c->kex_sent_init) send_kexinit(c);
    size_t plen;
    const uint8_t *payload = rd_all(r, &plen);
    crypto_hash_sha256_init(&c->h_state);
    ssh_hash_string(&c->h_state, c->v_c, c->v_c_len);
    ssh_hash_string(&c->h_state, c->v_s, c->v_s_len);
    ssh_hash_string(&c->h_state, payload, plen);
    ssh_hash_string(&c->h_state, c->i_s, c->i_s_len);
    c->kex_got_init = 1;
    return 0;
}

/* RFC 8731 (curve25519-sha256) over RFC 5656 4: the client's ephemeral key
 * in, our reply, NEWKEYS and (first exchange, if asked) EXT_INFO out. */
static int on_ecdh_init(struct ssh_conn *c, struct ssh_rd *r)
{
    if (!c->kex_got_init || c->kex_sent_newkeys) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (c->kex_ignore_next) { c->kex_ignore_next = 0; return 0; }
    size_t ql;
    const uint8_t *q_c = rd_str(r, &ql);
    if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (ql != SSH_X25519_LEN) { fatal(c, SSH_R_KEX_BAD_PUBLIC); return -1; }

    uint8_t esk[SSH_X25519_LEN], q_s[SSH_X25519_LEN], k[SSH_X25519_LEN], h[SSH_HASH_LEN];
    uint8_t sig[SSH_ED25519_SIG_LEN], blob[SSH_ED25519_BLOB_LEN];
    c->cfg.random(c->cfg.ctx, esk, sizeof esk);
    crypto_scalarmult_base(q_s, esk);
    if (crypto_scalarmult(k, esk, q_c) != 0) {
        sodium_memzero(esk, sizeof esk);
        fatal(c, SSH_R_KEX_BAD_PUBLIC);
        return -1;
    }
    sodium_memzero(esk, sizeof esk);
    ssh_ed25519_blob(c->cfg.host_public, blob);
    ssh_hash_string(&c->h_state, blob, sizeof blob);
    ssh_hash_string(&c->h_state, q_c, SSH_X25519_LEN);
    ssh_hash_string(&c->h_state, q_s, sizeof q_s);
    ssh_hash_mpint(&c->h_state, k, sizeof k);
    crypto_hash_sha256_final(&c->h_state, h);
    if (c->kex_count == 0) memcpy(c->session_id, h, SSH_HASH_LEN);
    if (c->cfg.sign(c->cfg.ctx, h, SSH_HASH_LEN, sig) != 0) {
        sodium_memzero(k, sizeof k);
        fatal(c, SSH_R_KEX_SIGN_FAILED);
        return -1;
    }
    struct reply m;
    struct ssh_wr *w = reply_begin(&m, SSH_MSG_KEX_ECDH_REPLY);
    wr_str(w, blob, sizeof blob);
    wr_str(w, q_s, sizeof q_s);
    size_t sigmark = wr_str_open(w);
    wr_cstr(w, SSH_ED25519);
    wr_str(w, sig, sizeof sig);
    wr_str_close(w, sigmark);
    send_payload(c, w, 1);
    w = reply_begin(&m, SSH_MSG_NEWKEYS);
    send_payload(c, w, 1);

    ssh_cipher_init(&c->k_out, c->alg_s2c, k, h, 'B', 'D', c->session_id);
    ssh_cipher_init(&c->k_in_next, c->alg_c2s, k, h, 'A', 'C', c->session_id);
    sodium_memzero(k, sizeof k);
    c->out_encrypted = 1;
    if (c->strict) c->seq_out = 0;
    c->out_pkts_since_kex = c->out_bytes_since_kex = 0;
    c->kex_sent_newkeys = 1;

    if (c->kex_count == 0 && c->ext_info_c) {     /* RFC 8308 */
        w = reply_begin(&m, SSH_MSG_EXT_INFO);
        wr_u32(w, 1);
        wr_cstr(w, "server-sig-algs");
        wr_namelist(w, hostkey_algs);
        send_payload(c, w, 1);
    }
    flush_defer(c);
    return 0;
}

static int on_newkeys(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    if (!c->kex_sent_newkeys) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    c->k_in = c->k_in_next;
    sodium_memzero(&c->k_in_next, sizeof c->k_in_next);
    c->in_encrypted = 1;
    if (c->strict) c->seq_in = 0;
    c->in_pkts_since_kex = c->in_bytes_since_kex = 0;
    c->kex_count++;
    c->kex_got_init = c->kex_sent_init = c->kex_sent_newkeys = 0;
    if (c->phase == PH_KEX) c->phase = PH_SERVICE;
    ev->type = SSH_EV_KEX_DONE;
    ev->value = (uint64_t)c->kex_count;
    return 1;
}

/* ------------------------------------------------------------------ auth */

static int auth_fail(struct ssh_conn *c, enum ssh_reason why, struct ssh_event *ev)
{
    if (why != SSH_R_AUTH_NONE) {
        c->auth_failures++;
        if (c->auth_failures >= c->cfg.max_auth_attempts) { fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    }
    struct reply m;
    struct ssh_wr *w = reply_begin(&m, SSH_MSG_USERAUTH_FAILURE);
    wr_namelist(w, auth_methods);       /* authentications that can continue */
    wr_bool(w, 0);                      /* partial success */
    send_payload(c, w, 0);
    ev->type = SSH_EV_AUTH_FAILURE;
    ev->reason = why;
    return 1;
}

static int on_userauth(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t ul, sl, ml;
    const uint8_t *user = rd_str(r, &ul);
    const uint8_t *service = rd_str(r, &sl);
    const uint8_t *method = rd_str(r, &ml);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (++c->auth_requests > MAX_AUTH_REQUESTS) { fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    if (ul == 0 || ul > SSH_MAX_USER || !printable(user, ul)) return auth_fail(c, SSH_R_AUTH_BAD_USER, ev);
    if (!str_eq(service, sl, "ssh-connection")) return auth_fail(c, SSH_R_AUTH_BAD_SERVICE, ev);
    if (str_eq(method, ml, "none")) return auth_fail(c, SSH_R_AUTH_NONE, ev);
    if (str_eq(method, ml, "password")) return auth_fail(c, SSH_R_AUTH_PASSWORD, ev);
    if (str_eq(method, ml, "keyboard-interactive")) return auth_fail(c, SSH_R_AUTH_KBDINT, ev);
    if (!str_eq(method, ml, "publickey")) return auth_fail(c, SSH_R_AUTH_METHOD, ev);

    /* RFC 4252 7 */
    int is_signed = rd_bool(r);
    size_t al, bl;
    const uint8_t *alg = rd_str(r, &al);
    const uint8_t *blob = rd_str(r, &bl);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    uint8_t pub[SSH_ED25519_PUB_LEN];
    if (!str_eq(alg, al, SSH_ED25519) || ssh_ed25519_parse_blob(blob, bl, pub) != 0)
        return auth_fail(c, SSH_R_AUTH_KEY_ALG, ev);

    if (!is_signed) {
        if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_QUERY, (const char *)user, ul, pub) != 1)
            return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
        struct reply m;
        struct ssh_wr *w = reply_begin(&m, SSH_MSG_USERAUTH_PK_OK);
        wr_str(w, alg, al);
        wr_str(w, blob, bl);
        send_payload(c, w, 0);
        return 0;
    }
    size_t signed_len;                  /* payload bytes covered by the signature */
    const uint8_t *signed_part = rd_consumed(r, &signed_len);
    size_t sgl;
    const uint8_t *sigblob = rd_str(r, &sgl);
    if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    struct ssh_rd sr;
    size_t stl, sl2;
    rd_init(&sr, sigblob, sgl);
    const uint8_t *st = rd_str(&sr, &stl);
    const uint8_t *sig = rd_str(&sr, &sl2);
    if (!rd_done(&sr) || !str_eq(st, stl, SSH_ED25519) || sl2 != SSH_ED25519_SIG_LEN)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    uint8_t msg[USERAUTH_SIGNED_MAX];
    struct ssh_wr w;
    wr_init(&w, msg, sizeof msg);
    wr_str(&w, c->session_id, SSH_HASH_LEN);
    wr_raw(&w, signed_part, signed_len);
    if (wr_failed(&w)) return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    if (crypto_sign_verify_detached(sig, msg, wr_len(&w), pub) != 0)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_LOGIN, (const char *)user, ul, pub) != 1)
        return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
    struct reply m;
    send_payload(c, reply_begin(&m, SSH_MSG_USERAUTH_SUCCESS), 0);
    memcpy(c->user, user, ul);
    c->user[ul] = 0;
    c->user_len = ul;
    c->phase = PH_CONN;
    ev->type = SSH_EV_AUTH_SUCCESS;
    ev->data = (const uint8_t *)c->user;
    ev->len = c->user_len;
    return 1;
}

/* ------------------------------------------------------------------ connection */

static int deny_event(struct ssh_conn *c, struct ssh_event *ev, enum ssh_reason why,
                      const uint8_t *name, size_t nl)
{
    ev->type = SSH_EV_DENIED;
    ev->reason = why;
    ev->data = sanitize(c, name, nl, &ev->len);
    return 1;
}

/* RFC 4254 4 */
static int on_global_request(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t nl;
    const uint8_t *name = rd_str(r, &nl);
    int want_reply = rd_bool(r);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (want_reply) {
        struct reply m;
        send_payload(c, reply_begin(&m, SSH_MSG_REQUEST_FAILURE), 0);
    }
    if (str_eq(name, nl, "keepalive@openssh.com")) { ev->type = SSH_EV_KEEPALIVE; return 1; }
    if (str_eq(name, nl, "no-more-sessions@openssh.com")) { c->no_more_sessions = 1; return 0; }
    if (str_eq(name, nl, "tcpip-forward") || str_eq(name, nl, "cancel-tcpip-forward"))
        return deny_event(c, ev, SSH_R_DENY_TCPIP_FORWARD, name, nl);
    if (str_eq(name, nl, "streamlocal-forward@openssh.com") ||
        str_eq(name, nl, "cancel-streamlocal-forward@openssh.com"))
        return deny_event(c, ev, SSH_R_DENY_STREAMLOCAL, name, nl);
    return deny_event(c, ev, SSH_R_DENY_GLOBAL_REQUEST, name, nl);
}

/* RFC 4254 5.1 */
static int on_channel_open(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t tl;
    const uint8_t *type = rd_str(r, &tl);
    uint32_t sender = rd_u32(r);
    uint32_t window = rd_u32(r);
    uint32_t maxpkt = rd_u32(r);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    enum ssh_reason why;
    uint32_t code = SSH_OPEN_ADMINISTRATIVELY_PROHIBITED;
    struct reply m;
    struct ssh_wr *w;
    if (str_eq(type, tl, "session")) {
        if (!c->chan_used && !c->no_more_sessions) {
            if (maxpkt == 0) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
            c->chan_used = 1;
            c->chan_state = CHAN_OPEN;
            c->chan_remote_id = sender;
            c->chan_remote_window = window;
            c->chan_remote_maxpkt = maxpkt < SSH_CHAN_MAX_PACKET ? maxpkt : SSH_CHAN_MAX_PACKET;
            c->chan_local_window = SSH_CHAN_WINDOW;
            w = reply_begin(&m, SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
            wr_u32(w, sender);
            wr_u32(w, OUR_CHANNEL_ID);
            wr_u32(w, SSH_CHAN_WINDOW);
            wr_u32(w, SSH_CHAN_MAX_PACKET);
            send_payload(c, w, 0);
            ev->type = SSH_EV_SESSION_OPEN;
            return 1;
        }
        why = SSH_R_DENY_SECOND_SESSION;
    } else if (str_eq(type, tl, "direct-tcpip")) why = SSH_R_DENY_DIRECT_TCPIP;
    else if (str_eq(type, tl, "direct-streamlocal@openssh.com")) why = SSH_R_DENY_STREAMLOCAL;
    else if (str_eq(type, tl, "x11")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent@openssh.com")) why = SSH_R_DENY_AGENT;
    else if (str_eq(type, tl, "forwarded-tcpip")) why = SSH_R_DENY_TCPIP_FORWARD;
    else { why = SSH_R_DENY_CHANNEL_TYPE; code = SSH_OPEN_UNKNOWN_CHANNEL_TYPE; }
    w = reply_begin(&m, SSH_MSG_CHANNEL_OPEN_FAILURE);
    wr_u32(w, sender);
    wr_u32(w, code);
    wr_cstr(w, ssh_reason_name(why));   /* description */
    wr_cstr(w, "");                     /* language tag */
    send_payload(c, w, 0);
    return deny_event(c, ev, why, type, tl);
}

/* A message about the session channel with nothing but its recipient. */
static void send_chan_simple(struct ssh_conn *c, uint8_t type)
{
    struct reply m;
    struct ssh_wr *w = reply_begin(&m, type);
    wr_u32(w, c->chan_remote_id);
    send_payload(c, w, 0);
}

static void chan_reply(struct ssh_conn *c, int ok)
{
    send_chan_simple(c, ok ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE);
}

/* RFC 4254 6 */
static int on_channel_request(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t tl;
    const uint8_t *type = rd_str(r, &tl);
    int want_reply = rd_bool(r);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (c->chan_sent_close || c->chan_got_close) return 0;
    enum ssh_reason why = SSH_R_DENY_CHANNEL_REQUEST;
    const uint8_t *nm = type;
    size_t nml = tl;
    if (str_eq(type, tl, "pty-req")) {
        size_t terml, ml;
        const uint8_t *term = rd_str(r, &terml);
        ev->cols = rd_u32(r); ev->rows = rd_u32(r);
        ev->width_px = rd_u32(r); ev->height_px = rd_u32(r);
        (void)rd_str(r, &ml);
        if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (!c->chan_have_pty) {
            c->chan_have_pty = 1;
            if (want_reply) chan_reply(c, 1);
            ev->type = SSH_EV_PTY;
            ev->data = sanitize(c, term, terml, &ev->len);
            return 1;
        }
        why = SSH_R_DENY_PTY;
    } else if (str_eq(type, tl, "window-change")) {
        ev->cols = rd_u32(r); ev->rows = rd_u32(r);
        ev->width_px = rd_u32(r); ev->height_px = rd_u32(r);
        if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (want_reply) chan_reply(c, 1);
        ev->type = SSH_EV_WINDOW_CHANGE;
        return 1;
    } else if (str_eq(type, tl, "shell")) {
        if (!c->chan_have_shell) {
            c->chan_have_shell = 1;
            if (want_reply) chan_reply(c, 1);
            ev->type = SSH_EV_SHELL;
            return 1;
        }
        why = SSH_R_DENY_SHELL;
    } else if (str_eq(type, tl, "keepalive@openssh.com")) {
        if (want_reply) chan_reply(c, 0);
        ev->type = SSH_EV_KEEPALIVE;
        return 1;
    } else if (str_eq(type, tl, "exec")) why = SSH_R_DENY_EXEC;
    else if (str_eq(type, tl, "subsystem")) {
        why = SSH_R_DENY_SUBSYSTEM;
        nm = rd_str(r, &nml);   /* report the subsystem's name */
        if (rd_failed(r)) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "env")) {
        why = SSH_R_DENY_ENV;
        nm = rd_str(r, &nml);   /* report the variable's name, never its value */
        if (rd_failed(r)) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "x11-req")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent-req@openssh.com")) why = SSH_R_DENY_AGENT;
    if (want_reply) chan_reply(c, 0);
    ev->value = (uint64_t)want_reply;
    return deny_event(c, ev, why, nm, nml);
}

static void maybe_chan_closed(struct ssh_conn *c)
{
    if (c->chan_state == CHAN_OPEN && c->chan_sent_close && c->chan_got_close) c->chan_state = CHAN_CLOSED;
}

/* RFC 4254 5.2-5.3 and 6: messages about an open channel */
static int on_channel_msg(struct ssh_conn *c, uint8_t t, struct ssh_rd *r, struct ssh_event *ev)
{
    uint32_t recipient = rd_u32(r);
    if (rd_failed(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (recipient != OUR_CHANNEL_ID || c->chan_state != CHAN_OPEN) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
    switch (t) {
    case SSH_MSG_CHANNEL_WINDOW_ADJUST: {
        uint32_t n = rd_u32(r);
        if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if ((uint64_t)c->chan_remote_window + n > 0xffffffffull) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
        c->chan_remote_window += n;
        return 0;
    }
    case SSH_MSG_CHANNEL_DATA:
    case SSH_MSG_CHANNEL_EXTENDED_DATA: {
        if (t == SSH_MSG_CHANNEL_EXTENDED_DATA) (void)rd_u32(r);
        size_t dl;
        const uint8_t *d = rd_str(r, &dl);
        if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (dl > c->chan_local_window || dl > SSH_CHAN_MAX_PACKET || c->chan_got_eof || c->chan_got_close) {
            fatal(c, SSH_R_CHANNEL_PROTOCOL);
            return -1;
        }
        c->chan_local_window -= (uint32_t)dl;
        if (t == SSH_MSG_CHANNEL_EXTENDED_DATA || c->chan_sent_close || dl == 0) {
            c->chan_pending_ack += (uint32_t)dl;  /* discarded: replenish at once */
            return 0;
        }
        ev->type = SSH_EV_DATA;
        ev->data = d;
        ev->len = dl;
        return 1;
    }
    case SSH_MSG_CHANNEL_EOF:
        if (c->chan_got_eof) return 0;
        c->chan_got_eof = 1;
        ev->type = SSH_EV_EOF;
        return 1;
    case SSH_MSG_CHANNEL_CLOSE:
        if (c->chan_got_close) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
        c->chan_got_close = 1;
        if (!c->chan_sent_close) {
            send_chan_simple(c, SSH_MSG_CHANNEL_CLOSE);
            c->chan_sent_close = 1;
        }
        maybe_chan_closed(c);
        return 0;
    case SSH_MSG_CHANNEL_REQUEST:
        return on_channel_request(c, r, ev);
    default:    /* CHANNEL_SUCCESS / FAILURE: we never ask for replies */
        return 0;
    }
}

/* ------------------------------------------------------------------ dispatch */

/* a handler's answer when the message is not one of its layer's */
#define NOT_MINE 2

static void send_unimplemented(struct ssh_conn *c)
{
    struct reply m;
    struct ssh_wr *w = reply_begin(&m, SSH_MSG_UNIMPLEMENTED);
    wr_u32(w, c->seq_in - 1);           /* the rejected packet's sequence number */
    send_payload(c, w, 0);
}

/* RFC 4253 10 */
static int on_service_request(struct ssh_conn *c, struct ssh_rd *r)
{
    size_t nl;
    const uint8_t *name = rd_str(r, &nl);
    if (!rd_done(r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (!str_eq(name, nl, "ssh-userauth")) { fatal(c, SSH_R_BAD_SERVICE); return -1; }
    struct reply m;
    struct ssh_wr *w = reply_begin(&m, SSH_MSG_SERVICE_ACCEPT);
    wr_cstr(w, "ssh-userauth");
    send_payload(c, w, 0);
    c->phase = PH_AUTH;
    return 0;
}

/* RFC 4254 */
static int connection_dispatch(struct ssh_conn *c, uint8_t t, struct ssh_rd *r, struct ssh_event *ev)
{
    switch (t) {
    case SSH_MSG_GLOBAL_REQUEST: return on_global_request(c, r, ev);
    case SSH_MSG_REQUEST_SUCCESS: case SSH_MSG_REQUEST_FAILURE: return 0;
    case SSH_MSG_CHANNEL_OPEN: return on_channel_open(c, r, ev);
    case SSH_MSG_CHANNEL_OPEN_CONFIRMATION: case SSH_MSG_CHANNEL_OPEN_FAILURE:
        fatal(c, SSH_R_CHANNEL_PROTOCOL);   /* we never open channels */
        return -1;
    case SSH_MSG_CHANNEL_WINDOW_ADJUST: case SSH_MSG_CHANNEL_DATA: case SSH_MSG_CHANNEL_EXTENDED_DATA:
    case SSH_MSG_CHANNEL_EOF: case SSH_MSG_CHANNEL_CLOSE: case SSH_MSG_CHANNEL_REQUEST:
    case SSH_MSG_CHANNEL_SUCCESS: case SSH_MSG_CHANNEL_FAILURE:
        return on_channel_msg(c, t, r, ev);
    default:
        return NOT_MINE;
    }
}

/* Is t assigned to a protocol layer (RFC 4250 4.1)?  Unassigned numbers
 * are answered with UNIMPLEMENTED, assigned ones out of place end the
 * connection. */
static int msg_assigned(uint8_t t)
{
    return t <= SSH_MSG_CHANNEL_FAILURE &&
           !(t > SSH_MSG_EXT_INFO && t < SSH_MSG_KEX_FIRST) &&
           !(t > SSH_MSG_USERAUTH_BANNER && t < SSH_MSG_USERAUTH_PK_OK) &&
           !(t > SSH_MSG_USERAUTH_PK_OK && t < SSH_MSG_GLOBAL_REQUEST) &&
           !(t > SSH_MSG_REQUEST_FAILURE && t < SSH_MSG_CHANNEL_OPEN);
}

/* One packet's payload.  1: event, 0: nothing to report, -1: fatal */
static int dispatch(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    uint8_t t = rd_u8(r);
    int initial = c->kex_count == 0;
    if (t == SSH_MSG_DISCONNECT) {
        c->closed = 1;
        c->close_reason = SSH_R_PEER_DISCONNECT;
        return -1;
    }
    if (t == SSH_MSG_IGNORE || t == SSH_MSG_DEBUG || t == SSH_MSG_UNIMPLEMENTED) {
        if (initial && c->strict) { fatal(c, SSH_R_KEX_STRICT); return -1; }
        return 0;
    }
    if (t == SSH_MSG_KEXINIT) return on_kexinit(c, r);
    if (t == SSH_MSG_KEX_ECDH_INIT) return on_ecdh_init(c, r);
    if (t == SSH_MSG_NEWKEYS) return on_newkeys(c, r, ev);
    if (initial || c->kex_got_init || (t >= SSH_MSG_KEX_FIRST && t <= SSH_MSG_KEX_LAST)) {
        fatal(c, initial && c->strict ? SSH_R_KEX_STRICT : SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    int res = NOT_MINE;
    switch (c->phase) {
    case PH_SERVICE:
        if (t == SSH_MSG_SERVICE_REQUEST) res = on_service_request(c, r);
        else if (t == SSH_MSG_EXT_INFO) res = 0;
        break;
    case PH_AUTH:
        if (t == SSH_MSG_USERAUTH_REQUEST) res = on_userauth(c, r, ev);
        else if (t == SSH_MSG_EXT_INFO) res = 0;
        break;
    case PH_CONN:
        if (t == SSH_MSG_USERAUTH_REQUEST) res = 0;    /* RFC 4252 5.1: ignore after success */
        else res = connection_dispatch(c, t, r, ev);
        break;
    }
    if (res != NOT_MINE) return res;
    if (msg_assigned(t)) {
        fatal(c, SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    send_unimplemented(c);
    return 0;
}

/* ------------------------------------------------------------------ deferred work */

static void chan_send_eof(struct ssh_conn *c)
{
    if (c->chan_sent_eof || c->chan_sent_close) return;
    send_chan_simple(c, SSH_MSG_CHANNEL_EOF);
    c->chan_sent_eof = 1;
}

static void chan_send_close(struct ssh_conn *c)
{
    if (c->chan_sent_close) return;
    send_chan_simple(c, SSH_MSG_CHANNEL_CLOSE);
    c->chan_sent_close = 1;
}

/* What the session channel owes the client: window, exit status, EOF, CLOSE. */
static void chan_flush(struct ssh_conn *c)
{
    struct reply m;
    struct ssh_wr *w;
    if (c->chan_pending_ack && !c->chan_sent_close && !c->chan_got_close &&
        (c->chan_pending_ack >= WINDOW_ADJUST_ACKED || c->chan_local_window < WINDOW_ADJUST_LOW)) {
        w = reply_begin(&m, SSH_MSG_CHANNEL_WINDOW_ADJUST);
        wr_u32(w, c->chan_remote_id);
        wr_u32(w, c->chan_pending_ack);
        send_payload(c, w, 0);
        c->chan_local_window += c->chan_pending_ack;
        c->chan_pending_ack = 0;
    }
    if (c->exit_pending) {
        c->exit_pending = 0;
        if (!c->chan_sent_close && !c->chan_got_close) {    /* RFC 4254 6.10 */
            w = reply_begin(&m, SSH_MSG_CHANNEL_REQUEST);
            wr_u32(w, c->chan_remote_id);
            wr_cstr(w, "exit-status");
            wr_bool(w, 0);              /* want reply */
            wr_u32(w, c->exit_status);
            send_payload(c, w, 0);
        }
        chan_send_eof(c);
        chan_send_close(c);
        maybe_chan_closed(c);
    }
    if (c->eof_pending) {
        c->eof_pending = 0;
        chan_send_eof(c);
    }
}

/* Has this key's traffic reached the re-key limit (and no exchange is running)? */
static int rekey_due(const struct ssh_conn *c)
{
    return !c->kex_sent_init && !c->kex_got_init &&
           (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->in_bytes_since_kex >= c->cfg.rekey_bytes ||
            c->out_pkts_since_kex >= REKEY_PACKETS || c->in_pkts_since_kex >= REKEY_PACKETS);
}

static void flush_deferred(struct ssh_conn *c)
{
    if (c->closed || out_blocked(c) || c->phase < PH_SERVICE) return;
    if (out_free(c) < OUT_RESERVE) return;
    if (c->phase == PH_CONN && c->chan_state == CHAN_OPEN) chan_flush(c);
    if (rekey_due(c)) send_kexinit(c);
}

/* ------------------------------------------------------------------ events */

int ssh_poll_event(struct ssh_conn *c, struct ssh_event *ev)
{
    memset(ev, 0, sizeof *ev);
    release_in(c);
    for (;;) {
        if (c->closed) {
            if (c->disconnect_reported) return 0;
            c->disconnect_reported = 1;
            ev->type = SSH_EV_DISCONNECT;
            ev->reason = c->close_reason;
            return 1;
        }
        if (c->phase != PH_CONN && c->now_ms >= c->grace_deadline_ms) {
            fatal(c, SSH_R_AUTH_TIMEOUT);
            continue;
        }
        flush_deferred(c);
        if (c->closed) continue;
        if (c->chan_state == CHAN_CLOSED && !c->close_reported) {
            c->close_reported = 1;
            ev->type = SSH_EV_CHANNEL_CLOSED;
            return 1;
        }
        if (c->phase == PH_BANNER) {
            int r = do_banner(c, ev);
            if (r == 0) return 0;
            if (r > 0) return 1;
            continue;
        }
        if (out_free(c) < OUT_RESERVE) return 0;   /* drain output first */
        struct ssh_rd payload;
        int r = read_packet(c, &payload);
        if (r == 0) return 0;
        if (r < 0) continue;
        r = dispatch(c, &payload, ev);
        if (r > 0) return 1;
        memset(ev, 0, sizeof *ev);
        /* the packet is consumed; its buffer is released on the next loop */
        release_in(c);
    }
}

/* ------------------------------------------------------------------ channel API */

int ssh_channel_writable(const struct ssh_conn *c)
{
    return !c->closed && c->phase == PH_CONN && c->chan_state == CHAN_OPEN && !c->chan_sent_eof &&
           !c->chan_sent_close && !c->chan_got_close && !c->exit_pending;
}

size_t ssh_channel_write(struct ssh_conn *c, const void *data, size_t len)
{
    if (!ssh_channel_writable(c) || out_blocked(c)) return 0;
    size_t n = len;
    if (n > c->chan_remote_window) n = c->chan_remote_window;
    if (n > c->chan_remote_maxpkt) n = c->chan_remote_maxpkt;
    size_t fr = out_free(c);
    size_t ovh = CHANNEL_DATA_HEADER + PKT_OVERHEAD;
    if (fr < OUT_RESERVE + ovh + 1) return 0;
    if (n > fr - OUT_RESERVE - ovh) n = fr - OUT_RESERVE - ovh;
    if (n == 0) return 0;
    struct ssh_wr w;
    if (pkt_begin(c, &w, CHANNEL_DATA_HEADER + n) < 0) return 0;
    wr_u8(&w, SSH_MSG_CHANNEL_DATA);
    wr_u32(&w, c->chan_remote_id);
    wr_str(&w, data, n);
    if (pkt_end(c, &w) < 0) { fatal(c, SSH_R_INTERNAL); return 0; }
    c->chan_remote_window -= (uint32_t)n;
    if (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->out_pkts_since_kex >= REKEY_PACKETS)
        flush_deferred(c);
    return n;
}

void ssh_channel_ack(struct ssh_conn *c, size_t n)
{
    if (c->chan_state != CHAN_OPEN) return;
    uint64_t room = (uint64_t)SSH_CHAN_WINDOW - c->chan_local_window - c->chan_pending_ack;
    if (n > room) n = (size_t)room;
    c->chan_pending_ack += (uint32_t)n;
    flush_deferred(c);
}

void ssh_channel_eof(struct ssh_conn *c)
{
    if (c->chan_state != CHAN_OPEN) return;
    c->eof_pending = 1;
    flush_deferred(c);
}

void ssh_channel_exit(struct ssh_conn *c, uint32_t status)
{
    if (c->chan_state != CHAN_OPEN || c->chan_sent_close) return;
    c->exit_pending = 1;
    c->exit_status = status;
    flush_deferred(c);
}
