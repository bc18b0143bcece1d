/* TCP behaviour between two lib/net stacks on the simulated wire. */
#include <string.h>
#include <stdlib.h>
#include "wire.h"

static uint8_t pat(uint64_t i) { return (uint8_t)(i * 131 + (i >> 11) + (i >> 19)); }

/* Move n bytes from s on `from` to r on `to` (and optionally back), checking every byte. */
struct flow { struct node *from, *to; int32_t s, r; uint64_t sent, got, n; bool bad; };

static void flow_step(struct flow *f)
{
    uint8_t buf[16384];
    while (f->sent < f->n) {
        size_t k = (size_t)(f->n - f->sent) < sizeof buf ? (size_t)(f->n - f->sent) : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = pat(f->sent + i);
        long w = net_tcp_send(&f->from->st, now, f->s, buf, k);
        if (w <= 0)
            break;
        f->sent += (uint64_t)w;
    }
    for (;;) {
        long r = net_tcp_recv(&f->to->st, now, f->r, buf, sizeof buf);
        if (r <= 0)
            break;
        for (long i = 0; i < r; i++)
            if (buf[i] != pat(f->got + (uint64_t)i))
                f->bad = true;
        f->got += (uint64_t)r;
    }
}

static bool transfer(struct flow *f1, struct flow *f2, uint32_t max_ms)
{
    for (uint32_t i = 0; i < max_ms; i++) {
        flow_step(f1);
        if (f2)
            flow_step(f2);
        if (f1->got == f1->n && (!f2 || f2->got == f2->n))
            return !f1->bad && (!f2 || !f2->bad);
        wire_step();
    }
    for (int k = 0; k < 2; k++) {
        struct flow *f = k ? f2 : f1;
        if (!f)
            continue;
        struct net_tcb *a = &f->from->tcb[f->s & 0xffff], *b = &f->to->tcb[f->r & 0xffff];
        printf("  flow %d: sent %llu got %llu bad %d | snd st %d una %u nxt %u max %u slen %u wnd %u cwnd %u rto %u t_rtx %llu t_persist %llu nsacked %u inrec %d"
               " | rcv st %d rcv_nxt %u rlen %u nooo %u adv %u\n", k, (unsigned long long)f->sent,
               (unsigned long long)f->got, f->bad, a->state, a->snd_una, a->snd_nxt, a->snd_max, a->slen, a->snd_wnd,
               a->cwnd, a->rto, (unsigned long long)(a->t_rtx ? a->t_rtx - now : 0),
               (unsigned long long)(a->t_persist ? a->t_persist - now : 0), a->nsacked, a->in_recovery,
               b->state, b->rcv_nxt, b->rlen, b->nooo, b->rcv_adv - b->rcv_nxt);
    }
    for (int k = 0; k < 2; k++) {
        struct node *n = k ? &B : &A;
        printf("  node %c err %d:", 'A' + k, n->tcb[(k ? f1->r : f1->s) & 0xffff].err);
        for (int c = 0; c < NET_C_COUNT; c++)
            if (n->st.counters[c])
                printf(" %s=%llu", net_counter_name(c), (unsigned long long)n->st.counters[c]);
        printf("\n");
    }
    return false;
}

static int32_t lst, ca, sb;     /* listener on B, client socket on A, server socket on B */

static bool accepted(void)
{
    if (sb <= 0)
        sb = net_tcp_accept(&B.st, lst);
    return sb > 0 && net_tcp_connected(&A.st, ca) == 1;
}

static bool open_pair(uint32_t sndbuf, uint32_t rcvbuf)
{
    wire_init(sndbuf, rcvbuf);
    lst = net_tcp_listen(&B.st, 80, 8);
    ca = net_tcp_connect(&A.st, now, IP_B, 80);
    sb = 0;
    return lst > 0 && ca > 0 && wire_run_until(accepted, 5000);
}

static void t_handshake_and_options(void)
{
    CHECK(open_pair(65536, 262144));
    struct net_tcb *a = &A.tcb[ca & 0xffff], *b = &B.tcb[sb & 0xffff];
    CHECK(a->state == NET_TCP_ESTABLISHED && b->state == NET_TCP_ESTABLISHED);
    CHECK(a->ws_ok && b->ws_ok && a->sack_ok && b->sack_ok);
    CHECK(a->mss == 1460 && b->mss == 1460);
    CHECK(b->rcv_wscale == 3 && a->snd_wscale == 3);   /* 256 KiB needs scale 3 */
    CHECK(ctr(&A, NET_C_tcp_active_opens) == 1 && ctr(&B, NET_C_tcp_passive_opens) == 1);
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&B.st, counts);
    CHECK(counts[NET_TCP_ESTABLISHED] == 1 && counts[NET_TCP_LISTEN] == 1);
}

