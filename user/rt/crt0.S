/* Process entry: rdi = ring, rsi = pid, rdx = CapSet, rcx = main thread id
 * (see capos/abi.h). */
    .section .text.start, "ax"
    .globl _start
_start:
    xorl %ebp, %ebp
    andq $-16, %rsp
    call rt_start
    ud2

/* Thread entry: rdi = its ring, rsi = struct rt_thread *, rcx = thread id
 * (thread.c). */
    .text
    .globl rt_thread_entry
rt_thread_entry:
    xorl %ebp, %ebp
    movl %ecx, %edx
    andq $-16, %rsp
    call rt_thread_main
    ud2
