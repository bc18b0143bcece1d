/* UDP (RFC 768): checked input to bound ports, output with checksum. */
#include "internal.h"

void udp_input(struct net_stack *st, net_ip src, net_ip dst, struct net_rd *r, bool bcast)
{
    const uint8_t *dgram = rd_here(r);
    size_t n = rd_left(r);
    uint16_t sport = rd_u16(r), dport = rd_u16(r);
    size_t ulen = rd_u16(r);
    uint16_t csum = rd_u16(r);
    if (!rd_ok(r)) {
        CNT(st, drop_udp_short);
        return;
    }
    if (ulen < UDP_HDR || ulen > n) {
        CNT(st, drop_udp_len);
        return;
    }
    if (csum != UDP_CSUM_NONE &&
        cksum_fold(cksum_add(cksum_pseudo(src, dst, IP_PROTO_UDP, (uint16_t)ulen), dgram, ulen)) != 0) {
        CNT(st, drop_udp_checksum);
        return;
    }
    struct net_rd data = rd_sub(r, ulen - UDP_HDR);
    CNT(st, udp_rx);
    if (dport == DHCP_CLIENT_PORT && sport == DHCP_SERVER_PORT) {
        dhcp_input(st, &data);
        return;
    }
    if (st->ip == 0 || (dst != st->ip && !bcast)) {
        CNT(st, drop_ip_not_for_us);
        return;
    }
    for (int i = 0; i < NET_UDP_PORTS; i++)
        if (st->udp_ports[i] == dport && dport) {
            if (st->io.udp_rx)
                st->io.udp_rx(st->io.ctx, dport, src, sport, rd_here(&data), rd_left(&data));
            return;
        }
    CNT(st, drop_udp_no_port);
    if (!bcast)
        icmp_port_unreach(st, src, dst, IP_PROTO_UDP, dgram, ulen);
}

int net_udp_bind(struct net_stack *st, uint16_t port)
{
    if (port == 0 || port == DHCP_CLIENT_PORT)
        return NET_E_INVAL;
    for (int i = 0; i < NET_UDP_PORTS; i++)
        if (st->udp_ports[i] == port)
            return NET_E_ADDRINUSE;
    for (int i = 0; i < NET_UDP_PORTS; i++)
        if (st->udp_ports[i] == 0) {
            st->udp_ports[i] = port;
            return 0;
        }
    return NET_E_NOMEM;
}

/* Send from an explicit source address (DHCP sends from 0.0.0.0). */
int udp_send_from(struct net_stack *st, net_ip src, uint16_t sport, net_ip dst, uint16_t dport,
                  const uint8_t *data, size_t len)
{
    if (len > 0xffff - IP_HDR - UDP_HDR)
        return NET_E_INVAL;
    uint8_t h[UDP_HDR];
    uint16_t ulen = (uint16_t)(UDP_HDR + len);
    struct net_wr w = wr_init(h, sizeof h);
    wr_u16(&w, sport);
    wr_u16(&w, dport);
    wr_u16(&w, ulen);
    size_t ck = wr_reserve(&w, 2);
    uint16_t c = cksum_fold(cksum_add(cksum_add(cksum_pseudo(src, dst, IP_PROTO_UDP, ulen), h,
                                                UDP_HDR), data, len));
    wr_u16_at(&w, ck, c != UDP_CSUM_NONE ? c : 0xffff);     /* 0 would mean "none" */
    CNT(st, udp_tx);
    return ip_send_parts(st, src, dst, IP_PROTO_UDP, h, UDP_HDR, data, len);
}

int net_udp_send(struct net_stack *st, uint64_t now, uint16_t sport, net_ip dst, uint16_t dport,
                 const uint8_t *data, size_t len)
{
    if (now > st->now)
        st->now = now;
    if (!st->ip)
        return NET_E_NOROUTE;
    return udp_send_from(st, st->ip, sport, dst, dport, data, len);
}
