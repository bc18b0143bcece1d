/*
 * Multiboot (v1) entry. QEMU's -kernel loads our flat image at 1 MiB using the
 * header's address fields (the "a.out kludge": QEMU refuses ELF64 multiboot
 * kernels). We arrive in 32-bit protected mode with paging off, build the
 * boot page tables, enter long mode and jump to the higher half.
 *
 * Boot page tables map the first 1 GiB three times with 2 MiB pages:
 *   identity (only until kmain switches to its own tables),
 *   0xFFFF800000000000 (the direct map), 0xFFFFFFFF80000000 (the kernel image).
 */
#define KERNEL_VIRT 0xFFFFFFFF80000000
#define MB_MAGIC    0x1BADB002
#define MB_FLAGS    0x00010003      /* page-align modules, memory map, addresses below */

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header                 /* header_addr (physical) */
    .long 0x100000                  /* load_addr */
    .long _load_end_phys            /* load_end_addr */
    .long _bss_end_phys             /* bss_end_addr */
    .long _start32                  /* entry_addr */

    .section .boot.data, "aw"
    .align 4096
boot_pml4:   .fill 4096, 1, 0
boot_pdpt_lo: .fill 4096, 1, 0
boot_pdpt_hi: .fill 4096, 1, 0
boot_pd:     .fill 4096, 1, 0
boot_gdt:
    .quad 0
    .quad 0x00209A0000000000        /* 64-bit code */
    .quad 0x0000920000000000        /* data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
boot_magic: .long 0
boot_info:  .long 0

    .section .boot.text, "ax"
    .code32
    .globl _start32
_start32:
    cli
    movl %eax, boot_magic
    movl %ebx, boot_info

    /* PD: 512 x 2 MiB pages covering 0..1 GiB (present, writable, large) */
    movl $boot_pd, %edi
    xorl %eax, %eax
    movl $0x83, %ecx
1:  movl %ecx, (%edi,%eax,8)
    movl $0, 4(%edi,%eax,8)
    addl $0x200000, %ecx
    incl %eax
    cmpl $512, %eax
    jne 1b

    movl $boot_pd + 3, %eax
    movl %eax, boot_pdpt_lo         /* pdpt_lo[0] -> pd */
    movl %eax, boot_pdpt_hi + 510*8 /* pdpt_hi[510] -> pd (0xFFFFFFFF80000000) */
    movl $boot_pdpt_lo + 3, %eax
    movl %eax, boot_pml4            /* pml4[0]: identity */
    movl %eax, boot_pml4 + 256*8    /* pml4[256]: direct map */
    movl $boot_pdpt_hi + 3, %eax
    movl %eax, boot_pml4 + 511*8    /* pml4[511]: kernel image */

    movl %cr4, %eax
    orl $(1 << 5), %eax             /* PAE */
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx          /* EFER */
    rdmsr
    orl $((1 << 8) | (1 << 11)), %eax   /* LME, NXE */
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG, PE */
    movl %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_low

    .code64
long_mode_low:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $high_entry, %rax
    jmp *%rax

    .text
high_entry:
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl boot_magic, %edi
    movl boot_info, %esi
    call kmain
2:  cli
    hlt
    jmp 2b

    .bss
    .align 16
boot_stack:
    .skip 16384
    .globl boot_stack_top
boot_stack_top:
