/*
 * The socket-level API: one call per NetworkManager / TcpListener /
 * TcpSocket method (listen, accept, connect, send, recv, shutdown, close).
 * Buffers are the fixed per-connection rings given at net_init().
 */
#include "internal.h"

static struct net_tcb *sock(const struct net_stack *st, int32_t h)
{
    if (h <= 0)
        return 0;
    uint32_t idx = (uint32_t)h & 0xffff, gen = (uint32_t)h >> 16;
    if (idx >= st->ntcb)
        return 0;
    struct net_tcb *t = &st->tcbs[idx];
    if (t->gen != gen || !t->user_owned)
        return 0;
    return t;
}

static struct net_listener *listener(struct net_stack *st, int32_t h)
{
    if (h < 0)
        return 0;
    uint32_t idx = (uint32_t)h & 0xffff, gen = (uint32_t)h >> 16;
    if (idx >= NET_LISTENERS || !st->listeners[idx].used || st->listeners[idx].gen != gen)
        return 0;
    return &st->listeners[idx];
}

static void clock_in(struct net_stack *st, uint64_t now)
{
    if (now > st->now)
        st->now = now;
}

int32_t net_tcp_listen(struct net_stack *st, uint16_t port, uint16_t backlog)
{
    if (port == 0 || backlog == 0)
        return NET_E_INVAL;
    for (int i = 0; i < NET_LISTENERS; i++)
        if (st->listeners[i].used && st->listeners[i].port == port)
            return NET_E_ADDRINUSE;
    for (int i = 0; i < NET_LISTENERS; i++) {
        struct net_listener *l = &st->listeners[i];
        if (!l->used) {
            l->used = true;
            l->gen = (uint16_t)(l->gen % 0x7fff + 1);
            l->port = port;
            l->backlog = backlog;
            return (int32_t)((uint32_t)l->gen << 16 | (uint32_t)i);
        }
    }
    return NET_E_NOMEM;
}

int32_t net_tcp_accept(struct net_stack *st, int32_t lh)
{
    struct net_listener *l = listener(st, lh);
    if (!l)
        return NET_E_INVAL;
    int li = (int)(l - st->listeners);
    struct net_tcb *best = 0;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->listener == li && !t->accepted && t->state >= NET_TCP_ESTABLISHED &&
            (!best || t->accept_order < best->accept_order))
            best = t;
    }
    if (!best)
        return NET_E_AGAIN;
    best->accepted = true;
    best->user_owned = true;
    best->listener = -1;
    return tcp_handle(st, best);
}

int net_tcp_listener_close(struct net_stack *st, int32_t lh)
{
    struct net_listener *l = listener(st, lh);
    if (!l)
        return NET_E_INVAL;
    int li = (int)(l - st->listeners);
    /* Connections never accepted are reset. */
    for (uint32_t i = 0; i < st->ntcb; i++) {
        struct net_tcb *t = &st->tcbs[i];
        if (t->listener == li && t->state != NET_TCP_CLOSED) {
            tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
            tcp_free(st, t);
        }
    }
    l->used = false;
    return 0;
}

static bool port_busy(const struct net_stack *st, uint16_t port, net_ip rip, uint16_t rport)
{
    for (int i = 0; i < NET_LISTENERS; i++)
        if (st->listeners[i].used && st->listeners[i].port == port)
            return true;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        const struct net_tcb *t = &st->tcbs[i];
        if ((t->state != NET_TCP_CLOSED || t->user_owned) && t->lport == port &&
            t->rip == rip && t->rport == rport)
            return true;
    }
    return false;
}

