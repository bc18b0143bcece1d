/*
 * Initial sequence numbers (RFC 6528) and SYN cookies, both keyed with the
 * caller's secret through SipHash-2-4 (libsodium's crypto_shorthash).
 */
#include "internal.h"
#include <sodium/crypto_shorthash.h>

static uint64_t tcp_hash(const struct net_stack *st, uint8_t domain, net_ip lip, uint16_t lport,
                         net_ip rip, uint16_t rport, uint32_t extra, uint32_t t)
{
    uint8_t in[21], out[crypto_shorthash_BYTES];
    in[0] = domain;
    wr32(in + 1, lip);
    wr16(in + 5, lport);
    wr32(in + 7, rip);
    wr16(in + 11, rport);
    wr32(in + 13, extra);
    wr32(in + 17, t);
    crypto_shorthash(out, in, sizeof in, st->cfg.isn_secret);
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | out[i];
    return h;
}

/* ISN = M + F(4-tuple, secret), M a 4-microsecond clock (RFC 6528 section 3). */
uint32_t tcp_isn(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip, uint16_t rport)
{
    return (uint32_t)(st->now * 250) + (uint32_t)tcp_hash(st, 1, lip, lport, rip, rport, 0, 0);
}

/*
 * SYN cookie: 5 bits of a 64-second counter, 3 bits of MSS index, 24 bits
 * of keyed hash over the 4-tuple, the peer's ISN and the counter.
 */
static const uint16_t cookie_mss[8] = { 536, 1024, 1200, 1300, 1400, 1440, 1452, 1460 };
#define COOKIE_PERIOD_MS 64000

uint32_t tcp_cookie_make(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                         uint16_t rport, uint32_t peer_isn, uint16_t mss)
{
    uint32_t t = (uint32_t)(st->now / COOKIE_PERIOD_MS);
    uint32_t idx = 0;
    for (uint32_t i = 0; i < 8; i++)
        if (cookie_mss[i] <= mss)
            idx = i;
    uint32_t h = (uint32_t)tcp_hash(st, 2, lip, lport, rip, rport, peer_isn, t) & 0xffffff;
    return (t & 31) << 27 | idx << 24 | h;
}

int tcp_cookie_check(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                     uint16_t rport, uint32_t peer_isn, uint32_t cookie)
{
    uint32_t now_t = (uint32_t)(st->now / COOKIE_PERIOD_MS);
    for (uint32_t back = 0; back < 2; back++) {
        uint32_t t = now_t - back;
        if ((t & 31) != cookie >> 27)
            continue;
        uint32_t h = (uint32_t)tcp_hash(st, 2, lip, lport, rip, rport, peer_isn, t) & 0xffffff;
        /* Constant-time compare of the 24 hash bits. */
        if (((h ^ cookie) & 0xffffff) == 0)
            return cookie_mss[cookie >> 24 & 7];
    }
    return 0;
}
