/* The Internet checksum (RFC 1071), with the TCP/UDP pseudo-header. */
#include "internal.h"

uint32_t cksum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    /* The one's-complement sum does not depend on byte order (RFC 1071
     * 2(B)): the words are summed as the CPU loads them and the folded
     * result is swapped to network order once. Whole 64-bit words are
     * added with an end-around carry (2^64 is 1 modulo 2^16 - 1, so the
     * 64-bit one's-complement sum folds to the 16-bit one), four to a
     * step: about half the instructions of adding 32-bit halves, which
     * counts under an emulator that runs every instruction. */
    uint64_t s = 0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t w0, w1, w2, w3;
        __builtin_memcpy(&w0, p + i, 8);
        __builtin_memcpy(&w1, p + i + 8, 8);
        __builtin_memcpy(&w2, p + i + 16, 8);
        __builtin_memcpy(&w3, p + i + 24, 8);
        s += w0;
        s += s < w0;
        s += w1;
        s += s < w1;
        s += w2;
        s += s < w2;
        s += w3;
        s += s < w3;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        __builtin_memcpy(&w, p + i, 8);
        s += w;
        s += s < w;
    }
    s = (s & 0xffffffffu) + (s >> 32);
    for (; i + 1 < n; i += 2) {
        uint16_t h;
        __builtin_memcpy(&h, p + i, 2);
        s += h;
    }
    if (i < n) {                /* the odd byte is the high half of a zero-padded word */
        uint8_t last[2] = { p[i], 0 };
        uint16_t h;
        __builtin_memcpy(&h, last, 2);
        s += h;
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s = (s >> 8 | s << 8) & 0xffff;
#endif
    s += sum;
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
