#!/usr/bin/python3
"""make bench-store-guest: capOS's store (user/store over user/virtio-blk)
against ext4 with fsync in the Linux baseline guest, in one run, both guests
under the same QEMU flags: TCG, -icount shift=0, one virtio-blk-pci device
(modern only) on a raw image under build/bench-store, made fresh here.

  commits:  COMMITS commits of one 64-byte value, the disk flushed before
            each is acknowledged (capOS: Store.commit; Linux: write(64 B) +
            fsync appended to a file); commits per second.
  write:    MIB MiB of 1 KiB values, three to a commit (what fits one call),
            each commit flushed (capOS); Linux: the same bytes in 3 KiB
            write() calls, fsync once at the end, and again with an fsync
            after every 3 KiB call. MB/s.
  read:     the same byte count read back (capOS: Store.get, one 1 KiB
            value a call: the store answers from its in-memory table, so no
            device reads; Linux: page cache dropped, then 1 KiB read() calls
            from the device). MB/s.
  open:     capOS only: a second boot on the written image; the store's
            open (recovery) reads every sector of its log, the store's one
            sequential read of the device. MB/s.

Both guests time with their own clock (capOS: the kernel's Timer.now;
Linux: CLOCK_MONOTONIC). Under -icount shift=0 that clock is virtual: it
counts guest instructions (1 ns each) and, while the guest is idle waiting
for the disk, follows the host's time. Each guest runs ROUNDS times (taking
turns, fresh images each time); a row is the median, with the lowest and
highest. Every figure is measured in this run; nothing is asserted.
usage: bench.py [COMMITS] [MIB] [DISK_MIB] [CACHE_MODE] [ROUNDS]"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from capos_qemu import boot_package  # noqa: E402
from run import BUILD, CACHE, ICOUNT, cpio_newc, qemu_capos, qemu_linux, run  # noqa: E402

COMMITS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
MIB = int(sys.argv[2]) if len(sys.argv) > 2 else 3
DISK_MIB = int(sys.argv[3]) if len(sys.argv) > 3 else 32
# QEMU's cache mode of the image: writeback (QEMU's default) makes a guest
# flush the host's fdatasync of the image; unsafe ignores flushes, leaving
# what each guest's own software costs
CACHE_MODE = sys.argv[4] if len(sys.argv) > 4 else "writeback"
# both guests run this many times, taking turns; each row is the median
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
BYTES = MIB << 20
HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(BUILD, "bench-store")
# the Linux guest's modules, in load order (fetch-linux.sh checks each one's
# depends are listed)
MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_blk",
           "crc16", "mbcache", "jbd2", "crc32c_generic", "ext4"]
MKFS = ["-F", "-q", "-t", "ext4", "-b", "4096", "-E", "lazy_itable_init=0,lazy_journal_init=0"]
MOUNT_OPTS = "noatime"


def drive(img):
    """The one block device of either guest: same flags for both."""
    return ["-drive", f"file={img},if=none,id=bd0,format=raw,cache={CACHE_MODE}",
            "-device", "virtio-blk-pci,drive=bd0,disable-legacy=on"]


INIT = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in %s; do insmod /modules/$m.ko; done
while [ ! -b /dev/vda ]; do sleep 0.1; done
mount -t ext4 -o %s /dev/vda /mnt
/bench/linux_store /mnt "$@"
umount /mnt
echo "STOREBENCH unmounted"
poweroff -f
""" % (" ".join(MODULES), MOUNT_OPTS)


