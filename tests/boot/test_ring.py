#!/usr/bin/python3
"""Boot proof: boots capOS with the ring self-test and judges every line.

The guest reports facts (results, codes); the expected values live here, so
a guest that prints the wrong thing fails."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, abi_errors, run_proof  # noqa: E402

E = abi_errors()
EXPECTED_SQE = {
    "unknown-opcode": "CAP_ERR_UNSUPPORTED_OPCODE",
    "empty-slot": "CAP_ERR_INVALID_CAP",
    "slot-out-of-range": "CAP_ERR_INVALID_CAP",
    "wrong-interface": "CAP_ERR_WRONG_INTERFACE",
    "unknown-method": "CAP_ERR_UNKNOWN_METHOD",
    "reserved-flags": "CAP_ERR_INVALID_REQUEST",
    "bad-xfer-count": "CAP_ERR_INVALID_TRANSFER",
    "params-unmapped": "CAP_ERR_INVALID_PARAMS_BUFFER",
    "params-kernel": "CAP_ERR_INVALID_PARAMS_BUFFER",
    "params-too-large": "CAP_ERR_PARAMS_TOO_LARGE",
    "params-overlap-ring": "CAP_ERR_BUFFER_OVERLAPS_RING",
    "result-read-only": "CAP_ERR_INVALID_RESULT_BUFFER",
    "result-kernel": "CAP_ERR_INVALID_RESULT_BUFFER",
    "result-overlap-capset": "CAP_ERR_BUFFER_OVERLAPS_RING",
    "result-overlap-ring": "CAP_ERR_BUFFER_OVERLAPS_RING",
    "result-too-small": "CAP_ERR_RESULT_TOO_SMALL",
    "release-reserved-field": "CAP_ERR_INVALID_REQUEST",
    "release-empty-slot": "CAP_ERR_INVALID_CAP",
    "release-handle": None,   # success: 0
    "stale-slot": "CAP_ERR_STALE_CAP",
    "stale-slot-after-reuse": "CAP_ERR_STALE_CAP",
    "corrupt-sq-tail": "CAP_ERR_RING_CORRUPT",
    "vm-map-write-exec": "CAP_ERR_INVALID_ARGUMENT",
}


def main():
    c = Checks("boot/ring")
    status, log = run_proof("ring", timeout=120)

    def has(pattern):
        return re.search(pattern, log, re.M) is not None

    c.check("kernel boots to long mode and reports SMEP/SMAP", has(r"^\[kernel\] cpu: NX on, SMEP on, SMAP on"))
    c.check("banner printed by init", has(r"^capOS: init is up \(pid 1\)"))
    c.check("init's CapSet lists console, timer, memory, spawner, power",
            all(has(rf"^  {n}\s+cap [0-9a-f]{{8}}  interface [0-9a-f]{{16}}") for n in
                ("console", "timer", "memory", "spawner", "power")))
    m = re.search(r"^PROOF nop user_data=(\d+) echoed=(\d+) result=(-?\d+)", log, re.M)
    c.check("NOP round trip echoes user_data with result 0",
            bool(m) and m.group(1) == m.group(2) and m.group(3) == "0")
    c.check("Console CALL round trip: bytes reach the serial line",
            has(r"^PROOF console-call: these bytes came through a Console CALL$"))
    c.check("Console CALL completes with 0", has(r"^PROOF console-call result=0$"))
    c.check("Timer.sleepUntil waits at least until its deadline", has(r"^PROOF timer sleep result=0 slept_enough=1$"))
    c.check("the runtime reads the clock itself (Timer.clock's terms): always between two Timer.now calls, "
            "never backwards", has(r"^PROOF timer local-clock between-calls=1 forward=1$"))

    got = dict(re.findall(r"^SQE (\S+) -> (-?\d+)$", log, re.M))
    for name, err in EXPECTED_SQE.items():
        want = 0 if err is None else E[err]
        c.check(f"malformed SQE '{name}' -> {err or 'success'} ({want})",
                name in got and int(got[name]) == want, f"got {got.get(name)}")
    c.check("every malformed SQE reported", set(got) == set(EXPECTED_SQE), str(set(got) ^ set(EXPECTED_SQE)))
    c.check("spawned program runs and its exit code reaches the parent", has(r"^PROOF spawn hello exit=7$"))
    c.check("a released slot is reused with a new generation", has(r"^PROOF slot-reuse same_slot=1 new_gen=1$"))
    c.check("corrupted sq_tail sets the corrupted flag", has(r"^PROOF corrupt-flag=1$"))
    c.check("corrupted cq_head is repaired and counted", has(r"^PROOF corrupt-cq-head repaired=1 counted=1$"))
    c.check("the ring still works after corruption", has(r"^PROOF after-corrupt-cq nop result=0 echoed=1$"))
    c.check("256 SQEs in one enter complete in order", has(r"^PROOF batch-256 completions=256 in_order=1$"))
    c.check("null dereference in a user process is logged with a register dump",
            has(r"^\[kernel\] process \d+ \(fault\) killed: page fault \(vector 14, error \d+\) at rip [0-9a-f]+, address 0000000000000000$")
            and has(r"^\[kernel\]   rip=[0-9a-f]{16} cs=2b"))
    dump = ("rip=", "rax=", "rsi=", "r9 =", "r13=", "vector=")
    c.check("every line of the register dump carries the [kernel] prefix",
            all(has(rf"^\[kernel\]   {re.escape(k)}") for k in dump)
            and not any(has(rf"^\s*{re.escape(k)}") for k in dump))
    c.check("the faulting process's parent sees exit code PROCESS_EXIT_FAULT", has(r"^PROOF fault exit=-1000$"))
    c.check("the parent keeps running after the fault", has(r"^PROOF parent still alive$") and has(r"^PROOF after-fault console result=0$"))
    for prog, err in (("wtext", 7), ("xstack", 0x15), ("rkernel", 5)):
        c.check(f"{prog}: killed by a page fault (error {err:#x}) and reported as a fault",
                has(rf"^\[kernel\] process \d+ \({prog}\) killed: page fault \(vector 14, error {err:x}\)")
                and has(rf"^PROOF violate {prog} exit=-1000$"))
    c.check("a process that never enters the kernel is preempted", has(r"^PROOF spin running, parent woke after sleep result=0$"))
    c.check("ProcessHandle.kill ends it with PROCESS_EXIT_KILLED", has(r"^PROOF spin kill result=0 exit=-1001$"))
    m = re.search(r"^PROOF cputime spin-user-percent=(\d+) spin-kernel-below-user=(\d) accounts-match-tsc=(\d)$", log, re.M)
    c.check("CPU time: the spinner is charged most of the 30 ms as user time (KernelStats.processes)",
            bool(m) and int(m.group(1)) >= 50 and m.group(2) == "1", m.group(0) if m else "no cputime line")
    c.check("CPU time: user + kernel + irq + idle moved as far as the TSC (KernelStats.get)",
            bool(m) and m.group(3) == "1")
    c.check("heap (VirtualMemory-backed malloc) works", has(r"^PROOF heap ok=1$"))
    c.check("self-test ran to the end", has(r"^PROOF ringtest done$"))
    c.check("no kernel panic", not has(r"KERNEL PANIC"))
    c.check("poweroff with status 0 (QEMU exit 1)", status == 1, f"exit status {status}")
    c.done(log)


if __name__ == "__main__":
    main()
