/* ICMP (RFC 792): answer echo requests, send our own, report unreachable ports. */
#include "internal.h"

#define ICMP_ERRORS_PER_S 10

/*
 * Destination unreachable: the quoted IP header and first 8 bytes of the
 * datagram it is about.  Only our own TCP segments matter (RFC 1122
 * 4.2.3.9); the TCP side checks the quoted sequence number (RFC 5927).
 */
static void icmp_unreach_input(struct net_stack *st, uint8_t code, struct net_rd *q)
{
    uint8_t vihl = rd_u8(q);
    rd_skip(q, 1 + 2 + 2 + 2 + 1);      /* tos, length, id, fragment, ttl */
    uint8_t proto = rd_u8(q);
    rd_skip(q, 2);                      /* checksum */
    net_ip src = rd_u32(q), dst = rd_u32(q);
    size_t hl = (size_t)(vihl & IP_IHL_MASK) * IP_IHL_UNIT;
    if (!rd_ok(q) || (vihl >> 4) != IP_VERSION_4 || hl < IP_HDR || src != st->ip ||
        proto != IP_PROTO_TCP) {
        CNT(st, icmp_other_rx);
        return;
    }
    rd_skip(q, hl - IP_HDR);
    uint16_t sport = rd_u16(q), dport = rd_u16(q);
    uint32_t seq = rd_u32(q);
    if (!rd_ok(q)) {
        CNT(st, drop_icmp_short);
        return;
    }
    tcp_icmp_unreach(st, dst, sport, dport, seq, code);
}

void icmp_input(struct net_stack *st, net_ip src, struct net_rd *r, bool bcast)
{
    const uint8_t *msg = rd_here(r);
    size_t n = rd_left(r);
    uint8_t type = rd_u8(r), code = rd_u8(r);
    rd_skip(r, 2);                      /* checksum, checked over the whole message */
    uint16_t id = rd_u16(r), seq = rd_u16(r);
    if (!rd_ok(r)) {
        CNT(st, drop_icmp_short);
        return;
    }
    if (cksum_fold(cksum_add(0, msg, n)) != 0) {
        CNT(st, drop_icmp_checksum);
        return;
    }
    size_t dlen = rd_left(r);
    const uint8_t *data = rd_bytes(r, dlen);
    if (type == ICMP_ECHO_REPLY && code == 0) {
        CNT(st, icmp_echo_reply_rx);
        if (st->io.echo_reply)
            st->io.echo_reply(st->io.ctx, src, id, seq, dlen);
        return;
    }
    if (type == ICMP_DEST_UNREACH) {
        CNT(st, icmp_unreach_rx);
        struct net_rd quoted = rd_init(data, dlen);
        icmp_unreach_input(st, code, &quoted);
        return;
    }
    if (type != ICMP_ECHO_REQUEST || code != 0) {
        CNT(st, icmp_other_rx);
        return;
    }
    CNT(st, icmp_echo_rx);
    if (bcast || st->ip == 0)   /* no smurf amplification */
        return;
    /* Reply: same identifier, sequence and data. */
    uint8_t h[ICMP_HDR];
    struct net_wr w = wr_init(h, sizeof h);
    wr_u8(&w, ICMP_ECHO_REPLY);
    wr_u8(&w, 0);
    size_t ck = wr_reserve(&w, 2);
    wr_u16(&w, id);
    wr_u16(&w, seq);
    wr_u16_at(&w, ck, cksum_fold(cksum_add(cksum_add(0, h, ICMP_HDR), data, dlen)));
    if (ip_send_parts(st, st->ip, src, IP_PROTO_ICMP, h, ICMP_HDR, data, dlen) == 0)
        CNT(st, icmp_echo_reply_tx);
}

int net_icmp_echo(struct net_stack *st, uint64_t now, net_ip dst, uint16_t id, uint16_t seq,
                  const uint8_t *payload, size_t len)
{
    if (now > st->now)
        st->now = now;
    if (!st->ip)
        return NET_E_NOROUTE;
    uint8_t h[ICMP_HDR];
    struct net_wr w = wr_init(h, sizeof h);
    wr_u8(&w, ICMP_ECHO_REQUEST);
    wr_u8(&w, 0);
    size_t ck = wr_reserve(&w, 2);
    wr_u16(&w, id);
    wr_u16(&w, seq);
    wr_u16_at(&w, ck, cksum_fold(cksum_add(cksum_add(0, h, ICMP_HDR), payload, len)));
    return ip_send_parts(st, st->ip, dst, IP_PROTO_ICMP, h, ICMP_HDR, payload, len);
}

/*
 * ICMP errors are rate limited (RFC 1812 4.3.2.8, RFC 1122 3.2.2): at most
 * ICMP_ERRORS_PER_S a second, the budget of each second drawn at random
 * between half and all of it, so the count of errors sent is no reliable
 * side channel on what else the stack has been asked (the pattern of
 * CVE-2020-25705, which Linux answers the same way).
 */
static bool icmp_error_allowed(struct net_stack *st)
{
    if (!st->icmp_err_window || st->now - st->icmp_err_window >= 1000) {
        uint8_t r[4];
        st->io.random(st->io.ctx, r, sizeof r);
        struct net_rd rr = rd_init(r, sizeof r);
        st->icmp_err_window = st->now;
        st->icmp_err_left = ICMP_ERRORS_PER_S - ICMP_ERRORS_PER_S / 2 +
                            rd_u32(&rr) % (ICMP_ERRORS_PER_S / 2 + 1);
    }
    if (!st->icmp_err_left)
        return false;
    st->icmp_err_left--;
    return true;
}

/*
 * Destination unreachable, port unreachable (RFC 792): the offending IP
 * header (rebuilt without options) plus the first 8 bytes of its payload.
 */
void icmp_port_unreach(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto,
                       const uint8_t *l4, size_t n)
{
    if (!icmp_error_allowed(st)) {
        CNT(st, icmp_error_limited);
        return;
    }
    uint8_t *d = ip_payload_buf(st);
    size_t q = MIN(n, (size_t)ICMP_ERR_QUOTE);
    struct net_wr w = wr_init(d, ip_payload_cap());
    wr_u8(&w, ICMP_DEST_UNREACH);
    wr_u8(&w, ICMP_UNREACH_PORT);
    size_t ck = wr_reserve(&w, 2);
    wr_u32(&w, 0);                      /* unused */
    /* The quoted IP header. */
    size_t ip_at = wr_len(&w);
    wr_u8(&w, IP_VERSION_4 << 4 | IP_HDR / IP_IHL_UNIT);
    wr_u8(&w, 0);
    wr_u16(&w, (uint16_t)(IP_HDR + n));
    wr_u32(&w, 0);                      /* identification, flags, offset */
    wr_u8(&w, IP_TTL_DEFAULT);
    wr_u8(&w, proto);
    size_t ipck = wr_reserve(&w, 2);
    wr_u32(&w, src);
    wr_u32(&w, dst);
    wr_u16_at(&w, ipck, cksum_fold(cksum_add(0, d + ip_at, IP_HDR)));
    wr_bytes(&w, l4, q);
    wr_u16_at(&w, ck, cksum_fold(cksum_add(0, d, wr_len(&w))));
    if (wr_ok(&w) && ip_send(st, st->ip, src, IP_PROTO_ICMP, wr_len(&w)) == 0)
        CNT(st, icmp_unreach_tx);
}
