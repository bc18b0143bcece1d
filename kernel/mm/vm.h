#ifndef MM_VM_H
#define MM_VM_H
#include "types.h"
#include "capos/abi.h"
#define USER_TOP_ADDR USER_TOP

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_BORROWED (1ull << 9)  /* software bit: the frame is not the space's (device BAR, DMA page) */
#define PTE_UNMAPPING (1ull << 10) /* software bit, present bit clear: being unmapped, frame not yet
                                      freed (only inside vm_unmap_range, under the BKL) */
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

/* A user address space: the lower half of one PML4; the upper half is the
 * kernel's, shared by every space. */
/* The last few user pages vm_translate walked to, by page number modulo
 * VM_TCACHE: tag = the page's address | 1 (0: empty), its frame and the
 * rights every level of the walk gave (P, U, W: the AND over the levels).
 * Valid because a user mapping changes only by vm_unmap_range or
 * vm_space_destroy, which empty it first (vm_map_* only fill entries that
 * were not present, and a page not present is never cached); borrowed pages
 * and large pages are never cached. Under the BKL like the tables. */
#define VM_TCACHE 8
struct vm_tcache {
    uint64_t tag;
    paddr_t  pa;
    uint64_t rights;
};

struct vm_space {
    paddr_t pml4;
    size_t  pages;        /* user pages mapped (frames owned by this space) */
    size_t  page_limit;   /* quota */
    struct vm_tcache tcache[VM_TCACHE];
};

void    vm_init(paddr_t max_phys);
void    vm_init_ap(void);                         /* an application processor: the kernel's tables */
paddr_t vm_kernel_pml4(void);
/* Kernel address of [pa, pa+len) (read-only where it is not RAM): firmware tables. */
void   *vm_kmap_phys(paddr_t pa, size_t len);
int     vm_space_init(struct vm_space *s, size_t page_limit);
void    vm_space_destroy(struct vm_space *s);      /* frees every user page and table */
void    vm_activate(struct vm_space *s);
/* Map one user page at va to frame pa (owned by the space from now on). */
int     vm_map_user(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags);
/* Unmap one user page; frees its frame. Returns false if nothing was mapped
 * (or the page is borrowed: only its lender unmaps it). */
bool    vm_unmap_user(struct vm_space *s, vaddr_t va);
/* Unmap the pages of [va, va + npages pages) that are mapped, owned
 * (borrowed false) or borrowed (true); frees owned frames. One TLB
 * shootdown round for the whole range. Returns how many it unmapped. */
size_t  vm_unmap_range(struct vm_space *s, vaddr_t va, size_t npages, bool borrowed);
/* Map / unmap a page whose frame the space does not own (a device's BAR, a
 * DMAPool page): not counted in pages, never freed by the space, never
 * reached by vm_translate (the kernel copies no call buffer through it). */
int     vm_map_borrowed(struct vm_space *s, vaddr_t va, paddr_t pa, uint64_t flags);
bool    vm_unmap_borrowed(struct vm_space *s, vaddr_t va);
/* Map [pa, pa+len) of device memory into the kernel's direct map, uncached
 * (the MSI-X table the kernel programs); returns its kernel address. */
void   *vm_kmap_mmio(paddr_t pa, size_t len);
/* Physical address behind a user page, if mapped with all of need (PTE_U, PTE_W). */
paddr_t vm_translate(struct vm_space *s, vaddr_t va, uint64_t need);
/* Is [va, va+len) user memory mapped with need? */
bool    vm_user_range_ok(struct vm_space *s, vaddr_t va, size_t len, uint64_t need);
/* Copy between kernel memory and a space's user memory through the direct map.
 * The kernel never dereferences user addresses. Return false (and copy
 * nothing useful) if a page is not mapped with the needed rights. */
bool    vm_copy_in(struct vm_space *s, void *dst, vaddr_t va, size_t len);
bool    vm_copy_out(struct vm_space *s, vaddr_t va, const void *src, size_t len);
#endif
