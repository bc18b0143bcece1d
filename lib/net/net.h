/*
 * lib/net: a sans-IO IPv4 + TCP/UDP stack.
 *
 * Frames go in through net_input(); frames come out through io.tx(); the
 * clock is the `now` (milliseconds, any epoch, never decreasing) passed to
 * every entry point; entropy comes from io.random() and the ISN secret.
 * All memory is inside struct net_stack plus the TCP arena the caller hands
 * to net_init(): nothing is allocated, nothing is global.
 */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Compile-time bounds: every table in the stack has a fixed size. */
#define NET_FRAME_MAX     1514   /* Ethernet II without FCS */
#define NET_MTU           1500
#define NET_ARP_ENTRIES   32
#define NET_ARP_PENDING   24     /* frames waiting for an ARP reply, all destinations */
#define NET_ARP_PENDING_PER_HOP 12  /* ... for any one: the fragments of the largest datagram */
#define NET_FRAG_SLOTS    4      /* datagrams in reassembly at once */
#define NET_FRAG_MAX      16384  /* largest reassembled IP payload */
#define NET_UDP_PORTS     8
#define NET_LISTENERS     8
#define NET_OOO_RANGES    8      /* out-of-order ranges kept per connection (= SACK blocks sent) */
#define NET_SACK_SCORE    4      /* SACK blocks remembered from the peer */
#define NET_BATCH_ACKS    16     /* connections whose ACK one input batch can hold back */

typedef uint32_t net_ip;        /* IPv4 address in host byte order */
#define NET_IP(a, b, c, d) (((net_ip)(a) << 24) | ((net_ip)(b) << 16) | ((net_ip)(c) << 8) | (net_ip)(d))

/* Error codes returned by the socket-level calls (always negative). */
enum {
    NET_E_AGAIN = -1,       /* nothing now: try after the next input/poll */
    NET_E_INVAL = -2,       /* bad handle or argument */
    NET_E_NOMEM = -3,       /* a fixed table is full */
    NET_E_CONNRESET = -4,
    NET_E_CONNREFUSED = -5,
    NET_E_TIMEDOUT = -6,
    NET_E_NOTCONN = -7,
    NET_E_PIPE = -8,        /* send after shutdown */
    NET_E_ADDRINUSE = -9,
    NET_E_NOROUTE = -10,
};

/*
 * Counters: one per drop reason and per notable event.  The X-macro gives
 * both the enum and the names (net_counter_name()).
 */
#define NET_COUNTERS(X) \
    X(rx_frames) X(tx_frames) \
    X(drop_eth_short) X(drop_eth_not_for_us) X(drop_eth_type) \
    X(arp_rx) X(arp_request_tx) X(arp_reply_tx) X(drop_arp_malformed) X(drop_arp_not_for_us) \
    X(arp_pending_queued) X(drop_arp_pending_full) X(drop_arp_unresolved) X(arp_cache_evict) \
    X(drop_arp_cache_full) X(arp_probe_rx) \
    X(ip_rx) X(ip_tx) X(drop_ip_short) X(drop_ip_version) X(drop_ip_hdrlen) X(drop_ip_len) \
    X(drop_ip_checksum) X(drop_ip_martian) X(drop_ip_not_for_us) X(drop_ip_proto) \
    X(drop_ip_no_route) X(drop_ip_too_big) X(ip_options_skipped) X(drop_ip_options) X(drop_ip_source_route) \
    X(ip_frag_rx) X(ip_reassembled) X(ip_frag_tx) X(drop_frag_too_big) X(drop_frag_evicted) \
    X(drop_frag_overlap) X(drop_frag_malformed) X(drop_frag_timeout) \
    X(icmp_echo_rx) X(icmp_echo_reply_tx) X(icmp_echo_reply_rx) X(icmp_unreach_tx) X(icmp_other_rx) \
    X(icmp_error_limited) X(icmp_unreach_rx) \
    X(drop_icmp_short) X(drop_icmp_checksum) \
    X(udp_rx) X(udp_tx) X(drop_udp_short) X(drop_udp_len) X(drop_udp_checksum) X(drop_udp_no_port) \
    X(dhcp_discover_tx) X(dhcp_request_tx) X(dhcp_offer_rx) X(dhcp_ack_rx) X(dhcp_nak_rx) \
    X(dhcp_bound) X(dhcp_lease_expired) X(drop_dhcp_malformed) \
    X(tcp_rx) X(tcp_tx) X(drop_tcp_short) X(drop_tcp_hdrlen) X(drop_tcp_checksum) \
    X(drop_tcp_flags) X(tcp_options_malformed) X(drop_tcp_bad_addr) X(drop_tcp_no_socket) \
    X(drop_tcp_out_of_window) X(drop_tcp_rst_out_of_window) X(drop_tcp_no_ack) X(drop_tcp_bad_ack) \
    X(drop_tcp_listen_overflow) X(drop_tcp_no_tcb) X(drop_tcp_syncookie_bad) X(drop_tcp_ooo_full) \
    X(drop_tcp_after_close) \
    X(tcp_rst_tx) X(tcp_rst_rx) X(tcp_challenge_ack) X(tcp_challenge_ack_limited) \
    X(tcp_syncookie_sent) X(tcp_syncookie_ok) \
    X(tcp_retransmits) X(tcp_rto_timeouts) X(tcp_fast_retransmits) X(tcp_recoveries) \
    X(tcp_dup_acks) X(tcp_sack_blocks_rx) X(tcp_ooo_segments) X(tcp_zero_window_probes) \
    X(tcp_keepalive_probes) X(tcp_keepalive_timeouts) X(tcp_rto_give_up) X(tcp_persist_give_up) \
    X(tcp_active_opens) X(tcp_passive_opens) X(tcp_time_wait_recycled) X(tcp_connect_unreachable) \
    X(drop_tcp_pool_full) X(tcp_half_open_expired) X(tcp_idle_reclaimed)

