#!/usr/bin/python3
"""test-net-guest: the guest's network over a TAP device, not QEMU's user
network. The test makes a network namespace (root: netns and TAP), a TAP
device there (10.77.0.1/24 on the host side) and dnsmasq as its DHCP
server, and runs QEMU inside it with -netdev tap (script=no): nothing leaves
the namespace. From the namespace: the stack's DHCP lease (gateway from the
router option), ping, 64 MiB each way byte-exact through the guest's echo
service, 100 connections at once, half-close, RST both ways, then the
hostile-frame table of the lib/net TAP suite (tests/net/tap/driver.py)
replayed at the guest: every frame shows in the stack's counters (read over
netinfo's NetworkInfo) and the stack keeps serving."""
import hashlib
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "net", "tap"))

TAP = "cgtap0"
HOST_IP = "10.77.0.1"
GUEST_IP = "10.77.0.2"
DNS_IP = "10.77.0.53"             # named by the lease only: nothing answers there
GUEST_MAC = "52:54:00:12:34:56"
MIB = 1 << 20
NS_ENV = "CAPOS_NET_GUEST_NS"


def outside():
    """Make the namespace, run this script inside it, remove it with every process in it."""
    if os.geteuid() != 0:
        os.execvp("sudo", ["sudo", "-n", sys.executable] + sys.argv)
    ns = "capos-guest-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        env = dict(os.environ, **{NS_ENV: ns})
        rc = subprocess.call(["ip", "netns", "exec", ns, sys.executable] + sys.argv, env=env)
    finally:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        for sig in ("-TERM", "-KILL"):
            if pids:
                subprocess.run(["kill", sig] + pids, capture_output=True)
                time.sleep(0.3)
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        subprocess.run(["ip", "netns", "del", ns])
    sys.exit(rc)


def sh(cmd, check=True, timeout=60):
    r = subprocess.run(cmd, shell=True, capture_output=True, timeout=timeout)
    if check and r.returncode:
        raise AssertionError("%s: %s" % (cmd, r.stderr.decode(errors="replace")))
    return r


def stats(names=()):
    """The stack's NetCounters, config, connection states and the named lib/net counters (netinfo, port 8)."""
    s = socket.create_connection((GUEST_IP, 8), timeout=20)
    s.sendall((" ".join(names) + "\n").encode())
    buf = b""
    while not buf.endswith(b"end\n"):
        b = s.recv(4096)
        if not b:
            break
        buf += b
    s.close()
    out = {}
    for line in buf.decode().split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = int(v)
    for k in list(out):
        if k.startswith("state_"):
            out[k[6:]] = out[k]
    return out


def echo(data, timeout=300):
    s = socket.create_connection((GUEST_IP, 7), timeout=timeout)
    got = []

    def reader():
        while True:
            b = s.recv(1 << 16)
            if not b:
                return
            got.append(b)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout)
    s.close()
    return b"".join(got)


