/*
 * Entropy for the kernel's secrets (the boot key behind caller references).
 * RDRAND where the CPU has it (TCG's -cpu max does); with none, callers fail
 * closed: no secret, no endpoints.
 */
#include "entropy.h"
#include "cpu/rdrand.h"

bool entropy_available(void)
{
    return rdrand_available();
}

bool entropy_get(void *buf, size_t len)
{
    if (!entropy_available())
        return false;
    return rdrand_fill(buf, len);
}