enum net_counter {
#define NET_X_ENUM(n) NET_C_##n,
    NET_COUNTERS(NET_X_ENUM)
#undef NET_X_ENUM
    NET_C_COUNT
};

/* TCP states (RFC 9293 section 3.3.2). */
enum net_tcp_state {
    NET_TCP_CLOSED, NET_TCP_LISTEN, NET_TCP_SYN_SENT, NET_TCP_SYN_RECEIVED,
    NET_TCP_ESTABLISHED, NET_TCP_FIN_WAIT_1, NET_TCP_FIN_WAIT_2, NET_TCP_CLOSE_WAIT,
    NET_TCP_CLOSING, NET_TCP_LAST_ACK, NET_TCP_TIME_WAIT, NET_TCP_NSTATES
};

/* Events reported through io.event (optional; polling works without it). */
enum net_event {
    NET_EV_READABLE,    /* data or EOF to recv */
    NET_EV_WRITABLE,    /* send buffer space freed */
    NET_EV_CONNECTED,   /* active open completed */
    NET_EV_ACCEPTABLE,  /* listener has a connection to accept (handle = listener) */
    NET_EV_CLOSED,      /* connection ended (reset, timeout or orderly) */
    NET_EV_DHCP_BOUND,
};

struct net_io {
    void *ctx;
    void (*tx)(void *ctx, const uint8_t *frame, size_t len);
    void (*random)(void *ctx, uint8_t *out, size_t len);
    /* UDP datagram for a bound port (optional). */
    void (*udp_rx)(void *ctx, uint16_t dport, net_ip src, uint16_t sport,
                   const uint8_t *data, size_t len);
    void (*event)(void *ctx, enum net_event ev, int32_t handle);   /* optional */
    /* ICMP echo reply to one of our pings (optional). */
    void (*echo_reply)(void *ctx, net_ip src, uint16_t id, uint16_t seq, size_t len);
};

struct net_config {
    uint8_t mac[6];
    net_ip ip, netmask, gateway;        /* static address; all 0 when using DHCP */
    uint8_t isn_secret[16];             /* RFC 6528 / SYN cookie key */
    /* TCP tunables; 0 picks the default shown. */
    uint32_t tcp_rto_min_ms;            /* 200 (RFC 6298 says 1000; Linux uses 200) */
    uint32_t tcp_rto_initial_ms;        /* 1000 */
    uint32_t tcp_delack_ms;             /* 40 */
    uint32_t tcp_msl_ms;                /* 30000: TIME_WAIT lasts 2 MSL */
    uint32_t tcp_keep_idle_ms;          /* 7200000 */
    uint32_t tcp_keep_intvl_ms;         /* 75000 */
    uint32_t tcp_keep_cnt;              /* 9 */
    uint32_t tcp_max_retries;           /* 12 RTO back-offs before ETIMEDOUT */
    uint32_t tcp_syn_retries;           /* 6 */
    uint32_t tcp_fin_timeout_ms;        /* 60000: orphaned FIN_WAIT_2 */
    uint32_t arp_ttl_ms;                /* 60000 */
    uint32_t challenge_acks_per_s;      /* 10, per connection, randomised (RFC 5961 section 7) */
};

struct net_arp_entry {
    net_ip ip;
    uint8_t mac[6];
    uint8_t state;          /* 0 free, 1 incomplete, 2 resolved */
    uint8_t tries;
    uint64_t expires;       /* resolved: valid until; incomplete: next request */
    uint64_t refresh_sent;
    uint64_t used;          /* resolved: last frame sent through it; incomplete: created */
};

struct net_arp_pending {
    bool used;
    net_ip next_hop;
    uint16_t len;
    uint64_t queued;
    uint8_t frame[NET_FRAME_MAX];
};

