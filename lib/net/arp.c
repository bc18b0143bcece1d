/*
 * ARP (RFC 826) for IPv4 over Ethernet: a fixed cache whose entries expire,
 * and a bounded queue of frames waiting for a resolution.
 */
#include "internal.h"

enum { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };
#define ARP_RETRY_MS 1000
#define ARP_MAX_TRIES 3
#define ARP_REFRESH_MS 10000    /* ask again this long before expiry, keep using the entry */
#define ARP_RECENT_MS 10000     /* a resolved entry used this recently is never evicted */

static uint32_t arp_ttl(const struct net_stack *st)
{
    return st->cfg.arp_ttl_ms ? st->cfg.arp_ttl_ms : 60000;
}

static struct net_arp_entry *arp_find(struct net_stack *st, net_ip ip)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (st->arp[i].state != ARP_FREE && st->arp[i].ip == ip)
            return &st->arp[i];
    return 0;
}

static void arp_drop_pending(struct net_stack *st, net_ip hop)
{
    for (int i = 0; i < NET_ARP_PENDING; i++)
        if (st->pending[i].used && st->pending[i].next_hop == hop) {
            st->pending[i].used = false;
            CNT(st, drop_arp_unresolved);
        }
}

/*
 * A cache slot.  Free first; else an unresolved entry (oldest first, its
 * waiting frames dropped) or a resolved one idle for ARP_RECENT_MS (least
 * recently used first).  A resolved entry in recent use is never given up,
 * least of all for an address that may never answer (a spoofed flood);
 * then there is no slot.  For a resolved address idle entries go first,
 * for an unresolved one the unresolved.
 */
static struct net_arp_entry *arp_slot(struct net_stack *st, bool resolved)
{
    struct net_arp_entry *incomplete = 0, *idle = 0;
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *e = &st->arp[i];
        switch (e->state) {
        case ARP_FREE:
            return e;
        case ARP_INCOMPLETE:
            if (!incomplete || e->used < incomplete->used)
                incomplete = e;
            break;
        case ARP_RESOLVED:
            if (st->now - e->used >= ARP_RECENT_MS && (!idle || e->used < idle->used))
                idle = e;
            break;
        }
    }
    struct net_arp_entry *victim = resolved ? (idle ? idle : incomplete) : (incomplete ? incomplete : idle);
    if (!victim)
        return 0;
    if (victim->state == ARP_INCOMPLETE)
        arp_drop_pending(st, victim->ip);
    CNT(st, arp_cache_evict);
    victim->state = ARP_FREE;
    return victim;
}

static void arp_send(struct net_stack *st, uint16_t op, const uint8_t tha[ETH_ADDR_LEN], net_ip tpa,
                     const uint8_t *eth_dst)
{
    uint8_t t[ETH_ADDR_LEN], d[ETH_ADDR_LEN];
    memcpy(t, tha, ETH_ADDR_LEN);       /* both may point into a received frame */
    memcpy(d, eth_dst, ETH_ADDR_LEN);
    struct net_wr w = wr_init(st->tx + ETH_HDR, sizeof st->tx - ETH_HDR);
    wr_u16(&w, ARP_HTYPE_ETHER);
    wr_u16(&w, ETH_TYPE_IP);
    wr_u8(&w, ETH_ADDR_LEN);
    wr_u8(&w, ARP_PLEN_IP);
    wr_u16(&w, op);
    wr_bytes(&w, st->cfg.mac, ETH_ADDR_LEN);
    wr_u32(&w, st->ip);
    wr_bytes(&w, t, ETH_ADDR_LEN);
    wr_u32(&w, tpa);
    if (op == ARP_OP_REQUEST)
        CNT(st, arp_request_tx);
    else
        CNT(st, arp_reply_tx);
    eth_send(st, d, ETH_TYPE_ARP, wr_len(&w));
}

static void arp_request(struct net_stack *st, net_ip ip)
{
    static const uint8_t zero[ETH_ADDR_LEN];
    arp_send(st, ARP_OP_REQUEST, zero, ip, net_bcast_mac);
}

/* Send every queued frame for `ip` now that its address is known. */
static void arp_flush(struct net_stack *st, net_ip ip, const uint8_t mac[ETH_ADDR_LEN])
{
    for (int i = 0; i < NET_ARP_PENDING; i++) {
        struct net_arp_pending *q = &st->pending[i];
        if (!q->used || q->next_hop != ip)
            continue;
        eth_header(st, q->frame, mac, ETH_TYPE_IP);
        CNT(st, tx_frames);
        st->io.tx(st->io.ctx, q->frame, q->len);
        q->used = false;
    }
}

void arp_learn(struct net_stack *st, net_ip ip, const uint8_t mac[ETH_ADDR_LEN], bool create)
{
    struct net_arp_entry *e = arp_find(st, ip);
    if (!e) {
        if (!create || !(e = arp_slot(st, true)))
            return;
        e->used = st->now;
    }
    e->ip = ip;
    memcpy(e->mac, mac, ETH_ADDR_LEN);
    e->state = ARP_RESOLVED;
    e->tries = 0;
    e->expires = st->now + arp_ttl(st);
    e->refresh_sent = 0;
    arp_flush(st, ip, mac);
}

