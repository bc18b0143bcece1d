#!/usr/bin/python3
"""The virtio-blk driver in QEMU: a raw image the harness makes, written and
read back byte-exact through BlockDevice, flush, refusals, and the driver's
cap table as the kernel keeps it."""
import os
import random
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import ROOT, Checks, boot_package, run_guest, scratch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SECTORS = 4096          # a 2 MiB image
SECTOR = 512


def drive(path):
    return ["-drive", f"file={path},if=none,id=d0,format=raw",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]


def pat(sector, i):
    return (sector * 131 + i * 7 + (i >> 3) + 0x5a) & 0xFF


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def interface_names():
    names = {}
    with open(os.path.join(ROOT, "schema/capos.capnp")) as f:
        for m in re.finditer(r"^interface\s+(\w+)\s+@0x([0-9a-f]+)", f.read(), re.M):
            names[int(m.group(2), 16)] = m.group(1)
    return names


def main():
    c = Checks("storage")
    tmp = scratch("capos-blk-")
    img = os.path.join(tmp, "disk.img")
    host = random.Random(20).randbytes(7 * SECTOR)
    with open(img, "wb") as f:
        f.truncate(SECTORS * SECTOR)
        f.seek(200 * SECTOR)
        f.write(host)
    pkg = boot_package(os.path.join(HERE, "storage.manifest"), tmp)
    status, log = run_guest("", timeout=180, pkg=pkg, extra=drive(img))
    has = lambda p: re.search(p, log, re.M) is not None  # noqa: E731
    c.check("the driver sets the device up", has(rf"^virtio-blk: {SECTORS} sectors of 512 bytes, queue \d+, flush yes"))
    c.check("info: size, sector size, call size, flush",
            has(rf"^BLK info sectors={SECTORS} sectorSize=512 maxSectors=7 flush=1$"))
    for what in ("head", "single", "mixed", "tail"):
        c.check(f"written sectors read back byte-exact ({what})", has(rf"^BLK roundtrip {what}=1$"))
    c.check("sectors the host wrote read byte-exact", has(rf"^BLK host-data result=0 fnv={fnv(host):016x}$"))
    c.check("flush completes", has(r"^BLK flush=0$"))
    c.check("past the end: outOfRange (1), nothing done",
            has(r"^BLK refused read-past-end=1 read-straddle=1 write-past-end=1$"))
    c.check("bad counts and partial sectors: badArgument (2)",
            has(r"^BLK refused count0=2 count-over=2 partial-sector=2$"))
    c.check("the refused calls changed nothing", has(r"^BLK after-refusals intact=1$"))
    data = open(img, "rb").read()
    ok = len(data) == SECTORS * SECTOR
    for first, n in ((0, 21), (40, 5), (61, 17), (SECTORS - 7, 7)):
        for s in range(first, first + n):
            ok = ok and data[s * SECTOR:(s + 1) * SECTOR] == bytes(pat(s, i) for i in range(SECTOR))
    c.check("the image file holds every written sector, byte-exact", ok)
    c.check("the image file's untouched sectors are untouched",
            data[21 * SECTOR:40 * SECTOR] == bytes(19 * SECTOR) and data[200 * SECTOR:207 * SECTOR] == host)
    names = interface_names()
    m = re.search(r"^PROC virtio-blk((?: [0-9a-f]{16})*)$", log, re.M)
    held = sorted(names.get(int(x, 16), x) for x in m.group(1).split()) if m else None
    c.check("the driver holds its three device caps, a console and its export only",
            held == sorted(["DeviceMmio", "DMAPool", "Interrupt", "Console", "Endpoint"]), f"holds {held}")
    others = [ln for ln in re.findall(r"^PROC (?!virtio-blk )(\S+)((?: [0-9a-f]{16})*)$", log, re.M)
              if any(names.get(int(x, 16)) in ("DeviceMmio", "DMAPool", "Interrupt") for x in ln[1].split())]
    c.check("no other process holds a device cap", m is not None and others == [], f"{others}")
    c.check("clean power-off", status == 1)
    c.done(log)


if __name__ == "__main__":
    main()
