/* Ethernet, ARP, IPv4, ICMP, UDP and DHCP on the simulated wire. */
#include <string.h>
#include "wire.h"

static bool one_reply(void) { return A.echo_replies >= 1; }

static void t_arp_and_ping(void)
{
    wire_init(4096, 4096);
    uint8_t mac[6];
    CHECK(!net_arp_lookup(&A.st, IP_B, mac));
    CHECK(net_icmp_echo(&A.st, now, IP_B, 1, 1, (const uint8_t *)"ping", 4) == 0);
    CHECK(ctr(&A, NET_C_arp_request_tx) == 1 && ctr(&A, NET_C_arp_pending_queued) == 1);
    CHECK(wire_run_until(one_reply, 100));
    CHECK(net_arp_lookup(&A.st, IP_B, mac) && mac[5] == 2);
    CHECK(net_arp_lookup(&B.st, IP_A, mac) && mac[5] == 1);   /* learnt from the request */
    CHECK(ctr(&B, NET_C_icmp_echo_rx) == 1 && ctr(&B, NET_C_icmp_echo_reply_tx) == 1);
    CHECK(ctr(&B, NET_C_arp_request_tx) == 0);
}

static void t_arp_expiry_and_unresolved(void)
{
    wire_init(4096, 4096);
    net_icmp_echo(&A.st, now, IP_B, 1, 1, 0, 0);
    wire_run(10);
    uint8_t mac[6];
    CHECK(net_arp_lookup(&A.st, IP_B, mac));
    wire_run(61000);        /* default 60 s lifetime */
    CHECK(!net_arp_lookup(&A.st, IP_B, mac));
    /* An address nobody answers for: bounded queue (its oldest frames make way), then dropped and counted. */
    uint64_t q0 = ctr(&A, NET_C_arp_pending_queued), r0 = ctr(&A, NET_C_arp_request_tx);
    for (int i = 0; i < 40; i++)
        net_icmp_echo(&A.st, now, NET_IP(10, 0, 0, 99), 1, (uint16_t)i, 0, 0);
    CHECK(ctr(&A, NET_C_arp_pending_queued) - q0 == 40);
    CHECK(ctr(&A, NET_C_drop_arp_pending_full) == 40 - NET_ARP_PENDING_PER_HOP);
    wire_run(5000);
    CHECK(ctr(&A, NET_C_drop_arp_unresolved) == NET_ARP_PENDING_PER_HOP);
    CHECK(ctr(&A, NET_C_arp_request_tx) - r0 == 3);     /* tried 3 times, once a second */
}