static void t_bulk_both_ways(void)
{
    CHECK(open_pair(131072, 131072));
    struct flow f1 = { &A, &B, ca, sb, 0, 0, 4 << 20, false };
    struct flow f2 = { &B, &A, sb, ca, 0, 0, 4 << 20, false };
    CHECK(transfer(&f1, &f2, 60000));
    CHECK(ctr(&A, NET_C_tcp_retransmits) == 0);
}

static void t_orderly_close_time_wait(void)
{
    CHECK(open_pair(65536, 65536));
    CHECK(net_tcp_shutdown(&A.st, now, ca, false, true) == 0);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_FIN_WAIT_1);
    wire_run(50);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_FIN_WAIT_2);
    CHECK(net_tcp_state(&B.st, sb) == NET_TCP_CLOSE_WAIT);
    uint8_t c;
    CHECK(net_tcp_recv(&B.st, now, sb, &c, 1) == 0);   /* EOF */
    CHECK(net_tcp_close(&B.st, now, sb) == 0);
    wire_run(50);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_TIME_WAIT);
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&B.st, counts);
    CHECK(counts[NET_TCP_LAST_ACK] == 0 && counts[NET_TCP_CLOSE_WAIT] == 0);
    CHECK(net_tcp_close(&A.st, now, ca) == 0);
    wire_run(4100);         /* 2 MSL = 4 s in the tests */
    net_tcp_state_counts(&A.st, counts);
    CHECK(counts[NET_TCP_TIME_WAIT] == 0);
}

static void t_half_close(void)
{
    CHECK(open_pair(65536, 65536));
    CHECK(net_tcp_shutdown(&A.st, now, ca, false, true) == 0);
    wire_run(20);
    CHECK(net_tcp_recv(&B.st, now, sb, 0, 1) == 0);
    /* B can still send after A's FIN, A still receives. */
    struct flow f = { &B, &A, sb, ca, 0, 0, 300000, false };
    CHECK(transfer(&f, 0, 20000));
    CHECK(net_tcp_send(&A.st, now, ca, (const uint8_t *)"x", 1) == NET_E_PIPE);
    net_tcp_close(&B.st, now, sb);
    wire_run(20);
    CHECK(net_tcp_recv(&A.st, now, ca, 0, 1) == 0);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_TIME_WAIT);
}

static void t_simultaneous_open(void)
{
    wire_init(65536, 65536);
    A.st.next_port = 5000;
    B.st.next_port = 6000;
    int32_t a = net_tcp_connect(&A.st, now, IP_B, 6000);
    int32_t b = net_tcp_connect(&B.st, now, IP_A, 5000);
    CHECK(a > 0 && b > 0);
    wire_run(100);
    CHECK(net_tcp_connected(&A.st, a) == 1 && net_tcp_connected(&B.st, b) == 1);
    CHECK(net_tcp_state(&A.st, a) == NET_TCP_ESTABLISHED);
    ca = a;
    sb = b;
    struct flow f1 = { &A, &B, a, b, 0, 0, 100000, false };
    CHECK(transfer(&f1, 0, 10000));
}

static void t_simultaneous_close(void)
{
    CHECK(open_pair(65536, 65536));
    net_tcp_shutdown(&A.st, now, ca, false, true);
    net_tcp_shutdown(&B.st, now, sb, false, true);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_FIN_WAIT_1);
    wire_run(30);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_TIME_WAIT);
    CHECK(net_tcp_state(&B.st, sb) == NET_TCP_TIME_WAIT);
}

static void lossy(uint32_t loss10, uint32_t dup10, uint32_t reorder10, uint64_t seed, uint64_t n)
{
    CHECK(open_pair(131072, 131072));
    struct impair im = { loss10, dup10, reorder10, seed };
    wire_impair(&im);
    struct flow f1 = { &A, &B, ca, sb, 0, 0, n, false };
    struct flow f2 = { &B, &A, sb, ca, 0, 0, n, false };
    CHECK(transfer(&f1, &f2, 600000));
    CHECK(f1.got == n && !f1.bad && f2.got == n && !f2.bad);
    if (loss10)
        CHECK(ctr(&A, NET_C_tcp_retransmits) > 0);
}

static void t_loss_1pct(void) { lossy(10, 0, 0, 11, 2 << 20); }
static void t_loss_5pct(void) { lossy(50, 0, 0, 12, 1 << 20); }
static void t_loss_20pct(void) { lossy(200, 0, 0, 13, 256 << 10); }
static void t_dup_reorder(void)
{
    lossy(0, 50, 100, 14, 2 << 20);
    CHECK(ctr(&B, NET_C_tcp_ooo_segments) > 0 || ctr(&A, NET_C_tcp_ooo_segments) > 0);
}
static void t_everything(void) { lossy(30, 30, 50, 15, 1 << 20); }
static void t_dup_only(void) { lossy(0, 50, 0, 14, 2 << 20); }
static void t_reorder_only(void) { lossy(0, 0, 100, 14, 2 << 20); }

