/*
 * RDRAND, for the kernel (dev/entropy.c) and the user runtime (getrandom in
 * user/rt/posix.c).
 *
 * Header-only on purpose: it is a CPUID test and one instruction in a retry
 * loop, and the kernel and the runtime are built with different flags
 * (-mcmodel=kernel, -mgeneral-regs-only on one side), so an inline copy in
 * each is simpler than one more library object built twice. Freestanding:
 * only <stdint.h>, <stddef.h> and <stdbool.h>.
 */
#ifndef CPU_RDRAND_H
#define CPU_RDRAND_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* CPUID.1:ECX bit 30. TCG's -cpu max has it. */
static inline bool rdrand_available(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return c & (1u << 30);
}

/* One 64-bit value. RDRAND may transiently fail (carry clear); Intel's
 * guidance is to retry a bounded number of times, here 32. */
static inline bool rdrand64(uint64_t *v)
{
    for (int tries = 0; tries < 32; tries++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

/* Fill len bytes (little-endian order of each value). false when the CPU has
 * no RDRAND (buf untouched) or it keeps failing (buf partly written).
 * len 0 always succeeds. */
static inline bool rdrand_fill(void *buf, size_t len)
{
    if (len && !rdrand_available())
        return false;
    uint8_t *p = buf;
    while (len) {
        uint64_t v;
        if (!rdrand64(&v))
            return false;
        size_t n = len < 8 ? len : 8;
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(v >> (8 * i));
        p += n;
        len -= n;
    }
    return true;
}
#endif
