#!/usr/bin/python3
"""Writes the seeds of tests/kernel/fuzz_ring.c into seeds-ring/ (the record
format is in its header comment): calls of each object with real params,
a line read finished by typing, transfers, clobbered indices, a full CQ,
and one run of tests/guest/sqefuzz's generator. The corpus-* files beside
them are not written here: they are the edge-minimal merge
(`-use_counters=0 -merge=1`) of a 10-minute run's corpus, kept so that the
coverage floor does not depend on what a 5 s smoke run happens to find."""
import os
import struct

CALL, RELEASE = 1, 4
CONSOLE, TERMINAL, BOOTPKG, TIMER = 0, 1, 2, 3
THREAD_NEW, THREAD_SWITCH, THREAD_END, CLOCK = 0xF0, 0xF1, 0xF2, 0xF3
RW = 6                      # the read-write region's address selector


def msg(dw, pw, data=b"", ptrs=b"", tail=b""):
    """one segment: the root struct right after its pointer, then tail words"""
    seg = struct.pack("<II", 0, dw | pw << 16) + data.ljust(dw * 8, b"\0") + ptrs + tail
    return struct.pack("<II", 0, len(seg) // 8) + seg


def data_ptr(offset_words, nbytes):
    return struct.pack("<II", (offset_words << 2) | 1, 2 | nbytes << 3)


def write(off64, b):
    return bytes([1, off64, len(b)]) + b


def sqe(op, cap, iface, method, poff, plen, roff=0x10, rlen=100, xcount=0, xoff=0, flags=0, raw_cap=0):
    return bytes([0, op, flags, cap | raw_cap, 7, iface, method, RW, poff >> 8, poff & 255, plen // 8,
                  RW, roff, rlen, xcount * 4, RW if xcount else 0, xoff])


console_write = msg(0, 1, ptrs=data_ptr(0, 5), tail=b"hello".ljust(8, b"\0"))
read_manifest = msg(2, 0, struct.pack("<QI", 8, 16))
read_line = msg(1, 0, struct.pack("<IB", 32, 1))
sleep_10ms = msg(1, 0, struct.pack("<Q", 10_000_000))
xfer = struct.pack("<II", 0, 0) + struct.pack("<II", 1, 1)     # copy console's slot, move terminal's
seeds = {
    "console-write": write(0, console_write) + sqe(CALL, CONSOLE, 0, 0, 0, len(console_write)) + b"\x02",
    "bootpkg-read": write(0, read_manifest) + sqe(CALL, BOOTPKG, 2, 1, 0, len(read_manifest))
    + sqe(CALL, BOOTPKG, 2, 2, 0, 0) + sqe(CALL, BOOTPKG, 2, 0, 0, 0, rlen=0) + b"\x02\x05",
    "terminal-line": write(0, read_line) + sqe(CALL, TERMINAL, 1, 1, 0, len(read_line)) + b"\x02"
    + bytes([7, 4]) + b"ok\r\n" + b"\x02",
    "transfer": write(0, console_write) + write(2, xfer) + sqe(CALL, CONSOLE, 0, 0, 0, len(console_write),
                                                               xcount=2, xoff=8) + b"\x02"
    + sqe(RELEASE, TERMINAL, 0, 0, 0, 0, rlen=0) + b"\x02",
    "clobbered": sqe(0, 0, 0, 0, 0, 0) * 3 + b"\x03\xff\xff\x00\x00\x02\x04\x00\x00\x10\x00\x02",
    "cq-full": (sqe(0, 0, 0, 0, 0, 0) * 200 + b"\x02") * 3,
    "sqefuzz": b"\x06" + struct.pack("<Q", 0x2545F4914F6CDD1D) + bytes([64]),
    # three line reads wait; 512 NOPs fill the CQ; typing completes a read
    # into the full CQ (the overflow queue), then draining lets it through
    "overflow": write(0, read_line) + sqe(CALL, TERMINAL, 1, 1, 0, len(read_line)) * 3 + b"\x02"
    + (sqe(0, 0, 0, 0, 0, 0) * 256 + b"\x02") * 2 + bytes([7, 2]) + b"a\r" + b"\x05\x02",
    "wait": sqe(0, 0, 0, 0, 0, 0) + bytes([8, 1, 5]) + bytes([8, 8, 3]),
    # a second thread sleeps, then ends: the sleep completes into a stale
    # ThreadRef and is dropped
    "thread-drop": write(0, sleep_10ms) + bytes([THREAD_NEW, THREAD_SWITCH, 1])
    + sqe(CALL, TIMER, 5, 1, 0, len(sleep_10ms)) + b"\x02" + bytes([THREAD_SWITCH, 0, THREAD_END, 1, CLOCK, 20])
    + b"\x02",
    # a second thread's line read goes with it; the typed line waits for the next reader
    "thread-line": write(0, read_line) + bytes([THREAD_NEW, THREAD_SWITCH, 1])
    + sqe(CALL, TERMINAL, 1, 1, 0, len(read_line)) + b"\x02" + bytes([THREAD_SWITCH, 0, THREAD_END, 1])
    + bytes([7, 4]) + b"ok\r\n" + b"\x02",
    # four threads, calls on each one's ring, one ends and its slot is reused
    "thread-rings": bytes([THREAD_NEW] * 3) + bytes([THREAD_SWITCH, 2]) + sqe(0, 0, 0, 0, 0, 0) + b"\x02"
    + bytes([THREAD_SWITCH, 3]) + write(0, sleep_10ms) + sqe(CALL, TIMER, 5, 1, 0, len(sleep_10ms)) + b"\x02"
    + bytes([8, 1, 20]) + bytes([THREAD_SWITCH, 0, THREAD_END, 2, THREAD_NEW, THREAD_SWITCH, 2]) + b"\x02",
}
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds-ring")
os.makedirs(d, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
