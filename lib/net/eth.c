/* Ethernet II: demultiplex received frames, frame outgoing ones. */
#include "internal.h"

const uint8_t net_bcast_mac[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_input(struct net_stack *st, uint64_t now, const uint8_t *f, size_t n)
{
    if (now > st->now)
        st->now = now;
    CNT(st, rx_frames);
    struct net_rd r = rd_init(f, n);
    const uint8_t *dst = rd_bytes(&r, ETH_ADDR_LEN);
    rd_skip(&r, ETH_ADDR_LEN);          /* source */
    uint16_t type = rd_u16(&r);
    if (!rd_ok(&r)) {
        CNT(st, drop_eth_short);
        return;
    }
    /* Ours, broadcast; all other multicast and unicast is someone else's. */
    if (memcmp(dst, st->cfg.mac, ETH_ADDR_LEN) != 0 && memcmp(dst, net_bcast_mac, ETH_ADDR_LEN) != 0) {
        CNT(st, drop_eth_not_for_us);
        return;
    }
    struct net_rd payload = rd_rest(&r);
    if (type == ETH_TYPE_ARP)
        arp_input(st, &payload);
    else if (type == ETH_TYPE_IP)
        ip_input(st, &payload);
    else
        CNT(st, drop_eth_type);
}

/* The Ethernet header of a frame to `dst`, at the start of `frame`. */
void eth_header(struct net_stack *st, uint8_t *frame, const uint8_t dst[ETH_ADDR_LEN], uint16_t type)
{
    struct net_wr w = wr_init(frame, ETH_HDR);
    wr_bytes(&w, dst, ETH_ADDR_LEN);
    wr_bytes(&w, st->cfg.mac, ETH_ADDR_LEN);
    wr_u16(&w, type);
}

/* Pad to the minimum frame size; returns the length to send. */
size_t eth_pad(uint8_t *frame, size_t n)
{
    if (n >= ETH_MIN_FRAME)
        return n;
    struct net_wr w = wr_init(frame, ETH_MIN_FRAME);
    w.len = n;
    wr_zero(&w, ETH_MIN_FRAME - n);
    return ETH_MIN_FRAME;
}

/* The payload is already at st->tx + ETH_HDR. */
void eth_send(struct net_stack *st, const uint8_t dst[ETH_ADDR_LEN], uint16_t type, size_t payload_len)
{
    uint8_t d[ETH_ADDR_LEN];
    memcpy(d, dst, ETH_ADDR_LEN);       /* dst may point into st->tx */
    eth_header(st, st->tx, d, type);
    size_t n = eth_pad(st->tx, ETH_HDR + payload_len);
    CNT(st, tx_frames);
    st->io.tx(st->io.ctx, st->tx, n);
}
