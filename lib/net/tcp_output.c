/*
 * TCP output: segment construction (options, window, checksum) and the
 * sender's decision of what to send now (windows, Nagle, SWS avoidance,
 * FIN, skipping SACKed ranges while retransmitting).
 */
#include "internal.h"

/* Free receive space; out-of-order data already lives inside it. */
uint32_t tcp_rcv_window(const struct net_tcb *t)
{
    return t->rcap - t->rlen;
}

/* SACK blocks that fit in the option space beside the other options. */
static uint32_t sack_max_blocks(const struct net_tcb *t)
{
    return t->ts_ok ? TCP_OPT_SACK_MAX_BLOCKS_TS : TCP_OPT_SACK_MAX_BLOCKS;
}

/* Payload bytes per segment: the MSS less the timestamp and SACK options we will attach. */
uint32_t tcp_seg_max(const struct net_tcb *t)
{
    uint32_t opt = (t->sack_ok && t->nooo)
                   ? 4u + TCP_OPTLEN_SACK_BLOCK * MIN(t->nooo, sack_max_blocks(t)) : 0;
    if (t->ts_ok)
        opt += TCP_OPTSPACE_TIMESTAMP;
    return t->mss > opt + 64 ? t->mss - opt : 64;
}

/* The SYN options: MSS, and window scale and SACK-permitted when offered/accepted. */
static void syn_options(struct net_wr *w, const struct net_tcb *t)
{
    wr_u8(w, TCP_OPT_MSS);
    wr_u8(w, TCP_OPTLEN_MSS);
    wr_u16(w, NET_MTU - IP_HDR - TCP_HDR);
    /* On a SYN-ACK only echo what the peer offered. */
    bool active = t->state == NET_TCP_SYN_SENT;
    if (active || t->ws_ok) {
        wr_u8(w, TCP_OPT_NOP);
        wr_u8(w, TCP_OPT_WSCALE);
        wr_u8(w, TCP_OPTLEN_WSCALE);
        wr_u8(w, t->rcv_wscale);
    }
    if (active || t->sack_ok) {
        wr_u8(w, TCP_OPT_NOP);
        wr_u8(w, TCP_OPT_NOP);
        wr_u8(w, TCP_OPT_SACK_PERM);
        wr_u8(w, TCP_OPTLEN_SACK_PERM);
    }
}

/*
 * RFC 7323 3.2: TSval our clock (or, on the SYN-ACK of a passive open, the
 * value carrying the peer's options the way a cookie does), TSecr the
 * peer's latest TSval, zero when there is none to echo (our SYN).
 */
static void ts_option(struct net_stack *st, struct net_wr *w, const struct net_tcb *t, uint8_t flags)
{
    bool cookie_synack = (flags & TCP_SYN) && (flags & TCP_ACK) &&
                         (t->from_cookie || (t->state == NET_TCP_SYN_RECEIVED && t->listener >= 0));
    wr_u8(w, TCP_OPT_NOP);
    wr_u8(w, TCP_OPT_NOP);
    wr_u8(w, TCP_OPT_TIMESTAMP);
    wr_u8(w, TCP_OPTLEN_TIMESTAMP);
    wr_u32(w, cookie_synack ? t->ts_syn : tcp_ts_now(st));
    wr_u32(w, (flags & TCP_ACK) ? t->ts_recent : 0);
}

/* RFC 2018: most recently changed block first; at most 4 without timestamps, 3 with. */
static void sack_option(struct net_wr *w, const struct net_tcb *t)
{
    uint8_t n = (uint8_t)MIN(t->nooo, sack_max_blocks(t));
    wr_u8(w, TCP_OPT_NOP);
    wr_u8(w, TCP_OPT_NOP);
    wr_u8(w, TCP_OPT_SACK);
    wr_u8(w, (uint8_t)(2 + TCP_OPTLEN_SACK_BLOCK * n));
    for (uint8_t i = 0; i < n; i++) {
        wr_u32(w, t->ooo[i].start);
        wr_u32(w, t->ooo[i].end);
    }
}

/* The window field, never moving the advertised right edge backwards (RFC 9293 3.8.6). */
static uint16_t window_field(struct net_tcb *t, uint8_t flags)
{
    uint32_t win = tcp_rcv_window(t);
    uint32_t wscale = (flags & TCP_SYN) ? 0 : t->rcv_wscale;
    if (SEQ_GT(t->rcv_adv, t->rcv_nxt + win) && !(flags & TCP_SYN))
        win = t->rcv_adv - t->rcv_nxt;
    uint32_t field = MIN(win >> wscale, (uint32_t)TCP_WIN_MAX);
    if (SEQ_GT(t->rcv_nxt + (field << wscale), t->rcv_adv) || (flags & TCP_SYN))
        t->rcv_adv = t->rcv_nxt + (field << wscale);
    return (uint16_t)field;
}

