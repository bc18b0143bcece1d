"""The Linux baseline guest on QEMU's user network, for the benchmarks that
set a capOS network service against a Linux one (bench/ssh-guest,
bench/capnp-rpc): the NIC both guests get, the virtio-net modules
(bench/fetch-virtio-net.sh) and the /init lines that load them and
configure eth0 as QEMU's user network expects, the cpio entries of a
dynamically linked program's shared libraries, the boot and a wait on the
guest's serial."""
import os
import re
import select
import subprocess
import time

from run import CACHE

# virtio-net, modern only: the device capOS's driver speaks
NIC = ["-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]
MODULES = ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
           "failover", "net_failover", "virtio_net"]
# /init's lines (busybox sh: insmod, ifconfig, route) that bring eth0 up
NET_SETUP = """for m in %s; do insmod /modules/$m.ko; done
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up
route add default gw 10.0.2.2
""" % " ".join(MODULES)
DIR, FILE, EXEC = 0o40755, 0o100644, 0o100755


def module_entries():
    """(name, mode, data) of /modules and the modules NET_SETUP loads."""
    e = [("modules", DIR, b"")]
    for m in MODULES:
        with open(os.path.join(CACHE, "modules", m + ".ko"), "rb") as f:
            e.append(("modules/%s.ko" % m, FILE, f.read()))
    return e


def shared_lib_entries(binary):
    """(name, mode, data) of the shared libraries of a dynamically linked
    program, as ldd on the host names them, each folder before its files."""
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    e, dirs = [], set()
    for lib in re.findall(r"(/\S+) \(0x", ldd):
        parts = lib.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                e.append((d, DIR, b""))
        with open(os.path.realpath(lib), "rb") as f:
            e.append(("/".join(parts), EXEC, f.read()))
    return e


def linux_guest(initrd, netdev, extra=()):
    """Boot the baseline kernel with initrd and the NIC on `netdev` (a
    -netdev user,id=n0,... value); the serial on the process's stdout."""
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256", "-smp", "1",
           "-display", "none", "-serial", "stdio", "-no-reboot",
           "-kernel", os.path.join(CACHE, "vmlinux"), "-initrd", initrd,
           "-append", "console=ttyS0 quiet panic=-1 rdinit=/init",
           "-netdev", netdev, *NIC, *extra]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_serial(p, pattern, timeout):
    """Read p's serial until pattern (bytes regex) appears; what was read."""
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 1)
        if r:
            c = os.read(p.stdout.fileno(), 65536)
            if not c:
                break
            out += c
            if re.search(pattern, out):
                return out
    raise RuntimeError("no %r on the Linux guest's serial: %r" % (pattern, out[-1500:]))
