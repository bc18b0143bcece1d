/*
 * virtio-blk: the userspace driver of a modern virtio block device
 * (virtio-blk-pci, disable-legacy=on: 1af4:1042). It holds the three caps
 * of its manifest device line (disk-mmio, disk-dma, disk-irq), a console to
 * log to, and the owner side of its export "disk", on which it serves a
 * BlockDevice. Nothing else.
 *
 * One split virtqueue (queue 0) in one DMA page; request headers and status
 * bytes in a second; the data of one call in a third. A call's sectors go
 * to the device as one request per sector, all in flight together, and the
 * call is answered once every one has completed (the used ring, woken by
 * MSI-X entry 0 through the Interrupt cap). Any error of any request fails
 * the whole call. Flush is VIRTIO_BLK_T_FLUSH, offered only when the device
 * has VIRTIO_BLK_F_FLUSH.
 */
#include "rt/capos.h"

#define SECTOR        512u
#define MAX_SECTORS   7u            /* what fits a call's 4 KiB of params or results */
#define QMAX          64u

/* virtio PCI capability types and common configuration offsets (virtio 1.x 4.1.4) */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_DEVICE 4
#define C_DFSEL   0x00
#define C_DF      0x04
#define C_GFSEL   0x08
#define C_GF      0x0C
#define C_MSIXCFG 0x10
#define C_STATUS  0x14
#define C_QSEL    0x16
#define C_QSIZE   0x18
#define C_QMSIX   0x1A
#define C_QENABLE 0x1C
#define C_QNOFF   0x1E
#define C_QDESC   0x20
#define C_QDRIVER 0x28
#define C_QDEVICE 0x30
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_FAILED 128
#define F_BLK_RO    5
#define F_BLK_FLUSH 9
#define F_VERSION_1 32
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define D_NEXT 1
#define D_WRITE 2

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct req_hdr { uint32_t type, reserved; uint64_t sector; };

static uint32_t c_mmio, c_dma, c_irq;
static volatile uint8_t *common, *devcfg, *notify;
static uint16_t qsize;
static volatile struct desc *descs;
static volatile uint16_t *avail;                 /* flags, idx, ring[] */
static volatile uint8_t *used;                   /* flags, idx, {id, len}[] */
static uint16_t avail_idx, used_seen;
static volatile uint8_t *hdrs; static uint64_t hdrs_dev;   /* 32 bytes a slot: header, status at +16 */
static uint8_t *data; static uint64_t data_dev;
static uint64_t capacity;
static bool has_flush, read_only;
static uint64_t requests, irq_waits;
static struct rt_incoming rx;

static int64_t cfg_read(uint16_t off, uint8_t width)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(c_mmio);
    capnp_call call;
    capos_DeviceMmio_readConfig_Results_reader r;
    int e = capos_DeviceMmio_readConfig(&cl, &b, &call, off, width, &r);
    return e ? rt_error(e) : (int64_t)capos_DeviceMmio_readConfig_Results_get_value(r);
}

static int bar_map(uint8_t bar, uint64_t *addr, uint64_t *size)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(c_mmio);
    capnp_call call;
    capos_DeviceMmio_map_Results_reader r;
    int e = capos_DeviceMmio_map(&cl, &b, &call, bar, &r);
    if (e)
        return rt_error(e);
    *addr = capos_DeviceMmio_map_Results_get_addr(r);
    *size = capos_DeviceMmio_map_Results_get_size(r);
    return 0;
}

static int dma_page(uint64_t *addr, uint64_t *dev)
{
    RT_BUFS(b, 64, 256);
    capnp_client cl = RT_CLIENT(c_dma);
    capnp_call call;
    capos_DMAPool_alloc_Results_reader r;
    int e = capos_DMAPool_alloc(&cl, &b, &call, &r);
    if (e)
        return rt_error(e);
    *addr = capos_DMAPool_alloc_Results_get_addr(r);
    *dev = capos_DMAPool_alloc_Results_get_deviceAddr(r);
    return 0;
}

static void irq_wait_ack(void)
{
    RT_BUFS(b, 64, 128);
    capnp_client cl = RT_CLIENT(c_irq);
    capnp_call call;
    capos_Interrupt_wait_Results_reader wr;
    capos_Interrupt_ack_Results_reader ar;
    capos_Interrupt_wait(&cl, &b, &call, &wr);
    capos_Interrupt_ack(&cl, &b, &call, &ar);
    irq_waits++;
}

#define R8(p, o)   (*(volatile uint8_t *)((p) + (o)))
#define R16(p, o)  (*(volatile uint16_t *)((p) + (o)))
#define R32(p, o)  (*(volatile uint32_t *)((p) + (o)))
#define W64(p, o, v) do { R32(p, o) = (uint32_t)(v); R32(p, (o) + 4) = (uint32_t)((uint64_t)(v) >> 32); } while (0)

