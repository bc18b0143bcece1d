/* UDP (RFC 768): checked input to bound ports, output with checksum. */
#include "internal.h"

#define UDP_HDR 8
#define DHCP_CLIENT_PORT 68

void udp_input(struct net_stack *st, net_ip src, net_ip dst, const uint8_t *p, size_t n,
               bool bcast)
{
    if (n < UDP_HDR) {
        CNT(st, drop_udp_short);
        return;
    }
    size_t ulen = rd16(p + 4);
    if (ulen < UDP_HDR || ulen > n) {
        CNT(st, drop_udp_len);
        return;
    }
    /* Checksum 0 means "none" in IPv4. */
    if (rd16(p + 6) != 0 &&
        cksum_fold(cksum_add(cksum_pseudo(src, dst, IP_PROTO_UDP, (uint16_t)ulen), p, ulen)) != 0) {
        CNT(st, drop_udp_checksum);
        return;
    }
    CNT(st, udp_rx);
    uint16_t sport = rd16(p), dport = rd16(p + 2);
    if (dport == DHCP_CLIENT_PORT && sport == 67) {
        dhcp_input(st, p + UDP_HDR, ulen - UDP_HDR);
        return;
    }
    if (st->ip == 0 || (dst != st->ip && !bcast)) {
        CNT(st, drop_ip_not_for_us);
        return;
    }
    for (int i = 0; i < NET_UDP_PORTS; i++)
        if (st->udp_ports[i] == dport && dport) {
            if (st->io.udp_rx)
                st->io.udp_rx(st->io.ctx, dport, src, sport, p + UDP_HDR, ulen - UDP_HDR);
            return;
        }
    CNT(st, drop_udp_no_port);
    if (!bcast)
        icmp_port_unreach(st, src, dst, IP_PROTO_UDP, p, ulen);
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
    wr16(h, sport);
    wr16(h + 2, dport);
    wr16(h + 4, ulen);
    wr16(h + 6, 0);
    uint16_t c = cksum_fold(cksum_add(cksum_add(cksum_pseudo(src, dst, IP_PROTO_UDP, ulen), h,
                                                UDP_HDR), data, len));
    wr16(h + 6, c ? c : 0xffff);
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
