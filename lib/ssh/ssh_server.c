/* lib/ssh server state machine: transport (RFC 4253), user authentication
 * (RFC 4252, publickey only), connection protocol (RFC 4254, one session). */
#include "ssh_internal.h"

enum { PH_BANNER = 0, PH_KEX, PH_SERVICE, PH_AUTH, PH_CONN };

/* Output space kept free for protocol replies: before a packet is processed
 * at least this much must be free, and no single packet produces more. */
#define OUT_RESERVE 4096u
#define PKT_OVERHEAD (5u + 19u + SSH_TAG_LEN)   /* header, largest padding, tag */
#define MAX_AUTH_REQUESTS 64u
#define REKEY_PACKETS (1ull << 28)
#define HARD_PACKET_LIMIT (1ull << 31)

static const char *const kex_algs[] = { "curve25519-sha256", "curve25519-sha256@libssh.org", NULL };
static const char *const hostkey_algs[] = { "ssh-ed25519", NULL };
static const char *const cipher_algs[] = { "chacha20-poly1305@openssh.com", NULL };
static const char *const cipher_algs_gcm[] = { "chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", NULL };
static const char *const comp_algs[] = { "none", NULL };

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
            put_be32(nonce, (uint32_t)(c->pad_ctr >> 32));
            put_be32(nonce + 4, (uint32_t)c->pad_ctr);
            c->pad_ctr++;
            crypto_stream_chacha20(c->pad_pool, sizeof c->pad_pool, nonce, c->pad_key);
            c->pad_avail = sizeof c->pad_pool;
        }
        size_t k = n < c->pad_avail ? n : c->pad_avail;
        memcpy(p, c->pad_pool + sizeof c->pad_pool - c->pad_avail, k);
        c->pad_avail -= k; p += k; n -= k;
    }
}

/* Start a packet whose payload is at most max_payload bytes. */
static int pkt_begin(struct ssh_conn *c, struct ssh_wr *w, size_t max_payload)
{
    if (!out_make_room(c, max_payload + PKT_OVERHEAD)) return -1;
    wr_init(w, c->out + c->out_end + 5, max_payload);
    return 0;
}

static void pkt_end(struct ssh_conn *c, struct ssh_wr *w)
{
    size_t plen = w->len;
    uint8_t *pkt = c->out + c->out_end;
    /* AEAD: the length field is outside the alignment (as OpenSSH does) */
    size_t block = c->out_encrypted ? ssh_cipher_block(c->k_out.alg) : 8;
    size_t aligned = c->out_encrypted ? (1 + plen) : (5 + plen);
    size_t pad = block - (aligned % block);
    if (pad < 4) pad += block;
    uint32_t packet_length = (uint32_t)(1 + plen + pad);
    put_be32(pkt, packet_length);
    pkt[4] = (uint8_t)pad;
    pad_bytes(c, pkt + 5 + plen, pad);
    size_t total = 4 + packet_length;
    if (c->out_encrypted) {
        ssh_cipher_seal(&c->k_out, c->seq_out, pkt, packet_length);
        total += SSH_TAG_LEN;
    }
    c->out_end += total;
    c->seq_out++;
    c->out_pkts_since_kex++;
    c->out_bytes_since_kex += total;
}

/* Is a non-key-exchange message forbidden right now (our KEXINIT outstanding)? */
static int out_blocked(const struct ssh_conn *c)
{
    return c->kex_sent_init && !c->kex_sent_newkeys;
}

static void fatal(struct ssh_conn *c, enum ssh_reason r);

/* Send a complete payload, or queue it while a key exchange blocks output. */
static void send_payload(struct ssh_conn *c, const uint8_t *p, size_t n, int kexmsg)
{
    if (c->closed) return;
    if (!kexmsg && out_blocked(c)) {
        if (sizeof c->defer - c->defer_len < n + 4) { fatal(c, SSH_R_INTERNAL); return; }
        put_be32(c->defer + c->defer_len, (uint32_t)n);
        memcpy(c->defer + c->defer_len + 4, p, n);
        c->defer_len += n + 4;
        return;
    }
    struct ssh_wr w;
    if (pkt_begin(c, &w, n) < 0) { fatal(c, SSH_R_INTERNAL); return; }
    wr_raw(&w, p, n);
    pkt_end(c, &w);
}

static void flush_defer(struct ssh_conn *c)
{
    size_t off = 0;
    while (off < c->defer_len && !c->closed) {
        uint32_t n = be32(c->defer + off);
        send_payload(c, c->defer + off + 4, n, 0);
        off += 4 + n;
    }
    c->defer_len = 0;
}

