/*
 * TCP input, following the event processing of RFC 9293 section 3.10.7,
 * with RFC 5961 (blind RST/SYN/data mitigations), RFC 5681/6582 (NewReno)
 * and RFC 2018 (SACK) on the ACK path.
 */
#include "internal.h"

#define TCP_HDR 20

struct seg {
    net_ip src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack, len;     /* len: payload bytes */
    uint32_t wnd;               /* raw window field */
    uint8_t flags;
    const uint8_t *data;
    /* options */
    uint16_t mss;
    int wscale;                 /* -1 absent */
    bool sack_perm;
    uint8_t nsack;
    struct net_seq_range sack[4];
};

/* Returns false on a malformed option list. */
static bool parse_options(const uint8_t *o, size_t n, struct seg *s)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = o[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n)
            return false;
        uint8_t len = o[i + 1];
        if (len < 2 || len > n - i)
            return false;
        const uint8_t *v = o + i + 2;
        switch (kind) {
        case 2: if (len != 4) return false; s->mss = rd16(v); break;
        case 3: if (len != 3) return false; s->wscale = MIN(v[0], 14); break;
        case 4: if (len != 2) return false; s->sack_perm = true; break;
        case 5:
            if ((len - 2) % 8 || len < 10)
                return false;
            for (size_t k = 0; k < (size_t)(len - 2) / 8 && s->nsack < 4; k++) {
                s->sack[s->nsack].start = rd32(v + 8 * k);
                s->sack[s->nsack].end = rd32(v + 8 * k + 4);
                s->nsack++;
            }
            break;
        default: break;         /* unknown options are skipped by length */
        }
        i += len;
    }
    return true;
}

static struct net_tcb *tcp_lookup(struct net_stack *st, const struct seg *s)
{
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state != NET_TCP_CLOSED && t->lport == s->dport && t->rport == s->sport &&
            t->rip == s->src)
            return t;
    }
    return 0;
}

/* RFC 5961 section 7: challenge ACKs are rate limited across the stack. */
static void challenge_ack(struct net_stack *st, struct net_tcb *t)
{
    uint32_t limit = st->cfg.challenge_acks_per_s ? st->cfg.challenge_acks_per_s : 100;
    if (st->now - st->chal_window >= 1000) {
        st->chal_window = st->now;
        st->chal_count = 0;
    }
    if (st->chal_count >= limit) {
        CNT(st, tcp_challenge_ack_limited);
        return;
    }
    st->chal_count++;
    CNT(st, tcp_challenge_ack);
    tcp_send_ack(st, t);
}

static uint8_t pick_wscale(uint32_t cap)
{
    uint8_t ws = 0;
    while (ws < 14 && (cap >> ws) > 0xffff)
        ws++;
    return ws;
}

/* Common set-up of a block for a 4-tuple. */
void tcp_init_tcb(struct net_stack *st, struct net_tcb *t, net_ip rip, uint16_t lport, uint16_t rport)
{
    t->rip = rip;
    t->lport = lport;
    t->rport = rport;
    t->listener = -1;
    t->delack = true;
    t->rto = tcp_cfg_rto_init(st);
    t->mss = 536;
    t->rcv_wscale = pick_wscale(t->rcap);
    t->iss = tcp_isn(st, st->ip, lport, rip, rport);
    t->snd_una = t->snd_nxt = t->snd_max = t->iss;
    t->ssthresh = 0x7fffffff;
    t->last_rx = st->now;
}

static void apply_syn_options(struct net_tcb *t, const struct seg *s)
{
    uint16_t mss = s->mss ? s->mss : 536;
    t->mss = (uint16_t)MAX(MIN(mss, NET_MTU - IP_HDR - TCP_HDR), 64);
    if (s->wscale >= 0 && t->ws_ok) {
        t->snd_wscale = (uint8_t)s->wscale;
    } else {
        t->ws_ok = false;
        t->snd_wscale = 0;
        t->rcv_wscale = 0;
    }
    t->sack_ok = t->sack_ok && s->sack_perm;
    /* RFC 6928 initial window. */
    t->cwnd = MIN(10u * t->mss, MAX(2u * t->mss, 14600u));
}

static void established(struct net_stack *st, struct net_tcb *t)
{
    tcp_set_state(st, t, NET_TCP_ESTABLISHED);
    t->backoff = 0;
    if (t->keepalive)
        t->t_keep = st->now + tcp_cfg_keep_idle(st);
}

static uint32_t accept_queue_len(const struct net_stack *st, int idx)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        const struct net_tcb *t = &st->tcbs[i];
        if (t->listener == idx && !t->accepted && t->state >= NET_TCP_ESTABLISHED)
            n++;
    }
    return n;
}

