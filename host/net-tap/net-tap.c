/*
 * net-tap: lib/net attached to a Linux TAP device, so Linux's own tools can
 * talk to it.  Services (TCP): 7 echo, 9 sink (replies "<bytes> <sha256>"
 * after EOF), 19 source (sends --source-file, then FIN), 80 a one-page
 * HTTP/1.0 server of the same file, 13 reset (RST after the first data),
 * 8 a listener with backlog 2 that accepts only on command.  UDP 7 echo.
 * Commands on stdin, one per line, answers on stdout (see usage()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sodium.h>
#include "../../lib/net/net.h"
#include "impair.h"

#define MIN_SZ(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))

enum kind { K_ECHO, K_SINK, K_SOURCE, K_HTTP, K_RESET, K_CLIENT };

struct conn {
    bool used;
    enum kind kind;
    int32_t h;
    int id;
    uint64_t rx, tx;
    bool eof, wr_done;
    crypto_hash_sha256_state sha;
    uint8_t pend[65536];        /* echo: received, not yet sent back */
    size_t pend_len;
    const uint8_t *src;         /* source/http/client: what to send */
    size_t src_len;
    char hdr[128];
    size_t hdr_len, hdr_off;
    size_t req_len;
    FILE *out;                  /* client: where received bytes go */
};

#define MAX_CONNS 1024

static struct net_stack st;
static int tapfd = -1;
static struct impair imp;
static struct impair_dir dir_in, dir_out;
static struct conn *conns;
static int32_t l_echo, l_sink, l_source, l_http, l_reset, l_slow;
static const uint8_t *source_file;
static size_t source_len;
static int next_client_id = 1;
static uint64_t tap_write_drops;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void tap_write(void *ctx, const uint8_t *f, size_t n)
{
    if (write(tapfd, f, n) < 0)
        tap_write_drops++;      /* the TAP queue is full: a drop like on a wire */
}

static void io_tx(void *ctx, const uint8_t *f, size_t n)
{
    impair_frame(&imp, &dir_out, now_ms(), f, n, tap_write, 0);
}

static void stack_in(void *ctx, const uint8_t *f, size_t n)
{
    net_input(&st, now_ms(), f, n);
}

static void io_random(void *ctx, uint8_t *out, size_t n)
{
    randombytes_buf(out, n);
}

static void io_udp(void *ctx, uint16_t dport, net_ip src, uint16_t sport, const uint8_t *d, size_t n)
{
    if (dport == 7)
        net_udp_send(&st, now_ms(), 7, src, sport, d, n);
}

static void io_echo_reply(void *ctx, net_ip src, uint16_t id, uint16_t seq, size_t len)
{
    printf("echo-reply %u.%u.%u.%u seq %u len %zu\n", src >> 24, src >> 16 & 255, src >> 8 & 255,
           src & 255, seq, len);
    fflush(stdout);
}

static void io_event(void *ctx, enum net_event ev, int32_t h)
{
    if (ev == NET_EV_DHCP_BOUND) {
        printf("dhcp-bound %u.%u.%u.%u\n", st.ip >> 24, st.ip >> 16 & 255, st.ip >> 8 & 255, st.ip & 255);
        fflush(stdout);
    }
}

static struct conn *conn_new(int32_t h, enum kind k)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (!conns[i].used) {
            struct conn *c = &conns[i];
            memset(c, 0, offsetof(struct conn, pend));
            c->pend_len = 0;
            c->src = 0;
            c->src_len = c->hdr_len = c->hdr_off = c->req_len = 0;
            c->out = 0;
            c->used = true;
            c->h = h;
            c->kind = k;
            crypto_hash_sha256_init(&c->sha);
            return c;
        }
    return 0;
}

static void conn_end(struct conn *c, uint64_t now, bool abort)
{
    if (abort)
        net_tcp_abort(&st, now, c->h);
    else
        net_tcp_close(&st, now, c->h);
    if (c->kind == K_CLIENT) {
        if (c->out)
            fclose(c->out);
        printf("client-done %d sent %llu recv %llu t=%llu\n", c->id, (unsigned long long)c->tx,
               (unsigned long long)c->rx, (unsigned long long)now);
        fflush(stdout);
    }
    c->used = false;
}

