/*
 * Device authority: what DeviceManager.claim mints for one PCI function
 * (device.c), and what its three caps share. A claim holds one reference
 * per live cap (pci_dev.claim_refs); when the last of DeviceMmio, DMAPool
 * and Interrupt goes, the function is free to be claimed again.
 */
#ifndef CAP_DEVICE_H
#define CAP_DEVICE_H
#include "kobj.h"
#include "dev/pci.h"

#define DEV_IRQ_SLOTS 8            /* devices with a routed interrupt at once */
#define VEC_DEV_BASE  33           /* vectors VEC_DEV_BASE .. +DEV_IRQ_SLOTS-1 */
#define DMA_MAX_PAGES 1024u        /* a DMAPool's quota bound (MANIFEST_MAX_DMA_PAGES) */

/* KernelStats: what device caps hold right now. */
extern uint64_t dev_stat_maps, dev_stat_dma_pages, dev_stat_irq_routes;

extern struct kobj device_manager_obj;

struct kobj *device_mmio_create(struct pci_dev *d);
struct kobj *dma_pool_create(struct pci_dev *d, uint32_t pages);
struct kobj *interrupt_create(struct pci_dev *d);
/* One cap of d's claim went away. */
void device_claim_put(struct pci_dev *d);
/* Interrupt slot `slot` fired (trap.c, after the EOI). */
void interrupt_fire(unsigned slot);
void interrupt_cancel(struct pending *pd);     /* pending_cancel for PENDING_IRQ */

/* The next free address in p's VirtualMemory region for `pages` pages, or 0. */
struct process;
uint64_t device_va_reserve(struct process *p, uint64_t pages);
#endif