/* The peer has finished; we close with lots still unsent, over a lossy wire:
 * the orphaned connection must still deliver every byte (LAST_ACK). */
static void t_close_with_unsent_data_lossy(void)
{
    CHECK(open_pair(262144, 262144));
    struct impair im = { 20, 0, 20, 21 };
    wire_impair(&im);
    net_tcp_shutdown(&B.st, now, sb, false, true);
    wire_run(50);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_CLOSE_WAIT);
    static uint8_t buf[200000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = pat(i);
    CHECK(net_tcp_send(&A.st, now, ca, buf, sizeof buf) == (long)sizeof buf);
    CHECK(net_tcp_close(&A.st, now, ca) == 0);
    uint64_t got = 0;
    bool bad = false;
    for (int i = 0; i < 60000; i++) {
        uint8_t r[8192];
        long n = net_tcp_recv(&B.st, now, sb, r, sizeof r);
        if (n == 0)
            break;
        for (long k = 0; k < n; k++)
            bad |= r[k] != pat(got + (uint64_t)k);
        if (n > 0)
            got += (uint64_t)n;
        wire_step();
    }
    CHECK(got == sizeof buf && !bad);
    wire_run(3000);         /* B's ACK of the FIN may be lost once or twice */
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&A.st, counts);
    CHECK(counts[NET_TCP_LAST_ACK] == 0);
}

static void t_fast_retransmit_sack(void)
{
    CHECK(open_pair(262144, 262144));
    struct impair im = { 10, 0, 0, 99 };
    wire_impair(&im);
    struct flow f1 = { &A, &B, ca, sb, 0, 0, 4 << 20, false };
    CHECK(transfer(&f1, 0, 200000));
    CHECK(ctr(&A, NET_C_tcp_fast_retransmits) > 0);
    CHECK(ctr(&A, NET_C_tcp_sack_blocks_rx) > 0);
    CHECK(ctr(&A, NET_C_tcp_recoveries) > 0);
}

static void t_rst_validation(void)
{
    CHECK(open_pair(65536, 65536));
    struct net_tcb *a = &A.tcb[ca & 0xffff];
    uint8_t f[1600];
    /* In window but not exact: challenge ACK, connection survives (RFC 5961 3.2). */
    size_t n = build_tcp(f, &B, &A, a->rport, a->lport, a->rcv_nxt + 100, 0, 0x04, 0, 0, 0);
    uint64_t ch = ctr(&A, NET_C_tcp_challenge_ack);
    wire_inject(&A, f, n);
    CHECK(ctr(&A, NET_C_tcp_challenge_ack) == ch + 1);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_ESTABLISHED);
    /* Out of window: silently dropped and counted. */
    n = build_tcp(f, &B, &A, a->rport, a->lport, a->rcv_nxt + 0x40000000u, 0, 0x04, 0, 0, 0);
    wire_inject(&A, f, n);
    CHECK(ctr(&A, NET_C_drop_tcp_rst_out_of_window) == 1);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_ESTABLISHED);
    /* SYN on an established connection: challenge ACK, no reset (RFC 5961 4). */
    n = build_tcp(f, &B, &A, a->rport, a->lport, a->rcv_nxt, 0, 0x02, 1000, 0, 0);
    wire_inject(&A, f, n);
    CHECK(ctr(&A, NET_C_tcp_challenge_ack) == ch + 2);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_ESTABLISHED);
    /* Data with an ACK beyond snd_max: dropped (RFC 5961 5). */
    n = build_tcp(f, &B, &A, a->rport, a->lport, a->rcv_nxt, a->snd_max + 5000, 0x10, 1000,
                  (const uint8_t *)"evil", 4);
    wire_inject(&A, f, n);
    CHECK(net_tcp_recv_avail(&A.st, ca) == 0);
    /* Still works. */
    struct flow f1 = { &A, &B, ca, sb, 0, 0, 100000, false };
    CHECK(transfer(&f1, 0, 10000));
    /* The exact sequence number resets. */
    n = build_tcp(f, &B, &A, a->rport, a->lport, a->rcv_nxt, 0, 0x04, 0, 0, 0);
    wire_inject(&A, f, n);
    CHECK(net_tcp_recv(&A.st, now, ca, f, 1) == NET_E_CONNRESET);
}

/* More holes than range slots: the extra segments are dropped, never a range
 * already SACKed (that would renege), and everything fills in afterwards. */
