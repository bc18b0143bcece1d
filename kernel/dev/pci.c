/*
 * PCI enumeration (configuration mechanism #1). Every function found is
 * logged with its ids and memory BARs; BARs keep the addresses the firmware
 * gave them.
 */
#include "pci.h"
#include "kprintf.h"
#include "arch/x86_64/cpu.h"

static struct pci_dev devs[PCI_MAX_DEVICES];

/* Firmware that leaves memory BARs unassigned (qboot does) gets them placed
 * here: inside the i440FX's 32-bit PCI hole, above any RAM this kernel uses
 * (at most 3 GiB below 4 GiB) and below the IO-APIC window. */
#define PCI_MMIO_WINDOW     0xC0000000ull
#define PCI_MMIO_WINDOW_END 0xFEC00000ull
static uint64_t mmio_next = PCI_MMIO_WINDOW;
static uint32_t ndevs;

static uint32_t cfg_addr(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)slot << 11 | (uint32_t)func << 8 | (off & 0xFC);
}

static uint32_t cfg_read32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off)
{
    outl(0xCF8, cfg_addr(bus, slot, func, off));
    return inl(0xCFC);
}

static void cfg_write32(uint8_t bus, uint8_t slot, uint8_t func, uint16_t off, uint32_t v)
{
    outl(0xCF8, cfg_addr(bus, slot, func, off));
    outl(0xCFC, v);
}

uint32_t pci_read(const struct pci_dev *d, uint16_t off, unsigned width)
{
    KASSERT(off < 256 && (width == 1 || width == 2 || width == 4) && off % width == 0);
    uint32_t v = cfg_read32(d->bus, d->slot, d->func, off);
    v >>= (off & 3) * 8;
    return width == 4 ? v : v & ((1u << (width * 8)) - 1);
}

void pci_write(const struct pci_dev *d, uint16_t off, unsigned width, uint32_t v)
{
    KASSERT(off < 256 && (width == 1 || width == 2 || width == 4) && off % width == 0);
    uint32_t old = cfg_read32(d->bus, d->slot, d->func, off);
    if (width < 4) {
        uint32_t shift = (off & 3) * 8, mask = ((1u << (width * 8)) - 1) << shift;
        v = (old & ~mask) | ((v << shift) & mask);
    }
    cfg_write32(d->bus, d->slot, d->func, off, v);
}

/* Size the BARs (memory decoding off meanwhile), keep the firmware's bases. */
static void read_bars(struct pci_dev *d)
{
    uint32_t cmd = pci_read(d, PCI_COMMAND, 2);
    pci_write(d, PCI_COMMAND, 2, cmd & ~(PCI_CMD_MEM | 1u));
    for (int i = 0; i < PCI_BARS; i++) {
        uint16_t off = (uint16_t)(0x10 + 4 * i);
        uint32_t lo = pci_read(d, off, 4);
        if (lo & 1)
            continue;                                   /* I/O BAR: no MMIO to grant */
        bool is64 = ((lo >> 1) & 3) == 2;
        pci_write(d, off, 4, 0xFFFFFFFFu);
        uint64_t mask = pci_read(d, off, 4) & ~0xFull;
        pci_write(d, off, 4, lo);
        uint64_t base = lo & ~0xFull;
        if (is64 && i + 1 < PCI_BARS) {
            uint32_t hi = pci_read(d, off + 4, 4);
            pci_write(d, off + 4, 4, 0xFFFFFFFFu);
            mask |= (uint64_t)pci_read(d, off + 4, 4) << 32;
            pci_write(d, off + 4, 4, hi);
            base |= (uint64_t)hi << 32;
        } else {
            mask |= 0xFFFFFFFF00000000ull;
        }
        uint64_t size = mask ? (~mask + 1) : 0;
        if (mask == 0xFFFFFFFF00000000ull)
            size = 0;
        if (!base && size && size <= PCI_MMIO_WINDOW_END - PCI_MMIO_WINDOW) {
            uint64_t at = ALIGN_UP(mmio_next, size < PAGE_SIZE ? PAGE_SIZE : size);
            if (at + size <= PCI_MMIO_WINDOW_END) {
                base = at;
                mmio_next = at + size;
                pci_write(d, off, 4, (uint32_t)base | (lo & 0xF));
                if (is64)
                    pci_write(d, off + 4, 4, 0);
            }
        }
        if (base && size) {
            d->bars[i].base = base;
            d->bars[i].size = size;
        }
        if (is64)
            i++;
    }
    pci_write(d, PCI_COMMAND, 2, cmd);
}

static void read_caps(struct pci_dev *d)
{
    if (!(pci_read(d, 0x06, 2) & 0x10))
        return;                                         /* no capability list */
    uint8_t off = (uint8_t)(pci_read(d, 0x34, 1) & 0xFC);
    for (int guard = 0; off && guard < 48; guard++) {
        uint8_t id = (uint8_t)pci_read(d, off, 1);
        if (id == 0x11) {
            d->msix_cap = off;
            d->msix_entries = (uint16_t)((pci_read(d, off + 2, 2) & 0x7FF) + 1);
            uint32_t t = pci_read(d, off + 4, 4), p = pci_read(d, off + 8, 4);
            d->msix_bar = t & 7, d->msix_off = t & ~7u;
            d->pba_bar = p & 7, d->pba_off = p & ~7u;
        }
        off = (uint8_t)(pci_read(d, off + 1, 1) & 0xFC);
    }
}

void pci_init(void)
{
    for (unsigned bus = 0; bus < 256; bus++)
        for (uint8_t slot = 0; slot < 32; slot++)
            for (uint8_t func = 0; func < 8; func++) {
                uint32_t id = cfg_read32((uint8_t)bus, slot, func, 0);
                if ((id & 0xFFFF) == 0xFFFF) {
                    if (func == 0)
                        break;
                    continue;
                }
                if (ndevs == PCI_MAX_DEVICES) {
                    kprintf("[kernel] pci: more than %d functions, the rest are ignored\n", PCI_MAX_DEVICES);
                    return;
                }
                struct pci_dev *d = &devs[ndevs++];
                d->bus = (uint8_t)bus, d->slot = slot, d->func = func;
                d->vendor = id & 0xFFFF, d->device = id >> 16;
                d->claim = PCI_FREE;
                read_bars(d);
                read_caps(d);
                kprintf("[kernel] pci %02x:%02x.%u %04x:%04x", bus, slot, func, d->vendor, d->device);
                for (int i = 0; i < PCI_BARS; i++)
                    if (d->bars[i].size)
                        kprintf(" bar%d=%lx+%lx", i, d->bars[i].base, d->bars[i].size);
                if (d->msix_cap)
                    kprintf(" msix=%u@bar%u+%x", d->msix_entries, d->msix_bar, d->msix_off);
                kprintf("\n");
                if (func == 0 && !(pci_read(d, 0x0E, 1) & 0x80))
                    break;                              /* single-function device */
            }
}

uint32_t pci_count(void) { return ndevs; }
struct pci_dev *pci_get(uint32_t i) { return i < ndevs ? &devs[i] : 0; }
