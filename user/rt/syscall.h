/* The two system calls. */
#ifndef RT_SYSCALL_H
#define RT_SYSCALL_H
#include <stdint.h>
#include "capos/abi.h"

/* cap_enter on `ring`, which must be the calling thread's own ring
 * (capos.h's sys_cap_enter passes it); any other is CAP_ERR_WRONG_THREAD. */
static inline int64_t sys_cap_enter_ring(const void *ring, uint32_t min_complete, uint64_t timeout_ns)
{
    int64_t r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"((uint64_t)SYS_CAP_ENTER), "D"((uint64_t)min_complete), "S"(timeout_ns),
                       "d"((uint64_t)ring)
                     : "rcx", "r11", "memory");
    return r;
}

__attribute__((noreturn)) static inline void sys_exit(int64_t code)
{
    __asm__ volatile("syscall" : : "a"((uint64_t)SYS_EXIT), "D"(code) : "rcx", "r11", "memory");
    __builtin_unreachable();
}
#endif
