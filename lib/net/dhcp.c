/*
 * DHCP client (RFC 2131, options RFC 2132): INIT -> SELECTING -> REQUESTING
 * -> BOUND -> RENEWING -> REBINDING, with retransmission back-off and lease
 * timers.  The address, mask and router (and the first DNS server, kept
 * for whoever asks) are installed when bound.
 */
#include "internal.h"

enum { D_OFF, D_SELECTING, D_REQUESTING, D_BOUND, D_RENEWING, D_REBINDING };
#define DHCP_RETRY_MS 2000      /* RFC 2131 suggests 4 s; shorter suits a LAN and the tests */
#define DHCP_RETRY_MAX_MS 32000
#define DHCP_MAX_TRIES 5

static uint32_t dhcp_rand32(struct net_stack *st)
{
    uint8_t b[4];
    st->io.random(st->io.ctx, b, sizeof b);
    struct net_rd r = rd_init(b, sizeof b);
    return rd_u32(&r);
}

static void dhcp_send(struct net_stack *st, uint8_t type)
{
    struct net_dhcp *d = &st->dhcp;
    uint8_t m[BOOTP_MIN_LEN];
    struct net_wr w = wr_init(m, sizeof m);
    bool renewing = d->state == D_RENEWING || d->state == D_REBINDING;
    uint64_t secs = (st->now - d->start) / 1000;
    wr_u8(&w, BOOTP_REQUEST);
    wr_u8(&w, BOOTP_HTYPE_ETHER);
    wr_u8(&w, ETH_ADDR_LEN);
    wr_u8(&w, 0);                       /* hops */
    wr_u32(&w, d->xid);
    wr_u16(&w, (uint16_t)MIN(secs, 0xffffu));
    /* Broadcast replies while we have no address to receive them on. */
    wr_u16(&w, renewing ? 0 : BOOTP_FLAG_BROADCAST);
    wr_u32(&w, renewing ? d->lease_ip : 0);     /* ciaddr */
    wr_u32(&w, 0);                      /* yiaddr */
    wr_u32(&w, 0);                      /* siaddr */
    wr_u32(&w, 0);                      /* giaddr */
    wr_bytes(&w, st->cfg.mac, ETH_ADDR_LEN);
    wr_zero(&w, BOOTP_CHADDR_LEN - ETH_ADDR_LEN + BOOTP_SNAME_LEN + BOOTP_FILE_LEN);
    wr_u32(&w, DHCP_MAGIC);
    wr_u8(&w, DHCP_OPT_MSG_TYPE); wr_u8(&w, 1); wr_u8(&w, type);
    wr_u8(&w, DHCP_OPT_CLIENT_ID); wr_u8(&w, 1 + ETH_ADDR_LEN); wr_u8(&w, BOOTP_HTYPE_ETHER);
    wr_bytes(&w, st->cfg.mac, ETH_ADDR_LEN);
    if (type == DHCP_REQUEST && d->state == D_REQUESTING) {
        wr_u8(&w, DHCP_OPT_REQUESTED_IP); wr_u8(&w, 4); wr_u32(&w, d->offered);
        wr_u8(&w, DHCP_OPT_SERVER_ID); wr_u8(&w, 4); wr_u32(&w, d->server);
    }
    static const uint8_t want[] = { DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS, DHCP_OPT_LEASE_TIME,
                                    DHCP_OPT_RENEWAL_T1, DHCP_OPT_REBIND_T2 };
    wr_u8(&w, DHCP_OPT_PARAM_LIST); wr_u8(&w, sizeof want); wr_bytes(&w, want, sizeof want);
    wr_u8(&w, DHCP_OPT_END);
    wr_zero(&w, sizeof m - wr_len(&w));     /* pad to the BOOTP minimum */
    if (!wr_ok(&w))
        return;
    net_ip src = renewing ? d->lease_ip : 0;
    net_ip dst = d->state == D_RENEWING ? d->server : IP_ADDR_BCAST;
    if (type == DHCP_DISCOVER)
        CNT(st, dhcp_discover_tx);
    else
        CNT(st, dhcp_request_tx);
    udp_send_from(st, src, DHCP_CLIENT_PORT, dst, DHCP_SERVER_PORT, m, wr_len(&w));
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
    dhcp_send(st, DHCP_DISCOVER);
    dhcp_retry_at(st);
}

void net_dhcp_start(struct net_stack *st, uint64_t now)
{
    if (now > st->now)
        st->now = now;
    st->ip = st->netmask = st->gateway = st->dns = 0;
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
    net_ip server, mask, router, dns;
    uint32_t lease, t1, t2;
};

