#!/usr/bin/python3
"""test-virtio-net: the virtio-net driver (user/virtio-net) under the network
stack, on QEMU's user network (restrict=on, so nothing leaves this machine).
The stack takes a DHCP lease through the driver; an echo server holding only
a TcpListenAuthority for port 7 is reached from the host through a hostfwd
on 127.0.0.1, and 1 MiB goes there and back byte-exact. The kernel's own
cap tables show the driver holding only its three device caps, its console
and the endpoint it serves, and the echo server only its authority, the
listener it made with it and its console."""
import hashlib
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT, boot_forwarded, boot_package, scratch  # noqa: E402

MIB = 1 << 20


def authority(log, name):
    m = re.search(rf"^AUTHORITY {re.escape(name)} held=(\d+):(.*)$", log, re.M)
    return (int(m.group(1)), sorted(m.group(2).split())) if m else (None, None)


def echo_roundtrip(port, data):
    """Send data to the echo server and read it all back; returns what came back."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    got = []

    def reader():
        while True:
            b = s.recv(65536)
            if not b:
                return
            got.append(b)
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(180)
    s.close()
    return b"".join(got)


def main():
    c = Checks("virtio-net")
    pkg = boot_package(os.path.join(ROOT, "tests/virtio-net/virtio-net.manifest"), scratch("capos-vnet-"))
    g, fwd = boot_forwarded([7], r"^virtio-net: (up, .*|.*failed.*|no .*|device broken.*|the device .*)$", pkg=pkg)
    port = fwd[7]
    try:
        up = re.search(r"^virtio-net: up, mac ([0-9a-f:]{17}), link (\w+)", g.text(), re.M)
        c.check("the driver brings the device up (modern virtio, MAC from the device, link up)",
                bool(up) and up.group(1) == "52:54:00:12:34:56" and up.group(2) == "up", g.text()[-2000:])
        m = g.wait_for(r"^netstack: dhcp lease (\S+) mask (\S+) gw (\S+) for (\d+) s$", 60)
        c.check("the stack takes a DHCP lease through the driver (QEMU's user network: 10.0.2.15/24)",
                m.group(1) == "10.0.2.15" and m.group(2) == "255.255.255.0", m.group(0))
        g.wait_for(r"^tcpecho: listening on port 7$", 60)
        g.wait_for(r"^AUDIT done$", 60)

        small = b"hello over virtio-net\n"
        back = echo_roundtrip(port, small)
        c.check("a short message comes back byte-exact", back == small, repr(back[:80]))

        data = bytes((i * 2654435761 >> 13) & 0xff for i in range(MIB))
        t0 = time.monotonic()
        back = echo_roundtrip(port, data)
        print(f"  (1 MiB echoed in {time.monotonic() - t0:.2f} s; informative only)")
        c.check("1 MiB through the hostfwd comes back byte-exact (SHA-256)",
                len(back) == MIB and hashlib.sha256(back).digest() == hashlib.sha256(data).digest(),
                f"{len(back)} bytes")
        g.wait_for(r"^tcpecho: connection closed, 1048576 bytes echoed$", 60)
        c.check("the echo server saw the whole stream and its end", True)

        log = g.text()
        held, ifs = authority(log, "virtio-net")
        c.check("the driver holds only its three device caps, its console and the Nic endpoint it serves",
                held == 5 and ifs == sorted(["DeviceMmio", "DMAPool", "Interrupt", "Console", "Endpoint"]),
                f"{held} {ifs}")
        # two processes run tcpecho: the server and the auditor (KernelStats, Timer, Console)
        echoes = sorted((int(h), " ".join(sorted(i.split())))
                        for h, i in re.findall(r"^AUTHORITY tcpecho held=(\d+):(.*)$", log, re.M))
        c.check("the echo server holds only its TcpListenAuthority (and the listener made with it) and its console",
                echoes == [(3, "Console KernelStats Timer"), (3, "Console TcpListenAuthority TcpListener")], str(echoes))
        others = [line for line in re.findall(r"^AUTHORITY (\S+) held=\d+:(.*)$", log, re.M)
                  if line[0] != "virtio-net" and re.search(r"\b(DeviceMmio|DMAPool|Interrupt|DeviceManager)\b", line[1])]
        c.check("no other process holds a device cap but init's DeviceManager",
                all(n == "init" and "DeviceMmio" not in i for n, i in others), str(others))
        c.check("the driver never reported a broken device", "device broken" not in log)
    finally:
        g.kill()
    c.done(g.text())


if __name__ == "__main__":
    main()
