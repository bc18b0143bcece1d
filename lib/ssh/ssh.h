/*
 * lib/ssh: a sans-IO SSH-2 server (RFC 4250-4254 subset).
 *
 * Bytes in, bytes and events out.  The library owns no sockets, no threads,
 * no global state and no private key material.  The caller supplies:
 *   - entropy (config.random),
 *   - time (ssh_server_init()/ssh_tick() take a monotonic millisecond clock),
 *   - host-key signatures (config.sign: the Ed25519 private key stays with
 *     the caller, e.g. behind a capability),
 *   - user-key authorisation (config.authorize).
 *
 * libsodium must have been initialised (sodium_init()) by the caller before
 * any call into this library.
 *
 * Pinned algorithm set:
 *   kex      curve25519-sha256, curve25519-sha256@libssh.org
 *            (+ kex-strict-s-v00@openssh.com, ext-info via ext-info-c)
 *   host key ssh-ed25519
 *   cipher   chacha20-poly1305@openssh.com, then aes256-gcm@openssh.com
 *            where the CPU has AES-NI (both AEAD: no separate MAC)
 *   comp     none
 *
 * Typical loop (see host/ssh-devserver/main.c):
 *
 *   ssh_server_init(c, &cfg, now);
 *   loop:
 *     n = ssh_input_buffer(c, &p);   read(fd, p, n) -> r;  ssh_input_commit(c, r);
 *     while (ssh_poll_event(c, &ev)) handle(ev);   // DATA: ev.data valid until next poll
 *     ssh_channel_write(c, ...);                   // returns bytes accepted
 *     n = ssh_output(c, &q);  write(fd, q, n) -> w; ssh_output_consume(c, w);
 *     ssh_tick(c, now);  (before ssh_deadline(c))
 *   after SSH_EV_DISCONNECT: flush ssh_output() then close the socket.
 */
#ifndef CAPOS_SSH_H
#define CAPOS_SSH_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

/*
 * Largest packet_length (RFC 4253 6.1: padding_length byte + payload +
 * padding, excluding the length field itself and the AEAD tag) accepted.
 * Anything larger ends the connection with SSH_R_PACKET_LENGTH before any
 * byte of it is decrypted or buffered.
 */
#define SSH_MAX_PACKET_LEN 35000u
/* Largest channel data chunk we accept (advertised maximum packet size). */
#define SSH_CHAN_MAX_PACKET 32768u
/* Receive window we advertise and replenish. */
#define SSH_CHAN_WINDOW (2u * 1024u * 1024u)
#define SSH_TAG_LEN 16u
#define SSH_INBUF_SIZE (4u + SSH_MAX_PACKET_LEN + SSH_TAG_LEN + 256u)
#ifndef SSH_OUTBUF_SIZE
#define SSH_OUTBUF_SIZE (160u * 1024u)
#endif
#define SSH_MAX_USER 64u
#define SSH_MAX_VERSION 255u

