#ifndef ARCH_LAPIC_H
#define ARCH_LAPIC_H
#include "types.h"
void     lapic_init(uint32_t hz);     /* periodic timer interrupt at hz */
void     lapic_eoi(void);
uint64_t time_now_ns(void);           /* monotonic, from the TSC */
uint64_t time_tsc_hz(void);
#endif