static uint32_t syn_queue_len(const struct net_stack *st, int idx)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->ntcb; i++)
        if (st->tcbs[i].listener == idx && st->tcbs[i].state == NET_TCP_SYN_RECEIVED)
            n++;
    return n;
}

static void enqueue_accept(struct net_stack *st, struct net_tcb *t)
{
    t->accept_order = ++st->accept_seq;
    if (st->io.event)
        st->io.event(st->io.ctx, NET_EV_ACCEPTABLE,
                     (int32_t)((uint32_t)st->listeners[t->listener].gen << 16 | (uint32_t)t->listener));
}

static void tcp_segment(struct net_stack *st, struct net_tcb *t, struct seg *s);

/* A segment for a port we listen on and no connection exists. */
static void listen_input(struct net_stack *st, int li, const struct seg *s)
{
    struct net_listener *l = &st->listeners[li];
    if (s->flags & TCP_RST)
        return;
    if ((s->flags & TCP_ACK) && !(s->flags & TCP_SYN)) {
        /* Only a SYN-cookie handshake completes here. */
        int mss = tcp_cookie_check(st, s->dst, s->dport, s->src, s->sport, s->seq - 1, s->ack - 1);
        if (!mss) {
            CNT(st, drop_tcp_syncookie_bad);
            tcp_send_rst(st, s->dst, s->src, s->dport, s->sport, s->ack, 0, false);
            return;
        }
        if (accept_queue_len(st, li) >= l->backlog) {
            CNT(st, drop_tcp_listen_overflow);
            return;
        }
        struct net_tcb *t = tcp_alloc(st);
        if (!t) {
            CNT(st, drop_tcp_no_tcb);
            return;
        }
        CNT(st, tcp_syncookie_ok);
        CNT(st, tcp_passive_opens);
        tcp_init_tcb(st, t, s->src, s->dport, s->sport);
        t->listener = (int8_t)li;
        t->from_cookie = true;
        t->iss = s->ack - 1;
        t->snd_una = t->snd_nxt = t->snd_max = s->ack;
        t->irs = s->seq - 1;
        t->rcv_nxt = s->seq;
        t->rcv_adv = s->seq;
        t->ws_ok = t->sack_ok = false;
        t->rcv_wscale = 0;
        t->mss = (uint16_t)mss;
        t->cwnd = MIN(10u * t->mss, MAX(2u * t->mss, 14600u));
        t->snd_wnd = t->max_snd_wnd = s->wnd;
        t->snd_wl1 = s->seq;
        t->snd_wl2 = s->ack;
        established(st, t);
        enqueue_accept(st, t);
        /* The ACK may carry data; process it as an established segment. */
        if (s->len || (s->flags & TCP_FIN)) {
            struct seg c = *s;
            tcp_segment(st, t, &c);
        }
        return;
    }
    if (!(s->flags & TCP_SYN) || (s->flags & TCP_ACK)) {
        CNT(st, drop_tcp_no_socket);
        return;
    }
    if (accept_queue_len(st, li) >= l->backlog) {
        CNT(st, drop_tcp_listen_overflow);
        return;
    }
    /*
     * Half-open connections hold a block each: at most max(backlog, 16) per
     * listener and a quarter of the pool in all, the rest is answered with
     * a SYN cookie so a flood cannot starve established connections.
     */
    uint32_t half_open = 0;
    for (uint32_t i = 0; i < st->ntcb; i++)
        half_open += st->tcbs[i].state == NET_TCP_SYN_RECEIVED;
    bool room = syn_queue_len(st, li) < MAX(l->backlog, 16u) && half_open < MAX(st->ntcb / 4, 1u);
    struct net_tcb *t = room ? tcp_alloc(st) : 0;
    if (!t) {
        /* SYN queue full (a flood, or a slow network): answer statelessly. */
        uint16_t mss = s->mss ? s->mss : 536;
        struct net_tcb tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.lport = s->dport;
        tmp.rport = s->sport;
        tmp.rip = s->src;
        tmp.rcap = 0xffff;
        tmp.rcv_nxt = s->seq + 1;
        tmp.iss = tcp_cookie_make(st, s->dst, s->dport, s->src, s->sport, s->seq, mss);
        tmp.state = NET_TCP_SYN_RECEIVED;
        CNT(st, tcp_syncookie_sent);
        tcp_send_seg(st, &tmp, tmp.iss, 0, TCP_SYN | TCP_ACK);
        return;
    }
    tcp_init_tcb(st, t, s->src, s->dport, s->sport);
    t->listener = (int8_t)li;
    t->irs = s->seq;
    t->rcv_nxt = s->seq + 1;
    t->rcv_adv = t->rcv_nxt;
    t->ws_ok = s->wscale >= 0;
    t->sack_ok = s->sack_perm;
    apply_syn_options(t, s);
    t->snd_wnd = s->wnd;        /* unscaled in a SYN */
    t->max_snd_wnd = t->snd_wnd;
    t->snd_wl1 = s->seq;
    t->snd_wl2 = t->iss;
    tcp_set_state(st, t, NET_TCP_SYN_RECEIVED);
    tcp_send_seg(st, t, t->iss, 0, TCP_SYN | TCP_ACK);
    t->snd_nxt = t->snd_max = t->iss + 1;
    tcp_rearm_rto(st, t);
}