def linux_initrd(path):
    def f(p):
        return open(p, "rb").read()
    D, F, X = 0o40755, 0o100644, 0o100755
    e = [("dev", D, b""), ("proc", D, b""), ("sys", D, b""), ("mnt", D, b""), ("bin", D, b""),
         ("bin/busybox", X, f(os.path.join(CACHE, "busybox")))]
    for applet in ("sh", "mount", "umount", "insmod", "sleep", "echo", "poweroff"):
        e.append(("bin/" + applet, 0o120777, b"busybox"))
    e += [("init", X, INIT.encode()), ("bench", D, b""),
          ("bench/linux_store", X, f(os.path.join(BUILD, "bench/linux_store"))), ("modules", D, b"")]
    e += [("modules/%s.ko" % m, F, f(os.path.join(CACHE, "modules", m + ".ko"))) for m in MODULES]
    open(path, "wb").write(cpio_newc([(n, m, d, (0, 0)) for n, m, d in e]))


def blank(path):
    if os.path.exists(path):
        os.unlink(path)
    with open(path, "wb") as f:
        f.truncate(DISK_MIB << 20)


def parse(out):
    """phase -> (ops, bytes, ns, error)"""
    return {m.group(1): tuple(int(m.group(i)) for i in range(2, 6))
            for m in re.finditer(r"^STOREBENCH (\S+) ops=(\d+) bytes=(\d+) ns=(\d+) error=(-?\d+)", out, re.M)}


def per_second(r, unit):
    """ops/s (unit None) or MB/s of a phase that ended without an error."""
    if not r or r[3] != 0 or r[2] == 0:
        return None
    return (r[0] if unit is None else r[1] / 1e6) / (r[2] / 1e9)


def capos_round(tmp, args):
    """One capOS pass on a blank image, then a boot on what it wrote:
    (phase -> figures, the first log, the second log)."""
    img = os.path.join(IMAGES, "capos.img")
    blank(img)
    pkg = boot_package(os.path.join(HERE, "store.manifest"), tempfile.mkdtemp(dir=tmp), args)
    st, out = run(qemu_capos("", [*ICOUNT, *drive(img)], pkg=pkg), timeout=1800)
    res = parse(out)
    pkg = boot_package(os.path.join(HERE, "store.manifest"), tempfile.mkdtemp(dir=tmp), f"open {DISK_MIB << 20}")
    st, open_out = run(qemu_capos("", [*ICOUNT, *drive(img)], pkg=pkg), timeout=1800)
    res.update(parse(open_out))
    return res, out, open_out


def linux_round(initrd, mkfs, args):
    """One Linux pass on a fresh ext4 image: (phase -> figures, the log)."""
    img = os.path.join(IMAGES, "linux.img")
    blank(img)
    subprocess.run([mkfs, *MKFS, img], check=True)
    st, out = run(qemu_linux(initrd, args, [*ICOUNT, *drive(img)]), timeout=1800)
    return parse(out), out


def warn(name, res, out):
    if not re.search(r"^STOREBENCH done", out, re.M):
        print(f"bench: warning: the {name} guest did not finish; its log ends:\n{out[-2000:]}")
    for ph, r in res.items():
        if r[3] != 0:
            print(f"bench: warning: {name} {ph} stopped with error {r[3]} after {r[0]} operations")
    m = re.search(r"^STOREBENCH read-check values=(\d+) wrong=(\d+)", out, re.M)
    if m and m.group(2) != "0":
        print(f"bench: warning: {name} read back {m.group(2)} of {m.group(1)} values wrong")


