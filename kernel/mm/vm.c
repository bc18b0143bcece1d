/*
 * Page tables. The kernel's upper half is built once at boot:
 *   DIRECT_MAP + pa    all RAM (2 MiB pages, no-execute) and the local/IO APIC
 *                      window (uncached),
 *   KERNEL_VIRT + pa   the kernel image in 4 KiB pages: text read-only and
 *                      executable, rodata read-only, data and bss no-execute.
 * Every user space copies those upper-half PML4 entries, so kernel mappings
 * are shared and never need synchronising. No kernel page has the U bit, so
 * user mode cannot reach the kernel; SMEP/SMAP stop the reverse.
 *
 * SMP: a user space may be loaded on several CPUs at once (threads of one
 * process). Removing mappings drops them from this CPU's TLB and shoots
 * them down on every other CPU that has the space loaded (smp.c) before the
 * frames are freed, one round per call however many pages it removes
 * (vm_unmap_range); freeing a whole space first makes those CPUs leave it.
 * Binds on: the BKL (page tables, cpus[].cr3).
 */
#include "vm.h"
#include "frame.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/smp.h"
#include "c/string.h"

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[], _data_start[], _kernel_end[];

static paddr_t kernel_pml4;
static paddr_t direct_end;        /* the direct map's 2 MiB pages end here */

paddr_t vm_kernel_pml4(void) { return kernel_pml4; }

static uint64_t *table(paddr_t pa) { return phys_to_virt(pa & PTE_ADDR); }

/* Entry for va at `level` (3 = PML4 ... 0 = PT), creating tables on the way. */
static uint64_t *walk(paddr_t pml4, vaddr_t va, int stop_level, uint64_t table_flags, bool create)
{
    uint64_t *t = table(pml4);
    for (int level = 3; level > stop_level; level--) {
        uint64_t *e = &t[(va >> (12 + 9 * level)) & 511];
        if (!(*e & PTE_P)) {
            if (!create)
                return 0;
            paddr_t pa = frame_alloc();
            if (!pa)
                return 0;
            *e = pa | table_flags;
        } else if (*e & PTE_PS) {
            return 0;
        }
        t = table(*e);
    }
    return &t[(va >> (12 + 9 * stop_level)) & 511];
}

static void kmap_2m(vaddr_t va, paddr_t pa, uint64_t flags)
{
    uint64_t *e = walk(kernel_pml4, va, 1, PTE_P | PTE_W, true);
    if (!e)
        panic("vm: out of memory for kernel page tables");
    *e = pa | flags | PTE_PS | PTE_P;
}

static void kmap_4k(vaddr_t va, paddr_t pa, uint64_t flags)
{
    uint64_t *e = walk(kernel_pml4, va, 0, PTE_P | PTE_W, true);
    if (!e)
        panic("vm: out of memory for kernel page tables");
    *e = pa | flags | PTE_P;
}

void vm_init(paddr_t max_phys)
{
    kernel_pml4 = frame_alloc();
    if (!kernel_pml4)
        panic("vm: no memory");
    /* Pre-create every upper-half PML4 entry so user spaces can share them. */
    for (int i = 256; i < 512; i++) {
        paddr_t pa = frame_alloc();
        if (!pa)
            panic("vm: no memory");
        table(kernel_pml4)[i] = pa | PTE_P | PTE_W;
    }
    direct_end = ALIGN_UP(max_phys, 0x200000);
    for (paddr_t pa = 0; pa < direct_end; pa += 0x200000)
        kmap_2m(DIRECT_MAP + pa, pa, PTE_W | PTE_NX | PTE_G);
    for (paddr_t pa = 0xFEC00000; pa < 0xFF000000; pa += 0x200000)
        kmap_2m(DIRECT_MAP + pa, pa, PTE_W | PTE_NX | PTE_PCD | PTE_PWT);

    for (vaddr_t va = (vaddr_t)_text_start; va < (vaddr_t)_kernel_end; va += PAGE_SIZE) {
        uint64_t flags = PTE_G;
        if (va < (vaddr_t)_text_end)
            flags |= 0;                       /* read-only, executable */
        else if (va < (vaddr_t)_rodata_end)
            flags |= PTE_NX;                  /* read-only */
        else
            flags |= PTE_W | PTE_NX;          /* data, bss */
        kmap_4k(va, va - KERNEL_VIRT, flags);
    }
    write_cr0(read_cr0() | CR0_WP);           /* read-only means read-only in ring 0 too */
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(kernel_pml4);
}

