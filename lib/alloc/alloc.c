#include "alloc.h"
#include "c/string.h"

#define HDR   16u
#define MAGIC 0x636f6c6cu            /* "lloc" */

struct hdr {
    uint32_t magic;
    uint32_t cls;                    /* class index, or ALLOC_NCLASS for a page run */
    uint64_t pages;                  /* page runs only */
};

struct free_block { struct free_block *next; };

static size_t class_size(unsigned c) { return (size_t)32 << c; }

void *alloc_get(struct alloc *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return 0;
    size_t total = n + HDR;
    unsigned c = 0;
    while (c < ALLOC_NCLASS && class_size(c) < total)
        c++;
    struct hdr *h;
    if (c == ALLOC_NCLASS) {
        size_t pages = (total + ALLOC_PAGE - 1) / ALLOC_PAGE;
        h = a->grow(a->ctx, pages);
        if (!h)
            return 0;
        a->pages_held += pages;
        h->pages = pages;
        a->live_bytes += pages * ALLOC_PAGE;
    } else {
        if (!a->free_list[c]) {
            char *page = a->grow(a->ctx, 1);
            if (!page)
                return 0;
            a->pages_held++;
            for (size_t off = ALLOC_PAGE; off >= class_size(c); off -= class_size(c)) {
                struct free_block *b = (void *)(page + off - class_size(c));
                b->next = a->free_list[c];
                a->free_list[c] = b;
            }
        }
        struct free_block *b = a->free_list[c];
        a->free_list[c] = b->next;
        h = (struct hdr *)b;
        memset(h, 0, total);                 /* what the caller asked for, not the whole class */
        a->live_bytes += class_size(c);
    }
    h->magic = MAGIC;
    h->cls = c;
    a->live_objects++;
    return (char *)h + HDR;
}

void alloc_put(struct alloc *a, void *p)
{
    if (!p)
        return;
    struct hdr *h = (struct hdr *)((char *)p - HDR);
    if (h->magic != MAGIC || h->cls > ALLOC_NCLASS) {
        a->corrupt(a->ctx, p);
        return;
    }
    h->magic = 0;                    /* a second free of the same block is caught */
    a->live_objects--;
    if (h->cls == ALLOC_NCLASS) {
        size_t pages = h->pages;
        a->live_bytes -= pages * ALLOC_PAGE;
        a->pages_held -= pages;
        a->release(a->ctx, h, pages);
        return;
    }
    unsigned c = h->cls;
    a->live_bytes -= class_size(c);
    struct free_block *b = (void *)h;
    b->next = a->free_list[c];
    a->free_list[c] = b;
}

size_t alloc_usable(const void *p)
{
    const struct hdr *h = (const struct hdr *)((const char *)p - HDR);
    return h->cls == ALLOC_NCLASS ? h->pages * ALLOC_PAGE - HDR : class_size(h->cls) - HDR;
}