def concurrent(n, size):
    sel = selectors.DefaultSelector()
    conns = []
    # All n handshakes start at once (a burst of SYNs past the half-open
    # bound, so some complete through SYN cookies or early-expired entries),
    # and every connection is established before any data moves.
    pending = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((GUEST_IP, 7))
        pending.append(s)
    wsel = selectors.DefaultSelector()
    for s in pending:
        wsel.register(s, selectors.EVENT_WRITE)
    end = time.time() + 60
    while wsel.get_map() and time.time() < end:
        for key, _ in wsel.select(timeout=1):
            wsel.unregister(key.fileobj)
    for i, s in enumerate(pending):
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            raise AssertionError(f"connection {i} of the burst failed: {os.strerror(err)}")
        data = (("conn %03d " % i) * (size // 9 + 1)).encode()[:size]
        c = {"s": s, "out": data, "sent": 0, "got": bytearray(), "shut": False}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    left = n
    end = time.time() + 120
    while left and time.time() < end:
        for key, ev in sel.select(timeout=1):
            c = key.data
            s = c["s"]
            if ev & selectors.EVENT_WRITE and not c["shut"]:
                try:
                    c["sent"] += s.send(c["out"][c["sent"]:])
                except (BlockingIOError, ConnectionError):
                    pass
                if c["sent"] == len(c["out"]):
                    s.shutdown(socket.SHUT_WR)
                    c["shut"] = True
                    sel.modify(s, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(1 << 16)
                except BlockingIOError:
                    continue
                except ConnectionError as e:
                    c["err"] = repr(e)
                    b = b""
                if not b:
                    sel.unregister(s)
                    s.close()
                    left -= 1
                else:
                    c["got"] += b
    bad = [(i, len(c["got"]), c.get("err")) for i, c in enumerate(conns) if bytes(c["got"]) != c["out"]]
    return left, bad


def inside():
    from capos_qemu import Checks, Guest, ROOT, boot_package, scratch  # noqa: E402
    c = Checks("net-guest")
    tmp = scratch("capos-netguest-")
    sh("ip link set lo up")
    sh("ip tuntap add dev %s mode tap" % TAP)
    sh("ip addr add %s/24 dev %s && ip link set %s up" % (HOST_IP, TAP, TAP))
    leases = os.path.join(tmp, "leases")
    dns = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                            "--interface=" + TAP, "--bind-interfaces", "--no-resolv", "--no-hosts",
                            "--dhcp-range=%s,%s,255.255.255.0,10m" % (GUEST_IP, GUEST_IP),
                            "--dhcp-option=3," + HOST_IP, "--dhcp-option=6," + DNS_IP,
                            "--dhcp-leasefile=" + leases,
                            "--pid-file=" + os.path.join(tmp, "dnsmasq.pid")],
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "dnsmasq.log"), "w"))
    pkg = boot_package(os.path.join(ROOT, "tests/net-guest/net-guest.manifest"), tmp)
    g = Guest(pkg=pkg, extra=["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % TAP,
                              "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"])
    try:
        m = g.wait_for(r"^netstack: dhcp lease (\S+) mask (\S+) gw (\S+) for (\d+) s$", 90)
        c.check("DHCP from dnsmasq over the TAP: the address, the mask and the router option's gateway",
                m.groups()[:3] == (GUEST_IP, "255.255.255.0", HOST_IP), m.group(0))
        c.check("dnsmasq recorded the lease", GUEST_IP in open(leases).read())
        g.wait_for(r"^tcpecho: listening on port 7$", 60)
        g.wait_for(r"^netinfo: listening on port 8$", 60)
        sh("ip neigh flush dev %s" % TAP)      # dnsmasq's probe before the offer left a failed entry

        r = sh("ping -c 3 -W 5 -i 0.3 %s" % GUEST_IP, check=False, timeout=60)
        c.check("ping from the namespace is answered (3 of 3)", r.returncode == 0 and b" 0% packet loss" in r.stdout,
                r.stdout.decode(errors="replace")[-300:])

        data = os.urandom((1 if os.environ.get("NETGUEST_QUICK") else 64) * MIB)
        t0 = time.monotonic()
        back = echo(data)
        print("  (%d MiB each way in %.1f s; informative only)" % (len(data) // MIB, time.monotonic() - t0))
        c.check("64 MiB to the guest's echo service and 64 MiB back, byte-exact (SHA-256)",
                len(back) == len(data) and hashlib.sha256(back).digest() == hashlib.sha256(data).digest(),
                "%d bytes" % len(back))
        g.wait_for(r"^tcpecho: connection closed, %d bytes echoed$" % len(data), 60)
        del data, back

        left, bad = concurrent(100, 10000)
        c.check("100 connections opened in one burst, each 10000 bytes echoed byte-exact", left == 0 and not bad,
                "%d unfinished, %d wrong: %s; %s" % (left, len(bad), bad[:3], {k: v for k, v in stats(["drop_tcp_syncookie_bad", "drop_tcp_no_tcb", "drop_tcp_pool_full", "tcp_syncookie_sent", "tcp_syncookie_ok", "drop_tcp_listen_overflow"]).items() if "_" in k and not k.startswith("state_")}))

        # half-close: our FIN first, the guest keeps sending after it, then its
        # own FIN. The echo is read while we send (a reader thread): 300000
        # bytes are more than both ends' buffers, so a sender that only read
        # afterwards would depend on how far the host's buffers had grown.
        s = socket.create_connection((GUEST_IP, 7), timeout=30)
        payload = os.urandom(300000)
        chunks, after_fin = [], []
        fin_sent = threading.Event()

        def reader():
            while True:
                b = s.recv(1 << 16)
                if not b:
                    return
                (after_fin if fin_sent.is_set() else chunks).append(b)
        rt = threading.Thread(target=reader)
        rt.start()
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        fin_sent.set()
        rt.join(60)
        got = b"".join(chunks + after_fin)
        s.close()
        c.check("half-close: our side shut for writing (our FIN behind the last byte), the guest still echoes all "
                "300000 bytes, then sends its FIN", got == payload and not rt.is_alive(),
                "%d bytes (%d read after our FIN), reader %s" % (len(got), sum(map(len, after_fin)),
                                                                "stuck" if rt.is_alive() else "done"))

        # RST: a port nobody listens on is refused; our RST ends a connection the guest serves
        s = socket.socket()
        s.settimeout(10)
        try:
            s.connect((GUEST_IP, 9))
            refused = False
        except ConnectionRefusedError:
            refused = True
        s.close()
        c.check("a SYN to a closed port is answered with RST (connection refused)", refused)
        before = stats()
        c.check("the lease's DNS server option is kept and shown in the stack's config",
                before.get("dns") == int.from_bytes(socket.inet_aton(DNS_IP), "big"), str(before.get("dns")))
        s = socket.create_connection((GUEST_IP, 7), timeout=10)
        s.sendall(b"x" * 1000)
        got = b""
        while len(got) < 1000:
            got += s.recv(4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()                                  # RST
        g.wait_for(r"^tcpecho: connection closed, 1000 bytes echoed$", 30)
        after = stats()
        c.check("our RST is taken (tcpRstRx counts it) and the echo server goes on",
                after["tcpRstRx"] > before["tcpRstRx"], "%s -> %s" % (before.get("tcpRstRx"), after.get("tcpRstRx")))
        c.check("after the RST a new connection echoes", echo(b"after the reset\n", 30) == b"after the reset\n")

        # The lib/net hostile-frame table, replayed at the guest.
        import driver
        driver.TAP, driver.STACK_IP, driver.STACK_MAC, driver.LINUX_IP = TAP, GUEST_IP, GUEST_MAC, HOST_IP
        names = ["drop_ip_checksum", "drop_tcp_checksum", "drop_ip_short", "drop_ip_len", "drop_ip_hdrlen",
                 "drop_tcp_hdrlen", "drop_tcp_short", "drop_tcp_flags", "tcp_options_malformed", "drop_udp_len",
                 "drop_udp_checksum", "drop_icmp_checksum", "drop_arp_malformed", "drop_ip_martian",
                 "drop_tcp_rst_out_of_window", "drop_tcp_out_of_window", "drop_frag_too_big", "tcp_syncookie_sent"]

        class Stack:
            def stats(self):
                for attempt in range(3):
                    try:
                        return stats(names)
                    except OSError:
                        time.sleep(1)
                return stats(names)

            def alive(self):
                return g.proc.poll() is None and "netstack: exit" not in g.text()
        d0 = stats(names)
        driver.hostile_input(Stack(), tmp, False)
        d1 = stats(names)
        ok = driver.results and driver.results[-1] == ("hostile_input", True)
        c.check("every hostile frame of the lib/net table shows in the stack's counters, the SYN flood is "
                "bounded with SYN cookies, a live connection and new ones keep working", ok)
        c.check("NetCounters.drops counts the drops (%d more)" % (d1["drops"] - d0["drops"]),
                d1["drops"] - d0["drops"] >= 19)
        c.check("the stack serves after the hostile frames", echo(b"still serving\n", 30) == b"still serving\n")
        log = g.text()
        c.check("the driver never reported a broken device and nothing crashed",
                "device broken" not in log and "fault" not in log.lower().replace("default", ""), log[-1500:])
    finally:
        g.kill()
        dns.terminate()
    c.done(g.text())


if __name__ == "__main__":
    if os.environ.get(NS_ENV):
        inside()
    else:
        outside()
