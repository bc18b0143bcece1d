#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H
#include "types.h"

/* The register frame every entry from user mode saves (entry.S). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU (or by syscall_entry) */
};

#define VEC_TIMER    32
#define VEC_SPURIOUS 255

void idt_init(void);
void idt_load(void);                /* on an application processor */
void trap_dispatch(struct trap_frame *f);
void dump_frame(const struct trap_frame *f);
#endif