static void t_ooo_ranges_never_renege(void)
{
    CHECK(open_pair(65536, 65536));
    struct net_tcb *b = &B.tcb[sb & 0xffff], *a = &A.tcb[ca & 0xffff];
    uint8_t f[1600], d[100];
    uint32_t base = b->rcv_nxt;
    for (int i = 0; i < NET_OOO_RANGES + 3; i++) {
        for (int k = 0; k < 100; k++)
            d[k] = pat((uint64_t)(200 * (i + 1) + k));
        size_t n = build_tcp(f, &A, &B, a->lport, a->rport, base + 200u * (uint32_t)(i + 1), a->rcv_nxt,
                             0x10, 65535, d, 100);
        wire_inject(&B, f, n);
    }
    CHECK(b->nooo == NET_OOO_RANGES);
    CHECK(ctr(&B, NET_C_drop_tcp_ooo_full) == 3);
    /* The first range is still there: filling [base, base+200) moves rcv_nxt past it. */
    for (int k = 0; k < 100; k++)
        d[k] = pat((uint64_t)k);
    size_t n = build_tcp(f, &A, &B, a->lport, a->rport, base, a->rcv_nxt, 0x10, 65535, d, 100);
    wire_inject(&B, f, n);
    CHECK(b->rcv_nxt == base + 100);
    for (int k = 0; k < 100; k++)
        d[k] = pat((uint64_t)(100 + k));
    n = build_tcp(f, &A, &B, a->lport, a->rport, base + 100, a->rcv_nxt, 0x10, 65535, d, 100);
    wire_inject(&B, f, n);
    CHECK(b->rcv_nxt == base + 300);
    CHECK(b->nooo == NET_OOO_RANGES - 1);
}

static void t_abort_resets_peer(void)
{
    CHECK(open_pair(65536, 65536));
    CHECK(net_tcp_abort(&A.st, now, ca) == 0);
    wire_run(10);
    uint8_t c;
    CHECK(net_tcp_recv(&B.st, now, sb, &c, 1) == NET_E_CONNRESET);
    CHECK(ctr(&B, NET_C_tcp_rst_rx) == 1);
}

static void t_connect_refused(void)
{
    wire_init(65536, 65536);
    int32_t s = net_tcp_connect(&A.st, now, IP_B, 81);
    wire_run(10);
    CHECK(net_tcp_connected(&A.st, s) == NET_E_CONNREFUSED);
    CHECK(ctr(&B, NET_C_drop_tcp_no_socket) == 1);
}

static void t_syn_flood_cookies(void)
{
    CHECK(open_pair(16384, 16384));
    struct net_tcb *a = &A.tcb[ca & 0xffff];
    uint8_t f[200];
    /* 5000 spoofed SYNs from random ports: the SYN queue stays bounded. */
    for (uint32_t i = 0; i < 5000; i++) {
        size_t n = build_tcp(f, &A, &B, (uint16_t)(1024 + i), 80, i * 7919u, 0, 0x02, 1000, 0, 0);
        wire_inject(&B, f, n);
    }
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&B.st, counts);
    CHECK(counts[NET_TCP_SYN_RECEIVED] <= NODE_TCBS / 4);
    CHECK(ctr(&B, NET_C_tcp_syncookie_sent) >= 5000 - NODE_TCBS / 4);
    /* A real client still gets in (through a cookie) and can talk. */
    A.cut = false;
    int32_t c2 = net_tcp_connect(&A.st, now, IP_B, 80);
    int32_t s2 = 0;
    for (int i = 0; i < 100 && s2 <= 0; i++) {
        wire_step();
        s2 = net_tcp_accept(&B.st, lst);
        if (s2 == sb)
            s2 = 0;
    }
    CHECK(s2 > 0);
    CHECK(ctr(&B, NET_C_tcp_syncookie_ok) >= 1);
    /* The client offered timestamps: window scale and SACK survive the cookie. */
    const struct net_tcb *bt = &B.tcb[s2 & 0xffff], *at = &A.tcb[c2 & 0xffff];
    CHECK(bt->from_cookie && bt->ts_ok && bt->ws_ok && bt->sack_ok);
    CHECK(at->ts_ok && at->ws_ok && at->sack_ok);
    CHECK(bt->snd_wscale == at->rcv_wscale && bt->rcv_wscale == at->snd_wscale);
    struct flow fl = { &A, &B, c2, s2, 0, 0, 200000, false };
    CHECK(transfer(&fl, 0, 20000));
    /* A forged cookie ACK is refused. */
    size_t n = build_tcp(f, &A, &B, 2222, 80, 1234, 0xdeadbeef, 0x10, 1000, 0, 0);
    wire_inject(&B, f, n);
    CHECK(ctr(&B, NET_C_drop_tcp_syncookie_bad) == 1);
    (void)a;
}

