/*
 * DeviceManager: the only way to device caps. init holds it (never grantable
 * through the manifest: it is not one of MANIFEST_KERNEL_CAPS) and claims
 * exactly the devices its validated manifest names, one service each.
 *   claim(vendorId, deviceId, dmaPages) -> (mmio, dma, irq)
 *       the first function with these ids that is not claimed. NOT_FOUND:
 *       no such function; OVERLOADED: every one is claimed, or no interrupt
 *       slot is left; INVALID_ARGUMENT: dmaPages 0 or over DMA_MAX_PAGES.
 * A claim enables memory decoding and bus mastering; the DMAPool's end
 * turns bus mastering off again before its pages are freed.
 */
#include "objects.h"
#include "device.h"
#include "sched/process.h"
#include "kprintf.h"

uint64_t dev_stat_maps, dev_stat_dma_pages, dev_stat_irq_routes;

uint64_t device_va_reserve(struct process *p, uint64_t pages)
{
    if (pages == 0 || pages > (VMEM_LIMIT - p->vm_next) / PAGE_SIZE)
        return 0;
    uint64_t va = p->vm_next;
    p->vm_next += pages * PAGE_SIZE;
    return va;
}

void device_claim_put(struct pci_dev *d)
{
    KASSERT(d->claim == PCI_CLAIMED && d->claim_refs > 0);
    if (--d->claim_refs == 0) {
        pci_write(d, PCI_COMMAND, 2, pci_read(d, PCI_COMMAND, 2) & ~PCI_CMD_MASTER);
        d->claim = PCI_FREE;
    }
}

static int dm_claim(void *self, capos_DeviceManager_claim_Params_reader p,
                    capos_DeviceManager_claim_Results_builder r)
{
    struct call_ctx *c = self;
    uint16_t vendor = capos_DeviceManager_claim_Params_get_vendorId(p);
    uint16_t device = capos_DeviceManager_claim_Params_get_deviceId(p);
    uint32_t pages = capos_DeviceManager_claim_Params_get_dmaPages(p);
    if (pages == 0 || pages > DMA_MAX_PAGES)
        return CAP_ERR_INVALID_ARGUMENT;
    struct pci_dev *d = 0;
    bool seen = false;
    for (uint32_t i = 0; i < pci_count() && !d; i++) {
        struct pci_dev *x = pci_get(i);
        if (x->vendor != vendor || x->device != device)
            continue;
        seen = true;
        switch (x->claim) {
        case PCI_FREE:
            d = x;
            break;
        case PCI_CLAIMED:
            break;
        }
    }
    if (!d)
        return seen ? CAP_ERR_OVERLOADED : CAP_ERR_NOT_FOUND;
    /* the three caps each hold a claim reference from creation on; memory
     * decoding first: the interrupt's set-up writes the MSI-X table */
    pci_write(d, PCI_COMMAND, 2, pci_read(d, PCI_COMMAND, 2) | PCI_CMD_MEM);
    d->claim = PCI_CLAIMED;
    d->claim_refs = 3;
    struct kobj *mmio = device_mmio_create(d);
    struct kobj *dma = mmio ? dma_pool_create(d, pages) : 0;
    struct kobj *irq = dma ? interrupt_create(d) : 0;
    if (!irq) {
        /* undo: every cap not made drops its reference here, the made ones on put */
        uint32_t made = (mmio != 0) + (dma != 0);
        d->claim_refs -= 3 - made;
        if (dma)
            kobj_put(dma);
        if (mmio)
            kobj_put(mmio);
        if (made == 0)
            d->claim = PCI_FREE;
        return CAP_ERR_OVERLOADED;
    }
    pci_write(d, PCI_COMMAND, 2, pci_read(d, PCI_COMMAND, 2) | PCI_CMD_MASTER);
    capos_DeviceManager_claim_Results_set_mmio(r, ctx_result_cap(c, r.s, mmio));
    capos_DeviceManager_claim_Results_set_dma(r, ctx_result_cap(c, r.s, dma));
    capos_DeviceManager_claim_Results_set_irq(r, ctx_result_cap(c, r.s, irq));
    return CAPNP_OK;
}

static const capos_DeviceManager_server dm_server = { .claim = dm_claim };
static int dm_call(struct kobj *o, struct call_ctx *c) { return capos_DeviceManager_dispatch(&dm_server, c, &c->sc); }
static const struct kobj_type dm_type = { "DeviceManager", capos_DeviceManager_ID, dm_call, 0 };
struct kobj device_manager_obj = KOBJ_STATIC(dm_type, capos_DeviceManager_ID);
