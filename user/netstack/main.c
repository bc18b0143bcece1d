/*
 * netstack: the network-stack process. lib/net driven over a Nic cap in
 * one event loop: NRX Nic.receive calls always in flight, at most one
 * Nic.send in flight (both answered through the ring), lib/net's timers
 * from the sleep's timeout, and a RECV posted on every endpoint it serves.
 * See README.md for the exports, the arguments and the bounds.
 */
#include "rt/capos.h"
#include "net/net.h"

#define NS 1000000ull
#define NTCB 128                /* lib/net connection blocks */
#define SNDBUF 16384
#define RCVBUF 16384
#define NBIG 8                  /* receive rings of RCVBUF_BIG, lent to the connections in use */
#define RCVBUF_BIG 65536        /* the whole unscaled window (QEMU's user network offers no scaling) */
#define NSOCK 128               /* TcpSocket handles */
#define NLIS 8                  /* TcpListener handles */
#define NUDP 8                  /* UdpSocket handles */
#define UDPQ 4                  /* datagrams queued per UdpSocket */
#define UDPMAX 1472
#define DATA_MAX (CAP_MAX_PARAMS - 196) /* bytes per send/recv call (CAP_MAX_* less framing) */
#define SWAIT_MAX 4096          /* bytes a send keeps while it waits for buffer space */
#define TXQ 32                  /* frames waiting for the NIC */
#define CLOCK_EVERY 8           /* completions handled between clock reads, at most (main) */
#define NAUTH 8
#define RECV_BUF (sizeof(struct cap_recv_hdr) + CAP_MAX_PARAMS + 8 + CAP_MAX_XFER * sizeof(struct cap_result_cap))

#define NPING 4                 /* echoes waiting at once, over all IcmpEcho holders */
#define PING_RATE 10            /* echoes started in any second */
#define PING_MAX 1024           /* payload bytes */
#define PING_WAIT_MS 1000

enum { EP_MGR, EP_INFO, EP_LIS, EP_SOCK, EP_UDP, EP_ECHO, EP_AUTH0, NEP = EP_AUTH0 + NAUTH };
#define TAG_EP 0x4e45000000000000ull
#define TAG_RX 0x4e52000000000000ull
#define TAG_TX 0x4e54000000000000ull

struct waiter { bool on; uint32_t owner, call_id, arg; };

/* A handle's state, small: the loop scans them all after input, and under
 * TCG every page it touches after a switch of address space costs a TLB
 * refill (with 4 KiB of waiting send data inside, the scan touched 128
 * pages). The send data waits in sdata[], by the same index. */
struct sock {
    bool used;
    uint16_t gen;
    int32_t h;                  /* lib/net handle */
    struct waiter connect, recv, send;
    uint32_t slen;              /* bytes waiting in sdata[this] */
};
struct lis { bool used; uint16_t gen; int32_t h; int auth; struct waiter accept; };  /* auth: -1 or auths[] */
struct dgram { net_ip src; uint16_t sport; uint16_t len; uint8_t data[UDPMAX]; };
struct udp {                    /* small, as struct sock: the datagrams wait in udpq[] */
    bool used;
    uint16_t gen, port;
    uint32_t head, n;           /* queued in udpq[this] */
    struct waiter recv;
};
struct auth { uint32_t owner; uint16_t port; bool used; };
struct ping { struct waiter w; net_ip dst; uint16_t id, seq; uint64_t sent_ns, deadline_ms; };

static struct net_stack st;
static struct net_tcb tcbs[NTCB];
static struct sock socks[NSOCK];
static uint8_t sdata[NSOCK][SWAIT_MAX];   /* the head of a send that waits for buffer space */
static struct lis liss[NLIS];
static struct udp udps[NUDP];
static struct dgram udpq[NUDP][UDPQ];
static struct auth auths[NAUTH];
static struct ping pings[NPING];
static uint64_t ping_window;
static uint32_t ping_left;
static bool has_echo;
static uint32_t nauth, nic, owners[NEP];
static bool dhcp_mode;
static uint8_t mac[6];
static uint64_t c_tx_dropped, c_reclaimed, c_refused;
static struct rt_incoming in;
static uint32_t cur_owner;
static int cur_ep;

/* The clock lib/net runs on (milliseconds), read once per wake-up of the
 * event loop (see main): Timer.now is a kernel call, and the completions
 * of one wake-up are handled in far less than lib/net's 1 ms grain. */
static uint64_t clock_ms;
static void clock_read(void) { clock_ms = rt_timer_now() / NS; }
static uint64_t now_ms(void) { return clock_ms; }

/* ---- frames out: a bounded queue flushed with Nic.send ---- */
static uint8_t txq[TXQ][NET_FRAME_MAX];
static uint16_t txlen[TXQ];
static uint32_t txhead, txn;

static void io_tx(void *ctx, const uint8_t *f, size_t len)
{
    if (txn == TXQ) {
        c_tx_dropped++;         /* TCP retransmits; the NIC has not kept up */
        return;
    }
    uint32_t i = (txhead + txn++) % TXQ;
    memcpy(txq[i], f, len);
    txlen[i] = (uint16_t)len;
}

/* One Nic.send in flight at a time, answered through the ring (TAG_TX):
 * the loop never waits on the driver, so a slow or restarting driver
 * stalls only the frames, never the stack's clients. The frames in flight
 * stay at the head of the queue until the answer says how many were
 * taken; a short answer (the NIC's ring is full) is retried after a
 * millisecond, a failed one (the driver died) drops them: TCP retransmits. */
static uint8_t tx_params[CAP_MAX_PARAMS] __attribute__((aligned(8)));
static uint8_t tx_result[64] __attribute__((aligned(8)));
static uint32_t tx_inflight;          /* frames of the call in flight; 0: none */
static uint64_t tx_retry_ms;          /* after a short answer: not before then */

static void flush_tx(void)
{
    if (tx_inflight || !txn || now_ms() < tx_retry_ms)
        return;
    uint32_t n = 0, bytes = 64;
    while (n < txn && bytes + 8 + ((txlen[(txhead + n) % TXQ] + 7u) & ~7u) <= CAP_MAX_PARAMS) {
        bytes += 8 + ((txlen[(txhead + n) % TXQ] + 7u) & ~7u);
        n++;
    }
    capnp_builder b;
    capnp_builder_init(&b, tx_params, sizeof tx_params);
    capos_Nic_send_Params_builder p = capos_Nic_send_Params_init_root(&b);
    capnp_lbuilder l = capos_Nic_send_Params_init_frames(p, n);
    for (uint32_t i = 0; i < n; i++)
        capnp_lset_data(l, i, txq[(txhead + i) % TXQ], txlen[(txhead + i) % TXQ]);
    size_t len = 0;
    if (capnp_builder_finish(&b, &len))
        return;
    struct cap_sqe sq = { .opcode = CAP_OP_CALL, .cap_id = nic, .interface_id = capos_Nic_ID,
                          .method_id = capos_Nic_METHOD_send, .addr = (uint64_t)tx_params, .len = (uint32_t)len,
                          .result_addr = (uint64_t)tx_result, .result_len = sizeof tx_result };
    rt_ring_submit_tagged(&sq, TAG_TX);
    tx_inflight = n;
}

