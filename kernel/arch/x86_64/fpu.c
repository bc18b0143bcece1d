/*
 * Per-thread FPU/SSE/AVX state. With XSAVE (CPUID.1:ECX.XSAVE) the kernel
 * turns on OSXSAVE and enables x87, SSE and AVX in XCR0, so user code (e.g.
 * libsodium's AVX2 paths) may use the YMM registers; every thread switch
 * saves and restores exactly those components. Without XSAVE it falls back
 * to FXSAVE (x87 and SSE). The kernel itself never touches these registers
 * (-mgeneral-regs-only).
 */
#include "fpu.h"
#include "cpu.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "c/string.h"

#define XFEATURES_WANTED 0x7ull       /* x87 | SSE | AVX */
#define CR4_OSXSAVE (1u << 18)

static bool use_xsave;
static uint64_t xcr0;
static size_t area_size = 512;

void fpu_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (c & (1u << 26)) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        cpuid(0xD, 0, &a, &b, &c, &d);
        xcr0 = (((uint64_t)d << 32) | a) & XFEATURES_WANTED;
        __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
        cpuid(0xD, 0, &a, &b, &c, &d);   /* EBX: the area size for what XCR0 now enables */
        area_size = b < 576 ? 576 : b;
        use_xsave = true;
    }
    kprintf("[kernel] fpu: %s, state %lu bytes per thread\n",
            use_xsave ? (xcr0 & 4 ? "XSAVE with AVX" : "XSAVE") : "FXSAVE", (unsigned long)area_size);
}

/* An application processor: the same XCR0 as the boot CPU's. */
void fpu_init_ap(void)
{
    if (use_xsave) {
        write_cr4(read_cr4() | CR4_OSXSAVE);
        __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
    }
}

struct fpu_state *fpu_alloc(void)
{
    uint8_t *raw = kmalloc(area_size + 64 + sizeof(void *));
    if (!raw)
        return 0;
    uint8_t *area = (uint8_t *)(((uintptr_t)raw + sizeof(void *) + 63) & ~(uintptr_t)63);
    ((void **)area)[-1] = raw;
    *(uint16_t *)&area[0] = 0x037F;                /* x87 control word: all masked */
    *(uint32_t *)&area[24] = 0x1F80;               /* MXCSR: all masked */
    return (struct fpu_state *)area;
}

void fpu_free(struct fpu_state *s)
{
    if (s)
        kfree(((void **)s)[-1]);
}

void fpu_save(struct fpu_state *s)
{
    if (use_xsave)
        __asm__ volatile("xsave64 (%0)" : : "r"(s), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(s) : "memory");
}

void fpu_restore(struct fpu_state *s)
{
    if (use_xsave)
        __asm__ volatile("xrstor64 (%0)" : : "r"(s), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(s) : "memory");
}
