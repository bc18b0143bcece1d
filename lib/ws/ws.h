/* lib/ws: the server side of WebSocket (RFC 6455), sans-IO.
 *
 * The upgrade handshake reads a request parsed by lib/http; frames are
 * parsed from caller buffers (unmasked in place) one event at a time and
 * replies are queued in a bounded send queue inside struct ws_conn.  No
 * allocation, no global state, no system calls.  See README.md. */
#ifndef CAPOS_WS_H
#define CAPOS_WS_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

#define WS_SENDQ_MAX        65536u  /* bytes of queued frames (hard bound) */
#define WS_CONTROL_MAX      125u
#define WS_DEF_MAX_MESSAGE  (1024u * 1024u)
#define WS_ACCEPT_LEN       28u     /* base64 of a SHA-1 */

/* opcodes (RFC 6455 5.2) */
enum { WS_OP_CONT = 0x0, WS_OP_TEXT = 0x1, WS_OP_BINARY = 0x2,
       WS_OP_CLOSE = 0x8, WS_OP_PING = 0x9, WS_OP_PONG = 0xA };

/* close codes (RFC 6455 7.4.1) */
enum { WS_CLOSE_NORMAL = 1000, WS_CLOSE_GOING_AWAY = 1001, WS_CLOSE_PROTOCOL = 1002,
       WS_CLOSE_UNSUPPORTED = 1003, WS_CLOSE_NO_STATUS = 1005, WS_CLOSE_INVALID_DATA = 1007,
       WS_CLOSE_POLICY = 1008, WS_CLOSE_TOO_BIG = 1009, WS_CLOSE_INTERNAL = 1011 };

struct ws_config {
    const char *const *origins; /* NULL-terminated accepted Origin values; NULL: Origin not checked */
    uint64_t max_message;       /* payload bytes of one message, all fragments */
    size_t sendq;               /* send-queue capacity, <= WS_SENDQ_MAX */
};

/* Reason codes, stable across versions. */
enum ws_reason {
    WS_OK = 0,
    /* the handshake (ws_handshake) */
    WS_R_NOT_GET,           /* 405 */
    WS_R_NOT_HTTP11,        /* 400 */
    WS_R_NO_UPGRADE,        /* 426 Upgrade: websocket missing */
    WS_R_NO_CONNECTION,     /* 400 Connection: upgrade missing */
    WS_R_VERSION,           /* 426 Sec-WebSocket-Version not 13 (response names 13) */
    WS_R_KEY,               /* 400 Sec-WebSocket-Key not base64 of 16 bytes, or twice */
    WS_R_ORIGIN,            /* 403 Origin missing, twice, or not configured */
    WS_R_HAS_BODY,          /* 400 upgrade request with a body */
    /* frames (close code in parentheses) */
    WS_R_RSV,               /* (1002) RSV bit set: no extension negotiated */
    WS_R_OPCODE,            /* (1002) reserved opcode */
    WS_R_UNMASKED,          /* (1002) client frame without mask */
    WS_R_CONTROL_LEN,       /* (1002) control frame over 125 bytes */
    WS_R_CONTROL_FRAGMENTED,/* (1002) control frame without FIN */
    WS_R_LEN_ENCODING,      /* (1002) length not in its shortest form, or 64-bit MSB set */
    WS_R_CONT_UNEXPECTED,   /* (1002) continuation with no message open */
    WS_R_DATA_IN_MESSAGE,   /* (1002) text/binary frame while a message is open */
    WS_R_TOO_BIG,           /* (1009) message over max_message */
    WS_R_UTF8,              /* (1007) text message or close reason not UTF-8 */
    WS_R_CLOSE_LEN,         /* (1002) close payload of 1 byte */
    WS_R_CLOSE_CODE,        /* (1002) close code not allowed on the wire */
    WS_R_COUNT
};

enum ws_event_type {
    WS_EV_NONE = 0, /* need more input, or send-queue room (see ws_feed) */
    WS_EV_DATA,     /* ev.data[0..len): part of a message (opcode TEXT/BINARY), fin on its last part */
    WS_EV_PING,     /* answered already (a pong is queued) */
    WS_EV_PONG,
    WS_EV_CLOSE,    /* the peer closed (ev.code, ev.data = reason); our close is queued */
    WS_EV_ERROR     /* protocol error: ws_reason(); a close frame with ev.code is queued */
};

struct ws_event {
    int type, opcode, fin;
    uint16_t code;
    const uint8_t *data;
    size_t len;
};

/* Caller-allocated; fields are private to ws.c. */
struct ws_conn {
    struct ws_config cfg;
    int reason, closed_rx, closed_tx, failed;
    /* frame header being read */
    uint8_t hdr[14];
    size_t hdr_len;
    int in_payload, fin, opcode;
    uint64_t payload_left;
    uint8_t mask[4];
    unsigned mask_off;
    /* the message being received */
    int msg_open, msg_opcode;
    uint64_t msg_len;
    uint8_t u8_need, u8_lo, u8_hi;
    /* a control frame's payload */
    uint8_t ctl[WS_CONTROL_MAX];
    size_t ctl_len;
    /* the send queue */
    int send_open;   /* a fragmented message of ours is open */
    size_t q_off, q_len;
    uint8_t q[WS_SENDQ_MAX];
};

/* Check an upgrade request (after lib/http's HEAD event) and, if it is
 * acceptable, write the 101 response into w; otherwise write the refusal
 * (status, and Sec-WebSocket-Version: 13 for 426) and return the reason. */
int ws_handshake(const struct http_conn *req, const struct ws_config *cfg, struct http_wr *w);
/* Sec-WebSocket-Accept for a key (RFC 6455 4.2.2): 28 characters and a NUL. */
void ws_accept_key(const uint8_t *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);
int ws_handshake_status(int reason);

void ws_init(struct ws_conn *c, const struct ws_config *cfg);
/* Parse from in[0..len) (payload unmasked in place); *used bytes consumed.
 * One event per call.  Input is held back (WS_EV_NONE, *used may be 0)
 * while the send queue has less room than a control reply needs, so a peer
 * that sends pings and never reads cannot grow our memory; the caller
 * drains ws_output() and calls again. */
int ws_feed(struct ws_conn *c, uint8_t *in, size_t len, size_t *used, struct ws_event *ev);
/* Queue one frame: opcode TEXT/BINARY starts a message (fin = 0 keeps it
 * open for CONT frames), PING/PONG.  Never partial: -1 when the queue lacks
 * room (back-pressure: try again after draining), when the message state
 * does not allow it, or after a close. */
int ws_send(struct ws_conn *c, int opcode, const void *data, size_t len, int fin);
/* Start the close handshake with code (and a UTF-8 reason up to 123 bytes). */
int ws_close(struct ws_conn *c, uint16_t code, const char *reason);
size_t ws_send_room(const struct ws_conn *c); /* payload bytes one ws_send() of data may carry */
/* Bytes to write to the peer, and how many were written. */
const uint8_t *ws_output(const struct ws_conn *c, size_t *len);
void ws_output_done(struct ws_conn *c, size_t n);
/* Both close frames exchanged (or ours sent after an error) and the queue
 * drained: the server closes the TCP connection. */
int ws_finished(const struct ws_conn *c);
int ws_reason(const struct ws_conn *c);
const char *ws_reason_name(int reason);

#endif
