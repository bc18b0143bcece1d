/*
 * Every way into the kernel from user mode builds the same struct trap_frame
 * on the current thread's kernel stack (see trap.h), and every way out goes
 * through trap_return, which ends in IRETQ. We never use SYSRETQ: it is not
 * safe on some hypervisors (and has the non-canonical RIP pitfall); IRETQ is
 * one instruction too.
 *
 * GS: in the kernel, GS base points at the per-CPU struct (struct cpu);
 * SWAPGS on entry from and exit to user mode.
 */
#define CPU_USER_RSP   8
#define CPU_KSTACK_TOP 16
#define USER_CS 0x2B
#define USER_DS 0x23

.macro PUSH_REGS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro POP_REGS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

.macro ISR_NOERR n
    .globl isr\n
isr\n:
    pushq $0
    pushq $\n
    jmp trap_common
.endm

.macro ISR_ERR n
    .globl isr\n
isr\n:
    pushq $\n
    jmp trap_common
.endm

    .text
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31
ISR_NOERR 32
ISR_NOERR 33
ISR_NOERR 34
ISR_NOERR 35
ISR_NOERR 36
ISR_NOERR 37
ISR_NOERR 38
ISR_NOERR 39
ISR_NOERR 40
ISR_NOERR 41
ISR_NOERR 255

trap_common:
    testb $3, 24(%rsp)          /* saved CS: from user mode? */
    jz 1f
    swapgs
1:  cld
    PUSH_REGS
    movq %rsp, %rdi
    call trap_dispatch
    jmp trap_return

    .globl trap_return
trap_return:
    POP_REGS
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp              /* vector, error */
    iretq

/* SYSCALL: rcx = user rip, r11 = user rflags; IF, DF, AC, TF cleared by FMASK. */
    .globl syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:CPU_USER_RSP
    movq %gs:CPU_KSTACK_TOP, %rsp
    pushq $USER_DS               /* ss */
    pushq %gs:CPU_USER_RSP       /* rsp */
    pushq %r11                   /* rflags */
    pushq $USER_CS               /* cs */
    pushq %rcx                   /* rip */
    pushq $0                     /* error */
    pushq $-1                    /* vector: marks a system call */
    PUSH_REGS
    movq %rsp, %rdi
    call syscall_dispatch
    POP_REGS
    addq $16, %rsp
    swapgs
    iretq

/*
 * void switch_context(uint64_t *save_rsp, uint64_t new_rsp)
 * Saves the callee-saved registers on the current stack, stores the stack
 * pointer in *save_rsp, and resumes the thread whose stack is new_rsp.
 */
    .globl switch_context
switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

/* A new thread's first switch_context "returns" here, onto its trap frame. */
    .globl thread_first_entry
thread_first_entry:
    call thread_started
    jmp trap_return

    .section .rodata
    .globl isr_table
isr_table:
    .quad isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7
    .quad isr8, isr9, isr10, isr11, isr12, isr13, isr14, isr15
    .quad isr16, isr17, isr18, isr19, isr20, isr21, isr22, isr23
    .quad isr24, isr25, isr26, isr27, isr28, isr29, isr30, isr31
    .quad isr32, isr33, isr34, isr35, isr36, isr37, isr38, isr39, isr40, isr41
