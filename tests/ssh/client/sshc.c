#include "sshc.h"
#include <stdio.h>

void sshc_init(struct sshc *c)
{
    c->in_len = 0;
    c->seq_in = c->seq_out = 0;
    c->enc_in = c->enc_out = c->strict = 0;
    c->got_ext_info = 0;
    c->chan_remote = 0;
    c->chan_window = 0;
    if (!c->kex_list) c->kex_list = "curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com";
    if (!c->cipher_list) c->cipher_list = "chacha20-poly1305@openssh.com";
    if (!c->v_c) c->v_c = "SSH-2.0-capostest_1.0";
}

int sshc_send_raw(struct sshc *c, const void *p, size_t n)
{
    return c->xmit(c->ctx, p, n);
}

static int fill(struct sshc *c, size_t need)
{
    while (c->in_len < need) {
        if (need > sizeof c->in) return -1;
        size_t r = c->recv(c->ctx, c->in + c->in_len, sizeof c->in - c->in_len);
        if (r == 0) return -1;
        c->in_len += r;
    }
    return 0;
}

static void consume(struct sshc *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

int sshc_send(struct sshc *c, const uint8_t *payload, size_t n)
{
    static uint8_t pkt[SSH_MAX_PACKET_LEN + 64];
    if (n + 64 > sizeof pkt) return -1;
    size_t block = c->enc_out ? ssh_cipher_block(c->k_out.alg) : 8;
    size_t aligned = c->enc_out ? 1 + n : 5 + n;
    size_t pad = block - aligned % block;
    if (pad < 4) pad += block;
    uint32_t plen = (uint32_t)(1 + n + pad);
    put_be32(pkt, plen);
    pkt[4] = (uint8_t)pad;
    memcpy(pkt + 5, payload, n);
    memset(pkt + 5 + n, 0, pad);
    size_t total = 4 + plen;
    if (c->enc_out) {
        ssh_cipher_seal(&c->k_out, c->seq_out, pkt, plen);
        total += SSH_TAG_LEN;
    }
    c->seq_out++;
    return sshc_send_raw(c, pkt, total);
}

int sshc_recv(struct sshc *c)
{
    if (fill(c, 4) < 0) return -1;
    uint32_t len = c->enc_in ? ssh_cipher_length(&c->k_in, c->seq_in, c->in) : be32(c->in);
    if (len > SSH_MAX_PACKET_LEN || len < 5) return -1;
    size_t total = 4 + len + (c->enc_in ? SSH_TAG_LEN : 0);
    if (fill(c, total) < 0) return -1;
    if (c->enc_in && ssh_cipher_open(&c->k_in, c->seq_in, c->in, len) != 0) return -1;
    uint8_t pad = c->in[4];
    if ((size_t)pad + 1 >= len) return -1;
    c->last_len = len - 1 - pad;
    memcpy(c->last, c->in + 5, c->last_len);
    consume(c, total);
    c->seq_in++;
    return c->last[0];
}

int sshc_recv_skip(struct sshc *c)
{
    for (;;) {
        int t = sshc_recv(c);
        if (t == SSH_MSG_IGNORE || t == SSH_MSG_DEBUG) continue;
        if (t == SSH_MSG_EXT_INFO) { c->got_ext_info = 1; continue; }
        if (t == SSH_MSG_CHANNEL_WINDOW_ADJUST) {
            c->chan_window += be32(c->last + 5);
            continue;
        }
        return t;
    }
}

static int send_kexinit(struct sshc *c, uint8_t *i_c, size_t *i_c_len)
{
    struct ssh_wr w;
    wr_init(&w, i_c, 1024);
    wr_u8(&w, SSH_MSG_KEXINIT);
    uint8_t cookie[16] = { 0 };
    wr_raw(&w, cookie, 16);
    wr_cstr(&w, c->kex_list);
    wr_cstr(&w, "ssh-ed25519");
    wr_cstr(&w, c->cipher_list);
    wr_cstr(&w, c->cipher_list);
    wr_cstr(&w, "hmac-sha2-256");
    wr_cstr(&w, "hmac-sha2-256");
    wr_cstr(&w, "none");
    wr_cstr(&w, "none");
    wr_cstr(&w, "");
    wr_cstr(&w, "");
    wr_u8(&w, 0);
    wr_u32(&w, 0);
    *i_c_len = wr_len(&w);
    return sshc_send(c, i_c, wr_len(&w));
}

/* KEXINIT exchange and ECDH; if got_server_kexinit, c->last holds it already */
static int do_kex(struct sshc *c, int initial, int have_server_kexinit)
{
    static uint8_t i_c[1024], i_s[4096];
    size_t i_c_len, i_s_len;
    if (send_kexinit(c, i_c, &i_c_len) < 0) return -1;
    if (!have_server_kexinit) {
        int t = initial ? sshc_recv(c) : sshc_recv_skip(c);
        if (t != SSH_MSG_KEXINIT) return -1;
    }
    if (c->last_len > sizeof i_s) return -1;
    memcpy(i_s, c->last, c->last_len);
    i_s_len = c->last_len;
    {
        /* our first cipher that the server offers (s2c list) */
        struct ssh_rd kr;
        rd_init(&kr, i_s + 17, i_s_len - 17);
        size_t tl;
        for (int i = 0; i < 3; i++) (void)rd_str(&kr, &tl);
        const uint8_t *sl2 = rd_str(&kr, &tl);
        const char *l = c->cipher_list;
        c->alg = SSH_CIPHER_NONE;
        while (*l && !c->alg) {
            const char *e = strchr(l, ',');
            size_t n = e ? (size_t)(e - l) : strlen(l);
            char name[64];
            if (n < sizeof name) {
                memcpy(name, l, n);
                name[n] = 0;
                if (ssh_namelist_has(sl2, tl, name)) c->alg = ssh_cipher_from_name(name);
            }
            l += n + (e ? 1 : 0);
        }
    }
    if (initial) c->strict = ssh_namelist_has((const uint8_t *)c->kex_list, strlen(c->kex_list), "kex-strict-c-v00@openssh.com");

    uint8_t esk[32], q_c[32], k[32], h[32];
    randombytes_buf(esk, 32);
    crypto_scalarmult_base(q_c, esk);
    uint8_t buf[64];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_KEX_ECDH_INIT);
    wr_str(&w, q_c, 32);
    if (sshc_send(c, buf, wr_len(&w)) < 0) return -1;
    if (sshc_recv(c) != SSH_MSG_KEX_ECDH_REPLY) return -1;
    struct ssh_rd r;
    rd_init(&r, c->last + 1, c->last_len - 1);
    size_t bl, ql, sl;
    const uint8_t *blob = rd_str(&r, &bl);
    const uint8_t *q_s = rd_str(&r, &ql);
    const uint8_t *sigb = rd_str(&r, &sl);
    if (!rd_done(&r) || ql != 32) return -1;
    if (ssh_ed25519_parse_blob(blob, bl, c->host_pub) != 0) return -1;
    if (crypto_scalarmult(k, esk, q_s) != 0) return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    ssh_hash_string(&st, c->v_c, strlen(c->v_c));
    ssh_hash_string(&st, c->v_s, strlen(c->v_s));
    ssh_hash_string(&st, i_c, i_c_len);
    ssh_hash_string(&st, i_s, i_s_len);
    ssh_hash_string(&st, blob, bl);
    ssh_hash_string(&st, q_c, 32);
    ssh_hash_string(&st, q_s, 32);
    ssh_hash_mpint(&st, k, 32);
    crypto_hash_sha256_final(&st, h);
    struct ssh_rd sr;
    size_t tl, sgl;
    rd_init(&sr, sigb, sl);
    const uint8_t *tn = rd_str(&sr, &tl);
    const uint8_t *sig = rd_str(&sr, &sgl);
    if (!rd_done(&sr) || !str_eq(tn, tl, "ssh-ed25519") || sgl != 64) return -1;
    if (crypto_sign_verify_detached(sig, h, 32, c->host_pub) != 0) return -1;
    if (initial) memcpy(c->session_id, h, 32);
    if (sshc_recv(c) != SSH_MSG_NEWKEYS) return -1;
    if (!c->alg) return -1;
    ssh_cipher_init(&c->k_in, c->alg, k, h, 'B', 'D', c->session_id);
    c->enc_in = 1;
    if (c->strict) c->seq_in = 0;
    uint8_t nk = SSH_MSG_NEWKEYS;
    if (sshc_send(c, &nk, 1) < 0) return -1;
    ssh_cipher_init(&c->k_out, c->alg, k, h, 'A', 'C', c->session_id);
    c->enc_out = 1;
    if (c->strict) c->seq_out = 0;
    return 0;
}

