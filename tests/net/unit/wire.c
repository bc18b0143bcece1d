/* The simulated wire: a FIFO of frames with delivery times. */
#include <stdlib.h>
#include <string.h>
#include "wire.h"

struct node A, B;
uint64_t now = 1000000;
int failures, passes;

#define QMAX 8192
#define LATENCY_MS 1

struct qframe { struct node *to; uint64_t at; uint16_t len; uint8_t data[NET_FRAME_MAX]; };
static struct qframe *q;
static size_t qhead, qlen;
static struct impair imp;
static uint64_t irng;

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void push(struct node *to, const uint8_t *f, size_t len, uint64_t at)
{
    if (qlen == QMAX)
        return;             /* the wire's own queue overflows: a drop like any other */
    struct qframe *e = &q[(qhead + qlen) % QMAX];
    e->to = to;
    e->at = at;
    e->len = (uint16_t)len;
    memcpy(e->data, f, len);
    qlen++;
}

static void tx(void *ctx, const uint8_t *f, size_t len)
{
    struct node *n = ctx;
    memcpy(n->last_tx, f, len);
    n->last_len = len;
    n->tx_count++;
    if (n->cut)
        return;
    struct node *to = n == &A ? &B : &A;
    if (imp.loss_pct10 && xorshift(&irng) % 1000 < imp.loss_pct10)
        return;
    uint64_t at = now + LATENCY_MS;
    /* Reordering: hold this frame back a few milliseconds so later ones pass it. */
    if (imp.reorder_pct10 && xorshift(&irng) % 1000 < imp.reorder_pct10)
        at += 1 + xorshift(&irng) % 3;
    push(to, f, len, at);
    if (imp.dup_pct10 && xorshift(&irng) % 1000 < imp.dup_pct10)
        push(to, f, len, at + 1);
}

static void rnd(void *ctx, uint8_t *out, size_t len)
{
    struct node *n = ctx;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)xorshift(&n->rng);
}

static void echo_reply(void *ctx, net_ip src, uint16_t id, uint16_t seq, size_t len)
{
    ((struct node *)ctx)->echo_replies++;
}

static void udp_rx(void *ctx, uint16_t dport, net_ip src, uint16_t sport, const uint8_t *d, size_t len)
{
    struct node *n = ctx;
    n->udp_got++;
    n->udp_len = len < sizeof n->udp_last ? len : sizeof n->udp_last;
    memcpy(n->udp_last, d, n->udp_len);
}

static void node_init(struct node *n, int id, net_ip ip, uint32_t sndbuf, uint32_t rcvbuf)
{
    free(n->arena);
    memset(n, 0, sizeof *n);
    n->id = id;
    n->rng = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    struct net_config cfg;
    memset(&cfg, 0, sizeof cfg);
    uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)id };
    memcpy(cfg.mac, mac, 6);
    cfg.ip = ip;
    cfg.netmask = NET_IP(255, 255, 255, 0);
    for (int i = 0; i < 16; i++)
        cfg.isn_secret[i] = (uint8_t)(i * 7 + id);
    cfg.tcp_msl_ms = 2000;
    struct net_io io = { .ctx = n, .tx = tx, .random = rnd, .echo_reply = echo_reply, .udp_rx = udp_rx };
    size_t sz = net_arena_size(NODE_TCBS, sndbuf, rcvbuf);
    n->arena = malloc(sz);
    if (net_init(&n->st, &cfg, &io, n->tcb, NODE_TCBS, n->arena, sz, sndbuf, rcvbuf, now) != 0)
        abort();
}

void wire_init(uint32_t sndbuf, uint32_t rcvbuf)
{
    if (!q)
        q = malloc(sizeof *q * QMAX);
    qhead = qlen = 0;
    memset(&imp, 0, sizeof imp);
    now += 100000;
    node_init(&A, 1, IP_A, sndbuf, rcvbuf);
    node_init(&B, 2, IP_B, sndbuf, rcvbuf);
}

void wire_impair(const struct impair *im)
{
    imp = *im;
    irng = im->seed ? im->seed : 1;
}

size_t wire_queued(void) { return qlen; }

void wire_inject(struct node *to, const uint8_t *f, size_t len)
{
    net_input(&to->st, now, f, len);
}

void wire_step(void)
{
    /* Deliver what is due; frames held back for reordering wait their turn. */
    size_t n = qlen;
    for (size_t i = 0; i < n; i++) {
        struct qframe e = q[qhead];
        qhead = (qhead + 1) % QMAX;
        qlen--;
        if (e.at > now) {
            push(e.to, e.data, e.len, e.at);
            continue;
        }
        net_input(&e.to->st, now, e.data, e.len);
    }
    net_poll(&A.st, now);
    net_poll(&B.st, now);
    now++;
}

void wire_run(uint32_t ms)
{
    for (uint32_t i = 0; i < ms; i++)
        wire_step();
}

bool wire_run_until(bool (*done)(void), uint32_t max_ms)
{
    for (uint32_t i = 0; i < max_ms; i++) {
        if (done())
            return true;
        wire_step();
    }
    return done();
}

uint16_t test_cksum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t build_ip(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, net_ip src, net_ip dst,
                uint8_t proto, uint16_t id, uint16_t frag, const uint8_t *payload, size_t len)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *h = f + 14;
    memset(h, 0, 20);
    h[0] = 0x45;
    h[2] = (uint8_t)((20 + len) >> 8);
    h[3] = (uint8_t)(20 + len);
    h[4] = (uint8_t)(id >> 8);
    h[5] = (uint8_t)id;
    h[6] = (uint8_t)(frag >> 8);
    h[7] = (uint8_t)frag;
    h[8] = 64;
    h[9] = proto;
    for (int i = 0; i < 4; i++) {
        h[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        h[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint16_t c = test_cksum(h, 20, 0);
    h[10] = (uint8_t)(c >> 8);
    h[11] = (uint8_t)c;
    memcpy(h + 20, payload, len);
    return 34 + len;
}

size_t build_tcp(uint8_t *f, const struct node *from, const struct node *to, uint16_t sport,
                 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                 const uint8_t *data, size_t len)
{
    uint8_t t[1500];
    memset(t, 0, 20);
    t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
    t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = (uint8_t)(win >> 8);
    t[15] = (uint8_t)win;
    if (len)
        memcpy(t + 20, data, len);
    net_ip src = from->st.ip, dst = to->st.ip;
    uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + 20 + (uint32_t)len;
    uint16_t c = test_cksum(t, 20 + len, sum);
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
    return build_ip(f, to->st.cfg.mac, from->st.cfg.mac, src, dst, 6, 1, 0x4000, t, 20 + len);
}

uint64_t ctr(const struct node *n, enum net_counter c) { return n->st.counters[c]; }
