/*
 * DHCP client (RFC 2131, options RFC 2132): INIT -> SELECTING -> REQUESTING
 * -> BOUND -> RENEWING -> REBINDING, with retransmission back-off and lease
 * timers.  The address, mask and router are installed when bound.
 */
#include "internal.h"

enum { D_OFF, D_SELECTING, D_REQUESTING, D_BOUND, D_RENEWING, D_REBINDING };
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6 };
#define DHCP_FIXED 236
#define DHCP_MAGIC 0x63825363u
#define DHCP_RETRY_MS 2000      /* RFC 2131 suggests 4 s; shorter suits a LAN and the tests */
#define DHCP_RETRY_MAX_MS 32000
#define DHCP_MAX_TRIES 5

static uint32_t dhcp_rand32(struct net_stack *st)
{
    uint8_t b[4];
    st->io.random(st->io.ctx, b, 4);
    return rd32(b);
}

static void dhcp_send(struct net_stack *st, uint8_t type)
{
    struct net_dhcp *d = &st->dhcp;
    uint8_t m[DHCP_FIXED + 64];
    memset(m, 0, sizeof m);
    m[0] = 1;               /* BOOTREQUEST */
    m[1] = 1;
    m[2] = 6;
    wr32(m + 4, d->xid);
    uint64_t secs = (st->now - d->start) / 1000;
    wr16(m + 8, (uint16_t)MIN(secs, 0xffffu));
    bool renewing = d->state == D_RENEWING || d->state == D_REBINDING;
    if (!renewing)
        wr16(m + 10, 0x8000);   /* broadcast replies: we have no address to receive on */
    else
        wr32(m + 12, d->lease_ip);   /* ciaddr */
    memcpy(m + 28, st->cfg.mac, 6);
    uint8_t *o = m + DHCP_FIXED;
    wr32(o, DHCP_MAGIC);
    o += 4;
    *o++ = 53; *o++ = 1; *o++ = type;
    *o++ = 61; *o++ = 7; *o++ = 1;          /* client identifier: hardware address */
    memcpy(o, st->cfg.mac, 6);
    o += 6;
    if (type == REQUEST && d->state == D_REQUESTING) {
        *o++ = 50; *o++ = 4; wr32(o, d->offered); o += 4;
        *o++ = 54; *o++ = 4; wr32(o, d->server); o += 4;
    }
    *o++ = 55; *o++ = 5; *o++ = 1; *o++ = 3; *o++ = 51; *o++ = 58; *o++ = 59;
    *o++ = 255;
    size_t len = (size_t)(o - m);
    if (len < 300)          /* BOOTP minimum some servers insist on */
        len = 300 <= sizeof m ? 300 : sizeof m;
    net_ip src = renewing ? d->lease_ip : 0;
    net_ip dst = d->state == D_RENEWING ? d->server : 0xffffffffu;
    if (type == DISCOVER)
        CNT(st, dhcp_discover_tx);
    else
        CNT(st, dhcp_request_tx);
    udp_send_from(st, src, 68, dst, 67, m, len);
}

static void dhcp_retry_at(struct net_stack *st)
{
    struct net_dhcp *d = &st->dhcp;
    uint32_t delay = DHCP_RETRY_MS << MIN(d->tries, 4);
    d->t_next = st->now + MIN(delay, DHCP_RETRY_MAX_MS);
    d->tries++;
}

static void dhcp_discover(struct net_stack *st)
{
    struct net_dhcp *d = &st->dhcp;
    d->state = D_SELECTING;
    d->xid = dhcp_rand32(st);
    d->start = st->now;
    d->tries = 0;
    dhcp_send(st, DISCOVER);
    dhcp_retry_at(st);
}

void net_dhcp_start(struct net_stack *st, uint64_t now)
{
    if (now > st->now)
        st->now = now;
    st->ip = st->netmask = st->gateway = 0;
    dhcp_discover(st);
}

bool net_dhcp_bound(const struct net_stack *st)
{
    uint8_t s = st->dhcp.state;
    return s == D_BOUND || s == D_RENEWING || s == D_REBINDING;
}

/* Options we use, parsed within bounds; returns false on a malformed area. */
struct dhcp_opts {
    uint8_t type;
    net_ip server, mask, router;
    uint32_t lease, t1, t2;
};

static bool dhcp_parse(const uint8_t *o, size_t n, struct dhcp_opts *r)
{
    memset(r, 0, sizeof *r);
    size_t i = 0;
    while (i < n) {
        uint8_t code = o[i++];
        if (code == 0)
            continue;
        if (code == 255)
            return true;
        if (i >= n)
            return false;
        size_t len = o[i++];
        if (len > n - i)
            return false;
        const uint8_t *v = o + i;
        switch (code) {
        case 53: if (len == 1) r->type = v[0]; break;
        case 54: if (len == 4) r->server = rd32(v); break;
        case 1: if (len == 4) r->mask = rd32(v); break;
        case 3: if (len >= 4) r->router = rd32(v); break;
        case 51: if (len == 4) r->lease = rd32(v); break;
        case 58: if (len == 4) r->t1 = rd32(v); break;
        case 59: if (len == 4) r->t2 = rd32(v); break;
        }
        i += len;
    }
    return false;           /* no end option */
}

