/*
 * A client connection and the test server wired back to back in memory,
 * for the unit tests and the fuzzer: pump() moves every queued byte across
 * and collects the client's events.
 */
#ifndef PAIR_H
#define PAIR_H

#include <string.h>

#include "testsrv.h"

#define PAIR_EVENTS 32

struct client {
    crpc_conn rpc;
    struct crpc_question q[16];
    struct crpc_answer a[4];
    struct crpc_import im[16];
    struct crpc_export ex[4];
    uint8_t out[16384];
    uint8_t scratch[1024];
};

struct pair {
    struct client c;
    struct tsrv s;
    /* what the client received, kept whole so events stay readable */
    uint8_t rx[65536];
    size_t rx_len;
    crpc_event ev[PAIR_EVENTS];
    uint32_t nev;
    /* an event points into the connection's current message: keep each */
    capnp_msg ev_msg[PAIR_EVENTS];
    uint32_t ev_caps[PAIR_EVENTS][CRPC_MAX_CAPS];
    int server_rc, client_rc; /* last crpc_input results */
};

static inline void client_init(struct client *c)
{
    crpc_mem m = { c->q, 16, c->a, 4, c->im, 16, c->ex, 4, c->out, sizeof c->out,
                   c->scratch, sizeof c->scratch };
    crpc_init(&c->rpc, &m, 0);
}

/* Keep event i readable after the connection moves on (the input bytes
 * themselves must stay where they are). */
static inline void keep_event(crpc_conn *rpc, crpc_event *ev, capnp_msg *m, uint32_t *caps)
{
    *m = rpc->in;
    for (uint32_t k = 0; k < ev->ncaps && k < CRPC_MAX_CAPS; k++)
        caps[k] = ev->caps[k];
    m->caps = caps;
    ev->caps = caps;
    ev->payload.msg = m;
}

/* Feed bytes to a connection, one message at a time. */
static inline int feed(crpc_conn *rpc, const uint8_t *buf, size_t len, crpc_event *evs,
                       uint32_t *nev, uint32_t max, capnp_msg *msgs, uint32_t (*caps)[CRPC_MAX_CAPS])
{
    size_t off = 0;
    int rc = CRPC_OK;
    while (off < len) {
        size_t used;
        crpc_event ev;
        rc = crpc_input(rpc, buf + off, len - off, &used, &ev);
        if (ev.kind != CRPC_EV_NONE && nev && *nev < max) {
            if (msgs && ev.kind == CRPC_EV_RETURN)
                keep_event(rpc, &ev, &msgs[*nev], caps[*nev]);
            evs[(*nev)++] = ev;
        }
        if (rc != CRPC_OK)
            break;
        off += used;
    }
    return rc;
}

/* Move bytes both ways until both queues are empty. */
static inline void pump(struct pair *p)
{
    for (int round = 0; round < 64; round++) {
        size_t n;
        const uint8_t *o = crpc_output(&p->c.rpc, &n);
        bool moved = false;
        if (n) {
            uint8_t tmp[16384];
            memcpy(tmp, o, n);
            crpc_output_done(&p->c.rpc, n);
            p->server_rc = feed(&p->s.rpc, tmp, n, 0, 0, 0, 0, 0);
            moved = true;
        }
        o = crpc_output(&p->s.rpc, &n);
        if (n) {
            if (p->rx_len + n > sizeof p->rx)
                p->rx_len = 0;
            memcpy(p->rx + p->rx_len, o, n);
            crpc_output_done(&p->s.rpc, n);
            p->client_rc = feed(&p->c.rpc, p->rx + p->rx_len, n, p->ev, &p->nev, PAIR_EVENTS,
                                p->ev_msg, p->ev_caps);
            p->rx_len += n;
            moved = true;
        }
        if (!moved)
            return;
    }
}

#endif