void vm_init_ap(void)
{
    write_cr0(read_cr0() | CR0_WP);
    write_cr4(read_cr4() | CR4_PGE);
    write_cr3(kernel_pml4);
}

void *vm_kmap_phys(paddr_t pa, size_t len)
{
    if (pa + len <= direct_end)
        return phys_to_virt(pa);
    for (paddr_t p = ALIGN_DOWN(pa, PAGE_SIZE); p < pa + len; p += PAGE_SIZE) {
        uint64_t *pd = walk(kernel_pml4, DIRECT_MAP + p, 1, PTE_P | PTE_W, true);
        if (!pd)
            return 0;
        if (*pd & PTE_PS)
            continue;                         /* a 2 MiB page maps it already */
        uint64_t *e = walk(kernel_pml4, DIRECT_MAP + p, 0, PTE_P | PTE_W, true);
        if (!e)
            return 0;
        if (!(*e & PTE_P))
            *e = p | PTE_NX | PTE_G | PTE_P;  /* read-only */
    }
    return phys_to_virt(pa);
}

int vm_space_init(struct vm_space *s, size_t page_limit)
{
    s->pml4 = frame_alloc();
    if (!s->pml4)
        return -1;
    memcpy(&table(s->pml4)[256], &table(kernel_pml4)[256], 256 * sizeof(uint64_t));
    s->pages = 0;
    s->page_limit = page_limit;
    memset(s->tcache, 0, sizeof s->tcache);
    return 0;
}

static void free_level(paddr_t t, int level)
{
    uint64_t *e = table(t);
    for (int i = 0; i < 512; i++) {
        if (!(e[i] & PTE_P))
            continue;
        if (level > 0)
            free_level(e[i] & PTE_ADDR, level - 1);
        else if (!(e[i] & PTE_BORROWED))
            frame_free(e[i] & PTE_ADDR);
    }
    frame_free(t);
}

void vm_space_destroy(struct vm_space *s)
{
    if (!s->pml4)
        return;
    memset(s->tcache, 0, sizeof s->tcache);
    smp_tlb_shootdown(s->pml4, true);         /* every other CPU leaves it */
    if (read_cr3() == s->pml4) {
        write_cr3(kernel_pml4);
        this_cpu()->cr3 = kernel_pml4;
    }
    uint64_t *top = table(s->pml4);
    for (int i = 0; i < 256; i++)
        if (top[i] & PTE_P)
            free_level(top[i] & PTE_ADDR, 2);
    frame_free(s->pml4);
    s->pml4 = 0;
    s->pages = 0;
}

void vm_activate(struct vm_space *s)
{
    paddr_t want = s ? s->pml4 : kernel_pml4;
    if (read_cr3() != want) {
        write_cr3(want);
        this_cpu()->cr3 = want;
    }
}

int vm_map_user(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags)
{
    if (va >= USER_TOP_ADDR || va % PAGE_SIZE)
        return -1;
    if (s->pages >= s->page_limit)
        return -1;
    uint64_t *e = walk(s->pml4, va, 0, PTE_P | PTE_W | PTE_U, true);
    if (!e || (*e & PTE_P))
        return -1;
    *e = pa | flags | PTE_U | PTE_P;
    s->pages++;
    return 0;
}