/* SYN_SENT: RFC 9293 3.10.7.3. */
static void syn_sent_input(struct net_stack *st, struct net_tcb *t, const struct seg *s)
{
    bool ack_ok = false;
    if (s->flags & TCP_ACK) {
        if (SEQ_LE(s->ack, t->iss) || SEQ_GT(s->ack, t->snd_max)) {
            CNT(st, drop_tcp_bad_ack);
            if (!(s->flags & TCP_RST))
                tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, s->ack, 0, false);
            return;
        }
        ack_ok = true;
    }
    if (s->flags & TCP_RST) {
        if (ack_ok) {
            CNT(st, tcp_rst_rx);
            tcp_drop(st, t, NET_E_CONNREFUSED);
        } else {
            CNT(st, drop_tcp_rst_out_of_window);
        }
        return;
    }
    if (!(s->flags & TCP_SYN)) {
        CNT(st, drop_tcp_flags);
        return;
    }
    t->irs = s->seq;
    t->rcv_nxt = s->seq + 1;
    t->rcv_adv = t->rcv_nxt;
    t->ws_ok = t->ws_ok && s->wscale >= 0;
    t->sack_ok = t->sack_ok && s->sack_perm;
    apply_syn_options(t, s);
    t->snd_wl1 = s->seq;
    t->snd_wl2 = s->ack;
    if (ack_ok) {
        t->snd_una = s->ack;
        t->snd_nxt = t->snd_max = s->ack;
        t->snd_wnd = s->wnd;        /* never scaled in a SYN (RFC 7323 2.2) */
        t->max_snd_wnd = t->snd_wnd;
        t->t_rtx = 0;
        if (t->backoff == 0) {      /* Karn: sample only an unretransmitted SYN */
            uint32_t r = (uint32_t)(st->now - t->rtt_ts);
            t->srtt = (int32_t)r;
            t->rttvar = (int32_t)r / 2;
            t->rto = MAX(r + MAX(1u, 4u * (uint32_t)t->rttvar), tcp_cfg_rto_min(st));
        }
        established(st, t);
        tcp_send_ack(st, t);
        tcp_event(st, t, NET_EV_CONNECTED);
        tcp_event(st, t, NET_EV_WRITABLE);
        tcp_output(st, t);
    } else {
        /* Simultaneous open. */
        tcp_set_state(st, t, NET_TCP_SYN_RECEIVED);
        t->snd_wnd = s->wnd;
        tcp_send_seg(st, t, t->iss, 0, TCP_SYN | TCP_ACK);
    }
}

/* Merge [start,end) into the out-of-order list, newest first (RFC 2018 4). */
static void ooo_add(struct net_tcb *t, uint32_t start, uint32_t end)
{
    struct net_seq_range r = { start, end };
    struct net_seq_range out[NET_OOO_RANGES + 1];
    int n = 0;
    for (int i = 0; i < t->nooo; i++) {
        struct net_seq_range o = t->ooo[i];
        if (SEQ_LE(o.start, r.end) && SEQ_LE(r.start, o.end)) {
            if (SEQ_LT(o.start, r.start)) r.start = o.start;
            if (SEQ_GT(o.end, r.end)) r.end = o.end;
        } else {
            out[1 + n++] = o;
        }
    }
    out[0] = r;
    n++;                        /* the caller made sure this fits */
    memcpy(t->ooo, out, sizeof(out[0]) * (size_t)n);
    t->nooo = (uint8_t)n;
}

/* Bytes in [rcv_nxt, ...) that are now contiguous thanks to earlier out-of-order data. */
static uint32_t ooo_advance(struct net_tcb *t)
{
    uint32_t gained = 0;
    bool again = true;
    while (again) {
        again = false;
        for (int i = 0; i < t->nooo; i++) {
            struct net_seq_range o = t->ooo[i];
            if (SEQ_LE(o.start, t->rcv_nxt)) {
                if (SEQ_GT(o.end, t->rcv_nxt)) {
                    gained += o.end - t->rcv_nxt;
                    t->rcv_nxt = o.end;
                }
                t->ooo[i] = t->ooo[--t->nooo];
                again = true;
                break;
            }
        }
    }
    return gained;
}

