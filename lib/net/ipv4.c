/*
 * IPv4 (RFC 791, RFC 1122 host rules): header checks, options skipped,
 * fragments handed to ipfrag.c, and output with fragmentation.
 */
#include "internal.h"

bool ip_is_bcast(const struct net_stack *st, net_ip ip)
{
    if (ip == IP_ADDR_BCAST)
        return true;
    return st->netmask && st->netmask != 0xffffffffu && st->ip &&
           (ip & ~st->netmask) == ~st->netmask && (ip & st->netmask) == (st->ip & st->netmask);
}

uint8_t *ip_payload_buf(struct net_stack *st) { return st->tx + ETH_HDR + IP_HDR; }

size_t ip_payload_cap(void) { return NET_FRAME_MAX - ETH_HDR - IP_HDR; }

void ip_deliver(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                const uint8_t *p, size_t n, bool bcast)
{
    struct net_rd r = rd_init(p, n);
    switch (proto) {
    case IP_PROTO_ICMP: icmp_input(st, src, &r, bcast); break;
    case IP_PROTO_UDP: udp_input(st, src, dst, &r, bcast); break;
    case IP_PROTO_TCP:
        if (bcast) {
            CNT(st, drop_tcp_bad_addr);
            return;
        }
        tcp_input(st, src, dst, &r);
        break;
    default: CNT(st, drop_ip_proto); break;
    }
}

enum ip_opts { IP_OPTS_NONE, IP_OPTS_OK, IP_OPTS_SOURCE_ROUTE, IP_OPTS_MALFORMED };

/*
 * The options area (RFC 791 3.1): every option well formed (a length of at
 * least 2 that stays inside the header), and no source route: a host may
 * refuse source-routed datagrams (RFC 1122 3.2.1.8), and Linux does by
 * default, since answering along a route the sender chose defeats
 * address-based trust.
 */
static enum ip_opts ip_options_check(struct net_rd *o)
{
    if (!rd_left(o))
        return IP_OPTS_NONE;
    while (rd_left(o)) {
        uint8_t kind = rd_u8(o);
        if (kind == IP_OPT_EOL)
            break;
        if (kind == IP_OPT_NOP)
            continue;
        uint8_t len = rd_u8(o);
        if (!rd_ok(o) || len < 2 || len - 2u > rd_left(o))
            return IP_OPTS_MALFORMED;
        if (kind == IP_OPT_LSRR || kind == IP_OPT_SSRR)
            return IP_OPTS_SOURCE_ROUTE;
        rd_skip(o, len - 2u);
    }
    return IP_OPTS_OK;
}

/*
 * Sources a host must not accept (RFC 1122 3.2.1.3, RFC 1812 5.3.7): "this
 * network" 0/8, loopback, multicast, class E 240/4 (with the limited
 * broadcast), our subnet's broadcast, and our own address (a LAND packet
 * would make us answer, or ARP for, ourselves).
 */
static bool ip_martian_source(const struct net_stack *st, net_ip src)
{
    return IP_NET_THIS(src) || IP_NET_LOOPBACK(src) || IP_NET_MULTICAST(src) ||
           IP_NET_RESERVED(src) || (st->ip && (ip_is_bcast(st, src) || src == st->ip));
}