int32_t net_tcp_connect(struct net_stack *st, uint64_t now, net_ip dst, uint16_t port)
{
    clock_in(st, now);
    if (!st->ip)
        return NET_E_NOROUTE;
    if (port == 0 || dst == 0 || ip_is_bcast(st, dst))
        return NET_E_INVAL;
    uint16_t lport = 0;
    for (int i = 0; i < NET_EPHEMERAL_N; i++) {
        uint16_t p = st->next_port;
        st->next_port = (uint16_t)(p >= NET_EPHEMERAL_LO + NET_EPHEMERAL_N - 1 ? NET_EPHEMERAL_LO : p + 1);
        if (!port_busy(st, p, dst, port)) {
            lport = p;
            break;
        }
    }
    if (!lport)
        return NET_E_ADDRINUSE;
    struct net_tcb *t = tcp_alloc(st);
    if (!t)
        return NET_E_NOMEM;
    tcp_init_tcb(st, t, dst, lport, port);
    t->user_owned = true;
    t->accepted = true;
    t->ws_ok = t->sack_ok = t->ts_ok = true;    /* offered; kept if the peer agrees */
    t->state = NET_TCP_SYN_SENT;
    t->rtt_ts = st->now;
    CNT(st, tcp_active_opens);
    tcp_send_seg(st, t, t->iss, 0, TCP_SYN);
    t->snd_nxt = t->snd_max = t->iss + 1;
    tcp_rearm_rto(st, t);
    return tcp_handle(st, t);
}

int net_tcp_connected(const struct net_stack *st, int32_t h)
{
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    if (t->err)
        return t->err;
    if (t->state == NET_TCP_SYN_SENT || t->state == NET_TCP_SYN_RECEIVED)
        return 0;
    return t->state == NET_TCP_CLOSED ? NET_E_NOTCONN : 1;
}

long net_tcp_send(struct net_stack *st, uint64_t now, int32_t h, const uint8_t *buf, size_t len)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    if (t->err)
        return t->err;
    if (t->fin_queued)
        return NET_E_PIPE;
    if (t->state == NET_TCP_SYN_SENT || t->state == NET_TCP_SYN_RECEIVED)
        return NET_E_AGAIN;
    if (t->state != NET_TCP_ESTABLISHED && t->state != NET_TCP_CLOSE_WAIT)
        return NET_E_NOTCONN;
    uint32_t space = t->scap - t->slen;
    uint32_t n = (uint32_t)MIN((size_t)space, len);
    if (n == 0)
        return len ? NET_E_AGAIN : 0;
    uint32_t pos = (t->shead + t->slen) % t->scap;
    uint32_t first = MIN(n, t->scap - pos);
    memcpy(t->sbuf + pos, buf, first);
    memcpy(t->sbuf, buf + first, n - first);
    t->slen += n;
    tcp_output(st, t);
    return n;
}

long net_tcp_recv(struct net_stack *st, uint64_t now, int32_t h, uint8_t *buf, size_t len)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    if (t->rlen == 0) {
        if (t->err)
            return t->err;
        if (t->fin_rcvd || t->rd_shut)
            return 0;
        if (t->state == NET_TCP_CLOSED)
            return NET_E_NOTCONN;
        return NET_E_AGAIN;
    }
    uint32_t n = (uint32_t)MIN((size_t)t->rlen, len);
    uint32_t first = MIN(n, t->rcap - t->rhead);
    memcpy(buf, t->rbuf + t->rhead, first);
    memcpy(buf + first, t->rbuf, n - first);
    uint32_t before = t->rcv_adv - t->rcv_nxt;
    t->rhead = (t->rhead + n) % t->rcap;
    t->rlen -= n;
    /* A window update of its own only when the window has opened enough
     * (receiver SWS avoidance, RFC 1122 4.2.3.3) and the read matters to
     * the sender: the window we advertised had shrunk to half the buffer
     * or less and is now at least twice that (Linux's tcp_cleanup_rbuf).
     * A reader that keeps up sends none; the ACKs of the data carry the
     * window. */
    uint32_t after = tcp_rcv_window(t);
    uint32_t step = MIN(t->rcap / 2, 2u * t->mss);
    if (t->state >= NET_TCP_ESTABLISHED && t->state != NET_TCP_TIME_WAIT &&
        after >= before + step && before <= t->rcap / 2 && after >= 2 * before)
        tcp_send_ack(st, t);
    return n;
}