static void t_backlog_overflow(void)
{
    wire_init(16384, 16384);
    lst = net_tcp_listen(&B.st, 80, 2);
    int32_t c[5];
    for (int i = 0; i < 5; i++)
        c[i] = net_tcp_connect(&A.st, now, IP_B, 80);
    wire_run(200);
    CHECK(ctr(&B, NET_C_drop_tcp_listen_overflow) > 0);
    int got = 0;
    while (net_tcp_accept(&B.st, lst) > 0)
        got++;
    CHECK(got == 2);
    /* Once accepted, the waiting clients get in as the queue drains. */
    wire_run(3000);
    while (net_tcp_accept(&B.st, lst) > 0)
        got++;
    wire_run(6000);
    while (net_tcp_accept(&B.st, lst) > 0)
        got++;
    CHECK(got == 5);
    for (int i = 0; i < 5; i++)
        CHECK(net_tcp_connected(&A.st, c[i]) == 1);
}

/* Clients that send data at once, with other listeners being served meanwhile. */
static void t_backlog_overflow_with_data(void)
{
    wire_init(16384, 16384);
    int32_t other = net_tcp_listen(&B.st, 7, 16);
    lst = net_tcp_listen(&B.st, 8, 2);
    int32_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = net_tcp_connect(&A.st, now, IP_B, 8);
    for (int k = 0; k < 300; k++) {
        for (int i = 0; i < 6; i++)
            if (net_tcp_connected(&A.st, c[i]) == 1)
                net_tcp_send(&A.st, now, c[i], (const uint8_t *)"msg", k == 0 ? 3 : 0);
        CHECK(net_tcp_accept(&B.st, other) == NET_E_AGAIN);
        wire_step();
    }
    CHECK(ctr(&B, NET_C_drop_tcp_listen_overflow) > 0);
    CHECK(ctr(&B, NET_C_drop_tcp_after_close) == 0);
    int got = 0;
    for (int k = 0; k < 20000 && got < 6; k++) {
        int32_t s = net_tcp_accept(&B.st, lst);
        if (s > 0)
            got++;
        wire_step();
    }
    CHECK(got == 6);
}

static void t_zero_window_probe(void)
{
    CHECK(open_pair(65536, 16384));
    uint8_t buf[65536];
    memset(buf, 'z', sizeof buf);
    CHECK(net_tcp_send(&A.st, now, ca, buf, sizeof buf) == 65536);
    wire_run(3000);        /* B never reads: its window closes, A probes */
    CHECK(net_tcp_recv_avail(&B.st, sb) == 16384);
    CHECK(ctr(&A, NET_C_tcp_zero_window_probes) > 0);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_ESTABLISHED);
    uint64_t got = 0;
    for (int i = 0; i < 20000 && got < 65536; i++) {
        long r = net_tcp_recv(&B.st, now, sb, buf, sizeof buf);
        if (r > 0)
            got += (uint64_t)r;
        wire_step();
    }
    CHECK(got == 65536);
}

static void t_rto_backoff_timeout(void)
{
    CHECK(open_pair(65536, 65536));
    A.st.cfg.tcp_max_retries = 5;
    B.cut = true;           /* B goes silent */
    A.cut = false;
    CHECK(net_tcp_send(&A.st, now, ca, (const uint8_t *)"hello", 5) == 5);
    wire_run(1000);
    uint64_t r1 = ctr(&A, NET_C_tcp_rto_timeouts);
    CHECK(r1 >= 1 && r1 <= 3);      /* 200, 400 ms back-off: not one per tick */
    wire_run(60000);
    CHECK(ctr(&A, NET_C_tcp_rto_give_up) == 1);
    CHECK(net_tcp_send(&A.st, now, ca, (const uint8_t *)"x", 1) == NET_E_TIMEDOUT);
}

static void t_keepalive(void)
{
    CHECK(open_pair(65536, 65536));
    A.st.cfg.tcp_keep_idle_ms = 1000;
    A.st.cfg.tcp_keep_intvl_ms = 200;
    A.st.cfg.tcp_keep_cnt = 3;
    net_tcp_set_keepalive(&A.st, now, ca, true);
    wire_run(3000);         /* B answers probes: still alive */
    CHECK(ctr(&A, NET_C_tcp_keepalive_probes) >= 2);
    CHECK(net_tcp_state(&A.st, ca) == NET_TCP_ESTABLISHED);
    B.cut = true;
    wire_run(3000);
    CHECK(ctr(&A, NET_C_tcp_keepalive_timeouts) == 1);
    CHECK(net_tcp_connected(&A.st, ca) == NET_E_TIMEDOUT);
}

static void t_nagle_and_nodelay(void)
{
    CHECK(open_pair(65536, 65536));
    uint32_t tx0 = A.tx_count;
    for (int i = 0; i < 50; i++)
        net_tcp_send(&A.st, now, ca, (const uint8_t *)"ab", 2);
    uint32_t nagle = A.tx_count - tx0;      /* first goes, the rest wait for its ACK */
    CHECK(nagle == 1);
    wire_run(100);
    CHECK(net_tcp_recv_avail(&B.st, sb) == 100);
    net_tcp_set_nodelay(&A.st, ca, true);
    tx0 = A.tx_count;
    for (int i = 0; i < 50; i++)
        net_tcp_send(&A.st, now, ca, (const uint8_t *)"ab", 2);
    CHECK(A.tx_count - tx0 == 50);
}

