/*
 * GDT and TSS. The selector order is what SYSCALL/SYSRET expect:
 *   0x08 kernel code, 0x10 kernel data,
 *   0x18 user code (32-bit, unused), 0x20 user data, 0x28 user code (64-bit),
 *   0x30 TSS (two slots).
 * The TSS supplies the kernel stack for interrupts from user mode (rsp0) and
 * a separate stack for double faults (IST1). Every CPU has its own GDT, TSS
 * and double-fault stack (a TSS is marked busy when loaded, so they cannot
 * be shared); the IDT is one for all.
 */
#include "gdt.h"
#include "percpu.h"
#include "c/string.h"

struct tss {
    uint32_t _r0;
    uint64_t rsp[3];
    uint64_t _r1;
    uint64_t ist[7];
    uint64_t _r2;
    uint16_t _r3;
    uint16_t iomap;
} __attribute__((packed));

static uint64_t gdts[MAX_CPUS][8];
static struct tss tsses[MAX_CPUS];
static uint8_t df_stacks[MAX_CPUS][8192] __attribute__((aligned(16)));

void gdt_init(uint32_t cpu)
{
    uint64_t *gdt = gdts[cpu];
    struct tss *tss = &tsses[cpu];
    gdt[0] = 0;
    gdt[1] = 0x00209A0000000000ull;  /* kernel code 64 */
    gdt[2] = 0x0000920000000000ull;  /* kernel data */
    gdt[3] = 0x00CFFA000000FFFFull;  /* user code 32 */
    gdt[4] = 0x0000F20000000000ull;  /* user data */
    gdt[5] = 0x0020FA0000000000ull;  /* user code 64 */

    memset(tss, 0, sizeof *tss);
    tss->iomap = sizeof *tss;        /* no I/O permission bitmap */
    tss->ist[0] = (uint64_t)df_stacks[cpu] + sizeof df_stacks[cpu];
    uint64_t base = (uint64_t)tss, limit = sizeof *tss - 1;
    gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
             (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[7] = base >> 32;

    struct { uint16_t lim; uint64_t base; } __attribute__((packed)) ptr = { sizeof gdts[cpu] - 1, (uint64_t)gdt };
    __asm__ volatile(
        "lgdt %0\n"
        "pushq $0x08\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"
        "1: movw $0x10, %%ax\n"
        "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%ss\n"
        "xorw %%ax, %%ax\n movw %%ax, %%fs\n movw %%ax, %%gs\n"
        "movw $0x30, %%ax\n ltr %%ax\n"
        : : "m"(ptr) : "rax", "memory");
}

/* Binds on: called by the CPU whose TSS it is (the GS base names it). */
void tss_set_kernel_stack(uint64_t top)
{
    tsses[this_cpu()->index].rsp[0] = top;
}
