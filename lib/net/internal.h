/* Internal declarations shared by the lib/net source files. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include "net.h"
#include "cursor.h"
#include "proto.h"

/* The guest runtime and the host libc provide these four. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define CNT(st, name) ((st)->counters[NET_C_##name]++)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Sequence-number comparisons modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GE(a, b) SEQ_LE(b, a)

/* checksum.c */
uint32_t cksum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t cksum_fold(uint32_t sum);
uint32_t cksum_pseudo(net_ip src, net_ip dst, uint8_t proto, uint16_t len);

/* eth.c */
extern const uint8_t net_bcast_mac[ETH_ADDR_LEN];
void eth_header(struct net_stack *st, uint8_t *frame, const uint8_t dst[ETH_ADDR_LEN], uint16_t type);
size_t eth_pad(uint8_t *frame, size_t n);
void eth_send(struct net_stack *st, const uint8_t dst[ETH_ADDR_LEN], uint16_t type, size_t payload_len);

/* arp.c */
void arp_input(struct net_stack *st, struct net_rd *r);
void arp_resolve_and_send(struct net_stack *st, net_ip next_hop, size_t ip_len);
void arp_timers(struct net_stack *st);
void arp_learn(struct net_stack *st, net_ip ip, const uint8_t mac[6], bool create);

/* ipv4.c: payload is built at st->tx + ETH_HDR + IP_HDR. */
void ip_input(struct net_stack *st, struct net_rd *r);
int ip_send(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto, size_t payload_len);
uint8_t *ip_payload_buf(struct net_stack *st);
size_t ip_payload_cap(void);
int ip_send_parts(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                  const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen);
bool ip_is_bcast(const struct net_stack *st, net_ip ip);
void ip_deliver(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                const uint8_t *p, size_t n, bool bcast);

/* ipfrag.c */
void frag_input(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto, uint16_t id,
                uint32_t off, bool more, const uint8_t *p, size_t n, bool bcast);
void frag_timers(struct net_stack *st);

/* icmp.c */
void icmp_input(struct net_stack *st, net_ip src, struct net_rd *r, bool bcast);
void icmp_port_unreach(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                       const uint8_t *l4, size_t n);

/* udp.c */
void udp_input(struct net_stack *st, net_ip src, net_ip dst, struct net_rd *r, bool bcast);

int udp_send_from(struct net_stack *st, net_ip src, uint16_t sport, net_ip dst, uint16_t dport,
                  const uint8_t *data, size_t len);

/* dhcp.c */
void dhcp_input(struct net_stack *st, struct net_rd *r);
void dhcp_timers(struct net_stack *st);

/* A received TCP segment, parsed (tcp_input.c). */
struct tcp_seg {
    net_ip src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack, len;     /* len: payload bytes */
    uint32_t wnd;               /* raw window field */
    uint8_t flags;
    const uint8_t *data;
    /* options */
    uint16_t mss;               /* 0 absent */
    int wscale;                 /* -1 absent */
    bool sack_perm;
    bool ts;                    /* timestamps option present */
    uint32_t tsval, tsecr;
    uint8_t nsack;
    struct net_seq_range sack[TCP_OPT_SACK_MAX_BLOCKS];
};

/* tcp_*.c */
void tcp_input(struct net_stack *st, net_ip src, net_ip dst, struct net_rd *r);
void tcp_timers(struct net_stack *st);
void tcp_output(struct net_stack *st, struct net_tcb *t);
void tcp_send_ack(struct net_stack *st, struct net_tcb *t);
bool tcp_ack_batch(struct net_stack *st, struct net_tcb *t);
void tcp_window_closed(struct net_stack *st, struct net_tcb *t);
void tcp_send_seg(struct net_stack *st, struct net_tcb *t, uint32_t seq, uint32_t len, uint8_t flags);
void tcp_send_rst(struct net_stack *st, net_ip src, net_ip dst, uint16_t sport, uint16_t dport,
                  uint32_t seq, uint32_t ack, bool with_ack);
void tcp_set_state(struct net_stack *st, struct net_tcb *t, uint8_t state);
void tcp_free(struct net_stack *st, struct net_tcb *t);
void tcp_drop(struct net_stack *st, struct net_tcb *t, int err);
struct net_tcb *tcp_alloc(struct net_stack *st);
bool tcp_pool_has_room(struct net_stack *st);
uint32_t tcp_rcv_window(const struct net_tcb *t);
uint32_t tcp_seg_max(const struct net_tcb *t);
void tcp_rearm_rto(struct net_stack *st, struct net_tcb *t);
void tcp_event(struct net_stack *st, struct net_tcb *t, enum net_event ev);
int32_t tcp_handle(const struct net_stack *st, const struct net_tcb *t);
uint32_t tcp_isn(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip, uint16_t rport);
uint32_t tcp_cookie_make(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                         uint16_t rport, uint32_t peer_isn, uint16_t mss);
int tcp_cookie_check(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                     uint16_t rport, uint32_t peer_isn, uint32_t cookie); /* mss or 0 */
uint32_t tcp_ts_now(const struct net_stack *st);
uint32_t tcp_cookie_ts(const struct net_stack *st, int wscale, bool sack_perm);
bool tcp_cookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack_perm);

uint32_t tcp_cfg_delack(const struct net_stack *st);
uint32_t tcp_cfg_rto_min(const struct net_stack *st);
uint32_t tcp_cfg_rto_init(const struct net_stack *st);
uint32_t tcp_cfg_keep_idle(const struct net_stack *st);
void tcp_init_tcb(struct net_stack *st, struct net_tcb *t, net_ip rip, uint16_t lport, uint16_t rport);

/* tcp_open.c: segments for LISTEN (RFC 9293 3.10.7.2) and SYN-SENT (3.10.7.3). */
void tcp_listen_input(struct net_stack *st, int li, const struct tcp_seg *s);
void tcp_syn_sent_input(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s);
void tcp_established(struct net_stack *st, struct net_tcb *t);
uint32_t tcp_accept_queue_len(const struct net_stack *st, int li);
uint8_t tcp_pick_wscale(uint32_t cap);
void tcp_enqueue_accept(struct net_stack *st, struct net_tcb *t);
void tcp_icmp_unreach(struct net_stack *st, net_ip rip, uint16_t lport, uint16_t rport, uint32_t seq,
                      uint8_t code);

/* tcp_segment.c: the other states (RFC 9293 3.10.7.4). */
void tcp_segment(struct net_stack *st, struct net_tcb *t, struct tcp_seg *s);
void tcp_challenge_ack(struct net_stack *st, struct net_tcb *t);

/* tcp_ack.c: the ACK field (RFC 9293 3.10.7.4 fifth step; RFC 5681, 6582, 2018, 6298). */
bool tcp_ack_input(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s);

/* tcp_reasm.c: received data into the receive ring, in order or not. */
uint32_t tcp_rcv_in_order(struct net_tcb *t, const struct tcp_seg *s);
bool tcp_rcv_out_of_order(struct net_tcb *t, const struct tcp_seg *s);

#endif
