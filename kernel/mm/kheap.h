#ifndef MM_KHEAP_H
#define MM_KHEAP_H
#include "types.h"
void  *kmalloc(size_t size);    /* zeroed; 0 when out of memory */
void   kfree(void *p);
size_t kheap_live_bytes(void);  /* for leak accounting */
size_t kheap_live_objects(void);
size_t kheap_pages_held(void);  /* frames the heap holds: class pages and large runs */
#endif
