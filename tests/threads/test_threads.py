#!/usr/bin/python3
"""Threads, ParkSpace and per-thread rings, proven in QEMU.

Spawn/join, TLS per thread (with the %fs:0x28 canary), ParkSpace wait/wake
(value mismatch, timeout, wake, contention through a mutex, no lost wake-ups
through a condition variable ping-pong, once), a killed process with parked
threads leaving nothing behind, the ring stress (8 threads, thousands of
calls to kernel objects and to an endpoint that answers out of order with
random delays: every thread gets exactly its own completions, on its own
ring, and never finds another's on its CQ), per-thread rings refused to
other threads (cap_enter on another's ring, a park naming another or an
ended thread, a buffer in another's ring), a completion for an ended thread
dropped with its result cap released, rings freed as threads end, a fault
in one thread ending the whole process, and the last thread's exit ending
the process."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, run_proof  # noqa: E402


def main():
    c = Checks("threads")
    status, log = run_proof("threads", timeout=120)

    def has(p):
        return re.search(p, log, re.M) is not None

    c.check("four threads run and join returns each one's value", has(r"^THREAD spawn-join ok=1$"))
    c.check("AVX (YMM) state survives preemption: 4 threads' vector sums match the reference bit for bit",
            has(r"^THREAD fpu-avx ok=1$"))
    c.check("each thread has its own TLS (initial image, own values, canary at %fs:0x28, TCB self pointer)",
            has(r"^THREAD tls ok=1 main-untouched=1$"))
    c.check("8 threads x 300 ring calls, interleaved with sleeps: every completion reaches its caller, "
            "and no thread's CQ holds another's",
            has(r"^THREAD concurrent-calls threads=8 calls=300 ok=1 bad=0$"))
    order = re.findall(r"^THREAD caller (\d) at (\d+)$", log, re.M)
    c.check("the callers really ran at the same time (their progress lines interleave)",
            len(order) == 24 and [o[0] for o in order] != sorted(o[0] for o in order))
    c.check("basic run exits 0", has(r"^THREADTEST basic exit=0$"))
    c.check("ParkSpace.wait on a word that changed returns mismatch at once", has(r"^PARK mismatch result=1$"))
    c.check("ParkSpace refuses words outside the process's memory",
            has(r"^PARK kernel-address result=-15$") and has(r"^PARK unmapped-address result=-15$"))
    c.check("ParkSpace's fast path and the general way answer alike: a wait on a changed word "
            "(mismatch, 24-byte result) and a wake of nobody (0 woken) as the runtime sends them, "
            "with the params across a page boundary and as a longer struct",
            has(r"^PARKFP wait-mismatch fast=24 value=1$") and
            has(r"^PARKFP wait-mismatch across-pages=24 value=1$") and
            has(r"^PARKFP wait-mismatch longer-struct=24 value=1$") and
            has(r"^PARKFP wake-none fast=24 value=0$") and has(r"^PARKFP wake-none across-pages=24 value=0$"))
    c.check("ParkSpace's fast path steps aside for hostile buffers, which get the general way's codes: "
            "result too small (-10), read-only result (-3), params or result in the ring (-13)",
            has(r"^PARKFP wait-small-result=-10$") and has(r"^PARKFP wait-readonly-result=-3$") and
            has(r"^PARKFP wait-params-in-ring=-13$") and has(r"^PARKFP wait-result-in-ring=-13$"))
    c.check("a misaligned or unmapped word is refused alike either way (-15)",
            has(r"^PARKFP wait-misaligned fast=-15$") and has(r"^PARKFP wait-misaligned across-pages=-15$") and
            has(r"^PARKFP wake-unmapped fast=-15$") and has(r"^PARKFP wake-unmapped across-pages=-15$"))
    c.check("rt_park_wake is silent, and a failed one (unmapped, misaligned word) leaves no CQE behind",
            has(r"^PARKFP failed-wakes strays=0$"))
    c.check("ParkSpace.wait times out, not before its timeout", has(r"^PARK timeout result=2 waited-enough=1$"))
    c.check("ParkSpace.wake wakes a parked thread", has(r"^PARK wake result=0$"))
    c.check("mutex under contention: 8 threads x 3000 increments, none lost",
            has(r"^PARK mutex counter=24000 expected=24000$"))
    c.check("condition variable ping-pong, 1000 rounds: no lost wake-up", has(r"^PARK condvar rounds=1000 done$"))
    c.check("once runs its function exactly once for 8 racing threads", has(r"^PARK once runs=1 all-saw-it=1$"))
    c.check("park run exits 0", has(r"^THREADTEST park exit=0$"))
    m = re.search(r"^THREADTEST parkkill pending (\d+) -> (\d+), objects (\d+) -> (\d+), frames (\d+) -> (\d+)$", log, re.M)
    c.check("a killed process's parked threads leave no pending call, object or frame behind",
            has(r"^THREADTEST parkkill exit=-1001$") and bool(m) and m.group(1) == m.group(2)
            and m.group(3) == m.group(4) and m.group(5) == m.group(6))
    c.check("ring stress: 8 threads x 2000 calls (kernel and out-of-order endpoint), each gets exactly its own "
            "on its own ring (8 distinct rings, none the main thread's, no foreign CQE on any CQ)",
            has(r"^STRESS threads=8 calls=16000 wrong=0 others=0 own-rings=8$") and has(r"^THREADTEST stress exit=0$"))
    c.check("cap_enter on another thread's ring, or on an address that is no ring, is refused: WRONG_THREAD (-25)",
            has(r"^RINGS enter-other-ring result=-25$") and has(r"^RINGS enter-not-a-ring result=-25$"))
    c.check("ParkSpace.wait naming another live thread is refused (-25); naming itself is accepted",
            has(r"^RINGS park-other-thread result=-25$") and has(r"^RINGS park-self result=0$"))
    c.check("a call whose buffer lies in another thread's ring is refused: BUFFER_OVERLAPS_RING (-13)",
            has(r"^RINGS buffer-in-other-ring result=-13$"))
    c.check("an ended thread's ring and id are stale: cap_enter on it and a park naming it are refused (-25)",
            has(r"^RINGS enter-ended-ring result=-25$") and has(r"^RINGS park-ended-thread result=-25$"))
    c.check("a completion for an ended thread is dropped: the server's RETURN succeeds, "
            "no other thread's CQ gets it, its result buffer is not written",
            has(r"^RINGS ended-caller recv=1 return=0 strays=0 untouched=1$"))
    m = re.search(r"^RINGS leak caps (\d+) -> (\d+), objects (\d+) -> (\d+), pending (\d+) -> (\d+), "
                  r"frames (\d+) -> (\d+), heap (\d+) -> (\d+)$", log, re.M)
    c.check("the dropped completion's result cap is released and 21 threads' rings are freed: "
            "cap slots, objects, pending calls, frames and kernel heap back to the baseline",
            bool(m) and all(m.group(i) == m.group(i + 1) for i in (1, 3, 5, 7, 9)) and has(r"^THREADTEST rings exit=0$"),
            m.group(0) if m else "no leak line")
    c.check("a user fault in one thread kills the process and all its threads",
            has(r"^\[kernel\] process \d+ \(threadtest\) killed: page fault") and has(r"^THREADTEST fault exit=-1000$")
            and not has(r"^THREAD main survived"))
    c.check("the process outlives its main thread and ends with its last thread's value",
            has(r"^THREAD main thread exits first$") and has(r"^THREAD late thread ends the process with 9$")
            and has(r"^THREADTEST last exit=9$"))
    c.check("no kernel panic", "KERNEL PANIC" not in log)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
