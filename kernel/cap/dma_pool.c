/*
 * DMAPool: DMA-able pages for one PCI function, up to a page quota.
 *   alloc() -> (addr, deviceAddr)  one zeroed page mapped read/write (never
 *                  executable) into the caller; deviceAddr is its physical
 *                  address, which the device uses. OVERLOADED past the quota
 *                  or when memory is out. The first caller owns the pool's
 *                  mappings; another process gets INVALID_ARGUMENT.
 *   quota() -> (used, limit)
 * The pages are borrowed by the owner's address space (vm.h): they belong
 * to the pool. When the pool goes, bus mastering is turned off first (the
 * device can no longer reach them), then they are unmapped and freed.
 * Without an IOMMU nothing stops the device from being pointed at other
 * memory: see kernel/README.md, "Devices".
 */
#include "objects.h"
#include "device.h"
#include "sched/process.h"
#include "mm/frame.h"
#include "mm/kheap.h"
#include "kprintf.h"

struct dma_page {
    paddr_t pa;
    uint64_t va;
};

struct dma_pool {
    struct kobj obj;
    struct pci_dev *dev;
    uint32_t owner_pid;                 /* 0: nothing allocated yet */
    uint32_t used, limit;
    struct dma_page *pages;             /* limit entries */
};

static int pool_alloc(void *self, capos_DMAPool_alloc_Params_reader p, capos_DMAPool_alloc_Results_builder r)
{
    struct call_ctx *c = self;
    struct dma_pool *d = (struct dma_pool *)c->obj;
    if (d->owner_pid && d->owner_pid != c->caller->pid)
        return CAP_ERR_INVALID_ARGUMENT;
    if (d->used == d->limit)
        return CAP_ERR_OVERLOADED;
    paddr_t pa = frame_alloc();
    if (!pa)
        return CAP_ERR_OVERLOADED;
    uint64_t va = device_va_reserve(c->caller, 1);
    if (!va || vm_map_borrowed(&c->caller->vm, va, pa, PTE_W | PTE_NX) < 0) {
        frame_free(pa);
        return CAP_ERR_OVERLOADED;
    }
    d->owner_pid = c->caller->pid;
    d->pages[d->used++] = (struct dma_page){ pa, va };
    dev_stat_dma_pages++;
    capos_DMAPool_alloc_Results_set_addr(r, va);
    capos_DMAPool_alloc_Results_set_deviceAddr(r, pa);
    return CAPNP_OK;
}

static int pool_quota(void *self, capos_DMAPool_quota_Params_reader p, capos_DMAPool_quota_Results_builder r)
{
    struct call_ctx *c = self;
    struct dma_pool *d = (struct dma_pool *)c->obj;
    capos_DMAPool_quota_Results_set_used(r, d->used);
    capos_DMAPool_quota_Results_set_limit(r, d->limit);
    return CAPNP_OK;
}

static void pool_destroy(struct kobj *o)
{
    struct dma_pool *d = (struct dma_pool *)o;
    /* the device must not reach the pages once they are free */
    pci_write(d->dev, PCI_COMMAND, 2, pci_read(d->dev, PCI_COMMAND, 2) & ~PCI_CMD_MASTER);
    struct process *p = d->owner_pid ? process_find(d->owner_pid) : 0;
    for (uint32_t i = 0; i < d->used; i++) {
        if (p)
            vm_unmap_borrowed(&p->vm, d->pages[i].va);
        frame_free(d->pages[i].pa);
    }
    KASSERT(dev_stat_dma_pages >= d->used);
    dev_stat_dma_pages -= d->used;
    device_claim_put(d->dev);
    kfree(d->pages);
    kfree(d);
}

static const capos_DMAPool_server pool_server = { .alloc = pool_alloc, .quota = pool_quota };
static int pool_call(struct kobj *o, struct call_ctx *c) { return capos_DMAPool_dispatch(&pool_server, c, &c->sc); }
static const struct kobj_type pool_type = { "DMAPool", capos_DMAPool_ID, pool_call, pool_destroy };

struct kobj *dma_pool_create(struct pci_dev *dev, uint32_t pages)
{
    KASSERT(pages > 0 && pages <= DMA_MAX_PAGES);
    struct dma_pool *d = kmalloc(sizeof *d);
    if (!d)
        return 0;
    d->pages = kmalloc(pages * sizeof *d->pages);
    if (!d->pages) {
        kfree(d);
        return 0;
    }
    kobj_init(&d->obj, &pool_type);
    d->dev = dev;
    d->limit = pages;
    return &d->obj;
}
