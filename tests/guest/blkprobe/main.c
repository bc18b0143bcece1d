/*
 * blkprobe: the guest side of test-storage. Holds "disk" (a BlockDevice
 * from user/virtio-blk), stats, power. Writes a pattern, reads it back,
 * reads what the host put on the image, flushes, tries calls the driver
 * must refuse, and lists every process's caps from the kernel's tables.
 * Facts are printed; tests/storage/test_storage.py judges them (and the
 * image file after power-off).
 */
#include "rt/capos.h"

static uint32_t disk;
static uint8_t buf[4096];

static uint8_t pat(uint64_t sector, uint32_t i) { return (uint8_t)(sector * 131 + i * 7 + (i >> 3) + 0x5a); }

static int blk_write(uint64_t sector, const void *p, uint32_t len)
{
    RT_BUFS(b, 4096 + 128, 128);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_write_Results_reader r;
    int e = capos_BlockDevice_write(&cl, &b, &call, sector, p, len, &r);
    return e ? -1000 + rt_error(e) : capos_BlockDevice_write_Results_get_error(r);
}

static int blk_read(uint64_t sector, uint32_t count, uint8_t *out)
{
    RT_BUFS(b, 128, 4096 + 128);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_read_Results_reader r;
    int e = capos_BlockDevice_read(&cl, &b, &call, sector, count, &r);
    if (e)
        return -1000 + rt_error(e);
    int be = capos_BlockDevice_read_Results_get_error(r);
    capnp_data d = capos_BlockDevice_read_Results_get_data(r);
    if (!be) {
        if (d.len != count * 512u)
            return -2000;
        memcpy(out, d.ptr, d.len);
    }
    return be;
}

static int blk_flush(void)
{
    RT_BUFS(b, 128, 128);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_flush_Results_reader r;
    int e = capos_BlockDevice_flush(&cl, &b, &call, &r);
    return e ? -1000 + rt_error(e) : capos_BlockDevice_flush_Results_get_error(r);
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* write sectors [s, s+n) with the pattern, in calls of `per` sectors; read them back */
static bool roundtrip(uint64_t s, uint32_t n, uint32_t per)
{
    for (uint32_t done = 0; done < n; done += per) {
        uint32_t k = n - done < per ? n - done : per;
        for (uint32_t j = 0; j < k; j++)
            for (uint32_t i = 0; i < 512; i++)
                buf[j * 512 + i] = pat(s + done + j, i);
        if (blk_write(s + done, buf, k * 512))
            return false;
    }
    for (uint32_t done = 0; done < n; done += per) {
        uint32_t k = n - done < per ? n - done : per;
        memset(buf, 0, sizeof buf);
        if (blk_read(s + done, k, buf))
            return false;
        for (uint32_t j = 0; j < k; j++)
            for (uint32_t i = 0; i < 512; i++)
                if (buf[j * 512 + i] != pat(s + done + j, i))
                    return false;
    }
    return true;
}

int main(void)
{
    disk = rt_capset_require("disk");
    RT_BUFS(b, 128, 256);
    capnp_client cl = RT_CLIENT(disk);
    capnp_call call;
    capos_BlockDevice_info_Results_reader ir;
    if (capos_BlockDevice_info(&cl, &b, &call, &ir)) {
        printf("BLK info failed\n");
        rt_power_off(rt_capset_require("power"), 1);
    }
    uint64_t cap = capos_BlockDevice_info_Results_get_sectors(ir);
    uint32_t maxs = capos_BlockDevice_info_Results_get_maxSectors(ir);
    printf("BLK info sectors=%lu sectorSize=%u maxSectors=%u flush=%d\n", cap,
           capos_BlockDevice_info_Results_get_sectorSize(ir), maxs, capos_BlockDevice_info_Results_get_flush(ir));
    printf("BLK roundtrip head=%d\n", roundtrip(0, 21, maxs));
    printf("BLK roundtrip single=%d\n", roundtrip(40, 5, 1));
    printf("BLK roundtrip mixed=%d\n", roundtrip(61, 17, 3));
    printf("BLK roundtrip tail=%d\n", roundtrip(cap - maxs, maxs, maxs));
    /* the host wrote sectors 200..206 before boot */
    memset(buf, 0, sizeof buf);
    int e = blk_read(200, 7, buf);
    printf("BLK host-data result=%d fnv=%016lx\n", e, fnv(buf, 7 * 512));
    printf("BLK flush=%d\n", blk_flush());
    printf("BLK refused read-past-end=%d read-straddle=%d write-past-end=%d\n", blk_read(cap, 1, buf),
           blk_read(cap - 1, 2, buf), blk_write(cap, buf, 512));
    printf("BLK refused count0=%d count-over=%d partial-sector=%d\n", blk_read(0, 0, buf),
           blk_read(0, maxs + 1, buf), blk_write(0, buf, 100));
    /* the refusals changed nothing: the head is still the pattern */
    memset(buf, 0, sizeof buf);
    bool same = blk_read(0, 1, buf) == 0;
    for (uint32_t i = 0; i < 512; i++)
        same = same && buf[i] == pat(0, i);
    printf("BLK after-refusals intact=%d\n", same);

    uint32_t stats = rt_capset_require("stats");
    RT_BUFS(sb, 64, 4096);
    capnp_client scl = RT_CLIENT(stats);
    capos_KernelStats_processes_Results_reader pr;
    if (capos_KernelStats_processes(&scl, &sb, &call, &pr) == 0) {
        capnp_list l = capos_KernelStats_processes_Results_get_list(pr);
        for (uint32_t i = 0; i < l.count; i++) {
            capos_ProcessCaps_reader p = capos_ProcessCaps_list_get(l, i);
            capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
            capnp_text nm = capos_ProcessCaps_get_name(p);
            printf("PROC %.*s", (int)nm.len, nm.str);
            for (uint32_t k = 0; k < ifs.count; k++)
                printf(" %016lx", capnp_list_u64(ifs, k));
            printf("\n");
        }
    }
    printf("BLK done\n");
    rt_power_off(rt_capset_require("power"), 0);
}
