/* Process entry: rdi = ring, rsi = pid, rdx = CapSet (see capos/abi.h). */
    .section .text.start, "ax"
    .globl _start
_start:
    xorl %ebp, %ebp
    andq $-16, %rsp
    call rt_start
    ud2