int sshc_banner(struct sshc *c)
{
    char line[300];
    snprintf(line, sizeof line, "%s\r\n", c->v_c);
    if (sshc_send_raw(c, line, strlen(line)) < 0) return -1;
    for (;;) {
        size_t i;
        for (i = 0; i < c->in_len && c->in[i] != '\n'; i++) {}
        if (i == c->in_len) {
            if (c->in_len > 255) return -1;
            if (fill(c, c->in_len + 1) < 0) return -1;
            continue;
        }
        size_t n = i;
        if (n && c->in[n - 1] == '\r') n--;
        if (n >= sizeof c->v_s) return -1;
        memcpy(c->v_s, c->in, n);
        c->v_s[n] = 0;
        consume(c, i + 1);
        if (strncmp(c->v_s, "SSH-", 4) == 0) break;
    }
    return 0;
}

int sshc_kex(struct sshc *c)
{
    return do_kex(c, 1, 0);
}

int sshc_handshake(struct sshc *c)
{
    if (sshc_banner(c) < 0) return -1;
    return do_kex(c, 1, 0);
}

int sshc_rekey_reply(struct sshc *c)
{
    return do_kex(c, 0, 1);
}

int sshc_rekey(struct sshc *c)
{
    return do_kex(c, 0, 0);
}

