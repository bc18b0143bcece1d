/*
 * TCP connection blocks: allocation from the caller's pool, state changes,
 * and the per-connection timers (RTO, delayed ACK, persist, keepalive,
 * TIME_WAIT / orphan close).
 */
#include "internal.h"

#define RTO_MAX_MS 60000

/* Tunables with their defaults. */
#define CFG(st, field, dflt) ((st)->cfg.field ? (st)->cfg.field : (dflt))

int32_t tcp_handle(const struct net_stack *st, const struct net_tcb *t)
{
    return (int32_t)((uint32_t)t->gen << 16 | (uint32_t)(t - st->tcbs));
}

void tcp_event(struct net_stack *st, struct net_tcb *t, enum net_event ev)
{
    if (st->io.event && t->user_owned)
        st->io.event(st->io.ctx, ev, tcp_handle(st, t));
}

/*
 * Receive rings may differ in size (net_tcb_rcvbuf). An orphaned TIME_WAIT
 * block takes no more data into its ring (seg_process_text ignores text in
 * that state, and nobody will read it), so the largest ring such a block
 * holds, if larger than the new connection's, is swapped to the new one:
 * a large ring serves live connections, not 2 MSL of waiting.
 */
static void take_larger_ring(struct net_stack *st, struct net_tcb *t)
{
    struct net_tcb *d = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *w = &st->tcbs[i];
        if (w->state == NET_TCP_TIME_WAIT && !w->user_owned && !w->rlen && !w->nooo &&
            w->rcap > (d ? d->rcap : t->rcap))
            d = w;
    }
    if (!d)
        return;
    uint8_t *b = t->rbuf;
    uint32_t c = t->rcap;
    t->rbuf = d->rbuf;
    t->rcap = d->rcap;
    t->rhead = 0;
    d->rbuf = b;
    d->rcap = c;
    d->rhead = 0;
}

/*
 * A free block (the one with the largest receive ring, the first of
 * equals), else the oldest orphaned TIME_WAIT one (its 2 MSL cut short).
 */
struct net_tcb *tcp_alloc(struct net_stack *st)
{
    struct net_tcb *tw = 0, *best = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state == NET_TCP_CLOSED && !t->user_owned && (!best || t->rcap > best->rcap))
            best = t;
        if (t->state == NET_TCP_TIME_WAIT && !t->user_owned && (!tw || t->t_close < tw->t_close))
            tw = t;
    }
    if (best) {
        take_larger_ring(st, best);
        return best;
    }
    if (tw) {
        CNT(st, tcp_time_wait_recycled);
        tcp_free(st, tw);
        take_larger_ring(st, tw);
        return tw;
    }
    return 0;
}

/*
 * Whether a new connection can have a block: a free one, an orphaned
 * TIME_WAIT one to recycle, or one idle past the keep-alive limit (no
 * segment for as long as keep-alive would take to declare the peer dead),
 * which is reset and reclaimed here.
 */
bool tcp_pool_has_room(struct net_stack *st)
{
    uint64_t limit = (uint64_t)tcp_cfg_keep_idle(st) +
                     (uint64_t)CFG(st, tcp_keep_intvl_ms, 75000) * CFG(st, tcp_keep_cnt, 9);
    struct net_tcb *idle = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if ((t->state == NET_TCP_CLOSED || t->state == NET_TCP_TIME_WAIT) && !t->user_owned)
            return true;
        if (t->state >= NET_TCP_ESTABLISHED && t->state != NET_TCP_TIME_WAIT &&
            st->now - t->last_rx >= limit && (!idle || t->last_rx < idle->last_rx))
            idle = t;
    }
    if (!idle)
        return false;
    /* An owner still holds its handle: it gets the error, the block comes back when it closes. */
    bool owned = idle->user_owned;
    CNT(st, tcp_idle_reclaimed);
    tcp_send_rst(st, st->ip, idle->rip, idle->lport, idle->rport, idle->snd_nxt, 0, false);
    tcp_drop(st, idle, NET_E_TIMEDOUT);
    return !owned;
}

/* Reset a block to free, keeping its buffers and bumping the generation. */
void tcp_free(struct net_stack *st, struct net_tcb *t)
{
    (void)st;
    uint8_t *sb = t->sbuf, *rb = t->rbuf;
    uint32_t sc = t->scap, rc = t->rcap;
    uint16_t gen = (uint16_t)(t->gen % 0x7fff + 1);
    memset(t, 0, sizeof *t);
    t->sbuf = sb;
    t->rbuf = rb;
    t->scap = sc;
    t->rcap = rc;
    t->gen = gen;
    t->listener = -1;
}

void tcp_set_state(struct net_stack *st, struct net_tcb *t, uint8_t state)
{
    t->state = state;
    if (state == NET_TCP_TIME_WAIT) {
        t->t_rtx = t->t_persist = t->t_keep = t->t_delack = 0;
        t->t_close = st->now + 2ull * CFG(st, tcp_msl_ms, 30000);
    } else if (state == NET_TCP_FIN_WAIT_2 && !t->user_owned) {
        t->t_close = st->now + CFG(st, tcp_fin_timeout_ms, 60000);
    }
}

/* The connection is over: keep the block for its owner to read the error. */
void tcp_drop(struct net_stack *st, struct net_tcb *t, int err)
{
    if (!t->user_owned) {
        tcp_free(st, t);
        return;
    }
    t->state = NET_TCP_CLOSED;
    t->err = (int8_t)err;
    t->t_rtx = t->t_delack = t->t_persist = t->t_keep = t->t_close = 0;
    t->slen = 0;
    tcp_event(st, t, NET_EV_CLOSED);
}

