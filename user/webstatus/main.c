/*
 * webstatus: a small HTTP/1.0 status page. Holds a TcpListenAuthority
 * ("listen", one port), the network stack's read-only NetworkInfo ("info"),
 * a timer and a log; nothing else. `GET /` answers a plain-text page (uptime,
 * address, the stack's counters); HEAD the same headers; any other path 404,
 * any other method 405, a malformed or oversized request 400. One
 * connection at a time; each is closed after its answer (HTTP/1.0).
 */
#include "rt/capos.h"

#define REQ_MAX 2048

static uint32_t info;

static int sock_send(uint32_t s, const char *p, uint32_t n)
{
    while (n) {
        RT_BUFS(b, 4096, 64);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_send_Results_reader r;
        uint32_t k = n > 3800 ? 3800 : n;
        if (capos_TcpSocket_send(&cl, &b, &call, p, k, &r) || capos_TcpSocket_send_Results_get_error(r))
            return -1;
        k = capos_TcpSocket_send_Results_get_sent(r);
        if (!k || k > n)
            return -1;
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

/* Read until the end of the request head (a blank line); its length, or -1. */
static int read_request(uint32_t s, char *req)
{
    uint32_t n = 0;
    while (n < REQ_MAX - 1) {
        RT_BUFS(b, 64, 4096);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_recv_Results_reader r;
        if (capos_TcpSocket_recv(&cl, &b, &call, REQ_MAX - 1 - n, &r) || capos_TcpSocket_recv_Results_get_error(r))
            return -1;
        capnp_data d = capos_TcpSocket_recv_Results_get_data(r);
        uint32_t k = d.len < REQ_MAX - 1 - n ? d.len : REQ_MAX - 1 - n;
        memcpy(req + n, d.ptr, k);
        n += k;
        req[n] = 0;
        for (uint32_t i = 0; i + 1 < n; i++)
            if (req[i] == '\n' && (req[i + 1] == '\n' || (req[i + 1] == '\r' && i + 2 < n && req[i + 2] == '\n')))
                return (int)n;
        if (capos_TcpSocket_recv_Results_get_eof(r))
            return (int)n;              /* an HTTP/0.9-style line without a blank line: judged below */
    }
    return -1;                          /* too long */
}

static int ip_str(char *o, size_t n, uint32_t ip)
{
    return fmt_snprintf(o, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static int page(char *o, size_t cap)
{
    uint64_t ms = rt_timer_now() / 1000000;
    int n = fmt_snprintf(o, cap, "capOS status\n\nuptime: %lu.%03lu s\n", ms / 1000, ms % 1000);
    RT_BUFS(b, 64, 1024);
    capnp_client cl = RT_CLIENT(info);
    capnp_call call;
    capos_NetworkInfo_getConfig_Results_reader r;
    if (!capos_NetworkInfo_getConfig(&cl, &b, &call, &r)) {
        capos_NetConfig_reader c = capos_NetworkInfo_getConfig_Results_get_config(r);
        char a[16], m[16], g[16];
        ip_str(a, sizeof a, capos_NetConfig_get_address(c));
        ip_str(m, sizeof m, capos_NetConfig_get_netmask(c));
        ip_str(g, sizeof g, capos_NetConfig_get_gateway(c));
        n += fmt_snprintf(o + n, cap - (size_t)n, "address: %s netmask %s gateway %s (%s)\n", a, m, g,
                          capos_NetConfig_get_dhcp(c) ? "DHCP" : "static");
    } else {
        n += fmt_snprintf(o + n, cap - (size_t)n, "address: unknown\n");
    }
    RT_BUFS(cb, 64, 1024);
    capnp_client cl2 = RT_CLIENT(info);
    capos_NetworkInfo_connections_Results_reader cr;
    if (!capos_NetworkInfo_connections(&cl2, &cb, &call, &cr))
        n += fmt_snprintf(o + n, cap - (size_t)n, "tcp connections: %u\n",
                          capos_NetworkInfo_connections_Results_get_list(cr).count);
    return n;
}

static void answer(uint32_t s, const char *req, int len)
{
    static char body[1024], head[256];
    const char *status = "400 Bad Request", *msg = "bad request\n";
    bool head_only = false, ok = false;
    if (len > 0) {
        const char *sp = req;
        while (*sp && *sp != ' ' && *sp != '\r' && *sp != '\n')
            sp++;
        size_t mlen = (size_t)(sp - req);
        const char *path = *sp == ' ' ? sp + 1 : 0;
        const char *pe = path;
        while (pe && *pe && *pe != ' ' && *pe != '\r' && *pe != '\n')
            pe++;
        if (!path || pe == path || *path != '/') {
            /* malformed: 400 */
        } else if (!((mlen == 3 && !memcmp(req, "GET", 3)) || (mlen == 4 && !memcmp(req, "HEAD", 4)))) {
            status = "405 Method Not Allowed";
            msg = "only GET and HEAD\n";
        } else if (!(pe - path == 1 || (pe - path == 11 && !memcmp(path, "/index.html", 11)))) {
            status = "404 Not Found";
            msg = "not found\n";
            head_only = mlen == 4;
        } else {
            status = "200 OK";
            ok = true;
            head_only = mlen == 4;
        }
    }
    int blen = ok ? page(body, sizeof body) : fmt_snprintf(body, sizeof body, "%s", msg);
    int hlen = fmt_snprintf(head, sizeof head,
                            "HTTP/1.0 %s\r\nServer: capOS webstatus\r\nContent-Type: text/plain; charset=utf-8\r\n"
                            "Content-Length: %d\r\nConnection: close\r\n\r\n", status, blen);
    if (sock_send(s, head, (uint32_t)hlen) == 0 && !head_only)
        sock_send(s, body, (uint32_t)blen);
}

int main(void)
{
    uint32_t auth = rt_capset_require("listen");
    info = rt_capset_require("info");
    RT_BUFS(pb, 64, 256);
    capnp_client pc = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_port_Results_reader pr;
    if (capos_TcpListenAuthority_port(&pc, &pb, &call, &pr)) {
        printf("webstatus: the listen authority does not answer\n");
        return 2;
    }
    uint16_t port = capos_TcpListenAuthority_port_Results_get_port(pr);
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(auth);
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&cl, &b, &call, port, 4, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("webstatus: cannot listen on port %u (%d)\n", port,
               e ? rt_error(e) : capos_TcpListenAuthority_listen_Results_get_error(r));
        return 2;
    }
    uint32_t lis = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    printf("webstatus: serving HTTP on port %u\n", port);
    static char req[REQ_MAX];
    for (;;) {
        RT_BUFS(ab, 64, 256);
        capnp_client lc = RT_CLIENT(lis);
        capos_TcpListener_accept_Results_reader ar;
        e = capos_TcpListener_accept(&lc, &ab, &call, &ar);
        if (e || capos_TcpListener_accept_Results_get_error(ar)) {
            printf("webstatus: accept failed (%d)\n", e ? rt_error(e) : capos_TcpListener_accept_Results_get_error(ar));
            return 3;
        }
        uint32_t s = ab.result_caps[capos_TcpListener_accept_Results_get_socket(ar)];
        answer(s, req, read_request(s, req));
        sock_close(s);
    }
}
