/* malloc and friends: lib/alloc over the VirtualMemory capability. */
#include "capos.h"
#include "alloc/alloc.h"

static void *grow(void *ctx, size_t pages)
{
    if (rt_memory == ~0u)
        return 0;
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_map_Results_reader r;
    if (capos_VirtualMemory_map(&cl, &b, &call, 0, pages * ALLOC_PAGE, 1, &r))
        return 0;
    return (void *)capos_VirtualMemory_map_Results_get_addr(r);
}

static void release(void *ctx, void *ptr, size_t pages)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_unmap_Results_reader r;
    capos_VirtualMemory_unmap(&cl, &b, &call, (uint64_t)ptr, pages * ALLOC_PAGE, &r);
}

static void corrupt(void *ctx, void *p)
{
    printf("[rt] free(%p): not a heap block\n", p);
    exit(-3);
}

static struct alloc heap = { .grow = grow, .release = release, .corrupt = corrupt };

void rt_heap_init(void) {}

static volatile int heap_lock;

void *malloc(size_t n)
{
    rt_lock(&heap_lock);
    void *p = alloc_get(&heap, n);
    rt_unlock(&heap_lock);
    return p;
}

void free(void *p)
{
    rt_lock(&heap_lock);
    alloc_put(&heap, p);
    rt_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return 0;
    return malloc(n * size);             /* blocks come zeroed */
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
