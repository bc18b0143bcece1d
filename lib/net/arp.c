/*
 * ARP (RFC 826) for IPv4 over Ethernet: a fixed cache whose entries expire,
 * and a bounded queue of frames waiting for a resolution.
 */
#include "internal.h"

enum { ARP_FREE, ARP_INCOMPLETE, ARP_RESOLVED };
#define ARP_RETRY_MS 1000
#define ARP_MAX_TRIES 3
#define ARP_REFRESH_MS 10000    /* ask again this long before expiry, keep using the entry */

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

/* A free entry, else the one expiring first (incomplete ones last). */
static struct net_arp_entry *arp_slot(struct net_stack *st)
{
    struct net_arp_entry *victim = 0;
    for (int i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *e = &st->arp[i];
        if (e->state == ARP_FREE)
            return e;
        if (e->state == ARP_RESOLVED && (!victim || e->expires < victim->expires))
            victim = e;
    }
    if (!victim)
        victim = &st->arp[0];
    CNT(st, arp_cache_evict);
    return victim;
}

static void arp_send(struct net_stack *st, uint16_t op, const uint8_t tha[6], net_ip tpa,
                     const uint8_t *eth_dst)
{
    uint8_t *p = st->tx + ETH_HDR;
    wr16(p, 1);             /* Ethernet */
    wr16(p + 2, ETH_TYPE_IP);
    p[4] = 6;
    p[5] = 4;
    wr16(p + 6, op);
    memcpy(p + 8, st->cfg.mac, 6);
    wr32(p + 14, st->ip);
    memcpy(p + 18, tha, 6);
    wr32(p + 24, tpa);
    if (op == 1)
        CNT(st, arp_request_tx);
    else
        CNT(st, arp_reply_tx);
    eth_send(st, eth_dst, ETH_TYPE_ARP, 28);
}

static void arp_request(struct net_stack *st, net_ip ip)
{
    static const uint8_t zero[6];
    arp_send(st, 1, zero, ip, net_bcast_mac);
}

/* Send every queued frame for `ip` now that its address is known. */
static void arp_flush(struct net_stack *st, net_ip ip, const uint8_t mac[6])
{
    for (int i = 0; i < NET_ARP_PENDING; i++) {
        struct net_arp_pending *q = &st->pending[i];
        if (!q->used || q->next_hop != ip)
            continue;
        memcpy(q->frame, mac, 6);
        CNT(st, tx_frames);
        st->io.tx(st->io.ctx, q->frame, q->len);
        q->used = false;
    }
}

void arp_learn(struct net_stack *st, net_ip ip, const uint8_t mac[6], bool create)
{
    struct net_arp_entry *e = arp_find(st, ip);
    if (!e) {
        if (!create)
            return;
        e = arp_slot(st);
    }
    e->ip = ip;
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->tries = 0;
    e->expires = st->now + arp_ttl(st);
    e->refresh_sent = 0;
    arp_flush(st, ip, mac);
}

void arp_input(struct net_stack *st, const uint8_t *p, size_t n)
{
    CNT(st, arp_rx);
    if (n < 28 || rd16(p) != 1 || rd16(p + 2) != ETH_TYPE_IP || p[4] != 6 || p[5] != 4) {
        CNT(st, drop_arp_malformed);
        return;
    }
    uint16_t op = rd16(p + 6);
    net_ip spa = rd32(p + 14), tpa = rd32(p + 24);
    const uint8_t *sha = p + 8;
    if (op != 1 && op != 2) {
        CNT(st, drop_arp_malformed);
        return;
    }
    /* Never learn broadcast/multicast senders or our own address. */
    bool sane = spa != 0 && !ip_is_bcast(st, spa) && (spa >> 28) != 0xe && !(sha[0] & 1);
    bool for_us = st->ip != 0 && tpa == st->ip;
    /* RFC 826 merge: update an existing entry; create one only if addressed to us. */
    if (sane && spa != st->ip)
        arp_learn(st, spa, sha, for_us);
    if (!for_us) {
        CNT(st, drop_arp_not_for_us);
        return;
    }
    if (op == 1 && sane)
        arp_send(st, 2, sha, spa, sha);
}

bool net_arp_lookup(const struct net_stack *st, net_ip ip, uint8_t mac[6])
{
    for (int i = 0; i < NET_ARP_ENTRIES; i++)
        if (st->arp[i].state == ARP_RESOLVED && st->arp[i].ip == ip) {
            memcpy(mac, st->arp[i].mac, 6);
            return true;
        }
    return false;
}

/* The IP packet sits at st->tx + ETH_HDR; send it or park it until resolved. */
void arp_resolve_and_send(struct net_stack *st, net_ip hop, size_t ip_len)
{
    if (hop == 0xffffffffu || ip_is_bcast(st, hop)) {
        eth_send(st, net_bcast_mac, ETH_TYPE_IP, ip_len);
        return;
    }
    struct net_arp_entry *e = arp_find(st, hop);
    if (e && e->state == ARP_RESOLVED && e->expires > st->now) {
        /* Refresh ahead of expiry so a busy flow never stalls on ARP. */
        if (e->expires - st->now < ARP_REFRESH_MS && st->now - e->refresh_sent >= ARP_RETRY_MS) {
            e->refresh_sent = st->now;
            uint8_t mac[6];
            memcpy(mac, e->mac, 6);
            eth_send(st, mac, ETH_TYPE_IP, ip_len);
            arp_request(st, hop);
            return;
        }
        eth_send(st, e->mac, ETH_TYPE_IP, ip_len);
        return;
    }
    /* Park the frame (Ethernet header filled in except the destination). */
    struct net_arp_pending *q = 0;
    for (int i = 0; i < NET_ARP_PENDING; i++)
        if (!st->pending[i].used) {
            q = &st->pending[i];
            break;
        }
    if (!q) {
        CNT(st, drop_arp_pending_full);
    } else {
        size_t n = ETH_HDR + ip_len;
        memcpy(st->tx + 6, st->cfg.mac, 6);
        wr16(st->tx + 12, ETH_TYPE_IP);
        if (n < 60) {
            memset(st->tx + n, 0, 60 - n);
            n = 60;
        }
        memcpy(q->frame, st->tx, n);
        q->len = (uint16_t)n;
        q->next_hop = hop;
        q->queued = st->now;
        q->used = true;
        CNT(st, arp_pending_queued);
    }
    if (!e) {
        e = arp_slot(st);
        e->ip = hop;
        e->state = ARP_INCOMPLETE;
        e->tries = 0;
        e->expires = 0;
    } else if (e->state == ARP_RESOLVED) {
        e->state = ARP_INCOMPLETE;      /* expired */
        e->tries = 0;
        e->expires = 0;
    }
    if (e->expires <= st->now) {
        e->tries++;
        e->expires = st->now + ARP_RETRY_MS;
        arp_request(st, hop);
    }
}

static void arp_drop_pending(struct net_stack *st, net_ip hop)
{
    for (int i = 0; i < NET_ARP_PENDING; i++)
        if (st->pending[i].used && st->pending[i].next_hop == hop) {
            st->pending[i].used = false;
            CNT(st, drop_arp_unresolved);
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
