/*
 * A simulated Ethernet between two lib/net stacks, with a virtual clock and
 * seeded impairment (loss, duplication, reordering), for host unit tests.
 */
#ifndef NET_TEST_WIRE_H
#define NET_TEST_WIRE_H

#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>
#include "../../../lib/net/net.h"

#define NODE_TCBS 64

struct node {
    struct net_stack st;
    struct net_tcb tcb[NODE_TCBS];
    uint8_t *arena;
    int id;
    uint64_t rng;
    bool cut;                   /* frames it sends vanish */
    uint32_t echo_replies;
    uint32_t udp_got;
    size_t udp_len;
    uint8_t udp_last[20000];
    /* The last frame it sent, for tests that inspect output. */
    uint8_t last_tx[NET_FRAME_MAX];
    size_t last_len;
    uint32_t tx_count;
};

extern struct node A, B;
extern uint64_t now;
extern int failures, passes;

struct impair { uint32_t loss_pct10, dup_pct10, reorder_pct10; uint64_t seed; };

void wire_init(uint32_t sndbuf, uint32_t rcvbuf);
void wire_impair(const struct impair *im);
void wire_step(void);                       /* one millisecond */
void wire_run(uint32_t ms);
bool wire_run_until(bool (*done)(void), uint32_t max_ms);
void wire_inject(struct node *to, const uint8_t *frame, size_t len);
size_t wire_queued(void);

/* Frame builders for crafted input. */
size_t build_tcp(uint8_t *f, const struct node *from, const struct node *to, uint16_t sport,
                 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
                 const uint8_t *data, size_t len);
size_t build_ip(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, net_ip src, net_ip dst,
                uint8_t proto, uint16_t id, uint16_t frag, const uint8_t *payload, size_t len);
uint16_t test_cksum(const uint8_t *p, size_t n, uint32_t sum);

uint64_t ctr(const struct node *n, enum net_counter c);

#define CHECK(cond) do { if (!(cond)) { \
    printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); failures++; return; } } while (0)
#define RUN(fn) do { int f0_ = failures; fn(); if (failures == f0_) { passes++; \
    printf("ok   %s\n", #fn); } else printf("not ok %s\n", #fn); fflush(stdout); } while (0)

#define IP_A NET_IP(10, 0, 0, 1)
#define IP_B NET_IP(10, 0, 0, 2)

#endif
