/*
 * The application processors' start: a STARTUP IPI sends an AP here in real
 * mode at CS:IP = (TRAMP_BASE >> 4):0. smp.c copies this blob to TRAMP_BASE
 * (a page of the first MiB, which the frame allocator never hands out) and
 * fills in the four words at its end before each AP's SIPI. The AP goes
 * through protected mode into long mode on page tables that map the first
 * 2 MiB one to one (so this code keeps running when paging comes on) and the
 * kernel's upper half, then jumps to ap_main(arg) on its own stack.
 *
 * Every address is computed relative to TRAMP_BASE: the blob runs where it
 * is copied, not where it is linked.
 */
#define TRAMP_BASE 0x8000
#define REL(x) ((x) - tramp_start + TRAMP_BASE)

    .section .rodata.tramp, "a"
    .globl tramp_start, tramp_end
    .code16
tramp_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl tramp_gdt_ptr - tramp_start
    movl %cr0, %eax
    orl $1, %eax                    /* PE */
    movl %eax, %cr0
    ljmpl $0x08, $REL(tramp32)

    .code32
tramp32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $(1 << 5), %eax             /* PAE */
    movl %eax, %cr4
    movl REL(tramp_cr3), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER: LME, NXE */
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG, PE */
    movl %eax, %cr0
    ljmpl $0x18, $REL(tramp64)

    .code64
tramp64:
    xorl %eax, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq REL(tramp_stack), %rsp
    movq REL(tramp_arg), %rdi
    movq REL(tramp_entry), %rax
    xorl %ebp, %ebp
    jmp *%rax

    .align 8
tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
    .quad 0x00209A0000000000        /* 0x18: 64-bit code */
tramp_gdt_ptr:
    .word tramp_gdt_ptr - tramp_gdt - 1
    .long REL(tramp_gdt)
    .align 8
    .globl tramp_cr3, tramp_stack, tramp_entry, tramp_arg
tramp_cr3:   .quad 0                /* below 4 GiB: loaded in 32-bit mode */
tramp_stack: .quad 0
tramp_entry: .quad 0
tramp_arg:   .quad 0
tramp_end:
