#!/usr/bin/python3
"""Device authority in QEMU: a manifest `device` grant of a virtio-net-pci
(disable-legacy=on) to one service; a second virtio device named by no one."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, boot_package, run_guest, scratch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXTRA = ["-device", "virtio-net-pci,disable-legacy=on,netdev=n0", "-netdev", "user,id=n0,restrict=on",
         "-device", "virtio-rng-pci,disable-legacy=on"]


def main():
    c = Checks("devices")
    pkg = boot_package(os.path.join(HERE, "devices.manifest"), scratch("capos-dev-"))
    status, log = run_guest("", timeout=120, pkg=pkg, extra=EXTRA)
    has = lambda p: re.search(p, log, re.M) is not None  # noqa: E731
    c.check("the kernel enumerates both virtio functions", has(r"pci .* 1af4:1041 .*msix") and has(r"pci .* 1af4:1044"))
    c.check("config space reads through DeviceMmio", has(r"^DEV ids=10411af4$"))
    c.check("bad config reads get INVALID_ARGUMENT", has(r"^DEV bad-offset=-15 bad-width=-15 unaligned=-15$"))
    c.check("the virtio common cfg capability is read", has(r"^DEV virtio-cap type=1 bar=4 "))
    c.check("its BAR maps and reads", has(r"^DEV map bar=4 result=0 size=4000$") and has(r"^DEV num_queues=\d+$"))
    c.check("absent BARs are NOT_FOUND", has(r"^DEV map-absent=-17 map-bad=-17$"))
    c.check("DMA pages up to the quota, OVERLOADED past it", has(r"^DEV dma allocated=4 then=-11$"))
    c.check("counters while held", has(r"^DEV holding maps=4 dma=4 irq=1$"))
    c.check("touching the MSI-X table kills the holder only",
            has(r"killed: page fault") and not has(r"^DEV survived") and has(r"^WIT after-holder"))
    c.check("a dead holder frees mappings, DMA pages, interrupt routing",
            has(r"^WIT after-holder maps=0 dma=0 irq=0$"))
    c.check("no other process holds a device cap (the rng device got nothing)",
            not re.search(r"^WIT process (?!init)\S+ device-caps=[1-9]", log, re.M))
    c.check("clean power-off", status == 1)
    c.done(log)


if __name__ == "__main__":
    main()
