/* Internal declarations shared by the lib/net source files. */
#ifndef NET_INTERNAL_H
#define NET_INTERNAL_H

#include "net.h"

/* The guest runtime and the host libc provide these four. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define CNT(st, name) ((st)->counters[NET_C_##name]++)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Big-endian field access; callers check the bound first. */
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Sequence-number comparisons modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LE(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GE(a, b) SEQ_LE(b, a)

#define ETH_HDR 14
#define IP_HDR 20
#define ETH_TYPE_IP 0x0800
#define ETH_TYPE_ARP 0x0806
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17

/* checksum.c */
uint32_t cksum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t cksum_fold(uint32_t sum);
uint32_t cksum_pseudo(net_ip src, net_ip dst, uint8_t proto, uint16_t len);

/* eth.c */
extern const uint8_t net_bcast_mac[6];
void eth_send(struct net_stack *st, const uint8_t dst[6], uint16_t type, size_t payload_len);

/* arp.c */
void arp_input(struct net_stack *st, const uint8_t *p, size_t n);
void arp_resolve_and_send(struct net_stack *st, net_ip next_hop, size_t ip_len);
void arp_timers(struct net_stack *st);
void arp_learn(struct net_stack *st, net_ip ip, const uint8_t mac[6], bool create);

/* ipv4.c: payload is built at st->tx + ETH_HDR + IP_HDR. */
void ip_input(struct net_stack *st, const uint8_t *p, size_t n);
int ip_send(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto, size_t payload_len);
uint8_t *ip_payload_buf(struct net_stack *st);
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
void icmp_input(struct net_stack *st, net_ip src, const uint8_t *p, size_t n, bool bcast);
void icmp_port_unreach(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                       const uint8_t *l4, size_t n);

/* udp.c */
void udp_input(struct net_stack *st, net_ip src, net_ip dst, const uint8_t *p, size_t n,
               bool bcast);

int udp_send_from(struct net_stack *st, net_ip src, uint16_t sport, net_ip dst, uint16_t dport,
                  const uint8_t *data, size_t len);

/* dhcp.c */
void dhcp_input(struct net_stack *st, const uint8_t *p, size_t n);
void dhcp_timers(struct net_stack *st);

/* tcp_*.c */
void tcp_input(struct net_stack *st, net_ip src, net_ip dst, const uint8_t *p, size_t n);
void tcp_timers(struct net_stack *st);
void tcp_output(struct net_stack *st, struct net_tcb *t);
void tcp_send_ack(struct net_stack *st, struct net_tcb *t);
void tcp_send_seg(struct net_stack *st, struct net_tcb *t, uint32_t seq, uint32_t len, uint8_t flags);
void tcp_send_rst(struct net_stack *st, net_ip src, net_ip dst, uint16_t sport, uint16_t dport,
                  uint32_t seq, uint32_t ack, bool with_ack);
void tcp_set_state(struct net_stack *st, struct net_tcb *t, uint8_t state);
void tcp_free(struct net_stack *st, struct net_tcb *t);
void tcp_drop(struct net_stack *st, struct net_tcb *t, int err);
struct net_tcb *tcp_alloc(struct net_stack *st);
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

uint32_t tcp_cfg_delack(const struct net_stack *st);
uint32_t tcp_cfg_rto_min(const struct net_stack *st);
uint32_t tcp_cfg_rto_init(const struct net_stack *st);
uint32_t tcp_cfg_keep_idle(const struct net_stack *st);
void tcp_init_tcb(struct net_stack *st, struct net_tcb *t, net_ip rip, uint16_t lport, uint16_t rport);

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

#endif
