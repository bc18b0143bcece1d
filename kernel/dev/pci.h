/*
 * PCI, as far as the kernel needs it to mint device caps: enumeration at
 * boot through the configuration mechanism #1 ports (0xCF8/0xCFC: scripts/qemu
 * runs QEMU's default machine, `pc`, the i440FX chipset, whose host bridge
 * decodes them), each function's memory BARs and its MSI-X capability.
 * Nothing here drives a device.
 */
#ifndef DEV_PCI_H
#define DEV_PCI_H
#include "types.h"

#define PCI_MAX_DEVICES 16
#define PCI_BARS 6

struct pci_bar {
    paddr_t base;
    uint64_t size;             /* 0: absent, I/O, or the upper half of a 64-bit BAR */
};

enum pci_claim { PCI_FREE, PCI_CLAIMED };

struct pci_dev {
    uint8_t bus, slot, func;
    uint16_t vendor, device;
    struct pci_bar bars[PCI_BARS];
    uint8_t msix_cap;          /* config offset of the MSI-X capability, 0 if none */
    uint8_t msix_bar, pba_bar;
    uint32_t msix_off, pba_off;
    uint16_t msix_entries;
    enum pci_claim claim;
    uint32_t claim_refs;       /* live caps of the current claim (mmio, dma, irq) */
};

void pci_init(void);
uint32_t pci_count(void);
struct pci_dev *pci_get(uint32_t i);
uint32_t pci_read(const struct pci_dev *d, uint16_t off, unsigned width);
void pci_write(const struct pci_dev *d, uint16_t off, unsigned width, uint32_t v);

#define PCI_COMMAND 0x04
#define PCI_CMD_MEM    0x0002u
#define PCI_CMD_MASTER 0x0004u
#define PCI_CMD_INTX_OFF 0x0400u
#endif