void tcp_rearm_rto(struct net_stack *st, struct net_tcb *t)
{
    uint32_t rto = t->rto << MIN(t->backoff, 16);
    t->t_rtx = st->now + MIN(rto, (uint32_t)RTO_MAX_MS);
}

static void tcp_rto_fire(struct net_stack *st, struct net_tcb *t)
{
    t->t_rtx = 0;
    if (t->snd_max == t->snd_una && t->state != NET_TCP_SYN_SENT &&
        t->state != NET_TCP_SYN_RECEIVED)
        return;
    t->backoff++;
    CNT(st, tcp_rto_timeouts);
    bool syn = t->state == NET_TCP_SYN_SENT || t->state == NET_TCP_SYN_RECEIVED;
    uint32_t limit = syn ? CFG(st, tcp_syn_retries, 6) : CFG(st, tcp_max_retries, 12);
    if (t->backoff > limit) {
        CNT(st, tcp_rto_give_up);
        tcp_drop(st, t, NET_E_TIMEDOUT);
        return;
    }
    t->rtt_timing = false;     /* Karn: no samples from retransmitted data */
    if (syn) {
        CNT(st, tcp_retransmits);
        tcp_send_seg(st, t, t->iss, 0, t->state == NET_TCP_SYN_SENT ? TCP_SYN : TCP_SYN | TCP_ACK);
        tcp_rearm_rto(st, t);
        return;
    }
    /* RFC 5681 (4): halve, collapse to one segment, go back to snd_una. */
    uint32_t flight = t->snd_max - t->snd_una;
    t->ssthresh = MAX(flight / 2, 2u * t->mss);
    t->cwnd = t->mss;
    t->in_recovery = false;
    t->dupacks = 0;
    t->nsacked = 0;         /* the receiver may renege; start from a clean scoreboard */
    t->snd_nxt = t->snd_una;
    t->recover = t->snd_max;
    tcp_output(st, t);
    tcp_rearm_rto(st, t);
}

static void tcp_persist_fire(struct net_stack *st, struct net_tcb *t)
{
    t->t_persist = 0;
    uint32_t unsent = t->slen - (t->snd_nxt - t->snd_una);
    if (t->slen == 0 || t->snd_nxt != t->snd_una || unsent == 0)
        return;
    if (t->snd_wnd) {
        /* A small window SWS avoidance has been sitting on: the override timeout fired. */
        uint32_t len = MIN(MIN(t->snd_wnd, unsent), tcp_seg_max(t));
        tcp_send_seg(st, t, t->snd_nxt, len, TCP_ACK | TCP_PSH);
        t->snd_nxt += len;
        if (SEQ_GT(t->snd_nxt, t->snd_max))
            t->snd_max = t->snd_nxt;
        tcp_rearm_rto(st, t);
        return;
    }
    /* A window probe: an old sequence number makes the peer answer with its window. */
    if (t->zwp_unanswered >= CFG(st, tcp_max_retries, 12)) {
        CNT(st, tcp_persist_give_up);
        tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
        tcp_drop(st, t, NET_E_TIMEDOUT);
        return;
    }
    t->zwp_unanswered++;
    CNT(st, tcp_zero_window_probes);
    tcp_send_seg(st, t, t->snd_una - 1, 0, TCP_ACK);
    if (t->persist_shift < 16)
        t->persist_shift++;
    uint32_t d = t->rto << t->persist_shift;
    t->t_persist = st->now + MIN(d, (uint32_t)RTO_MAX_MS);
}

static void tcp_keep_fire(struct net_stack *st, struct net_tcb *t)
{
    t->t_keep = 0;
    if (!t->keepalive || (t->state != NET_TCP_ESTABLISHED && t->state != NET_TCP_CLOSE_WAIT))
        return;
    if (t->keep_probes >= CFG(st, tcp_keep_cnt, 9)) {
        CNT(st, tcp_keepalive_timeouts);
        tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
        tcp_drop(st, t, NET_E_TIMEDOUT);
        return;
    }
    CNT(st, tcp_keepalive_probes);
    t->keep_probes++;
    tcp_send_seg(st, t, t->snd_una - 1, 0, TCP_ACK);
    t->t_keep = st->now + CFG(st, tcp_keep_intvl_ms, 75000);
}

void tcp_timers(struct net_stack *st)
{
    uint64_t now = st->now;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->state == NET_TCP_CLOSED)
            continue;
        if (t->t_close && t->t_close <= now) {
            t->t_close = 0;
            if (t->state == NET_TCP_TIME_WAIT || !t->user_owned) {
                if (t->state != NET_TCP_TIME_WAIT)
                    tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
                tcp_drop(st, t, 0);
                continue;
            }
        }
        if (t->t_rtx && t->t_rtx <= now)
            tcp_rto_fire(st, t);
        if (t->state == NET_TCP_CLOSED)
            continue;
        if (t->t_delack && t->t_delack <= now)
            tcp_send_ack(st, t);
        if (t->t_persist && t->t_persist <= now)
            tcp_persist_fire(st, t);
        if (t->t_keep && t->t_keep <= now)
            tcp_keep_fire(st, t);
    }
}

uint32_t tcp_cfg_delack(const struct net_stack *st) { return CFG(st, tcp_delack_ms, 40); }
uint32_t tcp_cfg_rto_min(const struct net_stack *st) { return CFG(st, tcp_rto_min_ms, 200); }
uint32_t tcp_cfg_rto_init(const struct net_stack *st) { return CFG(st, tcp_rto_initial_ms, 1000); }
uint32_t tcp_cfg_keep_idle(const struct net_stack *st) { return CFG(st, tcp_keep_idle_ms, 7200000); }
