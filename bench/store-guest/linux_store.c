/*
 * The Linux baseline of make bench-store-guest: the same workload as capOS's
 * storebench (tests/guest/storebench), on files of an ext4 file system
 * mounted at DIR, timed with CLOCK_MONOTONIC (under -icount shift=0 a
 * virtual clock, like capOS's). Usage: linux_store DIR COMMITS BYTES
 *   commits     COMMITS records of 64 bytes appended to DIR/log, fsync after
 *               each (a commit)
 *   write       BYTES written to DIR/seq in 3 KiB write() calls (what one
 *               capOS commit carries), one fsync at the end (counted)
 *   write-sync  the same to DIR/seq2, fsync after every 3 KiB: the store's
 *               durability per call
 *   read        sync, drop the page cache (/proc/sys/vm/drop_caches = 3),
 *               then DIR/seq read back in 1 KiB read() calls (what one
 *               capOS get answers): the bytes come from the device
 * Each prints "STOREBENCH <phase> ops= bytes= ns= error=" (error: errno),
 * as storebench does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    SMALL_VALUE = 64,
    BIG_VALUE = 1024,
    PER_COMMIT = 3,
};

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void report(const char *phase, uint64_t ops, uint64_t bytes, uint64_t ns, int err)
{
    printf("STOREBENCH %s ops=%lu bytes=%lu ns=%lu error=%d\n", phase, (unsigned long)ops, (unsigned long)bytes,
           (unsigned long)ns, err);
    fflush(stdout);
}

/* value number i: the same bytes as storebench's */
static void pattern(uint8_t *v, uint64_t i)
{
    for (uint32_t j = 0; j < BIG_VALUE; j++)
        v[j] = (uint8_t)(i * 131 + j);
}

static void small_commits(const char *dir, uint32_t count)
{
    char path[512];
    uint8_t rec[SMALL_VALUE];
    snprintf(path, sizeof path, "%s/log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644), err = 0;
    if (fd < 0) {
        report("commits", 0, 0, 0, errno);
        return;
    }
    uint32_t i = 0;
    uint64_t t0 = now_ns();
    for (; i < count; i++) {
        memset(rec, (int)i, sizeof rec);
        if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fsync(fd)) {
            err = errno;
            break;
        }
    }
    uint64_t t1 = now_ns();
    close(fd);
    report("commits", i, (uint64_t)i * SMALL_VALUE, t1 - t0, err);
}

static void seq_write(const char *dir, const char *name, const char *phase, uint64_t values, int sync_each)
{
    char path[512];
    static uint8_t buf[PER_COMMIT * BIG_VALUE];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), err = 0;
    if (fd < 0) {
        report(phase, 0, 0, 0, errno);
        return;
    }
    uint64_t done = 0, calls = 0;
    uint64_t t0 = now_ns();
    while (done < values) {
        uint32_t n = values - done < PER_COMMIT ? (uint32_t)(values - done) : PER_COMMIT;
        for (uint32_t k = 0; k < n; k++)
            pattern(buf + k * BIG_VALUE, done + k);
        if (write(fd, buf, n * BIG_VALUE) != (ssize_t)(n * BIG_VALUE) || (sync_each && fsync(fd))) {
            err = errno;
            break;
        }
        done += n;
        calls++;
    }
    if (!err && !sync_each && fsync(fd))
        err = errno;
    uint64_t t1 = now_ns();
    close(fd);
    report(phase, calls, done * BIG_VALUE, t1 - t0, err);
}

static void seq_read(const char *dir, uint64_t values)
{
    char path[512];
    snprintf(path, sizeof path, "%s/seq", dir);
    sync();
    int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
    if (dc < 0 || write(dc, "3\n", 2) != 2) {
        report("read", 0, 0, 0, errno);
        return;
    }
    close(dc);
    uint8_t *all = malloc(values * BIG_VALUE);
    int fd = open(path, O_RDONLY), err = 0;
    if (!all || fd < 0) {
        report("read", 0, 0, 0, errno);
        return;
    }
    uint64_t i = 0;
    uint64_t t0 = now_ns();
    for (; i < values; i++)
        if (read(fd, all + i * BIG_VALUE, BIG_VALUE) != BIG_VALUE) {
            err = errno ? errno : EIO;
            break;
        }
    uint64_t t1 = now_ns();
    close(fd);
    report("read", i, i * BIG_VALUE, t1 - t0, err);
    uint8_t want[BIG_VALUE];
    uint64_t bad = 0;
    for (uint64_t j = 0; j < i; j++) {
        pattern(want, j);
        bad += memcmp(all + j * BIG_VALUE, want, BIG_VALUE) != 0;
    }
    printf("STOREBENCH read-check values=%lu wrong=%lu\n", (unsigned long)i, (unsigned long)bad);
    free(all);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: linux_store DIR COMMITS BYTES\n");
        return 1;
    }
    uint32_t commits = (uint32_t)strtoul(argv[2], 0, 10);
    uint64_t values = strtoull(argv[3], 0, 10) / BIG_VALUE;
    printf("STOREBENCH start commits=%u values=%lu\n", commits, (unsigned long)values);
    small_commits(argv[1], commits);
    seq_write(argv[1], "seq", "write", values, 0);
    seq_write(argv[1], "seq2", "write-sync", values, 1);
    seq_read(argv[1], values);
    printf("STOREBENCH done\n");
    fflush(stdout);
    return 0;
}