def main():
    subprocess.run([os.path.join(ROOT, "bench/fetch-linux.sh"), *MODULES], check=True)
    mkfs = shutil.which("mkfs.ext4") or "/sbin/mkfs.ext4"
    os.makedirs(IMAGES, exist_ok=True)
    args = f"{COMMITS} {BYTES}"
    tmp = tempfile.mkdtemp(prefix="capos-storebench-")
    try:
        initrd = os.path.join(tmp, "initrd.cpio")
        linux_initrd(initrd)
        caps, lins = [], []
        for r in range(ROUNDS):
            # the guests take turns, so a slow spell of the host falls on both
            print(f"bench: round {r + 1} of {ROUNDS}: capOS (a blank {DISK_MIB} MiB image, then a boot on it), "
                  f"Linux (a fresh ext4 image) ...", flush=True)
            res, out, open_out = capos_round(tmp, args)
            warn("capOS", res, out)
            caps.append(res)
            res, lout = linux_round(initrd, mkfs, args)
            warn("Linux", res, lout)
            lins.append(res)
        compactions = len(re.findall(r"^store: compacted the log", out, re.M))
        info = re.search(r"^STOREBENCH info-end commits=(\d+) free-sectors=(\d+)", out, re.M)
        recovered = re.search(r"^store: recovered (\d+) commits", open_out, re.M)

        print()
        print("Store vs ext4 + fsync: one run, same QEMU flags (TCG, -icount shift=0, %s, raw %d MiB image)"
              % (" ".join(drive("IMG")[:4]), DISK_MIB))
        print("  guest clocks are virtual under -icount shift=0: instructions, plus the host's time while the")
        if CACHE_MODE == "unsafe":
            print("  guest waits for the disk (cache=unsafe: QEMU ignores flushes, the host's disk is out of it)")
        else:
            print("  guest waits for the disk (cache=%s: a flush is the host's fdatasync of the image, so the" % CACHE_MODE)
            print("  flushed rows move with the host's disk; STORE_GUEST_CACHE=unsafe leaves the guests' own cost)")
        print("  median of %d rounds [lowest-highest]" % ROUNDS)
        print("  %-54s %8s %15s %8s %15s %8s" % ("", "capOS", "", "Linux", "", "ratio"))

        def figs(runs, phase, unit):
            v = [per_second(x.get(phase), unit) for x in runs]
            v = [x for x in v if x is not None]
            return (statistics.median(v), min(v), max(v)) if v else None

        def cell(f, fmt):
            if not f:
                return "%8s %15s" % ("-", "")
            return "%8s %15s" % (fmt % f[0], "[%s-%s]" % (fmt % f[1], fmt % f[2]))

        def row(label, a, b, fmt, linux=True):
            r = "%.2f" % (a[0] / b[0]) if a and b and b[0] else "-"
            print("  %-54s %s %s %8s" % (label, cell(a, fmt), cell(b, fmt) if linux else "%24s" % "",
                                         r if linux else ""))
        row(f"commits/s, one 64-byte value, flushed each ({COMMITS})", figs(caps, "commits", None),
            figs(lins, "commits", None), "%.0f")
        row(f"sequential write MB/s, {MIB} MiB (Linux: fsync at the end)", figs(caps, "write", 1),
            figs(lins, "write", 1), "%.2f")
        row("  the same, Linux with an fsync after every 3 KiB", figs(caps, "write", 1),
            figs(lins, "write-sync", 1), "%.2f")
        row(f"sequential read MB/s, {MIB} MiB", figs(caps, "read", 1), figs(lins, "read", 1), "%.2f")
        row(f"capOS store open, reads the {DISK_MIB} MiB image, MB/s", figs(caps, "open", 1), None, "%.2f", linux=False)
        print("  capOS: 1 KiB values (the store's largest), 3 to a commit (one call's 4 KiB of parameters),")
        print("         keys s0..s127 in turn; each commit flushed. Reads are Store.get, one value a call,")
        print("         answered from the store's in-memory table: no device read is measured.")
        print("  Linux: ext4 (mkfs.ext4 %s), mounted %s;" % (" ".join(MKFS[2:]), MOUNT_OPTS))
        print("         3 KiB write() calls; 1 KiB read() calls after sync and drop_caches=3 (the page")
        print("         cache dropped, so the file comes from the device).")
        print("  capOS store: %d compaction(s) in the last round%s" % (
            compactions, "; %s commits in all, %s sectors of the region in use free at the end"
            % (info.group(1), info.group(2)) if info else ""))
        print("  capOS open: from the bench client's start to the store's first answer (the store starts just")
        print("         before it, so a little of the open may be missed); it replayed %s commits, reading"
              % (recovered.group(1) if recovered else "?"))
        print("         every sector of both log regions in calls of the driver's 7 sectors.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
