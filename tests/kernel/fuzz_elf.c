/*
 * libFuzzer target: the kernel's ELF loader (kernel/sched/elf.c), built for
 * the host against a model of the frame allocator and the address space.
 * The input is the image (copied into an exactly sized buffer, so a read
 * past it is an ASan error). After a load that succeeds, the model checks
 * what the loader promises: W^X on every page, every page inside
 * [0x10000, RING_VADDR), no page mapped twice, the entry point mapped.
 */
#include <stdlib.h>
#include <string.h>
#include "sched/elf.h"
#include "mm/frame.h"

#define MAX_PAGES 512                    /* the model's memory: a load past it is OVERLOADED */

static struct { vaddr_t va; paddr_t pa; uint64_t flags; } maps[MAX_PAGES];
static unsigned nmaps, nframes;

/* A frame is host memory; its "physical address" is chosen so that the
 * kernel's own phys_to_virt() (pa + DIRECT_MAP) gives the host pointer. */
paddr_t frame_alloc(void)
{
    if (nframes >= MAX_PAGES)
        return 0;
    void *p = calloc(1, PAGE_SIZE);
    if (!p)
        return 0;
    nframes++;
    return (paddr_t)((uint64_t)p - DIRECT_MAP);
}

void frame_free(paddr_t pa)
{
    free(phys_to_virt(pa));
    nframes--;
}

paddr_t vm_translate(struct vm_space *s, vaddr_t va, uint64_t need)
{
    for (unsigned i = 0; i < nmaps; i++)
        if (maps[i].va == ALIGN_DOWN(va, PAGE_SIZE))
            return maps[i].pa + (va & (PAGE_SIZE - 1));
    return 0;
}

int vm_map_user(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags)
{
    if (nmaps >= MAX_PAGES)
        return -1;
    maps[nmaps].va = va;
    maps[nmaps].pa = pa;
    maps[nmaps].flags = flags;
    nmaps++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = malloc(size ? size : 1);
    memcpy(img, data, size);
    nmaps = 0;
    uint64_t entry = 0;
    struct vm_space space;
    int r = elf_load(&space, img, size, &entry);
    if (r == 0) {
        int entry_mapped = 0;
        for (unsigned i = 0; i < nmaps; i++) {
            if ((maps[i].flags & PTE_W) && !(maps[i].flags & PTE_NX))
                abort();                                /* writable and executable */
            if (maps[i].va < 0x10000 || maps[i].va >= RING_VADDR || maps[i].va % PAGE_SIZE)
                abort();
            for (unsigned j = 0; j < i; j++)
                if (maps[j].va == maps[i].va)
                    abort();                            /* mapped twice */
            if (maps[i].va == ALIGN_DOWN(entry, PAGE_SIZE))
                entry_mapped = 1;
        }
        if (!entry_mapped)
            abort();
    }
    for (unsigned i = 0; i < nmaps; i++)
        frame_free(maps[i].pa);
    if (nframes)                                        /* a frame allocated but never mapped */
        abort();
    free(img);
    return 0;
}
