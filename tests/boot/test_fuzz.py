#!/usr/bin/python3
"""The ring under random input: sqefuzz throws 20,000 pseudo-random SQEs per
seed at the kernel (bad opcodes, stale and forged cap ids, kernel, ring and
unmapped buffers, huge lengths, bogus transfer descriptors, clobbered ring
indices). The kernel must never panic, every run must end normally, the
ring must still answer, and the kernel's counters (free frames, objects,
heap, cap slots, pending calls) must be back where they were."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, run_proof  # noqa: E402

SEEDS = [str(s) for s in range(1, 9)]


def main():
    c = Checks("boot/fuzz")
    status, log = run_proof("sqefuzz " + " ".join(SEEDS), timeout=300)
    runs = re.findall(r"^FUZZ rounds=20000 completions=(\d+) enter-errors=(\d+) nop-after=(\d)$", log, re.M)
    c.check(f"all {len(SEEDS)} seeded runs reported", len(runs) == len(SEEDS), str(len(runs)))
    c.check("the ring still answers a NOP after each run", all(r[2] == "1" for r in runs))
    c.check("most SQEs were answered (the rest dropped by clobbered indices)",
            all(int(r[0]) > 15000 for r in runs))
    exits = re.findall(r"^FUZZ run \d+ exit=(-?\d+)$", log, re.M)
    c.check("every run ended normally (exit 0, not killed)", exits == ["0"] * len(SEEDS), str(exits))
    b = re.search(r"^FUZZ stats before (.*)$", log, re.M)
    a = re.search(r"^FUZZ stats after  (.*)$", log, re.M)
    c.check("no frame, object, heap byte, cap slot or pending call leaked",
            bool(a and b) and a.group(1) == b.group(1), f"{b and b.group(1)} / {a and a.group(1)}")
    c.check("no kernel panic", "KERNEL PANIC" not in log)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