/* Copy payload at sequence `seq` into the receive ring. */
static void rbuf_put(struct net_tcb *t, uint32_t seq, const uint8_t *p, uint32_t n)
{
    uint32_t off = t->rlen + (seq - t->rcv_nxt);
    uint32_t pos = (t->rhead + off) % t->rcap;
    uint32_t first = MIN(n, t->rcap - pos);
    memcpy(t->rbuf + pos, p, first);
    memcpy(t->rbuf, p + first, n - first);
}

static void sack_score_add(struct net_tcb *t, struct net_seq_range r)
{
    for (int i = 0; i < t->nsacked; i++) {
        struct net_seq_range *o = &t->sacked[i];
        if (SEQ_LE(o->start, r.end) && SEQ_LE(r.start, o->end)) {
            if (SEQ_LT(r.start, o->start)) o->start = r.start;
            if (SEQ_GT(r.end, o->end)) o->end = r.end;
            return;
        }
    }
    if (t->nsacked < NET_SACK_SCORE) {
        t->sacked[t->nsacked++] = r;
        return;
    }
    /* Keep the blocks nearest snd_una: they decide what to retransmit next. */
    int hi = 0;
    for (int i = 1; i < t->nsacked; i++)
        if (SEQ_GT(t->sacked[i].start, t->sacked[hi].start))
            hi = i;
    if (SEQ_LT(r.start, t->sacked[hi].start))
        t->sacked[hi] = r;
}

static void sack_score_trim(struct net_tcb *t)
{
    for (int i = 0; i < t->nsacked;) {
        if (SEQ_LE(t->sacked[i].end, t->snd_una)) {
            t->sacked[i] = t->sacked[--t->nsacked];
            continue;
        }
        if (SEQ_LT(t->sacked[i].start, t->snd_una))
            t->sacked[i].start = t->snd_una;
        i++;
    }
}

/* During recovery: resend the next hole below the highest SACKed byte. */
static bool sack_rexmit_hole(struct net_stack *st, struct net_tcb *t)
{
    if (!t->nsacked)
        return false;
    uint32_t high = t->sacked[0].end;
    for (int i = 1; i < t->nsacked; i++)
        if (SEQ_GT(t->sacked[i].end, high))
            high = t->sacked[i].end;
    uint32_t p = SEQ_GT(t->rexmit_hi, t->snd_una) ? t->rexmit_hi : t->snd_una;
    for (int guard = 0; guard < 8 && SEQ_LT(p, high); guard++) {
        bool in = false;
        for (int i = 0; i < t->nsacked; i++)
            if (SEQ_LE(t->sacked[i].start, p) && SEQ_LT(p, t->sacked[i].end)) {
                p = t->sacked[i].end;
                in = true;
            }
        if (in)
            continue;
        uint32_t end = high;
        for (int i = 0; i < t->nsacked; i++)
            if (SEQ_GT(t->sacked[i].start, p) && SEQ_LT(t->sacked[i].start, end))
                end = t->sacked[i].start;
        uint32_t data_end = t->snd_una + t->slen;
        if (SEQ_GT(end, data_end))
            end = data_end;
        uint32_t len = MIN(end - p, tcp_seg_max(t));
        if (!len || SEQ_GE(p, data_end))
            return false;
        tcp_send_seg(st, t, p, len, TCP_ACK);
        CNT(st, tcp_retransmits);
        t->rexmit_hi = p + len;
        return true;
    }
    return false;
}

static void rtt_sample(struct net_stack *st, struct net_tcb *t, uint32_t r)
{
    /* RFC 6298 2.2-2.4, milliseconds, clock granularity 1 ms. */
    if (t->srtt == 0 && t->rttvar == 0) {
        t->srtt = (int32_t)r;
        t->rttvar = (int32_t)r / 2;
    } else {
        int32_t d = t->srtt - (int32_t)r;
        if (d < 0)
            d = -d;
        t->rttvar = (3 * t->rttvar + d) / 4;
        t->srtt = (7 * t->srtt + (int32_t)r) / 8;
    }
    uint32_t rto = (uint32_t)t->srtt + MAX(1u, 4u * (uint32_t)t->rttvar);
    t->rto = MIN(MAX(rto, tcp_cfg_rto_min(st)), 60000u);
}

