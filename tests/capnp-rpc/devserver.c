/*
 * The loopback dev server: lib/capnp-rpc serving the test bootstrap
 * (testsrv.c) on 127.0.0.1, one crpc_conn per TCP connection, poll()
 * driven.  What the host interop tests run the C++ client, our C client
 * and the hostile frames against, before any of it runs in the guest.
 *
 * Prints "listening PORT", then one line per connection that ends:
 *   closed N reason=NAME live=L dropped=D exports=E
 * (live: table entries left after the close, 0 unless something leaked;
 * dropped: exports ended; exports: exports made).
 * Usage: devserver [--port N] [--key HEX32]...   (authorized Ed25519 keys)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testsrv.h"

#define MAX_CONNS 64
#define RX_CAP (80 * 1024)

struct dconn {
    int fd;
    unsigned id;
    struct tsrv t;
    uint8_t rx[RX_CAP];
    size_t rx_len;
    bool closing;
};

#define MAX_KEYS 4
static uint8_t auth_keys[MAX_KEYS][32];
static int nkeys;

static void sodium_random(uint8_t *b, size_t n)
{
    randombytes_buf(b, n);
}

static int sodium_verify(const uint8_t *sig, const uint8_t *msg, size_t len, const uint8_t *pk)
{
    return crypto_sign_verify_detached(sig, msg, len, pk);
}

static void conn_end(struct dconn *c)
{
    crpc_close(&c->t.rpc);
    printf("closed %u reason=%s live=%u dropped=%d calls=%llu\n", c->id,
           crpc_reason_name(c->t.rpc.reason), crpc_live(&c->t.rpc), c->t.dropped,
           (unsigned long long)c->t.rpc.calls);
    close(c->fd);
    free(c);
}

/* Write what is queued; false when the peer is gone. */
static bool flush(struct dconn *c)
{
    size_t n;
    const uint8_t *o = crpc_output(&c->t.rpc, &n);
    while (n) {
        ssize_t w = write(c->fd, o, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        crpc_output_done(&c->t.rpc, (size_t)w);
        o = crpc_output(&c->t.rpc, &n);
    }
    return true;
}

/* Read and handle; false when the connection is over. */
static bool service(struct dconn *c)
{
    ssize_t r = read(c->fd, c->rx + c->rx_len, sizeof c->rx - c->rx_len);
    if (r <= 0)
        return false;
    c->rx_len += (size_t)r;
    size_t off = 0;
    for (;;) {
        size_t used;
        crpc_event ev;
        int rc = crpc_input(&c->t.rpc, c->rx + off, c->rx_len - off, &used, &ev);
        if (!flush(c))
            return false;
        if (rc == CRPC_MORE)
            break;
        if (rc != CRPC_OK)
            return false;
        off += used;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    return true;
}

int main(int argc, char **argv)
{
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            size_t n = 0;
            const char *h = argv[++i];
            if (nkeys == MAX_KEYS || sodium_hex2bin(auth_keys[nkeys], 32, h, strlen(h), 0, &n, 0) || n != 32) {
                fprintf(stderr, "devserver: --key wants 64 hex digits (at most %d keys)\n", MAX_KEYS);
                return 2;
            }
            nkeys++;
        } else {
            fprintf(stderr, "usage: devserver [--port N] [--key HEX32]\n");
            return 2;
        }
    }
    if (sodium_init() < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, 0, _IOLBF, 0);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 64)) {
        perror("devserver: bind");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    printf("listening %d\n", ntohs(a.sin_port));

    struct dconn *conns[MAX_CONNS] = { 0 };
    unsigned next_id = 1;
    for (;;) {
        struct pollfd p[MAX_CONNS + 1];
        p[0].fd = ls;
        p[0].events = POLLIN;
        for (int i = 0; i < MAX_CONNS; i++) {
            p[i + 1].fd = conns[i] ? conns[i]->fd : -1;
            p[i + 1].events = POLLIN;
        }
        if (poll(p, MAX_CONNS + 1, -1) < 0 && errno != EINTR)
            return 1;
        if (p[0].revents & POLLIN) {
            int fd = accept(ls, 0, 0);
            int slot = -1;
            for (int i = 0; i < MAX_CONNS && fd >= 0; i++)
                if (!conns[i]) {
                    slot = i;
                    break;
                }
            if (slot < 0) {
                if (fd >= 0)
                    close(fd);
            } else {
                struct dconn *c = calloc(1, sizeof *c);
                c->fd = fd;
                c->id = next_id++;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                tsrv_init(&c->t, 0);
                c->t.random = sodium_random;
                c->t.verify = sodium_verify;
                c->t.keys = auth_keys;
                c->t.nkeys = nkeys;
                conns[slot] = c;
            }
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            if (!conns[i] || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!service(conns[i])) {
                conn_end(conns[i]);
                conns[i] = 0;
            }
        }
    }
}
