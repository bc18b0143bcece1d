/* What the server's layer files share: phases, limits, the reply builder,
 * and each layer's entry points.  Not part of the interface (ssh.h). */
#ifndef CAPOS_SSH_CORE_H
#define CAPOS_SSH_CORE_H

#include "ssh_internal.h"

/* c->phase */
enum { PH_BANNER = 0, PH_KEX, PH_SERVICE, PH_AUTH, PH_CONN };
/* c->chan_state */
enum { CHAN_NONE = 0, CHAN_OPEN, CHAN_CLOSED };

/* Output space kept free for protocol replies: before a packet is processed
 * at least this much must be free, and no single packet produces more. */
#define OUT_RESERVE 4096u
#define PKT_HEADER 5u                           /* packet_length, padding_length */
#define PKT_OVERHEAD (PKT_HEADER + 19u + SSH_TAG_LEN)   /* header, largest padding, tag */
#define REPLY_MAX 256u                          /* largest reply payload built on the stack */
#define REKEY_PACKETS (1ull << 28)
/* a handler's answer when the message is not one of its layer's */
#define NOT_MINE 2

/* A reply being built on the stack: ssh_reply_begin() writes the message
 * number, the caller the rest, ssh_send() sends it. */
struct ssh_reply { struct ssh_wr w; uint8_t buf[REPLY_MAX]; };

static inline struct ssh_wr *ssh_reply_begin(struct ssh_reply *m, uint8_t type)
{
    wr_init(&m->w, m->buf, sizeof m->buf);
    wr_u8(&m->w, type);
    return &m->w;
}

/* ssh_server.c: core */
int ssh_printable(const uint8_t *s, size_t n);
void ssh_flush_deferred(struct ssh_conn *c);

/* ssh_transport.c: RFC 4253 transport */
size_t ssh_out_free(const struct ssh_conn *c);
int ssh_pkt_begin(struct ssh_conn *c, struct ssh_wr *w, size_t max_payload);
int ssh_pkt_end(struct ssh_conn *c, const struct ssh_wr *w);
int ssh_out_blocked(const struct ssh_conn *c);
void ssh_send(struct ssh_conn *c, const struct ssh_wr *w, int kexmsg);
void ssh_flush_defer(struct ssh_conn *c);
void ssh_fatal(struct ssh_conn *c, enum ssh_reason r);
void ssh_release_in(struct ssh_conn *c);
int ssh_read_banner(struct ssh_conn *c, struct ssh_event *ev);
int ssh_read_packet(struct ssh_conn *c, struct ssh_rd *payload);
void ssh_send_unimplemented(struct ssh_conn *c);
int ssh_on_service_request(struct ssh_conn *c, struct ssh_rd *r);

/* ssh_kex.c: RFC 4253 key exchange */
void ssh_kex_send_init(struct ssh_conn *c);
int ssh_on_kexinit(struct ssh_conn *c, struct ssh_rd *r);
int ssh_on_ecdh_init(struct ssh_conn *c, struct ssh_rd *r);
int ssh_on_newkeys(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev);
int ssh_rekey_due(const struct ssh_conn *c);

/* ssh_userauth.c: RFC 4252 */
int ssh_on_userauth(struct ssh_conn *c, struct ssh_rd *r, struct ssh_event *ev);

/* ssh_connection.c: RFC 4254 */
int ssh_connection_dispatch(struct ssh_conn *c, uint8_t t, struct ssh_rd *r, struct ssh_event *ev);
void ssh_chan_flush(struct ssh_conn *c);

#endif
