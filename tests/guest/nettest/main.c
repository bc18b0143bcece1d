/*
 * nettest: both ends of the network-stack proof (tests/netstack).
 *   server: holds only a TcpListenAuthority ("listen", port 7) and the
 *           console; each connection starts with one byte naming its job:
 *           'B' bulk (read to EOF, check the hash, send 1 MiB back, close),
 *           'E' echo (one read, echoed, close), 'R' wait for the peer's RST.
 *   client: holds both stacks' NetworkManager ("neta" 10.0.0.1, "netb")
 *           and KernelStats; runs the checks and prints "nettest: PASS".
 */
#include "rt/capos.h"

#define MIB (1u << 20)
#define CHUNK 3800
#define RECV_MAX 4096           /* bytes asked of one TcpSocket.recv */
#define SRV NET(10, 0, 0, 2)
#define NET(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; printf("nettest: FAIL " __VA_ARGS__); printf("\n"); } \
                           else { printf("nettest: ok " __VA_ARGS__); printf("\n"); } } while (0)

/* The byte stream both ends agree on: xorshift bytes, FNV-1a hashed. */
static uint8_t pat(uint32_t i) { uint32_t x = i * 2654435761u; x ^= x >> 13; x *= 0x5bd1e995u; return (uint8_t)(x >> 24); }
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
static uint64_t expect_hash(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < MIB; i++) {
        uint8_t b = pat(i);
        h = fnv(h, &b, 1);
    }
    return h;
}

/* ---- socket helpers: return a NetError (or 100 + a transport error) ---- */
static int tcp_send(uint32_t s, const uint8_t *p, uint32_t n)
{
    while (n) {
        RT_BUFS(b, 4096, 64);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_send_Results_reader r;
        int e = capos_TcpSocket_send(&cl, &b, &call, p, n > CHUNK ? CHUNK : n, &r);
        if (e)
            return 100 + rt_error(e);
        if (capos_TcpSocket_send_Results_get_error(r))
            return capos_TcpSocket_send_Results_get_error(r);
        uint32_t k = capos_TcpSocket_send_Results_get_sent(r);
        p += k;
        n -= k;
    }
    return 0;
}

/* Read into buf (max bytes); *got bytes, *eof at end of stream. */
static int tcp_recv(uint32_t s, uint8_t *buf, uint32_t max, uint32_t *got, bool *eof)
{
    /* the result holds up to max bytes and the message's framing */
    RT_BUFS(b, 64, RECV_MAX + 256);
    if (max > RECV_MAX)
        max = RECV_MAX;
    capnp_client cl = RT_CLIENT(s);
    capnp_call call;
    capos_TcpSocket_recv_Results_reader r;
    int e = capos_TcpSocket_recv(&cl, &b, &call, max, &r);
    if (e)
        return 100 + rt_error(e);
    capnp_data d = capos_TcpSocket_recv_Results_get_data(r);
    *got = d.len < max ? d.len : max;
    memcpy(buf, d.ptr, *got);
    *eof = capos_TcpSocket_recv_Results_get_eof(r);
    return capos_TcpSocket_recv_Results_get_error(r);
}

static int tcp_shutdown(uint32_t s)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(s);
    capnp_call call;
    capos_TcpSocket_shutdown_Results_reader r;
    int e = capos_TcpSocket_shutdown(&cl, &b, &call, false, true, &r);
    return e ? 100 + rt_error(e) : capos_TcpSocket_shutdown_Results_get_error(r);
}

static void tcp_close(uint32_t s, bool abort)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(s);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, abort, &r);
    rt_release(s);
}

/* Read to EOF, hashing; returns bytes read (hash in *h) or -error. */
static long read_all(uint32_t s, uint64_t *h)
{
    static uint8_t buf[4096];
    long total = 0;
    *h = 0xcbf29ce484222325ull;
    for (;;) {
        uint32_t got = 0;
        bool eof = false;
        int e = tcp_recv(s, buf, sizeof buf, &got, &eof);
        if (e)
            return -e;
        *h = fnv(*h, buf, got);
        total += got;
        if (eof)
            return total;
    }
}

static int send_pattern(uint32_t s)
{
    static uint8_t buf[CHUNK];
    for (uint32_t off = 0; off < MIB; off += CHUNK) {
        uint32_t n = MIB - off < CHUNK ? MIB - off : CHUNK;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = pat(off + i);
        int e = tcp_send(s, buf, n);
        if (e)
            return e;
    }
    return 0;
}