static void t_delayed_ack(void)
{
    CHECK(open_pair(65536, 65536));
    net_tcp_set_nodelay(&A.st, ca, true);
    uint32_t b0 = B.tx_count;
    net_tcp_send(&A.st, now, ca, (const uint8_t *)"one", 3);
    wire_run(5);
    CHECK(B.tx_count == b0);        /* ACK delayed */
    wire_run(60);
    CHECK(B.tx_count == b0 + 1);    /* ... then sent by the 40 ms timer */
    net_tcp_set_delack(&B.st, sb, false);
    net_tcp_send(&A.st, now, ca, (const uint8_t *)"two", 3);
    wire_run(3);
    CHECK(B.tx_count == b0 + 2);    /* immediate without delayed ACK */
}

/* The ACK field of the last frame n sent (Ethernet, IPv4 without options, TCP). */
static uint32_t last_ack(const struct node *n)
{
    const uint8_t *t = n->last_tx + 14 + 20;
    return (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | (uint32_t)t[10] << 8 | t[11];
}

/* count 100-byte segments from seq on, from the peer, built byte by byte, handed to A. */
static void inject_run(const struct net_tcb *a, uint32_t seq, int count)
{
    uint8_t f[1600], data[100] = { 0 };
    for (int i = 0; i < count; i++) {
        size_t n = build_tcp(f, &B, &A, a->rport, a->lport, seq + (uint32_t)i * 100, a->snd_nxt, 0x18, 65535,
                             data, sizeof data);
        wire_inject(&A, f, n);
    }
}

/* An input batch: one ACK at its end for all of a connection's in-order
 * segments, covering the last; without a batch, one every second segment;
 * out-of-order data, and data while a hole is open, are still acknowledged
 * at once inside a batch. */
static void t_batched_ack(void)
{
    CHECK(open_pair(65536, 65536));
    struct net_tcb *a = &A.tcb[ca & 0xffff];
    uint32_t seq = a->rcv_nxt, t0 = A.tx_count;
    inject_run(a, seq, 6);
    CHECK(A.tx_count == t0 + 3 && last_ack(&A) == seq + 600);
    seq += 600;
    t0 = A.tx_count;
    net_input_begin(&A.st);
    inject_run(a, seq, 6);
    CHECK(A.tx_count == t0);                        /* held to the batch's end */
    net_input_end(&A.st);
    CHECK(A.tx_count == t0 + 1 && last_ack(&A) == seq + 600);
    net_input_end(&A.st);                           /* nothing owed: nothing sent */
    CHECK(A.tx_count == t0 + 1);
    seq += 600;
    t0 = A.tx_count;
    net_input_begin(&A.st);
    inject_run(a, seq + 1000, 1);                   /* a hole: a duplicate ACK at once */
    CHECK(A.tx_count == t0 + 1 && last_ack(&A) == seq);
    inject_run(a, seq, 2);                          /* below the hole: at once too (RFC 5681 4.2) */
    net_input_end(&A.st);
    CHECK(A.tx_count == t0 + 3 && last_ack(&A) == seq + 200);
    CHECK(net_tcp_recv_avail(&A.st, ca) == 1400);
}

static void t_close_with_unread_data_resets(void)
{
    CHECK(open_pair(65536, 65536));
    net_tcp_send(&A.st, now, ca, (const uint8_t *)"unread", 6);
    wire_run(10);
    CHECK(net_tcp_close(&B.st, now, sb) == 0);
    wire_run(10);
    CHECK(net_tcp_connected(&A.st, ca) == NET_E_CONNRESET);
}

static void t_pool_exhaustion(void)
{
    wire_init(4096, 4096);
    lst = net_tcp_listen(&B.st, 80, 200);
    int ok = 0, nomem = 0;
    for (int i = 0; i < NODE_TCBS + 5; i++) {
        int32_t s = net_tcp_connect(&A.st, now, IP_B, 80);
        if (s > 0)
            ok++;
        else if (s == NET_E_NOMEM)
            nomem++;
    }
    CHECK(ok == NODE_TCBS && nomem == 5);
    wire_run(5000);         /* SYNs beyond the ARP queue are lost and resent */
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&A.st, counts);
    CHECK(counts[NET_TCP_ESTABLISHED] == NODE_TCBS);
}

/* The socket API's refusals and its less used calls: a handle that is not
 * (any longer) a socket or a listener is NET_E_INVAL on every call; a port
 * taken, a port or backlog of 0, a connect before an address or to a
 * broadcast are refused with their codes; closing a listener resets the
 * connections it had not handed out yet; the accessors answer. */
