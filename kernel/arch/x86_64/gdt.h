#ifndef ARCH_GDT_H
#define ARCH_GDT_H
#include "types.h"
#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_DS   0x23
#define USER_CS   0x2B
void gdt_init(uint32_t cpu);        /* this CPU's GDT and TSS (cpus[cpu]) */
void tss_set_kernel_stack(uint64_t top);
#endif
