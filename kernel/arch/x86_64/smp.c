/*
 * Symmetric multiprocessing: finding the CPUs, starting them, and the
 * inter-processor interrupts the scheduler and the page tables need.
 *
 * CPUs come from the ACPI MADT (one "processor local APIC" entry per CPU,
 * enabled ones only); without ACPI the machine runs on the boot CPU alone.
 * Each application processor (AP) is started with INIT, then two STARTUP
 * IPIs pointing at the real-mode trampoline (trampoline.S), one AP at a
 * time. An AP gets its own GDT and TSS (its double-fault stack), GS base
 * (struct cpu), SYSCALL MSRs, FPU set-up and LAPIC timer, then takes the
 * big kernel lock and runs its idle thread.
 *
 * One IPI vector serves both uses:
 *   wake-up    a thread became runnable and this CPU may be halted in idle;
 *   shootdown  cpu->tlb_req says what to drop: TLB_REQ_FLUSH (reload CR3)
 *              or TLB_REQ_LEAVE (switch to the kernel's tables: the space
 *              is being freed). The shooter holds the BKL and spins until
 *              every target has cleared its tlb_req. Targets never need the
 *              BKL to answer: user mode and the idle loop run with
 *              interrupts on, and a CPU spinning for the BKL serves requests
 *              while it spins (sched/lock.c). The kernel never dereferences
 *              a user address, so a CPU in the kernel is safe until it
 *              returns to user mode, and it cannot return without passing
 *              through one of those.
 */
#include "smp.h"
#include "cpu.h"
#include "gdt.h"
#include "trap.h"
#include "lapic.h"
#include "fpu.h"
#include "kprintf.h"
#include "mm/vm.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "sched/sched.h"
#include "sched/lock.h"
#include "c/string.h"

#define TRAMP_BASE   0x8000ull      /* trampoline.S's address; SIPI vector 0x08 */
#define AP_STACK_SIZE 16384
#define MSR_TSC_AUX  0xC0000103

#define TLB_REQ_FLUSH 1u
#define TLB_REQ_LEAVE 2u

#define ICR_INIT     0x4500u        /* INIT, level assert */
#define ICR_STARTUP  0x4600u        /* STARTUP | vector */
#define ICR_FIXED    0x4000u        /* fixed delivery, assert */

struct cpu cpus[MAX_CPUS];
uint32_t ncpus = 1;
static paddr_t tlb_target[MAX_CPUS];          /* the space cpus[i].tlb_req is about */

extern const char tramp_start[], tramp_end[], tramp_cr3[], tramp_stack[], tramp_entry[], tramp_arg[];
void cpu_init(bool boot);
void syscall_init(void);

static void percpu_set(struct cpu *c)
{
    c->self = c;
    wrmsr(MSR_GS_BASE, (uint64_t)c);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_TSC_AUX, c->index);       /* RDPID/RDTSCP tell user space its CPU */
}

void smp_init_boot_cpu(void)
{
    cpus[0].index = 0;
    cpus[0].online = true;
    cpus[0].cr3 = read_cr3();
    percpu_set(&cpus[0]);
}

/* ---- ACPI: RSDP -> RSDT/XSDT -> MADT ---- */

