"""Helpers for host harnesses that boot capOS in QEMU and read its serial log."""
import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    """A TCP port of 127.0.0.1 that was free a moment ago (a caller that
    loses the race to another program tries again)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def abi_errors():
    """Name -> value of every CAP_ERR_* in the kernel ABI header."""
    errs = {}
    with open(os.path.join(ROOT, "abi/capos/abi.h")) as f:
        for m in re.finditer(r"#define\s+(CAP_ERR_\w+)\s+\((-?\d+)\)", f.read()):
            errs[m.group(1)] = int(m.group(2))
    return errs


# The default system's echo service, and the test-only sessprobe in its
# place (`echo stats` and `echo caps NAME` read the kernel's counters and
# cap tables, and the session manager's table, from a shell): pass
# SESSPROBE_SWAP as boot_package's replace.
ECHO_SERVICE = """service echo binary=echo session=anon restart=on-failure:3 disclose=principal,profile
    grant log = logger.log
    grant timer = kernel.timer
    export echo interface=Echo
    args hello from the manifest
"""
SESSPROBE_SERVICE = """service sessprobe binary=sessprobe session=system restart=never
    grant console = kernel.console
    grant timer = kernel.timer
    grant stats = kernel.stats
    grant manager = sessionmgr.manager
    export echo interface=Echo
