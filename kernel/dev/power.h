#ifndef DEV_POWER_H
#define DEV_POWER_H
#include "types.h"
/* Status codes written to QEMU's isa-debug-exit device; QEMU exits with
 * (status << 1) | 1. Host harnesses read that exit code. */
#define POWER_STATUS_OK    0     /* QEMU exit 1 */
#define POWER_STATUS_PANIC 0x3f  /* QEMU exit 127 */
__attribute__((noreturn)) void power_off(uint32_t status);
#endif