static void got_tx(const struct cap_cqe *c)
{
    uint32_t n = tx_inflight, sent = n;
    tx_inflight = 0;
    capnp_msg m;
    if (c->result < 0 || capnp_msg_init(&m, tx_result, (size_t)c->result)) {
        c_tx_dropped += n;                  /* the driver is gone: TCP retransmits */
    } else {
        sent = capos_Nic_send_Results_get_sent(capos_Nic_send_Results_read_root(&m));
        if (sent > n)
            sent = n;
        if (sent < n)
            tx_retry_ms = now_ms() + 1;
    }
    txhead = (txhead + sent) % TXQ;
    txn -= sent;
}

static void io_random(void *ctx, uint8_t *out, size_t len)
{
    extern long getrandom(void *buf, size_t len, unsigned flags);
    getrandom(out, len, 0);
}

/* The lease is announced on the console: the one line that tells where
 * this stack is reachable. */
static bool pump_due;

static void io_event(void *ctx, enum net_event ev, int32_t handle)
{
    if (ev != NET_EV_DHCP_BOUND) {
        pump_due = true;                /* a waiting call may be answerable */
        return;
    }
    printf("netstack: dhcp lease %u.%u.%u.%u mask %u.%u.%u.%u gw %u.%u.%u.%u for %u s\n", st.ip >> 24,
           (st.ip >> 16) & 255, (st.ip >> 8) & 255, st.ip & 255, st.netmask >> 24, (st.netmask >> 16) & 255,
           (st.netmask >> 8) & 255, st.netmask & 255, st.gateway >> 24, (st.gateway >> 16) & 255,
           (st.gateway >> 8) & 255, st.gateway & 255, st.dhcp.lease_s);
}

static void io_udp_rx(void *ctx, uint16_t dport, net_ip src, uint16_t sport, const uint8_t *data, size_t len)
{
    for (int i = 0; i < NUDP; i++) {
        struct udp *u = &udps[i];
        if (!u->used || u->port != dport || len > UDPMAX)
            continue;
        if (u->n == UDPQ) {             /* the oldest makes way */
            u->head = (u->head + 1) % UDPQ;
            u->n--;
        }
        pump_due = true;
        struct dgram *d = &udpq[u - udps][(u->head + u->n++) % UDPQ];
        d->src = src;
        d->sport = sport;
        d->len = (uint16_t)len;
        memcpy(d->data, data, len);
        return;
    }
}

static void io_echo_reply(void *ctx, net_ip src, uint16_t id, uint16_t seq, size_t len);

/* ---- errors ---- */
static uint16_t neterr(long e)
{
    switch (e) {
    case NET_E_INVAL: return capos_NetError_badArgument;
    case NET_E_NOMEM: return capos_NetError_noResources;
    case NET_E_CONNRESET: return capos_NetError_connectionReset;
    case NET_E_CONNREFUSED: return capos_NetError_connectionRefused;
    case NET_E_TIMEDOUT: return capos_NetError_timedOut;
    case NET_E_NOTCONN: return capos_NetError_notConnected;
    case NET_E_PIPE: return capos_NetError_closed;
    case NET_E_ADDRINUSE: return capos_NetError_portInUse;
    case NET_E_NOROUTE: return capos_NetError_noRoute;
    default: return capos_NetError_closed;
    }
}

static uint16_t refuse(uint16_t e)
{
    c_refused++;
    return e;
}

/* ---- handles: badge = generation << 16 | slot ---- */
static uint64_t badge(uint16_t gen, int slot) { return (uint64_t)gen << 16 | (uint32_t)slot; }

static struct sock *sock_of(uint64_t b)
{
    uint32_t s = b & 0xffff;
    return s < NSOCK && socks[s].used && socks[s].gen == (uint16_t)(b >> 16) ? &socks[s] : 0;
}
static struct lis *lis_of(uint64_t b)
{
    uint32_t s = b & 0xffff;
    return s < NLIS && liss[s].used && liss[s].gen == (uint16_t)(b >> 16) ? &liss[s] : 0;
}
static struct udp *udp_of(uint64_t b)
{
    uint32_t s = b & 0xffff;
    return s < NUDP && udps[s].used && udps[s].gen == (uint16_t)(b >> 16) ? &udps[s] : 0;
}

/* A deferred call's answer; false when its caller is gone (the RETURN
 * learns DISCONNECTED): then what the caller held is reclaimed. */
static uint8_t reply_buf[CAP_MAX_RESULT] __attribute__((aligned(8)));
static uint32_t reply_caps[CAP_MAX_XFER];

static bool finish(struct waiter *w, capnp_builder *b)
{
    size_t len = 0;
    w->on = false;
    if (capnp_builder_finish(b, &len))
        return rt_return(w->owner, w->call_id, 0, 0, 0, 0, true) != CAP_ERR_DISCONNECTED;
    struct cap_xfer x[CAP_MAX_XFER];
    for (uint32_t i = 0; i < b->ncaps; i++)
        x[i] = (struct cap_xfer){ reply_caps[i], CAP_XFER_MOVE };
    int r = rt_return(w->owner, w->call_id, reply_buf, (uint32_t)len, x, b->ncaps, false);
    if (r == CAP_ERR_DISCONNECTED) {
        for (uint32_t i = 0; i < b->ncaps; i++)
            rt_release(reply_caps[i]);
        return false;
    }
    return true;
}

static void start_reply(capnp_builder *b)
{
    capnp_builder_init(b, reply_buf, sizeof reply_buf);
    capnp_builder_set_caps(b, reply_caps, CAP_MAX_XFER);
}

static void defer(struct waiter *w, uint32_t arg)
{
    w->on = true;
    w->owner = cur_owner;
    w->call_id = in.hdr->call_id;
    w->arg = arg;
    in.deferred = true;
}

static void cancel(struct waiter *w, uint16_t err);

static void sock_free(struct sock *s, bool abort)
{
    if (s->h > 0 && abort)
        net_tcp_abort(&st, now_ms(), s->h);
    else if (s->h > 0)
        net_tcp_close(&st, now_ms(), s->h);
    s->h = 0;
    cancel(&s->recv, capos_NetError_closed);
    cancel(&s->send, capos_NetError_closed);
    cancel(&s->connect, capos_NetError_closed);
    s->used = false;
    s->gen++;
}

static void lis_free(struct lis *l)
{
    if (l->h > 0)
        net_tcp_listener_close(&st, l->h);
    l->h = 0;
    cancel(&l->accept, capos_NetError_closed);
    if (l->auth >= 0)
        auths[l->auth].used = false;        /* the authority may make another */
    l->auth = -1;
    l->used = false;
    l->gen++;
}