/* ---- server ---- */
static int server(void)
{
    uint32_t auth = rt_capset_require("listen");
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, 7, 32, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("nettest: FAIL server listen %d\n", e ? e : capos_TcpListenAuthority_listen_Results_get_error(r));
        return 1;
    }
    uint32_t lis = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    RT_BUFS(b2, 64, 256);
    e = capos_TcpListenAuthority_listen(&cl, &b2, &call, 7, 8, &r);
    printf("nettest: server second listen: error %d\n", e ? -1 : capos_TcpListenAuthority_listen_Results_get_error(r));
    e = capos_TcpListenAuthority_listen(&cl, &b2, &call, 8, 8, &r);
    printf("nettest: server other port: error %d\n", e ? -1 : capos_TcpListenAuthority_listen_Results_get_error(r));
    uint32_t pending[32];
    uint32_t npending = 0;
    for (;;) {
        RT_BUFS(ab, 64, 256);
        capnp_client lc = RT_CLIENT(lis);
        capos_TcpListener_accept_Results_reader ar;
        e = capos_TcpListener_accept(&lc, &ab, &call, &ar);
        if (e || capos_TcpListener_accept_Results_get_error(ar)) {
            printf("nettest: server accept error %d\n", e ? e : capos_TcpListener_accept_Results_get_error(ar));
            continue;
        }
        uint32_t s = ab.result_caps[capos_TcpListener_accept_Results_get_socket(ar)];
        uint8_t job[64];
        uint32_t got = 0;
        bool eof = false;
        e = tcp_recv(s, job, 1, &got, &eof);
        if (e || !got) {
            tcp_close(s, false);
            continue;
        }
        if (job[0] == 'B') {
            uint64_t h;
            long n = read_all(s, &h);
            printf("nettest: server bulk in %ld bytes, hash %s\n", n, n == MIB && h == expect_hash() ? "match" : "MISMATCH");
            e = send_pattern(s);
            printf("nettest: server bulk out error %d\n", e);
            tcp_close(s, false);
        } else if (job[0] == 'E') {
            /* echo jobs are held until all 20 are accepted: concurrency */
            if (npending < 32)
                pending[npending++] = s;
            if (npending == 20) {
                for (uint32_t i = 0; i < npending; i++) {
                    e = tcp_recv(pending[i], job, sizeof job, &got, &eof);
                    if (!e)
                        tcp_send(pending[i], job, got);
                    tcp_close(pending[i], false);
                }
                printf("nettest: server echoed 20 connections\n");
                npending = 0;
            }
        } else if (job[0] == 'R') {
            e = tcp_recv(s, job, sizeof job, &got, &eof);
            printf("nettest: server rst: error %d\n", e);
            tcp_close(s, false);
        } else {
            tcp_close(s, false);
        }
    }
}

/* ---- client ---- */
static uint32_t mgr_a, mgr_b;

static uint32_t connect_to(uint32_t mgr, uint32_t addr, uint16_t port, int *err)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mgr);
    capnp_call call;
    capos_NetworkManager_connect_Results_reader r;
    int e = capos_NetworkManager_connect(&cl, &b, &call, addr, port, &r);
    *err = e ? 100 + rt_error(e) : capos_NetworkManager_connect_Results_get_error(r);
    return *err ? ~0u : b.result_caps[capos_NetworkManager_connect_Results_get_socket(r)];
}

static uint32_t info_of(uint32_t mgr)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mgr);
    capnp_call call;
    capos_NetworkManager_info_Results_reader r;
    if (capos_NetworkManager_info(&cl, &b, &call, &r))
        return ~0u;
    return b.result_caps[capos_NetworkManager_info_Results_get_info(r)];
}

struct ctr { uint32_t socks, lis, udp, deferred; uint64_t reclaimed; };
static struct ctr counters(uint32_t info)
{
    struct ctr c = { 99, 99, 99, 99, 0 };
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(info);
    capnp_call call;
    capos_NetworkInfo_counters_Results_reader r;
    if (capos_NetworkInfo_counters(&cl, &b, &call, &r))
        return c;
    capos_NetCounters_reader n = capos_NetworkInfo_counters_Results_get_counters(r);
    c.socks = capos_NetCounters_get_tcpSockets(n);
    c.lis = capos_NetCounters_get_tcpListeners(n);
    c.udp = capos_NetCounters_get_udpSockets(n);
    c.deferred = capos_NetCounters_get_deferredCalls(n);
    c.reclaimed = capos_NetCounters_get_reclaimed(n);
    return c;
}

static uint32_t udp_bind(uint32_t mgr, uint16_t port)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mgr);
    capnp_call call;
    capos_NetworkManager_udpBind_Results_reader r;
    if (capos_NetworkManager_udpBind(&cl, &b, &call, port, &r) || capos_NetworkManager_udpBind_Results_get_error(r))
        return ~0u;
    return b.result_caps[capos_NetworkManager_udpBind_Results_get_socket(r)];
}

