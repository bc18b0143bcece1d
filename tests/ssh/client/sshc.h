/* A minimal, blocking SSH client used only by tests, the hostile-client tool
 * and the fuzzer.  It speaks exactly the library's algorithm set and lets a
 * test corrupt any layer on purpose. */
#ifndef CAPOS_SSHC_H
#define CAPOS_SSHC_H

#include "ssh_internal.h"

/* Byte order for the tests' hand-made and hand-inspected packets (the
 * library itself reads and writes only through ssh_buf.h). */
static inline uint32_t be32(const uint8_t *p)
{ return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]; }
static inline void put_be32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

struct sshc {
    /* transport: send all bytes (0 ok), receive some bytes (>0, or 0 on EOF) */
    int (*xmit)(void *ctx, const uint8_t *p, size_t n);
    size_t (*recv)(void *ctx, uint8_t *p, size_t n);
    void *ctx;

    uint8_t in[80000]; size_t in_len;
    uint32_t seq_in, seq_out;
    int enc_in, enc_out, strict;
    struct ssh_cipher k_in, k_out;
    int alg;              /* negotiated cipher (both directions) */
    uint8_t session_id[32];
    uint8_t host_pub[32];
    char v_s[256];
    const char *kex_list;   /* default: curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com */
    const char *cipher_list;
    const char *v_c;        /* default "SSH-2.0-capostest_1.0" */
    uint8_t last[SSH_MAX_PACKET_LEN + 64]; size_t last_len;  /* last received payload */
    uint32_t chan_remote, chan_window;
    int got_ext_info;
};

void sshc_init(struct sshc *c);
int sshc_send_raw(struct sshc *c, const void *p, size_t n);
int sshc_send(struct sshc *c, const uint8_t *payload, size_t n);
/* receive one packet into c->last; returns message type or -1 */
int sshc_recv(struct sshc *c);
/* receive, skipping IGNORE/DEBUG/EXT_INFO/WINDOW_ADJUST; returns type or -1 */
int sshc_recv_skip(struct sshc *c);
/* banner + key exchange; 0 on success */
int sshc_handshake(struct sshc *c);
int sshc_banner(struct sshc *c);
int sshc_kex(struct sshc *c);
/* answer a server KEXINIT that is in c->last */
int sshc_rekey_reply(struct sshc *c);
/* client-initiated re-key (no other traffic in flight); 0 on success */
int sshc_rekey(struct sshc *c);
int sshc_service(struct sshc *c);
/* publickey auth: 0 success, 1 failure, -1 error */
int sshc_auth_query(struct sshc *c, const char *user, const uint8_t pub[32]);
int sshc_auth_sign(struct sshc *c, const char *user, const uint8_t sk[64]);
int sshc_login(struct sshc *c, const char *user, const uint8_t sk[64]);
/* open session channel: 0 ok */
int sshc_open_session(struct sshc *c);
/* channel request; returns 1 success, 0 failure (want_reply), -1 error */
int sshc_chan_request(struct sshc *c, const char *type, const uint8_t *extra, size_t extra_len);
int sshc_chan_data(struct sshc *c, const void *d, size_t n);

#endif
