/*
 * libFuzzer target: frames into a stack, which runs its timers.  The first
 * input byte picks the stack's role (mod 3):
 *   0  it listens on port 80 and has accepted a connection from the peer;
 *   1  it opened a connection to the peer's port 80 itself (active open);
 *   2  it has no address and runs its DHCP client (DISCOVER sent).
 * The rest is a list of records
 *   [flags:1][advance_ms:1][len:2][frame:len]
 * flags bit 0: fix the IPv4 header checksum; bit 1: fix the TCP/UDP/ICMP
 * checksum; bit 2: treat TCP seq/ack as offsets from the live connection's
 * rcv_nxt/snd_una (so the fuzzer reaches in-window paths); bit 3: address
 * the frame to the live connection's ports; bit 6: make a UDP frame a
 * DHCP reply to the stack's client (ports 67 -> 68, BOOTREPLY, the client's
 * xid and MAC, the magic cookie), so the fuzzer reaches the reply parser.
 * tests/net/fuzz/make_seeds.py writes a seed per role.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../../lib/net/net.h"

#define NTCB 8
static uint64_t clk;
static uint8_t last[NET_FRAME_MAX];
static size_t last_len;

static void tx(void *ctx, const uint8_t *f, size_t n)
{
    memcpy(last, f, n);
    last_len = n;
}

static void rnd(void *ctx, uint8_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (uint8_t)(i * 37 + 11);
}

static uint16_t cks(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static const uint8_t our_mac[6] = { 2, 0, 0, 0, 0, 2 }, peer_mac[6] = { 2, 0, 0, 0, 0, 1 };
#define OUR_IP NET_IP(10, 0, 0, 2)
#define PEER_IP NET_IP(10, 0, 0, 1)

static void fix(uint8_t *f, size_t n, int flags)
{
    if (n < 34 || f[12] != 8 || f[13] != 0)
        return;
    uint8_t *ip = f + 14;
    size_t hl = (size_t)(ip[0] & 15) * 4;
    if (hl < 20 || 14 + hl > n)
        return;
    size_t tot = (size_t)(ip[2] << 8 | ip[3]);
    if (tot < hl || 14 + tot > n)
        tot = n - 14;
    if (flags & 1) {
        ip[10] = ip[11] = 0;
        uint16_t c = cks(ip, hl, 0);
        ip[10] = (uint8_t)(c >> 8);
        ip[11] = (uint8_t)c;
    }
    uint8_t *l4 = ip + hl;
    size_t l4n = tot - hl;
    int off = ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : ip[9] == 1 ? 2 : -1;
    if (!(flags & 2) || off < 0 || l4n < (size_t)off + 2)
        return;
    l4[off] = l4[off + 1] = 0;
    uint32_t s = 0;
    if (ip[9] != 1)
        s = (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]) +
            (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]) + ip[9] + (uint32_t)l4n;
    uint16_t c = cks(l4, l4n, s);
    l4[off] = (uint8_t)(c >> 8);
    l4[off + 1] = (uint8_t)c;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static size_t tcp_frame(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
    memset(f, 0, 54);
    memcpy(f, our_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = 8;
    uint8_t *ip = f + 14, *t = f + 34;
    ip[0] = 0x45; ip[3] = 40; ip[8] = 64; ip[9] = 6;
    put32(ip + 12, PEER_IP);
    put32(ip + 16, OUR_IP);
    t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport; t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = 5 << 4; t[13] = flags; t[14] = 0xff; t[15] = 0xff;
    fix(f, 54, 3);
    return 54;
}

/* Bit 6: a UDP frame becomes a DHCP reply addressed to the stack's client. */
static void dhcp_reply(struct net_stack *st, uint8_t *f, size_t n)
{
    enum { IP = 14, UDP = 34, BOOTP = 42 };
    if (n < BOOTP + 240 || f[12] != 8 || f[13] != 0 || f[IP] != 0x45 || f[IP + 9] != 17)
        return;
    f[UDP] = 0; f[UDP + 1] = 67; f[UDP + 2] = 0; f[UDP + 3] = 68;
    f[BOOTP] = 2;                                   /* BOOTREPLY */
    f[BOOTP + 1] = 1; f[BOOTP + 2] = 6;
    put32(f + BOOTP + 4, st->dhcp.xid);
    memcpy(f + BOOTP + 28, our_mac, 6);
    put32(f + BOOTP + 236, 0x63825363u);            /* magic cookie */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct net_stack st;
    static struct net_tcb tcbs[NTCB];
    static uint8_t arena[NTCB * 8192];
    if (size < 1)
        return 0;
    int role = data[0] % 3;
    data++, size--;
    struct net_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memcpy(cfg.mac, our_mac, 6);
    cfg.ip = role == 2 ? 0 : OUR_IP;
    cfg.netmask = NET_IP(255, 255, 255, 0);
    cfg.gateway = NET_IP(10, 0, 0, 254);
    struct net_io io = { .tx = tx, .random = rnd };
    clk = 1000000;
    if (net_init(&st, &cfg, &io, tcbs, NTCB, arena, sizeof arena, 4096, 4096, clk) != 0)
        abort();
    int32_t l = net_tcp_listen(&st, 80, 2);
    net_udp_bind(&st, 53);
    /* Teach ARP the peer. */
    uint8_t f[NET_FRAME_MAX + 64];
    memset(f, 0, 60);
    memcpy(f, our_mac, 6); memcpy(f + 6, peer_mac, 6); f[12] = 8; f[13] = 6;
    uint8_t *a = f + 14;
    a[1] = 1; a[2] = 8; a[4] = 6; a[5] = 4; a[7] = 1;
    memcpy(a + 8, peer_mac, 6); put32(a + 14, PEER_IP); put32(a + 24, OUR_IP);
    net_input(&st, clk, f, 60);
    int32_t s = -1;
    uint16_t lport = 80, pport = 5555;          /* the live connection's ports: ours, the peer's */
    uint32_t rcv_nxt = 0, snd_una = 0;
    size_t n;
    if (role == 0) {                            /* the peer connects to us */
        n = tcp_frame(f, pport, lport, 1000, 0, 0x02);
        net_input(&st, clk, f, n);
        uint32_t our_isn = last_len >= 54 ? get32(last + 38) : 0;
        n = tcp_frame(f, pport, lport, 1001, our_isn + 1, 0x10);
        net_input(&st, clk, f, n);
        s = net_tcp_accept(&st, l);
        rcv_nxt = 1001, snd_una = our_isn + 1;
    } else if (role == 1) {                     /* we connect to the peer */
        last_len = 0;
        s = net_tcp_connect(&st, clk, PEER_IP, 80);
        if (last_len >= 54) {
            lport = (uint16_t)(last[34] << 8 | last[35]);
            pport = 80;
            uint32_t our_isn = get32(last + 38);
            n = tcp_frame(f, pport, lport, 7000, our_isn + 1, 0x12);
            net_input(&st, clk, f, n);
            rcv_nxt = 7001, snd_una = our_isn + 1;
        }
    } else {
        net_dhcp_start(&st, clk);
    }
    if (s > 0)
        net_tcp_send(&st, clk, s, (const uint8_t *)"hello from the stack", 20);

    size_t i = 0;
    while (i + 4 <= size) {
        uint8_t flags = data[i], adv = data[i + 1];
        size_t len = (size_t)(data[i + 2] << 8 | data[i + 3]);
        i += 4;
        if (len > size - i)
            len = size - i;
        if (len > NET_FRAME_MAX)
            len = NET_FRAME_MAX;
        memcpy(f, data + i, len);
        i += len;
        if (len >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6 && (f[14] & 15) == 5) {
            uint8_t *t = f + 34;
            if (flags & 8) {
                t[0] = (uint8_t)(pport >> 8); t[1] = (uint8_t)pport; t[2] = (uint8_t)(lport >> 8); t[3] = (uint8_t)lport;
                put32(f + 26, PEER_IP);
                put32(f + 30, OUR_IP);
                memcpy(f, our_mac, 6);
            }
            if (flags & 4) {
                put32(t + 4, rcv_nxt + get32(t + 4) % 70000);
                put32(t + 8, snd_una + (get32(t + 8) % 200) - 100);
            }
        }
        if (flags & 64)
            dhcp_reply(&st, f, len);
        fix(f, len, flags);
        clk += adv;
        net_input(&st, clk, f, len);
        if (s > 0 && (flags & 16)) {
            uint8_t buf[512];
            net_tcp_recv(&st, clk, s, buf, sizeof buf);
            net_tcp_send(&st, clk, s, buf, sizeof buf);
        }
        if (flags & 32)
            net_poll(&st, clk += 250);
    }
    net_poll(&st, clk + 100000);
    if (s > 0)
        net_tcp_close(&st, clk, s);
    return 0;
}
