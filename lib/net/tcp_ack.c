/*
 * The ACK field of a segment in a synchronized state (RFC 9293 3.10.7.4,
 * fifth step): RFC 5961 5.2 acceptance, the peer's SACK blocks (RFC 2018),
 * RTT samples (RFC 6298), NewReno congestion control and recovery
 * (RFC 5681, RFC 6582) and the send window update.
 */
#include "internal.h"

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

/* Returns false to stop processing the segment. */
bool tcp_ack_input(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    /* RFC 5961 5.2: acceptable range is [snd_una - max_snd_wnd, snd_max]. */
    if (SEQ_GT(s->ack, t->snd_max)) {
        CNT(st, drop_tcp_bad_ack);
        tcp_challenge_ack(st, t);
        return false;
    }
    if (SEQ_LT(s->ack, t->snd_una - t->max_snd_wnd)) {
        CNT(st, drop_tcp_bad_ack);
        tcp_challenge_ack(st, t);
        return false;
    }
    /* SACK blocks count only on a connection that negotiated SACK (RFC 2018 2). */
    for (int i = 0; t->sack_ok && i < s->nsack; i++) {
        struct net_seq_range r = s->sack[i];
        if (SEQ_LT(r.start, r.end) && SEQ_GT(r.start, s->ack) && SEQ_LE(r.end, t->snd_max)) {
            CNT(st, tcp_sack_blocks_rx);
            sack_score_add(t, r);
        }
    }
    uint32_t wnd = s->wnd << t->snd_wscale;
    if (SEQ_LE(s->ack, t->snd_una)) {
        /* Duplicate ACK (RFC 5681 2). */
        /* Not while the window is closed: those ACKs answer our probes. */
        bool dup = s->ack == t->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
                   wnd == t->snd_wnd && wnd != 0 && t->snd_max != t->snd_una;
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
    t->zwp_unanswered = 0;          /* the peer answers: probes are not going unheard */
    if (t->snd_wnd == 0)
        tcp_window_closed(st, t);
    return true;
}