/* Push c->src[c->tx..] out as far as the send buffer allows. */
static void send_source(struct conn *c, uint64_t now)
{
    while (c->hdr_off < c->hdr_len) {
        long w = net_tcp_send(&st, now, c->h, (const uint8_t *)c->hdr + c->hdr_off, c->hdr_len - c->hdr_off);
        if (w <= 0)
            return;
        c->hdr_off += (size_t)w;
    }
    while (c->tx < c->src_len) {
        long w = net_tcp_send(&st, now, c->h, c->src + c->tx, c->src_len - c->tx);
        if (w <= 0)
            return;
        c->tx += (uint64_t)w;
    }
    if (!c->wr_done) {
        c->wr_done = true;
        net_tcp_shutdown(&st, now, c->h, false, true);
    }
}

static void service(struct conn *c, uint64_t now)
{
    static uint8_t buf[65536];
    int conn_state = net_tcp_connected(&st, c->h);
    if (conn_state == 0)
        return;
    if (conn_state < 0 && conn_state != NET_E_NOTCONN) {
        if (c->kind == K_CLIENT) {
            printf("client-error %d %d\n", c->id, conn_state);
            fflush(stdout);
        }
        conn_end(c, now, false);
        return;
    }
    switch (c->kind) {
    case K_ECHO:
        for (;;) {
            if (c->pend_len) {
                long w = net_tcp_send(&st, now, c->h, c->pend, c->pend_len);
                if (w <= 0)
                    break;
                memmove(c->pend, c->pend + w, c->pend_len - (size_t)w);
                c->pend_len -= (size_t)w;
                continue;
            }
            if (c->eof)
                break;
            long space = net_tcp_send_space(&st, c->h);
            if (space <= 0)
                break;
            long r = net_tcp_recv(&st, now, c->h, c->pend, MIN_SZ((size_t)space, sizeof c->pend));
            if (r == 0)
                c->eof = true;
            if (r <= 0)
                break;
            c->pend_len = (size_t)r;
        }
        if (c->eof && !c->pend_len) {
            conn_end(c, now, false);
            return;
        }
        break;
    case K_SINK:
        for (;;) {
            long r = net_tcp_recv(&st, now, c->h, buf, sizeof buf);
            if (r == 0 && !c->eof) {
                c->eof = true;
                uint8_t d[32];
                crypto_hash_sha256_final(&c->sha, d);
                c->hdr_len = (size_t)snprintf(c->hdr, sizeof c->hdr, "%llu ", (unsigned long long)c->rx);
                for (int i = 0; i < 32; i++)
                    c->hdr_len += (size_t)snprintf(c->hdr + c->hdr_len, 3, "%02x", d[i]);
                c->hdr[c->hdr_len++] = '\n';
            }
            if (r <= 0)
                break;
            crypto_hash_sha256_update(&c->sha, buf, (unsigned long long)r);
            c->rx += (uint64_t)r;
        }
        if (c->eof) {
            send_source(c, now);
            if (c->wr_done) {
                conn_end(c, now, false);
                return;
            }
        }
        break;
    case K_RESET:
        if (net_tcp_recv(&st, now, c->h, buf, sizeof buf) != NET_E_AGAIN) {
            conn_end(c, now, true);
            return;
        }
        break;
    case K_HTTP:
        if (!c->hdr_len) {
            long r = net_tcp_recv(&st, now, c->h, buf, sizeof buf);
            if (r > 0) {
                c->req_len += (size_t)r;
                if (memmem(buf, (size_t)r, "\r\n\r\n", 4) || c->req_len > 8192) {
                    c->hdr_len = (size_t)snprintf(c->hdr, sizeof c->hdr,
                        "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", c->src_len);
                }
            } else if (r != NET_E_AGAIN) {
                conn_end(c, now, false);
                return;
            }
        }
        if (!c->hdr_len)
            break;
        /* fall through */
    case K_SOURCE:
    case K_CLIENT:
        send_source(c, now);
        for (;;) {
            long r = net_tcp_recv(&st, now, c->h, buf, sizeof buf);
            if (r == 0)
                c->eof = true;
            if (r <= 0)
                break;
            c->rx += (uint64_t)r;
            if (c->out)
                fwrite(buf, 1, (size_t)r, c->out);
        }
        if (c->eof && c->wr_done) {
            conn_end(c, now, false);
            return;
        }
        break;
    }
    if (net_tcp_state(&st, c->h) == NET_TCP_CLOSED && conn_state == NET_E_NOTCONN)
        conn_end(c, now, false);
}