static void t_api_refusals_and_listener_close(void)
{
    CHECK(open_pair(65536, 65536));
    const int32_t bad[] = { 0, -1, 0x7fffffff, ca ^ 0x10000 /* another generation */ };
    uint8_t c = 0;
    net_ip ip;
    uint16_t port, lport;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t h = bad[i];
        CHECK(net_tcp_send(&A.st, now, h, &c, 1) == NET_E_INVAL);
        CHECK(net_tcp_recv(&A.st, now, h, &c, 1) == NET_E_INVAL);
        CHECK(net_tcp_shutdown(&A.st, now, h, true, true) == NET_E_INVAL);
        CHECK(net_tcp_abort(&A.st, now, h) == NET_E_INVAL);
        CHECK(net_tcp_close(&A.st, now, h) == NET_E_INVAL);
        CHECK(net_tcp_connected(&A.st, h) == NET_E_INVAL);
        CHECK(net_tcp_send_space(&A.st, h) == NET_E_INVAL);
        CHECK(net_tcp_recv_avail(&A.st, h) == NET_E_INVAL);
        CHECK(net_tcp_set_nodelay(&A.st, h, true) == NET_E_INVAL);
        CHECK(net_tcp_set_delack(&A.st, h, true) == NET_E_INVAL);
        CHECK(net_tcp_set_keepalive(&A.st, now, h, true) == NET_E_INVAL);
        CHECK(net_tcp_peer(&A.st, h, &ip, &port, &lport) == NET_E_INVAL);
        CHECK(net_tcp_state(&A.st, h) == NET_TCP_CLOSED);
        CHECK(net_tcp_accept(&B.st, h == 0 ? -1 : h) == NET_E_INVAL);
        CHECK(net_tcp_listener_close(&B.st, h == 0 ? -1 : h) == NET_E_INVAL);
    }
    CHECK(net_tcp_listen(&B.st, 80, 8) == NET_E_ADDRINUSE);
    CHECK(net_tcp_listen(&B.st, 0, 8) == NET_E_INVAL);
    CHECK(net_tcp_listen(&B.st, 81, 0) == NET_E_INVAL);
    CHECK(net_tcp_connect(&A.st, now, IP_B, 0) == NET_E_INVAL);
    CHECK(net_tcp_connect(&A.st, now, 0, 80) == NET_E_INVAL);

    /* the accessors on a live connection */
    CHECK(net_tcp_peer(&A.st, ca, &ip, &port, &lport) == 0 && ip == IP_B && port == 80 && lport != 0);
    CHECK(net_tcp_send_space(&A.st, ca) == 65536 && net_tcp_recv_avail(&B.st, sb) == 0);
    CHECK(net_tcp_set_delack(&B.st, sb, false) == 0 && net_tcp_set_nodelay(&A.st, ca, true) == 0);
    CHECK(net_tcp_send(&A.st, now, ca, (const uint8_t *)"ping", 4) == 4);
    wire_run(50);
    CHECK(net_tcp_recv_avail(&B.st, sb) == 4);
    /* shut the read side: what was unread is dropped, later reads are EOF */
    CHECK(net_tcp_shutdown(&B.st, now, sb, true, false) == 0);
    CHECK(net_tcp_recv_avail(&B.st, sb) == 0 && net_tcp_recv(&B.st, now, sb, &c, 1) == 0);

    /* two more connections to the listener, never accepted; closing the
     * listener resets both and frees their blocks */
    int32_t c2 = net_tcp_connect(&A.st, now, IP_B, 80), c3 = net_tcp_connect(&A.st, now, IP_B, 80);
    CHECK(c2 > 0 && c3 > 0);
    wire_run(200);
    CHECK(net_tcp_connected(&A.st, c2) == 1 && net_tcp_connected(&A.st, c3) == 1);
    uint64_t rst_before = ctr(&B, NET_C_tcp_rst_tx);
    CHECK(net_tcp_listener_close(&B.st, lst) == 0);
    CHECK(net_tcp_accept(&B.st, lst) == NET_E_INVAL);
    CHECK(ctr(&B, NET_C_tcp_rst_tx) == rst_before + 2);
    wire_run(200);
    CHECK(net_tcp_connected(&A.st, c2) == NET_E_CONNRESET && net_tcp_connected(&A.st, c3) == NET_E_CONNRESET);
    /* the accepted connection is its own: it lives on */
    CHECK(net_tcp_state(&B.st, sb) == NET_TCP_ESTABLISHED);
    /* the port is free again */
    int32_t l2 = net_tcp_listen(&B.st, 80, 8);
    CHECK(l2 > 0 && l2 != lst);
    CHECK(net_tcp_abort(&A.st, now, c2) == 0 && net_tcp_abort(&A.st, now, c3) == 0);
    CHECK(net_tcp_send(&A.st, now, c2, &c, 1) == NET_E_INVAL);   /* a freed handle is stale */
}

