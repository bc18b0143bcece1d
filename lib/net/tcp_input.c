/*
 * TCP input: the header and options parsed through the cursor, the
 * connection looked up, and the segment handed to the state's processing
 * (RFC 9293 3.10.7): tcp_open.c for LISTEN and SYN-SENT, tcp_segment.c
 * for the rest.
 */
#include "internal.h"

/*
 * The options, as Linux reads them: a known option of the wrong length is
 * skipped, a length under 2 or past the header ends the list; either way
 * the segment is kept with what was read (a bad option is no reason to
 * drop a SYN).  Returns false when something was malformed, for the counter.
 */
static bool parse_options(struct net_rd *o, struct tcp_seg *s)
{
    bool clean = true;
    while (rd_left(o)) {
        uint8_t kind = rd_u8(o);
        if (kind == TCP_OPT_EOL)
            break;
        if (kind == TCP_OPT_NOP)
            continue;
        uint8_t len = rd_u8(o);
        if (!rd_ok(o) || len < 2 || len - 2u > rd_left(o))
            return false;
        struct net_rd v = rd_sub(o, len - 2u);
        switch (kind) {
        case TCP_OPT_MSS:
            if (len != TCP_OPTLEN_MSS) {
                clean = false;
                break;
            }
            s->mss = rd_u16(&v);
            break;
        case TCP_OPT_WSCALE:
            if (len != TCP_OPTLEN_WSCALE) {
                clean = false;
                break;
            }
            s->wscale = rd_u8(&v);
            if (s->wscale > TCP_WSCALE_MAX)
                s->wscale = TCP_WSCALE_MAX;
            break;
        case TCP_OPT_SACK_PERM:
            if (len != TCP_OPTLEN_SACK_PERM) {
                clean = false;
                break;
            }
            s->sack_perm = true;
            break;
        case TCP_OPT_TIMESTAMP:
            if (len != TCP_OPTLEN_TIMESTAMP) {
                clean = false;
                break;
            }
            s->ts = true;
            s->tsval = rd_u32(&v);
            s->tsecr = rd_u32(&v);
            break;
        case TCP_OPT_SACK:
            if (rd_left(&v) == 0 || rd_left(&v) % TCP_OPTLEN_SACK_BLOCK) {
                clean = false;
                break;
            }
            while (rd_left(&v) && s->nsack < TCP_OPT_SACK_MAX_BLOCKS) {
                s->sack[s->nsack].start = rd_u32(&v);
                s->sack[s->nsack].end = rd_u32(&v);
                s->nsack++;
            }
            break;
        default:
            break;              /* unknown options are skipped by length */
        }
    }
    return clean;
}

static struct net_tcb *tcp_lookup(struct net_stack *st, const struct tcp_seg *s)
{
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state != NET_TCP_CLOSED && t->lport == s->dport && t->rport == s->sport &&
            t->rip == s->src)
            return t;
    }
    return 0;
}

/* Illegal combinations: SYN+FIN, SYN+RST, no flags at all, FIN/PSH/URG without ACK. */
static bool flags_legal(uint8_t f)
{
    if ((f & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN) ||
        (f & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) || f == 0)
        return false;
    return !((f & (TCP_FIN | TCP_PSH | TCP_URG)) && !(f & TCP_ACK));
}

/* RFC 9293 3.10.7.1: a segment for no connection is answered with a RST, unless it is one. */
static void closed_input(struct net_stack *st, const struct tcp_seg *s)
{
    CNT(st, drop_tcp_no_socket);
    uint8_t f = s->flags;
    if (f & TCP_RST)
        return;
    if (f & TCP_ACK)
        tcp_send_rst(st, s->dst, s->src, s->dport, s->sport, s->ack, 0, false);
    else
        tcp_send_rst(st, s->dst, s->src, s->dport, s->sport, 0,
                     s->seq + s->len + ((f & TCP_SYN) ? 1 : 0) + ((f & TCP_FIN) ? 1 : 0), true);
}

void tcp_input(struct net_stack *st, net_ip src, net_ip dst, struct net_rd *r)
{
    CNT(st, tcp_rx);
    const uint8_t *seg = rd_here(r);
    size_t n = rd_left(r);
    struct tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src = src;
    s.dst = dst;
    s.sport = rd_u16(r);
    s.dport = rd_u16(r);
    s.seq = rd_u32(r);
    s.ack = rd_u32(r);
    uint8_t doff = rd_u8(r);
    s.flags = rd_u8(r) & TCP_FLAGS_MASK;
    s.wnd = rd_u16(r);
    rd_skip(r, 2 + 2);                  /* checksum (over the whole segment), urgent pointer */
    s.wscale = -1;
    if (!rd_ok(r)) {
        CNT(st, drop_tcp_short);
        return;
    }
    size_t hl = (size_t)(doff >> TCP_DOFF_SHIFT) * TCP_DOFF_UNIT;
    if (hl < TCP_HDR || hl > n) {
        CNT(st, drop_tcp_hdrlen);
        return;
    }
    if (cksum_fold(cksum_add(cksum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)n), seg, n)) != 0) {
        CNT(st, drop_tcp_checksum);
        return;
    }
    struct net_rd opts = rd_sub(r, hl - TCP_HDR);
    s.len = (uint32_t)rd_left(r);
    s.data = rd_bytes(r, s.len);
    if (!flags_legal(s.flags)) {
        CNT(st, drop_tcp_flags);
        return;
    }
    if (s.sport == 0 || s.dport == 0 || dst != st->ip) {
        CNT(st, drop_tcp_bad_addr);
        return;
    }
    if (!parse_options(&opts, &s))
        CNT(st, tcp_options_malformed);     /* ignored, not the segment */
    struct net_tcb *t = tcp_lookup(st, &s);
    if (!t) {
        for (int i = 0; i < NET_LISTENERS; i++)
            if (st->listeners[i].used && st->listeners[i].port == s.dport) {
                tcp_listen_input(st, i, &s);
                return;
            }
        closed_input(st, &s);
        return;
    }
    t->last_rx = st->now;
    if (t->keepalive && t->state == NET_TCP_ESTABLISHED) {
        t->keep_probes = 0;
        t->t_keep = st->now + tcp_cfg_keep_idle(st);
    }
    if (t->state == NET_TCP_SYN_SENT)
        tcp_syn_sent_input(st, t, &s);
    else
        tcp_segment(st, t, &s);
}
