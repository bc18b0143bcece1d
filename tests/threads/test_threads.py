#!/usr/bin/python3
"""Threads in QEMU: spawn/join, TLS per thread (with the %fs:0x28 canary),
many threads making ring calls at once, a fault in one thread ending the
whole process, and the last thread's exit ending the process."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, run_guest  # noqa: E402


def main():
    c = Checks("threads")
    status, log = run_guest("threadtest", timeout=120)

    def has(p):
        return re.search(p, log, re.M) is not None

    c.check("four threads run and join returns each one's value", has(r"^THREAD spawn-join ok=1$"))
    c.check("each thread has its own TLS (initial image, own values, canary at %fs:0x28, TCB self pointer)",
            has(r"^THREAD tls ok=1 main-untouched=1$"))
    c.check("8 threads x 300 ring calls, interleaved with sleeps: every completion reaches its caller",
            has(r"^THREAD concurrent-calls threads=8 calls=300 ok=1 bad=0 lost=0$"))
    order = re.findall(r"^THREAD caller (\d) at (\d+)$", log, re.M)
    c.check("the callers really ran at the same time (their progress lines interleave)",
            len(order) == 24 and [o[0] for o in order] != sorted(o[0] for o in order))
    c.check("basic run exits 0", has(r"^THREADTEST basic exit=0$"))
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
