/* malloc and friends: lib/alloc over the VirtualMemory capability. */
#include "capos.h"
#include "../../lib/alloc/alloc.h"

static void *grow(void *ctx, size_t pages)
{
    struct { uint64_t hint, size; uint32_t prot, pad; } p = { 0, pages * ALLOC_PAGE, 1, 0 };
    uint64_t addr = 0;
    if (rt_memory == ~0u || cap_call(rt_memory, IFACE_VIRTUAL_MEMORY, VM_MAP, &p, 20, &addr, 8, 0) < 0)
        return 0;
    return (void *)addr;
}

static void release(void *ctx, void *ptr, size_t pages)
{
    uint64_t p[2] = { (uint64_t)ptr, pages * ALLOC_PAGE };
    cap_call(rt_memory, IFACE_VIRTUAL_MEMORY, VM_UNMAP, p, 16, 0, 0, 0);
}

static void corrupt(void *ctx, void *p)
{
    printf("[rt] free(%p): not a heap block\n", p);
    exit(-3);
}

static struct alloc heap = { .grow = grow, .release = release, .corrupt = corrupt };

void rt_heap_init(void) {}

void *malloc(size_t n) { return alloc_get(&heap, n); }
void free(void *p) { alloc_put(&heap, p); }

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return 0;
    return alloc_get(&heap, n * size);   /* blocks come zeroed */
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    size_t have = alloc_usable(p);
    if (n <= have)
        return p;
    void *q = malloc(n);
    if (!q)
        return 0;
    memcpy(q, p, have);
    free(p);
    return q;
}