static bool table_empty(const uint64_t *t)
{
    for (int i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

bool vm_unmap_user(struct vm_space *s, vaddr_t va) { return vm_unmap_range(s, va, 1, false) == 1; }
bool vm_unmap_borrowed(struct vm_space *s, vaddr_t va) { return vm_unmap_range(s, va, 1, true) == 1; }

int vm_map_borrowed(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags)
{
    if (va >= USER_TOP_ADDR || va % PAGE_SIZE)
        return -1;
    uint64_t *e = walk(s->pml4, va, 0, PTE_P | PTE_W | PTE_U, true);
    if (!e || (*e & PTE_P))
        return -1;
    *e = pa | flags | PTE_BORROWED | PTE_U | PTE_P;
    return 0;
}

void *vm_kmap_mmio(paddr_t pa, size_t len)
{
    for (paddr_t p = ALIGN_DOWN(pa, PAGE_SIZE); p < pa + len; p += PAGE_SIZE) {
        uint64_t *e = walk(kernel_pml4, DIRECT_MAP + p, 0, PTE_P | PTE_W, true);
        if (!e)
            return 0;              /* a 2 MiB page already maps it (RAM, the APIC window) */
        if (!(*e & PTE_P))
            *e = p | PTE_W | PTE_NX | PTE_PCD | PTE_PWT | PTE_G | PTE_P;
    }
    return phys_to_virt(pa);
}

/* The entries on va's path, PML4 (ent[3]) to PT (ent[0], whatever it
 * holds), following tables that are present or being unmapped. Returns 0,
 * or the level (3..1) whose entry leads to no table (none, or a large
 * page): a hole of that level's size, which the caller skips whole. */
static int entry_path(paddr_t pml4, vaddr_t va, uint64_t *ent[4])
{
    uint64_t *t = table(pml4);
    for (int level = 3; level > 0; level--) {
        ent[level] = &t[(va >> (12 + 9 * level)) & 511];
        uint64_t e = *ent[level];
        if (!(e & (PTE_P | PTE_UNMAPPING)) || (e & PTE_PS))
            return level;
        t = table(e);
    }
    ent[0] = &t[(va >> 12) & 511];
    return 0;
}

/* The index (pages from base) of the first page past the hole at `level`
 * around a: a range over unmapped space costs a walk per hole, not per
 * page (VirtualMemory.unmap may name terabytes). */
static size_t past_hole(vaddr_t base, vaddr_t a, int level)
{
    uint64_t span = 1ull << (12 + 9 * level);
    return (size_t)((ALIGN_DOWN(a, span) + span - base) / PAGE_SIZE);
}

static bool table_unreachable(const uint64_t *t)    /* no entry present */
{
    for (int i = 0; i < 512; i++)
        if (t[i] & PTE_P)
            return false;
    return true;
}

/* Is va the last page of the range or of its page table? Only there can a
 * table have lost its last present entry to this unmap. */
static bool at_table_end(vaddr_t va, size_t i, size_t npages)
{
    return i + 1 == npages || ((va >> 12) & 511) == 511;
}

/*
 * Unmap npages pages from va in three passes, so the whole range costs ONE
 * shootdown round (an IPI to each other CPU with the space loaded) however
 * many pages it has:
 *   1. each mapped page's entry, and each table left with no present entry
 *      (its entry in the parent), loses its present bit and is marked
 *      PTE_UNMAPPING: the address stays, so pass 3 finds the frame;
 *   2. this CPU's TLB entries go (INVLPG each page, or a CR3 reload for a
 *      long range), then every other CPU's (smp_tlb_shootdown): no CPU can
 *      reach the pages, nor walk into the tables, from here on;
 *   3. the marked frames and tables are freed and their entries zeroed.
 * Binds on: the BKL, held throughout: nothing else sees the marked entries
 * (vm_translate and the user see them as not present; nothing maps here
 * between the passes).
 */
#define UNMAP_INVLPG_MAX 32

size_t vm_unmap_range(struct vm_space *s, vaddr_t va, size_t npages, bool borrowed)
{
    va = ALIGN_DOWN(va, PAGE_SIZE);
    if (va >= USER_TOP_ADDR || !s->pml4)
        return 0;
    memset(s->tcache, 0, sizeof s->tcache);   /* before any entry changes */
    if (npages > (USER_TOP_ADDR - va) / PAGE_SIZE)
        npages = (USER_TOP_ADDR - va) / PAGE_SIZE;
    uint64_t *ent[4];
    size_t n = 0, marked = 0;
    for (size_t i = 0; i < npages; i++) {                       /* pass 1 */
        vaddr_t a = va + i * PAGE_SIZE;
        int hole = entry_path(s->pml4, a, ent);
        if (hole) {
            i = past_hole(va, a, hole) - 1;
            continue;
        }
        if ((*ent[0] & PTE_P) && !(*ent[0] & PTE_BORROWED) == !borrowed) {
            *ent[0] = (*ent[0] & ~PTE_P) | PTE_UNMAPPING;
            n++;
            marked++;
        }
        if (!at_table_end(a, i, npages))
            continue;
        for (int level = 1; level <= 3; level++) {
            if (*ent[level] & PTE_P) {
                if (!table_unreachable(table(*ent[level])))
                    break;
                *ent[level] = (*ent[level] & ~PTE_P) | PTE_UNMAPPING;
                marked++;
            }
        }
    }
    if (!marked)
        return 0;
    if (read_cr3() == s->pml4) {                                /* pass 2 */
        if (npages <= UNMAP_INVLPG_MAX)
            for (size_t i = 0; i < npages; i++)
                invlpg(va + i * PAGE_SIZE);
        else
            write_cr3(s->pml4);
    }
    smp_tlb_shootdown(s->pml4, false);
    for (size_t i = 0; i < npages; i++) {                       /* pass 3 */
        vaddr_t a = va + i * PAGE_SIZE;
        int hole = entry_path(s->pml4, a, ent);
        if (hole) {
            i = past_hole(va, a, hole) - 1;
            continue;
        }
        if (*ent[0] & PTE_UNMAPPING) {
            paddr_t frame = *ent[0] & PTE_ADDR;
            *ent[0] = 0;
            if (!borrowed) {
                frame_free(frame);
                s->pages--;
            }
        }
        if (!at_table_end(a, i, npages))
            continue;
        for (int level = 1; level <= 3; level++) {
            uint64_t *child = table(*ent[level]);
            if (!(*ent[level] & PTE_UNMAPPING) || !table_empty(child))
                break;
            frame_free(*ent[level] & PTE_ADDR);
            *ent[level] = 0;
        }
    }
    return n;
}

paddr_t vm_translate(struct vm_space *s, vaddr_t va, uint64_t need)
{
    if (va >= USER_TOP_ADDR)
        return 0;
    need |= PTE_P | PTE_U;
    vaddr_t page = va & ~(vaddr_t)(PAGE_SIZE - 1);
    struct vm_tcache *c = &s->tcache[(va >> 12) % VM_TCACHE];
    if (c->tag == (page | 1) && (c->rights & need) == need)
        return c->pa | (va & (PAGE_SIZE - 1));
    uint64_t *t = table(s->pml4);
    uint64_t rights = PTE_P | PTE_U | PTE_W;
#pragma GCC unroll 4
    for (int level = 3; level >= 0; level--) {
        uint64_t e = t[(va >> (12 + 9 * level)) & 511];
        if ((e & need) != need || (e & PTE_PS) || (level == 0 && (e & PTE_BORROWED)))
            return 0;
        rights &= e;
        if (level == 0) {
            *c = (struct vm_tcache){ page | 1, e & PTE_ADDR, rights };
            return (e & PTE_ADDR) | (va & (PAGE_SIZE - 1));
        }
        t = table(e);
    }
    return 0;
}

bool vm_user_range_ok(struct vm_space *s, vaddr_t va, size_t len, uint64_t need)
{
    if (len == 0)
        return va < USER_TOP_ADDR;
    if (va >= USER_TOP_ADDR || len > USER_TOP_ADDR - va)
        return false;
    for (vaddr_t p = ALIGN_DOWN(va, PAGE_SIZE); p < va + len; p += PAGE_SIZE)
        if (!vm_translate(s, p, need))
            return false;
    return true;
}

bool vm_copy_in(struct vm_space *s, void *dst, vaddr_t va, size_t len)
{
    char *d = dst;
    while (len) {
        paddr_t pa = vm_translate(s, va, 0);
        if (!pa)
            return false;
        size_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        memcpy(d, phys_to_virt(pa), n);
        d += n, va += n, len -= n;
    }
    return true;
}

bool vm_copy_out(struct vm_space *s, vaddr_t va, const void *src, size_t len)
{
    const char *p = src;
    while (len) {
        paddr_t pa = vm_translate(s, va, PTE_W);
        if (!pa)
            return false;
        size_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
        if (n > len)
            n = len;
        memcpy(phys_to_virt(pa), p, n);
        p += n, va += n, len -= n;
    }
    return true;
}
