/*
 * Interrupt: one PCI function's MSI-X table entry 0, routed by the kernel to
 * vector VEC_DEV_BASE + slot. The driver never touches the table (DeviceMmio
 * leaves its pages out); it points the device's sources at entry 0.
 *   wait() -> (count)   completes once the interrupt fired since the last
 *                       wait, with how often; NOT_FOUND when the function
 *                       has no MSI-X (INTx is not routed).
 *   ack()               unmask the entry: from a firing until ack it stays
 *                       masked, and the device holds what fires meanwhile
 *                       as pending (delivered on unmask).
 * The object's end masks the entry, turns MSI-X off and frees the slot;
 * waiters are failed with DISCONNECTED.
 *
 * SMP: slot s is handled by CPU s % ncpus (its APIC id in the message
 * address, physical destination mode), so the devices' interrupts spread
 * over the CPUs; any CPU can run interrupt_fire, under the big kernel lock
 * like every trap from user mode or the idle loop.
 */
#include "objects.h"
#include "device.h"
#include "mm/vm.h"
#include "mm/kheap.h"
#include "kprintf.h"
#include "arch/x86_64/percpu.h"

#define MSI_ADDR_BASE      0xFEE00000u
#define MSI_ADDR_DEST_SHIFT 12           /* destination APIC id, bits 19:12 */

enum irq_state { IRQ_NONE, IRQ_ARMED, IRQ_MASKED };

struct interrupt {
    struct kobj obj;
    struct pci_dev *dev;
    unsigned slot;
    enum irq_state state;
    volatile uint32_t *entry;           /* MSI-X table entry 0 (kernel mapping), 0 when IRQ_NONE */
    uint32_t count;                     /* firings not yet reported by a wait */
    struct list waiters;                /* PENDING_IRQ */
};

static struct interrupt *slots[DEV_IRQ_SLOTS];

#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_FMASK  (1u << 14)

void interrupt_fire(unsigned slot)
{
    struct interrupt *q = slot < DEV_IRQ_SLOTS ? slots[slot] : 0;
    if (!q || q->state == IRQ_NONE)
        return;
    q->count++;
    q->entry[3] |= 1u;                  /* mask until ack */
    q->state = IRQ_MASKED;
    if (!list_empty(&q->waiters)) {
        struct pending *pd = container_of(q->waiters.next, struct pending, wait_link);
        uint32_t n = q->count;
        q->count = 0;
        pending_complete_u64(pd, n);
    }
}

void interrupt_cancel(struct pending *pd) { (void)pd; }   /* leaving the wait list is all */

static int irq_wait(void *self, capos_Interrupt_wait_Params_reader p, capos_Interrupt_wait_Results_builder r)
{
    struct call_ctx *c = self;
    struct interrupt *q = (struct interrupt *)c->obj;
    switch (q->state) {
    case IRQ_NONE:
        return CAP_ERR_NOT_FOUND;
    case IRQ_ARMED:
    case IRQ_MASKED:
        break;
    }
    if (q->count) {
        capos_Interrupt_wait_Results_set_count(r, q->count);
        q->count = 0;
        return CAPNP_OK;
    }
    struct pending *pd = pending_new(c, PENDING_IRQ);
    if (!pd)
        return CAP_ERR_OVERLOADED;
    list_add_tail(&q->waiters, &pd->wait_link);
    return CALL_PENDING;
}

static int irq_ack(void *self, capos_Interrupt_ack_Params_reader p, capos_Interrupt_ack_Results_builder r)
{
    struct call_ctx *c = self;
    struct interrupt *q = (struct interrupt *)c->obj;
    switch (q->state) {
    case IRQ_NONE:
        return CAP_ERR_NOT_FOUND;
    case IRQ_ARMED:
        break;
    case IRQ_MASKED:
        q->state = IRQ_ARMED;
        q->entry[3] &= ~1u;
        break;
    }
    return CAPNP_OK;
}

static void irq_destroy(struct kobj *o)
{
    struct interrupt *q = (struct interrupt *)o;
    while (!list_empty(&q->waiters))
        pending_complete(container_of(q->waiters.next, struct pending, wait_link),
                         CAP_ERR_DISCONNECTED, 0, 0);
    if (q->state != IRQ_NONE) {
        q->entry[3] |= 1u;
        struct pci_dev *d = q->dev;
        pci_write(d, d->msix_cap + 2, 2, pci_read(d, d->msix_cap + 2, 2) & ~MSIX_CTRL_ENABLE);
        KASSERT(dev_stat_irq_routes > 0);
        dev_stat_irq_routes--;
    }
    KASSERT(slots[q->slot] == q);
    slots[q->slot] = 0;
    device_claim_put(q->dev);
    kfree(q);
}

static const capos_Interrupt_server irq_server = { .wait = irq_wait, .ack = irq_ack };
static int irq_call(struct kobj *o, struct call_ctx *c) { return capos_Interrupt_dispatch(&irq_server, c, &c->sc); }
static const struct kobj_type irq_type = { "Interrupt", capos_Interrupt_ID, irq_call, irq_destroy };

struct kobj *interrupt_create(struct pci_dev *d)
{
    unsigned slot = 0;
    while (slot < DEV_IRQ_SLOTS && slots[slot])
        slot++;
    if (slot == DEV_IRQ_SLOTS)
        return 0;
    struct interrupt *q = kmalloc(sizeof *q);
    if (!q)
        return 0;
    kobj_init(&q->obj, &irq_type);
    q->dev = d;
    q->slot = slot;
    list_init(&q->waiters);
    q->state = IRQ_NONE;
    const struct pci_bar *b = d->msix_cap ? &d->bars[d->msix_bar] : 0;
    if (b && b->size && (uint64_t)d->msix_off + d->msix_entries * 16ull <= b->size) {
        volatile uint32_t *t = vm_kmap_mmio(b->base + d->msix_off, d->msix_entries * 16u);
        if (t) {
            for (unsigned i = 0; i < d->msix_entries; i++)
                t[i * 4 + 3] |= 1u;                     /* every entry masked ... */
            /* ... entry 0 to the handling CPU's LAPIC, */
            t[0] = MSI_ADDR_BASE | cpus[slot % ncpus].apic_id << MSI_ADDR_DEST_SHIFT;
            t[1] = 0;
            t[2] = VEC_DEV_BASE + slot;                 /* fixed delivery, edge */
            t[3] &= ~1u;                                /* unmasked */
            q->entry = t;
            q->state = IRQ_ARMED;
            uint32_t ctrl = pci_read(d, d->msix_cap + 2, 2);
            pci_write(d, d->msix_cap + 2, 2, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK);
            pci_write(d, PCI_COMMAND, 2, pci_read(d, PCI_COMMAND, 2) | PCI_CMD_INTX_OFF);
            dev_stat_irq_routes++;
        }
    }
    slots[slot] = q;
    return &q->obj;
}
