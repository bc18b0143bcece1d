/*
 * IPv4 reassembly within fixed bounds: NET_FRAG_SLOTS datagrams of at most
 * NET_FRAG_MAX payload bytes.  Anything else is dropped and counted:
 * too big, conflicting overlaps, timeout, or evicted (oldest first) when
 * a new datagram needs a slot.
 */
#include "internal.h"

#define FRAG_TIMEOUT_MS 30000

static bool bit_get(const uint8_t *b, uint32_t i) { return b[i / 8] >> (i % 8) & 1; }
static void bit_set(uint8_t *b, uint32_t i) { b[i / 8] |= (uint8_t)(1u << (i % 8)); }

void frag_input(struct net_stack *st, net_ip src, net_ip dst, uint8_t proto, uint16_t id,
                uint32_t off, bool more, const uint8_t *p, size_t n, bool bcast)
{
    CNT(st, ip_frag_rx);
    /* Every fragment but the last carries a multiple of 8 bytes. */
    if ((more && (n == 0 || n % 8)) || (!more && n == 0 && off == 0)) {
        CNT(st, drop_frag_malformed);
        return;
    }
    struct net_frag *f = 0, *fresh = 0;
    for (int i = 0; i < NET_FRAG_SLOTS; i++) {
        struct net_frag *s = &st->frags[i];
        if (s->used && s->src == src && s->dst == dst && s->id == id && s->proto == proto) {
            f = s;
            break;
        }
        if (!s->used && !fresh)
            fresh = s;
    }
    if (off + n > NET_FRAG_MAX) {
        CNT(st, drop_frag_too_big);
        if (f)
            f->used = false;
        return;
    }
    if (!f) {
        if (!fresh) {
            /* All slots busy: the oldest datagram makes way, so incomplete
             * ones (a flood, or plain loss) cannot hold reassembly for the
             * whole timeout. */
            fresh = &st->frags[0];
            for (int i = 1; i < NET_FRAG_SLOTS; i++)
                if ((int32_t)(st->frags[i].order - fresh->order) < 0)
                    fresh = &st->frags[i];
            CNT(st, drop_frag_evicted);
        }
        f = fresh;
        f->used = true;
        f->have_last = false;
        f->src = src;
        f->dst = dst;
        f->id = id;
        f->proto = proto;
        f->total = 0;
        f->expires = st->now + FRAG_TIMEOUT_MS;
        f->order = st->frag_order++;
        memset(f->have, 0, sizeof f->have);
    }
    uint32_t first = off / 8, last = (uint32_t)((off + n + 7) / 8);   /* blocks [first, last) */
    uint32_t seen = 0;
    for (uint32_t b = first; b < last; b++)
        seen += bit_get(f->have, b);
    if (seen) {
        /* An exact duplicate is harmless; anything else is an overlap attack. */
        if (seen == last - first && memcmp(f->data + off, p, n) == 0)
            return;
        CNT(st, drop_frag_overlap);
        f->used = false;
        return;
    }
    if (!more) {
        if (f->have_last || (f->total && f->total != off + n)) {
            CNT(st, drop_frag_malformed);
            f->used = false;
            return;
        }
        f->have_last = true;
        f->total = (uint32_t)(off + n);
    }
    if (f->have_last && off + n > f->total) {
        CNT(st, drop_frag_malformed);
        f->used = false;
        return;
    }
    memcpy(f->data + off, p, n);
    for (uint32_t b = first; b < last; b++)
        bit_set(f->have, b);
    if (!f->have_last)
        return;
    for (uint32_t b = 0; b < (f->total + 7) / 8; b++)
        if (!bit_get(f->have, b))
            return;
    f->used = false;
    CNT(st, ip_reassembled);
    ip_deliver(st, src, dst, proto, f->data, f->total, bcast);
}

void frag_timers(struct net_stack *st)
{
    for (int i = 0; i < NET_FRAG_SLOTS; i++)
        if (st->frags[i].used && st->frags[i].expires <= st->now) {
            st->frags[i].used = false;
            CNT(st, drop_frag_timeout);
        }
}
