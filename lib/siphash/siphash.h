/*
 * SipHash-2-4 (Aumasson and Bernstein), a keyed PRF with a 64-bit output.
 * The kernel derives opaque caller references with it (the kernel cannot
 * link libsodium, whose objects expect a user-mode TLS canary); user space
 * should use libsodium's crypto_shorthash, which is the same function.
 * Written from the paper; tested against the reference vectors.
 */
#ifndef CAPOS_SIPHASH_H
#define CAPOS_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);
#endif
