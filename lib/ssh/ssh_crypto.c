/* Name-lists, exchange-hash helpers, key derivation and the
 * chacha20-poly1305@openssh.com AEAD (PROTOCOL.chacha20poly1305), all built on
 * libsodium primitives. */
#include "ssh_internal.h"

int ssh_namelist_has(const uint8_t *list, size_t len, const char *name)
{
    struct ssh_rd r;
    const uint8_t *n;
    size_t nl;
    rd_init(&r, list, len);
    while ((n = rd_name(&r, &nl)) != NULL)
        if (str_eq(n, nl, name)) return 1;
    return 0;
}

const char *ssh_namelist_choose(const uint8_t *client, size_t clen, const char *const *ours)
{
    struct ssh_rd r;
    const uint8_t *n;
    size_t nl;
    rd_init(&r, client, clen);
    while ((n = rd_name(&r, &nl)) != NULL)
        for (const char *const *o = ours; *o; o++)
            if (str_eq(n, nl, *o)) return *o;
    return NULL;
}

int ssh_namelist_first_is(const uint8_t *list, size_t len, const char *name)
{
    struct ssh_rd r;
    size_t nl;
    rd_init(&r, list, len);
    const uint8_t *n = rd_name(&r, &nl);
    return str_eq(n, nl, name);
}

void ssh_hash_string(crypto_hash_sha256_state *h, const void *d, size_t n)
{
    uint8_t b[4];
    struct ssh_wr w;
    wr_init(&w, b, sizeof b);
    wr_u32(&w, (uint32_t)n);
    crypto_hash_sha256_update(h, b, sizeof b);
    crypto_hash_sha256_update(h, d, n);
}

/* largest mpint encoded here: length, sign byte, 64 bytes */
#define MPINT_MAX (4u + 1u + 64u)

void ssh_hash_mpint(crypto_hash_sha256_state *h, const uint8_t *be, size_t n)
{
    uint8_t buf[MPINT_MAX];
    struct ssh_wr w;
    wr_init(&w, buf, sizeof buf);
    wr_mpint(&w, be, n);
    crypto_hash_sha256_update(h, buf, wr_len(&w));
    sodium_memzero(buf, sizeof buf);
}

void ssh_derive_key64(const uint8_t k[32], const uint8_t h[32], char letter,
                      const uint8_t session_id[32], uint8_t out[64])
{
    uint8_t kenc[MPINT_MAX];
    struct ssh_wr w;
    wr_init(&w, kenc, sizeof kenc);
    wr_mpint(&w, k, 32);
    size_t kl = wr_len(&w);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, kenc, kl);
    crypto_hash_sha256_update(&st, h, 32);
    crypto_hash_sha256_update(&st, (const uint8_t *)&letter, 1);
    crypto_hash_sha256_update(&st, session_id, 32);
    crypto_hash_sha256_final(&st, out);
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, kenc, kl);
    crypto_hash_sha256_update(&st, h, 32);
    crypto_hash_sha256_update(&st, out, 32);
    crypto_hash_sha256_final(&st, out + 32);
    sodium_memzero(kenc, sizeof kenc);
    sodium_memzero(&st, sizeof st);
}

void ssh_chacha_setkey(struct ssh_chacha_keys *k, const uint8_t key64[64])
{
    /* "The first 256 bits constitute K_2 and the second 256 bits become K_1." */
    memcpy(k->main_key, key64, 32);
    memcpy(k->header_key, key64 + 32, 32);
}

/* the packet sequence number as a 64-bit big-endian nonce */
static void seq_nonce(uint32_t seq, uint8_t nonce[8])
{
    struct ssh_wr w;
    wr_init(&w, nonce, 8);
    wr_u32(&w, 0);
    wr_u32(&w, seq);
}

/* the 4-byte packet length field */
static uint32_t length_field(const uint8_t *l)
{
    struct ssh_rd r;
    rd_init(&r, l, 4);
    return rd_u32(&r);
}

void ssh_chacha_seal(const struct ssh_chacha_keys *k, uint32_t seq, uint8_t *buf, size_t blen)
{
    uint8_t nonce[8], polykey[32];
    seq_nonce(seq, nonce);
    crypto_stream_chacha20_xor(buf, buf, 4, nonce, k->header_key);
    crypto_stream_chacha20(polykey, sizeof polykey, nonce, k->main_key);
    crypto_stream_chacha20_xor_ic(buf + 4, buf + 4, blen, nonce, 1, k->main_key);
    crypto_onetimeauth_poly1305(buf + 4 + blen, buf, 4 + blen, polykey);
    sodium_memzero(polykey, sizeof polykey);
}

uint32_t ssh_chacha_length(const struct ssh_chacha_keys *k, uint32_t seq, const uint8_t *buf)
{
    uint8_t nonce[8], l[4];
    seq_nonce(seq, nonce);
    crypto_stream_chacha20_xor(l, buf, 4, nonce, k->header_key);
    return length_field(l);
}