static void udp_free(struct udp *u)
{
    for (int i = 0; i < NET_UDP_PORTS; i++)     /* lib/net has no unbind: free the port's entry */
        if (st.udp_ports[i] == u->port)
            st.udp_ports[i] = 0;
    cancel(&u->recv, capos_NetError_closed);
    u->used = false;
    u->gen++;
    u->n = 0;
}

/* ---- try to answer a waiting call; *gone when its caller died ---- */
static bool try_recv(struct sock *s, struct waiter *w, capos_TcpSocket_recv_Results_builder r)
{
    static uint8_t buf[DATA_MAX];
    uint32_t max = w->arg < DATA_MAX ? w->arg : DATA_MAX;
    long n = net_tcp_recv(&st, now_ms(), s->h, buf, max ? max : 1);
    if (n == NET_E_AGAIN)
        return false;
    if (n > 0)
        capos_TcpSocket_recv_Results_set_data(r, buf, (size_t)n);
    else if (n == 0)
        capos_TcpSocket_recv_Results_set_eof(r, true);
    else
        capos_TcpSocket_recv_Results_set_error(r, refuse(neterr(n)));
    return true;
}

static bool try_send(struct sock *s, const uint8_t *data, uint32_t len, capos_TcpSocket_send_Results_builder r)
{
    long n = net_tcp_send(&st, now_ms(), s->h, data, len);
    if (n == NET_E_AGAIN || n == 0)
        return false;
    if (n > 0)
        capos_TcpSocket_send_Results_set_sent(r, (uint32_t)n);
    else
        capos_TcpSocket_send_Results_set_error(r, refuse(neterr(n)));
    return true;
}

static int sock_new(int32_t h)
{
    for (int i = 0; i < NSOCK; i++)
        if (!socks[i].used) {
            struct sock *s = &socks[i];
            s->used = true;
            s->gen = s->gen ? s->gen : 1;
            s->h = h;
            s->recv.on = s->send.on = s->connect.on = false;
            return i;
        }
    return -1;
}

/* A facet of endpoint `ep` for handle `slot`: added to the result b. Its
 * release notice (released() below) frees the handle once nobody holds it. */
static bool hand_out(capnp_sbuilder rs, int ep, uint16_t gen, int slot, uint32_t *idx)
{
    int64_t f = rt_endpoint_facet_notify(owners[ep], badge(gen, slot));
    if (f < 0)
        return false;
    *idx = capnp_add_cap(rs, (uint32_t)f);
    return true;
}

static bool try_accept(struct lis *l, capos_TcpListener_accept_Results_builder r)
{
    int32_t h = net_tcp_accept(&st, l->h);
    if (h == NET_E_AGAIN)
        return false;
    if (h < 0) {
        capos_TcpListener_accept_Results_set_error(r, refuse(neterr(h)));
        return true;
    }
    int s = sock_new(h);
    uint32_t idx;
    if (s < 0 || !hand_out(r.s, EP_SOCK, socks[s].gen, s, &idx)) {
        net_tcp_abort(&st, now_ms(), h);
        if (s >= 0)
            socks[s].h = 0, sock_free(&socks[s], true);
        capos_TcpListener_accept_Results_set_error(r, refuse(capos_NetError_noResources));
        return true;
    }
    capos_TcpListener_accept_Results_set_socket(r, idx);
    return true;
}

static bool try_udp_recv(struct udp *u, capos_UdpSocket_recvFrom_Results_builder r)
{
    if (!u->n)
        return false;
    struct dgram *d = &udpq[u - udps][u->head];
    u->head = (u->head + 1) % UDPQ;
    u->n--;
    capos_UdpSocket_recvFrom_Results_set_address(r, d->src);
    capos_UdpSocket_recvFrom_Results_set_port(r, d->sport);
    capos_UdpSocket_recvFrom_Results_set_data(r, d->data, d->len < DATA_MAX ? d->len : DATA_MAX);
    return true;
}

/* Answer a waiter with just an error (the handle is going away). */
static void cancel(struct waiter *w, uint16_t err)
{
    if (!w->on)
        return;
    capnp_builder b;
    start_reply(&b);
    /* every deferred result struct has its NetError at the same place? no:
     * fail the call instead, the handle is gone */
    (void)err;
    w->on = false;
    rt_return(w->owner, w->call_id, 0, 0, 0, 0, true);
}

/* Answer every waiting call that can be answered now. */
/* Answer the waiting calls that can be answered now. A pass looks at every
 * handle, so it runs only when lib/net reported an event (or a datagram
 * came) since the last pass, and otherwise once a millisecond (a ping's
 * deadline; and whatever no event reports). */
static uint64_t pump_ms = ~0ull;

static void pump(void)
{
    if (!pump_due && now_ms() == pump_ms)
        return;
    pump_due = false;
    pump_ms = now_ms();
    capnp_builder b;
    for (int i = 0; i < NSOCK; i++) {
        struct sock *s = &socks[i];
        if (!s->used)
            continue;
        if (s->connect.on) {
            int c = net_tcp_connected(&st, s->h);
            if (c != 0) {
                start_reply(&b);
                capos_NetworkManager_connect_Results_builder r = capos_NetworkManager_connect_Results_init_root(&b);
                uint32_t idx;
                bool ok = c > 0 && hand_out(r.s, EP_SOCK, s->gen, i, &idx);
                if (ok)
                    capos_NetworkManager_connect_Results_set_socket(r, idx);
                else
                    capos_NetworkManager_connect_Results_set_error(r, refuse(c < 0 ? neterr(c) : capos_NetError_noResources));
                if (!finish(&s->connect, &b) || !ok) {
                    if (ok)
                        c_reclaimed++;
                    sock_free(s, true);
                    continue;
                }
            }
        }
        if (s->recv.on) {
            start_reply(&b);
            capos_TcpSocket_recv_Results_builder r = capos_TcpSocket_recv_Results_init_root(&b);
            if (try_recv(s, &s->recv, r) && !finish(&s->recv, &b)) {
                c_reclaimed++;
                sock_free(s, true);
                continue;
            }
        }
        if (s->send.on) {
            start_reply(&b);
            capos_TcpSocket_send_Results_builder r = capos_TcpSocket_send_Results_init_root(&b);
            if (try_send(s, sdata[i], s->slen, r) && !finish(&s->send, &b)) {
                c_reclaimed++;
                sock_free(s, true);
                continue;
            }
        }
    }
    for (int i = 0; i < NLIS; i++) {
        struct lis *l = &liss[i];
        if (!l->used || !l->accept.on)
            continue;
        start_reply(&b);
        capos_TcpListener_accept_Results_builder r = capos_TcpListener_accept_Results_init_root(&b);
        if (try_accept(l, r) && !finish(&l->accept, &b)) {
            c_reclaimed++;
            lis_free(l);
        }
    }
    for (int i = 0; i < NPING; i++) {
        struct ping *p = &pings[i];
        if (!p->w.on || now_ms() < p->deadline_ms)
            continue;
        start_reply(&b);
        capos_IcmpEcho_echo_Results_init_root(&b);      /* answered false: no reply in time */
        finish(&p->w, &b);
    }
    for (int i = 0; i < NUDP; i++) {
        struct udp *u = &udps[i];
        if (!u->used || !u->recv.on)
            continue;
        start_reply(&b);
        capos_UdpSocket_recvFrom_Results_builder r = capos_UdpSocket_recvFrom_Results_init_root(&b);
        if (try_udp_recv(u, r) && !finish(&u->recv, &b)) {
            c_reclaimed++;
            udp_free(u);
        }
    }
}

