/*
 * DeviceMmio: the memory BARs of one PCI function, and its config space.
 *   info() -> ids, location, barSizes
 *   map(bar) -> (addr, size)   BAR `bar` into the caller, uncached (PCD|PWT),
 *                              read/write, never executable. Pages holding
 *                              the MSI-X table or PBA are left out: only the
 *                              kernel programs interrupts. The first caller
 *                              to map owns every mapping of this cap; another
 *                              process gets INVALID_ARGUMENT.
 *   readConfig(offset, width)  offset < 256, width 1/2/4, aligned.
 * Nothing else is reachable: an access outside the mapped pages faults the
 * process like any unmapped address. The pages are borrowed (vm.h): the
 * holder's death never frees them, and this object unmaps them when it goes
 * if their owner is still alive.
 */
#include "objects.h"
#include "device.h"
#include "sched/process.h"
#include "mm/kheap.h"
#include "kprintf.h"

struct device_mmio {
    struct kobj obj;
    struct pci_dev *dev;
    uint32_t owner_pid;                 /* 0: nothing mapped yet */
    uint64_t va[PCI_BARS];              /* 0: BAR not mapped */
    uint32_t npages[PCI_BARS];          /* pages reserved (some may be skipped) */
    uint32_t mapped;                    /* pages actually mapped, all BARs */
};

static bool msix_page(const struct pci_dev *d, unsigned bar, uint64_t off)
{
    if (!d->msix_cap)
        return false;
    uint64_t tlen = (uint64_t)d->msix_entries * 16, plen = ((d->msix_entries + 63u) / 64u) * 8u;
    if (bar == d->msix_bar && off + PAGE_SIZE > ALIGN_DOWN(d->msix_off, PAGE_SIZE) && off < d->msix_off + tlen)
        return true;
    if (bar == d->pba_bar && off + PAGE_SIZE > ALIGN_DOWN(d->pba_off, PAGE_SIZE) && off < d->pba_off + plen)
        return true;
    return false;
}

static int mmio_info(void *self, capos_DeviceMmio_info_Params_reader p, capos_DeviceMmio_info_Results_builder r)
{
    struct call_ctx *c = self;
    struct device_mmio *m = (struct device_mmio *)c->obj;
    capos_DeviceMmio_info_Results_set_vendorId(r, m->dev->vendor);
    capos_DeviceMmio_info_Results_set_deviceId(r, m->dev->device);
    capos_DeviceMmio_info_Results_set_bus(r, m->dev->bus);
    capos_DeviceMmio_info_Results_set_slot(r, m->dev->slot);
    capos_DeviceMmio_info_Results_set_func(r, m->dev->func);
    capnp_lbuilder l = capos_DeviceMmio_info_Results_init_barSizes(r, PCI_BARS);
    for (unsigned i = 0; i < PCI_BARS; i++)
        capnp_lset_u64(l, i, m->dev->bars[i].size);
    return CAPNP_OK;
}

static int mmio_map(void *self, capos_DeviceMmio_map_Params_reader p, capos_DeviceMmio_map_Results_builder r)
{
    struct call_ctx *c = self;
    struct device_mmio *m = (struct device_mmio *)c->obj;
    unsigned bar = capos_DeviceMmio_map_Params_get_bar(p);
    if (bar >= PCI_BARS || !m->dev->bars[bar].size)
        return CAP_ERR_NOT_FOUND;
    const struct pci_bar *b = &m->dev->bars[bar];
    if (b->base % PAGE_SIZE)
        return CAP_ERR_INVALID_ARGUMENT;   /* a sub-page BAR would share its page with another device */
    if (m->owner_pid && m->owner_pid != c->caller->pid)
        return CAP_ERR_INVALID_ARGUMENT;
    if (!m->va[bar]) {
        uint64_t pages = ALIGN_UP(b->size, PAGE_SIZE) / PAGE_SIZE;
        uint64_t va = device_va_reserve(c->caller, pages);
        if (!va)
            return CAP_ERR_OVERLOADED;
        for (uint64_t i = 0; i < pages; i++) {
            if (msix_page(m->dev, bar, i * PAGE_SIZE))
                continue;
            if (vm_map_borrowed(&c->caller->vm, va + i * PAGE_SIZE, b->base + i * PAGE_SIZE,
                                PTE_W | PTE_NX | PTE_PCD | PTE_PWT) < 0) {
                size_t n = vm_unmap_range(&c->caller->vm, va, i, true);
                m->mapped -= n;
                dev_stat_maps -= n;
                return CAP_ERR_OVERLOADED;
            }
            m->mapped++;
            dev_stat_maps++;
        }
        m->owner_pid = c->caller->pid;
        m->va[bar] = va;
        m->npages[bar] = (uint32_t)pages;
    }
    capos_DeviceMmio_map_Results_set_addr(r, m->va[bar]);
    capos_DeviceMmio_map_Results_set_size(r, b->size);
    return CAPNP_OK;
}

static int mmio_read_config(void *self, capos_DeviceMmio_readConfig_Params_reader p,
                            capos_DeviceMmio_readConfig_Results_builder r)
{
    struct call_ctx *c = self;
    struct device_mmio *m = (struct device_mmio *)c->obj;
    uint16_t off = capos_DeviceMmio_readConfig_Params_get_offset(p);
    uint8_t w = capos_DeviceMmio_readConfig_Params_get_width(p);
    if (off >= 256 || (w != 1 && w != 2 && w != 4) || off % w)
        return CAP_ERR_INVALID_ARGUMENT;
    capos_DeviceMmio_readConfig_Results_set_value(r, pci_read(m->dev, off, w));
    return CAPNP_OK;
}

static void mmio_destroy(struct kobj *o)
{
    struct device_mmio *m = (struct device_mmio *)o;
    struct process *p = m->owner_pid ? process_find(m->owner_pid) : 0;
    for (unsigned bar = 0; bar < PCI_BARS; bar++)
        if (p && m->va[bar])
            vm_unmap_range(&p->vm, m->va[bar], m->npages[bar], true);
    /* a dead owner's space already dropped the entries: count them gone too */
    KASSERT(dev_stat_maps >= m->mapped);
    dev_stat_maps -= m->mapped;
    device_claim_put(m->dev);
    kfree(m);
}

static const capos_DeviceMmio_server mmio_server = {
    .info = mmio_info, .map = mmio_map, .readConfig = mmio_read_config,
};
static int mmio_call(struct kobj *o, struct call_ctx *c) { return capos_DeviceMmio_dispatch(&mmio_server, c, &c->sc); }
static const struct kobj_type mmio_type = { "DeviceMmio", capos_DeviceMmio_ID, mmio_call, mmio_destroy };

struct kobj *device_mmio_create(struct pci_dev *d)
{
    struct device_mmio *m = kmalloc(sizeof *m);
    if (!m)
        return 0;
    kobj_init(&m->obj, &mmio_type);
    m->dev = d;
    return &m->obj;
}
