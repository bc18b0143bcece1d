#!/usr/bin/python3
"""make bench: host/ssh-devserver (lib/ssh) against OpenSSH's sshd.

Both servers run on loopback in the same run with an equivalent
configuration (curve25519-sha256, ssh-ed25519 host key and user key,
chacha20-poly1305@openssh.com, publickey only, no forwarding) and are driven
by the same /usr/bin/ssh client:

  set-up:     spawn `ssh -T`, time until the shell answers `echo READY`
              (TCP connect, KEX, auth, session, shell start, one round trip);
              median of N runs, the two servers alternating.
  throughput: 256 MiB server -> client through the session channel
              (ours: the demo shell's `blast`; sshd: `head -c N /dev/zero`),
              timed from the command to the last byte; best of 3.

Reports figures, never fails on them.  usage: bench.py BUILD_DIR [RUNS]
"""
import getpass
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 21
SERVER = os.path.join(BUILD, "host/ssh-devserver/ssh-devserver")
BULK = 256 * 1024 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Client:
    def __init__(self, args):
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, bufsize=0)
        self.fd = self.p.stdout.fileno()
        self.buf = b""

    def send(self, b):
        self.p.stdin.write(b)

    def wait_for(self, pat, timeout=30):
        deadline = time.time() + timeout
        while pat not in self.buf:
            r, _, _ = select.select([self.fd], [], [], max(0, deadline - time.time()))
            if not r:
                return False
            c = os.read(self.fd, 65536)
            if not c:
                return False
            self.buf += c
        return True

    def count(self, n, timeout=300):
        got = len(self.buf)
        self.buf = b""
        deadline = time.time() + timeout
        while got < n and time.time() < deadline:
            c = os.read(self.fd, 1 << 20)
            if not c:
                break
            got += len(c)
        return got

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="capos-ssh-bench-")
    procs = []
    try:
        hk, uk = os.path.join(tmp, "host_key"), os.path.join(tmp, "user_key")
        for k in (hk, uk):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
        ak = os.path.join(tmp, "authorized_keys")
        shutil.copy(uk + ".pub", ak)
        os.chmod(tmp, 0o755)
        ours_port, sshd_port = free_port(), free_port()
        procs.append(subprocess.Popen([SERVER, "-p", str(ours_port), "-k", hk, "-a", ak,
                                       "-l", os.path.join(tmp, "devserver.log")]))
        cfg = os.path.join(tmp, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "Port %d" % sshd_port, "ListenAddress 127.0.0.1", "HostKey " + hk,
                "AuthorizedKeysFile " + ak, "StrictModes no", "UsePAM no",
                "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password", "KexAlgorithms curve25519-sha256",
                "HostKeyAlgorithms ssh-ed25519", "PubkeyAcceptedAlgorithms ssh-ed25519",
                "Ciphers chacha20-poly1305@openssh.com", "Compression no",
                "AllowTcpForwarding no", "AllowAgentForwarding no", "X11Forwarding no",
                "PermitUserEnvironment no", "UseDNS no", "PrintMotd no", "PrintLastLog no",
                "PidFile none", "MaxStartups 100", ""]))
        sshd_ok = os.geteuid() == 0 and os.path.exists("/usr/sbin/sshd")
        if sshd_ok:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
            procs.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                                          stderr=open(os.path.join(tmp, "sshd.log"), "w")))
        if not wait_port(ours_port):
            print("ssh bench: dev server did not start")
            return 0
        if sshd_ok and not wait_port(sshd_port):
            print("ssh bench: sshd did not start; see its log:")
            print(open(os.path.join(tmp, "sshd.log")).read()[-2000:])
            sshd_ok = False

        kh = os.path.join(tmp, "known_hosts")
        pub = open(hk + ".pub").read().split()
        with open(kh, "w") as f:
            for p in (ours_port, sshd_port):
                f.write("[127.0.0.1]:%d %s %s\n" % (p, pub[0], pub[1]))
        user = getpass.getuser()

        def client(port):
            return ["/usr/bin/ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                    "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                    "-o", "KexAlgorithms=curve25519-sha256", "-o", "Ciphers=chacha20-poly1305@openssh.com",
                    "-o", "HostKeyAlgorithms=ssh-ed25519", "-o", "Compression=no",
                    "-i", uk, "-p", str(port), "-T", user + "@127.0.0.1"]

        def setup_once(port):
            c = Client(client(port))
            c.send(b"echo READY\n")
            ok = c.wait_for(b"READY")
            dt = time.perf_counter() - c.t0
            c.send(b"exit\n")
            c.close()
            return dt if ok else None

        def bulk_once(port, ours):
            c = Client(client(port))
            c.send(b"echo READY\n")
            if not c.wait_for(b"READY"):
                c.close()
                return None
            c.buf = c.buf[c.buf.index(b"READY") + 6:]
            t = time.perf_counter()
            c.send(b"blast %d\n" % BULK if ours else b"head -c %d /dev/zero\n" % BULK)
            got = c.count(BULK)
            dt = time.perf_counter() - t
            c.send(b"exit\n")
            c.close()
            return BULK / dt / 1e6 if got >= BULK else None

        servers = [("capOS lib/ssh", ours_port, True)] + ([("OpenSSH sshd", sshd_port, False)] if sshd_ok else [])
        for _, port, _ in servers:          # warm-up
            setup_once(port)
        setup = {name: [] for name, _, _ in servers}
        for _ in range(RUNS):
            for name, port, _ in servers:
                dt = setup_once(port)
                if dt is not None:
                    setup[name].append(dt * 1000)
        thr = {name: [] for name, _, _ in servers}
        for _ in range(3):
            for name, port, ours in servers:
                v = bulk_once(port, ours)
                if v is not None:
                    thr[name].append(v)

        ver = subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE, text=True).stderr.strip()
        print("ssh bench: loopback, client %s; curve25519-sha256, ssh-ed25519, chacha20-poly1305" % ver)
        med = {n: statistics.median(v) if v else None for n, v in setup.items()}
        best = {n: max(v) if v else None for n, v in thr.items()}
        for name, _, _ in servers:
            s = "%.1f ms" % med[name] if med[name] else "n/a"
            t = "%.0f MB/s" % best[name] if best[name] else "n/a"
            print("  %-14s set-up to first shell answer (median of %d): %-10s  256 MiB download: %s"
                  % (name, len(setup[name]), s, t))
        if sshd_ok and med["capOS lib/ssh"] and med["OpenSSH sshd"]:
            print("  set-up ratio sshd/capOS: %.2fx (>1: capOS faster)" % (med["OpenSSH sshd"] / med["capOS lib/ssh"]))
        if sshd_ok and best["capOS lib/ssh"] and best["OpenSSH sshd"]:
            print("  throughput ratio capOS/sshd: %.2fx (>=1: capOS at least as fast)"
                  % (best["capOS lib/ssh"] / best["OpenSSH sshd"]))
        if not sshd_ok:
            print("  (sshd comparison skipped: needs root and /usr/sbin/sshd)")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
