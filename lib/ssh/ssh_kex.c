/* RFC 4253 7-9 key exchange: KEXINIT negotiation, curve25519-sha256
 * (RFC 8731), the host key signature, NEWKEYS, strict KEX
 * (kex-strict-s-v00@openssh.com), EXT_INFO (RFC 8308) and re-keying. */

#include "ssh_core.h"

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

/* the ten name-lists of a KEXINIT (RFC 4253 7.1) */
enum {
    KEXL_KEX = 0, KEXL_HOSTKEY, KEXL_CIPHER_C2S, KEXL_CIPHER_S2C, KEXL_MAC_C2S, KEXL_MAC_S2C,
    KEXL_COMP_C2S, KEXL_COMP_S2C, KEXL_LANG_C2S, KEXL_LANG_S2C, KEXL__COUNT
};

void ssh_kex_send_init(struct ssh_conn *c)
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
    ssh_send(c, &w, 1);
    c->kex_sent_init = 1;
}

int ssh_on_kexinit(struct ssh_conn *c, struct ssh_rd *r)
{
    if (c->kex_got_init) { ssh_fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    uint32_t seq_of_this = c->seq_in - 1;
    const uint8_t *l[KEXL__COUNT];
    size_t ll[KEXL__COUNT];
    (void)rd_bytes(r, SSH_KEXINIT_COOKIE_LEN);
    for (int i = 0; i < KEXL__COUNT; i++) l[i] = rd_str(r, &ll[i]);
    int follows = rd_bool(r);
    (void)rd_u32(r);                /* reserved */
    if (rd_failed(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }

    if (c->kex_count == 0) {
        c->strict = ssh_namelist_has(l[KEXL_KEX], ll[KEXL_KEX], "kex-strict-c-v00@openssh.com");
        c->ext_info_c = ssh_namelist_has(l[KEXL_KEX], ll[KEXL_KEX], "ext-info-c");
        if (c->strict && seq_of_this != 0) { ssh_fatal(c, SSH_R_KEX_STRICT); return -1; }
    }
    const char *kex = ssh_namelist_choose(l[KEXL_KEX], ll[KEXL_KEX], kex_algs);
    if (!kex) { ssh_fatal(c, SSH_R_KEX_NO_KEX_ALG); return -1; }
    const char *hk = ssh_namelist_choose(l[KEXL_HOSTKEY], ll[KEXL_HOSTKEY], hostkey_algs);
    if (!hk) { ssh_fatal(c, SSH_R_KEX_NO_HOSTKEY_ALG); return -1; }
    const char *const *ours = crypto_aead_aes256gcm_is_available() ? cipher_algs_gcm : cipher_algs;
    c->alg_c2s = ssh_cipher_from_name(ssh_namelist_choose(l[KEXL_CIPHER_C2S], ll[KEXL_CIPHER_C2S], ours));
    c->alg_s2c = ssh_cipher_from_name(ssh_namelist_choose(l[KEXL_CIPHER_S2C], ll[KEXL_CIPHER_S2C], ours));
    if (!c->alg_c2s || !c->alg_s2c) { ssh_fatal(c, SSH_R_KEX_NO_CIPHER); return -1; }
    /* The MAC lists are irrelevant with an AEAD cipher. */
    if (!ssh_namelist_choose(l[KEXL_COMP_C2S], ll[KEXL_COMP_C2S], comp_algs) ||
        !ssh_namelist_choose(l[KEXL_COMP_S2C], ll[KEXL_COMP_S2C], comp_algs)) {
        ssh_fatal(c, SSH_R_KEX_NO_COMPRESSION); return -1;
    }
    c->kex_ignore_next = follows && !(ssh_namelist_first_is(l[KEXL_KEX], ll[KEXL_KEX], kex) &&
                                      ssh_namelist_first_is(l[KEXL_HOSTKEY], ll[KEXL_HOSTKEY], hk));
    if (!c->kex_sent_init) ssh_kex_send_init(c);
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
int ssh_on_ecdh_init(struct ssh_conn *c, struct ssh_rd *r)
{
    if (!c->kex_got_init || c->kex_sent_newkeys) { ssh_fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (c->kex_ignore_next) { c->kex_ignore_next = 0; return 0; }
    size_t ql;
    const uint8_t *q_c = rd_str(r, &ql);
    if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
    if (ql != SSH_X25519_LEN) { ssh_fatal(c, SSH_R_KEX_BAD_PUBLIC); return -1; }

    uint8_t esk[SSH_X25519_LEN], q_s[SSH_X25519_LEN], k[SSH_X25519_LEN], h[SSH_HASH_LEN];
    uint8_t sig[SSH_ED25519_SIG_LEN], blob[SSH_ED25519_BLOB_LEN];
    c->cfg.random(c->cfg.ctx, esk, sizeof esk);
    crypto_scalarmult_base(q_s, esk);
    if (crypto_scalarmult(k, esk, q_c) != 0) {
        sodium_memzero(esk, sizeof esk);
        ssh_fatal(c, SSH_R_KEX_BAD_PUBLIC);
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
        ssh_fatal(c, SSH_R_KEX_SIGN_FAILED);
        return -1;
    }
    struct ssh_reply m;
    struct ssh_wr *w = ssh_reply_begin(&m, SSH_MSG_KEX_ECDH_REPLY);
    wr_str(w, blob, sizeof blob);
    wr_str(w, q_s, sizeof q_s);
    size_t sigmark = wr_str_open(w);
    wr_cstr(w, SSH_ED25519);
    wr_str(w, sig, sizeof sig);
    wr_str_close(w, sigmark);
    ssh_send(c, w, 1);
    w = ssh_reply_begin(&m, SSH_MSG_NEWKEYS);
    ssh_send(c, w, 1);

    ssh_cipher_init(&c->k_out, c->alg_s2c, k, h, 'B', 'D', c->session_id);
    ssh_cipher_init(&c->k_in_next, c->alg_c2s, k, h, 'A', 'C', c->session_id);
    sodium_memzero(k, sizeof k);
    c->out_encrypted = 1;
    if (c->strict) c->seq_out = 0;
    c->out_pkts_since_kex = c->out_bytes_since_kex = 0;
    c->kex_sent_newkeys = 1;

    if (c->kex_count == 0 && c->ext_info_c) {     /* RFC 8308 */
        w = ssh_reply_begin(&m, SSH_MSG_EXT_INFO);
        wr_u32(w, 1);
        wr_cstr(w, "server-sig-algs");
        wr_namelist(w, hostkey_algs);
        ssh_send(c, w, 1);
    }
    ssh_flush_defer(c);
    return 0;
}

int ssh_on_newkeys(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev)
{
    if (!c->kex_sent_newkeys) { ssh_fatal(c, SSH_R_UNEXPECTED_MESSAGE); return -1; }
    if (!rd_done(r)) { ssh_fatal(c, SSH_R_PACKET_DECODE); return -1; }
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

/* Has this key's traffic reached the re-key limit (and no exchange is running)? */
int ssh_rekey_due(const struct ssh_conn *c)
{
    return !c->kex_sent_init && !c->kex_got_init &&
           (c->out_bytes_since_kex >= c->cfg.rekey_bytes || c->in_bytes_since_kex >= c->cfg.rekey_bytes ||
            c->out_pkts_since_kex >= REKEY_PACKETS || c->in_pkts_since_kex >= REKEY_PACKETS);
}

int ssh_kex_strict(const struct ssh_conn *c)
{
    return c->strict;
}