/* Find the virtio capabilities and map the BARs they name. */
static int find_caps(void)
{
    uint32_t notify_mult = 0;
    for (int64_t off = cfg_read(0x34, 1) & 0xFC, guard = 0; off > 0 && guard < 48; guard++) {
        if (cfg_read((uint16_t)off, 1) == 9) {
            int64_t type = cfg_read((uint16_t)(off + 3), 1), bar = cfg_read((uint16_t)(off + 4), 1);
            int64_t o = cfg_read((uint16_t)(off + 8), 4);
            uint64_t base = 0, size = 0;
            if ((type == CAP_COMMON || type == CAP_NOTIFY || type == CAP_DEVICE) &&
                bar_map((uint8_t)bar, &base, &size) == 0 && (uint64_t)o < size) {
                volatile uint8_t *p = (volatile uint8_t *)(base + (uint64_t)o);
                if (type == CAP_COMMON)
                    common = p;
                else if (type == CAP_DEVICE)
                    devcfg = p;
                else {
                    notify = p;
                    notify_mult = (uint32_t)cfg_read((uint16_t)(off + 16), 4);
                }
            }
        }
        off = cfg_read((uint16_t)(off + 1), 1) & 0xFC;
    }
    if (!common || !devcfg || !notify)
        return -1;
    R16(common, C_QSEL) = 0;
    notify += (uint32_t)R16(common, C_QNOFF) * notify_mult;
    return 0;
}