"""
SESSPROBE_SWAP = [(ECHO_SERVICE, SESSPROBE_SERVICE), ("    grant echo = echo.echo\n", "    grant echo = sessprobe.echo\n")]


class Guest:
    """A running capOS guest with its serial console on pipes."""

    def __init__(self, boot_args="", mem=None, extra=(), pkg=None, env=None, smp=None):
        """env: the environment of scripts/qemu (default: this process's);
        smp: virtual CPUs, by default CAPOS_SMP from that environment
        (scripts/qemu: 2 when unset)."""
        env = dict(env or os.environ)
        if mem:
            env["CAPOS_MEM"] = str(mem)
        if smp:
            env["CAPOS_SMP"] = str(smp)
        cmd = [os.path.join(ROOT, "scripts/qemu"), os.path.join(ROOT, "build/kernel.bin"),
               pkg or os.path.join(ROOT, "build/boot.pkg"), boot_args, "--", *extra]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self.out = b""
        self.started = time.monotonic()

    def text(self):
        return self.out.decode("utf-8", "replace").replace("\r\n", "\n")

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            return None
        self.out += chunk
        return True

    def wait_for(self, pattern, timeout=30, since=0):
        """Wait until the output (from offset `since` of text()) matches
        pattern (a regex); return the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        # A pattern that ends in `$` matches only a whole line: never at the
        # end of what has arrived so far ("exited with -1" of "-1000").
        whole_line = pattern.endswith("$")

        def search():
            text = self.text()
            m = rx.search(text, since)
            return m if m and not (whole_line and m.end() == len(text)) else None
        while True:
            m = search()
            if m:
                return m
            left = deadline - time.monotonic()
            got = None if left <= 0 else self._read(min(left, 0.5))
            if got is None:                  # timed out, or the guest is gone
                m = rx.search(self.text(), since) if left > 0 else search()
                if m:
                    return m
                raise AssertionError(f"timed out waiting for {pattern!r}; output so far:\n{self.text()}")

    def answer(self, typed, prompt, timeout=20):
        """Send TYPED and wait for PROMPT (a regex) in what the console
        prints after it. Not anchored at the console's last bytes: in a full
        system another service may log a line right after a prompt."""
        mark = len(self.text())
        self.send(typed)
        return self.wait_for(prompt, timeout, since=mark)

    def send(self, data):
        self.proc.stdin.write(data.encode() if isinstance(data, str) else data)
        self.proc.stdin.flush()

    def wait_exit(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"guest did not exit; output:\n{self.text()}")
            self._read(0.2)
        while self._read(0):
            pass
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_network_env():
    """The environment of scripts/qemu's `make run` network (CAPOS_NET=user)
    with every forwarded port picked free here rather than left to its
    defaults, so that guests started at the same time never race for 8080,
    2222, 2327 or 8443."""
    env = dict(os.environ, CAPOS_NET="user")
    for k in ("CAPOS_HTTP_PORT", "CAPOS_SSH_PORT", "CAPOS_REMOTE_PORT", "CAPOS_WEB_PORT"):
        env[k] = str(free_port())
    return env


def boot_forwarded(guest_ports, ready, timeout=60, pkg=None, mem=None, boot_args=""):
    """Boots a guest whose virtio-net NIC is on QEMU's user network
    (restricted: no way out) with a free port of 127.0.0.1 forwarded to each
    of GUEST_PORTS, and waits for READY (a regex on the console). A port
    another program took between the probe and QEMU's bind makes QEMU exit
    at once: then it tries again with other ports. Returns the guest and
    {guest port: host port}."""
    for attempt in range(5):
        ports = {gp: free_port() for gp in guest_ports}
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{hp}-:{gp}" for gp, hp in ports.items())
        g = Guest(boot_args, mem=mem, pkg=pkg, extra=["-netdev", "user,id=n0,restrict=on" + fwd,
                                                      "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"])
        try:
            g.wait_for(ready, timeout)
            return g, ports
        except AssertionError:
            g.kill()
            if "Could not set up host forwarding" in g.text() and attempt < 4:
                continue
            raise


PROOF_MANIFEST = os.path.join(ROOT, "tests/guest/proof.manifest")


def test_programs():
    """name -> path of every program a test image may hold: the product's
    (build/user) and the test programs (build/guest)."""
    build = os.path.join(ROOT, "build")
    progs = {}
    for d in ("user", "guest"):
        for p in sorted(os.listdir(os.path.join(build, d))):
            progs[p] = os.path.join(build, d, p)
    return progs


def boot_package(manifest, out_dir, args=None, replace=()):
    """A test image: every program of build/user and build/guest with
    `manifest` (a text manifest; @ARGS@ in it becomes `args`, and each
    (old, new) of `replace` is applied) compiled in; returns its path."""
    build = os.path.join(ROOT, "build")
    text = open(manifest).read()
    if args is not None:
        text = text.replace("@ARGS@", args)
    for old, new in replace:
        assert old in text, f"{old!r} is not in {manifest}"
        text = text.replace(old, new)
    src = os.path.join(out_dir, "manifest.txt")
    with open(src, "w") as f:
        f.write(text)
    mbin, pkg = os.path.join(out_dir, "manifest.bin"), os.path.join(out_dir, "boot.pkg")
    subprocess.run([os.path.join(build, "mkmanifest/mkmanifest"), src, mbin], check=True)
    subprocess.run([os.path.join(build, "tools/mkpkg"), pkg, "manifest=" + mbin] +
                   [f"{p}={path}" for p, path in test_programs().items()], check=True)
    return pkg


_scratch_dirs = []


def _scratch_cleanup():
    for d in _scratch_dirs:
        shutil.rmtree(d, ignore_errors=True)


def scratch(prefix="capos-"):
    """A temporary directory removed when this test process ends (normally,
    by an exception or by SIGTERM): a boot package is tens of MiB, and a
    suite that leaves each one behind fills the disk."""
    d = tempfile.mkdtemp(prefix=prefix)
    if not _scratch_dirs:
        atexit.register(_scratch_cleanup)
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _scratch_dirs.append(d)
    return d


def proof_package(args, manifest=PROOF_MANIFEST):
    """A test image whose manifest starts the proof program in mode `args`."""
    return boot_package(manifest, scratch("capos-proof-"), args)


def run_proof(args, timeout=120, manifest=PROOF_MANIFEST, **kw):
    """Boot a test image running the proof program in mode `args` (it powers
    the guest off); return (QEMU exit status, output)."""
    return run_guest("", timeout=timeout, pkg=proof_package(args, manifest), **kw)


def run_guest(boot_args="", timeout=120, **kw):
    """Boot a guest that powers itself off; return (QEMU exit status, output)."""
    g = Guest(boot_args, **kw)
    try:
        status = g.wait_exit(timeout=timeout)
    finally:
        g.kill()
    return status, g.text()


class Checks:
    """Collects named pass/fail checks and reports them like a test runner."""

    def __init__(self, name):
        self.name = name
        self.failed = []
        self.count = 0

    def check(self, what, ok, detail=""):
        self.count += 1
        print(f"  {'ok  ' if ok else 'FAIL'} {what}" + (f"  ({detail})" if detail and not ok else ""))
        if not ok:
            self.failed.append(what)

    def done(self, log=None):
        if self.failed:
            if log:
                print("---- guest output ----\n" + log + "\n----------------------")
            print(f"{self.name}: {len(self.failed)} of {self.count} checks FAILED")
            raise SystemExit(1)
        print(f"{self.name}: all {self.count} checks passed")