/* The ACK field of a synchronized-state segment.  Returns false to stop processing. */
static bool ack_input(struct net_stack *st, struct net_tcb *t, const struct seg *s)
{
    /* RFC 5961 5.2: acceptable range is [snd_una - max_snd_wnd, snd_max]. */
    if (SEQ_GT(s->ack, t->snd_max)) {
        CNT(st, drop_tcp_bad_ack);
        challenge_ack(st, t);
        return false;
    }
    if (SEQ_LT(s->ack, t->snd_una - t->max_snd_wnd)) {
        CNT(st, drop_tcp_bad_ack);
        challenge_ack(st, t);
        return false;
    }
    for (int i = 0; i < s->nsack; i++) {
        struct net_seq_range r = s->sack[i];
        if (SEQ_LT(r.start, r.end) && SEQ_GT(r.start, s->ack) && SEQ_LE(r.end, t->snd_max)) {
            CNT(st, tcp_sack_blocks_rx);
            sack_score_add(t, r);
        }
    }
    uint32_t wnd = s->wnd << t->snd_wscale;
    if (SEQ_LE(s->ack, t->snd_una)) {
        /* Duplicate ACK (RFC 5681 2). */
        bool dup = s->ack == t->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
                   wnd == t->snd_wnd && t->snd_max != t->snd_una;
        if (dup) {
            CNT(st, tcp_dup_acks);
            t->dupacks++;
            if (t->in_recovery) {
                t->cwnd += t->mss;
                sack_rexmit_hole(st, t);
            } else if (t->dupacks == 3 && SEQ_GT(s->ack, t->recover - 1)) {
                /* Fast retransmit, enter fast recovery (RFC 6582 3.2). */
                CNT(st, tcp_fast_retransmits);
                CNT(st, tcp_recoveries);
                uint32_t flight = t->snd_max - t->snd_una;
                t->ssthresh = MAX(flight / 2, 2u * t->mss);
                t->recover = t->snd_max;
                t->in_recovery = true;
                t->rtt_timing = false;
                tcp_send_seg(st, t, t->snd_una, MIN(t->slen, tcp_seg_max(t)), TCP_ACK);
                CNT(st, tcp_retransmits);
                t->rexmit_hi = t->snd_una + MIN(t->slen, tcp_seg_max(t));
                t->cwnd = t->ssthresh + 3u * t->mss;
            } else if (t->dupacks < 3) {
                tcp_output(st, t);      /* limited transmit */
            }
        }
    } else {
        /* New data acknowledged. */
        uint32_t acked = s->ack - t->snd_una;
        uint32_t data = MIN(acked, t->slen);
        t->shead = (t->shead + data) % t->scap;
        t->slen -= data;
        t->snd_una = s->ack;
        if (SEQ_LT(t->snd_nxt, t->snd_una))
            t->snd_nxt = t->snd_una;
        t->dupacks = 0;
        t->backoff = 0;
        sack_score_trim(t);
        if (t->rtt_timing && SEQ_GT(s->ack, t->rtt_seq)) {
            t->rtt_timing = false;
            rtt_sample(st, t, (uint32_t)(st->now - t->rtt_ts));
        }
        if (t->in_recovery) {
            if (SEQ_GE(s->ack, t->recover)) {
                /* Full ACK: leave recovery (RFC 6582 3.2 step 3). */
                t->in_recovery = false;
                uint32_t flight = t->snd_max - t->snd_una;
                t->cwnd = MIN(t->ssthresh, MAX(flight, (uint32_t)t->mss) + t->mss);
            } else {
                /* Partial ACK: resend the next hole, deflate. */
                uint32_t len = MIN(t->slen, tcp_seg_max(t));
                if (len && !(SEQ_GT(t->rexmit_hi, t->snd_una + len - 1) && t->nsacked)) {
                    tcp_send_seg(st, t, t->snd_una, len, TCP_ACK);
                    CNT(st, tcp_retransmits);
                    if (SEQ_LT(t->rexmit_hi, t->snd_una + len))
                        t->rexmit_hi = t->snd_una + len;
                } else {
                    sack_rexmit_hole(st, t);
                }
                t->cwnd = t->cwnd > acked ? t->cwnd - acked + t->mss : t->mss;
            }
        } else if (t->cwnd < t->ssthresh) {
            t->cwnd += MIN(acked, 2u * t->mss);     /* slow start, L = 2 (RFC 3465) */
        } else {
            t->cwnd += MAX(1u, (uint32_t)t->mss * t->mss / t->cwnd);
        }
        uint32_t cap = 2u * t->scap + 4u * t->mss;
        if (t->cwnd > cap)
            t->cwnd = cap;          /* no point growing past what we can ever have in flight */
        if (t->snd_una == t->snd_max)
            t->t_rtx = 0;
        else
            tcp_rearm_rto(st, t);
        if (data)
            tcp_event(st, t, NET_EV_WRITABLE);
    }
    /* Window update (RFC 9293 3.10.7.4, fifth check). */
    if (SEQ_LT(t->snd_wl1, s->seq) || (t->snd_wl1 == s->seq && SEQ_LE(t->snd_wl2, s->ack))) {
        t->snd_wnd = wnd;
        t->snd_wl1 = s->seq;
        t->snd_wl2 = s->ack;
        if (wnd > t->max_snd_wnd)
            t->max_snd_wnd = wnd;
        if (wnd) {
            t->t_persist = 0;
            t->persist_shift = 0;
        }
    }
    return true;
}