static void accept_all(int32_t l, enum kind k, uint64_t now)
{
    for (;;) {
        int32_t h = net_tcp_accept(&st, l);
        if (h <= 0)
            return;
        struct conn *c = conn_new(h, k);
        if (!c) {
            net_tcp_abort(&st, now, h);
            continue;
        }
        if (k == K_SOURCE || k == K_HTTP) {
            c->src = source_file;
            c->src_len = source_len;
        }
    }
}

static void app(uint64_t now)
{
    accept_all(l_echo, K_ECHO, now);
    accept_all(l_sink, K_SINK, now);
    accept_all(l_source, K_SOURCE, now);
    accept_all(l_http, K_HTTP, now);
    accept_all(l_reset, K_RESET, now);
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].used)
            service(&conns[i], now);
}

static void print_stats(void)
{
    for (int c = 0; c < NET_C_COUNT; c++)
        printf("stat %s %llu\n", net_counter_name(c), (unsigned long long)st.counters[c]);
    uint32_t counts[NET_TCP_NSTATES];
    net_tcp_state_counts(&st, counts);
    for (int s = 0; s < NET_TCP_NSTATES; s++)
        printf("state %s %u\n", net_tcp_state_name(s), counts[s]);
    printf("stat impair_dropped %llu\nstat impair_duplicated %llu\nstat impair_reordered %llu\n",
           (unsigned long long)imp.dropped, (unsigned long long)imp.duplicated,
           (unsigned long long)imp.reordered);
    printf("stat tap_write_drops %llu\n", (unsigned long long)tap_write_drops);
    printf("end\n");
}

static const uint8_t *map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        perror(path);
        exit(2);
    }
    *len = (size_t)sb.st_size;
    void *p = *len ? mmap(0, *len, PROT_READ, MAP_PRIVATE, fd, 0) : (void *)"";
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    close(fd);
    return p;
}

static net_ip parse_ip(const char *s)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return 0;
    return ntohl(a.s_addr);
}

