/*
 * A size-class allocator shared by the kernel heap and the user runtime's
 * malloc. Blocks of 32..2048 bytes come from power-of-two classes carved out
 * of 4 KiB pages; anything larger is its own run of pages. The caller supplies
 * where pages come from (`grow`) and where large runs go back (`release`).
 * No global state: everything lives in struct alloc.
 */
#ifndef CAPOS_ALLOC_H
#define CAPOS_ALLOC_H
#include <stddef.h>
#include <stdint.h>

#define ALLOC_NCLASS 7          /* 32, 64, ..., 2048 */
#define ALLOC_PAGE   4096u

struct alloc {
    void *(*grow)(void *ctx, size_t pages);               /* zeroed, page aligned, or 0 */
    void  (*release)(void *ctx, void *p, size_t pages);
    void  (*corrupt)(void *ctx, void *p);                 /* a bad free: does not return */
    void  *ctx;
    void  *free_list[ALLOC_NCLASS];
    size_t live_bytes;
    size_t live_objects;
    size_t pages_held;          /* pages obtained from grow and not released */
};

void  *alloc_get(struct alloc *a, size_t n);             /* zeroed; 0 on exhaustion */
void   alloc_put(struct alloc *a, void *p);
size_t alloc_usable(const void *p);                      /* bytes the block can hold */
#endif
