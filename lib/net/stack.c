/* Stack bring-up, the timer tick, and counter names. */
#include "internal.h"

size_t net_arena_size(uint32_t ntcb, uint32_t sndbuf, uint32_t rcvbuf)
{
    return (size_t)ntcb * ((size_t)sndbuf + rcvbuf);
}

int net_init(struct net_stack *st, const struct net_config *cfg, const struct net_io *io,
             struct net_tcb *tcbs, uint32_t ntcb, uint8_t *arena, size_t arena_len,
             uint32_t sndbuf, uint32_t rcvbuf, uint64_t now)
{
    if (!io->tx || !io->random || ntcb > 0x10000 || sndbuf < 1024 || rcvbuf < 1024 ||
        sndbuf > (1u << 30) || rcvbuf > (1u << 30) ||
        arena_len < net_arena_size(ntcb, sndbuf, rcvbuf))
        return NET_E_INVAL;
    memset(st, 0, sizeof *st);
    st->cfg = *cfg;
    st->io = *io;
    st->now = now;
    st->ip = cfg->ip;
    st->netmask = cfg->netmask;
    st->gateway = cfg->gateway;
    st->tcbs = tcbs;
    st->ntcb = ntcb;
    memset(tcbs, 0, sizeof *tcbs * ntcb);
    for (uint32_t i = 0; i < ntcb; i++) {
        struct net_tcb *t = &tcbs[i];
        t->sbuf = arena + (size_t)i * (sndbuf + rcvbuf);
        t->scap = sndbuf;
        t->rbuf = t->sbuf + sndbuf;
        t->rcap = rcvbuf;
        t->gen = 1;
        t->listener = -1;
    }
    st->rcv_wscale = tcp_pick_wscale(rcvbuf);
    uint8_t r[2];
    io->random(io->ctx, r, 2);
    struct net_rd rr = rd_init(r, sizeof r);
    uint16_t v = rd_u16(&rr);
    st->ip_id = v;
    st->next_port = (uint16_t)(NET_EPHEMERAL_LO + v % NET_EPHEMERAL_N);
    return 0;
}

int net_tcb_rcvbuf(struct net_stack *st, uint32_t i, uint8_t *buf, uint32_t cap)
{
    if (i >= st->ntcb || !buf || cap < 1024 || cap > (1u << 30))
        return NET_E_INVAL;
    struct net_tcb *t = &st->tcbs[i];
    if (t->state != NET_TCP_CLOSED || t->user_owned || t->rlen)
        return NET_E_INVAL;
    t->rbuf = buf;
    t->rcap = cap;
    t->rhead = 0;
    uint8_t ws = tcp_pick_wscale(cap);
    if (ws > st->rcv_wscale)
        st->rcv_wscale = ws;
    return 0;
}

uint64_t net_poll(struct net_stack *st, uint64_t now)
{
    if (now > st->now)
        st->now = now;
    arp_timers(st);
    frag_timers(st);
    dhcp_timers(st);
    tcp_timers(st);
    /* The next deadline: the soonest TCP timer, or a second from now. */
    uint64_t next = st->now + 1000;
    for (uint32_t i = 0; i < st->ntcb; i++) {
        const struct net_tcb *t = &st->tcbs[i];
        if (t->state == NET_TCP_CLOSED)
            continue;
        const uint64_t ts[5] = { t->t_rtx, t->t_delack, t->t_persist, t->t_keep, t->t_close };
        for (int k = 0; k < 5; k++)
            if (ts[k] && ts[k] < next)
                next = ts[k];
    }
    return next > st->now ? next : st->now + 1;
}

static const char *const counter_names[] = {
#define NET_X_NAME(n) #n,
    NET_COUNTERS(NET_X_NAME)
#undef NET_X_NAME
};

const char *net_counter_name(enum net_counter c)
{
    return (unsigned)c < NET_C_COUNT ? counter_names[c] : "?";
}

static const char *const state_names[NET_TCP_NSTATES] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

const char *net_tcp_state_name(enum net_tcp_state s)
{
    return (unsigned)s < NET_TCP_NSTATES ? state_names[s] : "?";
}

void net_tcp_state_counts(const struct net_stack *st, uint32_t counts[NET_TCP_NSTATES])
{
    memset(counts, 0, sizeof(uint32_t) * NET_TCP_NSTATES);
    for (uint32_t i = 0; i < st->ntcb; i++)
        if (st->tcbs[i].state != NET_TCP_CLOSED)
            counts[st->tcbs[i].state]++;
    for (int i = 0; i < NET_LISTENERS; i++)
        if (st->listeners[i].used)
            counts[NET_TCP_LISTEN]++;
}