static bool dhcp_parse(struct net_rd *r, struct dhcp_opts *o)
{
    memset(o, 0, sizeof *o);
    while (rd_ok(r) && rd_left(r)) {
        uint8_t code = rd_u8(r);
        if (code == DHCP_OPT_PAD)
            continue;
        if (code == DHCP_OPT_END)
            return true;
        size_t len = rd_u8(r);
        struct net_rd v = rd_sub(r, len);
        switch (code) {
        case DHCP_OPT_MSG_TYPE: if (len == 1) o->type = rd_u8(&v); break;
        case DHCP_OPT_SERVER_ID: if (len == 4) o->server = rd_u32(&v); break;
        case DHCP_OPT_SUBNET_MASK: if (len == 4) o->mask = rd_u32(&v); break;
        case DHCP_OPT_ROUTER: if (len >= 4) o->router = rd_u32(&v); break;   /* the first */
        case DHCP_OPT_DNS: if (len >= 4) o->dns = rd_u32(&v); break;         /* the first */
        case DHCP_OPT_LEASE_TIME: if (len == 4) o->lease = rd_u32(&v); break;
        case DHCP_OPT_RENEWAL_T1: if (len == 4) o->t1 = rd_u32(&v); break;
        case DHCP_OPT_REBIND_T2: if (len == 4) o->t2 = rd_u32(&v); break;
        default: break;
        }
    }
    return false;           /* truncated, or no end option */
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
    d->dns = o->dns;
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
    st->dns = d->dns;
    CNT(st, dhcp_bound);
    if (st->io.event)
        st->io.event(st->io.ctx, NET_EV_DHCP_BOUND, 0);
}

void dhcp_input(struct net_stack *st, struct net_rd *r)
{
    struct net_dhcp *d = &st->dhcp;
    if (d->state == D_OFF || d->state == D_BOUND)
        return;
    uint8_t op = rd_u8(r), htype = rd_u8(r), hlen = rd_u8(r);
    rd_skip(r, 1);                      /* hops */
    uint32_t xid = rd_u32(r);
    rd_skip(r, 2 + 2 + 4);              /* secs, flags, ciaddr */
    net_ip yiaddr = rd_u32(r);
    rd_skip(r, 4 + 4);                  /* siaddr, giaddr */
    const uint8_t *chaddr = rd_bytes(r, BOOTP_CHADDR_LEN);
    rd_skip(r, BOOTP_SNAME_LEN + BOOTP_FILE_LEN);
    uint32_t magic = rd_u32(r);
    if (!rd_ok(r) || op != BOOTP_REPLY || htype != BOOTP_HTYPE_ETHER || hlen != ETH_ADDR_LEN ||
        xid != d->xid || memcmp(chaddr, st->cfg.mac, ETH_ADDR_LEN) != 0 || magic != DHCP_MAGIC) {
        CNT(st, drop_dhcp_malformed);
        return;
    }
    struct dhcp_opts o;
    if (!dhcp_parse(r, &o)) {
        CNT(st, drop_dhcp_malformed);
        return;
    }
    if (o.type == DHCP_OFFER && d->state == D_SELECTING) {
        if (!yiaddr || yiaddr == IP_ADDR_BCAST || !o.server) {
            CNT(st, drop_dhcp_malformed);
            return;
        }
        CNT(st, dhcp_offer_rx);
        d->offered = yiaddr;
        d->server = o.server;
        d->state = D_REQUESTING;
        d->tries = 0;
        dhcp_send(st, DHCP_REQUEST);
        dhcp_retry_at(st);
    } else if (o.type == DHCP_ACK && d->state != D_SELECTING) {
        if (!yiaddr || (d->state == D_REQUESTING && yiaddr != d->offered)) {
            CNT(st, drop_dhcp_malformed);
            return;
        }
        CNT(st, dhcp_ack_rx);
        dhcp_bind(st, yiaddr, &o);
    } else if (o.type == DHCP_NAK && d->state != D_SELECTING) {
        CNT(st, dhcp_nak_rx);
        st->ip = st->netmask = st->gateway = st->dns = 0;
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
        dhcp_send(st, DHCP_DISCOVER);
        dhcp_retry_at(st);
        break;
    case D_REQUESTING:
        if (d->tries >= DHCP_MAX_TRIES) {
            dhcp_discover(st);
            break;
        }
        dhcp_send(st, DHCP_REQUEST);
        dhcp_retry_at(st);
        break;
    case D_BOUND:
    case D_RENEWING:
    case D_REBINDING:
        if (st->now >= d->t_expire) {
            CNT(st, dhcp_lease_expired);
            st->ip = st->netmask = st->gateway = st->dns = 0;
            dhcp_discover(st);
            break;
        }
        d->state = st->now >= d->t_rebind ? D_REBINDING : D_RENEWING;
        if (d->state == D_RENEWING && d->tries == 0)
            d->xid = dhcp_rand32(st);
        dhcp_send(st, DHCP_REQUEST);
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
