/*
 * IPv4 (RFC 791, RFC 1122 host rules): header checks, options skipped,
 * fragments handed to ipfrag.c, and output with fragmentation.
 */
#include "internal.h"

bool ip_is_bcast(const struct net_stack *st, net_ip ip)
{
    if (ip == 0xffffffffu)
        return true;
    return st->netmask && st->netmask != 0xffffffffu && st->ip &&
           (ip & ~st->netmask) == ~st->netmask && (ip & st->netmask) == (st->ip & st->netmask);
}

uint8_t *ip_payload_buf(struct net_stack *st) { return st->tx + ETH_HDR + IP_HDR; }

void ip_deliver(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                const uint8_t *p, size_t n, bool bcast)
{
    switch (proto) {
    case IP_PROTO_ICMP: icmp_input(st, src, p, n, bcast); break;
    case IP_PROTO_UDP: udp_input(st, src, dst, p, n, bcast); break;
    case IP_PROTO_TCP:
        if (bcast) {
            CNT(st, drop_tcp_bad_addr);
            return;
        }
        tcp_input(st, src, dst, p, n);
        break;
    default: CNT(st, drop_ip_proto); break;
    }
}

void ip_input(struct net_stack *st, const uint8_t *p, size_t n)
{
    CNT(st, ip_rx);
    if (n < IP_HDR) {
        CNT(st, drop_ip_short);
        return;
    }
    if ((p[0] >> 4) != 4) {
        CNT(st, drop_ip_version);
        return;
    }
    size_t hl = (size_t)(p[0] & 0xf) * 4;
    if (hl < IP_HDR || hl > n) {
        CNT(st, drop_ip_hdrlen);
        return;
    }
    size_t tot = rd16(p + 2);
    if (tot < hl || tot > n) {      /* n may exceed tot: Ethernet padding */
        CNT(st, drop_ip_len);
        return;
    }
    if (cksum_fold(cksum_add(0, p, hl)) != 0) {
        CNT(st, drop_ip_checksum);
        return;
    }
    net_ip src = rd32(p + 12), dst = rd32(p + 16);
    /* A host must not accept a broadcast/multicast source (RFC 1122 3.2.1.3). */
    if (src == 0xffffffffu || (src >> 28) == 0xe || (st->ip && ip_is_bcast(st, src)) ||
        (src >> 24) == 127) {
        CNT(st, drop_ip_martian);
        return;
    }
    bool bcast = ip_is_bcast(st, dst);
    uint8_t proto = p[9];
    /* Without an address yet, only DHCP (UDP) may come in, to any destination. */
    bool ours = (st->ip && dst == st->ip) || bcast || (st->ip == 0 && proto == IP_PROTO_UDP);
    if (!ours) {
        CNT(st, drop_ip_not_for_us);
        return;
    }
    if (hl > IP_HDR)
        CNT(st, ip_options_skipped);    /* no option changes how a host receives */
    uint16_t frag = rd16(p + 6);
    bool more = frag & 0x2000;
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
    if (more || off) {
        frag_input(st, src, dst, proto, rd16(p + 4), off, more, p + hl, tot - hl, bcast);
        return;
    }
    ip_deliver(st, src, dst, proto, p + hl, tot - hl, bcast);
}

static void ip_header(uint8_t *h, net_ip src, net_ip dst, uint8_t proto,
                      size_t len, uint16_t id, uint16_t frag)
{
    h[0] = 0x45;
    h[1] = 0;
    wr16(h + 2, (uint16_t)(IP_HDR + len));
    wr16(h + 4, id);
    wr16(h + 6, frag);
    h[8] = 64;
    h[9] = proto;
    wr16(h + 10, 0);
    wr32(h + 12, src);
    wr32(h + 16, dst);
    wr16(h + 10, cksum_fold(cksum_add(0, h, IP_HDR)));
}

static int ip_next_hop(struct net_stack *st, net_ip dst, net_ip *hop)
{
    if (dst == 0xffffffffu || ip_is_bcast(st, dst) ||
        (st->netmask && (dst & st->netmask) == (st->ip & st->netmask))) {
        *hop = dst;
        return 0;
    }
    if (!st->gateway) {
        CNT(st, drop_ip_no_route);
        return NET_E_NOROUTE;
    }
    *hop = st->gateway;
    return 0;
}

/*
 * The payload (payload_len bytes) is at ip_payload_buf().  Larger than one
 * MTU it goes out in fragments, each staged through the same buffer.
 */
int ip_send(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto, size_t len)
{
    net_ip hop;
    if (ip_next_hop(st, dst, &hop) < 0)
        return NET_E_NOROUTE;
    CNT(st, ip_tx);
    uint16_t id = st->ip_id++;
    if (len <= NET_MTU - IP_HDR) {
        ip_header(st->tx + ETH_HDR, src, dst, proto, len, id, proto == IP_PROTO_TCP ? 0x4000 : 0);
        arp_resolve_and_send(st, hop, IP_HDR + len);
        return 0;
    }
    /* Larger payloads go through ip_send_parts. */
    CNT(st, drop_ip_too_big);
    return NET_E_INVAL;
}

/*
 * Send hdr+body, which may exceed one MTU, in fragments (used for ICMP and
 * UDP; TCP never needs it because its segments fit the MSS).
 */
int ip_send_parts(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                  const uint8_t *hdr, size_t hlen, const uint8_t *body, size_t blen)
{
    net_ip hop;
    size_t len = hlen + blen;
    if (ip_next_hop(st, dst, &hop) < 0)
        return NET_E_NOROUTE;
    if (len > 0xffff - IP_HDR) {
        CNT(st, drop_ip_too_big);
        return NET_E_INVAL;
    }
    uint16_t id = st->ip_id++;
    size_t chunk = (NET_MTU - IP_HDR) & ~(size_t)7;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = MIN(chunk, len - off);
        bool more = off + n < len;
        uint8_t *d = st->tx + ETH_HDR + IP_HDR;
        for (size_t i = 0; i < n; i++) {
            size_t k = off + i;
            d[i] = k < hlen ? hdr[k] : body[k - hlen];
        }
        ip_header(st->tx + ETH_HDR, src, dst, proto, n, id,
                  (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
        CNT(st, ip_tx);
        if (len > NET_MTU - IP_HDR)
            CNT(st, ip_frag_tx);
        arp_resolve_and_send(st, hop, IP_HDR + n);
    }
    return 0;
}
