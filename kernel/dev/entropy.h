#ifndef DEV_ENTROPY_H
#define DEV_ENTROPY_H
#include "types.h"
bool entropy_available(void);
/* Fill buf from the CPU's RDRAND; false (and buf untouched) without it. */
bool entropy_get(void *buf, size_t len);
#endif
