/* hostile: a misbehaving SSH client for tests/ssh.  Connects to 127.0.0.1:PORT,
 * misbehaves in the way MODE says, then reports what the server did:
 *   local_port=N            (to find the connection in the server log)
 *   disconnect="REASON"     (if the server sent SSH_MSG_DISCONNECT)
 *   auth=failure methods=.. (password / kbdint modes)
 *   closed=1 after_ms=N     (the server closed the connection)
 * Exit status 0 if the server closed the connection, 1 otherwise. */
#define _GNU_SOURCE
#include "sshc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fd;

static int x_send(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w; n -= (size_t)w;
    }
    return 0;
}

static size_t x_recv(void *ctx, uint8_t *p, size_t n)
{
    (void)ctx;
    ssize_t r = recv(fd, p, n, 0);
    return r > 0 ? (size_t)r : 0;
}

static uint64_t ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct sshc C;

static void report_disconnect(void)
{
    struct ssh_rd r;
    size_t dl;
    rd_init(&r, C.last + 5, C.last_len - 5);
    const uint8_t *d = rd_str(&r, &dl);
    printf("disconnect=\"%.*s\" code=%u\n", (int)dl, (const char *)d, be32(C.last + 1));
}

/* read until EOF, reporting a DISCONNECT if one arrives */
static int finish(uint64_t t0)
{
    if (C.last_len > 5 && C.last[0] == SSH_MSG_DISCONNECT) report_disconnect();
    for (;;) {
        int t = sshc_recv(&C);
        if (t == SSH_MSG_DISCONNECT) { report_disconnect(); continue; }
        if (t < 0) break;
    }
    /* drain anything left (e.g. undecodable bytes) until EOF */
    uint8_t b[4096];
    ssize_t r;
    while ((r = recv(fd, b, sizeof b, 0)) > 0) {}
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        printf("closed=1 after_ms=%llu\n", (unsigned long long)(ms() - t0));
        return 0;
    }
    printf("closed=0\n");
    return 1;
}

static void plain_packet(const uint8_t *payload, size_t n, int padding)
{
    uint8_t pkt[1024];
    size_t plen = 1 + n + (size_t)padding;
    put_be32(pkt, (uint32_t)plen);
    pkt[4] = (uint8_t)padding;
    memcpy(pkt + 5, payload, n);
    memset(pkt + 5 + n, 0, (size_t)padding);
    x_send(NULL, pkt, 4 + plen);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile PORT MODE [USER KEYSEED_HEX]\n");
        return 2;
    }
    if (sodium_init() < 0) return 2;
    const char *mode = argv[2];
    fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = { .tv_sec = 20 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("connect"); return 2; }
    struct sockaddr_in l;
    socklen_t ll = sizeof l;
    getsockname(fd, (struct sockaddr *)&l, &ll);
    printf("local_port=%u\n", ntohs(l.sin_port));
    fflush(stdout);

    C.xmit = x_send;
    C.recv = x_recv;
    sshc_init(&C);
    uint64_t t0 = ms();

    if (!strcmp(mode, "bad-banner")) {
        x_send(NULL, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18);
    } else if (!strcmp(mode, "banner-v1")) {
        x_send(NULL, (const uint8_t *)"SSH-1.5-ancient\r\n", 17);
    } else if (!strcmp(mode, "long-banner")) {
        char b[1000];
        memset(b, 'A', sizeof b);
        memcpy(b, "SSH-2.0-", 8);
        x_send(NULL, (const uint8_t *)b, sizeof b);
    } else if (!strcmp(mode, "nul-banner")) {
        x_send(NULL, (const uint8_t *)"SSH-2.0-x\0y\r\n", 13);
    } else if (!strcmp(mode, "stall")) {
        /* send nothing at all; the login grace timer must end this */
    } else if (!strcmp(mode, "stall-after-banner")) {
        if (sshc_banner(&C) < 0) return finish(t0);   /* sends ours, reads the server's */
    } else {
        if (sshc_banner(&C) < 0) return finish(t0);
        if (!strcmp(mode, "huge-length")) {
            uint8_t b[8] = { 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0 };
            x_send(NULL, b, sizeof b);
        } else if (!strcmp(mode, "bad-padding")) {
            uint8_t p[9] = { SSH_MSG_IGNORE, 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
            plain_packet(p, sizeof p, 2);           /* length 12 is fine, padding 2 < 4 is not */
        } else if (!strcmp(mode, "before-kex")) {
            uint8_t p[32];
            struct ssh_wr w;
            wr_init(&w, p, sizeof p);
            wr_u8(&w, SSH_MSG_SERVICE_REQUEST);
            wr_cstr(&w, "ssh-userauth");
            sshc_send(&C, p, wr_len(&w));
        } else if (!strcmp(mode, "no-common-kex")) {
            C.kex_list = "diffie-hellman-group14-sha256";
            (void)sshc_kex(&C);
        } else {
            if (sshc_kex(&C) < 0) { printf("handshake=failed\n"); return finish(t0); }
            printf("handshake=ok\n");
            if (!strcmp(mode, "bad-mac")) {
                uint8_t pkt[64];
                put_be32(pkt, 16);
                pkt[4] = 7;
                uint8_t msg[8] = { SSH_MSG_IGNORE, 0, 0, 0, 3, 'a', 'b', 'c' };
                memcpy(pkt + 5, msg, 8);
                memset(pkt + 13, 0, 7);
                ssh_cipher_seal(&C.k_out, C.seq_out, pkt, 16);
                pkt[4 + 16 + 3] ^= 0x40;            /* corrupt the tag */
                x_send(NULL, pkt, 4 + 16 + 16);
            } else if (!strcmp(mode, "garbage-after-newkeys")) {
                uint8_t g[512];
                randombytes_buf(g, sizeof g);
                x_send(NULL, g, sizeof g);
            } else if (!strcmp(mode, "password") || !strcmp(mode, "kbdint")) {
                if (sshc_service(&C) < 0) return finish(t0);
                uint8_t p[128];
                struct ssh_wr w;
                wr_init(&w, p, sizeof p);
                wr_u8(&w, SSH_MSG_USERAUTH_REQUEST);
                wr_cstr(&w, argc > 3 ? argv[3] : "alice");
                wr_cstr(&w, "ssh-connection");
                if (!strcmp(mode, "password")) {
                    wr_cstr(&w, "password"); wr_u8(&w, 0); wr_cstr(&w, "hunter2");
                } else {
                    wr_cstr(&w, "keyboard-interactive"); wr_cstr(&w, ""); wr_cstr(&w, "");
                }
                sshc_send(&C, p, wr_len(&w));
                int t = sshc_recv_skip(&C);
                if (t == SSH_MSG_USERAUTH_FAILURE) {
                    struct ssh_rd r;
                    size_t ml;
                    rd_init(&r, C.last + 1, C.last_len - 1);
                    const uint8_t *m = rd_str(&r, &ml);
                    printf("auth=failure methods=%.*s partial=%d\n", (int)ml, (const char *)m, rd_u8(&r));
                } else {
                    printf("auth=unexpected type=%d\n", t);
                }
                close(fd);
                return 0;
            } else if (!strcmp(mode, "stall-after-kex")) {
                /* nothing: authenticate never */
            } else {
                fprintf(stderr, "unknown mode %s\n", mode);
                return 2;
            }
        }
    }
    return finish(t0);
}