static void dhcp_bind(struct net_stack *st, net_ip yiaddr, const struct dhcp_opts *o)
{
    struct net_dhcp *d = &st->dhcp;
    d->lease_ip = yiaddr;
    d->lease_s = o->lease ? o->lease : 3600;
    d->t1_s = o->t1 && o->t1 < d->lease_s ? o->t1 : d->lease_s / 2;
    d->t2_s = o->t2 && o->t2 < d->lease_s && o->t2 > d->t1_s ? o->t2 : d->lease_s / 8 * 7;
    if (o->server)
        d->server = o->server;
    d->netmask = o->mask ? o->mask : 0xffffff00u;
    d->router = o->router;
    d->t_bound = st->now;
    d->t_renew = st->now + (uint64_t)d->t1_s * 1000;
    d->t_rebind = st->now + (uint64_t)d->t2_s * 1000;
    d->t_expire = st->now + (uint64_t)d->lease_s * 1000;
    d->t_next = d->t_renew;
    d->state = D_BOUND;
    d->tries = 0;
    st->ip = yiaddr;
    st->netmask = d->netmask;
    st->gateway = d->router;
    CNT(st, dhcp_bound);
    if (st->io.event)
        st->io.event(st->io.ctx, NET_EV_DHCP_BOUND, 0);
}

void dhcp_input(struct net_stack *st, const uint8_t *m, size_t n)
{
    struct net_dhcp *d = &st->dhcp;
    if (d->state == D_OFF || d->state == D_BOUND)
        return;
    if (n < DHCP_FIXED + 4 || m[0] != 2 || m[1] != 1 || m[2] != 6 || rd32(m + 4) != d->xid ||
        memcmp(m + 28, st->cfg.mac, 6) != 0 || rd32(m + DHCP_FIXED) != DHCP_MAGIC) {
        CNT(st, drop_dhcp_malformed);
        return;
    }
    struct dhcp_opts o;
    net_ip yiaddr = rd32(m + 16);
    if (!dhcp_parse(m + DHCP_FIXED + 4, n - DHCP_FIXED - 4, &o)) {
        CNT(st, drop_dhcp_malformed);
        return;
    }
    if (o.type == OFFER && d->state == D_SELECTING) {
        if (!yiaddr || yiaddr == 0xffffffffu || !o.server) {
            CNT(st, drop_dhcp_malformed);
            return;
        }
        CNT(st, dhcp_offer_rx);
        d->offered = yiaddr;
        d->server = o.server;
        d->state = D_REQUESTING;
        d->tries = 0;
        dhcp_send(st, REQUEST);
        dhcp_retry_at(st);
    } else if (o.type == ACK && d->state != D_SELECTING) {
        if (!yiaddr || (d->state == D_REQUESTING && yiaddr != d->offered)) {
            CNT(st, drop_dhcp_malformed);
            return;
        }
        CNT(st, dhcp_ack_rx);
        dhcp_bind(st, yiaddr, &o);
    } else if (o.type == NAK && d->state != D_SELECTING) {
        CNT(st, dhcp_nak_rx);
        st->ip = st->netmask = st->gateway = 0;
        dhcp_discover(st);
    }
}

void dhcp_timers(struct net_stack *st)
{
    struct net_dhcp *d = &st->dhcp;
    if (d->state == D_OFF || st->now < d->t_next)
        return;
    switch (d->state) {
    case D_SELECTING:
        dhcp_send(st, DISCOVER);
        dhcp_retry_at(st);
        break;
    case D_REQUESTING:
        if (d->tries >= DHCP_MAX_TRIES) {
            dhcp_discover(st);
            break;
        }
        dhcp_send(st, REQUEST);
        dhcp_retry_at(st);
        break;
    case D_BOUND:
    case D_RENEWING:
    case D_REBINDING:
        if (st->now >= d->t_expire) {
            CNT(st, dhcp_lease_expired);
            st->ip = st->netmask = st->gateway = 0;
            dhcp_discover(st);
            break;
        }
        d->state = st->now >= d->t_rebind ? D_REBINDING : D_RENEWING;
        if (d->state == D_RENEWING && d->tries == 0)
            d->xid = dhcp_rand32(st);
        dhcp_send(st, REQUEST);
        /* RFC 2131 4.4.5: retry at half the time left, at least 60 s. */
        uint64_t until = d->state == D_RENEWING ? d->t_rebind : d->t_expire;
        uint64_t wait = (until - st->now) / 2;
        d->t_next = st->now + MAX(wait, (uint64_t)60000);
        if (d->t_next > until)
            d->t_next = until;
        d->tries++;
        break;
    }
}
