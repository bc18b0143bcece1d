/*
 * devprobe: the guest side of test-devices. Two roles (its args):
 *   holder   holds nic-mmio, nic-dma, nic-irq of a virtio-net device: reads
 *            its virtio capabilities through readConfig, maps the BAR they
 *            name, allocates DMA pages up to and past the quota, releases
 *            the pool and the interrupt (the counters drop), then touches
 *            the page after its BAR: the kernel kills it, and only it.
 *   witness  holds stats, timer, power: watches the holder's device counters
 *            appear and, once the holder is dead, drop to zero; checks that
 *            nobody else holds a device cap; powers off.
 * Facts are printed; tests/devices/test_devices.py judges them.
 */
#include "rt/capos.h"

struct dstats { uint64_t maps, dma, irq; uint32_t procs; };

static int get_stats(uint32_t stats, struct dstats *o)
{
    RT_BUFS(b, 64, 512);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_get_Results_reader r;
    int e = capos_KernelStats_get(&cl, &b, &call, &r);
    if (e)
        return rt_error(e);
    o->maps = capos_KernelStats_get_Results_get_deviceMaps(r);
    o->dma = capos_KernelStats_get_Results_get_dmaPages(r);
    o->irq = capos_KernelStats_get_Results_get_irqRoutes(r);
    o->procs = capos_KernelStats_get_Results_get_processes(r);
    return 0;
}

static int64_t read_config(uint32_t mmio, uint16_t off, uint8_t width)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mmio);
    capnp_call call;
    capos_DeviceMmio_readConfig_Results_reader r;
    int e = capos_DeviceMmio_readConfig(&cl, &b, &call, off, width, &r);
    return e ? rt_error(e) : (int64_t)capos_DeviceMmio_readConfig_Results_get_value(r);
}

static int map_bar(uint32_t mmio, uint8_t bar, uint64_t *addr, uint64_t *size)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(mmio);
    capnp_call call;
    capos_DeviceMmio_map_Results_reader r;
    int e = capos_DeviceMmio_map(&cl, &b, &call, bar, &r);
    if (e)
        return rt_error(e);
    *addr = capos_DeviceMmio_map_Results_get_addr(r);
    *size = capos_DeviceMmio_map_Results_get_size(r);
    return 0;
}

static int dma_alloc(uint32_t dma, uint64_t *addr, uint64_t *dev)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(dma);
    capnp_call call;
    capos_DMAPool_alloc_Results_reader r;
    int e = capos_DMAPool_alloc(&cl, &b, &call, &r);
    if (e)
        return rt_error(e);
    *addr = capos_DMAPool_alloc_Results_get_addr(r);
    *dev = capos_DMAPool_alloc_Results_get_deviceAddr(r);
    return 0;
}

