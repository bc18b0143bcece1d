/*
 * Segment arrival in SYN-RECEIVED and the synchronized states, one
 * function per step of RFC 9293 section 3.10.7.4, called in the RFC's
 * order, with RFC 5961's blind RST/SYN/data mitigations inside the steps.
 */
#include "internal.h"

#define CHALLENGE_ACKS_PER_S 10

/* Each step either lets the segment go on to the next one or ends its processing. */
enum seg_next { SEG_CONTINUE, SEG_DONE };

/* What the later steps owe the peer once the segment is processed. */
struct seg_ctx {
    bool ack_now;
    bool fin_acked;             /* our FIN is acknowledged */
};

/*
 * RFC 5961 section 7: challenge ACKs are rate limited per connection, never
 * across the stack: a shared budget lets an off-path attacker count another
 * connection's challenge ACKs and so learn whether a guessed 4-tuple and
 * sequence number hit (CVE-2016-5696).  Each second's budget is drawn at
 * random between half and all of `challenge_acks_per_s` (as Linux
 * randomises its limit), so even one connection's count says little.
 */
void tcp_challenge_ack(struct net_stack *st, struct net_tcb *t)
{
    uint32_t limit = st->cfg.challenge_acks_per_s ? st->cfg.challenge_acks_per_s : CHALLENGE_ACKS_PER_S;
    if (!t->chal_window || st->now - t->chal_window >= 1000) {
        uint8_t r[4];
        st->io.random(st->io.ctx, r, sizeof r);
        struct net_rd rr = rd_init(r, sizeof r);
        t->chal_window = st->now;
        t->chal_left = limit - limit / 2 + rd_u32(&rr) % (limit / 2 + 1);
    }
    if (!t->chal_left) {
        CNT(st, tcp_challenge_ack_limited);
        return;
    }
    t->chal_left--;
    CNT(st, tcp_challenge_ack);
    tcp_send_ack(st, t);
}

static uint32_t seg_len(const struct tcp_seg *s)
{
    return s->len + ((s->flags & TCP_SYN) ? 1 : 0) + ((s->flags & TCP_FIN) ? 1 : 0);
}

/* The window the sequence check uses: never less than what we advertised. */
static uint32_t rcv_window(const struct net_tcb *t)
{
    uint32_t rwnd = tcp_rcv_window(t);
    if (SEQ_GT(t->rcv_adv, t->rcv_nxt + rwnd))
        rwnd = t->rcv_adv - t->rcv_nxt;
    return rwnd;
}

/*
 * Only the part of an acceptable segment inside the window is processed
 * (RFC 9293 3.10.7.4, first and seventh steps): drop what we already have,
 * and what does not fit.  Done after the RST and SYN checks, which judge
 * the segment as it was received (RFC 5961 3.2, 4.2).
 */
static void trim_to_window(struct net_tcb *t, struct tcp_seg *s)
{
    uint32_t rwnd = rcv_window(t);
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
}

/* First: sequence number acceptability (the table in RFC 9293 3.10.7.4). */
static enum seg_next seg_check_sequence(struct net_stack *st, struct net_tcb *t, struct tcp_seg *s)
{
    uint32_t rwnd = rcv_window(t);
    uint32_t seglen = seg_len(s);
    bool ok;
    if (seglen == 0)
        ok = rwnd == 0 ? s->seq == t->rcv_nxt
                       : SEQ_LE(t->rcv_nxt, s->seq) && SEQ_LT(s->seq, t->rcv_nxt + rwnd);
    else
        ok = rwnd != 0 && ((SEQ_LE(t->rcv_nxt, s->seq) && SEQ_LT(s->seq, t->rcv_nxt + rwnd)) ||
                           (SEQ_LE(t->rcv_nxt, s->seq + seglen - 1) &&
                            SEQ_LT(s->seq + seglen - 1, t->rcv_nxt + rwnd)));
    /* A zero window still takes pure ACKs at rcv_nxt (RFC 9293 3.10.7.4 note). */
    if (!ok && rwnd == 0 && s->seq == t->rcv_nxt && !(s->flags & (TCP_SYN | TCP_RST))) {
        ok = true;
        s->len = 0;
        s->flags &= (uint8_t)~TCP_FIN;
    }
    if (!ok) {
        if (s->flags & TCP_RST) {
            CNT(st, drop_tcp_rst_out_of_window);
            return SEG_DONE;
        }
        CNT(st, drop_tcp_out_of_window);
        if (t->state == NET_TCP_TIME_WAIT && (s->flags & TCP_FIN))
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);    /* restart 2 MSL */
        tcp_send_ack(st, t);
        return SEG_DONE;
    }
    return SEG_CONTINUE;
}

