/*
 * The receive side's buffer: in-order data appended to the receive ring,
 * out-of-order data kept in place in the ring and remembered as ranges
 * (which are also the SACK blocks we send, RFC 2018).
 */
#include "internal.h"

/* Merge [start,end) into the out-of-order list, newest first (RFC 2018 4). */
static void ooo_add(struct net_tcb *t, uint32_t start, uint32_t end)
{
    struct net_seq_range r = { start, end };
    struct net_seq_range out[NET_OOO_RANGES + 1];
    int n = 0;
    for (int i = 0; i < t->nooo; i++) {
        struct net_seq_range o = t->ooo[i];
        if (SEQ_LE(o.start, r.end) && SEQ_LE(r.start, o.end)) {
            if (SEQ_LT(o.start, r.start)) r.start = o.start;
            if (SEQ_GT(o.end, r.end)) r.end = o.end;
        } else {
            out[1 + n++] = o;
        }
    }
    out[0] = r;
    n++;                        /* the caller made sure this fits */
    memcpy(t->ooo, out, sizeof(out[0]) * (size_t)n);
    t->nooo = (uint8_t)n;
}

/* Bytes in [rcv_nxt, ...) that are now contiguous thanks to earlier out-of-order data. */
static uint32_t ooo_advance(struct net_tcb *t)
{
    uint32_t gained = 0;
    bool again = true;
    while (again) {
        again = false;
        for (int i = 0; i < t->nooo; i++) {
            struct net_seq_range o = t->ooo[i];
            if (SEQ_LE(o.start, t->rcv_nxt)) {
                if (SEQ_GT(o.end, t->rcv_nxt)) {
                    gained += o.end - t->rcv_nxt;
                    t->rcv_nxt = o.end;
                }
                t->ooo[i] = t->ooo[--t->nooo];
                again = true;
                break;
            }
        }
    }
    return gained;
}

/* Copy payload at sequence `seq` into the receive ring. */
static void rbuf_copy(struct net_tcb *t, uint32_t seq, const uint8_t *p, uint32_t n)
{
    uint32_t off = t->rlen + (seq - t->rcv_nxt);
    uint32_t pos = (t->rhead + off) % t->rcap;
    uint32_t first = MIN(n, t->rcap - pos);
    memcpy(t->rbuf + pos, p, first);
    memcpy(t->rbuf, p + first, n - first);
}

/*
 * Copy payload at `seq` into the receive ring, keeping every byte already
 * held out of order: the first copy received of a byte wins, whatever the
 * shape of the overlap (one rule, as most stacks; RFC 9293 leaves it open).
 */
static void rbuf_put(struct net_tcb *t, uint32_t seq, const uint8_t *p, uint32_t n)
{
    uint32_t at = seq, end = seq + n;
    while (SEQ_LT(at, end)) {
        uint32_t stop = end;
        bool held = false;
        for (int i = 0; i < t->nooo; i++) {
            const struct net_seq_range *o = &t->ooo[i];
            if (SEQ_LE(o->start, at) && SEQ_LT(at, o->end)) {
                held = true;
                stop = SEQ_LT(o->end, end) ? o->end : end;
                break;
            }
            if (SEQ_GT(o->start, at) && SEQ_LT(o->start, stop))
                stop = o->start;
        }
        if (!held)
            rbuf_copy(t, at, p + (at - seq), stop - at);
        at = stop;
    }
}

/* Data at rcv_nxt: append it, and whatever out-of-order data it joins up with. */
uint32_t tcp_rcv_in_order(struct net_tcb *t, const struct tcp_seg *s)
{
    rbuf_put(t, s->seq, s->data, s->len);
    t->rcv_nxt += s->len;
    uint32_t more = ooo_advance(t);
    t->rlen += s->len + more;
    if (t->rd_shut) {       /* reading was shut down: consume and discard */
        t->rhead = (t->rhead + t->rlen) % t->rcap;
        t->rlen = 0;
    }
    return more;
}

/*
 * Data above rcv_nxt: keep it in place in the ring and remember the range.
 * With every range slot taken, a segment that extends no range is dropped
 * (false): forgetting a range we have SACKed would renege, and the sender
 * would wait on us.
 */
bool tcp_rcv_out_of_order(struct net_tcb *t, const struct tcp_seg *s)
{
    bool merges = false;
    for (int i = 0; i < t->nooo; i++)
        if (SEQ_LE(t->ooo[i].start, s->seq + s->len) && SEQ_LE(s->seq, t->ooo[i].end))
            merges = true;
    if (t->nooo >= NET_OOO_RANGES && !merges)
        return false;
    rbuf_put(t, s->seq, s->data, s->len);
    ooo_add(t, s->seq, s->seq + s->len);
    return true;
}
