/* ICMP (RFC 792): answer echo requests, send our own, report unreachable ports. */
#include "internal.h"

void icmp_input(struct net_stack *st, net_ip src, const uint8_t *p, size_t n, bool bcast)
{
    if (n < 8) {
        CNT(st, drop_icmp_short);
        return;
    }
    if (cksum_fold(cksum_add(0, p, n)) != 0) {
        CNT(st, drop_icmp_checksum);
        return;
    }
    if (p[0] == 0 && p[1] == 0) {
        CNT(st, icmp_echo_reply_rx);
        if (st->io.echo_reply)
            st->io.echo_reply(st->io.ctx, src, rd16(p + 4), rd16(p + 6), n - 8);
        return;
    }
    if (p[0] != 8 || p[1] != 0) {
        CNT(st, icmp_other_rx);
        return;
    }
    CNT(st, icmp_echo_rx);
    if (bcast || st->ip == 0)   /* no smurf amplification */
        return;
    /* Reply: same identifier, sequence and data; checksum adjusted for the type. */
    uint8_t h[8];
    memcpy(h, p, 8);
    h[0] = 0;
    wr16(h + 2, 0);
    wr16(h + 2, cksum_fold(cksum_add(cksum_add(0, h, 8), p + 8, n - 8)));
    if (ip_send_parts(st, st->ip, src, IP_PROTO_ICMP, h, 8, p + 8, n - 8) == 0)
        CNT(st, icmp_echo_reply_tx);
}

int net_icmp_echo(struct net_stack *st, uint64_t now, net_ip dst, uint16_t id, uint16_t seq,
                  const uint8_t *payload, size_t len)
{
    if (now > st->now)
        st->now = now;
    if (!st->ip)
        return NET_E_NOROUTE;
    uint8_t h[8] = { 8, 0, 0, 0 };
    wr16(h + 4, id);
    wr16(h + 6, seq);
    wr16(h + 2, cksum_fold(cksum_add(cksum_add(0, h, 8), payload, len)));
    return ip_send_parts(st, st->ip, dst, IP_PROTO_ICMP, h, 8, payload, len);
}

/*
 * Destination unreachable, port unreachable (RFC 792): the offending IP
 * header (rebuilt without options) plus the first 8 bytes of its payload.
 */
void icmp_port_unreach(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                       const uint8_t *l4, size_t n)
{
    uint8_t *d = ip_payload_buf(st);
    size_t q = MIN(n, (size_t)8);
    memset(d, 0, 8 + IP_HDR);
    d[0] = 3;
    d[1] = 3;
    uint8_t *o = d + 8;
    o[0] = 0x45;
    wr16(o + 2, (uint16_t)(IP_HDR + n));
    o[8] = 64;
    o[9] = proto;
    wr32(o + 12, src);
    wr32(o + 16, dst);
    wr16(o + 10, cksum_fold(cksum_add(0, o, IP_HDR)));
    memcpy(o + IP_HDR, l4, q);
    wr16(d + 2, cksum_fold(cksum_add(0, d, 8 + IP_HDR + q)));
    if (ip_send(st, st->ip, src, IP_PROTO_ICMP, 8 + IP_HDR + q) == 0)
        CNT(st, icmp_unreach_tx);
}
