#ifndef MM_FRAME_H
#define MM_FRAME_H
#include "types.h"
void    frame_init(paddr_t max_phys, void *bitmap_mem);  /* everything starts reserved */
size_t  frame_bitmap_bytes(paddr_t max_phys);
void    frame_release_range(paddr_t start, paddr_t end); /* mark usable RAM free */
void    frame_reserve_range(paddr_t start, paddr_t end);
paddr_t frame_alloc(void);                 /* zeroed 4 KiB frame, 0 when out of memory */
paddr_t frame_alloc_contig(size_t n);      /* n zeroed contiguous frames */
void    frame_free(paddr_t pa);
void    frame_free_contig(paddr_t pa, size_t n);
size_t  frame_free_count(void);
size_t  frame_total_count(void);
#endif