/* Synchronized states and SYN_RECEIVED. */
static void tcp_segment(struct net_stack *st, struct net_tcb *t, struct seg *s)
{
    uint32_t rwnd = tcp_rcv_window(t);
    if (SEQ_GT(t->rcv_adv, t->rcv_nxt + rwnd))
        rwnd = t->rcv_adv - t->rcv_nxt;
    uint32_t seglen = s->len + ((s->flags & TCP_SYN) ? 1 : 0) + ((s->flags & TCP_FIN) ? 1 : 0);

    /* 1. Sequence number acceptability (RFC 9293 table in 3.10.7.4). */
    bool ok;
    if (seglen == 0)
        ok = rwnd == 0 ? s->seq == t->rcv_nxt
                       : SEQ_LE(t->rcv_nxt, s->seq) && SEQ_LT(s->seq, t->rcv_nxt + rwnd);
    else
        ok = rwnd != 0 && ((SEQ_LE(t->rcv_nxt, s->seq) && SEQ_LT(s->seq, t->rcv_nxt + rwnd)) ||
                           (SEQ_LE(t->rcv_nxt, s->seq + seglen - 1) &&
                            SEQ_LT(s->seq + seglen - 1, t->rcv_nxt + rwnd)));
    /* A zero window still takes pure ACKs at rcv_nxt (RFC 9293 3.10.7.4 note). */
    if (!ok && rwnd == 0 && s->seq == t->rcv_nxt && !(s->flags & (TCP_SYN | TCP_RST)))
        ok = true, s->len = 0, s->flags &= (uint8_t)~TCP_FIN, seglen = 0;
    if (!ok) {
        if (s->flags & TCP_RST) {
            CNT(st, drop_tcp_rst_out_of_window);
            return;
        }
        CNT(st, drop_tcp_out_of_window);
        if (t->state == NET_TCP_TIME_WAIT && (s->flags & TCP_FIN))
            t->t_close = st->now + 2ull * (st->cfg.tcp_msl_ms ? st->cfg.tcp_msl_ms : 30000);
        tcp_send_ack(st, t);
        return;
    }
    /* Trim to the window: drop what we already have, and what does not fit. */
    if (SEQ_LT(s->seq, t->rcv_nxt)) {
        uint32_t d = t->rcv_nxt - s->seq;
        if (s->flags & TCP_SYN) {
            s->flags &= (uint8_t)~TCP_SYN;
            s->seq++;
            d--;
        }
        d = MIN(d, s->len);
        s->data += d;
        s->len -= d;
        s->seq += d;
    }
    if (SEQ_GT(s->seq + s->len, t->rcv_nxt + rwnd)) {
        s->len = t->rcv_nxt + rwnd - s->seq;
        s->flags &= (uint8_t)~TCP_FIN;
    }

    /* 2. RST (RFC 5961 3.2): exact match resets, otherwise a challenge ACK. */
    if (s->flags & TCP_RST) {
        if (s->seq != t->rcv_nxt) {
            challenge_ack(st, t);
            return;
        }
        CNT(st, tcp_rst_rx);
        if (t->state == NET_TCP_SYN_RECEIVED && t->listener >= 0) {
            tcp_free(st, t);
            return;
        }
        if (t->state == NET_TCP_TIME_WAIT || t->state == NET_TCP_CLOSING ||
            t->state == NET_TCP_LAST_ACK) {
            tcp_drop(st, t, 0);
            return;
        }
        tcp_drop(st, t, t->state == NET_TCP_SYN_RECEIVED ? NET_E_CONNREFUSED : NET_E_CONNRESET);
        return;
    }

    /* 4. SYN in a synchronized state (RFC 5961 4.2): challenge ACK. */
    if (s->flags & TCP_SYN) {
        if (t->state == NET_TCP_SYN_RECEIVED && s->seq == t->irs) {
            tcp_send_seg(st, t, t->iss, 0, TCP_SYN | TCP_ACK);   /* our SYN-ACK was lost */
            return;
        }
        challenge_ack(st, t);
        return;
    }

    /* 5. ACK. */
    if (!(s->flags & TCP_ACK)) {
        CNT(st, drop_tcp_no_ack);
        return;
    }
    if (t->state == NET_TCP_SYN_RECEIVED) {
        if (SEQ_LE(s->ack, t->snd_una) || SEQ_GT(s->ack, t->snd_max)) {
            CNT(st, drop_tcp_bad_ack);
            tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, s->ack, 0, false);
            return;
        }
        if (t->listener >= 0) {
            if (accept_queue_len(st, t->listener) >= st->listeners[t->listener].backlog) {
                CNT(st, drop_tcp_listen_overflow);   /* keep SYN_RECEIVED; the peer retries */
                return;
            }
            CNT(st, tcp_passive_opens);
        }
        t->snd_wnd = s->wnd << t->snd_wscale;
        t->max_snd_wnd = t->snd_wnd;
        t->snd_wl1 = s->seq;
        t->snd_wl2 = s->ack;
        t->snd_una = s->ack;
        if (SEQ_LT(t->snd_nxt, t->snd_una))
            t->snd_nxt = t->snd_una;
        t->t_rtx = 0;
        established(st, t);
        if (t->listener >= 0)
            enqueue_accept(st, t);
        else {
            tcp_event(st, t, NET_EV_CONNECTED);
            tcp_event(st, t, NET_EV_WRITABLE);
        }
    }
    if (!ack_input(st, t, s))
        return;
    /* Our FIN is acknowledged once snd_una passes it. */
    bool fin_acked = t->fin_sent && t->snd_una == t->snd_max;
    switch (t->state) {
    case NET_TCP_FIN_WAIT_1:
        if (fin_acked)
            tcp_set_state(st, t, NET_TCP_FIN_WAIT_2);
        break;
    case NET_TCP_CLOSING:
        if (fin_acked) {
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);
            return;
        }
        break;      /* data may still be waiting to go out before our FIN */
    case NET_TCP_LAST_ACK:
        if (fin_acked) {
            tcp_drop(st, t, 0);
            return;
        }
        break;
    case NET_TCP_TIME_WAIT:
        if (s->flags & TCP_FIN) {
            tcp_send_ack(st, t);
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);    /* restart 2 MSL */
        }
        return;
    default:
        break;
    }

    /* 7. Segment text, in ESTABLISHED, FIN_WAIT_1 and FIN_WAIT_2 only. */
    bool ack_now = false;
    if (s->len && (t->state == NET_TCP_ESTABLISHED || t->state == NET_TCP_FIN_WAIT_1 ||
                   t->state == NET_TCP_FIN_WAIT_2)) {
        if (!t->user_owned && t->listener < 0) {
            /* Closed by its owner, nobody will ever read this: reset (RFC 9293 3.10.4, RFC 2525 2.17). */
            CNT(st, drop_tcp_after_close);
            tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
            tcp_drop(st, t, NET_E_CONNRESET);
            return;
        }
        if (s->seq == t->rcv_nxt) {
            rbuf_put(t, s->seq, s->data, s->len);
            t->rcv_nxt += s->len;
            uint32_t more = ooo_advance(t);
            t->rlen += s->len + more;
            if (t->rd_shut) {       /* reading was shut down: consume and discard */
                t->rhead = (t->rhead + t->rlen) % t->rcap;
                t->rlen = 0;
            }
            t->ack_pending++;
            /* ACK at once when filling a hole, every second segment, or without delayed ACK. */
            if (more || t->nooo || !t->delack || t->ack_pending >= 2)
                ack_now = true;
            else if (!t->t_delack)
                t->t_delack = st->now + tcp_cfg_delack(st);
            tcp_event(st, t, NET_EV_READABLE);
        } else {
            /*
             * Out of order: keep it in place in the ring, SACK it, ACK now
             * (RFC 5681 4.2).  With every range slot taken, a segment that
             * extends no range is dropped: forgetting a range we have
             * SACKed would renege, and the sender would wait on us.
             */
            bool merges = false;
            for (int i = 0; i < t->nooo; i++)
                if (SEQ_LE(t->ooo[i].start, s->seq + s->len) && SEQ_LE(s->seq, t->ooo[i].end))
                    merges = true;
            if (t->nooo >= NET_OOO_RANGES && !merges) {
                CNT(st, drop_tcp_ooo_full);
            } else {
                CNT(st, tcp_ooo_segments);
                rbuf_put(t, s->seq, s->data, s->len);
                ooo_add(t, s->seq, s->seq + s->len);
            }
            ack_now = true;
        }
    }

    /* 8. FIN, only once everything before it has arrived. */
    if ((s->flags & TCP_FIN) && s->seq + s->len == t->rcv_nxt &&
        t->state != NET_TCP_CLOSE_WAIT && t->state != NET_TCP_CLOSING &&
        t->state != NET_TCP_LAST_ACK) {
        t->rcv_nxt++;
        t->fin_rcvd = true;
        ack_now = true;
        switch (t->state) {
        case NET_TCP_SYN_RECEIVED:
        case NET_TCP_ESTABLISHED:
            tcp_set_state(st, t, NET_TCP_CLOSE_WAIT);
            break;
        case NET_TCP_FIN_WAIT_1:
            tcp_set_state(st, t, fin_acked ? NET_TCP_TIME_WAIT : NET_TCP_CLOSING);
            break;
        case NET_TCP_FIN_WAIT_2:
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);
            break;
        default:
            break;
        }
        tcp_event(st, t, NET_EV_READABLE);
    } else if ((s->flags & TCP_FIN) && (t->state == NET_TCP_CLOSE_WAIT ||
               t->state == NET_TCP_CLOSING || t->state == NET_TCP_LAST_ACK)) {
        ack_now = true;     /* a retransmitted FIN: our ACK was lost */
    }
    if (ack_now)
        tcp_send_ack(st, t);
    tcp_output(st, t);
    /* Anything still owed gets the delayed-ACK timer. */
    if (t->ack_pending && !t->t_delack && t->state != NET_TCP_CLOSED)
        t->t_delack = st->now + tcp_cfg_delack(st);
}