static int init_device(void)
{
    if (find_caps()) {
        printf("virtio-blk: no modern virtio capabilities\n");
        return -1;
    }
    R8(common, C_STATUS) = 0;
    while (R8(common, C_STATUS) != 0)
        ;
    R8(common, C_STATUS) = S_ACK;
    R8(common, C_STATUS) = S_ACK | S_DRIVER;
    R32(common, C_DFSEL) = 0;
    uint32_t f0 = R32(common, C_DF);
    R32(common, C_DFSEL) = 1;
    uint32_t f1 = R32(common, C_DF);
    if (!(f1 & (1u << (F_VERSION_1 - 32)))) {
        printf("virtio-blk: the device does not offer VERSION_1\n");
        R8(common, C_STATUS) = S_FAILED;
        return -1;
    }
    has_flush = f0 & (1u << F_BLK_FLUSH);
    read_only = f0 & (1u << F_BLK_RO);
    R32(common, C_GFSEL) = 0;
    R32(common, C_GF) = f0 & ((1u << F_BLK_FLUSH) | (1u << F_BLK_RO));
    R32(common, C_GFSEL) = 1;
    R32(common, C_GF) = 1u << (F_VERSION_1 - 32);
    R8(common, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK;
    if (!(R8(common, C_STATUS) & S_FEATURES_OK)) {
        printf("virtio-blk: features refused\n");
        R8(common, C_STATUS) = S_FAILED;
        return -1;
    }
    uint64_t qva, qdev, hva, dva;
    if (dma_page(&qva, &qdev) || dma_page(&hva, &hdrs_dev) || dma_page(&dva, &data_dev)) {
        printf("virtio-blk: no DMA pages\n");
        return -1;
    }
    hdrs = (volatile uint8_t *)hva;
    data = (uint8_t *)dva;
    R16(common, C_QSEL) = 0;
    uint16_t max = R16(common, C_QSIZE);
    qsize = max < QMAX ? max : QMAX;
    if (qsize < 3 * MAX_SECTORS) {
        printf("virtio-blk: queue too small (%u)\n", max);
        return -1;
    }
    R16(common, C_QSIZE) = qsize;
    descs = (volatile struct desc *)qva;
    avail = (volatile uint16_t *)(qva + 1024);
    used = (volatile uint8_t *)(qva + 2048);
    W64(common, C_QDESC, qdev);
    W64(common, C_QDRIVER, qdev + 1024);
    W64(common, C_QDEVICE, qdev + 2048);
    R16(common, C_MSIXCFG) = 0xFFFF;
    R16(common, C_QMSIX) = 0;
    if (R16(common, C_QMSIX) != 0) {
        printf("virtio-blk: MSI-X vector 0 refused\n");
        return -1;
    }
    R16(common, C_QENABLE) = 1;
    R8(common, C_STATUS) = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
    capacity = (uint64_t)R32(devcfg, 0) | (uint64_t)R32(devcfg, 4) << 32;
    return 0;
}

/* Queue n requests (type, first sector, one sector of data each, or none
 * for a flush), all in flight together; wait for all. 0, or a BlockError. */
static int submit(uint32_t type, uint64_t sector, uint32_t n)
{
    uint32_t count = n ? n : 1;
    for (uint32_t i = 0; i < count; i++) {
        volatile struct req_hdr *h = (volatile struct req_hdr *)(hdrs + 32 * i);
        h->type = type;
        h->reserved = 0;
        h->sector = sector + i;
        hdrs[32 * i + 16] = 0xFF;
        uint16_t d = (uint16_t)(3 * i);
        descs[d] = (struct desc){ hdrs_dev + 32 * i, sizeof(struct req_hdr), D_NEXT, (uint16_t)(d + 1) };
        if (n) {
            descs[d + 1] = (struct desc){ data_dev + (uint64_t)SECTOR * i, SECTOR,
                                          (uint16_t)(D_NEXT | (type == T_IN ? D_WRITE : 0)), (uint16_t)(d + 2) };
            descs[d + 2] = (struct desc){ hdrs_dev + 32 * i + 16, 1, D_WRITE, 0 };
        } else {
            descs[d + 1] = (struct desc){ hdrs_dev + 32 * i + 16, 1, D_WRITE, 0 };
        }
        avail[2 + (avail_idx + i) % qsize] = d;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    avail_idx = (uint16_t)(avail_idx + count);
    avail[1] = avail_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    *(volatile uint16_t *)notify = 0;
    requests += count;
    for (;;) {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint16_t idx = R16(used, 2);
        if ((uint16_t)(idx - used_seen) == count || (uint16_t)(idx - used_seen) > qsize)
            break;
        irq_wait_ack();
    }
    used_seen = (uint16_t)(used_seen + count);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t st = hdrs[32 * i + 16];
        if (st == 2)
            return capos_BlockError_unsupported;
        if (st != 0)
            return capos_BlockError_ioError;
    }
    return capos_BlockError_none;
}

static int range(uint64_t sector, uint64_t count)
{
    if (count == 0 || count > MAX_SECTORS)
        return capos_BlockError_badArgument;
    if (sector >= capacity || count > capacity - sector)
        return capos_BlockError_outOfRange;
    return capos_BlockError_none;
}

static int do_info(void *self, capos_BlockDevice_info_Params_reader p, capos_BlockDevice_info_Results_builder r)
{
    capos_BlockDevice_info_Results_set_sectors(r, capacity);
    capos_BlockDevice_info_Results_set_sectorSize(r, SECTOR);
    capos_BlockDevice_info_Results_set_maxSectors(r, MAX_SECTORS);
    capos_BlockDevice_info_Results_set_flush(r, has_flush);
    return CAPNP_OK;
}

static int do_read(void *self, capos_BlockDevice_read_Params_reader p, capos_BlockDevice_read_Results_builder r)
{
    uint64_t sector = capos_BlockDevice_read_Params_get_sector(p);
    uint32_t count = capos_BlockDevice_read_Params_get_count(p);
    int e = range(sector, count);
    if (!e)
        e = submit(T_IN, sector, count);
    if (!e)
        capos_BlockDevice_read_Results_set_data(r, data, (size_t)count * SECTOR);
    capos_BlockDevice_read_Results_set_error(r, (uint16_t)e);
    return CAPNP_OK;
}

static int do_write(void *self, capos_BlockDevice_write_Params_reader p, capos_BlockDevice_write_Results_builder r)
{
    uint64_t sector = capos_BlockDevice_write_Params_get_sector(p);
    capnp_data d = capos_BlockDevice_write_Params_get_data(p);
    int e = d.len % SECTOR ? capos_BlockError_badArgument : range(sector, d.len / SECTOR);
    if (!e && read_only)
        e = capos_BlockError_unsupported;
    if (!e) {
        memcpy(data, d.ptr, d.len);
        e = submit(T_OUT, sector, d.len / SECTOR);
    }
    capos_BlockDevice_write_Results_set_error(r, (uint16_t)e);
    return CAPNP_OK;
}

static int do_flush(void *self, capos_BlockDevice_flush_Params_reader p, capos_BlockDevice_flush_Results_builder r)
{
    int e = has_flush ? submit(T_FLUSH, 0, 0) : capos_BlockError_unsupported;
    capos_BlockDevice_flush_Results_set_error(r, (uint16_t)e);
    return CAPNP_OK;
}

static const capos_BlockDevice_server server = {
    .info = do_info, .read = do_read, .write = do_write, .flush = do_flush,
};

int main(void)
{
    c_mmio = rt_capset_require("disk-mmio");
    c_dma = rt_capset_require("disk-dma");
    c_irq = rt_capset_require("disk-irq");
    uint32_t owner = rt_capset_require("disk");
    if (init_device())
        return 1;
    printf("virtio-blk: %lu sectors of %u bytes, queue %u, flush %s%s\n", capacity, SECTOR, qsize,
           has_flush ? "yes" : "no", read_only ? ", read-only" : "");
    return rt_serve_forever(owner, capos_BlockDevice_dispatch_any, &server, &rx);
}