void tcp_send_seg(struct net_stack *st, struct net_tcb *t, uint32_t seq, uint32_t len, uint8_t flags)
{
    uint8_t *h = ip_payload_buf(st);
    uint8_t opts[40];                  /* the most TCP options there can be */
    struct net_wr o = wr_init(opts, sizeof opts);
    if (flags & TCP_SYN)
        syn_options(&o, t);
    if (t->ts_ok)
        ts_option(st, &o, t, flags);
    if (!(flags & TCP_SYN) && t->sack_ok && t->nooo && (flags & TCP_ACK))
        sack_option(&o, t);
    size_t hl = TCP_HDR + wr_len(&o);
    struct net_wr w = wr_init(h, ip_payload_cap());
    wr_u16(&w, t->lport);
    wr_u16(&w, t->rport);
    wr_u32(&w, seq);
    wr_u32(&w, (flags & TCP_ACK) ? t->rcv_nxt : 0);
    wr_u8(&w, (uint8_t)(hl / TCP_DOFF_UNIT) << TCP_DOFF_SHIFT);
    wr_u8(&w, flags);
    wr_u16(&w, window_field(t, flags));
    size_t ck = wr_reserve(&w, 2);
    wr_u16(&w, 0);                      /* urgent pointer */
    wr_bytes(&w, opts, wr_len(&o));
    /* Data from the send ring: byte snd_una sits at sbuf[shead]. */
    uint8_t *d = wr_space(&w, len);
    if (len && d) {
        uint32_t off = seq - t->snd_una;
        uint32_t pos = (t->shead + off) % t->scap;
        uint32_t first = MIN(len, t->scap - pos);
        memcpy(d, t->sbuf + pos, first);
        memcpy(d + first, t->sbuf, len - first);
    }
    if (!wr_ok(&w))
        return;
    uint16_t tot = (uint16_t)wr_len(&w);
    wr_u16_at(&w, ck, cksum_fold(cksum_add(cksum_pseudo(st->ip, t->rip, IP_PROTO_TCP, tot), h, tot)));
    if (flags & TCP_ACK) {
        t->ack_pending = 0;
        t->t_delack = 0;
    }
    CNT(st, tcp_tx);
    ip_send(st, st->ip, t->rip, IP_PROTO_TCP, tot);
}

void tcp_send_ack(struct net_stack *st, struct net_tcb *t)
{
    tcp_send_seg(st, t, t->snd_nxt, 0, TCP_ACK);
}

/* Hold t's ACK to the end of the input batch; false: none open, or full. */
bool tcp_ack_batch(struct net_stack *st, struct net_tcb *t)
{
    if (t->ack_batched)
        return true;
    if (!st->batch || st->batch_nacks == NET_BATCH_ACKS)
        return false;
    st->batch_acks[st->batch_nacks++] = (uint16_t)(t - st->tcbs);
    t->ack_batched = true;
    return true;
}

void net_input_begin(struct net_stack *st)
{
    st->batch = true;
}

/*
 * The held ACKs, one per connection. A block freed during the batch lost
 * its flag with the rest of it (tcp_free); one whose ACK already went out
 * with data or a FIN owes nothing any more.
 */
void net_input_end(struct net_stack *st)
{
    st->batch = false;
    for (uint32_t i = 0; i < st->batch_nacks; i++) {
        struct net_tcb *t = &st->tcbs[st->batch_acks[i]];
        if (!t->ack_batched)
            continue;
        t->ack_batched = false;
        if (t->ack_pending && t->state != NET_TCP_CLOSED)
            tcp_send_ack(st, t);
    }
    st->batch_nacks = 0;
}

/* A reset for a segment that has no connection (or a connection we abort). */
void tcp_send_rst(struct net_stack *st, net_ip src, net_ip dst, uint16_t sport, uint16_t dport,
                  uint32_t seq, uint32_t ack, bool with_ack)
{
    uint8_t *h = ip_payload_buf(st);
    struct net_wr w = wr_init(h, ip_payload_cap());
    wr_u16(&w, sport);
    wr_u16(&w, dport);
    wr_u32(&w, seq);
    wr_u32(&w, with_ack ? ack : 0);
    wr_u8(&w, TCP_HDR / TCP_DOFF_UNIT << TCP_DOFF_SHIFT);
    wr_u8(&w, TCP_RST | (with_ack ? TCP_ACK : 0));
    wr_u16(&w, 0);                      /* window */
    size_t ck = wr_reserve(&w, 2);
    wr_u16(&w, 0);                      /* urgent pointer */
    wr_u16_at(&w, ck, cksum_fold(cksum_add(cksum_pseudo(src, dst, IP_PROTO_TCP, TCP_HDR), h, TCP_HDR)));
    CNT(st, tcp_rst_tx);
    CNT(st, tcp_tx);
    ip_send(st, src, dst, IP_PROTO_TCP, TCP_HDR);
}

