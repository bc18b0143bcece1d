#!/usr/bin/python3
"""make bench-ssh-guest: capOS's SSH gateway against dropbear in the Linux
baseline guest, both on the same QEMU flags (plain TCG, -netdev user with
restrict=on and a hostfwd from 127.0.0.1, virtio-net-pci modern only), driven
by the host's OpenSSH client with the same key; wall clock on the host.

  connect:   spawn `ssh -tt`, time until the first shell prompt appears
             (TCP, KEX, publickey auth, pty, shell start); median of N.
  keystroke: over one established session, send one byte, time until it is
             echoed (the byte then erased with DEL, untimed); median of M.
  http:      GET / on a fresh connection to its close (capOS webstatus,
             busybox httpd in the Linux guest); median of H.
  tcp:       32 MiB host -> guest (to a sink that reads to the end) and
             guest -> host (from a source that sends and closes) through
             the hostfwd; MB/s, median of 5 each way (capOS: tcpecho's sink
             and source roles over the stack; Linux: busybox nc). Both
             guests run at once and the transfers alternate between them,
             so a change in the machine's load falls on both alike; each
             round's ratio and the QEMU process's CPU seconds per
             transfer (steadier than the wall clock) are printed too.
  memory:    capOS only: the kernel's free frames (the test-only sessprobe's
             `echo stats`) before and after one more session is open; the
             user pages virtio-net and netstack have mapped (`echo mem`).
  instructions per frame: a second boot of each under -icount shift=0
             (a TSC cycle is one guest instruction there, and halted time
             the virtual time slept): the kernel's CPU accounts
             (KernelStats) read by the test-only cpuprobe over the serial
             line before and after ICOUNT_BULK bytes each way, divided by
             the stack's frame counters; split by process, user and kernel;
             with the kernel's thread switches and system calls per frame.
             The probe first times a loop of known length: if a TSC cycle
             is not one instruction, it says so instead of printing counts.
             The Linux twin: BULK bytes each way, its busy virtual time
             (/proc/uptime less idle, 10 ms grain) over eth0's packets.

Every figure is measured in this run; nothing is asserted.
usage: bench.py [CONNECTS] [KEYSTROKES] [HTTP-REQUESTS]"""
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from capos_qemu import Guest, boot_package, free_port  # noqa: E402
from run import CACHE, cpio_newc  # noqa: E402
from linux_net import DIR, EXEC, FILE, NET_SETUP, NIC, linux_guest, module_entries, shared_lib_entries, wait_serial  # noqa: E402

ARGS = sys.argv[1:] if __name__ == "__main__" else []    # profile.py imports this file
CONNECTS = int(ARGS[0]) if len(ARGS) > 0 else 21
KEYS = int(ARGS[1]) if len(ARGS) > 1 else 101
HTTPS = int(ARGS[2]) if len(ARGS) > 2 else 51
NET = ("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22,hostfwd=tcp:127.0.0.1:%d-:80,"
       "hostfwd=tcp:127.0.0.1:%d-:9,hostfwd=tcp:127.0.0.1:%d-:19")
# TCP throughput: bytes per connection, connections per direction
BULK = 32 << 20
BULK_RUNS = 5
ICOUNT_BULK = 8 << 20
CAPOS_PROMPT = rb"admin@capos> $"
# busybox ash asks the terminal for its cursor position after its prompt
LINUX_PROMPT = rb"root@linux> (\x1b\[6n)?$"
# the operator's echo becomes the test-only sessprobe (`echo stats`), as in test-ssh-shell
ECHO_SERVICE = """service echo binary=echo session=anon restart=on-failure:3 disclose=principal,profile
    grant log = logger.log
    grant timer = kernel.timer
    export echo interface=Echo
    args hello from the manifest
"""
NET_ARGS = ("    export ssh interface=TcpListenAuthority\n    args dhcp auth=http:80 auth=ssh:22\n",
            "    export ssh interface=TcpListenAuthority\n    export sink interface=TcpListenAuthority\n"
            "    export source interface=TcpListenAuthority\n"
            "    args dhcp auth=http:80 auth=ssh:22 auth=sink:9 auth=source:19\n")