static uint32_t disconnect_code(enum ssh_reason r)
{
    switch (r) {
    case SSH_R_PACKET_MAC: return 5;                /* MAC_ERROR */
    case SSH_R_KEX_NO_KEX_ALG: case SSH_R_KEX_NO_HOSTKEY_ALG: case SSH_R_KEX_NO_CIPHER:
    case SSH_R_KEX_NO_COMPRESSION: case SSH_R_KEX_BAD_PUBLIC: case SSH_R_KEX_SIGN_FAILED:
        return 3;                                   /* KEY_EXCHANGE_FAILED */
    case SSH_R_BAD_SERVICE: return 7;               /* SERVICE_NOT_AVAILABLE */
    case SSH_R_AUTH_TOO_MANY: return 14;            /* NO_MORE_AUTH_METHODS_AVAILABLE */
    case SSH_R_APP_DISCONNECT: return 11;           /* BY_APPLICATION */
    case SSH_R_AUTH_TIMEOUT: return 2;
    default: return 2;                              /* PROTOCOL_ERROR */
    }
}

static void fatal(struct ssh_conn *c, enum ssh_reason r)
{
    if (c->closed) return;
    if (c->phase > PH_BANNER && r != SSH_R_PEER_DISCONNECT && r != SSH_R_INTERNAL) {
        struct ssh_wr w;
        const char *d = ssh_reason_name(r);
        if (pkt_begin(c, &w, 64 + strlen(d)) == 0) {
            wr_u8(&w, SSH_MSG_DISCONNECT);
            wr_u32(&w, disconnect_code(r));
            wr_cstr(&w, d);
            wr_cstr(&w, "");
            pkt_end(c, &w);
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
    uint8_t cookie[16];
    c->cfg.random(c->cfg.ctx, cookie, sizeof cookie);
    wr_u8(&w, SSH_MSG_KEXINIT);
    wr_raw(&w, cookie, 16);
    wr_cstr(&w, c->kex_count == 0
        ? "curve25519-sha256,curve25519-sha256@libssh.org,kex-strict-s-v00@openssh.com"
        : "curve25519-sha256,curve25519-sha256@libssh.org");
    wr_cstr(&w, "ssh-ed25519");
    const char *ciphers = crypto_aead_aes256gcm_is_available()
        ? "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com" : "chacha20-poly1305@openssh.com";
    wr_cstr(&w, ciphers);
    wr_cstr(&w, ciphers);
    /* MACs are not used with an AEAD cipher (and never negotiated here); the
     * list is non-empty only because some clients insist on a common entry. */
    wr_cstr(&w, "hmac-sha2-256");
    wr_cstr(&w, "hmac-sha2-256");
    wr_cstr(&w, "none");
    wr_cstr(&w, "none");
    wr_cstr(&w, "");
    wr_cstr(&w, "");
    wr_u8(&w, 0);
    wr_u32(&w, 0);
    c->i_s_len = w.len;
    send_payload(c, c->i_s, c->i_s_len, 1);
    c->kex_sent_init = 1;
}

int ssh_server_init(struct ssh_conn *c, const struct ssh_server_config *cfg, uint64_t now_ms)
{
    if (!cfg || !cfg->sign || !cfg->authorize || !cfg->random) return -1;
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    if (!c->cfg.max_auth_attempts) c->cfg.max_auth_attempts = 6;
    if (!c->cfg.login_grace_ms) c->cfg.login_grace_ms = 120000;
    if (!c->cfg.rekey_bytes) c->cfg.rekey_bytes = 1ull << 30;
    c->now_ms = now_ms;
    c->grace_deadline_ms = now_ms + c->cfg.login_grace_ms;
    c->cfg.random(c->cfg.ctx, c->pad_key, sizeof c->pad_key);

    const char *sw = cfg->software ? cfg->software : "capOS";
    size_t swl = strlen(sw);
    if (swl == 0 || swl > 200 || !printable((const uint8_t *)sw, swl) || strchr(sw, ' ') || strchr(sw, '-')) {
        sw = "capOS"; swl = 5;
    }
    memcpy(c->v_s, "SSH-2.0-", 8);
    memcpy(c->v_s + 8, sw, swl);
    c->v_s_len = 8 + swl;
    memcpy(c->out, c->v_s, c->v_s_len);
    memcpy(c->out + c->v_s_len, "\r\n", 2);
    c->out_end = c->v_s_len + 2;
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
    if (c->in_start > 0 && SSH_INBUF_SIZE - c->in_end < 16384) compact_in(c);
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

/* 1: event, 0: need more, -1: fatal */
static int do_banner(struct ssh_conn *c, struct ssh_event *ev)
{
    size_t avail = c->in_end - c->in_start;
    const uint8_t *p = c->in + c->in_start;
    size_t lim = avail < SSH_MAX_VERSION ? avail : SSH_MAX_VERSION;
    size_t i;
    for (i = 0; i < lim; i++)
        if (p[i] == '\n') break;
    if (i == lim) {
        if (avail >= SSH_MAX_VERSION) { fatal(c, SSH_R_BANNER_TOO_LONG); return -1; }
        return 0;
    }
    size_t n = i;
    if (n > 0 && p[n - 1] == '\r') n--;
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
    c->in_start += i + 1;
    c->phase = PH_KEX;
    ev->type = SSH_EV_CLIENT_VERSION;
    ev->data = c->v_c;
    ev->len = c->v_c_len;
    return 1;
}

/* ------------------------------------------------------------------ packets */

/* 1: packet, 0: need more, -1: fatal */
static int read_packet(struct ssh_conn *c, uint8_t **payload, size_t *plen)
{
    size_t avail = c->in_end - c->in_start;
    if (avail < 4) {
        if (c->in_start + 4 > SSH_INBUF_SIZE) compact_in(c);
        return 0;
    }
    uint8_t *p = c->in + c->in_start;
    if (!c->have_in_len) {
        uint32_t len = c->in_encrypted ? ssh_cipher_length(&c->k_in, c->seq_in, p) : be32(p);
        /* bounds before any further use */
        if (len > SSH_MAX_PACKET_LEN || len < 8) { fatal(c, SSH_R_PACKET_LENGTH); return -1; }
        if (c->in_encrypted ? (len % ssh_cipher_block(c->k_in.alg)) != 0 : ((len + 4) % 8) != 0) {
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
    uint8_t pad = p[4];
    if (pad < 4 || (size_t)pad + 2 > len) { fatal(c, SSH_R_PACKET_PADDING); return -1; }
    *payload = p + 5;
    *plen = len - 1 - pad;
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

static int on_kexinit(struct ssh_conn *c, const uint8_t *payload, size_t plen)
{
    if (c->kex_got_init) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    uint32_t seq_of_this = c->seq_in - 1;
    struct ssh_rd r;
    rd_init(&r, payload + 1, plen - 1);
    r.off = 16;                     /* cookie */
    if (r.len < 16) r.err = 1;
    const uint8_t *l[10];
    size_t ll[10];
    for (int i = 0; i < 10; i++) l[i] = rd_str(&r, &ll[i]);
    int follows = rd_bool(&r);
    (void)rd_u32(&r);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }

    if (c->kex_count == 0) {
        c->strict = ssh_namelist_has(l[0], ll[0], "kex-strict-c-v00@openssh.com");
        c->ext_info_c = ssh_namelist_has(l[0], ll[0], "ext-info-c");
        if (c->strict && seq_of_this != 0) { fatal(c, SSH_R_KEX_STRICT); return -1; }
    }
    const char *kex = ssh_namelist_choose(l[0], ll[0], kex_algs);
    if (!kex) { fatal(c, SSH_R_KEX_NO_KEX_ALG); return -1; }
    const char *hk = ssh_namelist_choose(l[1], ll[1], hostkey_algs);
    if (!hk) { fatal(c, SSH_R_KEX_NO_HOSTKEY_ALG); return -1; }
    const char *const *ours = crypto_aead_aes256gcm_is_available() ? cipher_algs_gcm : cipher_algs;
    c->alg_c2s = ssh_cipher_from_name(ssh_namelist_choose(l[2], ll[2], ours));
    c->alg_s2c = ssh_cipher_from_name(ssh_namelist_choose(l[3], ll[3], ours));
    if (!c->alg_c2s || !c->alg_s2c) { fatal(c, SSH_R_KEX_NO_CIPHER); return -1; }
    /* MAC lists (l[4], l[5]) are irrelevant with an AEAD cipher. */
    if (!ssh_namelist_choose(l[6], ll[6], comp_algs) || !ssh_namelist_choose(l[7], ll[7], comp_algs)) {
        fatal(c, SSH_R_KEX_NO_COMPRESSION); return -1;
    }
    c->kex_ignore_next = follows && !(ssh_namelist_first_is(l[0], ll[0], kex) &&
                                      ssh_namelist_first_is(l[1], ll[1], hk));
    if (!c->kex_sent_init) send_kexinit(c);
    crypto_hash_sha256_init(&c->h_state);
    ssh_hash_string(&c->h_state, c->v_c, c->v_c_len);
    ssh_hash_string(&c->h_state, c->v_s, c->v_s_len);
    ssh_hash_string(&c->h_state, payload, plen);
    ssh_hash_string(&c->h_state, c->i_s, c->i_s_len);
    c->kex_got_init = 1;
    return 0;
}

static int on_ecdh_init(struct ssh_conn *c, const uint8_t *payload, size_t plen)
{
    if (!c->kex_got_init || c->kex_sent_newkeys) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (c->kex_ignore_next) { c->kex_ignore_next = 0; return 0; }
    struct ssh_rd r;
    size_t ql;
    rd_init(&r, payload + 1, plen - 1);
    const uint8_t *q_c = rd_str(&r, &ql);
    if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (ql != 32) { fatal(c, SSH_R_KEX_BAD_PUBLIC); return -1; }

    uint8_t esk[32], q_s[32], k[32], h[32], sig[64], blob[SSH_ED25519_BLOB_LEN];
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
    ssh_hash_string(&c->h_state, q_c, 32);
    ssh_hash_string(&c->h_state, q_s, 32);
    ssh_hash_mpint(&c->h_state, k, 32);
    crypto_hash_sha256_final(&c->h_state, h);
    if (c->kex_count == 0) memcpy(c->session_id, h, 32);
    if (c->cfg.sign(c->cfg.ctx, h, 32, sig) != 0) {
        sodium_memzero(k, sizeof k);
        fatal(c, SSH_R_KEX_SIGN_FAILED);
        return -1;
    }
    uint8_t buf[256];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_KEX_ECDH_REPLY);
    wr_str(&w, blob, sizeof blob);
    wr_str(&w, q_s, 32);
    wr_u32(&w, 4 + 11 + 4 + 64);
    wr_cstr(&w, "ssh-ed25519");
    wr_str(&w, sig, 64);
    send_payload(c, buf, w.len, 1);
    uint8_t nk = SSH_MSG_NEWKEYS;
    send_payload(c, &nk, 1, 1);

    ssh_cipher_init(&c->k_out, c->alg_s2c, k, h, 'B', 'D', c->session_id);
    ssh_cipher_init(&c->k_in_next, c->alg_c2s, k, h, 'A', 'C', c->session_id);
    sodium_memzero(k, sizeof k);
    c->out_encrypted = 1;
    if (c->strict) c->seq_out = 0;
    c->out_pkts_since_kex = c->out_bytes_since_kex = 0;
    c->kex_sent_newkeys = 1;

    if (c->kex_count == 0 && c->ext_info_c) {
        wr_init(&w, buf, sizeof buf);
        wr_u8(&w, SSH_MSG_EXT_INFO);
        wr_u32(&w, 1);
        wr_cstr(&w, "server-sig-algs");
        wr_cstr(&w, "ssh-ed25519");
        send_payload(c, buf, w.len, 1);
    }
    flush_defer(c);
    return 0;
}

static int on_newkeys(struct ssh_conn *c, size_t plen, struct ssh_event *ev)
{
    if (!c->kex_sent_newkeys) { fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (plen != 1) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
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

static void auth_send_failure(struct ssh_conn *c)
{
    uint8_t buf[32];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_USERAUTH_FAILURE);
    wr_cstr(&w, "publickey");
    wr_u8(&w, 0);
    send_payload(c, buf, w.len, 0);
}

static int auth_fail(struct ssh_conn *c, enum ssh_reason why, struct ssh_event *ev)
{
    if (why != SSH_R_AUTH_NONE) {
        c->auth_failures++;
        if (c->auth_failures >= c->cfg.max_auth_attempts) { fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    }
    auth_send_failure(c);
    ev->type = SSH_EV_AUTH_FAILURE;
    ev->reason = why;
    return 1;
}

static int on_userauth(struct ssh_conn *c, const uint8_t *payload, size_t plen, struct ssh_event *ev)
{
    struct ssh_rd r;
    size_t ul, sl, ml;
    rd_init(&r, payload + 1, plen - 1);
    const uint8_t *user = rd_str(&r, &ul);
    const uint8_t *service = rd_str(&r, &sl);
    const uint8_t *method = rd_str(&r, &ml);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (++c->auth_requests > MAX_AUTH_REQUESTS) { fatal(c, SSH_R_AUTH_TOO_MANY); return -1; }
    if (ul == 0 || ul > SSH_MAX_USER || !printable(user, ul)) return auth_fail(c, SSH_R_AUTH_BAD_USER, ev);
    if (!str_eq(service, sl, "ssh-connection")) return auth_fail(c, SSH_R_AUTH_BAD_SERVICE, ev);
    if (str_eq(method, ml, "none")) return auth_fail(c, SSH_R_AUTH_NONE, ev);
    if (str_eq(method, ml, "password")) return auth_fail(c, SSH_R_AUTH_PASSWORD, ev);
    if (str_eq(method, ml, "keyboard-interactive")) return auth_fail(c, SSH_R_AUTH_KBDINT, ev);
    if (!str_eq(method, ml, "publickey")) return auth_fail(c, SSH_R_AUTH_METHOD, ev);

    int is_signed = rd_bool(&r);
    size_t al, bl;
    const uint8_t *alg = rd_str(&r, &al);
    const uint8_t *blob = rd_str(&r, &bl);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    uint8_t pub[32];
    if (!str_eq(alg, al, "ssh-ed25519") || ssh_ed25519_parse_blob(blob, bl, pub) != 0)
        return auth_fail(c, SSH_R_AUTH_KEY_ALG, ev);

    if (!is_signed) {
        if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_QUERY, (const char *)user, ul, pub) != 1)
            return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
        uint8_t buf[128];
        struct ssh_wr w;
        wr_init(&w, buf, sizeof buf);
        wr_u8(&w, SSH_MSG_USERAUTH_PK_OK);
        wr_str(&w, alg, al);
        wr_str(&w, blob, bl);
        send_payload(c, buf, w.len, 0);
        return 0;
    }
    size_t signed_len = 1 + r.off;      /* payload bytes covered by the signature */
    size_t sgl;
    const uint8_t *sigblob = rd_str(&r, &sgl);
    if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    struct ssh_rd sr;
    size_t stl, sl2;
    rd_init(&sr, sigblob, sgl);
    const uint8_t *st = rd_str(&sr, &stl);
    const uint8_t *sig = rd_str(&sr, &sl2);
    if (!rd_done(&sr) || !str_eq(st, stl, "ssh-ed25519") || sl2 != 64)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    uint8_t msg[512];
    if (signed_len + 36 > sizeof msg) return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    put_be32(msg, 32);
    memcpy(msg + 4, c->session_id, 32);
    memcpy(msg + 36, payload, signed_len);
    if (crypto_sign_verify_detached(sig, msg, 36 + signed_len, pub) != 0)
        return auth_fail(c, SSH_R_AUTH_BAD_SIGNATURE, ev);
    if (c->cfg.authorize(c->cfg.ctx, SSH_AUTH_LOGIN, (const char *)user, ul, pub) != 1)
        return auth_fail(c, SSH_R_AUTH_KEY_UNKNOWN, ev);
    uint8_t ok = SSH_MSG_USERAUTH_SUCCESS;
    send_payload(c, &ok, 1, 0);
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

static int on_global_request(struct ssh_conn *c, const uint8_t *payload, size_t plen, struct ssh_event *ev)
{
    struct ssh_rd r;
    size_t nl;
    rd_init(&r, payload + 1, plen - 1);
    const uint8_t *name = rd_str(&r, &nl);
    int want_reply = rd_bool(&r);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (want_reply) {
        uint8_t f = SSH_MSG_REQUEST_FAILURE;
        send_payload(c, &f, 1, 0);
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

static int on_channel_open(struct ssh_conn *c, const uint8_t *payload, size_t plen, struct ssh_event *ev)
{
    struct ssh_rd r;
    size_t tl;
    rd_init(&r, payload + 1, plen - 1);
    const uint8_t *type = rd_str(&r, &tl);
    uint32_t sender = rd_u32(&r);
    uint32_t window = rd_u32(&r);
    uint32_t maxpkt = rd_u32(&r);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    enum ssh_reason why;
    uint32_t code = 1; /* ADMINISTRATIVELY_PROHIBITED */
    if (str_eq(type, tl, "session")) {
        if (!c->chan_used && !c->no_more_sessions) {
            if (maxpkt == 0) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
            c->chan_used = 1;
            c->chan_state = 1;
            c->chan_remote_id = sender;
            c->chan_remote_window = window;
            c->chan_remote_maxpkt = maxpkt < SSH_CHAN_MAX_PACKET ? maxpkt : SSH_CHAN_MAX_PACKET;
            c->chan_local_window = SSH_CHAN_WINDOW;
            uint8_t buf[32];
            struct ssh_wr w;
            wr_init(&w, buf, sizeof buf);
            wr_u8(&w, SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
            wr_u32(&w, sender);
            wr_u32(&w, 0);
            wr_u32(&w, SSH_CHAN_WINDOW);
            wr_u32(&w, SSH_CHAN_MAX_PACKET);
            send_payload(c, buf, w.len, 0);
            ev->type = SSH_EV_SESSION_OPEN;
            return 1;
        }
        why = SSH_R_DENY_SECOND_SESSION;
    } else if (str_eq(type, tl, "direct-tcpip")) why = SSH_R_DENY_DIRECT_TCPIP;
    else if (str_eq(type, tl, "direct-streamlocal@openssh.com")) why = SSH_R_DENY_STREAMLOCAL;
    else if (str_eq(type, tl, "x11")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent@openssh.com")) why = SSH_R_DENY_AGENT;
    else if (str_eq(type, tl, "forwarded-tcpip")) why = SSH_R_DENY_TCPIP_FORWARD;
    else { why = SSH_R_DENY_CHANNEL_TYPE; code = 3; /* UNKNOWN_CHANNEL_TYPE */ }
    uint8_t buf[96];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_OPEN_FAILURE);
    wr_u32(&w, sender);
    wr_u32(&w, code);
    wr_cstr(&w, ssh_reason_name(why));
    wr_cstr(&w, "");
    send_payload(c, buf, w.len, 0);
    return deny_event(c, ev, why, type, tl);
}

static void chan_reply(struct ssh_conn *c, int ok)
{
    uint8_t buf[8];
    buf[0] = ok ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE;
    put_be32(buf + 1, c->chan_remote_id);
    send_payload(c, buf, 5, 0);
}

static int on_channel_request(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    size_t tl;
    const uint8_t *type = rd_str(r, &tl);
    int want_reply = rd_bool(r);
    if (r->err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
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
        if (r->err) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "env")) {
        why = SSH_R_DENY_ENV;
        nm = rd_str(r, &nml);   /* report the variable's name, never its value */
        if (r->err) { nm = type; nml = tl; }
    } else if (str_eq(type, tl, "x11-req")) why = SSH_R_DENY_X11;
    else if (str_eq(type, tl, "auth-agent-req@openssh.com")) why = SSH_R_DENY_AGENT;
    if (want_reply) chan_reply(c, 0);
    ev->value = (uint64_t)want_reply;
    return deny_event(c, ev, why, nm, nml);
}

static void maybe_chan_closed(struct ssh_conn *c)
{
    if (c->chan_state == 1 && c->chan_sent_close && c->chan_got_close) c->chan_state = 2;
}

static void send_chan_simple(struct ssh_conn *c, uint8_t type)
{
    uint8_t buf[8];
    buf[0] = type;
    put_be32(buf + 1, c->chan_remote_id);
    send_payload(c, buf, 5, 0);
}

static int on_channel_msg(struct ssh_conn *c, uint8_t t, const uint8_t *payload, size_t plen,
                          struct ssh_event *ev)
{
    struct ssh_rd r;
    rd_init(&r, payload + 1, plen - 1);
    uint32_t recipient = rd_u32(&r);
    if (r.err) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (recipient != 0 || c->chan_state != 1) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
    switch (t) {
    case SSH_MSG_CHANNEL_WINDOW_ADJUST: {
        uint32_t n = rd_u32(&r);
        if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
        if ((uint64_t)c->chan_remote_window + n > 0xffffffffull) { fatal(c, SSH_R_CHANNEL_PROTOCOL); return -1; }
        c->chan_remote_window += n;
        return 0;
    }
    case SSH_MSG_CHANNEL_DATA:
    case SSH_MSG_CHANNEL_EXTENDED_DATA: {
        if (t == SSH_MSG_CHANNEL_EXTENDED_DATA) (void)rd_u32(&r);
        size_t dl;
        const uint8_t *d = rd_str(&r, &dl);
        if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
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
        return on_channel_request(c, &r, ev);
    default:    /* CHANNEL_SUCCESS / FAILURE: we never ask for replies */
        return 0;
    }
}

/* ------------------------------------------------------------------ dispatch */

static void send_unimplemented(struct ssh_conn *c)
{
    uint8_t buf[8];
    buf[0] = SSH_MSG_UNIMPLEMENTED;
    put_be32(buf + 1, c->seq_in - 1);
    send_payload(c, buf, 5, 0);
}

/* 1: event, 0: nothing to report, -1: fatal */
static int dispatch(struct ssh_conn *c, uint8_t *payload, size_t plen, struct ssh_event *ev)
{
    uint8_t t = payload[0];
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
    if (t == SSH_MSG_KEXINIT) return on_kexinit(c, payload, plen);
    if (t == SSH_MSG_KEX_ECDH_INIT) return on_ecdh_init(c, payload, plen);
    if (t == SSH_MSG_NEWKEYS) return on_newkeys(c, plen, ev);
    if (initial || c->kex_got_init || (t >= 20 && t <= 49)) {
        fatal(c, initial && c->strict ? SSH_R_KEX_STRICT : SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    switch (c->phase) {
    case PH_SERVICE:
        if (t == SSH_MSG_SERVICE_REQUEST) {
            struct ssh_rd r;
            size_t nl;
            rd_init(&r, payload + 1, plen - 1);
            const uint8_t *name = rd_str(&r, &nl);
            if (!rd_done(&r)) { fatal(c, SSH_R_PACKET_DECODE); return -1; }
            if (!str_eq(name, nl, "ssh-userauth")) { fatal(c, SSH_R_BAD_SERVICE); return -1; }
            uint8_t buf[32];
            struct ssh_wr w;
            wr_init(&w, buf, sizeof buf);
            wr_u8(&w, SSH_MSG_SERVICE_ACCEPT);
            wr_cstr(&w, "ssh-userauth");
            send_payload(c, buf, w.len, 0);
            c->phase = PH_AUTH;
            return 0;
        }
        if (t == SSH_MSG_EXT_INFO) return 0;
        break;
    case PH_AUTH:
        if (t == SSH_MSG_USERAUTH_REQUEST) return on_userauth(c, payload, plen, ev);
        if (t == SSH_MSG_EXT_INFO) return 0;
        break;
    case PH_CONN:
        if (t == SSH_MSG_USERAUTH_REQUEST) return 0;   /* RFC 4252 5.1: ignore after success */
        if (t == SSH_MSG_GLOBAL_REQUEST) return on_global_request(c, payload, plen, ev);
        if (t == SSH_MSG_CHANNEL_OPEN) return on_channel_open(c, payload, plen, ev);
        if (t >= SSH_MSG_CHANNEL_OPEN_CONFIRMATION && t <= SSH_MSG_CHANNEL_FAILURE) {
            if (t == SSH_MSG_CHANNEL_OPEN_CONFIRMATION || t == SSH_MSG_CHANNEL_OPEN_FAILURE) {
                fatal(c, SSH_R_CHANNEL_PROTOCOL);   /* we never open channels */
                return -1;
            }
            return on_channel_msg(c, t, payload, plen, ev);
        }
        if (t == SSH_MSG_REQUEST_SUCCESS || t == SSH_MSG_REQUEST_FAILURE) return 0;
        break;
    }
    /* A message of a known protocol layer in the wrong phase ends the
     * connection; an unknown message number is answered with UNIMPLEMENTED. */
    if (t <= 100 && !(t >= 8 && t <= 19) && !(t >= 54 && t <= 59) && !(t >= 61 && t <= 79) &&
        !(t >= 83 && t <= 89)) {
        fatal(c, SSH_R_UNEXPECTED_MESSAGE);
        return -1;
    }
    send_unimplemented(c);
    return 0;
}

/* ------------------------------------------------------------------ deferred work */

static void flush_deferred(struct ssh_conn *c)
{
    if (c->closed || out_blocked(c) || c->phase < PH_SERVICE) return;
    if (out_free(c) < OUT_RESERVE) return;
    if (c->phase == PH_CONN && c->chan_state == 1) {
        if (c->chan_pending_ack && !c->chan_sent_close && !c->chan_got_close &&
            (c->chan_pending_ack >= SSH_CHAN_WINDOW / 8 || c->chan_local_window < SSH_CHAN_WINDOW / 2)) {
            uint8_t buf[12];
            buf[0] = SSH_MSG_CHANNEL_WINDOW_ADJUST;
            put_be32(buf + 1, c->chan_remote_id);
            put_be32(buf + 5, c->chan_pending_ack);
            send_payload(c, buf, 9, 0);
            c->chan_local_window += c->chan_pending_ack;
            c->chan_pending_ack = 0;
        }
        if (c->exit_pending) {
            c->exit_pending = 0;
            if (!c->chan_sent_close && !c->chan_got_close) {
                uint8_t buf[40];
                struct ssh_wr w;
                wr_init(&w, buf, sizeof buf);
                wr_u8(&w, SSH_MSG_CHANNEL_REQUEST);
                wr_u32(&w, c->chan_remote_id);
                wr_cstr(&w, "exit-status");
                wr_u8(&w, 0);
                wr_u32(&w, c->exit_status);
                send_payload(c, buf, w.len, 0);
            }
            c->eof_pending = 1;
            if (!c->chan_sent_eof && !c->chan_sent_close) { send_chan_simple(c, SSH_MSG_CHANNEL_EOF); c->chan_sent_eof = 1; }
            if (!c->chan_sent_close) { send_chan_simple(c, SSH_MSG_CHANNEL_CLOSE); c->chan_sent_close = 1; }
            c->eof_pending = 0;
            maybe_chan_closed(c);
        }
        if (c->eof_pending) {
            c->eof_pending = 0;
            if (!c->chan_sent_eof && !c->chan_sent_close) { send_chan_simple(c, SSH_MSG_CHANNEL_EOF); c->chan_sent_eof = 1; }
        }
    }
    if (!c->kex_sent_init && !c->kex_got_init &&
        (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->in_bytes_since_kex >= c->cfg.rekey_bytes ||
         c->out_pkts_since_kex >= REKEY_PACKETS || c->in_pkts_since_kex >= REKEY_PACKETS))
        send_kexinit(c);
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
        if (c->chan_state == 2 && !c->close_reported) {
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
        uint8_t *payload;
        size_t plen;
        int r = read_packet(c, &payload, &plen);
        if (r == 0) return 0;
        if (r < 0) continue;
        r = dispatch(c, payload, plen, ev);
        if (r > 0) return 1;
        memset(ev, 0, sizeof *ev);
        /* the packet is consumed; its buffer is released on the next loop */
        release_in(c);
    }
}

/* ------------------------------------------------------------------ channel API */

int ssh_channel_writable(const struct ssh_conn *c)
{
    return !c->closed && c->phase == PH_CONN && c->chan_state == 1 && !c->chan_sent_eof &&
           !c->chan_sent_close && !c->chan_got_close && !c->exit_pending;
}

size_t ssh_channel_write(struct ssh_conn *c, const void *data, size_t len)
{
    if (!ssh_channel_writable(c) || out_blocked(c)) return 0;
    size_t n = len;
    if (n > c->chan_remote_window) n = c->chan_remote_window;
    if (n > c->chan_remote_maxpkt) n = c->chan_remote_maxpkt;
    size_t fr = out_free(c);
    size_t ovh = 9 + PKT_OVERHEAD;
    if (fr < OUT_RESERVE + ovh + 1) return 0;
    if (n > fr - OUT_RESERVE - ovh) n = fr - OUT_RESERVE - ovh;
    if (n == 0) return 0;
    struct ssh_wr w;
    if (pkt_begin(c, &w, 9 + n) < 0) return 0;
    wr_u8(&w, SSH_MSG_CHANNEL_DATA);
    wr_u32(&w, c->chan_remote_id);
    wr_str(&w, data, n);
    pkt_end(c, &w);
    c->chan_remote_window -= (uint32_t)n;
    if (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->out_pkts_since_kex >= REKEY_PACKETS)
        flush_deferred(c);
    return n;
}

void ssh_channel_ack(struct ssh_conn *c, size_t n)
{
    if (c->chan_state != 1) return;
    uint64_t room = (uint64_t)SSH_CHAN_WINDOW - c->chan_local_window - c->chan_pending_ack;
    if (n > room) n = (size_t)room;
    c->chan_pending_ack += (uint32_t)n;
    flush_deferred(c);
}

void ssh_channel_eof(struct ssh_conn *c)
{
    if (c->chan_state != 1) return;
    c->eof_pending = 1;
    flush_deferred(c);
}

void ssh_channel_exit(struct ssh_conn *c, uint32_t status)
{
    if (c->chan_state != 1 || c->chan_sent_close) return;
    c->exit_pending = 1;
    c->exit_status = status;
    flush_deferred(c);
}
