#!/usr/bin/python3
"""The kernel on two CPUs (always -smp 2, whatever CAPOS_SMP says): 4
processes x 4 threads doing endpoint calls, park/wake ping-pong and thread
spawn/join at once, with the leak counters of the second round back to
the baseline taken after the first (frames counted with the kernel heap's
pages, which follow the peak of concurrent allocations); two ring
fuzzers at once, counters again; a thread on one CPU reading a page the
other CPU unmaps must fault (TLB shootdown); an unmap of 64 pages costs
one shootdown round and a thread on the other CPU faults at the first, a
middle and the last page after it (batched shootdown); both CPUs seen doing
work, each running threads from its own run queue."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, run_proof  # noqa: E402


def main():
    c = Checks("smp")
    status, log = run_proof("smp", timeout=300, smp=2)

    def has(rx):
        return re.search(rx, log, re.M)
    c.check("both CPUs came up", has(r"^\[kernel\] smp: 2 CPUs online"))
    stress = re.findall(r"^SMPSTRESS pid=\d+ threads=4 rounds=(\d+) bad=(\d+) pingpong=(\d)$", log, re.M)
    # two rounds: a warm-up, then the measured one
    c.check("4 stress processes x 4 threads reported, in each of two rounds", len(stress) == 8, str(stress))
    c.check("every endpoint answer was the caller's own, every spawn/join and ping-pong exact",
            stress and all(s[1] == "0" and s[2] == "1" for s in stress), str(stress))
    exits = re.findall(r"^SMP stress proc \d exit=(-?\d+)$", log, re.M)
    c.check("every stress process exited 0", exits == ["0"] * 8, str(exits))

    def stats(what):
        # free frames + the heap's pages: exact (the heap keeps a class page
        # once carved, and how many it carves follows the peak of concurrent
        # allocations, which the scheduling of two CPUs decides); live heap
        # bytes and objects catch a leak inside the heap
        m = has(rf"^SMP stats {what} frames=(\d+) heappages=(\d+) objects=(\d+) heap=(\d+) slots=(\d+) "
                rf"pending=(\d+) processes=(\d+)$")
        if not m:
            return None
        g = [int(x) for x in m.groups()]
        return (g[0] + g[1],) + tuple(g[2:])
    base, after_stress, after_fuzz = stats("baseline"), stats("after-stress"), stats("after-fuzz")
    c.check("after the stress: frames (with the heap's), objects, heap, cap slots, pending calls, processes "
            "back to baseline",
            base is not None and after_stress == base, f"{base} / {after_stress}")
    fuzz = re.findall(r"^SMP fuzz \d exit=(-?\d+)$", log, re.M)
    runs = re.findall(r"^FUZZ rounds=20000 completions=(\d+) enter-errors=\d+ nop-after=(\d)$", log, re.M)
    c.check("two fuzzers ran at once and both ended normally", fuzz == ["0", "0"] and len(runs) == 2, str(fuzz))
    c.check("the ring still answered each fuzzer's NOP", runs and all(r[1] == "1" for r in runs))
    c.check("after the fuzzers: counters back to baseline", base is not None and after_fuzz == base,
            f"{base} / {after_fuzz}")

    m = has(r"^SMPTLB unmapping (0x[0-9a-f]+) on cpu (\d+), reader on cpu (\d+)$")
    c.check("the reader ran on the other CPU when the page was unmapped", m and m.group(2) != m.group(3),
            m and m.group(0))
    if m:
        addr = int(m.group(1), 16)
        fault = has(rf"^\[kernel\] process \d+ \(smpstress\) killed: page fault \(vector 14, error \d+\) "
                    rf"at rip [0-9a-f]+, address {addr:016x}$")
        c.check("the reader faulted on the unmapped page", fault)
        cpu = re.search(r"^\[kernel\]   vector=14 error=\w+ cr2=(\w+) cpu=(\d+)$", log[fault.end():] if fault else "", re.M)
        c.check("the fault was taken on the reader's CPU, not the unmapper's",
                cpu and cpu.group(2) == m.group(3), cpu and cpu.group(0))
    c.check("the reader never survived the unmap", not has(r"^SMPTLB reader survived"))
    c.check("the TLB proof process died of the fault (-1000)", has(r"^SMP tlb exit=-1000$"))

    batch = re.findall(r"^SMPBATCH unmapped 64 pages at (0x[0-9a-f]+) result=(-?\d+) on cpu (\d+), reader on cpu (\d+): "
                       r"rounds=(\d+) ipis-sent=(\d+), reader goes to page (\d+)$", log, re.M)
    c.check("three batched unmaps of 64 pages, each with its reader on the other CPU",
            len(batch) == 3 and all(b[1] == "0" and b[2] != b[3] for b in batch), str(batch))
    c.check("each unmap of 64 pages cost one shootdown round (not 64)",
            len(batch) == 3 and all(b[4] == "1" for b in batch), str(batch))
    faults = []
    # each batch's fault is looked for after the end of the proof before it
    # (the single-page proof faulted at the same address as the first batch)
    ends = [m.end() for m in re.finditer(r"^SMP (?:tlb|batch batch:\d+) exit=-?\d+$", log, re.M)]
    for i, b in enumerate(batch):
        addr = int(b[0], 16) + int(b[6]) * 4096
        f = re.compile(rf"^\[kernel\] process \d+ \(smpstress\) killed: page fault \(vector 14, error \d+\) "
                       rf"at rip [0-9a-f]+, address {addr:016x}$", re.M).search(log, ends[i] if i < len(ends) else len(log))
        cpu = f and re.search(r"^\[kernel\]   vector=14 error=\w+ cr2=\w+ cpu=(\d+)$", log[f.end():], re.M)
        faults.append((b[6], bool(f), cpu and cpu.group(1) == b[3]))
    c.check("the reader faulted at the first, a middle and the last page of the batch, on its own CPU",
            [x[0] for x in faults] == ["0", "31", "63"] and all(x[1] and x[2] for x in faults), str(faults))
    c.check("no batch reader survived the unmap", not has(r"^SMPBATCH reader survived"))
    c.check("each batch process died of the fault (-1000)",
            re.findall(r"^SMP batch batch:(\d+) exit=(-?\d+)$", log, re.M) == [("0", "-1000"), ("31", "-1000"),
                                                                                ("63", "-1000")])

    c.check("an unmap over 8 TiB of unmapped address space returns, and its process exits 0",
            has(r"^SMPHOLES unmap of 2147483648 pages of holes result=0$") and has(r"^SMP holes exit=0$"))

    cpus = re.findall(r"^SMP cpu (\d+) ticks=(\d+) busy=(\d+) switches=(\d+) syscalls=(\d+) ipis=(\d+) "
                      r"runs=(\d+) steals=(\d+) ipis-sent=(\d+) tlb-rounds=(\d+)$", log, re.M)
    c.check("per-CPU counters for both CPUs", [x[0] for x in cpus] == ["0", "1"], str(cpus))
    c.check("both CPUs did work (user time and system calls on each)",
            len(cpus) == 2 and all(int(x[2]) > 0 and int(x[4]) > 0 for x in cpus), str(cpus))
    c.check("both CPUs took IPIs (wake-ups, shootdowns)", len(cpus) == 2 and all(int(x[5]) > 0 for x in cpus),
            str(cpus))
    c.check("both CPUs sent IPIs", len(cpus) == 2 and all(int(x[8]) > 0 for x in cpus), str(cpus))
    c.check("both CPUs ran threads from their own run queues", len(cpus) == 2 and all(int(x[6]) > 0 for x in cpus),
            str(cpus))
    c.check("an idle CPU stole queued threads", len(cpus) == 2 and sum(int(x[7]) for x in cpus) > 0, str(cpus))
    c.check("no kernel panic", "KERNEL PANIC" not in log)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
