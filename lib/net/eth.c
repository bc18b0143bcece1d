/* Ethernet II: demultiplex received frames, frame outgoing ones. */
#include "internal.h"

const uint8_t net_bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void net_input(struct net_stack *st, uint64_t now, const uint8_t *f, size_t n)
{
    if (now > st->now)
        st->now = now;
    CNT(st, rx_frames);
    if (n < ETH_HDR) {
        CNT(st, drop_eth_short);
        return;
    }
    /* Ours, broadcast; all other multicast and unicast is someone else's. */
    if (memcmp(f, st->cfg.mac, 6) != 0 && memcmp(f, net_bcast_mac, 6) != 0) {
        CNT(st, drop_eth_not_for_us);
        return;
    }
    uint16_t type = rd16(f + 12);
    if (type == ETH_TYPE_ARP)
        arp_input(st, f + ETH_HDR, n - ETH_HDR);
    else if (type == ETH_TYPE_IP)
        ip_input(st, f + ETH_HDR, n - ETH_HDR);
    else
        CNT(st, drop_eth_type);
}

/* The payload is already at st->tx + ETH_HDR. */
void eth_send(struct net_stack *st, const uint8_t dst[6], uint16_t type, size_t payload_len)
{
    memcpy(st->tx, dst, 6);
    memcpy(st->tx + 6, st->cfg.mac, 6);
    wr16(st->tx + 12, type);
    size_t n = ETH_HDR + payload_len;
    if (n < 60) {           /* minimum frame size without FCS */
        memset(st->tx + n, 0, 60 - n);
        n = 60;
    }
    CNT(st, tx_frames);
    st->io.tx(st->io.ctx, st->tx, n);
}