/* ---- NetworkManager and NetworkInfo ---- */
static void fill_config(capos_NetConfig_builder c)
{
    capos_NetConfig_set_dhcp(c, dhcp_mode);
    capos_NetConfig_set_address(c, st.ip);
    capos_NetConfig_set_netmask(c, st.netmask);
    capos_NetConfig_set_gateway(c, st.gateway);
    capos_NetConfig_set_dns(c, st.dns);
    capos_NetConfig_set_leaseSeconds(c, dhcp_mode ? st.dhcp.lease_s : 0);
    capos_NetConfig_set_bound(c, st.ip != 0);
    capos_NetConfig_set_mac(c, mac, 6);
}

static int m_getconfig(void *self, capos_NetworkManager_getConfig_Params_reader p,
                       capos_NetworkManager_getConfig_Results_builder r)
{
    fill_config(capos_NetworkManager_getConfig_Results_init_config(r));
    return CAPNP_OK;
}

static int m_configure(void *self, capos_NetworkManager_configure_Params_reader p,
                       capos_NetworkManager_configure_Results_builder r)
{
    if (capos_NetworkManager_configure_Params_get_dhcp(p)) {
        dhcp_mode = true;
        st.ip = st.netmask = st.gateway = 0;
        net_dhcp_start(&st, now_ms());
        return CAPNP_OK;
    }
    uint32_t a = capos_NetworkManager_configure_Params_get_address(p);
    uint32_t m = capos_NetworkManager_configure_Params_get_netmask(p);
    if (!a || !m) {
        capos_NetworkManager_configure_Results_set_error(r, refuse(capos_NetError_badArgument));
        return CAPNP_OK;
    }
    dhcp_mode = false;
    st.dhcp.state = 0;
    st.ip = a;
    st.netmask = m;
    st.gateway = capos_NetworkManager_configure_Params_get_gateway(p);
    return CAPNP_OK;
}

static int m_connect(void *self, capos_NetworkManager_connect_Params_reader p,
                     capos_NetworkManager_connect_Results_builder r)
{
    if (!st.ip) {
        capos_NetworkManager_connect_Results_set_error(r, refuse(capos_NetError_notConfigured));
        return CAPNP_OK;
    }
    uint16_t port = capos_NetworkManager_connect_Params_get_port(p);
    if (!port) {
        capos_NetworkManager_connect_Results_set_error(r, refuse(capos_NetError_badArgument));
        return CAPNP_OK;
    }
    int s = sock_new(0);
    if (s < 0) {
        capos_NetworkManager_connect_Results_set_error(r, refuse(capos_NetError_noResources));
        return CAPNP_OK;
    }
    int32_t h = net_tcp_connect(&st, now_ms(), capos_NetworkManager_connect_Params_get_address(p), port);
    if (h < 0) {
        sock_free(&socks[s], true);
        capos_NetworkManager_connect_Results_set_error(r, refuse(neterr(h)));
        return CAPNP_OK;
    }
    socks[s].h = h;
    defer(&socks[s].connect, 0);
    return CAPNP_OK;
}

/* A listener on port; auth: the TcpListenAuthority that made it (its one
 * listener at a time), or -1. */
static int do_listen(uint16_t port, uint16_t backlog, int auth, capnp_sbuilder rs, uint32_t *idx)
{
    int i;
    for (i = 0; i < NLIS && liss[i].used; i++)
        ;
    if (i == NLIS)
        return capos_NetError_noResources;
    int32_t h = net_tcp_listen(&st, port, backlog ? backlog : 8);
    if (h < 0)
        return neterr(h);
    struct lis *l = &liss[i];
    l->used = true;
    l->gen = l->gen ? l->gen : 1;
    l->h = h;
    l->auth = auth;
    l->accept.on = false;
    if (auth >= 0)
        auths[auth].used = true;
    if (!hand_out(rs, EP_LIS, l->gen, i, idx)) {
        lis_free(l);
        return capos_NetError_noResources;
    }
    return capos_NetError_none;
}

static int m_listen(void *self, capos_NetworkManager_listen_Params_reader p,
                    capos_NetworkManager_listen_Results_builder r)
{
    uint16_t port = capos_NetworkManager_listen_Params_get_port(p);
    uint32_t idx;
    int e = port ? do_listen(port, capos_NetworkManager_listen_Params_get_backlog(p), -1, r.s, &idx)
                 : capos_NetError_badArgument;
    if (e)
        capos_NetworkManager_listen_Results_set_error(r, refuse((uint16_t)e));
    else
        capos_NetworkManager_listen_Results_set_listener(r, idx);
    return CAPNP_OK;
}

static int m_udpbind(void *self, capos_NetworkManager_udpBind_Params_reader p,
                     capos_NetworkManager_udpBind_Results_builder r)
{
    uint16_t port = capos_NetworkManager_udpBind_Params_get_port(p);
    int i;
    for (i = 0; i < NUDP && udps[i].used; i++)
        ;
    int e = 0;
    if (!port)
        e = capos_NetError_badArgument;
    else if (i == NUDP)
        e = capos_NetError_noResources;
    else {
        for (int j = 0; j < NUDP; j++)
            if (udps[j].used && udps[j].port == port)
                e = capos_NetError_portInUse;
        if (!e && net_udp_bind(&st, port) < 0)
            e = capos_NetError_noResources;
    }
    uint32_t idx;
    if (!e) {
        struct udp *u = &udps[i];
        u->used = true;
        u->gen = u->gen ? u->gen : 1;
        u->port = port;
        u->n = u->head = 0;
        u->recv.on = false;
        if (!hand_out(r.s, EP_UDP, u->gen, i, &idx)) {
            udp_free(u);
            e = capos_NetError_noResources;
        }
    }
    if (e)
        capos_NetworkManager_udpBind_Results_set_error(r, refuse((uint16_t)e));
    else
        capos_NetworkManager_udpBind_Results_set_socket(r, idx);
    return CAPNP_OK;
}

static int m_info(void *self, capos_NetworkManager_info_Params_reader p, capos_NetworkManager_info_Results_builder r)
{
    int64_t f = rt_endpoint_facet(owners[EP_INFO], 0);
    if (f < 0)
        return (int)f;
    capos_NetworkManager_info_Results_set_info(r, capnp_add_cap(r.s, (uint32_t)f));
    return CAPNP_OK;
}

static int i_getconfig(void *self, capos_NetworkInfo_getConfig_Params_reader p, capos_NetworkInfo_getConfig_Results_builder r)
{
    fill_config(capos_NetworkInfo_getConfig_Results_init_config(r));
    return CAPNP_OK;
}