struct acpi_hdr {
    char sig[4];
    uint32_t length;
    uint8_t rev, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool sum_ok(const void *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((const uint8_t *)p)[i];
    return s == 0;
}

/* ACPI tables sit in reserved RAM below 4 GiB, which the direct map may not
 * cover (it maps usable RAM): map what is read, 4 KiB at a time. */
static const void *acpi_map(paddr_t pa, size_t len)
{
    return vm_kmap_phys(pa, len);
}

static paddr_t find_rsdp(void)
{
    uint16_t ebda_seg = *(const uint16_t *)phys_to_virt(0x40E);
    paddr_t areas[2][2] = { { (paddr_t)ebda_seg << 4, ((paddr_t)ebda_seg << 4) + 1024 }, { 0xE0000, 0x100000 } };
    for (int a = 0; a < 2; a++)
        for (paddr_t pa = areas[a][0]; pa && pa + 20 <= areas[a][1]; pa += 16) {
            const char *p = phys_to_virt(pa);
            if (!memcmp(p, "RSD PTR ", 8) && sum_ok(p, 20))
                return pa;
        }
    return 0;
}

static const struct acpi_hdr *find_table(const char sig[4])
{
    paddr_t rsdp = find_rsdp();
    if (!rsdp)
        return 0;
    const uint8_t *r = phys_to_virt(rsdp);
    bool x = r[15] >= 2 && *(const uint64_t *)(r + 24);
    paddr_t root = x ? *(const uint64_t *)(r + 24) : *(const uint32_t *)(r + 16);
    const struct acpi_hdr *h = acpi_map(root, sizeof *h);
    if (!h || !(h = acpi_map(root, h->length)) || !sum_ok(h, h->length))
        return 0;
    size_t esz = x ? 8 : 4, n = (h->length - sizeof *h) / esz;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = (const uint8_t *)(h + 1) + i * esz;
        paddr_t pa = x ? *(const uint64_t *)e : *(const uint32_t *)e;
        const struct acpi_hdr *t = acpi_map(pa, sizeof *t);
        if (t && !memcmp(t->sig, sig, 4) && (t = acpi_map(pa, t->length)) && sum_ok(t, t->length))
            return t;
    }
    return 0;
}

/* The APIC ids of the enabled CPUs, the boot CPU's among them. */
static uint32_t madt_cpus(uint32_t *ids, uint32_t max)
{
    const struct acpi_hdr *m = find_table("APIC");
    if (!m)
        return 0;
    uint32_t n = 0;
    const uint8_t *p = (const uint8_t *)m + sizeof *m + 8, *end = (const uint8_t *)m + m->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == 0 && p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1) && n < max)
            ids[n++] = p[3];                   /* type 0: processor local APIC, enabled */
        p += p[1];
    }
    return n;
}

/* ---- starting the APs ---- */

static volatile bool ap_up;

/* An AP's first C code, on its boot stack, on the trampoline's page tables. */
__attribute__((noreturn)) void ap_main(struct cpu *c)
{
    vm_init_ap();                 /* the kernel's own tables, WP, PGE */
    gdt_init(c->index);
    idt_load();
    cpu_init(false);
    fpu_init_ap();
    syscall_init();
    percpu_set(c);
    c->cr3 = read_cr3();
    lapic_init_ap();
    kernel_lock();
    c->online = true;
    ncpus++;
    __atomic_store_n(&ap_up, true, __ATOMIC_RELEASE);
    sched_start_cpu(c);
}

static bool start_ap(struct cpu *c, paddr_t pml4)
{
    uint8_t *t = phys_to_virt(TRAMP_BASE);
    void *stack = kmalloc(AP_STACK_SIZE);    /* abandoned for the idle thread's stack */
    if (!stack)
        return false;
    *(uint64_t *)(t + (tramp_cr3 - tramp_start)) = pml4;
    *(uint64_t *)(t + (tramp_stack - tramp_start)) = ((uint64_t)stack + AP_STACK_SIZE) & ~15ull;
    *(uint64_t *)(t + (tramp_entry - tramp_start)) = (uint64_t)ap_main;
    *(uint64_t *)(t + (tramp_arg - tramp_start)) = (uint64_t)c;
    ap_up = false;
    lapic_send_ipi(c->apic_id, ICR_INIT);
    delay_us(10000);
    for (int i = 0; i < 2 && !ap_up; i++) {
        lapic_send_ipi(c->apic_id, ICR_STARTUP | (uint32_t)(TRAMP_BASE >> 12));
        delay_us(200);
    }
    for (int ms = 0; ms < 1000 && !__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE); ms++)
        delay_us(1000);
    if (!ap_up) {
        kfree(stack);
        return false;
    }
    return true;
}

/* Binds on: the boot CPU holds the BKL; each AP takes it before it counts
 * itself online, and waits for it while the boot CPU goes on. */