int sshc_service(struct sshc *c)
{
    uint8_t buf[64];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_SERVICE_REQUEST);
    wr_cstr(&w, "ssh-userauth");
    if (sshc_send(c, buf, wr_len(&w)) < 0) return -1;
    return sshc_recv_skip(c) == SSH_MSG_SERVICE_ACCEPT ? 0 : -1;
}

int sshc_auth_query(struct sshc *c, const char *user, const uint8_t pub[32])
{
    uint8_t buf[256], blob[SSH_ED25519_BLOB_LEN];
    ssh_ed25519_blob(pub, blob);
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_USERAUTH_REQUEST);
    wr_cstr(&w, user);
    wr_cstr(&w, "ssh-connection");
    wr_cstr(&w, "publickey");
    wr_u8(&w, 0);
    wr_cstr(&w, "ssh-ed25519");
    wr_str(&w, blob, sizeof blob);
    if (sshc_send(c, buf, wr_len(&w)) < 0) return -1;
    int t = sshc_recv_skip(c);
    if (t == SSH_MSG_USERAUTH_PK_OK) return 0;
    if (t == SSH_MSG_USERAUTH_FAILURE) return 1;
    return -1;
}

int sshc_auth_sign(struct sshc *c, const char *user, const uint8_t sk[64])
{
    uint8_t buf[512], blob[SSH_ED25519_BLOB_LEN], sig[64];
    ssh_ed25519_blob(sk + 32, blob);
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_str(&w, c->session_id, 32);
    size_t start = wr_len(&w);
    wr_u8(&w, SSH_MSG_USERAUTH_REQUEST);
    wr_cstr(&w, user);
    wr_cstr(&w, "ssh-connection");
    wr_cstr(&w, "publickey");
    wr_u8(&w, 1);
    wr_cstr(&w, "ssh-ed25519");
    wr_str(&w, blob, sizeof blob);
    crypto_sign_detached(sig, NULL, buf, wr_len(&w), sk);
    wr_u32(&w, 4 + 11 + 4 + 64);
    wr_cstr(&w, "ssh-ed25519");
    wr_str(&w, sig, 64);
    if (sshc_send(c, buf + start, wr_len(&w) - start) < 0) return -1;
    int t = sshc_recv_skip(c);
    if (t == SSH_MSG_USERAUTH_SUCCESS) return 0;
    if (t == SSH_MSG_USERAUTH_FAILURE) return 1;
    return -1;
}

int sshc_login(struct sshc *c, const char *user, const uint8_t sk[64])
{
    if (sshc_handshake(c) < 0 || sshc_service(c) < 0) return -1;
    return sshc_auth_sign(c, user, sk);
}

int sshc_open_session(struct sshc *c)
{
    uint8_t buf[64];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_OPEN);
    wr_cstr(&w, "session");
    wr_u32(&w, 7);
    wr_u32(&w, 1u << 20);
    wr_u32(&w, 32768);
    if (sshc_send(c, buf, wr_len(&w)) < 0) return -1;
    if (sshc_recv_skip(c) != SSH_MSG_CHANNEL_OPEN_CONFIRMATION) return -1;
    c->chan_remote = be32(c->last + 5);
    c->chan_window = be32(c->last + 9);
    return 0;
}

int sshc_chan_request(struct sshc *c, const char *type, const uint8_t *extra, size_t extra_len)
{
    uint8_t buf[1024];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_REQUEST);
    wr_u32(&w, c->chan_remote);
    wr_cstr(&w, type);
    wr_u8(&w, 1);
    wr_raw(&w, extra, extra_len);
    if (wr_failed(&w) || sshc_send(c, buf, wr_len(&w)) < 0) return -1;
    int t = sshc_recv_skip(c);
    if (t == SSH_MSG_CHANNEL_SUCCESS) return 1;
    if (t == SSH_MSG_CHANNEL_FAILURE) return 0;
    return -1;
}

int sshc_chan_data(struct sshc *c, const void *d, size_t n)
{
    static uint8_t buf[SSH_MAX_PACKET_LEN];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_u8(&w, SSH_MSG_CHANNEL_DATA);
    wr_u32(&w, c->chan_remote);
    wr_str(&w, d, n);
    if (wr_failed(&w)) return -1;
    return sshc_send(c, buf, wr_len(&w));
}