struct net_frag {
    bool used;
    bool have_last;
    net_ip src, dst;
    uint16_t id;
    uint8_t proto;
    uint32_t total;                     /* payload length once the last fragment is seen */
    uint64_t expires;
    uint32_t order;                     /* arrival order of first fragments: oldest evicted first */
    uint8_t have[NET_FRAG_MAX / 64];    /* bitmap of 8-byte blocks received */
    uint8_t data[NET_FRAG_MAX];
};

struct net_seq_range { uint32_t start, end; };

struct net_tcb {
    uint8_t state;                  /* enum net_tcp_state; CLOSED = free slot */
    uint16_t gen;                   /* handle generation, bumped on free */
    bool user_owned;                /* a live handle exists (not yet closed) */
    bool accepted;                  /* handed out by accept (or active open) */
    int8_t listener;                /* listener index while waiting in accept queue, else -1 */
    bool from_cookie;
    bool nodelay, delack, keepalive;
    bool fin_queued, fin_sent, fin_rcvd, rd_shut;
    bool ws_ok, sack_ok, in_recovery, rtt_timing;
    bool ts_ok;                     /* RFC 7323 timestamps negotiated (or offered, in SYN-SENT) */
    bool ack_batched;               /* owes the ACK sent at net_input_end */
    uint32_t ts_recent;             /* peer's TSval to echo (RFC 7323 4.3) */
    uint32_t ts_syn;                /* TSval of a SYN-cookie SYN-ACK (options encoded) */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t dupacks, backoff, keep_probes, persist_shift, nooo, nsacked;
    uint8_t zwp_unanswered;         /* zero-window probes since the peer last answered */
    int8_t err;                     /* pending NET_E_* for the user, 0 if none */
    uint16_t lport, rport;
    net_ip rip;
    uint16_t mss;                   /* send MSS */
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t rcv_nxt, rcv_adv;      /* rcv_adv: right edge last advertised */
    uint32_t cwnd, ssthresh, recover, rexmit_hi;
    uint32_t rtt_seq;
    int32_t srtt, rttvar;           /* ms, RFC 6298 */
    uint32_t rto;
    uint64_t rtt_ts, accept_order;
    uint32_t ack_pending;           /* in-order segments not yet acknowledged */
    uint64_t t_rtx, t_delack, t_persist, t_keep, t_close;
    uint64_t last_rx;
    uint64_t chal_window;           /* start of this second's challenge-ACK budget */
    uint32_t chal_left;             /* challenge ACKs left in it */
    uint8_t *sbuf; uint32_t scap, shead, slen;     /* [snd_una, snd_una+slen) */
    uint8_t *rbuf; uint32_t rcap, rhead, rlen;     /* readable bytes */
    struct net_seq_range ooo[NET_OOO_RANGES];      /* received above rcv_nxt, newest first */
    struct net_seq_range sacked[NET_SACK_SCORE];   /* peer's SACK scoreboard */
};

struct net_listener {
    bool used;
    uint16_t gen;
    uint16_t port;
    uint16_t backlog;
};

struct net_dhcp {
    uint8_t state;          /* enum in dhcp.c */
    uint8_t tries;
    uint32_t xid;
    net_ip offered, server, lease_ip;
    net_ip netmask, router, dns;
    uint32_t lease_s, t1_s, t2_s;
    uint64_t t_next, t_bound, t_renew, t_rebind, t_expire;
    uint64_t start;
};

struct net_stack {
    struct net_config cfg;
    struct net_io io;
    uint64_t now;
    net_ip ip, netmask, gateway;
    net_ip dns;                         /* the lease's first DNS server (0: none); DHCP only */
    uint16_t ip_id;
    uint64_t icmp_err_window;           /* ICMP error budget: this second's start */
    uint32_t icmp_err_left;             /* ... and what is left of it */
    uint64_t counters[NET_C_COUNT];
    struct net_arp_entry arp[NET_ARP_ENTRIES];
    struct net_arp_pending pending[NET_ARP_PENDING];
    struct net_frag frags[NET_FRAG_SLOTS];
    uint32_t frag_order;
    uint16_t udp_ports[NET_UDP_PORTS];
    struct net_dhcp dhcp;
    struct net_listener listeners[NET_LISTENERS];
    struct net_tcb *tcbs;
    uint32_t ntcb;
    uint64_t accept_seq;
    uint16_t next_port;
    uint8_t rcv_wscale;                 /* the window shift every connection offers: the largest ring's */
    bool batch;                         /* between net_input_begin and net_input_end */
    uint8_t batch_nacks;
    uint16_t batch_acks[NET_BATCH_ACKS]; /* blocks owing their ACK at the batch's end */
    uint8_t tx[NET_FRAME_MAX];          /* frame being built */
};