/* Stable reason codes: ssh_reason_name() gives the audit string. */
enum ssh_reason {
    SSH_R_NONE = 0,
    /* connection-ending */
    SSH_R_BANNER_MALFORMED,     /* banner.malformed */
    SSH_R_BANNER_TOO_LONG,      /* banner.too-long */
    SSH_R_BANNER_VERSION,       /* banner.version */
    SSH_R_PACKET_LENGTH,        /* packet.length */
    SSH_R_PACKET_PADDING,       /* packet.padding */
    SSH_R_PACKET_MAC,           /* packet.mac */
    SSH_R_PACKET_DECODE,        /* packet.decode */
    SSH_R_SEQ_WRAP,             /* packet.sequence-wrap */
    SSH_R_UNEXPECTED_MESSAGE,   /* protocol.unexpected-message */
    SSH_R_KEX_STRICT,           /* kex.strict-violation */
    SSH_R_KEX_NO_KEX_ALG,       /* kex.no-common-kex */
    SSH_R_KEX_NO_HOSTKEY_ALG,   /* kex.no-common-hostkey */
    SSH_R_KEX_NO_CIPHER,        /* kex.no-common-cipher */
    SSH_R_KEX_NO_COMPRESSION,   /* kex.no-common-compression */
    SSH_R_KEX_BAD_PUBLIC,       /* kex.bad-ecdh-public */
    SSH_R_KEX_SIGN_FAILED,      /* kex.hostkey-sign-failed */
    SSH_R_BAD_SERVICE,          /* protocol.bad-service */
    SSH_R_AUTH_TOO_MANY,        /* auth.too-many-attempts */
    SSH_R_AUTH_TIMEOUT,         /* auth.grace-timeout */
    SSH_R_CHANNEL_PROTOCOL,     /* channel.protocol-error */
    SSH_R_PEER_DISCONNECT,      /* peer.disconnect */
    SSH_R_APP_DISCONNECT,       /* app.disconnect */
    SSH_R_INTERNAL,             /* internal.error */
    /* audit only: the request is refused, the connection goes on */
    SSH_R_DENY_EXEC,            /* deny.exec */
    SSH_R_DENY_SUBSYSTEM,       /* deny.subsystem */
    SSH_R_DENY_ENV,             /* deny.env */
    SSH_R_DENY_X11,             /* deny.x11 */
    SSH_R_DENY_AGENT,           /* deny.agent */
    SSH_R_DENY_TCPIP_FORWARD,   /* deny.tcpip-forward */
    SSH_R_DENY_DIRECT_TCPIP,    /* deny.direct-tcpip */
    SSH_R_DENY_STREAMLOCAL,     /* deny.streamlocal */
    SSH_R_DENY_SECOND_SESSION,  /* deny.second-session */
    SSH_R_DENY_CHANNEL_TYPE,    /* deny.channel-type */
    SSH_R_DENY_CHANNEL_REQUEST, /* deny.channel-request */
    SSH_R_DENY_GLOBAL_REQUEST,  /* deny.global-request */
    SSH_R_DENY_PTY,             /* deny.pty (second pty-req) */
    SSH_R_DENY_SHELL,           /* deny.shell (second shell) */
    SSH_R_AUTH_NONE,            /* auth.none (method list sent) */
    SSH_R_AUTH_PASSWORD,        /* auth.password-disabled */
    SSH_R_AUTH_KBDINT,          /* auth.kbdint-disabled */
    SSH_R_AUTH_METHOD,          /* auth.method-unknown */
    SSH_R_AUTH_KEY_ALG,         /* auth.key-algorithm */
    SSH_R_AUTH_KEY_UNKNOWN,     /* auth.key-unknown */
    SSH_R_AUTH_BAD_SIGNATURE,   /* auth.bad-signature */
    SSH_R_AUTH_BAD_USER,        /* auth.bad-user */
    SSH_R_AUTH_BAD_SERVICE,     /* auth.bad-service */
    SSH_R__COUNT
};
const char *ssh_reason_name(enum ssh_reason r);

enum ssh_event_type {
    SSH_EV_NONE = 0,
    SSH_EV_CLIENT_VERSION,  /* data/len: client identification, sanitized */
    SSH_EV_KEX_DONE,        /* value: number of completed key exchanges */
    SSH_EV_AUTH_FAILURE,    /* reason: why (audit); the client saw a generic failure */
    SSH_EV_AUTH_SUCCESS,    /* data/len: user name */
    SSH_EV_DENIED,          /* reason: audit code; data/len: request name (sanitized);
                               value: 1 if the client was sent a failure reply (channel requests) */
    SSH_EV_KEEPALIVE,       /* a keepalive request was answered */
    SSH_EV_SESSION_OPEN,    /* the session channel is open */
    SSH_EV_PTY,             /* data/len: TERM; cols, rows */
    SSH_EV_WINDOW_CHANGE,   /* cols, rows */
    SSH_EV_SHELL,           /* shell requested (and granted) */
    SSH_EV_DATA,            /* data/len: channel data; call ssh_channel_ack() once consumed */
    SSH_EV_EOF,             /* client sent EOF on the session channel */
    SSH_EV_CHANNEL_CLOSED,  /* session channel closed in both directions */
    SSH_EV_DISCONNECT       /* reason: why; connection over (flush output, then close) */
};

struct ssh_event {
    enum ssh_event_type type;
    enum ssh_reason reason;
    const uint8_t *data;    /* valid until the next ssh_poll_event/ssh_input_* call */
    size_t len;
    uint32_t cols, rows, width_px, height_px;
    uint64_t value;
};