static void t_fragmented_ping(void)
{
    wire_init(4096, 4096);
    uint8_t big[6000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    net_icmp_echo(&A.st, now, IP_B, 7, 1, big, sizeof big);
    CHECK(wire_run_until(one_reply, 100));
    CHECK(ctr(&B, NET_C_ip_reassembled) == 1 && ctr(&A, NET_C_ip_reassembled) == 1);
    CHECK(ctr(&B, NET_C_ip_frag_rx) == 5);
}

static void t_fragment_bounds(void)
{
    wire_init(4096, 4096);
    uint8_t f[1600], pl[1480];
    memset(pl, 0xab, sizeof pl);
    /* Beyond NET_FRAG_MAX: dropped. */
    size_t n = build_ip(f, B.st.cfg.mac, A.st.cfg.mac, IP_A, IP_B, 17, 5, 0x2000 | (20000 / 8), pl, 800);
    wire_inject(&B, f, n);
    CHECK(ctr(&B, NET_C_drop_frag_too_big) == 1);
    /* Overlap with different content: the datagram is dropped. */
    n = build_ip(f, B.st.cfg.mac, A.st.cfg.mac, IP_A, IP_B, 17, 6, 0x2000, pl, 800);
    wire_inject(&B, f, n);
    pl[0] = 0;
    n = build_ip(f, B.st.cfg.mac, A.st.cfg.mac, IP_A, IP_B, 17, 6, 0x2000 | 50, pl, 800);
    wire_inject(&B, f, n);
    CHECK(ctr(&B, NET_C_drop_frag_overlap) == 1);
    /* Non-final fragment not a multiple of 8. */
    n = build_ip(f, B.st.cfg.mac, A.st.cfg.mac, IP_A, IP_B, 17, 7, 0x2000, pl, 801);
    wire_inject(&B, f, n);
    CHECK(ctr(&B, NET_C_drop_frag_malformed) == 1);
    /* More datagrams in flight than slots: the oldest make way. */
    for (uint16_t id = 100; id < 100 + NET_FRAG_SLOTS + 3; id++) {
        n = build_ip(f, B.st.cfg.mac, A.st.cfg.mac, IP_A, IP_B, 17, id, 0x2000, pl, 800);
        wire_inject(&B, f, n);
    }
    CHECK(ctr(&B, NET_C_drop_frag_evicted) == 3);
    /* Incomplete ones time out and free their slots. */
    wire_run(31000);
    CHECK(ctr(&B, NET_C_drop_frag_timeout) == NET_FRAG_SLOTS);
}

static void t_udp(void)
{
    wire_init(4096, 4096);
    CHECK(net_udp_bind(&B.st, 5353) == 0);
    CHECK(net_udp_bind(&B.st, 5353) == NET_E_ADDRINUSE);
    net_udp_send(&A.st, now, 4000, IP_B, 5353, (const uint8_t *)"hello", 5);
    wire_run(10);
    CHECK(B.udp_got == 1 && B.udp_len == 5 && memcmp(B.udp_last, "hello", 5) == 0);
    /* A large datagram goes fragmented and comes back whole. */
    static uint8_t big[9000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 3);
    net_udp_send(&A.st, now, 4000, IP_B, 5353, big, sizeof big);
    wire_run(10);
    CHECK(B.udp_got == 2 && B.udp_len == sizeof big && memcmp(B.udp_last, big, sizeof big) == 0);
    /* Unbound port: counted, ICMP port unreachable sent. */
    net_udp_send(&A.st, now, 4000, IP_B, 9999, (const uint8_t *)"x", 1);
    wire_run(10);
    CHECK(ctr(&B, NET_C_drop_udp_no_port) == 1 && ctr(&B, NET_C_icmp_unreach_tx) == 1);
    CHECK(ctr(&A, NET_C_icmp_other_rx) == 1);
}

/* Hostile IP/ICMP/UDP/TCP frames: each dropped for its own reason. */
static void t_hostile_table(void)
{
    wire_init(16384, 16384);
    int32_t l = net_tcp_listen(&B.st, 80, 4);
    int32_t c = net_tcp_connect(&A.st, now, IP_B, 80);
    wire_run(20);
    int32_t s = net_tcp_accept(&B.st, l);
    CHECK(s > 0);
    uint8_t f[1600], good[1600];
    size_t gn = build_tcp(good, &A, &B, 40000, 80, 1, 0, 0x02, 1000, 0, 0);
    struct { const char *what; enum net_counter c; int mut; } table[] = {
        { "short frame", NET_C_drop_eth_short, 1 },
        { "other host", NET_C_drop_eth_not_for_us, 2 },
        { "ethertype", NET_C_drop_eth_type, 3 },
        { "ip short", NET_C_drop_ip_short, 4 },
        { "ip version", NET_C_drop_ip_version, 5 },
        { "ip ihl < 5", NET_C_drop_ip_hdrlen, 6 },
        { "ip total > frame", NET_C_drop_ip_len, 7 },
        { "ip checksum", NET_C_drop_ip_checksum, 8 },
        { "ip bcast source", NET_C_drop_ip_martian, 9 },
        { "ip other dest", NET_C_drop_ip_not_for_us, 10 },
        { "ip proto", NET_C_drop_ip_proto, 11 },
        { "tcp short", NET_C_drop_tcp_short, 12 },
        { "tcp doff", NET_C_drop_tcp_hdrlen, 13 },
        { "tcp checksum", NET_C_drop_tcp_checksum, 14 },
        { "syn+fin", NET_C_drop_tcp_flags, 15 },
        { "no flags", NET_C_drop_tcp_flags, 16 },
        { "fin without ack", NET_C_drop_tcp_flags, 17 },
        { "arp short", NET_C_drop_arp_malformed, 18 },
        { "ip options", NET_C_ip_options_skipped, 19 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        memcpy(f, good, gn);
        size_t n = gn;
        uint8_t *ip = f + 14, *tcp = f + 34;
        int fixip = 1, fixtcp = 0;
        switch (table[i].mut) {
        case 1: n = 10; break;
        case 2: f[0] = 0x02; f[5] = 0x77; break;
        case 3: f[12] = 0x86; f[13] = 0xdd; break;
        case 4: n = 14 + 12; fixip = 0; break;
        case 5: ip[0] = 0x65; break;
        case 6: ip[0] = 0x44; break;
        case 7: ip[2] = 0x05; ip[3] = 0xdc; break;
        case 8: ip[10] ^= 0xff; fixip = 0; break;
        case 9: ip[12] = ip[13] = ip[14] = ip[15] = 0xff; fixtcp = 1; break;
        case 10: ip[19] = 77; fixtcp = 1; break;
        case 11: ip[9] = 99; break;
        case 12: ip[3] = 30; n = 14 + 30; break;
        case 13: tcp[12] = 0xf0; fixtcp = 1; break;
        case 14: tcp[16] ^= 1; break;
        case 15: tcp[13] = 0x03; fixtcp = 1; break;
        case 16: tcp[13] = 0; fixtcp = 1; break;
        case 17: tcp[13] = 0x01; fixtcp = 1; break;
        case 18: f[12] = 0x08; f[13] = 0x06; n = 14 + 10; break;
        case 19: {
            /* A header with 4 bytes of options (NOPs + EOL), otherwise a valid SYN. */
            memmove(ip + 24, ip + 20, gn - 34);
            ip[0] = 0x46; ip[20] = 1; ip[21] = 1; ip[22] = 1; ip[23] = 0;
            ip[3] = (uint8_t)(ip[3] + 4);
            n = gn + 4;
            tcp = ip + 24;
            break;
        }
        }
        if (fixtcp) {
            tcp[16] = tcp[17] = 0;
            size_t tl = (size_t)(ip[2] << 8 | ip[3]) - (size_t)(ip[0] & 0xf) * 4;
            uint32_t sum = (uint32_t)(ip[12] << 8 | ip[13]) + (uint32_t)(ip[14] << 8 | ip[15]) +
                           (uint32_t)(ip[16] << 8 | ip[17]) + (uint32_t)(ip[18] << 8 | ip[19]) +
                           6 + (uint32_t)tl;
            uint16_t cs = test_cksum(tcp, tl, sum);
            tcp[16] = (uint8_t)(cs >> 8);
            tcp[17] = (uint8_t)cs;
        }
        if (fixip && n >= 34) {
            size_t hl = (size_t)(ip[0] & 0xf) * 4;
            if (hl >= 20 && 14 + hl <= n) {
                ip[10] = ip[11] = 0;
                uint16_t cs = test_cksum(ip, hl, 0);
                ip[10] = (uint8_t)(cs >> 8);
                ip[11] = (uint8_t)cs;
            }
        }
        uint64_t before = ctr(&B, table[i].c);
        wire_inject(&B, f, n);
        if (ctr(&B, table[i].c) != before + 1) {
            printf("FAIL hostile '%s' not counted\n", table[i].what);
            failures++;
            return;
        }
    }
    /* The live connection still works. */
    net_tcp_send(&A.st, now, c, (const uint8_t *)"alive", 5);
    wire_run(50);
    uint8_t buf[8];
    CHECK(net_tcp_recv(&B.st, now, s, buf, sizeof buf) == 5 && memcmp(buf, "alive", 5) == 0);
}

/* A fake DHCP server on node B's side of the wire, answering A. */
static uint32_t dhcp_msg_type(const uint8_t *frame, size_t n, uint32_t *xid)
{
    if (n < 14 + 20 + 8 + 240 || frame[23] != 17)
        return 0;
    const uint8_t *m = frame + 42;
    *xid = (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7];
    const uint8_t *o = m + 240;
    size_t left = n - 42 - 240;
    for (size_t i = 0; i + 2 < left && o[i] != 255;) {
        if (o[i] == 0) { i++; continue; }
        if (o[i] == 53)
            return o[i + 2];
        i += 2u + o[i + 1];
    }
    return 0;
}

static size_t dhcp_reply(uint8_t *f, uint8_t type, uint32_t xid, uint32_t lease)
{
    uint8_t u[8 + 300];
    memset(u, 0, sizeof u);
    uint8_t *m = u + 8;
    m[0] = 2; m[1] = 1; m[2] = 6;
    m[4] = (uint8_t)(xid >> 24); m[5] = (uint8_t)(xid >> 16); m[6] = (uint8_t)(xid >> 8); m[7] = (uint8_t)xid;
    m[16] = 10; m[17] = 0; m[18] = 0; m[19] = 50;        /* yiaddr 10.0.0.50 */
    memcpy(m + 28, A.st.cfg.mac, 6);
    uint8_t *o = m + 236;
    o[0] = 99; o[1] = 130; o[2] = 83; o[3] = 99;
    uint8_t opts[] = { 53, 1, type, 54, 4, 10, 0, 0, 2, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 0, 254,
                       6, 8, 10, 0, 0, 53, 10, 0, 0, 54,              /* two DNS servers: the first is kept */
                       51, 4, (uint8_t)(lease >> 24), (uint8_t)(lease >> 16), (uint8_t)(lease >> 8),
                       (uint8_t)lease, 255 };
    memcpy(o + 4, opts, sizeof opts);
    size_t ulen = sizeof u;
    u[0] = 0; u[1] = 67; u[2] = 0; u[3] = 68;
    u[4] = (uint8_t)(ulen >> 8); u[5] = (uint8_t)ulen;   /* checksum 0: none */
    static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    return build_ip(f, bc, B.st.cfg.mac, IP_B, 0xffffffffu, 17, 9, 0, u, ulen);
}

static void t_dhcp(void)
{
    wire_init(4096, 4096);
    B.cut = true;                   /* B is only our fake server's address here */
    A.st.ip = 0;
    net_dhcp_start(&A.st, now);
    uint32_t xid = 0;
    CHECK(dhcp_msg_type(A.last_tx, A.last_len, &xid) == 1);        /* DISCOVER */
    uint8_t f[1600];
    size_t n = dhcp_reply(f, 2, xid ^ 1, 120);                     /* wrong xid */
    wire_inject(&A, f, n);
    CHECK(ctr(&A, NET_C_drop_dhcp_malformed) == 1);
    n = dhcp_reply(f, 2, xid, 120);                                /* OFFER */
    wire_inject(&A, f, n);
    CHECK(dhcp_msg_type(A.last_tx, A.last_len, &xid) == 3);        /* REQUEST */
    n = dhcp_reply(f, 5, xid, 120);                                /* ACK */
    wire_inject(&A, f, n);
    CHECK(net_dhcp_bound(&A.st));
    CHECK(A.st.ip == NET_IP(10, 0, 0, 50) && A.st.gateway == NET_IP(10, 0, 0, 254));
    CHECK(A.st.netmask == NET_IP(255, 255, 255, 0));
    CHECK(A.st.dns == NET_IP(10, 0, 0, 53));
    /* At T1 (half the lease) it renews by unicast to the server. */
    uint64_t req0 = ctr(&A, NET_C_dhcp_request_tx);
    B.cut = false;                  /* B answers A's ARP for the server address */
    wire_run(61000);
    CHECK(ctr(&A, NET_C_dhcp_request_tx) == req0 + 1);
    CHECK(A.last_tx[14 + 16] == 10 && A.last_tx[14 + 19] == 2);    /* to 10.0.0.2 */
    dhcp_msg_type(A.last_tx, A.last_len, &xid);
    n = dhcp_reply(f, 5, xid, 120);
    wire_inject(&A, f, n);
    CHECK(net_dhcp_bound(&A.st));
    /* With no answer the lease runs out and the address goes. */
    wire_run(125000);
    CHECK(ctr(&A, NET_C_dhcp_lease_expired) == 1);
    CHECK(A.st.ip == 0);
}

static void t_dhcp_nak_restarts(void)
{
    wire_init(4096, 4096);
    B.cut = true;
    A.st.ip = 0;
    net_dhcp_start(&A.st, now);
    uint32_t xid = 0;
    dhcp_msg_type(A.last_tx, A.last_len, &xid);
    uint8_t f[1600];
    size_t n = dhcp_reply(f, 2, xid, 120);
    wire_inject(&A, f, n);
    n = dhcp_reply(f, 6, xid, 120);                                /* NAK */
    wire_inject(&A, f, n);
    CHECK(ctr(&A, NET_C_dhcp_nak_rx) == 1 && !net_dhcp_bound(&A.st));
    CHECK(dhcp_msg_type(A.last_tx, A.last_len, &xid) == 1);        /* DISCOVER again */
}

/* lib/net's word-wise checksum against the byte-pair one of RFC 1071, for
 * every length up to 300 and some frame sizes, at every alignment, over
 * all-ones (the carries), random and alternating bytes. */
uint32_t cksum_add(uint32_t sum, const uint8_t *p, size_t n);
uint16_t cksum_fold(uint32_t sum);

static void t_checksum_words(void)
{
    static const size_t big[] = { 1459, 1460, 1480, 1499, 1500, 1514, 2047 };
    static uint8_t buf[2048 + 8];
    uint32_t seed = 12345;
    for (int pattern = 0; pattern < 3; pattern++) {
        for (size_t i = 0; i < sizeof buf; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = pattern == 0 ? 0xff : pattern == 1 ? (uint8_t)(seed >> 16) : (i & 1 ? 0xff : 0);
        }
        for (size_t k = 0; k < 300 + sizeof big / sizeof big[0]; k++) {
            size_t n = k < 300 ? k : big[k - 300];
            for (size_t off = 0; off < 8; off++) {
                uint32_t sum = (uint32_t)(seed >> 8) & 0x3ffff;
                CHECK(cksum_fold(cksum_add(sum, buf + off, n)) == test_cksum(buf + off, n, sum));
            }
        }
    }
}

void basic_tests(void)
{
    RUN(t_checksum_words);
    RUN(t_arp_and_ping);
    RUN(t_arp_expiry_and_unresolved);
    RUN(t_fragmented_ping);
    RUN(t_fragment_bounds);
    RUN(t_udp);
    RUN(t_hostile_table);
    RUN(t_dhcp);
    RUN(t_dhcp_nak_restarts);
}
