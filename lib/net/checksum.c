/* The Internet checksum (RFC 1071), with the TCP/UDP pseudo-header. */
#include "internal.h"

uint32_t cksum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    /* Summing 32-bit big-endian words and folding gives the same
     * one's-complement sum as 16-bit words (RFC 1071 2(B)), in half the steps. */
    uint64_t s = sum;
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        s += (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | (uint32_t)p[i + 2] << 8 | p[i + 3];
    for (; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        s += (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

uint16_t cksum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t cksum_pseudo(net_ip src, net_ip dst, uint8_t proto, uint16_t len)
{
    uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    return sum + proto + len;
}