static int i_counters(void *self, capos_NetworkInfo_counters_Params_reader p, capos_NetworkInfo_counters_Results_builder r)
{
    capos_NetCounters_builder c = capos_NetworkInfo_counters_Results_init_counters(r);
    uint32_t ns = 0, nl = 0, nu = 0, nd = 0, nc = 0;
    for (int i = 0; i < NSOCK; i++)
        if (socks[i].used)
            ns++, nd += socks[i].recv.on + socks[i].send.on + socks[i].connect.on;
    for (int i = 0; i < NLIS; i++)
        if (liss[i].used)
            nl++, nd += liss[i].accept.on;
    for (int i = 0; i < NUDP; i++)
        if (udps[i].used)
            nu++, nd += udps[i].recv.on;
    for (uint32_t i = 0; i < NTCB; i++)
        if (tcbs[i].state != NET_TCP_CLOSED && tcbs[i].state != NET_TCP_LISTEN)
            nc++;
    uint64_t drops = 0;
    for (int i = 0; i < NET_C_COUNT; i++)
        if (!strncmp(net_counter_name((enum net_counter)i), "drop_", 5))
            drops += st.counters[i];
    capos_NetCounters_set_rxFrames(c, st.counters[NET_C_rx_frames]);
    capos_NetCounters_set_txFrames(c, st.counters[NET_C_tx_frames]);
    capos_NetCounters_set_txDropped(c, c_tx_dropped);
    capos_NetCounters_set_tcpSockets(c, ns);
    capos_NetCounters_set_tcpListeners(c, nl);
    capos_NetCounters_set_udpSockets(c, nu);
    capos_NetCounters_set_deferredCalls(c, nd);
    capos_NetCounters_set_connections(c, nc);
    capos_NetCounters_set_reclaimed(c, c_reclaimed);
    capos_NetCounters_set_tcpActiveOpens(c, st.counters[NET_C_tcp_active_opens]);
    capos_NetCounters_set_tcpPassiveOpens(c, st.counters[NET_C_tcp_passive_opens]);
    capos_NetCounters_set_tcpRetransmits(c, st.counters[NET_C_tcp_retransmits]);
    capos_NetCounters_set_tcpRstTx(c, st.counters[NET_C_tcp_rst_tx]);
    capos_NetCounters_set_tcpRstRx(c, st.counters[NET_C_tcp_rst_rx]);
    capos_NetCounters_set_udpRx(c, st.counters[NET_C_udp_rx]);
    capos_NetCounters_set_udpTx(c, st.counters[NET_C_udp_tx]);
    capos_NetCounters_set_drops(c, drops);
    capos_NetCounters_set_refused(c, c_refused);
    return CAPNP_OK;
}

static int i_connections(void *self, capos_NetworkInfo_connections_Params_reader p,
                         capos_NetworkInfo_connections_Results_builder r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < NTCB; i++)
        if (tcbs[i].state != NET_TCP_CLOSED && tcbs[i].state != NET_TCP_LISTEN)
            n++;
    if (n > 64)                 /* the schema's bound (one reply) */
        n = 64;
    capnp_lbuilder l = capos_NetworkInfo_connections_Results_init_list(r, n);
    uint32_t k = 0;
    for (uint32_t i = 0; i < NTCB && k < n; i++) {
        struct net_tcb *t = &tcbs[i];
        if (t->state == NET_TCP_CLOSED || t->state == NET_TCP_LISTEN)
            continue;
        capos_NetConnection_builder c = capos_NetConnection_list_at(l, k++);
        capos_NetConnection_set_localPort(c, t->lport);
        capos_NetConnection_set_remoteAddress(c, t->rip);
        capos_NetConnection_set_remotePort(c, t->rport);
        const char *sn = net_tcp_state_name((enum net_tcp_state)t->state);
        capos_NetConnection_set_state(c, sn, strlen(sn));
        capos_NetConnection_set_held(c, t->user_owned);
        capos_NetConnection_set_sendQueued(c, t->slen);
        capos_NetConnection_set_recvQueued(c, t->rlen);
    }
    return CAPNP_OK;
}

/* ---- TcpListenAuthority: one port, one listener ---- */
static int a_listen(void *self, capos_TcpListenAuthority_listen_Params_reader p,
                    capos_TcpListenAuthority_listen_Results_builder r)
{
    struct auth *a = &auths[cur_ep - EP_AUTH0];
    uint16_t port = capos_TcpListenAuthority_listen_Params_get_port(p);
    uint32_t idx;
    int e;
    if (port != a->port)
        e = capos_NetError_portNotGranted;
    else if (a->used)
        e = capos_NetError_authorityUsed;
    else
        e = do_listen(port, capos_TcpListenAuthority_listen_Params_get_backlog(p), cur_ep - EP_AUTH0, r.s, &idx);
    if (e)
        capos_TcpListenAuthority_listen_Results_set_error(r, refuse((uint16_t)e));
    else
        capos_TcpListenAuthority_listen_Results_set_listener(r, idx);
    return CAPNP_OK;
}

static int a_port(void *self, capos_TcpListenAuthority_port_Params_reader p, capos_TcpListenAuthority_port_Results_builder r)
{
    struct auth *a = &auths[cur_ep - EP_AUTH0];
    capos_TcpListenAuthority_port_Results_set_port(r, a->port);
    capos_TcpListenAuthority_port_Results_set_used(r, a->used);
    return CAPNP_OK;
}

/* ---- TcpListener, TcpSocket, UdpSocket ---- */
static int l_accept(void *self, capos_TcpListener_accept_Params_reader p, capos_TcpListener_accept_Results_builder r)
{
    struct lis *l = lis_of(in.hdr->badge);
    if (!l)
        capos_TcpListener_accept_Results_set_error(r, refuse(capos_NetError_closed));
    else if (l->accept.on)
        capos_TcpListener_accept_Results_set_error(r, refuse(capos_NetError_busy));
    else if (!try_accept(l, r))
        defer(&l->accept, 0);
    return CAPNP_OK;
}

static int l_close(void *self, capos_TcpListener_close_Params_reader p, capos_TcpListener_close_Results_builder r)
{
    struct lis *l = lis_of(in.hdr->badge);
    if (l)
        lis_free(l);
    return CAPNP_OK;
}

static int s_send(void *self, capos_TcpSocket_send_Params_reader p, capos_TcpSocket_send_Results_builder r)
{
    struct sock *s = sock_of(in.hdr->badge);
    capnp_data d = capos_TcpSocket_send_Params_get_data(p);
    if (!s || s->connect.on)
        capos_TcpSocket_send_Results_set_error(r, refuse(capos_NetError_closed));
    else if (s->send.on)
        capos_TcpSocket_send_Results_set_error(r, refuse(capos_NetError_busy));
    else if (!d.len || d.len > DATA_MAX)
        capos_TcpSocket_send_Results_set_error(r, refuse(capos_NetError_badArgument));
    else if (!try_send(s, d.ptr, d.len, r)) {
        /* a send waits with its first SWAIT_MAX bytes at most: its answer
         * says how many went, and the caller sends the rest again */
        s->slen = d.len < SWAIT_MAX ? d.len : SWAIT_MAX;
        memcpy(sdata[s - socks], d.ptr, s->slen);
        defer(&s->send, 0);
    }
    return CAPNP_OK;
}

