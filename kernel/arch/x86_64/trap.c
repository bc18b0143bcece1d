/*
 * The IDT and what happens on each vector.
 * A CPU exception in user mode kills the faulting process (its reason and
 * registers go to the serial log); in kernel mode it is a panic with a dump.
 */
#include "trap.h"
#include "cap/device.h"
#include "cpu.h"
#include "gdt.h"
#include "kprintf.h"
#include "lapic.h"
#include "sched/sched.h"
#include "sched/process.h"
#include "sched/lock.h"
#include "sched/cputime.h"
#include "smp.h"

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

static struct idt_entry idt[256];
extern const uint64_t isr_table[42];   /* exceptions, the timer, device vectors 33..40, the IPI */
extern void isr255(void);

static void set_gate(int v, uint64_t fn, int ist)
{
    idt[v] = (struct idt_entry){
        .off0 = fn & 0xFFFF, .sel = KERNEL_CS, .ist = (uint8_t)ist, .attr = 0x8E,
        .off1 = (fn >> 16) & 0xFFFF, .off2 = (uint32_t)(fn >> 32), .zero = 0,
    };
}

void idt_init(void)
{
    for (int v = 0; v < 42; v++)
        set_gate(v, isr_table[v], v == 8 ? 1 : 0);   /* double fault on its own stack */
    set_gate(VEC_SPURIOUS, (uint64_t)isr255, 0);
    idt_load();
}

void idt_load(void)
{
    struct { uint16_t lim; uint64_t base; } __attribute__((packed)) ptr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(ptr));
}

static const char *const exc_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved", "x87 floating point", "alignment check", "machine check",
    "SIMD floating point", "virtualization", "control protection",
};

/* Every line carries the kernel log's prefix: user output shares the line. */
void dump_frame(const struct trap_frame *f)
{
    kprintf("[kernel]   rip=%016lx cs=%lx rflags=%016lx rsp=%016lx ss=%lx\n", f->rip, f->cs, f->rflags, f->rsp, f->ss);
    kprintf("[kernel]   rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("[kernel]   rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
    kprintf("[kernel]   r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", f->r9, f->r10, f->r11, f->r12);
    kprintf("[kernel]   r13=%016lx r14=%016lx r15=%016lx\n", f->r13, f->r14, f->r15);
    kprintf("[kernel]   vector=%lu error=%lx cr2=%016lx cpu=%u\n", f->vector, f->error, read_cr2(),
            this_cpu()->index);
}

static void trap_dispatch_locked(struct trap_frame *f);

/*
 * The BKL: an interrupt or exception from user mode, or from the idle loop's
 * halt (the only kernel code that runs with interrupts on), takes it and
 * gives it back on the way out; anything else arrives with it held (a kernel
 * fault: a panic). The IPI is served first without it: a CPU holding the
 * lock may be spinning for exactly this answer (a TLB shootdown).
 */
void trap_dispatch(struct trap_frame *f)
{
    bool from_user = (f->cs & 3) == 3;
    if (f->vector == VEC_SPURIOUS)
        return;
    /* Acknowledge every interrupt before taking the lock: kernel_enter may
     * never come back here (a doomed thread ends in it), and an interrupt
     * left in service would mask its priority class (the tick, the IPI) on
     * this CPU for good. Interrupts stay off until we return. */
    if (f->vector >= VEC_TIMER)
        lapic_eoi();
    if (f->vector == VEC_IPI) {
        smp_ipi_received();
        if (!from_user)
            return;                      /* the idle loop looks at the run queue itself */
    }
    bool take = from_user || (f->rflags & 0x200);
    if (take)
        kernel_enter();
    /* the time from here is the interrupted process's kernel time, or the
     * kernel's own when it woke the idle loop (sched/cputime.c) */
    cputime_enter_kernel();
    if (f->vector != VEC_IPI)
        trap_dispatch_locked(f);
    if (from_user)
        cputime_leave_to_user();
    if (take)
        kernel_exit();
}

static void trap_dispatch_locked(struct trap_frame *f)
{
    if (f->vector == VEC_TIMER) {
        sched_tick();
        return;
    }
    if (f->vector >= VEC_DEV_BASE && f->vector < VEC_DEV_BASE + DEV_IRQ_SLOTS) {
        interrupt_fire((unsigned)(f->vector - VEC_DEV_BASE));
        return;
    }

    const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "unknown";
    if ((f->cs & 3) == 3) {
        struct process *p = current_process();
        kprintf("[kernel] process %u (%s) killed: %s (vector %lu, error %lx) at rip %016lx",
                p->pid, p->name, name, f->vector, f->error, f->rip);
        if (f->vector == 14)
            kprintf(", address %016lx", read_cr2());
        kprintf("\n");
        dump_frame(f);
        process_exit(p, PROCESS_EXIT_FAULT);   /* does not return */
    }
    kprintf("\n[kernel] fault in kernel mode: %s\n", name);
    dump_frame(f);
    panic("unrecoverable kernel fault (vector %lu)", f->vector);
}