void tcp_input(struct net_stack *st, net_ip src, net_ip dst, const uint8_t *p, size_t n)
{
    CNT(st, tcp_rx);
    if (n < TCP_HDR) {
        CNT(st, drop_tcp_short);
        return;
    }
    size_t hl = (size_t)(p[12] >> 4) * 4;
    if (hl < TCP_HDR || hl > n) {
        CNT(st, drop_tcp_hdrlen);
        return;
    }
    if (cksum_fold(cksum_add(cksum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)n), p, n)) != 0) {
        CNT(st, drop_tcp_checksum);
        return;
    }
    struct seg s;
    memset(&s, 0, sizeof s);
    s.src = src;
    s.dst = dst;
    s.sport = rd16(p);
    s.dport = rd16(p + 2);
    s.seq = rd32(p + 4);
    s.ack = rd32(p + 8);
    s.flags = p[13] & 0x3f;
    s.wnd = rd16(p + 14);
    s.data = p + hl;
    s.len = (uint32_t)(n - hl);
    s.wscale = -1;
    uint8_t f = s.flags;
    /* Illegal combinations: SYN+FIN, SYN+RST, no flags at all, FIN/PSH/URG without ACK. */
    if ((f & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN) ||
        (f & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) || f == 0 ||
        ((f & (TCP_FIN | TCP_PSH | TCP_URG)) && !(f & TCP_ACK))) {
        CNT(st, drop_tcp_flags);
        return;
    }
    if (s.sport == 0 || s.dport == 0 || dst != st->ip) {
        CNT(st, drop_tcp_bad_addr);
        return;
    }
    if (!parse_options(p + TCP_HDR, hl - TCP_HDR, &s)) {
        CNT(st, drop_tcp_options);
        return;
    }
    struct net_tcb *t = tcp_lookup(st, &s);
    if (!t) {
        for (int i = 0; i < NET_LISTENERS; i++)
            if (st->listeners[i].used && st->listeners[i].port == s.dport) {
                listen_input(st, i, &s);
                return;
            }
        CNT(st, drop_tcp_no_socket);
        /* RFC 9293 3.10.7.1: answer anything but a RST with a RST. */
        if (!(f & TCP_RST)) {
            if (f & TCP_ACK)
                tcp_send_rst(st, dst, src, s.dport, s.sport, s.ack, 0, false);
            else
                tcp_send_rst(st, dst, src, s.dport, s.sport, 0,
                             s.seq + s.len + ((f & TCP_SYN) ? 1 : 0) + ((f & TCP_FIN) ? 1 : 0), true);
        }
        return;
    }
    t->last_rx = st->now;
    if (t->keepalive && t->state == NET_TCP_ESTABLISHED) {
        t->keep_probes = 0;
        t->t_keep = st->now + tcp_cfg_keep_idle(st);
    }
    if (t->state == NET_TCP_SYN_SENT)
        syn_sent_input(st, t, &s);
    else
        tcp_segment(st, t, &s);
}