static void command(char *line, uint64_t now)
{
    char a[256], b[256], c[256], d[256];
    unsigned u1, u2, u3;
    unsigned long long seed;
    if (strncmp(line, "stats", 5) == 0) {
        print_stats();
    } else if (sscanf(line, "connect %255s %255s %255s %255s", a, b, c, d) == 4) {
        int32_t h = net_tcp_connect(&st, now, parse_ip(a), (uint16_t)atoi(b));
        struct conn *cn = h > 0 ? conn_new(h, K_CLIENT) : 0;
        if (!cn) {
            printf("client-error 0 %d\n", h);
        } else {
            cn->id = next_client_id++;
            cn->src = map_file(c, &cn->src_len);
            cn->out = fopen(d, "wb");
            printf("client %d\n", cn->id);
        }
    } else if (sscanf(line, "ping %255s %u %u", a, &u1, &u2) == 3) {
        static uint8_t payload[9000];
        for (unsigned i = 0; i < u1; i++)
            net_icmp_echo(&st, now, parse_ip(a), 0x4242, (uint16_t)i, payload, MIN_SZ(u2, sizeof payload));
        printf("pinged\n");
    } else if (sscanf(line, "arp %255s", a) == 1) {
        uint8_t m[6];
        if (net_arp_lookup(&st, parse_ip(a), m))
            printf("arp %s %02x:%02x:%02x:%02x:%02x:%02x\n", a, m[0], m[1], m[2], m[3], m[4], m[5]);
        else
            printf("arp %s none\n", a);
    } else if (sscanf(line, "impair %u %u %u %llu", &u1, &u2, &u3, &seed) == 4) {
        impair_set(&imp, u1, u2, u3, seed);
        printf("impaired\n");
    } else if (strncmp(line, "dhcp", 4) == 0) {
        net_dhcp_start(&st, now);
        printf("dhcp-started\n");
    } else if (strncmp(line, "accept-slow", 11) == 0) {
        accept_all(l_slow, K_ECHO, now);
        printf("accepted\n");
    } else if (strncmp(line, "ip", 2) == 0) {
        printf("ip %u.%u.%u.%u\n", st.ip >> 24, st.ip >> 16 & 255, st.ip >> 8 & 255, st.ip & 255);
    } else if (strncmp(line, "tcbs", 4) == 0) {
        for (uint32_t i = 0; i < st.ntcb; i++) {
            const struct net_tcb *t = &st.tcbs[i];
            if (t->state != NET_TCP_CLOSED || t->user_owned)
                printf("tcb %u %s lport %u rport %u listener %d accepted %d owned %d rlen %u slen %u err %d"
                       " una %u nxt %u max %u wnd %u cwnd %u ssthresh %u rto %u backoff %u rtx_in %lld"
                       " persist_in %lld nsacked %u recov %d fin_q %d fin_sent %d rcv_nxt %u nooo %u\n", i,
                       net_tcp_state_name(t->state), t->lport, t->rport, t->listener, t->accepted,
                       t->user_owned, t->rlen, t->slen, t->err, t->snd_una - t->iss, t->snd_nxt - t->iss,
                       t->snd_max - t->iss, t->snd_wnd, t->cwnd, t->ssthresh, t->rto, t->backoff,
                       t->t_rtx ? (long long)(t->t_rtx - now) : -1,
                       t->t_persist ? (long long)(t->t_persist - now) : -1, t->nsacked, t->in_recovery,
                       t->fin_queued, t->fin_sent, t->rcv_nxt - t->irs, t->nooo);
        }
        uint32_t counts[NET_TCP_NSTATES];
        net_tcp_state_counts(&st, counts);
        printf("tcbs-end %u t=%llu:", st.ntcb, (unsigned long long)now);
        for (int k = 0; k < NET_TCP_NSTATES; k++)
            printf(" %u", counts[k]);
        printf("\n");
    } else if (strncmp(line, "sizes", 5) == 0) {
        printf("sizes stack %zu tcb %zu sndbuf %u rcvbuf %u\n", sizeof st, sizeof(struct net_tcb),
               st.tcbs[0].scap, st.tcbs[0].rcap);
    } else if (strncmp(line, "quit", 4) == 0) {
        exit(0);
    } else {
        printf("error unknown command\n");
    }
    fflush(stdout);
}

