/*
 * Little-endian loads and stores, byte by byte: message buffers come from
 * the network or a ring and need not be aligned, and the bytes are the wire
 * format whatever the host's byte order.
 */
#ifndef CAPNP_WIRE_H
#define CAPNP_WIRE_H

#include <stdint.h>

static inline uint16_t capnp_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t capnp_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t capnp_ld64(const uint8_t *p)
{
    return (uint64_t)capnp_ld32(p) | ((uint64_t)capnp_ld32(p + 4) << 32);
}

static inline void capnp_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void capnp_st32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void capnp_st64(uint8_t *p, uint64_t v)
{
    capnp_st32(p, (uint32_t)v);
    capnp_st32(p + 4, (uint32_t)(v >> 32));
}

/* Pointer kinds: the low two bits of every pointer word. */
enum { CAPNP_PTR_STRUCT = 0, CAPNP_PTR_LIST = 1, CAPNP_PTR_FAR = 2,
       CAPNP_PTR_OTHER = 3 };

#endif
