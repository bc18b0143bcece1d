/* Internal helpers shared by the server, the unit tests' client and the fuzzer. */
#ifndef CAPOS_SSH_INTERNAL_H
#define CAPOS_SSH_INTERNAL_H

#include "ssh.h"
#include <string.h>

/* message numbers (RFC 4250 4.1) */
enum {
    SSH_MSG_DISCONNECT = 1, SSH_MSG_IGNORE = 2, SSH_MSG_UNIMPLEMENTED = 3, SSH_MSG_DEBUG = 4,
    SSH_MSG_SERVICE_REQUEST = 5, SSH_MSG_SERVICE_ACCEPT = 6, SSH_MSG_EXT_INFO = 7,
    SSH_MSG_KEXINIT = 20, SSH_MSG_NEWKEYS = 21,
    SSH_MSG_KEX_ECDH_INIT = 30, SSH_MSG_KEX_ECDH_REPLY = 31,
    SSH_MSG_USERAUTH_REQUEST = 50, SSH_MSG_USERAUTH_FAILURE = 51, SSH_MSG_USERAUTH_SUCCESS = 52,
    SSH_MSG_USERAUTH_BANNER = 53, SSH_MSG_USERAUTH_PK_OK = 60,
    SSH_MSG_GLOBAL_REQUEST = 80, SSH_MSG_REQUEST_SUCCESS = 81, SSH_MSG_REQUEST_FAILURE = 82,
    SSH_MSG_CHANNEL_OPEN = 90, SSH_MSG_CHANNEL_OPEN_CONFIRMATION = 91,
    SSH_MSG_CHANNEL_OPEN_FAILURE = 92, SSH_MSG_CHANNEL_WINDOW_ADJUST = 93,
    SSH_MSG_CHANNEL_DATA = 94, SSH_MSG_CHANNEL_EXTENDED_DATA = 95, SSH_MSG_CHANNEL_EOF = 96,
    SSH_MSG_CHANNEL_CLOSE = 97, SSH_MSG_CHANNEL_REQUEST = 98, SSH_MSG_CHANNEL_SUCCESS = 99,
    SSH_MSG_CHANNEL_FAILURE = 100
};

struct ssh_rd { const uint8_t *p; size_t len, off; int err; };
struct ssh_wr { uint8_t *p; size_t cap, len; int err; };

static inline void rd_init(struct ssh_rd *r, const uint8_t *p, size_t len)
{ r->p = p; r->len = len; r->off = 0; r->err = 0; }
static inline uint32_t be32(const uint8_t *p)
{ return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline void put_be32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static inline uint8_t rd_u8(struct ssh_rd *r)
{ if (r->err || r->len - r->off < 1) { r->err = 1; return 0; } return r->p[r->off++]; }
static inline uint32_t rd_u32(struct ssh_rd *r)
{ if (r->err || r->len - r->off < 4) { r->err = 1; return 0; } uint32_t v = be32(r->p + r->off); r->off += 4; return v; }
static inline int rd_bool(struct ssh_rd *r) { return rd_u8(r) != 0; }
static inline const uint8_t *rd_str(struct ssh_rd *r, size_t *len)
{
    uint32_t n = rd_u32(r);
    if (r->err || r->len - r->off < n) { r->err = 1; *len = 0; return (const uint8_t *)""; }
    const uint8_t *s = r->p + r->off; r->off += n; *len = n; return s;
}
static inline int rd_done(const struct ssh_rd *r) { return !r->err && r->off == r->len; }

static inline void wr_init(struct ssh_wr *w, uint8_t *p, size_t cap) { w->p = p; w->cap = cap; w->len = 0; w->err = 0; }
static inline void wr_raw(struct ssh_wr *w, const void *d, size_t n)
{ if (w->err || w->cap - w->len < n) { w->err = 1; return; } if (n) memcpy(w->p + w->len, d, n); w->len += n; }
static inline void wr_u8(struct ssh_wr *w, uint8_t v) { wr_raw(w, &v, 1); }
static inline void wr_u32(struct ssh_wr *w, uint32_t v) { uint8_t b[4]; put_be32(b, v); wr_raw(w, b, 4); }
static inline void wr_str(struct ssh_wr *w, const void *d, size_t n) { wr_u32(w, (uint32_t)n); wr_raw(w, d, n); }
static inline void wr_cstr(struct ssh_wr *w, const char *s) { wr_str(w, s, strlen(s)); }

static inline int str_eq(const uint8_t *s, size_t n, const char *lit)
{ size_t l = strlen(lit); return n == l && memcmp(s, lit, l) == 0; }

/* name-lists */
int ssh_namelist_has(const uint8_t *list, size_t len, const char *name);
/* first name of the client's list (in client order) that is in ours (NULL-terminated). */
const char *ssh_namelist_choose(const uint8_t *client, size_t clen, const char *const *ours);
/* does the list's first entry equal name? */
int ssh_namelist_first_is(const uint8_t *list, size_t len, const char *name);

/* crypto */
void ssh_hash_string(crypto_hash_sha256_state *h, const void *d, size_t n);
void ssh_hash_mpint(crypto_hash_sha256_state *h, const uint8_t *be, size_t n);
/* key derivation, RFC 4253 7.2, 64 bytes (chacha20-poly1305 key) */
void ssh_derive_key64(const uint8_t k[32], const uint8_t h[32], char letter,
                      const uint8_t session_id[32], uint8_t out[64]);
void ssh_chacha_setkey(struct ssh_chacha_keys *k, const uint8_t key64[64]);
/* seal: buf = [len4][body blen], writes tag at buf+4+blen */
void ssh_chacha_seal(const struct ssh_chacha_keys *k, uint32_t seq, uint8_t *buf, size_t blen);
/* decrypt the 4-byte length without modifying buf */
uint32_t ssh_chacha_length(const struct ssh_chacha_keys *k, uint32_t seq, const uint8_t *buf);
/* verify tag over buf[0..4+blen) and decrypt body in place; 0 ok, -1 bad MAC */
int ssh_chacha_open(const struct ssh_chacha_keys *k, uint32_t seq, uint8_t *buf, size_t blen);

/* generic AEAD packet protection (chacha20-poly1305 or aes256-gcm) */
int ssh_cipher_from_name(const char *name);
const char *ssh_cipher_name(int alg);
size_t ssh_cipher_block(int alg);
/* derive keys (and IV) for one direction: letters 'A'/'C' (client to server) or 'B'/'D' */
void ssh_cipher_init(struct ssh_cipher *c, int alg, const uint8_t k[32], const uint8_t h[32],
                     char iv_letter, char key_letter, const uint8_t session_id[32]);
uint32_t ssh_cipher_length(const struct ssh_cipher *c, uint32_t seq, const uint8_t *buf);
void ssh_cipher_seal(struct ssh_cipher *c, uint32_t seq, uint8_t *buf, size_t blen);
int ssh_cipher_open(struct ssh_cipher *c, uint32_t seq, uint8_t *buf, size_t blen);

#define SSH_ED25519_BLOB_LEN 51u
void ssh_ed25519_blob(const uint8_t pub[32], uint8_t blob[SSH_ED25519_BLOB_LEN]);
/* parse blob "ssh-ed25519" || 32 bytes; 0 ok */
int ssh_ed25519_parse_blob(const uint8_t *blob, size_t len, uint8_t pub[32]);

#endif