/* Phase passed to config.authorize. */
enum ssh_auth_phase {
    SSH_AUTH_QUERY = 0, /* client asks whether the key would be accepted (no signature yet) */
    SSH_AUTH_LOGIN = 1  /* the library has verified the signature: this is a login */
};

/*
 * The proof handed to config.authorize in SSH_AUTH_LOGIN (NULL in
 * SSH_AUTH_QUERY): the raw Ed25519 signature and the exact bytes it signs
 * (RFC 4252 7: string session identifier, then the USERAUTH_REQUEST payload
 * up to and including the public key blob).  Both point into library memory
 * valid only for the duration of the callback; copy what must outlive it.
 */
struct ssh_auth_proof {
    const uint8_t *signed_data;
    size_t signed_len;
    const uint8_t *signature;   /* 64 bytes (raw Ed25519, no SSH framing) */
};

struct ssh_server_config {
    const char *software;   /* identification "softwareversion", e.g. "capOS_0.1"; printable, no spaces */
    uint8_t host_public[32];/* Ed25519 public host key (raw 32 bytes) */
    /*
     * sign: produce a pure Ed25519 signature (RFC 8032) of exactly msg[0..len)
     * with the host private key matching host_public into sig[64].
     * Return 0 on success, anything else fails the key exchange
     * (SSH_R_KEX_SIGN_FAILED).  msg is the 32-byte exchange hash H.
     */
    int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64]);
    /*
     * authorize: is this Ed25519 public key allowed to log in as user?
     * user is NOT NUL-terminated, 1..SSH_MAX_USER bytes of printable ASCII.
     * phase SSH_AUTH_QUERY: no proof of possession yet, answer only "would accept".
     * phase SSH_AUTH_LOGIN: the signature over the session identifier has been
     * verified by the library; proof carries that signature and the exact
     * signed data (so the caller can hand both to another verifier);
     * returning 1 grants the login.  proof is NULL in SSH_AUTH_QUERY.
     * Return 1 to accept, 0 to refuse.  Unknown keys and refused keys are
     * reported to the client identically.
     */
    int (*authorize)(void *ctx, enum ssh_auth_phase phase, const char *user, size_t user_len,
                     const uint8_t pub[32], const struct ssh_auth_proof *proof);
    /* random: fill out[0..len) with cryptographically secure random bytes. */
    void (*random)(void *ctx, uint8_t *out, size_t len);
    void *ctx;
    uint32_t max_auth_attempts; /* failed attempts before disconnect; 0 = 6 */
    uint32_t login_grace_ms;    /* time from connect to successful login; 0 = 120000 */
    uint64_t rekey_bytes;       /* server-initiated re-key after this many bytes; 0 = 1 GiB */
};

struct ssh_chacha_keys {
    uint8_t main_key[32];   /* K_2: payload + poly1305 key */
    uint8_t header_key[32]; /* K_1: packet length */
};

enum { SSH_CIPHER_NONE = 0, SSH_CIPHER_CHACHA20_POLY1305 = 1, SSH_CIPHER_AES256_GCM = 2 };

/* One direction's packet protection. */
struct ssh_cipher {
    crypto_aead_aes256gcm_state gcm;    /* expanded AES key (aes256-gcm) */
    struct ssh_chacha_keys ck;          /* chacha20-poly1305 */
    uint8_t iv[12];                     /* aes256-gcm: fixed field + invocation counter */
    int alg;
};

/* Connection state.  Caller-allocated (about 210 KiB); treat as opaque. */
struct ssh_conn {
    struct ssh_server_config cfg;
    int phase;
    int closed;             /* fatal/disconnect reached */
    int disconnect_reported;
    enum ssh_reason close_reason;
    uint64_t now_ms, grace_deadline_ms;

    /* identification */
    uint8_t v_c[SSH_MAX_VERSION + 1]; size_t v_c_len;
    uint8_t v_s[SSH_MAX_VERSION + 1]; size_t v_s_len;

    /* input */
    uint8_t in[SSH_INBUF_SIZE];
    size_t in_start, in_end;
    size_t in_release;      /* bytes of the last delivered packet to drop at next call */
    uint32_t seq_in;
    int have_in_len; uint32_t in_pkt_len;
    int in_encrypted; struct ssh_cipher k_in;
    uint64_t in_bytes_since_kex, in_pkts_since_kex;

