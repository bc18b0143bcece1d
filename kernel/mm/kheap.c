/*
 * The kernel heap: lib/alloc over physical frames reached through the direct
 * map. Class pages stay with their class once carved (a steady state, not a
 * leak); the live byte and object counts are what leak tests compare.
 */
#include "kheap.h"
#include "frame.h"
#include "kprintf.h"
#include "alloc/alloc.h"

static void *grow(void *ctx, size_t pages)
{
    paddr_t pa = pages == 1 ? frame_alloc() : frame_alloc_contig(pages);
    return pa ? phys_to_virt(pa) : 0;
}

static void release(void *ctx, void *p, size_t pages)
{
    frame_free_contig(virt_to_phys(p), pages);
}

static void corrupt(void *ctx, void *p)
{
    panic("kfree: bad block %p", p);
}

static struct alloc heap = { .grow = grow, .release = release, .corrupt = corrupt };

void *kmalloc(size_t size) { return alloc_get(&heap, size); }
void kfree(void *p) { alloc_put(&heap, p); }
size_t kheap_live_bytes(void) { return heap.live_bytes; }
size_t kheap_live_objects(void) { return heap.live_objects; }
size_t kheap_pages_held(void) { return heap.pages_held; }