static int s_recv(void *self, capos_TcpSocket_recv_Params_reader p, capos_TcpSocket_recv_Results_builder r)
{
    struct sock *s = sock_of(in.hdr->badge);
    if (!s || s->connect.on)
        capos_TcpSocket_recv_Results_set_error(r, refuse(capos_NetError_closed));
    else if (s->recv.on)
        capos_TcpSocket_recv_Results_set_error(r, refuse(capos_NetError_busy));
    else {
        struct waiter w = { .arg = capos_TcpSocket_recv_Params_get_maxBytes(p) };
        if (!try_recv(s, &w, r))
            defer(&s->recv, w.arg);
    }
    return CAPNP_OK;
}

static int s_shutdown(void *self, capos_TcpSocket_shutdown_Params_reader p, capos_TcpSocket_shutdown_Results_builder r)
{
    struct sock *s = sock_of(in.hdr->badge);
    int e = s ? net_tcp_shutdown(&st, now_ms(), s->h, capos_TcpSocket_shutdown_Params_get_read(p),
                                 capos_TcpSocket_shutdown_Params_get_write(p))
              : NET_E_PIPE;
    if (e < 0)
        capos_TcpSocket_shutdown_Results_set_error(r, refuse(neterr(e)));
    return CAPNP_OK;
}

static int s_close(void *self, capos_TcpSocket_close_Params_reader p, capos_TcpSocket_close_Results_builder r)
{
    struct sock *s = sock_of(in.hdr->badge);
    if (!s)
        capos_TcpSocket_close_Results_set_error(r, refuse(capos_NetError_closed));
    else
        sock_free(s, capos_TcpSocket_close_Params_get_abort(p));
    return CAPNP_OK;
}

static int s_peer(void *self, capos_TcpSocket_peer_Params_reader p, capos_TcpSocket_peer_Results_builder r)
{
    struct sock *s = sock_of(in.hdr->badge);
    net_ip ip = 0;
    uint16_t port = 0, lport = 0;
    if (s)
        net_tcp_peer(&st, s->h, &ip, &port, &lport);
    capos_TcpSocket_peer_Results_set_address(r, ip);
    capos_TcpSocket_peer_Results_set_port(r, port);
    capos_TcpSocket_peer_Results_set_localPort(r, lport);
    return CAPNP_OK;
}

static int u_sendto(void *self, capos_UdpSocket_sendTo_Params_reader p, capos_UdpSocket_sendTo_Results_builder r)
{
    struct udp *u = udp_of(in.hdr->badge);
    capnp_data d = capos_UdpSocket_sendTo_Params_get_data(p);
    int e = !u ? NET_E_PIPE : d.len > UDPMAX ? NET_E_INVAL
          : net_udp_send(&st, now_ms(), u->port, capos_UdpSocket_sendTo_Params_get_address(p),
                         capos_UdpSocket_sendTo_Params_get_port(p), d.ptr, d.len);
    if (e < 0)
        capos_UdpSocket_sendTo_Results_set_error(r, refuse(neterr(e)));
    return CAPNP_OK;
}

static int u_recvfrom(void *self, capos_UdpSocket_recvFrom_Params_reader p, capos_UdpSocket_recvFrom_Results_builder r)
{
    struct udp *u = udp_of(in.hdr->badge);
    if (!u)
        capos_UdpSocket_recvFrom_Results_set_error(r, refuse(capos_NetError_closed));
    else if (u->recv.on)
        capos_UdpSocket_recvFrom_Results_set_error(r, refuse(capos_NetError_busy));
    else if (!try_udp_recv(u, r))
        defer(&u->recv, 0);
    return CAPNP_OK;
}

static int u_close(void *self, capos_UdpSocket_close_Params_reader p, capos_UdpSocket_close_Results_builder r)
{
    struct udp *u = udp_of(in.hdr->badge);
    if (u)
        udp_free(u);
    return CAPNP_OK;
}

static const capos_NetworkManager_server mgr_srv = { m_getconfig, m_configure, m_connect, m_listen, m_udpbind, m_info };
static int i_counter(void *self, capos_NetworkInfo_counter_Params_reader p, capos_NetworkInfo_counter_Results_builder r)
{
    capnp_text n = capos_NetworkInfo_counter_Params_get_name(p);
    for (int i = 0; i < NET_C_COUNT; i++) {
        const char *cn = net_counter_name((enum net_counter)i);
        if (strlen(cn) == n.len && !memcmp(cn, n.str, n.len)) {
            capos_NetworkInfo_counter_Results_set_value(r, st.counters[i]);
            capos_NetworkInfo_counter_Results_set_known(r, true);
            break;
        }
    }
    return CAPNP_OK;
}

/* ---- IcmpEcho: one echo request, its reply or a timeout ---- */
static void io_echo_reply(void *ctx, net_ip src, uint16_t id, uint16_t seq, size_t len)
{
    for (int i = 0; i < NPING; i++) {
        struct ping *p = &pings[i];
        if (!p->w.on || p->dst != src || p->id != id || p->seq != seq)
            continue;
        capnp_builder b;
        start_reply(&b);
        capos_IcmpEcho_echo_Results_builder r = capos_IcmpEcho_echo_Results_init_root(&b);
        capos_IcmpEcho_echo_Results_set_answered(r, true);
        uint64_t us = (rt_timer_now() - p->sent_ns) / 1000;
        capos_IcmpEcho_echo_Results_set_rttMicros(r, us > 0xffffffffu ? 0xffffffffu : (uint32_t)us);
        finish(&p->w, &b);      /* a caller gone: nothing to reclaim */
        return;
    }
}

static int e_echo(void *self, capos_IcmpEcho_echo_Params_reader p, capos_IcmpEcho_echo_Results_builder r)
{
    static uint8_t payload[PING_MAX];
    uint16_t size = capos_IcmpEcho_echo_Params_get_size(p);
    net_ip dst = capos_IcmpEcho_echo_Params_get_address(p);
    uint64_t now = now_ms();
    if (!ping_window || now - ping_window >= 1000) {
        ping_window = now;
        ping_left = PING_RATE;
    }
    struct ping *slot = 0;
    for (int i = 0; i < NPING && !slot; i++)
        if (!pings[i].w.on)
            slot = &pings[i];
    uint16_t e = 0;
    if (size > PING_MAX || !dst || dst == 0xffffffffu)
        e = capos_NetError_badArgument;
    else if (!st.ip)
        e = capos_NetError_notConfigured;
    else if (!slot || !ping_left)
        e = capos_NetError_busy;
    if (e) {
        capos_IcmpEcho_echo_Results_set_error(r, refuse(e));
        return CAPNP_OK;
    }
    ping_left--;
    for (uint32_t i = 0; i < size; i++)
        payload[i] = (uint8_t)(0x20 + i % 64);
    slot->dst = dst;
    slot->id = capos_IcmpEcho_echo_Params_get_id(p);
    slot->seq = capos_IcmpEcho_echo_Params_get_seq(p);
    slot->sent_ns = rt_timer_now();
    slot->deadline_ms = now + PING_WAIT_MS;
    int x = net_icmp_echo(&st, now, dst, slot->id, slot->seq, payload, size);
    if (x < 0)
        capos_IcmpEcho_echo_Results_set_error(r, refuse(neterr(x)));
    else
        defer(&slot->w, 0);
    return CAPNP_OK;
}