static void usage(void)
{
    fprintf(stderr,
        "usage: net-tap --tap NAME [--ip A.B.C.D/N] [--gw A.B.C.D] [--mac XX:..] [--tcbs N]\n"
        "               [--buf BYTES] [--source-file PATH]\n"
        "stdin commands: stats | connect IP PORT SENDFILE RECVFILE | ping IP COUNT SIZE |\n"
        "                arp IP | impair LOSS DUP REORDER SEED (per mille) | dhcp | ip |\n"
        "                accept-slow | quit\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *tap = 0;
    struct net_config cfg;
    memset(&cfg, 0, sizeof cfg);
    uint8_t mac[6] = { 0x02, 0xca, 0xb0, 0x5e, 0x00, 0x02 };
    uint32_t ntcb = 300, bufsz = 131072;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : 0;
        if (!strcmp(argv[i], "--tap") && v) {
            tap = v; i++;
        } else if (!strcmp(argv[i], "--ip") && v) {
            char ip[64];
            unsigned bits = 24;
            if (sscanf(v, "%63[0-9.]/%u", ip, &bits) < 1 || bits > 32)
                usage();
            cfg.ip = parse_ip(ip);
            cfg.netmask = bits ? 0xffffffffu << (32 - bits) : 0;
            i++;
        } else if (!strcmp(argv[i], "--gw") && v) {
            cfg.gateway = parse_ip(v); i++;
        } else if (!strcmp(argv[i], "--mac") && v) {
            if (sscanf(v, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
                       &mac[4], &mac[5]) != 6)
                usage();
            i++;
        } else if (!strcmp(argv[i], "--tcbs") && v) {
            ntcb = (uint32_t)atoi(v); i++;
        } else if (!strcmp(argv[i], "--buf") && v) {
            bufsz = (uint32_t)atoi(v); i++;
        } else if (!strcmp(argv[i], "--source-file") && v) {
            source_file = map_file(v, &source_len); i++;
        } else {
            usage();
        }
    }
    if (!tap)
        usage();
    if (sodium_init() < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    tapfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap);
    if (tapfd < 0 || ioctl(tapfd, TUNSETIFF, &ifr) < 0) {
        perror("tap");
        return 1;
    }
    memcpy(cfg.mac, mac, 6);
    randombytes_buf(cfg.isn_secret, sizeof cfg.isn_secret);
    struct net_io io = { .tx = io_tx, .random = io_random, .udp_rx = io_udp, .event = io_event,
                         .echo_reply = io_echo_reply };
    struct net_tcb *tcbs = calloc(ntcb, sizeof *tcbs);
    size_t asz = net_arena_size(ntcb, bufsz, bufsz);
    uint8_t *arena = malloc(asz);
    conns = calloc(MAX_CONNS, sizeof *conns);
    if (!tcbs || !arena || !conns || net_init(&st, &cfg, &io, tcbs, ntcb, arena, asz, bufsz, bufsz, now_ms()) != 0) {
        fprintf(stderr, "net-tap: init failed\n");
        return 1;
    }
    l_echo = net_tcp_listen(&st, 7, 128);
    l_sink = net_tcp_listen(&st, 9, 128);
    l_source = net_tcp_listen(&st, 19, 128);
    l_http = net_tcp_listen(&st, 80, 128);
    l_reset = net_tcp_listen(&st, 13, 16);
    l_slow = net_tcp_listen(&st, 8, 2);
    net_udp_bind(&st, 7);
    printf("ready\n");
    fflush(stdout);

    static uint8_t frame[2048];
    static char line[4096];
    size_t line_len = 0;
    for (;;) {
        uint64_t now = now_ms();
        impair_release(&dir_in, now, stack_in, 0);
        impair_release(&dir_out, now, tap_write, 0);
        app(now);
        uint64_t next = net_poll(&st, now);
        uint64_t hn = impair_next(&dir_in), ho = impair_next(&dir_out);
        if (hn < next) next = hn;
        if (ho < next) next = ho;
        int timeout = next > now ? (int)MIN_SZ(next - now, 50) : 0;
        struct pollfd pf[2] = { { tapfd, POLLIN, 0 }, { 0, POLLIN, 0 } };
        if (poll(pf, 2, timeout) < 0 && errno != EINTR)
            return 1;
        if (pf[0].revents & POLLIN) {
            for (int k = 0; k < 256; k++) {
                ssize_t n = read(tapfd, frame, sizeof frame);
                if (n <= 0)
                    break;
                impair_frame(&imp, &dir_in, now_ms(), frame, (size_t)n, stack_in, 0);
                if ((k & 15) == 15)
                    app(now_ms());
            }
        }
        if (pf[1].revents & (POLLIN | POLLHUP)) {
            ssize_t n = read(0, line + line_len, sizeof line - 1 - line_len);
            if (n <= 0)
                return 0;       /* the driver went away */
            line_len += (size_t)n;
            char *nl;
            while ((nl = memchr(line, '\n', line_len))) {
                *nl = 0;
                command(line, now_ms());
                size_t used = (size_t)(nl - line) + 1;
                memmove(line, line + used, line_len - used);
                line_len -= used;
            }
            if (line_len == sizeof line - 1)
                line_len = 0;
        }
    }
}
