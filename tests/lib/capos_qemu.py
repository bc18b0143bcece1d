"""Helpers for host harnesses that boot capOS in QEMU and read its serial log."""
import os
import re
import select
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def abi_errors():
    """Name -> value of every CAP_ERR_* in the kernel ABI header."""
    errs = {}
    with open(os.path.join(ROOT, "abi/capos/abi.h")) as f:
        for m in re.finditer(r"#define\s+(CAP_ERR_\w+)\s+\((-?\d+)\)", f.read()):
            errs[m.group(1)] = int(m.group(2))
    return errs


class Guest:
    """A running capOS guest with its serial console on pipes."""

    def __init__(self, boot_args="", mem=None, extra=(), pkg=None):
        env = dict(os.environ)
        if mem:
            env["CAPOS_MEM"] = str(mem)
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
        while True:
            m = rx.search(self.text(), since)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self._read(min(left, 0.5)) is None:
                m = rx.search(self.text(), since)
                if m:
                    return m
                raise AssertionError(f"timed out waiting for {pattern!r}; output so far:\n{self.text()}")

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


def boot_package(manifest, out_dir):
    """A boot package of every program of build/user with `manifest` (a text
    manifest) compiled in; returns its path."""
    build = os.path.join(ROOT, "build")
    mbin, pkg = os.path.join(out_dir, "manifest.bin"), os.path.join(out_dir, "boot.pkg")
    subprocess.run([os.path.join(build, "mkmanifest/mkmanifest"), manifest, mbin], check=True)
    progs = sorted(os.listdir(os.path.join(build, "user")))
    subprocess.run([os.path.join(build, "tools/mkpkg"), pkg, "manifest=" + mbin] +
                   [f"{p}={os.path.join(build, 'user', p)}" for p in progs], check=True)
    return pkg


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
