/*
 * Initial sequence numbers (RFC 6528) and SYN cookies, both keyed with the
 * caller's secret through SipHash-2-4 (libsodium's crypto_shorthash).
 */
#include "internal.h"
#include <sodium/crypto_shorthash.h>

enum { HASH_ISN = 1, HASH_COOKIE = 2, HASH_TS = 3 };         /* domain separation */

static uint64_t tcp_hash(const struct net_stack *st, uint8_t domain, net_ip lip, uint16_t lport,
                         net_ip rip, uint16_t rport, uint32_t extra, uint32_t t)
{
    uint8_t in[21], out[crypto_shorthash_BYTES];
    struct net_wr w = wr_init(in, sizeof in);
    wr_u8(&w, domain);
    wr_u32(&w, lip);
    wr_u16(&w, lport);
    wr_u32(&w, rip);
    wr_u16(&w, rport);
    wr_u32(&w, extra);
    wr_u32(&w, t);
    crypto_shorthash(out, in, sizeof in, st->cfg.isn_secret);
    struct net_rd r = rd_init(out, sizeof out);
    uint64_t hi = rd_u32(&r);
    return hi << 32 | rd_u32(&r);
}

/* ISN = M + F(4-tuple, secret), M a 4-microsecond clock (RFC 6528 section 3). */
uint32_t tcp_isn(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip, uint16_t rport)
{
    return (uint32_t)(st->now * 250) + (uint32_t)tcp_hash(st, HASH_ISN, lip, lport, rip, rport, 0, 0);
}

/*
 * SYN cookie: 5 bits of a 64-second counter, 3 bits of MSS index, 24 bits
 * of keyed hash over the 4-tuple, the peer's ISN and the counter.
 */
static const uint16_t cookie_mss[] = { TCP_MSS_DEFAULT, 1024, 1200, 1300, 1400, 1440, 1452, 1460 };
#define COOKIE_PERIOD_MS 64000
#define COOKIE_T_SHIFT   27
#define COOKIE_T_MASK    0x1fu
#define COOKIE_MSS_SHIFT 24
#define COOKIE_MSS_MASK  0x7u
#define COOKIE_HASH_MASK 0xffffffu

uint32_t tcp_cookie_make(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                         uint16_t rport, uint32_t peer_isn, uint16_t mss)
{
    uint32_t t = (uint32_t)(st->now / COOKIE_PERIOD_MS);
    uint32_t idx = 0;
    for (uint32_t i = 0; i < sizeof cookie_mss / sizeof cookie_mss[0]; i++)
        if (cookie_mss[i] <= mss)
            idx = i;
    uint32_t h = (uint32_t)tcp_hash(st, HASH_COOKIE, lip, lport, rip, rport, peer_isn, t) & COOKIE_HASH_MASK;
    return (t & COOKIE_T_MASK) << COOKIE_T_SHIFT | idx << COOKIE_MSS_SHIFT | h;
}

int tcp_cookie_check(const struct net_stack *st, net_ip lip, uint16_t lport, net_ip rip,
                     uint16_t rport, uint32_t peer_isn, uint32_t cookie)
{
    uint32_t now_t = (uint32_t)(st->now / COOKIE_PERIOD_MS);
    for (uint32_t back = 0; back < 2; back++) {
        uint32_t t = now_t - back;
        if ((t & COOKIE_T_MASK) != cookie >> COOKIE_T_SHIFT)
            continue;
        uint32_t h = (uint32_t)tcp_hash(st, HASH_COOKIE, lip, lport, rip, rport, peer_isn, t) & COOKIE_HASH_MASK;
        /* Constant-time compare of the 24 hash bits. */
        if (((h ^ cookie) & COOKIE_HASH_MASK) == 0)
            return cookie_mss[cookie >> COOKIE_MSS_SHIFT & COOKIE_MSS_MASK];
    }
    return 0;
}

/*
 * RFC 7323 timestamps: the caller's millisecond clock plus a per-boot
 * offset from the secret, so TSval never shows the raw clock (Linux
 * offsets per connection; one offset per secret is enough here).
 */
uint32_t tcp_ts_now(const struct net_stack *st)
{
    return (uint32_t)st->now + (uint32_t)tcp_hash(st, HASH_TS, 0, 0, 0, 0, 0, 0);
}

/*
 * The window scale and SACK-permitted of a SYN answered with a cookie ride
 * in the low bits of our TSval, as Linux's cookie_init_timestamp: 4 bits
 * of shift (COOKIE_TS_WS_NONE: not offered), the SACK bit and an ECN bit
 * (always clear: no ECN here).  The peer echoes it in the final ACK.
 */
#define COOKIE_TS_MASK    0x3fu
#define COOKIE_TS_WS_MASK 0xfu
#define COOKIE_TS_WS_NONE 0xfu
#define COOKIE_TS_SACK    0x10u

uint32_t tcp_cookie_ts(const struct net_stack *st, int wscale, bool sack_perm)
{
    uint32_t now = tcp_ts_now(st);
    uint32_t opts = (wscale >= 0 ? (uint32_t)wscale : COOKIE_TS_WS_NONE) | (sack_perm ? COOKIE_TS_SACK : 0);
    uint32_t ts = (now & ~COOKIE_TS_MASK) | opts;
    if ((int32_t)(ts - now) > 0)        /* never ahead of the clock */
        ts -= COOKIE_TS_MASK + 1;
    return ts;
}

/* False when the echoed bits cannot be ours (a shift over the maximum). */
bool tcp_cookie_ts_decode(uint32_t tsecr, int *wscale, bool *sack_perm)
{
    uint32_t ws = tsecr & COOKIE_TS_WS_MASK;
    if (ws != COOKIE_TS_WS_NONE && ws > TCP_WSCALE_MAX)
        return false;
    *wscale = ws == COOKIE_TS_WS_NONE ? -1 : (int)ws;
    *sack_perm = (tsecr & COOKIE_TS_SACK) != 0;
    return true;
}