static const capos_IcmpEcho_server echo_srv = { e_echo };
static const capos_NetworkInfo_server info_srv = { i_getconfig, i_counters, i_connections, i_counter };
static const capos_TcpListenAuthority_server auth_srv = { a_listen, a_port };
static const capos_TcpListener_server lis_srv = { l_accept, l_close };
static const capos_TcpSocket_server sock_srv = { s_send, s_recv, s_shutdown, s_close, s_peer };
static const capos_UdpSocket_server udp_srv = { u_sendto, u_recvfrom, u_close };

static const void *const servers[NEP] = { &mgr_srv, &info_srv, &lis_srv, &sock_srv, &udp_srv, &echo_srv,
    &auth_srv, &auth_srv, &auth_srv, &auth_srv, &auth_srv, &auth_srv, &auth_srv, &auth_srv };
static const rt_dispatch_fn dispatchers[NEP] = {
    capos_NetworkManager_dispatch_any, capos_NetworkInfo_dispatch_any, capos_TcpListener_dispatch_any,
    capos_TcpSocket_dispatch_any, capos_UdpSocket_dispatch_any, capos_IcmpEcho_dispatch_any,
    capos_TcpListenAuthority_dispatch_any, capos_TcpListenAuthority_dispatch_any, capos_TcpListenAuthority_dispatch_any,
    capos_TcpListenAuthority_dispatch_any, capos_TcpListenAuthority_dispatch_any, capos_TcpListenAuthority_dispatch_any,
    capos_TcpListenAuthority_dispatch_any, capos_TcpListenAuthority_dispatch_any,
};
static uint8_t recv_bufs[NEP][RECV_BUF] __attribute__((aligned(8)));

static void post_recv(int ep)
{
    struct cap_sqe s = { .opcode = CAP_OP_RECV, .cap_id = owners[ep], .result_addr = (uint64_t)recv_bufs[ep],
                         .result_len = RECV_BUF };
    rt_ring_submit_tagged(&s, TAG_EP | (uint64_t)ep);
}

/* The last holder of a handle's facet let go (closed it, or died without
 * a call waiting): the handle is freed as a close would. A handle closed
 * before has a newer generation: its notice finds nothing. */
static void released(void *self, uint64_t b)
{
    switch (cur_ep) {
    case EP_LIS: {
        struct lis *l = lis_of(b);
        if (l)
            lis_free(l), c_reclaimed++;
        break;
    }
    case EP_SOCK: {
        struct sock *s = sock_of(b);
        if (s)
            sock_free(s, false), c_reclaimed++;
        break;
    }
    case EP_UDP: {
        struct udp *u = udp_of(b);
        if (u)
            udp_free(u), c_reclaimed++;
        break;
    }
    }
}

/* ---- frames in: NRX Nic.receive calls always in flight ---- */
/* Several, so that the frames one interrupt brings come in one wake-up
 * (the driver answers them oldest first, and the ring keeps that order);
 * each has its own result buffer, named by its tag's low byte. */
#define NRX 8
static uint8_t rx_params[64] __attribute__((aligned(8)));
static uint8_t rx_buf[NRX][CAP_MAX_RESULT + 64] __attribute__((aligned(8)));

static void post_rx(uint32_t slot)
{
    capnp_builder b;
    capnp_builder_init(&b, rx_params, sizeof rx_params);
    capos_Nic_receive_Params_builder p = capos_Nic_receive_Params_init_root(&b);
    capos_Nic_receive_Params_set_maxFrames(p, 16);
    capos_Nic_receive_Params_set_maxBytes(p, CAP_MAX_RESULT - 256);
    size_t len = 0;
    capnp_builder_finish(&b, &len);
    struct cap_sqe s = { .opcode = CAP_OP_CALL, .cap_id = nic, .interface_id = capos_Nic_ID,
                         .method_id = capos_Nic_METHOD_receive, .addr = (uint64_t)rx_params, .len = (uint32_t)len,
                         .result_addr = (uint64_t)rx_buf[slot], .result_len = sizeof rx_buf[slot] };
    rt_ring_submit_tagged(&s, TAG_RX | slot);
}

static void got_rx(const struct cap_cqe *c, uint32_t slot)
{
    if (c->result < 0)
        return;
    capnp_msg m;
    if (capnp_msg_init(&m, rx_buf[slot], (size_t)c->result))
        return;
    capnp_list l = capos_Nic_receive_Results_get_frames(capos_Nic_receive_Results_read_root(&m));
    net_input_begin(&st);               /* one ACK per connection for the answer's frames */
    for (uint32_t i = 0; i < l.count; i++) {
        capnp_data d = capnp_list_data(l, i);
        if (d.len >= 14 && d.len <= NET_FRAME_MAX)
            net_input(&st, now_ms(), d.ptr, d.len);
    }
    net_input_end(&st);
}

/* Post the slot again. A Nic that holds fewer receives than we keep in
 * flight answers the extra ones OVERLOADED: that slot rests (no spinning)
 * until the Nic's side is restarted (DISCONNECTED), when every resting
 * slot is tried again. At least one slot is always in flight. */
static uint32_t rx_resting;

static void rx_again(const struct cap_cqe *c, uint32_t slot)
{
    if (c->result == CAP_ERR_OVERLOADED && (rx_resting | 1u << slot) != (1u << NRX) - 1) {
        rx_resting |= 1u << slot;
        return;
    }
    post_rx(slot);
    if (c->result == CAP_ERR_DISCONNECTED)
        for (uint32_t i = 0; i < NRX; i++)
            if (rx_resting & 1u << i) {
                rx_resting &= ~(1u << i);
                post_rx(i);
            }
}

/* ---- arguments: ip=A.B.C.D mask=A.B.C.D gw=A.B.C.D dhcp msl=MS auth=EXPORT:PORT ---- */
static const char *word_end(const char *a)
{
    while (*a && *a != ' ')
        a++;
    return a;
}

static net_ip parse_ip(const char *s)
{
    net_ip ip = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t v = 0;
        while (*s >= '0' && *s <= '9')
            v = v * 10 + (uint32_t)(*s++ - '0');
        ip = ip << 8 | (v & 0xff);
        if (*s == '.')
            s++;
    }
    return ip;
}

