/*
 * netinfo: the guest side of test-net-guest's counter checks. Holds a
 * NetworkInfo (read-only) and a TcpListenAuthority for one port (its only
 * network authority): every connection sends one line of lib/net counter
 * names and gets back the stack's NetCounters, its config and each named
 * counter, one "name=value" a line, then "end"; the client closes first.
 * Connection states are counted without netinfo's own port.
 */
#include "rt/capos.h"

static uint32_t info;
static uint16_t own_port;

static int sock_send(uint32_t s, const char *p, uint32_t n)
{
    while (n) {
        RT_BUFS(b, 4096, 64);
        capnp_client cl = RT_CLIENT(s);
        capnp_call call;
        capos_TcpSocket_send_Results_reader r;
        if (capos_TcpSocket_send(&cl, &b, &call, (const uint8_t *)p, n > 3800 ? 3800 : n, &r) ||
            capos_TcpSocket_send_Results_get_error(r))
            return -1;
        uint32_t k = capos_TcpSocket_send_Results_get_sent(r);
        if (k > n)
            return -1;
        p += k;
        n -= k;
    }
    return 0;
}

static uint32_t add(char *out, uint32_t len, uint32_t cap, const char *name, uint64_t v)
{
    int k = fmt_snprintf(out + len, cap - len, "%s=%lu\n", name, v);
    return k > 0 && len + (uint32_t)k < cap ? len + (uint32_t)k : len;
}