static int holder(void)
{
    uint32_t mmio = rt_capset_require("nic-mmio"), dma = rt_capset_require("nic-dma");
    uint32_t irq = rt_capset_require("nic-irq");
    printf("DEV ids=%08lx\n", (uint64_t)read_config(mmio, 0, 4));
    printf("DEV bad-offset=%ld bad-width=%ld unaligned=%ld\n", read_config(mmio, 256, 4),
           read_config(mmio, 0, 3), read_config(mmio, 2, 4));
    /* the virtio PCI capabilities (vendor-specific, id 9): type, bar, offset, length */
    int common_bar = -1;
    uint32_t common_off = 0;
    for (int64_t off = read_config(mmio, 0x34, 1) & 0xFC, guard = 0; off > 0 && guard < 48; guard++) {
        int64_t id = read_config(mmio, (uint16_t)off, 1);
        if (id == 9) {
            int64_t type = read_config(mmio, (uint16_t)(off + 3), 1), bar = read_config(mmio, (uint16_t)(off + 4), 1);
            int64_t o = read_config(mmio, (uint16_t)(off + 8), 4), len = read_config(mmio, (uint16_t)(off + 12), 4);
            printf("DEV virtio-cap type=%ld bar=%ld offset=%lx length=%lx\n", type, bar, o, len);
            if (type == 1) {
                common_bar = (int)bar;
                common_off = (uint32_t)o;
            }
        } else if (id == 0x11) {
            printf("DEV msix-cap\n");
        }
        off = read_config(mmio, (uint16_t)(off + 1), 1) & 0xFC;
    }
    uint64_t addr = 0, size = 0;
    int e = common_bar >= 0 ? map_bar(mmio, (uint8_t)common_bar, &addr, &size) : -1;
    printf("DEV map bar=%d result=%d size=%lx\n", common_bar, e, size);
    if (e)
        return 1;
    volatile uint8_t *common = (volatile uint8_t *)(addr + common_off);
    printf("DEV num_queues=%u\n", *(volatile uint16_t *)(common + 0x12));
    uint64_t a2, s2;
    printf("DEV map-again same=%d\n", map_bar(mmio, (uint8_t)common_bar, &a2, &s2) == 0 && a2 == addr);
    printf("DEV map-absent=%d map-bad=%d\n", map_bar(mmio, 5, &a2, &s2), map_bar(mmio, 9, &a2, &s2));

    uint32_t n = 0;
    int last = 0;
    for (;;) {
        uint64_t va = 0, pa = 0;
        last = dma_alloc(dma, &va, &pa);
        if (last)
            break;
        *(volatile uint64_t *)va = 0x1234;          /* mapped read/write */
        n++;
        if (n > 64)
            break;
    }
    printf("DEV dma allocated=%u then=%d\n", n, last);
    uint32_t stats = rt_capset_require("stats");
    struct dstats s;
    get_stats(stats, &s);
    printf("DEV holding maps=%lu dma=%lu irq=%lu\n", s.maps, s.dma, s.irq);
    rt_release(dma);
    rt_release(irq);
    get_stats(stats, &s);
    printf("DEV released-dma-irq maps=%lu dma=%lu irq=%lu\n", s.maps, s.dma, s.irq);
    /* BAR1 holds only the MSI-X table: its address range is reserved, no page is mapped */
    uint64_t t, tsize;
    printf("DEV map msix bar result=%d\n", map_bar(mmio, 1, &t, &tsize));
    printf("DEV touching the MSI-X table\n");
    printf("DEV survived value=%u\n", *(volatile uint32_t *)t);
    return 2;
}

static int witness(void)
{
    uint32_t stats = rt_capset_require("stats");
    struct dstats s = { 0 };
    int seen = 0, gone = 0;
    /* bounded waits: the holder's counters appear, then vanish with it */
    (void)seen;
    for (int i = 0; i < 2000 && !gone; i++) {
        get_stats(stats, &s);
        gone = s.maps == 0 && s.dma == 0 && s.irq == 0;
        if (!gone)
            rt_timer_sleep_until(rt_timer_now() + 10000000);
    }
    /* device caps held by anyone once the holder is gone (on several CPUs
     * this witness may run while the holder still dies on another): init's
     * DeviceManager only */
    RT_BUFS(b, 64, 4096);
    capnp_client cl = RT_CLIENT(stats);
    capnp_call call;
    capos_KernelStats_processes_Results_reader pr;
    if (capos_KernelStats_processes(&cl, &b, &call, &pr) == 0) {
        capnp_list l = capos_KernelStats_processes_Results_get_list(pr);
        for (uint32_t i = 0; i < l.count; i++) {
            capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
            capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
            uint32_t dev = 0;
            for (uint32_t k = 0; k < ifs.count; k++) {
                uint64_t id = capnp_list_u64(ifs, k);
                dev += id == capos_DeviceMmio_ID || id == capos_DMAPool_ID || id == capos_Interrupt_ID ||
                       id == capos_DeviceManager_ID;
            }
            capnp_text nm = capos_ProcessCaps_get_name(p);
            printf("WIT process %.*s device-caps=%u\n", (int)nm.len, nm.str, dev);
        }
    }
    printf("WIT after-holder maps=%lu dma=%lu irq=%lu\n", s.maps, s.dma, s.irq);
    rt_power_off(rt_capset_require("power"), 0);
}

int main(void)
{
    const char *args = rt_capset->args;
    if (!strcmp(args, "holder"))
        return holder();
    if (!strcmp(args, "witness"))
        return witness();
    printf("devprobe: unknown role \"%s\"\n", args);
    return 3;
}