void arp_input(struct net_stack *st, struct net_rd *r)
{
    CNT(st, arp_rx);
    uint16_t htype = rd_u16(r), ptype = rd_u16(r);
    uint8_t hlen = rd_u8(r), plen = rd_u8(r);
    uint16_t op = rd_u16(r);
    const uint8_t *sha = rd_bytes(r, ETH_ADDR_LEN);
    net_ip spa = rd_u32(r);
    rd_skip(r, ETH_ADDR_LEN);           /* target hardware address */
    net_ip tpa = rd_u32(r);
    if (!rd_ok(r) || htype != ARP_HTYPE_ETHER || ptype != ETH_TYPE_IP || hlen != ETH_ADDR_LEN ||
        plen != ARP_PLEN_IP || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
        CNT(st, drop_arp_malformed);
        return;
    }
    /* Never learn broadcast/multicast senders or our own address. */
    bool sane = spa != 0 && !ip_is_bcast(st, spa) && !IP_NET_MULTICAST(spa) &&
                !(sha[0] & ETH_ADDR_GROUP_BIT);
    bool for_us = st->ip != 0 && tpa == st->ip;
    /* RFC 826 merge: update an existing entry; create one only if addressed to us. */
    if (sane && spa != st->ip)
        arp_learn(st, spa, sha, for_us);
    if (!for_us) {
        CNT(st, drop_arp_not_for_us);
        return;
    }
    /*
     * Requests for our address are answered, ARP probes too (sender
     * 0.0.0.0, RFC 5227 2.1.1): the reply, to the prober's hardware
     * address, tells it the address is taken.
     */
    bool probe = spa == 0 && !(sha[0] & ETH_ADDR_GROUP_BIT);
    if (op == ARP_OP_REQUEST && (sane || probe)) {
        if (probe)
            CNT(st, arp_probe_rx);
        arp_send(st, ARP_OP_REPLY, sha, spa, sha);
    }
}

bool net_arp_lookup(const struct net_stack *st, net_ip ip, uint8_t mac[ETH_ADDR_LEN])
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (st->arp[i].state == ARP_RESOLVED && st->arp[i].ip == ip) {
            memcpy(mac, st->arp[i].mac, ETH_ADDR_LEN);
            return true;
        }
    return false;
}

/*
 * A place in the queue of frames waiting for ARP.  At most
 * NET_ARP_PENDING_PER_HOP per destination (its oldest makes way); with the
 * queue full the oldest frame of all makes way, so addresses that never
 * answer cannot keep the queue from anyone else for long.
 */
static struct net_arp_pending *pending_slot(struct net_stack *st, net_ip hop)
{
    struct net_arp_pending *free_q = 0, *oldest = 0, *oldest_hop = 0;
    uint32_t for_hop = 0;
    for (int i = 0; i < NET_ARP_PENDING; i++) {
        struct net_arp_pending *q = &st->pending[i];
        if (!q->used) {
            if (!free_q)
                free_q = q;
            continue;
        }
        if (!oldest || q->queued < oldest->queued)
            oldest = q;
        if (q->next_hop == hop) {
            for_hop++;
            if (!oldest_hop || q->queued < oldest_hop->queued)
                oldest_hop = q;
        }
    }
    struct net_arp_pending *q = for_hop >= NET_ARP_PENDING_PER_HOP ? oldest_hop : free_q ? free_q : oldest;
    if (q->used) {
        CNT(st, drop_arp_pending_full);
        q->used = false;
    }
    return q;
}

/* The IP packet sits at st->tx + ETH_HDR; send it or park it until resolved. */
void arp_resolve_and_send(struct net_stack *st, net_ip hop, size_t ip_len)
{
    if (hop == IP_ADDR_BCAST || ip_is_bcast(st, hop)) {
        eth_send(st, net_bcast_mac, ETH_TYPE_IP, ip_len);
        return;
    }
    struct net_arp_entry *e = arp_find(st, hop);
    if (e && e->state == ARP_RESOLVED && e->expires > st->now) {
        e->used = st->now;
        /* Refresh ahead of expiry so a busy flow never stalls on ARP. */
        if (e->expires - st->now < ARP_REFRESH_MS && st->now - e->refresh_sent >= ARP_RETRY_MS) {
            e->refresh_sent = st->now;
            eth_send(st, e->mac, ETH_TYPE_IP, ip_len);
            arp_request(st, hop);
            return;
        }
        eth_send(st, e->mac, ETH_TYPE_IP, ip_len);
        return;
    }
    if (!e) {
        e = arp_slot(st, false);
        if (!e) {
            CNT(st, drop_arp_cache_full);
            return;
        }
        e->ip = hop;
        e->state = ARP_INCOMPLETE;
        e->tries = 0;
        e->expires = 0;
        e->used = st->now;
    } else if (e->state == ARP_RESOLVED) {
        e->state = ARP_INCOMPLETE;      /* expired */
        e->tries = 0;
        e->expires = 0;
    }
    /* Park the frame; the destination address is filled in once known (arp_flush). */
    struct net_arp_pending *q = pending_slot(st, hop);
    eth_header(st, st->tx, net_bcast_mac, ETH_TYPE_IP);
    size_t n = eth_pad(st->tx, ETH_HDR + ip_len);
    memcpy(q->frame, st->tx, n);
    q->len = (uint16_t)n;
    q->next_hop = hop;
    q->queued = st->now;
    q->used = true;
    CNT(st, arp_pending_queued);
    if (e->expires <= st->now) {
        e->tries++;
        e->expires = st->now + ARP_RETRY_MS;
        arp_request(st, hop);
    }
}

void arp_timers(struct net_stack *st)
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *e = &st->arp[i];
        if (e->state == ARP_RESOLVED && e->expires <= st->now) {
            e->state = ARP_FREE;
        } else if (e->state == ARP_INCOMPLETE && e->expires <= st->now) {
            if (e->tries >= ARP_MAX_TRIES) {
                arp_drop_pending(st, e->ip);
                e->state = ARP_FREE;
            } else {
                e->tries++;
                e->expires = st->now + ARP_RETRY_MS;
                arp_request(st, e->ip);
            }
        }
    }
}
