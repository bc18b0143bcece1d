#ifndef KERNEL_TYPES_H
#define KERNEL_TYPES_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

typedef uint64_t paddr_t;
typedef uint64_t vaddr_t;

#define PAGE_SIZE  4096ull
#define PAGE_SHIFT 12
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(p, T, m) ((T *)((char *)(p) - __builtin_offsetof(T, m)))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define KERNEL_VIRT 0xFFFFFFFF80000000ull
#define DIRECT_MAP  0xFFFF800000000000ull

static inline void *phys_to_virt(paddr_t p) { return (void *)(p + DIRECT_MAP); }
static inline paddr_t virt_to_phys(const void *v)
{
    uint64_t a = (uint64_t)v;
    return a >= KERNEL_VIRT ? a - KERNEL_VIRT : a - DIRECT_MAP;
}

#endif