void smp_start_aps(void)
{
    uint32_t ids[MAX_CPUS];
    uint32_t n = madt_cpus(ids, MAX_CPUS);
    cpus[0].apic_id = lapic_id();
    if (n <= 1) {
        kprintf("[kernel] smp: %s: 1 CPU\n", n ? "ACPI MADT lists one CPU" : "no ACPI MADT");
        return;
    }
    /* The trampoline's tables: the first 2 MiB one to one, the kernel's half. */
    paddr_t pml4 = frame_alloc(), pdpt = frame_alloc(), pd = frame_alloc();
    if (!pml4 || !pdpt || !pd || pml4 >= (1ull << 32))
        panic("smp: no low memory for the AP page tables");
    uint64_t *top = phys_to_virt(pml4);
    memcpy(&top[256], &((uint64_t *)phys_to_virt(vm_kernel_pml4()))[256], 256 * sizeof(uint64_t));
    top[0] = pdpt | PTE_P | PTE_W;
    ((uint64_t *)phys_to_virt(pdpt))[0] = pd | PTE_P | PTE_W;
    ((uint64_t *)phys_to_virt(pd))[0] = 0 | PTE_P | PTE_W | PTE_PS;
    memcpy(phys_to_virt(TRAMP_BASE), tramp_start, (size_t)(tramp_end - tramp_start));

    uint32_t next = 1;
    for (uint32_t i = 0; i < n && next < MAX_CPUS; i++) {
        if (ids[i] == cpus[0].apic_id)
            continue;
        struct cpu *c = &cpus[next];
        c->index = next;
        c->apic_id = ids[i];
        sched_prepare_cpu(c);
        /* the AP spins for the BKL we hold: let it go to say it is up */
        kernel_unlock();
        bool ok = start_ap(c, pml4);
        kernel_lock();
        if (!ok) {
            kprintf("[kernel] smp: CPU with APIC id %u did not start\n", ids[i]);
            continue;
        }
        next++;
    }
    frame_free(pd);
    frame_free(pdpt);
    frame_free(pml4);
    kprintf("[kernel] smp: %u CPUs online (ACPI MADT lists %u)\n", ncpus, n);
}

/* ---- IPIs ---- */

static void send_ipi(struct cpu *c)
{
    this_cpu()->count.ipis_sent++;
    lapic_send_ipi(c->apic_id, ICR_FIXED | VEC_IPI);
}

void smp_kick(struct cpu *c)
{
    if (c != this_cpu() && c->online)
        send_ipi(c);
}

void smp_serve_requests(void)
{
    struct cpu *c = this_cpu();
    uint32_t req = __atomic_load_n(&c->tlb_req, __ATOMIC_ACQUIRE);
    if (!req)
        return;
    if (req == TLB_REQ_LEAVE && c->cr3 == tlb_target[c->index]) {
        c->cr3 = vm_kernel_pml4();
        write_cr3(c->cr3);
    } else {
        write_cr3(read_cr3());                 /* drops every non-global entry */
    }
    __atomic_store_n(&c->tlb_req, 0, __ATOMIC_RELEASE);
}

void smp_ipi_received(void)
{
    this_cpu()->count.ipis++;
    smp_serve_requests();
}

void smp_tlb_shootdown(paddr_t pml4, bool leave)
{
    struct cpu *me = this_cpu();
    bool sent = false;
    for (uint32_t i = 0; i < MAX_CPUS; i++) {
        struct cpu *c = &cpus[i];
        if (c == me || !c->online || c->cr3 != pml4)
            continue;
        tlb_target[i] = pml4;
        __atomic_store_n(&c->tlb_req, leave ? TLB_REQ_LEAVE : TLB_REQ_FLUSH, __ATOMIC_RELEASE);
        send_ipi(c);
        sent = true;
    }
    if (sent)
        me->count.tlb_rounds++;
    for (uint32_t i = 0; sent && i < MAX_CPUS; i++)
        while (__atomic_load_n(&cpus[i].tlb_req, __ATOMIC_ACQUIRE))
            pause();
}