static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint32_t)(*s++ - '0');
    return v;
}

int main(void)
{
    nic = rt_capset_require("nic");
    owners[EP_MGR] = rt_capset_require("manager");
    owners[EP_INFO] = rt_capset_require("info");
    int64_t eo = rt_capset_find("ping", capos_Endpoint_ID);    /* IcmpEcho: optional */
    if (eo >= 0)
        owners[EP_ECHO] = (uint32_t)eo, has_echo = true;
    uint32_t factory = rt_capset_require("endpoints");
    struct net_config cfg = { 0 };
    const char *a = rt_capset->args;
    while (*a) {
        while (*a == ' ')
            a++;
        const char *e = word_end(a);
        if (!strncmp(a, "ip=", 3))
            cfg.ip = parse_ip(a + 3);
        else if (!strncmp(a, "mask=", 5))
            cfg.netmask = parse_ip(a + 5);
        else if (!strncmp(a, "gw=", 3))
            cfg.gateway = parse_ip(a + 3);
        else if (!strncmp(a, "dhcp", 4) && (a[4] == ' ' || !a[4]))
            dhcp_mode = true;
        else if (!strncmp(a, "msl=", 4))
            cfg.tcp_msl_ms = parse_u32(a + 4);
        else if (!strncmp(a, "auth=", 5) && nauth < NAUTH) {
            char name[CAPSET_NAME] = { 0 };
            const char *c = a + 5;
            size_t n = 0;
            while (c + n < e && c[n] != ':' && n < sizeof name - 1)
                n++;
            memcpy(name, c, n);
            int64_t o = rt_capset_find(name, capos_Endpoint_ID);
            if (o >= 0 && c[n] == ':') {
                auths[nauth].owner = (uint32_t)o;
                auths[nauth].port = (uint16_t)parse_u32(c + n + 1);
                owners[EP_AUTH0 + nauth] = (uint32_t)o;
                nauth++;
            } else {
                printf("netstack: no export %s for auth=\n", name);
            }
        }
        a = e;
    }
    RT_BUFS(ib, 64, 256);
    capnp_client cl = RT_CLIENT(nic);
    capnp_call call;
    capos_Nic_info_Results_reader ir;
    if (capos_Nic_info(&cl, &ib, &call, &ir)) {
        printf("netstack: Nic.info failed\n");
        return 2;
    }
    capnp_data md = capos_Nic_info_Results_get_mac(ir);
    if (md.len == 6)
        memcpy(mac, md.ptr, 6);
    memcpy(cfg.mac, mac, 6);
    io_random(0, cfg.isn_secret, sizeof cfg.isn_secret);
    struct net_io io = { .tx = io_tx, .random = io_random, .udp_rx = io_udp_rx, .event = io_event,
                       .echo_reply = io_echo_reply };
    size_t alen = net_arena_size(NTCB, SNDBUF, RCVBUF);
    uint8_t *arena = malloc(alen);
    clock_read();
    if (!arena || net_init(&st, &cfg, &io, tcbs, NTCB, arena, alen, SNDBUF, RCVBUF, now_ms())) {
        printf("netstack: no memory for the stack\n");
        return 2;
    }
    /* A few large receive rings: a bulk transfer in is window-bound (see
     * README.md), and lib/net hands these to the connections in use. */
    uint8_t *big = malloc((size_t)NBIG * RCVBUF_BIG);
    for (uint32_t i = 0; big && i < NBIG; i++)
        net_tcb_rcvbuf(&st, i, big + (size_t)i * RCVBUF_BIG, RCVBUF_BIG);
    if (dhcp_mode)
        net_dhcp_start(&st, now_ms());
    uint32_t unused;
    static const uint64_t ifaces[3] = { capos_TcpListener_ID, capos_TcpSocket_ID, capos_UdpSocket_ID };
    for (int i = 0; i < 3; i++) {
        if (rt_endpoint_create(factory, ifaces[i], 0, &owners[EP_LIS + i], &unused))
            return 2;
        rt_release(unused);             /* facets are made per handle */
    }
    for (int ep = 0; ep < EP_AUTH0 + (int)nauth; ep++)
        if (ep != EP_ECHO || has_echo)
            post_recv(ep);
    in.released = released;
    for (uint32_t i = 0; i < NRX; i++)
        post_rx(i);
    printf("netstack: up, %u.%u.%u.%u, %u listen authorities\n", st.ip >> 24, (st.ip >> 16) & 255,
           (st.ip >> 8) & 255, st.ip & 255, nauth);
    uint64_t timers_ms = ~0ull;
    uint32_t unclocked = 0;             /* completions taken since the clock was read */
    for (;;) {
        struct cap_cqe c;
        while (!rt_ring_poll(&c)) {
            clock_read();
            unclocked = 0;
            /* lib/net's timers, one pass a millisecond (their grain):
             * between passes wait at most to the next millisecond, as
             * input may have armed a timer sooner than the last pass saw */
            uint64_t now = now_ms(), next = now + 1;
            if (now != timers_ms) {
                timers_ms = now;
                next = net_poll(&st, now);
            }
            pump();
            flush_tx();
            /* the calls above may have moved our completions into the stash */
            if (rt_ring_poll(&c))
                break;
            for (int i = 0; i < NPING; i++)
                if (pings[i].w.on && pings[i].deadline_ms < next)
                    next = pings[i].deadline_ms;
            uint64_t wait = next > now ? next - now : 0;
            if (txn && !tx_inflight && wait > 1)
                wait = 1;                   /* a short answer: retry soon */
            sys_cap_enter(1, wait * NS + 1);
            unclocked = CLOCK_EVERY;        /* slept: the first completion reads the clock */
        }
        /* The clock is read once per wake-up (and every CLOCK_EVERY
         * completions of a long run of them), not per completion: the
         * completions found together are handled in far less than a
         * millisecond, lib/net's grain, and each read is a kernel call. */
        if (++unclocked >= CLOCK_EVERY) {
            unclocked = 0;
            clock_read();
        }
        if ((c.user_data & ~0xffull) == TAG_RX && (c.user_data & 0xff) < NRX) {
            uint32_t slot = (uint32_t)(c.user_data & 0xff);
            got_rx(&c, slot);
            rx_again(&c, slot);
        } else if (c.user_data == TAG_TX) {
            got_tx(&c);
        } else if ((c.user_data & ~0xffull) == TAG_EP) {
            int ep = (int)(c.user_data & 0xff);
            if (ep >= NEP)
                continue;
            if (c.result == CAP_ERR_DISCONNECTED)
                continue;               /* the owner side is gone: stop serving it */
            cur_owner = owners[ep];
            cur_ep = ep;
            in.ncaps = 0;
            rt_serve_delivered(cur_owner, &c, dispatchers[ep], servers[ep], &in, recv_bufs[ep], &in);
            for (uint32_t i = 0; i < in.ncaps; i++)
                if (in.caps[i] != ~0u)
                    rt_release(in.caps[i]);
            post_recv(ep);
        }
        pump();
        flush_tx();
    }
}