/*
 * The peer's window is zero with data to send (RFC 9293 3.8.6.1, RFC 1122
 * 4.2.2.17): nothing beyond snd_una counts as in flight any more (it goes
 * again once the window opens), the retransmission timer rests, and the
 * persist timer probes for as long as the peer answers.
 */
void tcp_window_closed(struct net_stack *st, struct net_tcb *t)
{
    if (!t->slen)
        return;
    t->t_rtx = 0;
    t->snd_nxt = t->snd_una;
    t->rtt_timing = false;
    t->in_recovery = false;
    t->dupacks = 0;
    if (!t->t_persist) {
        t->persist_shift = 0;
        t->t_persist = st->now + t->rto;
    }
}

/* While retransmitting, hop over data the receiver has SACKed. */
static void skip_sacked(struct net_tcb *t)
{
    bool moved = true;
    while (moved && SEQ_LT(t->snd_nxt, t->snd_max)) {
        moved = false;
        for (int i = 0; i < t->nsacked; i++)
            if (SEQ_LE(t->sacked[i].start, t->snd_nxt) && SEQ_LT(t->snd_nxt, t->sacked[i].end)) {
                t->snd_nxt = SEQ_LT(t->sacked[i].end, t->snd_max) ? t->sacked[i].end : t->snd_max;
                moved = true;
            }
    }
}

void tcp_output(struct net_stack *st, struct net_tcb *t)
{
    switch (t->state) {
    case NET_TCP_ESTABLISHED: case NET_TCP_CLOSE_WAIT: case NET_TCP_FIN_WAIT_1:
    case NET_TCP_CLOSING: case NET_TCP_LAST_ACK:
        break;
    default:
        return;
    }
    uint32_t data_end = t->snd_una + t->slen;
    /* Limited transmit (RFC 3042): each of the first two duplicate ACKs lets one new segment out. */
    uint32_t lt = (!t->in_recovery && t->dupacks && t->dupacks < 3) ? t->dupacks * (uint32_t)t->mss : 0;
    uint32_t wnd = MIN(t->snd_wnd, t->cwnd + lt);
    for (int guard = 0; guard < 4096; guard++) {
        skip_sacked(t);
        bool rexmit = SEQ_LT(t->snd_nxt, t->snd_max);
        uint32_t inflight = t->snd_nxt - t->snd_una;
        uint32_t avail = SEQ_LT(t->snd_nxt, data_end) ? data_end - t->snd_nxt : 0;
        uint32_t usable = wnd > inflight ? wnd - inflight : 0;
        uint32_t smax = tcp_seg_max(t);
        uint32_t len = MIN(MIN(avail, usable), smax);
        /* FIN goes with the last byte, once, or again when retransmitting. */
        bool fin = t->fin_queued && t->snd_nxt + len == data_end &&
                   (SEQ_LE(t->snd_max, data_end) || rexmit);
        if (len == 0 && !fin)
            break;
        if (len < smax && !fin && !rexmit) {
            /* Sender SWS avoidance and Nagle (RFC 9293 3.8.6.2.1, RFC 896). */
            bool all = len == avail;
            bool idle = inflight == 0;
            bool big = t->max_snd_wnd && len >= t->max_snd_wnd / 2;
            if (!(all && (t->nodelay || idle)) && !big)
                break;
        }
        uint8_t flags = TCP_ACK;
        if (len && len == avail)
            flags |= TCP_PSH;
        if (fin)
            flags |= TCP_FIN;
        tcp_send_seg(st, t, t->snd_nxt, len, flags);
        if (rexmit) {
            CNT(st, tcp_retransmits);
        } else if (!t->rtt_timing && len) {
            t->rtt_timing = true;
            t->rtt_seq = t->snd_nxt;
            t->rtt_ts = st->now;
        }
        t->snd_nxt += len + (fin ? 1 : 0);
        if (fin)
            t->fin_sent = true;
        if (SEQ_GT(t->snd_nxt, t->snd_max))
            t->snd_max = t->snd_nxt;
        if (!t->t_rtx)
            tcp_rearm_rto(st, t);
    }
    /*
     * Data waiting and nothing in flight: a zero window needs probing, a
     * small one (held back by SWS avoidance) the override timeout.
     */
    if (t->slen && t->snd_max == t->snd_una && !t->t_persist && !t->t_rtx) {
        t->persist_shift = 0;
        t->t_persist = st->now + t->rto;
    }
}
