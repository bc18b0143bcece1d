/*
 * tcpecho: the guest side of test-virtio-net and others. Its roles (args):
 *   server  (backlog=N: listen's backlog, 4 if not given) holds only a TcpListenAuthority ("listen", port 7) and the
 *           console: listens, then echoes every connection's bytes back
 *           until the peer's end of stream, one connection after another.
 *   hold    like server on port 8, but it accepts one connection and then
 *           holds it and the listener for ever, no call in flight
 *           (test-net-fault kills it: the stack must reclaim both).
 *   sink    like server on port 9, but it only reads (bench: host to guest).
 *   source N  like server on port 19, but it sends N bytes and closes
 *           (bench: guest to host).
 *   audit   holds KernelStats and a timer: once the server listens, prints
 *           every process and the interfaces of the caps it holds, from
 *           the kernel's own tables ("AUTHORITY name held=N: ifaces").
 *   watch NAME  holds KernelStats and a timer: prints the line of every
 *           process named NAME once, when it is first seen under a pid,
 *           and again ("AUTHORITY-GREW") if it later holds any network or
 *           device authority (test-boot-run: the shells' caps from the
 *           kernel's tables; quiet otherwise, so the transcript stays
 *           readable).
 */
#include "rt/capos.h"
#include "../include/authority.h"

#define CHUNK 16000            /* bytes per TcpSocket call (the stack takes up to CAP_MAX_PARAMS less framing) */

static int sock_send(uint32_t s, const uint8_t *p, uint32_t n)
{
    while (n) {
        RT_BUFS(b, CHUNK + 256, 64);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_send_Results_reader r;
        int e = capos_TcpSocket_send(&cl, &b, &call, p, n > CHUNK ? CHUNK : n, &r);
        if (e)
            return 100 + rt_error(e);
        if (capos_TcpSocket_send_Results_get_error(r))
            return capos_TcpSocket_send_Results_get_error(r);
        uint32_t k = capos_TcpSocket_send_Results_get_sent(r);
        if (k > n)
            return 99;
        p += k;
        n -= k;
    }
    return 0;
}

static void sock_close(uint32_t s)
{
    RT_BUFS(b, 64, 64);
    capnp_client cl = RT_CLIENT(s);
    capnp_call call;
    capos_TcpSocket_close_Results_reader r;
    capos_TcpSocket_close(&cl, &b, &call, false, &r);
    rt_release(s);
}

/* Echo one connection to its end (sink: only read it); returns the
 * bytes read. */
static uint64_t echo(uint32_t s, bool sink)
{
    static uint8_t buf[CHUNK];
    uint64_t total = 0;
    for (;;) {
        RT_BUFS(b, 64, CHUNK + 256);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_recv_Results_reader r;
        int e = capos_TcpSocket_recv(&cl, &b, &call, CHUNK, &r);
        if (e || capos_TcpSocket_recv_Results_get_error(r)) {
            /* why the connection ended early, for the harness's detail */
            printf("tcpecho: recv failed %d\n", e ? 100 + rt_error(e) : capos_TcpSocket_recv_Results_get_error(r));
            break;
        }
        capnp_data d = capos_TcpSocket_recv_Results_get_data(r);
        uint32_t n = d.len < sizeof buf ? d.len : sizeof buf;
        memcpy(buf, d.ptr, n);
        bool eof = capos_TcpSocket_recv_Results_get_eof(r);
        int se = n && !sink ? sock_send(s, buf, n) : 0;
        if (se) {
            printf("tcpecho: send failed %d\n", se);
            break;
        }
        total += n;
        if (eof)
            break;
    }
    return total;
}

/* Send n bytes of a pattern, then close: the source role. */
static uint64_t source(uint32_t s, uint64_t n)
{
    static uint8_t buf[CHUNK];
    for (uint32_t i = 0; i < CHUNK; i++)
        buf[i] = (uint8_t)(i * 131u);
    uint64_t sent = 0;
    while (sent < n) {
        uint32_t k = n - sent < CHUNK ? (uint32_t)(n - sent) : CHUNK;
        if (sock_send(s, buf, k))
            break;
        sent += k;
    }
    return sent;
}

enum role { ROLE_ECHO, ROLE_HOLD, ROLE_SINK, ROLE_SOURCE };

/* hold: accept one connection, then hold it and the listener for ever
 * without a call in flight (test-net-fault kills it so). */
static int server(uint16_t port, uint16_t backlog, enum role role, uint64_t nbytes)
{
    uint32_t auth = rt_capset_require("listen");
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, port, backlog, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("tcpecho: listen failed %d\n", e ? e : capos_TcpListenAuthority_listen_Results_get_error(r));
        return 2;
    }
    uint32_t lis = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    printf("tcpecho: listening on port %u\n", port);
    for (;;) {
        RT_BUFS(ab, 64, 256);
        capnp_client lc = RT_CLIENT(lis);
        capos_TcpListener_accept_Results_reader ar;
        e = capos_TcpListener_accept(&lc, &ab, &call, &ar);
        if (e || capos_TcpListener_accept_Results_get_error(ar)) {
            printf("tcpecho: accept failed %d\n", e ? e : capos_TcpListener_accept_Results_get_error(ar));
            return 3;
        }
        uint32_t s = ab.result_caps[capos_TcpListener_accept_Results_get_socket(ar)];
        uint64_t n;
        switch (role) {
        case ROLE_HOLD:
            printf("tcpecho: holding a connection\n");
            for (;;) {
                struct cap_cqe c;
                rt_ring_next(&c, CAP_TIMEOUT_FOREVER);
            }
        case ROLE_SOURCE:
            n = source(s, nbytes);
            sock_close(s);
            printf("tcpecho: connection closed, %lu bytes sent\n", n);
            break;
        case ROLE_SINK:
        case ROLE_ECHO:
            n = echo(s, role == ROLE_SINK);
            sock_close(s);
            printf("tcpecho: connection closed, %lu bytes %s\n", n, role == ROLE_SINK ? "taken" : "echoed");
            break;
        }
    }
}

