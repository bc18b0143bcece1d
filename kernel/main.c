/*
 * kmain: from the multiboot hand-off to the first user process.
 */
#include "types.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/smp.h"
#include "sched/lock.h"
#include "dev/serial.h"
#include "mm/frame.h"
#include "mm/vm.h"
#include "mm/kheap.h"
#include "sched/sched.h"
#include "sched/process.h"
#include "cap/objects.h"
#include "cap/session.h"
#include "cap/endpoint.h"
#include "cap/device.h"
#include "dev/pci.h"
#include "c/string.h"

#define MB_BOOT_MAGIC 0x2BADB002
#define TICK_HZ 1000

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));
struct mb_mod { uint32_t start, end, string, reserved; };
struct mb_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

extern char _kernel_end[];
bool cpu_has_smap;
void syscall_init(void);

static char cmdline[128];

/* This CPU's control registers (every CPU runs it; the boot CPU reports). */
void cpu_init(bool boot)
{
    uint32_t a, b, c, d;
    cpuid(0x80000001, 0, &a, &b, &c, &d);
    if (!(d & (1u << 20)))
        panic("the CPU has no NX bit");
    write_cr0((read_cr0() & ~(uint64_t)(CR0_EM | CR0_TS)) | CR0_MP);
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpuid(7, 0, &a, &b, &c, &d);
    bool smep = b & (1u << 7), smap = b & (1u << 20), fsgs = b & 1u;
    /* Threads set their own FS base (their TLS block) with WRFSBASE: a
     * per-thread register, no authority involved; the scheduler saves it. */
    if (fsgs)
        cr4 |= CR4_FSGSBASE;
    if (smep)
        cr4 |= CR4_SMEP;
    if (smap)
        cr4 |= CR4_SMAP;
    cpu_has_smap = smap;
    write_cr4(cr4);
    if (boot)
        kprintf("[kernel] cpu: NX on, SMEP %s, SMAP %s, FSGSBASE %s\n", smep ? "on" : "not offered",
            smap ? "on" : "not offered", fsgs ? "on" : "not offered");
}

void kmain(uint32_t magic, uint32_t info_phys)
{
    uint64_t entry_tsc = rdtsc();
    serial_init();
    kprintf("\n[kernel] capOS booting (entry tsc %lu)\n", entry_tsc);
    if (magic != MB_BOOT_MAGIC)
        panic("not started by a multiboot loader (magic %x)", magic);
    const struct mb_info *mb = phys_to_virt(info_phys);
    if (!(mb->flags & (1u << 6)))
        panic("no memory map from the boot loader");

    /* Copy out what we need: the loader's tables may sit where the frame
     * bitmap is about to go. */
    static struct { paddr_t start, end; } ram[32];
    unsigned nram = 0;
    paddr_t max_phys = 0;
    for (uint32_t off = 0; off + 24 <= mb->mmap_length && nram < ARRAY_SIZE(ram);) {
        const struct mb_mmap *m = phys_to_virt(mb->mmap_addr + off);
        if (m->type == 1) {
            ram[nram].start = m->addr;
            ram[nram].end = m->addr + m->len;
            if (ram[nram].end > max_phys)
                max_phys = ram[nram].end;
            nram++;
        }
        off += m->size + 4;
    }
    if (max_phys > (64ull << 30))
        max_phys = 64ull << 30;
    paddr_t used_end = virt_to_phys(_kernel_end);
    const void *pkg = 0;
    size_t pkg_size = 0;
    if ((mb->flags & (1u << 3)) && mb->mods_count >= 1) {
        const struct mb_mod *mod = phys_to_virt(mb->mods_addr);
        pkg = phys_to_virt(mod->start);
        pkg_size = mod->end - mod->start;
        if (mod->end > used_end)
            used_end = mod->end;
    }
    if ((mb->flags & (1u << 2)) && mb->cmdline) {
        /* QEMU passes "<kernel path> <-append text>": keep what follows the path */
        const char *s = phys_to_virt(mb->cmdline);
        const char *sp = strchr(s, ' ');
        strlcpy(cmdline, sp ? sp + 1 : "", sizeof cmdline);
    }

    paddr_t bitmap = ALIGN_UP(used_end, PAGE_SIZE);
    size_t bitmap_bytes = frame_bitmap_bytes(max_phys);
    frame_init(max_phys, phys_to_virt(bitmap));
    for (unsigned i = 0; i < nram; i++)
        frame_release_range(ram[i].start, ram[i].end);
    frame_reserve_range(0, 0x100000);                        /* BIOS area, boot info */
    frame_reserve_range(0x100000, bitmap + bitmap_bytes);     /* kernel, boot module, bitmap */

    gdt_init(0);
    idt_init();
    cpu_init(true);
    vm_init(max_phys);
    fpu_init();
    kprintf("[kernel] memory: %lu KiB usable, %lu KiB free\n",
            frame_total_count() * 4, frame_free_count() * 4);
    syscall_init();
    sched_init();
    kernel_lock();                  /* from here on, like every CPU in the kernel */
    lapic_init(TICK_HZ);
    smp_start_aps();
    pci_init();

    size_t elf_size;
    const void *elf = pkg ? bootpkg_find(pkg, pkg_size, "init", &elf_size) : 0;
    if (!elf)
        panic("no `init` in the boot package");
    if (!session_init())
        kprintf("[kernel] no entropy source: endpoints cannot be created (caller references need a secret)\n");
    struct kobj *spawner = spawner_create(pkg, pkg_size);
    struct spawn_grant grants[] = {
        { "console", &console_obj }, { "timer", &timer_obj }, { "memory", &vmem_obj },
        { "spawner", spawner }, { "power", &power_obj }, { "endpoints", &endpoint_factory_obj },
        { "sessions", &session_authority_obj }, { "stats", &stats_obj }, { "bootpkg", &bootpkg_obj },
        { "terminal", &terminal_obj }, { "devices", &device_manager_obj },
    };
    bootpkg_init(pkg, pkg_size);
    int err = 0;
    if (!process_spawn("init", elf, elf_size, grants, ARRAY_SIZE(grants), cmdline, session_boot(), true, &err))
        panic("cannot start init (error %d)", err);
    kobj_put(spawner);   /* init holds it now */
    sched_start();
}
