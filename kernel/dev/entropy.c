/*
 * Entropy for the kernel's secrets (the boot key behind caller references).
 * RDRAND where the CPU has it (TCG's -cpu max does); with none, callers fail
 * closed: no secret, no endpoints.
 */
#include "entropy.h"
#include "arch/x86_64/cpu.h"

bool entropy_available(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    return c & (1u << 30);
}

static bool rdrand64(uint64_t *v)
{
    for (int tries = 0; tries < 32; tries++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
        if (ok)
            return true;
    }
    return false;
}

bool entropy_get(void *buf, size_t len)
{
    if (!entropy_available())
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
