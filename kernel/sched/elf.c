#include "elf.h"
#include "capos/abi.h"
#include "mm/frame.h"
#include "c/string.h"

struct elf64_ehdr {
    uint8_t  ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_X 1
#define PF_W 2

int elf_load(struct vm_space *s, const void *image, size_t size, uint64_t *entry)
{
    /* The image may sit at any byte offset: headers are read by copying
     * them out, never through a misaligned pointer. */
    const uint8_t *img = image;
    struct elf64_ehdr ehdr;
    const struct elf64_ehdr *eh = &ehdr;
    if (size < sizeof ehdr)
        return CAP_ERR_INVALID_ARGUMENT;
    memcpy(&ehdr, img, sizeof ehdr);
    if (memcmp(eh->ident, "\x7f" "ELF", 4) || eh->ident[4] != 2 ||
        eh->ident[5] != 1 || eh->type != 2 || eh->machine != 62 ||
        eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size ||
        eh->phnum > (size - eh->phoff) / sizeof(struct elf64_phdr))
        return CAP_ERR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < eh->phnum; i++) {
        struct elf64_phdr phdr;
        const struct elf64_phdr *p = &phdr;
        memcpy(&phdr, img + eh->phoff + i * sizeof phdr, sizeof phdr);
        if (p->type != PT_LOAD || p->memsz == 0)
            continue;
        if ((p->flags & PF_W) && (p->flags & PF_X))
            return CAP_ERR_INVALID_ARGUMENT;
        if (p->filesz > p->memsz || p->offset > size || p->filesz > size - p->offset ||
            p->vaddr >= USER_TOP || p->memsz > USER_TOP - p->vaddr || p->vaddr < 0x10000 ||
            p->vaddr + p->memsz > RING_VADDR)
            return CAP_ERR_INVALID_ARGUMENT;
        uint64_t flags = (p->flags & PF_W ? PTE_W : 0) | (p->flags & PF_X ? 0 : PTE_NX);
        for (uint64_t va = ALIGN_DOWN(p->vaddr, PAGE_SIZE); va < p->vaddr + p->memsz; va += PAGE_SIZE) {
            paddr_t pa = vm_translate(s, va, 0);
            if (pa) {
                /* a page shared with the previous segment: only if rights agree */
                return CAP_ERR_INVALID_ARGUMENT;
            }
            pa = frame_alloc();
            if (!pa)
                return CAP_ERR_OVERLOADED;
            /* copy the part of the file that falls in this page */
            uint64_t lo = va > p->vaddr ? va : p->vaddr;
            uint64_t hi = va + PAGE_SIZE < p->vaddr + p->filesz ? va + PAGE_SIZE : p->vaddr + p->filesz;
            if (hi > lo)
                memcpy((uint8_t *)phys_to_virt(pa) + (lo - va), img + p->offset + (lo - p->vaddr), hi - lo);
            if (vm_map_user(s, va, pa, flags) < 0) {
                frame_free(pa);
                return CAP_ERR_OVERLOADED;
            }
        }
    }
    if (eh->entry >= USER_TOP || !vm_translate(s, eh->entry, 0))
        return CAP_ERR_INVALID_ARGUMENT;
    *entry = eh->entry;
    return 0;
}