/* Second: RST (RFC 5961 3.2): exact match resets, otherwise a challenge ACK. */
static enum seg_next seg_check_rst(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    if (!(s->flags & TCP_RST))
        return SEG_CONTINUE;
    if (s->seq != t->rcv_nxt) {
        tcp_challenge_ack(st, t);
        return SEG_DONE;
    }
    CNT(st, tcp_rst_rx);
    switch (t->state) {
    case NET_TCP_SYN_RECEIVED:
        if (t->listener >= 0)
            tcp_free(st, t);            /* passive open: back to LISTEN */
        else
            tcp_drop(st, t, NET_E_CONNREFUSED);
        break;
    case NET_TCP_CLOSING: case NET_TCP_LAST_ACK: case NET_TCP_TIME_WAIT:
        tcp_drop(st, t, 0);
        break;
    default:
        tcp_drop(st, t, NET_E_CONNRESET);
        break;
    }
    return SEG_DONE;
}

/* Third: security.  No IP security option is honoured, so there is nothing to compare. */
static enum seg_next seg_check_security(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    (void)st; (void)t; (void)s;
    return SEG_CONTINUE;
}

/* Fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK. */
static enum seg_next seg_check_syn(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    if (!(s->flags & TCP_SYN))
        return SEG_CONTINUE;
    if (t->state == NET_TCP_SYN_RECEIVED && s->seq == t->irs) {
        tcp_send_seg(st, t, t->iss, 0, TCP_SYN | TCP_ACK);   /* our SYN-ACK was lost */
        return SEG_DONE;
    }
    tcp_challenge_ack(st, t);
    return SEG_DONE;
}

/* SYN-RECEIVED: an acceptable ACK completes the handshake. */
static enum seg_next syn_received_ack(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    if (SEQ_LE(s->ack, t->snd_una) || SEQ_GT(s->ack, t->snd_max)) {
        CNT(st, drop_tcp_bad_ack);
        tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, s->ack, 0, false);
        return SEG_DONE;
    }
    if (t->listener >= 0) {
        if (tcp_accept_queue_len(st, t->listener) >= st->listeners[t->listener].backlog) {
            CNT(st, drop_tcp_listen_overflow);   /* keep SYN_RECEIVED; the peer retries */
            return SEG_DONE;
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
    tcp_established(st, t);
    if (t->listener >= 0) {
        tcp_enqueue_accept(st, t);
    } else {
        tcp_event(st, t, NET_EV_CONNECTED);
        tcp_event(st, t, NET_EV_WRITABLE);
    }
    return SEG_CONTINUE;
}

/* Fifth: the ACK field, then what it means for our FIN in each closing state. */
static enum seg_next seg_check_ack(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s,
                                   struct seg_ctx *c)
{
    if (!(s->flags & TCP_ACK)) {
        CNT(st, drop_tcp_no_ack);
        return SEG_DONE;
    }
    if (t->state == NET_TCP_SYN_RECEIVED && syn_received_ack(st, t, s) == SEG_DONE)
        return SEG_DONE;
    if (!tcp_ack_input(st, t, s))
        return SEG_DONE;
    c->fin_acked = t->fin_sent && t->snd_una == t->snd_max;
    switch (t->state) {
    case NET_TCP_FIN_WAIT_1:
        if (c->fin_acked)
            tcp_set_state(st, t, NET_TCP_FIN_WAIT_2);
        return SEG_CONTINUE;
    case NET_TCP_CLOSING:
        if (c->fin_acked) {
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);
            return SEG_DONE;
        }
        return SEG_CONTINUE;    /* data may still be waiting to go out before our FIN */
    case NET_TCP_LAST_ACK:
        if (c->fin_acked) {
            tcp_drop(st, t, 0);
            return SEG_DONE;
        }
        return SEG_CONTINUE;
    case NET_TCP_TIME_WAIT:
        if (s->flags & TCP_FIN) {
            tcp_send_ack(st, t);
            tcp_set_state(st, t, NET_TCP_TIME_WAIT);    /* restart 2 MSL */
        }
        return SEG_DONE;
    default:
        return SEG_CONTINUE;
    }
}

