/*
 * Opening connections: segments arriving for a listening port (RFC 9293
 * 3.10.7.2, with SYN cookies and bounded half-open state) and in SYN-SENT
 * (3.10.7.3), and the setup every new connection block shares.
 */
#include "internal.h"

static uint8_t pick_wscale(uint32_t cap)
{
    uint8_t ws = 0;
    while (ws < TCP_WSCALE_MAX && (cap >> ws) > TCP_WIN_MAX)
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
    t->mss = TCP_MSS_DEFAULT;
    t->rcv_wscale = pick_wscale(t->rcap);
    t->iss = tcp_isn(st, st->ip, lport, rip, rport);
    t->snd_una = t->snd_nxt = t->snd_max = t->iss;
    t->ssthresh = 0x7fffffff;
    t->last_rx = st->now;
}

static void apply_syn_options(struct net_tcb *t, const struct tcp_seg *s)
{
    uint16_t mss = s->mss ? s->mss : TCP_MSS_DEFAULT;
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

void tcp_established(struct net_stack *st, struct net_tcb *t)
{
    tcp_set_state(st, t, NET_TCP_ESTABLISHED);
    t->backoff = 0;
    if (t->keepalive)
        t->t_keep = st->now + tcp_cfg_keep_idle(st);
}

uint32_t tcp_accept_queue_len(const struct net_stack *st, int idx)
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

void tcp_enqueue_accept(struct net_stack *st, struct net_tcb *t)
{
    t->accept_order = ++st->accept_seq;
    if (st->io.event)
        st->io.event(st->io.ctx, NET_EV_ACCEPTABLE,
                     (int32_t)((uint32_t)st->listeners[t->listener].gen << 16 | (uint32_t)t->listener));
}

/* A segment for a port we listen on and no connection exists. */
void tcp_listen_input(struct net_stack *st, int li, const struct tcp_seg *s)
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
        if (tcp_accept_queue_len(st, li) >= l->backlog) {
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
        tcp_established(st, t);
        tcp_enqueue_accept(st, t);
        /* The ACK may carry data; process it as an established segment. */
        if (s->len || (s->flags & TCP_FIN)) {
            struct tcp_seg c = *s;
            tcp_segment(st, t, &c);
        }
        return;
    }
    if (!(s->flags & TCP_SYN) || (s->flags & TCP_ACK)) {
        CNT(st, drop_tcp_no_socket);
        return;
    }
    if (tcp_accept_queue_len(st, li) >= l->backlog) {
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
        uint16_t mss = s->mss ? s->mss : TCP_MSS_DEFAULT;
        struct net_tcb tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.lport = s->dport;
        tmp.rport = s->sport;
        tmp.rip = s->src;
        tmp.rcap = TCP_WIN_MAX;
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
void tcp_syn_sent_input(struct net_stack *st, struct net_tcb *t, const struct tcp_seg *s)
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
        tcp_established(st, t);
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

