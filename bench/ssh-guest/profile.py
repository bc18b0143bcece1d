#!/usr/bin/python3
"""make profile-net: where the guest's time goes during a bulk TCP transfer,
by sampling. capOS boots with the network stack, its driver and tcpecho's
sink and source (bench.py's icount manifest, plain TCG, one CPU) and QEMU's
gdb stub on a free 127.0.0.1 port; while a thread sends (or takes) 8 MiB
after 8 MiB through the hostfwd, the guest is stopped every PERIOD seconds
and its RIP read. A kernel address is named from build/kernel.elf; a user
one belongs to the program whose code bytes at that address match the 16
the guest holds there (every program links at the same base), and is named
from its unstripped copy in build/debug. Samples in the idle loop are the
vCPU halted, waiting for the host.

Wall-clock sampling: under TCG a function's share includes what QEMU spends
for it (TLB refills after a switch of address space, block lookups), which
is what the throughput pays. Stopping the guest costs about 70 ms a sample.

usage: profile.py [up|down] [SAMPLES] [PERIOD]   (defaults: up 700 0.1)"""
import bisect
import collections
import os
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capos_qemu import Guest, boot_package, free_port, scratch  # noqa: E402
from bench import ICOUNT_MANIFEST, NIC  # noqa: E402

DIRECTION = sys.argv[1] if len(sys.argv) > 1 else "up"
SAMPLES = int(sys.argv[2]) if len(sys.argv) > 2 else 700
PERIOD = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
PROGRAMS = ("virtio-net", "netstack", "tcpecho", "cpuprobe", "logger", "init")
RIP = 16 * 8                    # offset of rip in the x86-64 'g' packet


class GdbStub:
    """The few packets of the GDB remote protocol this needs."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def packet(self):
        while True:
            i = self.buf.find(b"$")
            j = self.buf.find(b"#", i + 1) if i >= 0 else -1
            if j >= 0 and len(self.buf) >= j + 3:
                body, self.buf = self.buf[i + 1:j], self.buf[j + 3:]
                self.s.sendall(b"+")
                return body.decode()
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("the gdb stub closed the connection")
            self.buf += chunk

    def send(self, body):
        self.s.sendall(b"$%s#%02x" % (body.encode(), sum(body.encode()) & 0xff))

    def ask(self, body):
        self.send(body)
        return self.packet()

    def stop(self):
        self.s.sendall(b"\x03")
        return self.packet()


def symbols(path):
    """(sorted addresses, names) of the text symbols of an ELF file."""
    out = subprocess.run(["nm", "-n", path], capture_output=True, text=True, check=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            addrs.append(int(f[0], 16))
            names.append(f[2])
    return addrs, names


def exec_segments(path):
    """[(vaddr, bytes)] of an ELF file's executable PT_LOAD segments."""
    data = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(phnum):
        kind, flags, off, va, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if kind == 1 and flags & 1:
            segs.append((va, data[off:off + filesz]))
    return segs


def name_of(syms, addr):
    i = bisect.bisect_right(syms[0], addr) - 1
    return syms[1][i] if i >= 0 else "?"


def main():
    progs = {}
    for n in PROGRAMS:
        for d in ("build/debug/user", "build/debug/guest", "build/debug"):
            p = os.path.join(ROOT, d, n)
            if os.path.isfile(p):
                progs[n] = (symbols(p), exec_segments(p))
                break
    kernel = symbols(os.path.join(ROOT, "build/kernel.elf"))

    def owner(code, rip):
        hits = [n for n, (_, segs) in progs.items()
                for va, b in segs if va <= rip and rip + len(code) <= va + len(b) and b[rip - va:rip - va + len(code)] == code]
        return hits[0] if len(hits) == 1 else ("/".join(hits) if hits else "?")

    tmp = scratch()
    man = os.path.join(tmp, "profile.manifest")
    with open(man, "w") as f:
        f.write(ICOUNT_MANIFEST)
    pkg = boot_package(man, tmp)
    ports = (free_port(), free_port())
    gport = free_port()
    net = "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:9,hostfwd=tcp:127.0.0.1:%d-:19" % ports
    g = Guest(pkg=pkg, mem=128, smp=1, extra=["-netdev", net, *NIC, "-gdb", "tcp:127.0.0.1:%d" % gport])
    done = threading.Event()

    def traffic():
        data = bytes(1 << 20)
        while not done.is_set():
            try:
                if DIRECTION == "up":
                    c = socket.create_connection(("127.0.0.1", ports[0]), timeout=300)
                    for _ in range(8):
                        c.sendall(data)
                    c.shutdown(socket.SHUT_WR)
                else:
                    c = socket.create_connection(("127.0.0.1", ports[1]), timeout=300)
                while c.recv(1 << 20):
                    pass
                c.close()
            except OSError:
                if not done.is_set():
                    raise
    try:
        g.wait_for(r"netstack: dhcp lease", 120)
        g.wait_for(r"tcpecho: listening on port 19", 60)
        threading.Thread(target=traffic, daemon=True).start()
        time.sleep(1)
        gdb = GdbStub(gport)
        gdb.stop()
        by_fn, by_proc = collections.Counter(), collections.Counter()
        t0 = time.monotonic()
        for _ in range(SAMPLES):
            gdb.send("c")
            time.sleep(PERIOD)
            gdb.stop()
            rip, = struct.unpack_from("<Q", bytes.fromhex(gdb.ask("g")), RIP)
            if rip >= 1 << 63:
                who, fn = "kernel", name_of(kernel, rip)
            else:
                who = owner(bytes.fromhex(gdb.ask("m%x,10" % rip)), rip)
                fn = name_of(progs[who][0], rip) if who in progs else "?"
            by_proc[who] += 1
            by_fn[(who, fn)] += 1
        gdb.send("c")
        done.set()
        print("profile-net: %d samples of RIP in %.0f s, host -> guest" % (SAMPLES, time.monotonic() - t0)
              if DIRECTION == "up" else
              "profile-net: %d samples of RIP in %.0f s, guest -> host" % (SAMPLES, time.monotonic() - t0))
        for who, n in by_proc.most_common():
            print("  %-24s %5.1f%%" % (who, 100.0 * n / SAMPLES))
        print()
        for (who, fn), n in by_fn.most_common(40):
            print("  %5.1f%%  %-12s %s" % (100.0 * n / SAMPLES, who, fn))
    finally:
        done.set()
        g.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