/*
 * Receive rings of two sizes (net_tcb_rcvbuf): a new connection takes the
 * large ring, an orphaned TIME_WAIT block hands it on to the next one, and
 * every block offers the largest ring's window shift (a small ring with
 * that shift still moves data byte-exact).
 */
static void t_mixed_rings(void)
{
    static uint8_t big[65536];
    wire_init(16384, 4096);
    CHECK(net_tcb_rcvbuf(&B.st, NODE_TCBS, big, sizeof big) == NET_E_INVAL);
    CHECK(net_tcb_rcvbuf(&B.st, 6, big, 512) == NET_E_INVAL);
    CHECK(net_tcb_rcvbuf(&B.st, 5, big, sizeof big) == 0);
    lst = net_tcp_listen(&B.st, 80, 8);
    ca = net_tcp_connect(&A.st, now, IP_B, 80);
    sb = 0;
    CHECK(lst > 0 && ca > 0 && wire_run_until(accepted, 5000));
    struct net_tcb *b = &B.tcb[sb & 0xffff];
    CHECK((sb & 0xffff) == 5 && b->rbuf == big && b->rcap == sizeof big);
    CHECK(b->rcv_wscale == 1 && A.tcb[ca & 0xffff].snd_wscale == 1);
    struct flow f = { &A, &B, ca, sb, 0, 0, 1 << 20, false };
    CHECK(transfer(&f, 0, 60000));
    CHECK(A.tcb[ca & 0xffff].max_snd_wnd > 16384);      /* the large ring's window was offered */
    /* B closes first: its block waits in TIME_WAIT, orphaned */
    CHECK(net_tcp_close(&B.st, now, sb) == 0);
    wire_run(50);
    uint8_t c;
    CHECK(net_tcp_recv(&A.st, now, ca, &c, 1) == 0);
    CHECK(net_tcp_close(&A.st, now, ca) == 0);
    wire_run(50);
    CHECK(B.tcb[5].state == NET_TCP_TIME_WAIT);
    /* the next connection gets another block, and the large ring with it */
    ca = net_tcp_connect(&A.st, now, IP_B, 80);
    sb = 0;
    CHECK(ca > 0 && wire_run_until(accepted, 5000));
    b = &B.tcb[sb & 0xffff];
    CHECK((sb & 0xffff) != 5 && b->rbuf == big && b->rcap == sizeof big);
    CHECK(B.tcb[5].state == NET_TCP_TIME_WAIT && B.tcb[5].rcap == 4096 && B.tcb[5].rbuf != big);
    struct flow f2 = { &A, &B, ca, sb, 0, 0, 1 << 20, false };
    CHECK(transfer(&f2, 0, 60000));
    /* a third, while the second holds the large ring: a small ring, the same shift */
    int32_t lst3 = net_tcp_listen(&B.st, 81, 8);
    int32_t ca3 = net_tcp_connect(&A.st, now, IP_B, 81), sb3 = 0;
    CHECK(lst3 > 0 && ca3 > 0);
    for (int i = 0; i < 5000 && sb3 <= 0; i++) {
        wire_step();
        sb3 = net_tcp_accept(&B.st, lst3);
    }
    CHECK(sb3 > 0 && B.tcb[sb3 & 0xffff].rcap == 4096 && B.tcb[sb3 & 0xffff].rcv_wscale == 1);
    struct flow f3 = { &A, &B, ca3, sb3, 0, 0, 256 << 10, false };
    CHECK(transfer(&f3, 0, 60000));
}

void tcp_tests(void)
{
    RUN(t_handshake_and_options);
    RUN(t_bulk_both_ways);
    RUN(t_orderly_close_time_wait);
    RUN(t_half_close);
    RUN(t_simultaneous_open);
    RUN(t_simultaneous_close);
    RUN(t_loss_1pct);
    RUN(t_loss_5pct);
    RUN(t_loss_20pct);
    RUN(t_dup_only);
    RUN(t_reorder_only);
    RUN(t_dup_reorder);
    RUN(t_everything);
    RUN(t_close_with_unsent_data_lossy);
    RUN(t_fast_retransmit_sack);
    RUN(t_rst_validation);
    RUN(t_ooo_ranges_never_renege);
    RUN(t_abort_resets_peer);
    RUN(t_connect_refused);
    RUN(t_syn_flood_cookies);
    RUN(t_backlog_overflow);
    RUN(t_backlog_overflow_with_data);
    RUN(t_zero_window_probe);
    RUN(t_rto_backoff_timeout);
    RUN(t_keepalive);
    RUN(t_nagle_and_nodelay);
    RUN(t_delayed_ack);
    RUN(t_batched_ack);
    RUN(t_close_with_unread_data_resets);
    RUN(t_pool_exhaustion);
    RUN(t_api_refusals_and_listener_close);
    RUN(t_mixed_rings);
}