/* Sixth: URG.  Urgent data is not supported: the pointer is ignored, the data read in line. */
static enum seg_next seg_check_urg(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
{
    (void)st; (void)t; (void)s;
    return SEG_CONTINUE;
}

/* Seventh: segment text, in ESTABLISHED, FIN_WAIT_1 and FIN_WAIT_2 only. */
static enum seg_next seg_process_text(struct net_stack *st, struct net_tcb *t, struct tcp_seg *s,
                                      struct seg_ctx *c)
{
    trim_to_window(t, s);
    if (!s->len)
        return SEG_CONTINUE;
    switch (t->state) {
    case NET_TCP_ESTABLISHED: case NET_TCP_FIN_WAIT_1: case NET_TCP_FIN_WAIT_2:
        break;
    default:
        return SEG_CONTINUE;
    }
    if (!t->user_owned && t->listener < 0) {
        /* Closed by its owner, nobody will ever read this: reset (RFC 9293 3.10.4, RFC 2525 2.17). */
        CNT(st, drop_tcp_after_close);
        tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
        tcp_drop(st, t, NET_E_CONNRESET);
        return SEG_DONE;
    }
    if (s->seq == t->rcv_nxt) {
        uint32_t more = tcp_rcv_in_order(t, s);
        t->ack_pending++;
        /* ACK at once when filling a hole, every second segment (at the
         * input batch's end when there is one), or without delayed ACK. */
        if (more || t->nooo || !t->delack)
            c->ack_now = true;
        else if (t->ack_pending >= 2)
            c->ack_now = !tcp_ack_batch(st, t);
        else if (!t->t_delack)
            t->t_delack = st->now + tcp_cfg_delack(st);
        tcp_event(st, t, NET_EV_READABLE);
    } else {
        /* Out of order: kept and SACKed, ACKed at once (RFC 5681 4.2). */
        if (tcp_rcv_out_of_order(t, s))
            CNT(st, tcp_ooo_segments);
        else
            CNT(st, drop_tcp_ooo_full);
        c->ack_now = true;
    }
    return SEG_CONTINUE;
}

/* Eighth: FIN, only once everything before it has arrived. */
static enum seg_next seg_check_fin(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s,
                                   struct seg_ctx *c)
{
    if (!(s->flags & TCP_FIN))
        return SEG_CONTINUE;
    switch (t->state) {
    case NET_TCP_CLOSE_WAIT: case NET_TCP_CLOSING: case NET_TCP_LAST_ACK:
        c->ack_now = true;      /* a retransmitted FIN: our ACK was lost */
        return SEG_CONTINUE;
    default:
        break;
    }
    if (s->seq + s->len != t->rcv_nxt)
        return SEG_CONTINUE;
    t->rcv_nxt++;
    t->fin_rcvd = true;
    c->ack_now = true;
    switch (t->state) {
    case NET_TCP_SYN_RECEIVED:
    case NET_TCP_ESTABLISHED:
        tcp_set_state(st, t, NET_TCP_CLOSE_WAIT);
        break;
    case NET_TCP_FIN_WAIT_1:
        tcp_set_state(st, t, c->fin_acked ? NET_TCP_TIME_WAIT : NET_TCP_CLOSING);
        break;
    case NET_TCP_FIN_WAIT_2:
        tcp_set_state(st, t, NET_TCP_TIME_WAIT);
        break;
    default:
        break;
    }
    tcp_event(st, t, NET_EV_READABLE);
    return SEG_CONTINUE;
}

/*
 * RFC 7323 4.3: an acceptable segment's TSval is the one to echo when it is
 * no older than what we echo now and the segment starts at or before the
 * left edge of the window (RCV.NXT standing in for Last.ACK.sent).  No PAWS.
 */
static void seg_ts_recent(struct net_tcb *t, const struct tcp_seg *s)
{
    if (t->ts_ok && s->ts && (int32_t)(s->tsval - t->ts_recent) >= 0 && SEQ_LE(s->seq, t->rcv_nxt))
        t->ts_recent = s->tsval;
}

void tcp_segment(struct net_stack *st, struct net_tcb *t, struct tcp_seg *s)
{
    struct seg_ctx c = { 0 };
    if (seg_check_sequence(st, t, s) == SEG_DONE)
        return;
    seg_ts_recent(t, s);
    if (seg_check_rst(st, t, s) == SEG_DONE ||
        seg_check_security(st, t, s) == SEG_DONE || seg_check_syn(st, t, s) == SEG_DONE ||
        seg_check_ack(st, t, s, &c) == SEG_DONE || seg_check_urg(st, t, s) == SEG_DONE ||
        seg_process_text(st, t, s, &c) == SEG_DONE || seg_check_fin(st, t, s, &c) == SEG_DONE)
        return;
    if (c.ack_now)
        tcp_send_ack(st, t);
    tcp_output(st, t);
    /* Anything still owed gets the delayed-ACK timer. */
    if (t->ack_pending && !t->t_delack && t->state != NET_TCP_CLOSED)
        t->t_delack = st->now + tcp_cfg_delack(st);
}
