/* The host build's stand-in for kernel/arch/x86_64/cpu.h: kernel code under
 * a host fuzz target runs as if with interrupts off (as the kernel calls it). */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H
#include "types.h"
static inline bool interrupts_enabled(void) { return false; }
static inline uint64_t rdtsc(void) { return 0; }
#endif