BULK_SERVICES = """
service sink binary=tcpecho session=system restart=on-failure:3
    grant console = logger.log
    grant listen = net.sink
    args sink

service source binary=tcpecho session=system restart=on-failure:3
    grant console = logger.log
    grant listen = net.source
    args source %d
""" % BULK
SESSPROBE_SERVICE = """service sessprobe binary=sessprobe session=system restart=never
    grant console = kernel.console
    grant timer = kernel.timer
    grant stats = kernel.stats
    grant manager = sessionmgr.manager
    export echo interface=Echo
"""

INIT = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
%shttpd -p 80 -h /www
(while true; do nc -l -p 9 > /dev/null; done) &
(while true; do dd if=/dev/zero bs=65536 count=%d 2>/dev/null | nc -l -p 19; done) &
(while true; do cat /proc/uptime /proc/net/dev | nc -l -p 7; done) &
echo "SSHBENCH-NET $(cat /sys/class/net/eth0/address)"
exec /sbin/dropbear -F -E -s -p 22 -r /etc/dropbear/dropbear_ed25519_host_key
""" % (NET_SETUP, BULK // 65536)


def linux_initrd(path, tmp, pubkey):
    def f(p):
        return open(p, "rb").read()
    hk = os.path.join(tmp, "dropbear_ed25519_host_key")
    subprocess.run([os.path.join(CACHE, "dropbear/dropbearkey"), "-t", "ed25519", "-f", hk],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    D, F, X = DIR, FILE, EXEC
    e = [("dev", D, b""), ("proc", D, b""), ("sys", D, b""), ("tmp", 0o41777, b""),
         ("bin", D, b""), ("sbin", D, b""), ("bin/busybox", X, f(os.path.join(CACHE, "busybox")))]
    for applet in ("sh", "mount", "mkdir", "insmod", "ifconfig", "route", "cat", "httpd", "nc", "dd"):
        e.append(("bin/" + applet, 0o120777, b"busybox"))
    e += [("sbin/dropbear", X, f(os.path.join(CACHE, "dropbear/dropbear"))),
          ("init", X, INIT.encode())]
    e += module_entries()
    # the shared libraries dropbear needs, as ldd on the host names them
    e += shared_lib_entries(os.path.join(CACHE, "dropbear/dropbear"))
    e += [("etc", D, b""), ("etc/dropbear", 0o40700, b""),
          ("etc/dropbear/dropbear_ed25519_host_key", 0o100600, f(hk)),
          ("etc/passwd", F, b"root:x:0:0:root:/root:/bin/sh\n"), ("etc/group", F, b"root:x:0:\n"),
          ("etc/shells", F, b"/bin/sh\n"), ("etc/profile", F, b"PS1='root@linux> '\nexport PS1\n"),
          ("www", D, b""), ("www/index.html", F, b"<html><body>capOS bench</body></html>\n"),
          ("root", 0o40700, b""), ("root/.ssh", 0o40700, b""),
          ("root/.ssh/authorized_keys", 0o100600, pubkey)]
    # cpio_newc wants (name, mode, data, rdev); lib dirs come before their files
    open(path, "wb").write(cpio_newc([(n, m, d, (0, 0)) for n, m, d in e]))


class Session:
    """ssh -tt with its stdin and stdout on pipes."""

    def __init__(self, args):
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, bufsize=0)
        self.fd, self.buf = self.p.stdout.fileno(), b""

    def wait(self, pattern, timeout=60):
        """Until pattern (bytes regex) matches what arrived since the last
        wait; the time it matched, or None."""
        deadline = time.perf_counter() + timeout
        rx = re.compile(pattern, re.M)
        while not rx.search(self.buf):
            r, _, _ = select.select([self.fd], [], [], max(0, deadline - time.perf_counter()))
            if not r:
                return None
            c = os.read(self.fd, 65536)
            if not c:
                return None
            self.buf += c
        t = time.perf_counter()
        self.buf = b""
        return t

    def send(self, b):
        self.p.stdin.write(b)

    def close(self):
        try:
            self.p.stdin.write(b"exit\r")
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def measure(ssh, prompt, probe=None):
    """(connect times, keystroke times, note)"""
    conn = []
    for _ in range(CONNECTS + 1):          # the first one warms up, not counted
        s = Session(ssh)
        t = s.wait(prompt)
        if t is not None:
            conn.append(t - s.t0)
        else:
            err = s.p.stderr.read1(4000) if s.p.poll() is not None else b""
            print("  (a connection saw no prompt: %r %r)" % (s.buf[-300:], err))
        s.close()
    conn = conn[1:]
    keys, mem = [], None
    s = Session(ssh)
    if s.wait(prompt) is not None:
        for _ in range(KEYS):
            t0 = time.perf_counter()
            s.send(b"x")
            t = s.wait(rb"x")
            if t is None:
                break
            keys.append(t - t0)
            s.send(b"\x7f")
            s.wait(rb"\x08|\x1b\[")
        if probe:
            mem = probe(s, ssh, prompt)
    s.close()
    return conn, keys, mem


def capos_memory(s, ssh, prompt):
    """Free frames before and after one more session (sessprobe's stats),
    and the user pages the NIC driver and the network stack have mapped."""
    def ask(cmd, rx):
        s.send(cmd + b"\r")
        deadline = time.perf_counter() + 30
        while time.perf_counter() < deadline:
            r, _, _ = select.select([s.fd], [], [], 1)
            if r:
                s.buf += os.read(s.fd, 65536)
                m = re.search(rx, s.buf)
                if m and re.search(prompt, s.buf, re.M):
                    s.buf = b""
                    return int(m.group(1))
        return None

    def frames():
        return ask(b"echo stats", rb"PROBE kernel frames=(\d+)")
    procs = {n: ask(b"echo mem " + n.encode(), rb"PROBE mem \S+ pages=(\d+)") for n in ("virtio-net", "netstack")}
    before = frames()
    other = Session(ssh)
    ok = other.wait(prompt) is not None
    time.sleep(1)
    after = frames()
    other.close()
    if not ok or before is None or after is None:
        return None, procs
    return (before - after) * 4096, procs


def read_to_close(port, request=b"", timeout=30):
    """Connect to 127.0.0.1:port, send request, and read until the close."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        c.sendall(request)
        data = b""
        while True:
            d = c.recv(65536)
            if not d:
                return data
            data += d
    finally:
        c.close()


def http_times(port):
    """GET / over a fresh connection to the close, median of HTTPS after
    one warm-up: (seconds list, bytes of the last answer)."""
    times, size = [], 0
    for i in range(HTTPS + 1):
        t0 = time.perf_counter()
        try:
            data = read_to_close(port, b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        except OSError:
            continue
        if i and data.startswith(b"HTTP/1."):
            times.append(time.perf_counter() - t0)
            size = len(data)
    return times, size


def qemu_cpu_s(pid):
    """CPU seconds (user + system) the process has used so far."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def bulk_up(port):
    """MB/s of BULK bytes to the sink: sent, half-closed, until the guest closes."""
    data = bytes(1 << 20)
    c = socket.create_connection(("127.0.0.1", port), timeout=120)
    t0 = time.monotonic()
    for _ in range(BULK >> 20):
        c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()
    return BULK / (time.monotonic() - t0) / 1e6


def drain(port, timeout=120):
    """Connect and count the bytes until the close: (bytes, seconds)."""
    c = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0, n = time.monotonic(), 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
    c.close()
    return n, time.monotonic() - t0


def bulk_down(port):
    """MB/s from the source to its close (0 if it sent less than BULK)."""
    n, dt = drain(port)
    return n / dt / 1e6 if n == BULK else 0.0


def bulk_interleaved(guests):
    """guests: [(QEMU pid, sink port, source port)], all running. Each round
    sends BULK bytes into each guest in turn, then takes BULK from each, so
    a change in the machine's load falls on both alike. Per guest and
    direction: the MB/s of every round and the QEMU process's CPU seconds
    per transfer."""
    res = [{"up": [], "down": [], "up_cpu": [], "down_cpu": []} for _ in guests]
    for _ in range(BULK_RUNS):
        for d, fn in (("up", bulk_up), ("down", bulk_down)):
            for (pid, sink, source), r in zip(guests, res):
                time.sleep(0.5)             # the Linux guest's nc listens again
                c0 = qemu_cpu_s(pid)
                r[d].append(fn(sink if d == "up" else source))
                r[d + "_cpu"].append(qemu_cpu_s(pid) - c0)
    return res


ICOUNT_MANIFEST = """session system principal=system profile=service

service logger binary=logger session=system restart=always:5
    grant console = kernel.console
    export log interface=Console

service nicdrv binary=virtio-net session=system restart=never
    grant console = logger.log
    device nic 1af4:1041 dma=72
    export nic interface=Nic

service net binary=netstack session=system restart=never
    grant console = logger.log
    grant timer = kernel.timer
    grant memory = kernel.memory
    grant endpoints = kernel.endpoints
    grant nic = nicdrv.nic
    export manager interface=NetworkManager
    export info interface=NetworkInfo
    export sink interface=TcpListenAuthority
    export source interface=TcpListenAuthority
    args dhcp auth=sink:9 auth=source:19

service sink binary=tcpecho session=system restart=never
    grant console = logger.log
    grant listen = net.sink
    args sink

service source binary=tcpecho session=system restart=never
    grant console = logger.log
    grant listen = net.source
    args source %d

service cpuprobe binary=cpuprobe session=system restart=never
    grant console = kernel.console
    grant stats = kernel.stats
    grant info = net.info
""" % ICOUNT_BULK


def parse_snap(line):
    """A CPUPROBE line -> {key: int}, processes as ("proc", name) -> (user, kernel)."""
    out = {}
    for w in line.split()[1:]:
        if "=" not in w:
            continue
        k, v = w.split("=", 1)
        if k == "proc":
            name, u, kk = v.rsplit(":", 2)
            out[("proc", name)] = (int(u), int(kk))
        else:
            out[k] = int(v)
    return out


def capos_instructions(tmp):
    """Boot capOS under -icount shift=0; per direction, the differences of
    the CPU accounts and frame counters across one transfer. Returns
    (loop check line, {"up": (before, after), "down": (before, after)}) or
    raises."""
    d = os.path.join(tmp, "icount")
    os.makedirs(d, exist_ok=True)
    man = os.path.join(d, "icount.manifest")
    with open(man, "w") as f:
        f.write(ICOUNT_MANIFEST)
    pkg = boot_package(man, d)
    ports = (free_port(), free_port())
    net = "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:9,hostfwd=tcp:127.0.0.1:%d-:19" % ports
    g = Guest(pkg=pkg, mem=128, smp=1, extra=["-icount", "shift=0", "-netdev", net, *NIC])
    seen = [0]

    def snap(cmd="snap"):
        g.send(cmd + "\r")
        m = g.wait_for(r"^CPUPROBE .*$", 120, since=seen[0])
        seen[0] = m.end()
        return m.group(0).strip()
    try:
        g.wait_for(r"cpuprobe: ready", 120)
        g.wait_for(r"netstack: dhcp lease", 120)
        g.wait_for(r"tcpecho: listening on port 19", 60)
        loop = parse_snap(snap("loop"))
        res = {}
        # host -> guest: to the sink, to its close
        c = socket.create_connection(("127.0.0.1", ports[0]), timeout=300)
        c.sendall(b"x")                 # the connection is up and accepted before the count starts
        time.sleep(2)
        a = parse_snap(snap())
        data = bytes(1 << 20)
        for _ in range((ICOUNT_BULK >> 20) - 1):
            c.sendall(data)
        c.sendall(bytes((1 << 20) - 1))
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
        c.close()
        time.sleep(2)
        res["up"] = (a, parse_snap(snap()))
        # guest -> host: from the source to its close
        a = parse_snap(snap())
        n, _ = drain(ports[1], timeout=300)
        time.sleep(2)
        res["down"] = (a, parse_snap(snap()))
        if n != ICOUNT_BULK:
            raise RuntimeError("the source sent %d bytes, not %d" % (n, ICOUNT_BULK))
        return loop, res
    finally:
        g.kill()


def print_instructions(loop, res):
    """The table of guest instructions per frame, or why there is none."""
    print()
    print("capOS guest instructions per frame (-icount shift=0, %d MiB each way, tcpecho sink/source)"
          % (ICOUNT_BULK >> 20))
    n = loop["instructions"]
    print("  rdtsc check: a loop of %d instructions took %d TSC cycles (%d in user mode, this process)"
          % (n, loop["tsc"], loop["user"]))
    if abs(loop["user"] - n) > n // 100:
        print("  not trustworthy: a TSC cycle is not one guest instruction on this QEMU, so no counts")
        return
    cols = (("up", "rx", "host -> guest, per frame received"), ("down", "tx", "guest -> host, per frame sent"))
    names = ("virtio-net", "netstack", "tcpecho")
    rows = []
    for key, fr, title in cols:
        a, b = res[key]
        frames = b[fr] - a[fr]
        dt = {k: b[k] - a[k] for k in ("tsc", "user", "kernel", "irq", "idle", "rx", "tx")}
        for k in ("switches", "syscalls"):      # absent from an older probe
            dt[k] = b.get(k, 0) - a.get(k, 0)
        per = {}
        procs = {k[1] for k in b if isinstance(k, tuple)}
        other_u = other_k = 0
        for p in procs:
            u = b[("proc", p)][0] - a.get(("proc", p), (0, 0))[0]
            kk = b[("proc", p)][1] - a.get(("proc", p), (0, 0))[1]
            if p in names:
                per[p] = (u, kk)
            else:
                other_u += u
                other_k += kk
        busy = dt["user"] + dt["kernel"] + dt["irq"]
        rows.append((title, frames, dt, per, other_u, other_k, busy))
    print("  %-44s %14s %14s" % ("", "host->guest", "guest->host"))
    print("  %-44s %14s %14s" % ("frames received / sent by the stack",
                                 "%d/%d" % (rows[0][2]["rx"], rows[0][2]["tx"]),
                                 "%d/%d" % (rows[1][2]["rx"], rows[1][2]["tx"])))
    print("  %-44s %14s %14s" % ("counted per", "frame received", "frame sent"))

    def line(label, vals):
        print("  %-44s %14s %14s" % (label, *("%.0f" % (v / r[1]) if r[1] else "-" for v, r in zip(vals, rows))))
    for p in names:
        line("%s, user" % p, [r[3].get(p, (0, 0))[0] for r in rows])
        line("kernel, for %s" % p, [r[3].get(p, (0, 0))[1] for r in rows])
    line("other processes, user + kernel", [r[4] + r[5] for r in rows])
    line("kernel, no process (interrupts in idle)", [r[2]["irq"] for r in rows])
    line("total (instructions executed)", [r[6] for r in rows])
    print("  %-44s %14s %14s" % ("thread switches / system calls, per frame",
                                 *("%.2f / %.2f" % (r[2]["switches"] / r[1], r[2]["syscalls"] / r[1])
                                   if r[1] else "-" for r in rows)))
    print("  %-44s %14s %14s" % ("idle share of the transfer (halted)",
                                 *("%.0f%%" % (100.0 * r[2]["idle"] / r[2]["tsc"]) for r in rows)))
    print("  (every instruction between the two reads is counted: the ACKs sent while receiving and"
          " received while sending are in the figure, not apart)")


def linux_instructions(initrd):
    """The Linux twin under -icount shift=0: guest instructions per frame
    each way, BULK bytes, as busy virtual time (a nanosecond is an
    instruction there): /proc/uptime's uptime less its idle time (both
    kept to 10 ms; the idle time of a tickless kernel is exact) around the
    transfer, over eth0's packet counters. Returns {"up"|"down": (busy ns,
    rx, tx)}."""
    ports = tuple(free_port() for _ in range(5))
    net = NET % ports[:4] + ",hostfwd=tcp:127.0.0.1:%d-:7" % ports[4]
    p = linux_guest(initrd, net, extra=["-icount", "shift=0"])

    def reading():
        # the guest's loop reads /proc as soon as the last reading was taken:
        # the second of two readings is the one of now
        for _ in range(2):
            time.sleep(0.5)
            out = read_to_close(ports[4], timeout=120)
        lines = out.decode().splitlines()
        up, idle = (float(x) for x in lines[0].split())
        eth = [ln for ln in lines if ln.strip().startswith("eth0:")][0].split(":", 1)[1].split()
        return up - idle, int(eth[1]), int(eth[9])
    try:
        wait_serial(p, rb"Not backgrounding", 300)
        res = {}
        for d, fn, port in (("up", bulk_up, ports[2]), ("down", bulk_down, ports[3])):
            a = reading()
            fn(port)
            b = reading()
            res[d] = ((b[0] - a[0]) * 1e9, b[1] - a[1], b[2] - a[2])
        return res
    finally:
        p.kill()
        p.wait()


def med_ms(v):
    return statistics.median(v) * 1000 if v else None


def main():
    subprocess.run([os.path.join(ROOT, "bench/ssh-guest/fetch-dropbear.sh")], check=True)
    tmp = tempfile.mkdtemp(prefix="capos-sshguest-")
    procs = []
    try:
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".ssh"))
        uk = os.path.join(tmp, "user_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", uk], check=True)
        pub = open(uk + ".pub", "rb").read()
        env_home = home

        def ssh(port, user):
            return ["ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "StrictHostKeyChecking=no", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
                    "-o", "BatchMode=yes", "-o", "ConnectTimeout=60", "-o", "IdentityAgent=none",
                    "-i", uk, "-p", str(port), "-tt", user + "@127.0.0.1"]
        os.environ["HOME"] = env_home

        # capOS: make run-ssh-shell's system, the key authorized for admin
        k = pub.decode().split()
        pkg = boot_package(os.path.join(ROOT, "manifests/ssh-shell.manifest"), tmp,
                           replace=[("@KEYS@", "key:admin:%s:%s" % (k[0], k[1])), (ECHO_SERVICE, SESSPROBE_SERVICE + BULK_SERVICES), NET_ARGS,
                                    ("    grant echo = echo.echo\n", "    grant echo = sessprobe.echo\n")])
        print("bench: capOS guest (plain TCG), SSH gateway ...", flush=True)
        ports = tuple(free_port() for _ in range(4))
        port, hport = ports[:2]
        g = Guest(pkg=pkg, mem=128, smp=1, extra=["-netdev", NET % ports, *NIC])
        try:
            g.wait_for(r"^ssh-gateway: serving SSH on port 22", 120)
            g.wait_for(r"netstack: dhcp lease", 60)
            cap = measure(ssh(port, "admin"), CAPOS_PROMPT, capos_memory)
            cap_http = http_times(hport)
            g.wait_for(r"tcpecho: listening on port 19", 60)
            cap_bulk_ports = ports[2:]

            # the Linux guest boots beside it (capOS idles meanwhile), so
            # the transfers can alternate between the two
            print("bench: Linux guest (plain TCG), dropbear ...", flush=True)
            initrd = os.path.join(tmp, "initrd.cpio")
            linux_initrd(initrd, tmp, pub)
            ports = tuple(free_port() for _ in range(4))
            port, hport = ports[:2]
            p = linux_guest(initrd, NET % ports)
            procs.append(p)
            wait_serial(p, rb"Not backgrounding", 120)
            lin = measure(ssh(port, "root"), LINUX_PROMPT)
            lin_http = http_times(hport)
            print("bench: TCP each way, capOS and Linux in turn ...", flush=True)
            bulk = bulk_interleaved([(g.proc.pid, *cap_bulk_ports), (p.pid, *ports[2:])])
        finally:
            g.kill()
            for q in procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()

        print("bench: capOS guest (-icount shift=0), instructions per frame ...", flush=True)
        try:
            icount = capos_instructions(tmp)
        except (RuntimeError, AssertionError, OSError) as e:
            icount = None
            print("  (instructions per frame not measured: %s)" % str(e)[-500:])
        print("bench: Linux guest (-icount shift=0), instructions per frame ...", flush=True)
        try:
            lin_icount = linux_instructions(initrd)
        except (OSError, IndexError, ValueError) as e:
            lin_icount = None
            print("  (the Linux twin's instructions per frame not measured: %s)" % str(e)[-500:])

        ver = subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE, text=True).stderr.strip()
        dbv = subprocess.run([os.path.join(CACHE, "dropbear/dropbear"), "-V"], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        dbv = (dbv.stderr + dbv.stdout).strip().splitlines()[0] if (dbv.stderr + dbv.stdout).strip() else "dropbear"
        print()
        print("SSH into the guest: capOS ssh-gateway vs Linux + %s; client %s; plain TCG, host wall clock" % (dbv, ver))
        print("  %-44s %10s %10s %12s" % ("", "capOS", "Linux", "capOS/Linux"))
        rows = [("connect -> first shell prompt, median of %d" % CONNECTS, med_ms(cap[0]), med_ms(lin[0]),
                 len(cap[0]), len(lin[0])),
                ("keystroke echo round trip, median of %d" % KEYS, med_ms(cap[1]), med_ms(lin[1]),
                 len(cap[1]), len(lin[1])),
                ("HTTP GET / to close, median of %d" % HTTPS, med_ms(cap_http[0]), med_ms(lin_http[0]),
                 len(cap_http[0]), len(lin_http[0]))]
        for name, a, b, na, nb in rows:
            r = "%.2f" % (a / b) if a and b else "-"
            fa = "%.1f ms" % a if a is not None else "-"
            fb = "%.1f ms" % b if b is not None else "-"
            print("  %-44s %10s %10s %12s" % (name, fa, fb, r))
            if na != nb:
                print("    (samples: capOS %d, Linux %d)" % (na, nb))
        print("  %-44s %10s %10s %12s" % ("", "MB/s", "MB/s", ""))
        cb, lb = bulk
        for d, name in (("up", "host -> guest"), ("down", "guest -> host")):
            a, b = statistics.median(cb[d]), statistics.median(lb[d])
            ratios = [x / y for x, y in zip(cb[d], lb[d]) if y]
            print("  %-44s %10.1f %10.1f %12s" % ("TCP %s, %d MiB, median of %d" % (name, BULK >> 20, BULK_RUNS), a, b,
                                                  "%.2f" % (a / b) if b else "-"))
            if ratios:
                print("    each round's ratio (capOS then Linux, in turn): %s" % " ".join("%.2f" % x for x in ratios))
            ca, la = statistics.median(cb[d + "_cpu"]), statistics.median(lb[d + "_cpu"])
            print("    QEMU CPU seconds per transfer, median: capOS %.2f, Linux %.2f (%s)"
                  % (ca, la, "%.2f" % (ca / la) if la else "-"))
        print("  (TCP: capOS tcpecho sink/source over the stack; busybox nc in the Linux guest)")
        print("  (HTTP: capOS webstatus's status page, %d bytes; busybox httpd, a %d-byte file)"
              % (cap_http[1], lin_http[1]))
        session, mapped = cap[2] if cap[2] else (None, {})
        if session is not None:
            print("  capOS: memory per SSH session (free frames before/after one more session): %d KiB"
                  % (session // 1024))
        else:
            print("  capOS: memory per SSH session: not read (sessprobe's stats did not answer)")
        for n, pages in mapped.items():
            if pages is not None:
                print("  capOS: %s: %d KiB of user pages mapped (the kernel's table; DMA pages apart)" % (n, pages * 4))
        if icount:
            print_instructions(*icount)
        if lin_icount:
            up, down = lin_icount["up"], lin_icount["down"]
            print("  Linux twin, same flags, %d MiB each way (busy virtual time from /proc/uptime, 10 ms grain):"
                  % (BULK >> 20))
            print("  %-44s %14s %14s" % ("frames received / sent", "%d/%d" % up[1:], "%d/%d" % down[1:]))
            print("  %-44s %14s %14s" % ("instructions, per frame received / sent",
                                         "%.0f" % (up[0] / up[1]) if up[1] else "-",
                                         "%.0f" % (down[0] / down[2]) if down[2] else "-"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