static uint32_t report(char *out, uint32_t cap, char *names)
{
    uint32_t len = 0;
    {
        RT_BUFS(b, 64, 1024);
        capnp_client cl = RT_CLIENT(info);
        capnp_call call;
        capos_NetworkInfo_counters_Results_reader r;
        if (!capos_NetworkInfo_counters(&cl, &b, &call, &r)) {
            capos_NetCounters_reader c = capos_NetworkInfo_counters_Results_get_counters(r);
            len = add(out, len, cap, "rxFrames", capos_NetCounters_get_rxFrames(c));
            len = add(out, len, cap, "txFrames", capos_NetCounters_get_txFrames(c));
            len = add(out, len, cap, "txDropped", capos_NetCounters_get_txDropped(c));
            len = add(out, len, cap, "tcpSockets", capos_NetCounters_get_tcpSockets(c));
            len = add(out, len, cap, "tcpListeners", capos_NetCounters_get_tcpListeners(c));
            len = add(out, len, cap, "deferredCalls", capos_NetCounters_get_deferredCalls(c));
            len = add(out, len, cap, "connections", capos_NetCounters_get_connections(c));
            len = add(out, len, cap, "reclaimed", capos_NetCounters_get_reclaimed(c));
            len = add(out, len, cap, "tcpPassiveOpens", capos_NetCounters_get_tcpPassiveOpens(c));
            len = add(out, len, cap, "tcpRstTx", capos_NetCounters_get_tcpRstTx(c));
            len = add(out, len, cap, "tcpRstRx", capos_NetCounters_get_tcpRstRx(c));
            len = add(out, len, cap, "drops", capos_NetCounters_get_drops(c));
        }
    }
    {
        RT_BUFS(b, 64, 1024);
        capnp_client cl = RT_CLIENT(info);
        capnp_call call;
        capos_NetworkInfo_getConfig_Results_reader r;
        if (!capos_NetworkInfo_getConfig(&cl, &b, &call, &r)) {
            capos_NetConfig_reader c = capos_NetworkInfo_getConfig_Results_get_config(r);
            len = add(out, len, cap, "address", capos_NetConfig_get_address(c));
            len = add(out, len, cap, "gateway", capos_NetConfig_get_gateway(c));
            len = add(out, len, cap, "dns", capos_NetConfig_get_dns(c));
            len = add(out, len, cap, "leaseSeconds", capos_NetConfig_get_leaseSeconds(c));
        }
    }
    {
        /* connection blocks by state ("state_ESTABLISHED=3"), at most 64 listed */
        static const char *names_[] = { "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "FIN_WAIT_1",
                                        "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "SYN_SENT" };
        uint64_t count[9] = { 0 };
        RT_BUFS(b, 64, 8192);
        capnp_client cl = RT_CLIENT(info);
        capnp_call call;
        capos_NetworkInfo_connections_Results_reader r;
        if (!capos_NetworkInfo_connections(&cl, &b, &call, &r)) {
            capnp_list l = capos_NetworkInfo_connections_Results_get_list(r);
            for (uint32_t i = 0; i < l.count; i++) {
                capos_NetConnection_reader cr = capos_NetConnection_list_get(l, i);
                if (capos_NetConnection_get_localPort(cr) == own_port)
                    continue;       /* this query's own connection and its predecessors */
                capnp_text t = capos_NetConnection_get_state(cr);
                for (int k = 0; k < 9; k++)
                    if (strlen(names_[k]) == t.len && !memcmp(names_[k], t.str, t.len))
                        count[k]++;
            }
            for (int k = 0; k < 9; k++) {
                char n[40];
                fmt_snprintf(n, sizeof n, "state_%s", names_[k]);
                len = add(out, len, cap, n, count[k]);
            }
        }
    }
    for (char *p = names; *p;) {
        while (*p == ' ')
            p++;
        char *e = p;
        while (*e && *e != ' ')
            e++;
        if (e == p)
            break;
        char save = *e;
        *e = 0;
        RT_BUFS(b, 256, 256);
        capnp_client cl = RT_CLIENT(info);
        capnp_call call;
        capos_NetworkInfo_counter_Results_reader r;
        if (!capos_NetworkInfo_counter(&cl, &b, &call, p, (uint32_t)(e - p), &r) &&
            capos_NetworkInfo_counter_Results_get_known(r))
            len = add(out, len, cap, p, capos_NetworkInfo_counter_Results_get_value(r));
        *e = save;
        p = e;
    }
    return len;
}

int main(void)
{
    info = rt_capset_require("info");
    uint32_t auth = rt_capset_require("listen");
    uint16_t port = 0;
    RT_BUFS(pb, 64, 256);
    capnp_client ac = RT_CLIENT(auth);
    capnp_call call;
    capos_TcpListenAuthority_port_Results_reader pr;
    if (!capos_TcpListenAuthority_port(&ac, &pb, &call, &pr))
        port = capos_TcpListenAuthority_port_Results_get_port(pr);
    RT_BUFS(b, 64, 256);
    capos_TcpListenAuthority_listen_Results_reader r;
    int e = capos_TcpListenAuthority_listen(&ac, &b, &call, port, 4, &r);
    if (e || capos_TcpListenAuthority_listen_Results_get_error(r)) {
        printf("netinfo: listen failed\n");
        return 2;
    }
    uint32_t lis = b.result_caps[capos_TcpListenAuthority_listen_Results_get_listener(r)];
    own_port = port;
    printf("netinfo: listening on port %u\n", port);
    static char line[2048], out[8192];
    for (;;) {
        RT_BUFS(ab, 64, 256);
        capnp_client lc = RT_CLIENT(lis);
        capos_TcpListener_accept_Results_reader ar;
        e = capos_TcpListener_accept(&lc, &ab, &call, &ar);
        if (e || capos_TcpListener_accept_Results_get_error(ar))
            return 3;
        uint32_t s = ab.result_caps[capos_TcpListener_accept_Results_get_socket(ar)];
        uint32_t n = 0;
        bool done = false;
        while (!done && n < sizeof line - 1) {
            RT_BUFS(rb, 64, 4096);
            capnp_client sc = RT_CLIENT(s);
            capos_TcpSocket_recv_Results_reader rr;
            if (capos_TcpSocket_recv(&sc, &rb, &call, (uint32_t)(sizeof line - 1 - n), &rr) ||
                capos_TcpSocket_recv_Results_get_error(rr))
                break;
            capnp_data d = capos_TcpSocket_recv_Results_get_data(rr);
            for (uint32_t i = 0; i < d.len && n < sizeof line - 1; i++) {
                if (d.ptr[i] == '\n' || d.ptr[i] == '\r')
                    done = true;
                else if (!done)
                    line[n++] = (char)d.ptr[i];
            }
            if (capos_TcpSocket_recv_Results_get_eof(rr))
                break;
        }
        line[n] = 0;
        uint32_t len = report(out, sizeof out, line);
        if (len + 5 < sizeof out) {
            memcpy(out + len, "end\n", 4);
            len += 4;
        }
        /* the client closes first (its side keeps the TIME_WAIT) */
        for (bool eof = sock_send(s, out, len) != 0; !eof;) {
            RT_BUFS(rb, 64, 4096);
            capnp_client sc = RT_CLIENT(s);
            capos_TcpSocket_recv_Results_reader rr;
            eof = capos_TcpSocket_recv(&sc, &rb, &call, 1024, &rr) || capos_TcpSocket_recv_Results_get_error(rr) ||
                  capos_TcpSocket_recv_Results_get_eof(rr);
        }
        RT_BUFS(cb, 64, 64);
        capnp_client sc = RT_CLIENT(s);
        capos_TcpSocket_close_Results_reader cr;
        capos_TcpSocket_close(&sc, &cb, &call, false, &cr);
        rt_release(s);
    }
}