static bool walk(bool print)
{
    RT_BUFS(b, 64, 4096);
    uint32_t stats = rt_capset_require("stats");
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return false;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    bool listening = false;
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text n = capos_ProcessCaps_get_name(p);
        capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
        for (uint32_t k = 0; k < ifs.count; k++)
            if (capnp_list_u64(ifs, k) == capos_TcpListener_ID && n.len == 7 && !memcmp(n.str, "tcpecho", 7))
                listening = true;
        if (print) {
            char line[AUTHORITY_LINE_MAX];
            authority_line(p, false, line);
            printf("%s\n", line);
        }
    }
    return listening;
}

#define WATCH 16
static struct { uint32_t pid; bool grew; } seen[WATCH];
static const uint64_t broad[] = { capos_NetworkManager_ID, capos_TcpListenAuthority_ID, capos_TcpListener_ID,
    capos_TcpSocket_ID, capos_UdpSocket_ID, capos_Nic_ID, capos_DeviceMmio_ID, capos_DMAPool_ID,
    capos_Interrupt_ID, capos_DeviceManager_ID };
static uint32_t nseen;

static void watch_walk(const char *name)
{
    RT_BUFS(b, 64, 4096);
    uint32_t stats = rt_capset_require("stats");
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader r;
    if (capos_KernelStats_processes(&cl, &b, &call, &r))
        return;
    capnp_list l = capos_KernelStats_processes_Results_get_list(r);
    for (uint32_t i = 0; i < l.count; i++) {
        capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
        capnp_text n = capos_ProcessCaps_get_name(p);
        if (n.len != strlen(name) || memcmp(n.str, name, n.len))
            continue;
        uint32_t pid = capos_ProcessCaps_get_pid(p);
        capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
        uint32_t k = 0;
        while (k < nseen && seen[k].pid != pid)
            k++;
        bool bad = false;
        for (uint32_t x = 0; x < ifs.count; x++)
            for (uint32_t y = 0; y < sizeof broad / sizeof broad[0]; y++)
                bad |= capnp_list_u64(ifs, x) == broad[y];
        if (k < nseen && (!bad || seen[k].grew))
            continue;
        if (k == nseen) {
            if (nseen == WATCH)
                continue;
            nseen++;
            seen[k].pid = pid;
        } else {
            seen[k].grew = true;
        }
        char line[512];
        int len = fmt_snprintf(line, sizeof line, "AUTHORITY%s %s pid=%u held=%u:", seen[k].grew ? "-GREW" : "", name,
                               pid, capos_ProcessCaps_get_held(p));
        for (uint32_t x = 0; x < ifs.count && len < (int)sizeof line - 40; x++) {
            uint64_t id = capnp_list_u64(ifs, x);
            const char *in = "?";
            for (uint32_t j = 0; j < capos_INTERFACE_COUNT; j++)
                if (capos_interfaces[j].id == id)
                    in = capos_interfaces[j].name;
            len += fmt_snprintf(line + len, sizeof line - (size_t)len, " %s", in);
        }
        printf("%s\n", line);
    }
}

static int audit(void)
{
    /* bounded: the server listens within a minute or the walk is printed anyway */
    for (int i = 0; i < 600 && !walk(false); i++)
        rt_timer_sleep_until(rt_timer_now() + 100000000);
    walk(true);
    printf("AUDIT done\n");
    return 0;
}

int main(void)
{
    const char *args = rt_capset->args;
    if (!strcmp(args, "server"))
        return server(7, 4, ROLE_ECHO, 0);
    if (!strcmp(args, "hold"))
        return server(8, 1, ROLE_HOLD, 0);
    if (!strcmp(args, "sink"))
        return server(9, 4, ROLE_SINK, 0);
    if (!strncmp(args, "source ", 7)) {
        uint64_t n = 0;
        for (const char *p = args + 7; *p >= '0' && *p <= '9'; p++)
            n = n * 10 + (uint64_t)(*p - '0');
        return server(19, 4, ROLE_SOURCE, n);
    }
    if (!strncmp(args, "server backlog=", 15))   /* test-net-guest: 100 connections at once */
    {
        unsigned n = 0;
        for (const char *p = args + 15; *p >= '0' && *p <= '9'; p++)
            n = n * 10 + (unsigned)(*p - '0');
        return server(7, (uint16_t)(n ? n : 4), ROLE_ECHO, 0);
    }
    if (!strcmp(args, "audit"))
        return audit();
    if (!strncmp(args, "watch ", 6))
        for (;;) {
            watch_walk(args + 6);
            rt_timer_sleep_until(rt_timer_now() + 50000000);
        }
    printf("tcpecho: unknown role \"%s\"\n", args);
    return 3;
}
