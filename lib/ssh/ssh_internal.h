/* Internal helpers shared by the server, the unit tests' client and the fuzzer. */
#ifndef CAPOS_SSH_INTERNAL_H
#define CAPOS_SSH_INTERNAL_H

#include "ssh.h"
#include "ssh_buf.h"
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

/* message number ranges (RFC 4250 4.1.2) */
enum {
    SSH_MSG_KEX_FIRST = 20, SSH_MSG_KEX_LAST = 49     /* algorithm negotiation, key exchange */
};

/* disconnection reason codes (RFC 4250 4.2.2) */
enum {
    SSH_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT = 1, SSH_DISCONNECT_PROTOCOL_ERROR = 2,
    SSH_DISCONNECT_KEY_EXCHANGE_FAILED = 3, SSH_DISCONNECT_RESERVED = 4, SSH_DISCONNECT_MAC_ERROR = 5,
    SSH_DISCONNECT_COMPRESSION_ERROR = 6, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7,
    SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED = 8, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE = 9,
    SSH_DISCONNECT_CONNECTION_LOST = 10, SSH_DISCONNECT_BY_APPLICATION = 11,
    SSH_DISCONNECT_TOO_MANY_CONNECTIONS = 12, SSH_DISCONNECT_AUTH_CANCELLED_BY_USER = 13,
    SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE = 14, SSH_DISCONNECT_ILLEGAL_USER_NAME = 15
};

/* channel open failure reason codes (RFC 4250 4.3) */
enum {
    SSH_OPEN_ADMINISTRATIVELY_PROHIBITED = 1, SSH_OPEN_CONNECT_FAILED = 2,
    SSH_OPEN_UNKNOWN_CHANNEL_TYPE = 3, SSH_OPEN_RESOURCE_SHORTAGE = 4
};

/* sizes on the wire */
#define SSH_KEXINIT_COOKIE_LEN 16u
#define SSH_X25519_LEN 32u          /* curve25519 public key, shared secret */
#define SSH_HASH_LEN 32u            /* SHA-256: exchange hash, session identifier */
#define SSH_ED25519_PUB_LEN 32u
#define SSH_ED25519_SIG_LEN 64u
#define SSH_ED25519 "ssh-ed25519"   /* host key and user key algorithm */

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
