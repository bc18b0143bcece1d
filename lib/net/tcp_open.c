/*
 * Opening connections: segments arriving for a listening port (RFC 9293
 * 3.10.7.2, with SYN cookies and bounded half-open state) and in SYN-SENT
 * (3.10.7.3), and the setup every new connection block shares.
 */
#include "internal.h"

#define HALF_OPEN_MIN 16u     /* half-open entries a listener may always have */

uint8_t tcp_pick_wscale(uint32_t cap)
{
    uint8_t ws = 0;
    while (ws < TCP_WSCALE_MAX && (cap >> ws) > TCP_WIN_MAX)
        ws++;
    return ws;
}

/*
 * The shift a cookie SYN-ACK advertises: the one the block made from the
 * final ACK will take (every block offers the stack's one shift, whatever
 * ring it holds).
 */
static uint8_t cookie_rcv_wscale(const struct net_stack *st)
{
    return st->rcv_wscale;
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
    t->rcv_wscale = st->rcv_wscale;     /* the same for every block: a cookie's shift must match */
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

static bool half_open_room(const struct net_stack *st, int li, const struct net_listener *l)
{
    uint32_t half_open = 0;
    for (uint32_t i = 0; i < st->ntcb; i++)
        half_open += st->tcbs[i].state == NET_TCP_SYN_RECEIVED;
    return syn_queue_len(st, li) < MAX(l->backlog, HALF_OPEN_MIN) && half_open < MAX(st->ntcb / 4, 1u);
}

/* Free the oldest passive half-open entry already retransmitted once; false if none. */
static bool half_open_expire_oldest(struct net_stack *st)
{
    struct net_tcb *old = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state == NET_TCP_SYN_RECEIVED && t->listener >= 0 && t->backoff >= 1 &&
            (!old || t->last_rx < old->last_rx))
            old = t;
    }
    if (!old)
        return false;
    CNT(st, tcp_half_open_expired);
    tcp_free(st, old);
    return true;
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
        int wscale = -1;
        bool sack_perm = false;
        if (mss && s->ts && s->tsecr && !tcp_cookie_ts_decode(s->tsecr, &wscale, &sack_perm))
            mss = 0;
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
            /* Refuse cleanly rather than let the peer think it is connected. */
            CNT(st, drop_tcp_no_tcb);
            tcp_send_rst(st, s->dst, s->src, s->dport, s->sport, s->ack, 0, false);
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
        /* Without timestamps echoed there is nothing to recover: no WS, no SACK. */
        t->ws_ok = wscale >= 0;
        t->snd_wscale = t->ws_ok ? (uint8_t)wscale : 0;
        if (!t->ws_ok)
            t->rcv_wscale = 0;
        t->sack_ok = sack_perm;
        t->ts_ok = s->ts && s->tsecr;
        t->ts_recent = s->tsval;
        t->mss = (uint16_t)mss;
        t->cwnd = MIN(10u * t->mss, MAX(2u * t->mss, 14600u));
        t->snd_wnd = t->max_snd_wnd = s->wnd << t->snd_wscale;
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
     * Every block in use (none free, no TIME_WAIT to recycle, none idle past
     * the keep-alive limit): refuse the SYN with a RST.  A SYN cookie now
     * would only complete into a connection with no block behind it.
     */
    if (!tcp_pool_has_room(st)) {
        CNT(st, drop_tcp_pool_full);
        tcp_send_rst(st, s->dst, s->src, s->dport, s->sport, 0, s->seq + 1, true);
        return;
    }
    /*
     * Half-open connections hold a block each: at most max(backlog, 16) per
     * listener and a quarter of the pool in all, the rest is answered with
     * a SYN cookie so a flood cannot starve established connections.  Under
     * that pressure a half-open entry whose SYN-ACK has already gone
     * unanswered once is expired early to make room (oldest first), so the
     * slots come back within seconds of a flood and new clients get their
     * window scaling and SACK rather than a cookie.
     */
    bool room = half_open_room(st, li, l);
    if (!room && half_open_expire_oldest(st))
        room = half_open_room(st, li, l);
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
        if (s->ts) {
            /* Window scale and SACK come back in the final ACK's TSecr. */
            tmp.from_cookie = tmp.ts_ok = true;
            tmp.ts_recent = s->tsval;
            tmp.ts_syn = tcp_cookie_ts(st, s->wscale, s->sack_perm);
            tmp.ws_ok = s->wscale >= 0;
            tmp.sack_ok = s->sack_perm;
            tmp.rcv_wscale = tmp.ws_ok ? cookie_rcv_wscale(st) : 0;
        }
        CNT(st, tcp_syncookie_sent);
        tcp_send_seg(st, &tmp, tmp.iss, 0, TCP_SYN | TCP_ACK);
        return;
    }
    tcp_init_tcb(st, t, s->src, s->dport, s->sport);
    t->listener = (int8_t)li;
    /*
     * The SYN-ACK of a half-open entry is a cookie too (ISS and, with
     * timestamps, TSval): an entry expired early under pressure, while its
     * SYN-ACK is still on the way, then completes statelessly when the
     * final ACK comes, instead of failing the cookie check and being reset.
     */
    t->iss = tcp_cookie_make(st, s->dst, s->dport, s->src, s->sport, s->seq, s->mss ? s->mss : TCP_MSS_DEFAULT);
    t->snd_una = t->snd_nxt = t->snd_max = t->iss;
    if (s->ts)
        t->ts_syn = tcp_cookie_ts(st, s->wscale, s->sack_perm);
    t->irs = s->seq;
    t->rcv_nxt = s->seq + 1;
    t->rcv_adv = t->rcv_nxt;
    t->ws_ok = s->wscale >= 0;
    t->sack_ok = s->sack_perm;
    t->ts_ok = s->ts;
    t->ts_recent = s->tsval;
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
    t->ts_ok = t->ts_ok && s->ts;
    t->ts_recent = s->tsval;
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


/*
 * ICMP destination unreachable about one of our segments.  Protocol and
 * port unreachable are hard errors (RFC 1122 4.2.3.9): during the
 * handshake they fail the connect at once, as Linux does; the quoted
 * sequence number must be our SYN's (RFC 5927 4.1).  Everything else, and
 * anything in a synchronized state, is a soft error and ignored (RFC 5927
 * 4.1 advises against aborting established connections on ICMP).
 */
void tcp_icmp_unreach(struct net_stack *st, net_ip rip, uint16_t lport, uint16_t rport, uint32_t seq,
                      uint8_t code)
{
    bool hard = code == ICMP_UNREACH_PROTO || code == ICMP_UNREACH_PORT;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state != NET_TCP_SYN_SENT || t->lport != lport || t->rport != rport || t->rip != rip)
            continue;
        if (!hard || seq != t->iss)
            break;
        CNT(st, tcp_connect_unreachable);
        tcp_drop(st, t, NET_E_CONNREFUSED);
        return;
    }
    CNT(st, icmp_other_rx);
}