int ssh_chacha_open(const struct ssh_chacha_keys *k, uint32_t seq, uint8_t *buf, size_t blen)
{
    uint8_t nonce[8], polykey[32];
    seq_nonce(seq, nonce);
    crypto_stream_chacha20(polykey, sizeof polykey, nonce, k->main_key);
    int ok = crypto_onetimeauth_poly1305_verify(buf + 4 + blen, buf, 4 + blen, polykey);
    sodium_memzero(polykey, sizeof polykey);
    if (ok != 0) return -1;
    crypto_stream_chacha20_xor_ic(buf + 4, buf + 4, blen, nonce, 1, k->main_key);
    return 0;
}

int ssh_cipher_from_name(const char *name)
{
    if (!name) return SSH_CIPHER_NONE;
    if (!strcmp(name, "chacha20-poly1305@openssh.com")) return SSH_CIPHER_CHACHA20_POLY1305;
    if (!strcmp(name, "aes256-gcm@openssh.com")) return SSH_CIPHER_AES256_GCM;
    return SSH_CIPHER_NONE;
}

const char *ssh_cipher_name(int alg)
{
    return alg == SSH_CIPHER_CHACHA20_POLY1305 ? "chacha20-poly1305@openssh.com"
         : alg == SSH_CIPHER_AES256_GCM ? "aes256-gcm@openssh.com" : "none";
}

size_t ssh_cipher_block(int alg)
{
    return alg == SSH_CIPHER_AES256_GCM ? 16 : 8;
}

void ssh_cipher_init(struct ssh_cipher *c, int alg, const uint8_t k[32], const uint8_t h[32],
                     char iv_letter, char key_letter, const uint8_t session_id[32])
{
    uint8_t key[64];
    memset(c, 0, sizeof *c);
    c->alg = alg;
    ssh_derive_key64(k, h, key_letter, session_id, key);
    if (alg == SSH_CIPHER_AES256_GCM) {
        crypto_aead_aes256gcm_beforenm(&c->gcm, key);
        ssh_derive_key64(k, h, iv_letter, session_id, key);
        memcpy(c->iv, key, 12);
    } else {
        ssh_chacha_setkey(&c->ck, key);
    }
    sodium_memzero(key, sizeof key);
}

uint32_t ssh_cipher_length(const struct ssh_cipher *c, uint32_t seq, const uint8_t *buf)
{
    if (c->alg == SSH_CIPHER_AES256_GCM) return length_field(buf);    /* sent in clear, authenticated */
    return ssh_chacha_length(&c->ck, seq, buf);
}

/* RFC 5647 7.1: the invocation counter is the IV's last 8 bytes, +1 per packet */
static void gcm_next_iv(uint8_t iv[12])
{
    for (int i = 11; i >= 4; i--)
        if (++iv[i] != 0) break;
}

void ssh_cipher_seal(struct ssh_cipher *c, uint32_t seq, uint8_t *buf, size_t blen)
{
    if (c->alg == SSH_CIPHER_AES256_GCM) {
        crypto_aead_aes256gcm_encrypt_detached_afternm(buf + 4, buf + 4 + blen, NULL, buf + 4, blen,
                                                       buf, 4, NULL, c->iv, &c->gcm);
        gcm_next_iv(c->iv);
        return;
    }
    ssh_chacha_seal(&c->ck, seq, buf, blen);
}

int ssh_cipher_open(struct ssh_cipher *c, uint32_t seq, uint8_t *buf, size_t blen)
{
    if (c->alg == SSH_CIPHER_AES256_GCM) {
        int r = crypto_aead_aes256gcm_decrypt_detached_afternm(buf + 4, NULL, buf + 4, blen, buf + 4 + blen,
                                                               buf, 4, c->iv, &c->gcm);
        gcm_next_iv(c->iv);
        return r == 0 ? 0 : -1;
    }
    return ssh_chacha_open(&c->ck, seq, buf, blen);
}

void ssh_ed25519_blob(const uint8_t pub[32], uint8_t blob[SSH_ED25519_BLOB_LEN])
{
    struct ssh_wr w;
    wr_init(&w, blob, SSH_ED25519_BLOB_LEN);
    wr_cstr(&w, SSH_ED25519);
    wr_str(&w, pub, SSH_ED25519_PUB_LEN);
}

int ssh_ed25519_parse_blob(const uint8_t *blob, size_t len, uint8_t pub[32])
{
    struct ssh_rd r;
    size_t tl, kl;
    rd_init(&r, blob, len);
    const uint8_t *t = rd_str(&r, &tl);
    const uint8_t *k = rd_str(&r, &kl);
    if (!rd_done(&r) || !str_eq(t, tl, SSH_ED25519) || kl != SSH_ED25519_PUB_LEN) return -1;
    memcpy(pub, k, SSH_ED25519_PUB_LEN);
    return 0;
}