int net_tcp_shutdown(struct net_stack *st, uint64_t now, int32_t h, bool rd, bool wr)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    if (rd) {
        t->rd_shut = true;
        t->rhead = (t->rhead + t->rlen) % t->rcap;
        t->rlen = 0;
    }
    if (wr && !t->fin_queued) {
        if (t->state == NET_TCP_ESTABLISHED) {
            t->fin_queued = true;
            tcp_set_state(st, t, NET_TCP_FIN_WAIT_1);
        } else if (t->state == NET_TCP_CLOSE_WAIT) {
            t->fin_queued = true;
            tcp_set_state(st, t, NET_TCP_LAST_ACK);
        } else if (t->state == NET_TCP_SYN_SENT || t->state == NET_TCP_SYN_RECEIVED) {
            return NET_E_NOTCONN;
        }
        tcp_output(st, t);
    }
    return 0;
}

int net_tcp_abort(struct net_stack *st, uint64_t now, int32_t h)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    if (t->state != NET_TCP_CLOSED && t->state != NET_TCP_TIME_WAIT &&
        t->state != NET_TCP_SYN_SENT)
        tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
    tcp_free(st, t);
    return 0;
}

int net_tcp_close(struct net_stack *st, uint64_t now, int32_t h)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    /* Unread data would be lost silently: tell the peer (RFC 2525 2.17). */
    if (t->rlen)
        return net_tcp_abort(st, now, h);
    switch (t->state) {
    case NET_TCP_CLOSED:
    case NET_TCP_SYN_SENT:
        tcp_free(st, t);
        return 0;
    case NET_TCP_ESTABLISHED:
    case NET_TCP_CLOSE_WAIT:
    case NET_TCP_SYN_RECEIVED:
        if (t->state == NET_TCP_SYN_RECEIVED) {
            tcp_send_rst(st, st->ip, t->rip, t->lport, t->rport, t->snd_nxt, 0, false);
            tcp_free(st, t);
            return 0;
        }
        net_tcp_shutdown(st, now, h, false, true);
        break;
    default:
        break;
    }
    t->user_owned = false;
    if (t->state == NET_TCP_FIN_WAIT_2)
        tcp_set_state(st, t, NET_TCP_FIN_WAIT_2);   /* starts the orphan timer */
    return 0;
}

enum net_tcp_state net_tcp_state(const struct net_stack *st, int32_t h)
{
    struct net_tcb *t = sock(st, h);
    return t ? (enum net_tcp_state)t->state : NET_TCP_CLOSED;
}

long net_tcp_send_space(const struct net_stack *st, int32_t h)
{
    struct net_tcb *t = sock(st, h);
    return t ? (long)(t->scap - t->slen) : NET_E_INVAL;
}

long net_tcp_recv_avail(const struct net_stack *st, int32_t h)
{
    struct net_tcb *t = sock(st, h);
    return t ? (long)t->rlen : NET_E_INVAL;
}

int net_tcp_set_nodelay(struct net_stack *st, int32_t h, bool on)
{
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    t->nodelay = on;
    if (on)
        tcp_output(st, t);
    return 0;
}

int net_tcp_set_delack(struct net_stack *st, int32_t h, bool on)
{
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    t->delack = on;
    return 0;
}

int net_tcp_set_keepalive(struct net_stack *st, uint64_t now, int32_t h, bool on)
{
    clock_in(st, now);
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    t->keepalive = on;
    t->keep_probes = 0;
    t->t_keep = on ? st->now + tcp_cfg_keep_idle(st) : 0;
    return 0;
}

int net_tcp_peer(const struct net_stack *st, int32_t h, net_ip *ip, uint16_t *port, uint16_t *lport)
{
    struct net_tcb *t = sock(st, h);
    if (!t)
        return NET_E_INVAL;
    *ip = t->rip;
    *port = t->rport;
    *lport = t->lport;
    return 0;
}