    /* output */
    uint8_t out[SSH_OUTBUF_SIZE];
    size_t out_start, out_end;
    uint32_t seq_out;
    int out_encrypted; struct ssh_cipher k_out;
    uint64_t out_bytes_since_kex, out_pkts_since_kex;
    uint8_t pad_key[32]; uint64_t pad_ctr; uint8_t pad_pool[64]; size_t pad_avail;

    /* key exchange */
    int kex_count;          /* completed exchanges */
    int kex_sent_init, kex_got_init, kex_sent_newkeys, kex_ignore_next;
    int strict, ext_info_c;
    uint8_t i_s[512]; size_t i_s_len;
    crypto_hash_sha256_state h_state;
    uint8_t session_id[32];
    struct ssh_cipher k_in_next;
    int alg_c2s, alg_s2c;

    /* authentication */
    uint32_t auth_failures, auth_requests;
    char user[SSH_MAX_USER + 1]; size_t user_len;

    /* session channel */
    int chan_state;         /* 0 none, 1 open, 2 closed */
    int chan_used, no_more_sessions;
    uint32_t chan_remote_id, chan_remote_window, chan_remote_maxpkt;
    uint32_t chan_local_window, chan_pending_ack;
    int chan_got_eof, chan_got_close, chan_sent_eof, chan_sent_close;
    int chan_have_pty, chan_have_shell;
    int exit_pending; uint32_t exit_status; int eof_pending;
    int close_reported;

    /* replies produced while our KEXINIT is outstanding wait here (RFC 4253 7.1) */
    uint8_t defer[8192]; size_t defer_len;
    uint8_t evtext[128];
};

/* Initialise c; queues our identification line and first KEXINIT.  0 on success. */
int ssh_server_init(struct ssh_conn *c, const struct ssh_server_config *cfg, uint64_t now_ms);

/* Input, zero copy: space available at *buf (may be 0: handle events / drain output first). */
size_t ssh_input_buffer(struct ssh_conn *c, uint8_t **buf);
void ssh_input_commit(struct ssh_conn *c, size_t n);
/* Input, copying: returns bytes taken (maybe fewer than len). */
size_t ssh_feed(struct ssh_conn *c, const uint8_t *in, size_t len);

/* Process buffered input.  Returns 1 and fills ev when there is an event, 0 when
 * more input (or output draining) is needed. */
int ssh_poll_event(struct ssh_conn *c, struct ssh_event *ev);

/* Output to send: returns byte count and points *buf at them. */
size_t ssh_output(struct ssh_conn *c, const uint8_t **buf);
void ssh_output_consume(struct ssh_conn *c, size_t n);

/* Clock. Call with a monotonic ms time; timeouts surface via ssh_poll_event. */
void ssh_tick(struct ssh_conn *c, uint64_t now_ms);
/* Next time ssh_tick must be called by (UINT64_MAX: none). */
uint64_t ssh_deadline(const struct ssh_conn *c);

/* Session channel.  Returns bytes accepted (0: not now: window, key exchange,
 * full output, or channel not open; retry after more events / output drained). */
size_t ssh_channel_write(struct ssh_conn *c, const void *data, size_t len);
/* The application has consumed n bytes of received channel data (window replenish). */
void ssh_channel_ack(struct ssh_conn *c, size_t n);
/* Send EOF (no more data from us). */
void ssh_channel_eof(struct ssh_conn *c);
/* Send exit-status, EOF and CLOSE. */
void ssh_channel_exit(struct ssh_conn *c, uint32_t status);
/* 1 while the session channel is open for writing. */
int ssh_channel_writable(const struct ssh_conn *c);

/* Application-initiated disconnect (sends SSH_MSG_DISCONNECT). */
void ssh_disconnect(struct ssh_conn *c, enum ssh_reason reason);
/* 1 once the connection is over (after SSH_EV_DISCONNECT has been returned). */
int ssh_is_closed(const struct ssh_conn *c);
/* 1 if strict key exchange (kex-strict-*-v00@openssh.com) is in force. */
int ssh_kex_strict(const struct ssh_conn *c);
/* Wipe key material. */
void ssh_conn_wipe(struct ssh_conn *c);

#endif