/* Bring-up.  `arena` holds ntcb * (sndbuf + rcvbuf) bytes for TCP buffers. */
size_t net_arena_size(uint32_t ntcb, uint32_t sndbuf, uint32_t rcvbuf);
int net_init(struct net_stack *st, const struct net_config *cfg, const struct net_io *io,
             struct net_tcb *tcbs, uint32_t ntcb, uint8_t *arena, size_t arena_len,
             uint32_t sndbuf, uint32_t rcvbuf, uint64_t now);
/*
 * Give block i a receive ring of its own (the caller's `cap` bytes, 1024 ..
 * 2^30) in place of its arena share, while no connection uses the block
 * (right after net_init). Rings of different sizes then move between
 * blocks: a new connection takes the largest ring a free block holds, and
 * an orphaned TIME_WAIT block, which receives no more data, hands a larger
 * one over to it. Every connection offers the window shift of the largest
 * ring. NET_E_INVAL for a bad index, size, or a block in use.
 */
int net_tcb_rcvbuf(struct net_stack *st, uint32_t i, uint8_t *buf, uint32_t cap);

/* Feed one received Ethernet frame. */
void net_input(struct net_stack *st, uint64_t now, const uint8_t *frame, size_t len);
/*
 * A batch of received frames (what one NIC interrupt or one Nic.receive
 * answer brought): between net_input_begin and net_input_end, a
 * connection's every-second-segment ACK is held back and sent once at the
 * end, covering all its in-order segments of the batch (what Linux's GRO
 * does to ACKs). ACKs for data out of order, a hole filled, a FIN, a
 * connection with delayed ACK off, or more than NET_BATCH_ACKS connections
 * in one batch go at once, as without a batch.
 */
void net_input_begin(struct net_stack *st);
void net_input_end(struct net_stack *st);
/* Run timers; returns the time of the next deadline (or now + 1000). */
uint64_t net_poll(struct net_stack *st, uint64_t now);

/* Counters. */
const char *net_counter_name(enum net_counter c);
const char *net_tcp_state_name(enum net_tcp_state s);
void net_tcp_state_counts(const struct net_stack *st, uint32_t counts[NET_TCP_NSTATES]);

/* ARP / ICMP / UDP. */
bool net_arp_lookup(const struct net_stack *st, net_ip ip, uint8_t mac[6]);
int net_icmp_echo(struct net_stack *st, uint64_t now, net_ip dst, uint16_t id, uint16_t seq,
                  const uint8_t *payload, size_t len);
int net_udp_bind(struct net_stack *st, uint16_t port);
int net_udp_send(struct net_stack *st, uint64_t now, uint16_t sport, net_ip dst, uint16_t dport,
                 const uint8_t *data, size_t len);

/* DHCP client: starts the exchange; the address is set when bound. */
void net_dhcp_start(struct net_stack *st, uint64_t now);
bool net_dhcp_bound(const struct net_stack *st);

/*
 * TCP, one call per NetworkManager / TcpListener / TcpSocket method.
 * Handles are positive; errors are NET_E_*.
 */
int32_t net_tcp_listen(struct net_stack *st, uint16_t port, uint16_t backlog);
int32_t net_tcp_accept(struct net_stack *st, int32_t listener);
int net_tcp_listener_close(struct net_stack *st, int32_t listener);
int32_t net_tcp_connect(struct net_stack *st, uint64_t now, net_ip dst, uint16_t port);
long net_tcp_send(struct net_stack *st, uint64_t now, int32_t s, const uint8_t *buf, size_t len);
long net_tcp_recv(struct net_stack *st, uint64_t now, int32_t s, uint8_t *buf, size_t len); /* 0 = EOF */
int net_tcp_shutdown(struct net_stack *st, uint64_t now, int32_t s, bool rd, bool wr);
int net_tcp_close(struct net_stack *st, uint64_t now, int32_t s);   /* orderly; RST if unread data */
int net_tcp_abort(struct net_stack *st, uint64_t now, int32_t s);   /* RST now */

/* Socket queries and options. */
enum net_tcp_state net_tcp_state(const struct net_stack *st, int32_t s);
int net_tcp_connected(const struct net_stack *st, int32_t s);       /* 1 yes, 0 not yet, <0 error */
long net_tcp_send_space(const struct net_stack *st, int32_t s);
long net_tcp_recv_avail(const struct net_stack *st, int32_t s);
int net_tcp_set_nodelay(struct net_stack *st, int32_t s, bool on);   /* Nagle off */
int net_tcp_set_delack(struct net_stack *st, int32_t s, bool on);
int net_tcp_set_keepalive(struct net_stack *st, uint64_t now, int32_t s, bool on);
int net_tcp_peer(const struct net_stack *st, int32_t s, net_ip *ip, uint16_t *port, uint16_t *lport);

#endif