static void sleep_ms(uint64_t ms) { rt_timer_sleep_until(rt_timer_now() + ms * 1000000ull); }

static int client(void)
{
    mgr_a = rt_capset_require("neta");
    mgr_b = rt_capset_require("netb");
    uint32_t stats = rt_capset_require("stats");
    uint32_t info_a = info_of(mgr_a), info_b = info_of(mgr_b);
    struct rt_kernel_stats k0, k1;
    int err = 0;
    uint32_t s = ~0u;
    /* the server listens once it runs: retry a refused connect */
    for (int i = 0; i < 50 && s == ~0u; i++) {
        s = connect_to(mgr_a, SRV, 7, &err);
        if (s == ~0u)
            sleep_ms(200);
    }
    CHECK(s != ~0u, "connect to 10.0.0.2:7 (error %d)", err);
    if (s == ~0u)
        return 1;
    /* warm-up (the server closes it at once), then, once stack B holds no
     * socket, the kernel baseline */
    uint8_t e1 = 'W';
    tcp_send(s, &e1, 1);
    tcp_close(s, false);
    for (int i = 0; i < 100 && counters(info_b).socks; i++)
        sleep_ms(100);
    /* the baseline once the kernel is quiet: the same objects and cap slots
     * at two readings 100 ms apart (on two CPUs the warm-up's socket facet
     * can still be on its way out when stack B's table is already empty) */
    rt_stats(stats, &k0);
    for (int i = 0; i < 50; i++) {
        sleep_ms(100);
        rt_stats(stats, &k1);
        bool same = k1.objects == k0.objects && k1.cap_slots == k0.cap_slots;
        k0 = k1;
        if (same)
            break;
    }

    /* 1 MiB each way, half-close in between */
    s = connect_to(mgr_a, SRV, 7, &err);
    uint8_t job = 'B';
    int e = tcp_send(s, &job, 1);
    e = e ? e : send_pattern(s);
    CHECK(e == 0, "1 MiB sent (error %d)", e);
    e = tcp_shutdown(s);
    CHECK(e == 0, "half-close (shutdown write) (error %d)", e);
    uint64_t h;
    long n = read_all(s, &h);
    CHECK(n == MIB && h == expect_hash(), "1 MiB received after our half-close, hash matches (%ld bytes)", n);
    tcp_close(s, false);

    /* 20 concurrent connections: the server holds all 20 before answering */
    uint32_t cs[20];
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        cs[i] = connect_to(mgr_a, SRV, 7, &err);
        if (cs[i] == ~0u)
            continue;
        uint8_t msg[2] = { 'E', (uint8_t)('a' + i) };
        tcp_send(cs[i], msg, 2);
    }
    for (int i = 0; i < 20; i++) {
        if (cs[i] == ~0u)
            continue;
        uint8_t buf[16];
        uint32_t got = 0;
        bool eof = false;
        if (!tcp_recv(cs[i], buf, sizeof buf, &got, &eof) && got == 1 && buf[0] == 'a' + i)
            ok++;
        tcp_close(cs[i], false);
    }
    CHECK(ok == 20, "20 concurrent connections echoed (%d of 20)", ok);

    /* RST: the server's recv learns connectionReset */
    s = connect_to(mgr_a, SRV, 7, &err);
    job = 'R';
    tcp_send(s, &job, 1);
    sleep_ms(300);                            /* let the job byte be read before the RST */
    tcp_close(s, true);

    /* UDP round trip: 10.0.0.1:5000 -> 10.0.0.2:5001 -> back */
    uint32_t ua = udp_bind(mgr_a, 5000), ub = udp_bind(mgr_b, 5001);
    CHECK(ua != ~0u && ub != ~0u, "UDP bind on both stacks");
    {
        RT_BUFS(b, 256, 2048);
        capnp_client ca = RT_CLIENT(ua), cb = RT_CLIENT(ub);
        capnp_call call;
        capos_UdpSocket_sendTo_Results_reader sr;
        capos_UdpSocket_recvFrom_Results_reader rr;
        capos_UdpSocket_sendTo(&ca, &b, &call, SRV, 5001, "ping", 4, &sr);
        int e2 = capos_UdpSocket_recvFrom(&cb, &b, &call, 1500, &rr);
        capnp_data d = capos_UdpSocket_recvFrom_Results_get_data(rr);
        bool got = !e2 && d.len == 4 && !memcmp(d.ptr, "ping", 4) &&
                   capos_UdpSocket_recvFrom_Results_get_address(rr) == NET(10, 0, 0, 1) &&
                   capos_UdpSocket_recvFrom_Results_get_port(rr) == 5000;
        capos_UdpSocket_sendTo(&cb, &b, &call, NET(10, 0, 0, 1), 5000, "pong", 4, &sr);
        e2 = capos_UdpSocket_recvFrom(&ca, &b, &call, 1500, &rr);
        d = capos_UdpSocket_recvFrom_Results_get_data(rr);
        got = got && !e2 && d.len == 4 && !memcmp(d.ptr, "pong", 4);
        CHECK(got, "UDP round trip");
        capos_UdpSocket_close_Results_reader cr;
        capos_UdpSocket_close(&ca, &b, &call, &cr);
        capos_UdpSocket_close(&cb, &b, &call, &cr);
        rt_release(ua);
        rt_release(ub);
    }

    /* nothing left: stack A holds no handle, stack B only the server's listener */
    struct ctr ca = { 0 }, cb = { 0 };
    for (int i = 0; i < 100; i++) {
        ca = counters(info_a);
        cb = counters(info_b);
        if (!ca.socks && !ca.lis && !ca.udp && !ca.deferred && !cb.socks && cb.lis == 1 && !cb.udp && cb.deferred == 1)
            break;
        sleep_ms(100);
    }
    CHECK(!ca.socks && !ca.lis && !ca.udp && !ca.deferred, "stack A holds nothing (sockets %u listeners %u udp %u waiting %u)",
          ca.socks, ca.lis, ca.udp, ca.deferred);
    CHECK(!cb.socks && cb.lis == 1 && !cb.udp && cb.deferred == 1,
          "stack B holds the server's listener and its accept only (sockets %u listeners %u udp %u waiting %u)",
          cb.socks, cb.lis, cb.udp, cb.deferred);
    for (int i = 0; i < 50; i++) {
        rt_stats(stats, &k1);
        if (k1.objects == k0.objects && k1.cap_slots == k0.cap_slots)
            break;
        sleep_ms(100);
    }
    CHECK(k1.objects == k0.objects && k1.cap_slots == k0.cap_slots && k1.processes == k0.processes,
          "kernel objects %lu -> %lu, cap slots %lu -> %lu, processes %lu -> %lu", (unsigned long)k0.objects,
          (unsigned long)k1.objects, (unsigned long)k0.cap_slots, (unsigned long)k1.cap_slots,
          (unsigned long)k0.processes, (unsigned long)k1.processes);

    /* the kernel's own table: what the server holds, network-wise */
    {
        RT_BUFS(b, 64, 4096);
        capnp_client cl = RT_CLIENT(stats);
        capnp_call call;
        capos_KernelStats_processes_Results_reader r;
        int found = 0, bad = 0, auths = 0;
        if (!capos_KernelStats_processes(&cl, &b, &call, &r)) {
            capnp_list l = capos_KernelStats_processes_Results_get_list(r);
            for (uint32_t i = 0; i < l.count; i++) {
                capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
                capnp_text t = capos_ProcessCaps_get_name(p);
                if (t.len != 7 || memcmp(t.str, "nettest", 7) || p.s.data == 0)
                    continue;
                capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
                bool has_mgr = false;
                for (uint32_t j = 0; j < ifs.count; j++) {
                    uint64_t id = capnp_list_u64(ifs, j);
                    if (id == capos_NetworkManager_ID)
                        has_mgr = true;
                }
                if (has_mgr)
                    continue;                  /* that is this client */
                found++;
                for (uint32_t j = 0; j < ifs.count; j++) {
                    uint64_t id = capnp_list_u64(ifs, j);
                    if (id == capos_TcpListenAuthority_ID)
                        auths++;
                    else if (id == capos_NetworkInfo_ID || id == capos_UdpSocket_ID || id == capos_Nic_ID ||
                             id == capos_EndpointFactory_ID || rt_broad_authority(id))
                        bad++;
                }
            }
        }
        CHECK(found == 1 && auths == 1 && bad == 0,
              "the server holds one TcpListenAuthority and nothing else network-wise (found %d, authorities %d, others %d)",
              found, auths, bad);
    }
    printf(failures ? "nettest: FAILED %d\n" : "nettest: PASS\n", failures);
    return failures ? 1 : 0;
}

int main(void)
{
    const char *a = rt_capset->args;
    if (!strncmp(a, "server", 6))
        return server();
    if (!strncmp(a, "client", 6)) {
        int r = client();
        int64_t pw = rt_capset_lookup("power");
        if (pw >= 0)
            rt_power_off((uint32_t)pw, (uint32_t)r);
        return r;
    }
    printf("nettest: mode server or client\n");
    return 2;
}