void ip_input(struct net_stack *st, struct net_rd *r)
{
    CNT(st, ip_rx);
    const uint8_t *hdr = rd_here(r);
    uint8_t vihl = rd_u8(r);
    rd_skip(r, 1);                      /* type of service */
    size_t tot = rd_u16(r);
    uint16_t id = rd_u16(r);
    uint16_t frag = rd_u16(r);
    rd_skip(r, 1);                      /* time to live */
    uint8_t proto = rd_u8(r);
    rd_skip(r, 2);                      /* header checksum, checked over the whole header */
    net_ip src = rd_u32(r), dst = rd_u32(r);
    if (!rd_ok(r)) {
        CNT(st, drop_ip_short);
        return;
    }
    if ((vihl >> 4) != IP_VERSION_4) {
        CNT(st, drop_ip_version);
        return;
    }
    size_t hl = (size_t)(vihl & IP_IHL_MASK) * IP_IHL_UNIT;
    size_t n = IP_HDR + rd_left(r);
    if (hl < IP_HDR || hl > n) {
        CNT(st, drop_ip_hdrlen);
        return;
    }
    if (tot < hl || tot > n) {      /* n may exceed tot: Ethernet padding */
        CNT(st, drop_ip_len);
        return;
    }
    if (cksum_fold(cksum_add(0, hdr, hl)) != 0) {
        CNT(st, drop_ip_checksum);
        return;
    }
    struct net_rd opts = rd_sub(r, hl - IP_HDR);
    struct net_rd payload = rd_sub(r, tot - hl);
    if (ip_martian_source(st, src)) {
        CNT(st, drop_ip_martian);
        return;
    }
    bool bcast = ip_is_bcast(st, dst);
    /* Without an address yet, only DHCP (UDP) may come in, to any destination. */
    bool ours = (st->ip && dst == st->ip) || bcast || (st->ip == 0 && proto == IP_PROTO_UDP);
    if (!ours) {
        CNT(st, drop_ip_not_for_us);
        return;
    }
    switch (ip_options_check(&opts)) {
    case IP_OPTS_NONE:
        break;
    case IP_OPTS_OK:
        CNT(st, ip_options_skipped);    /* no option we accept changes how a host receives */
        break;
    case IP_OPTS_SOURCE_ROUTE:
        CNT(st, drop_ip_source_route);
        return;
    case IP_OPTS_MALFORMED:
        CNT(st, drop_ip_options);
        return;
    }
    bool more = frag & IP_FLAG_MF;
    uint32_t off = (uint32_t)(frag & IP_FRAG_OFF_MASK) * IP_FRAG_UNIT;
    const uint8_t *p = rd_bytes(&payload, rd_left(&payload));
    size_t plen = tot - hl;
    if (more || off) {
        frag_input(st, src, dst, proto, id, off, more, p, plen, bcast);
        return;
    }
    ip_deliver(st, src, dst, proto, p, plen, bcast);
}

static void ip_header(uint8_t *h, net_ip src, net_ip dst, uint8_t proto,
                      size_t len, uint16_t id, uint16_t frag)
{
    struct net_wr w = wr_init(h, IP_HDR);
    wr_u8(&w, IP_VERSION_4 << 4 | IP_HDR / IP_IHL_UNIT);
    wr_u8(&w, 0);                       /* type of service */
    wr_u16(&w, (uint16_t)(IP_HDR + len));
    wr_u16(&w, id);
    wr_u16(&w, frag);
    wr_u8(&w, IP_TTL_DEFAULT);
    wr_u8(&w, proto);
    size_t ck = wr_reserve(&w, 2);
    wr_u32(&w, src);
    wr_u32(&w, dst);
    wr_u16_at(&w, ck, cksum_fold(cksum_add(0, h, IP_HDR)));
}

static int ip_next_hop(struct net_stack *st, net_ip dst, net_ip *hop)
{
    if (dst == IP_ADDR_BCAST || ip_is_bcast(st, dst) ||
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
        ip_header(st->tx + ETH_HDR, src, dst, proto, len, id, proto == IP_PROTO_TCP ? IP_FLAG_DF : 0);
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
    size_t chunk = (NET_MTU - IP_HDR) / IP_FRAG_UNIT * IP_FRAG_UNIT;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = MIN(chunk, len - off);
        bool more = off + n < len;
        struct net_wr w = wr_init(ip_payload_buf(st), ip_payload_cap());
        if (off < hlen)
            wr_bytes(&w, hdr + off, MIN(n, hlen - off));
        size_t boff = off > hlen ? off - hlen : 0;
        if (n > wr_len(&w))
            wr_bytes(&w, body + boff, n - wr_len(&w));
        ip_header(st->tx + ETH_HDR, src, dst, proto, n, id,
                  (uint16_t)((more ? IP_FLAG_MF : 0) | (off / IP_FRAG_UNIT)));
        CNT(st, ip_tx);
        if (len > NET_MTU - IP_HDR)
            CNT(st, ip_frag_tx);
        arp_resolve_and_send(st, hop, IP_HDR + n);
    }
    return 0;
}
