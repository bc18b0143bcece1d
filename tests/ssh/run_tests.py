#!/usr/bin/python3
"""tests/ssh: drive host/ssh-devserver (lib/ssh over TCP) with real clients.

OpenSSH's /usr/bin/ssh, ssh-keyscan and ssh-keygen, Dropbear's dbclient, and
tests/ssh/hostile (a deliberately misbehaving client) are run against the dev
server on 127.0.0.1; the client-visible result and the server's logged reason
code are both checked.

usage: run_tests.py BUILD_DIR [SERVER_BINARY]
"""
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SERVER = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else os.path.join(BUILD, "host/ssh-devserver/ssh-devserver")
HOSTILE = os.path.join(BUILD, "tests/ssh/hostile")
GRACE = 4  # seconds of login grace time given to the dev server

results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond)))
    print(("ok   " if cond else "FAIL ") + name + ("" if cond or not detail else "  -- " + str(detail)[:600]),
          flush=True)
    return cond


class Log:
    def __init__(self, path):
        self.path = path

    def lines(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def mark(self):
        return len(self.lines())

    def since(self, mark):
        return self.lines()[mark:]

    def wait(self, regex, mark=0, timeout=10.0):
        deadline = time.time() + timeout
        rx = re.compile(regex)
        while True:
            for line in self.since(mark):
                m = rx.search(line)
                if m:
                    return m
            if time.time() > deadline:
                return None
            time.sleep(0.05)

    def conn_of_port(self, port, timeout=5.0):
        m = self.wait(r"conn=(\d+) event=accept peer=127\.0\.0\.1:%d$" % port, 0, timeout)
        return m.group(1) if m else None

    def login_conn(self, mark, timeout=5.0):
        m = self.wait(r"conn=(\d+) event=login", mark, timeout)
        return m.group(1) if m else None


class Interactive:
    """A client process whose stdout we read incrementally."""

    def __init__(self, args, env=None):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env)
        self.buf = b""

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def expect(self, pat, timeout=10.0):
        deadline = time.time() + timeout
        while pat not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return False
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    return pat in self.buf
                self.buf += chunk
        return True

    def finish(self, timeout=10.0):
        try:
            out, err = self.p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            out, err = self.p.communicate()
        self.buf += out
        return self.p.returncode, self.buf, err


def run(args, inp=b"", timeout=30, env=None):
    try:
        p = subprocess.run(args, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return -999, e.stdout or b"", e.stderr or b""


def run_pty(args, script, env=None, timeout=15.0):
    """Run args on a fresh pty; script: [(wait_for, then_send)]. Returns (rc, output)."""
    master, slave = os.openpty()
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    buf = b""
    deadline = time.time() + timeout
    steps = list(script)
    while time.time() < deadline:
        if steps and steps[0][0] in buf:
            os.write(master, steps.pop(0)[1])
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        elif p.poll() is not None and not steps:
            break
    try:
        rc = p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    os.close(master)
    return rc, buf


def blast_bytes(n):
    pat = b"capOS ssh-devserver blast 0123456789 abcdefghijklmnopqrstuvwxyz\n"
    return (pat * (n // len(pat) + 1))[:n]


def main():
    for tool in ("/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/ssh-keyscan", "/usr/bin/dbclient",
                 "/usr/bin/dropbearconvert", "/usr/bin/plink", "/usr/bin/puttygen", SERVER, HOSTILE):
        if not os.path.exists(tool):
            print("missing " + tool + " (run make setup)")
            return 1
    tmp = tempfile.mkdtemp(prefix="capos-ssh-")
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    env = dict(os.environ, HOME=home)
    env.pop("SSH_AUTH_SOCK", None)
    hk, uk, ok = (os.path.join(tmp, n) for n in ("host_key", "user_key", "other_key"))
    for k in (hk, uk, ok):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", os.path.basename(k), "-f", k],
                       check=True)
    ak = os.path.join(tmp, "authorized_keys")
    with open(ak, "w") as f:
        f.write("# test keys\n\n")
        f.write(open(uk + ".pub").read())
    logp = os.path.join(tmp, "server.log")
    portf = os.path.join(tmp, "port")
    errp = os.path.join(tmp, "server.stderr")
    srv = subprocess.Popen([SERVER, "-p", "0", "-P", portf, "-k", hk, "-a", ak, "-l", logp,
                            "-g", str(GRACE), "-r", str(16 * 1024 * 1024)], stderr=open(errp, "w"))
    log = Log(logp)
    try:
        for _ in range(100):
            if os.path.exists(portf) and open(portf).read().strip():
                break
            time.sleep(0.05)
        port = int(open(portf).read())
        hostpub = open(hk + ".pub").read().split()
        kh = os.path.join(tmp, "known_hosts")
        with open(kh, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (port, hostpub[0], hostpub[1]))
        base = ["/usr/bin/ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10", "-p", str(port)]
        ssh = base + ["-i", uk]
        target = "alice@127.0.0.1"
        tests(log, port, ssh, base, target, tmp, env, uk, ok, hostpub)
        check("server alive after all tests (no sanitizer abort)", srv.poll() is None,
              open(errp).read()[-3000:])
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(5)
        except subprocess.TimeoutExpired:
            srv.kill()
        if os.environ.get("KEEP_SSH_TMP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    npass = sum(1 for _, r in results if r)
    nfail = len(results) - npass
    print("tests/ssh: %d passed, %d failed" % (npass, nfail))
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


def tests(log, port, ssh, base, target, tmp, env, uk, ok, hostpub):
    kh = os.path.join(tmp, "known_hosts")
    # --- login, a command, its output, exit status (no pty) ---
    m = log.mark()
    rc, out, err = run(ssh + ["-T", target], b"echo hello-capos\nwhoami\nexit 3\n", env=env)
    check("login+command: output read back", b"hello-capos" in out and b"alice" in out, (rc, out, err))
    check("login+command: exit status 3", rc == 3, (rc, err))
    cid = log.login_conn(mark=m)
    check("login logged", cid is not None)
    check("OpenSSH negotiated strict KEX", log.wait(r"conn=%s event=kex-done count=1 strict=1" % cid, m, 1))
    check("server session closed after client disconnect",
          log.wait(r"conn=%s event=session-closed" % cid, m) and log.wait(r"conn=%s event=closed" % cid, m),
          log.since(m))

    # --- interactive with a pty: typed command echoed, output read back ---
    m = log.mark()
    it = Interactive(ssh + ["-tt", target], env=env)
    got_prompt = it.expect(b"capos$ ")
    it.send(b"echo typed-in-a-pty\r")
    got = it.expect(b"typed-in-a-pty\r\ncapos$ ")
    it.send(b"exit 42\r")
    rc, out, err = it.finish()
    check("pty: prompt, typed command and its output", got_prompt and got, out)
    check("pty: exit status 42", rc == 42, (rc, err))
    check("pty: pty-req logged", log.wait(r"event=pty term=", m, 1))

    # --- client killed mid-session: server side closes ---
    m = log.mark()
    it = Interactive(ssh + ["-tt", target], env=env)
    it.expect(b"capos$ ")
    cid = log.login_conn(mark=m)
    it.p.kill()
    it.p.wait()
    check("client killed mid-session: server connection closed",
          cid and log.wait(r"conn=%s event=closed" % cid, m, 10), log.since(m))

    # --- keepalives are answered (the client gives up after 2 unanswered) ---
    m = log.mark()
    it = Interactive(ssh + ["-T", "-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2", target], env=env)
    it.expect(b"capos$ ")
    time.sleep(4.5)
    it.send(b"echo after-keepalives\nexit 0\n")
    rc, out, err = it.finish()
    nka = len([l for l in log.since(m) if "event=keepalive" in l])
    check("keepalives answered (%d), session kept" % nka, rc == 0 and b"after-keepalives" in out and nka >= 3,
          (rc, err))

    # --- refusals through OpenSSH ---
    m = log.mark()
    rc, out, err = run(ssh + [target, "id"], env=env)
    check("exec refused (client)", rc == 255 and b"exec request failed" in err, (rc, err))
    check("exec refused (reason deny.exec)", log.wait(r"event=denied reason=deny\.exec", m, 5))

    m = log.mark()
    rc, out, err = run(ssh + ["-s", target, "sftp"], env=env)
    check("-s sftp refused (client)", rc == 255 and b"subsystem request failed" in err, (rc, err))
    check("-s sftp refused (reason deny.subsystem sftp)",
          log.wait(r'event=denied reason=deny\.subsystem what="sftp"', m, 5))

    m = log.mark()
    rc, out, err = run(["/usr/bin/sftp", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-i", uk, "-P", str(port),
                        target], b"", env=env)
    check("sftp client refused", rc != 0 and log.wait(r"reason=deny\.subsystem", m, 5), (rc, err))

    # -L: the forward is set up client side; a connection to it is refused by the server
    m = log.mark()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    lport = s.getsockname()[1]
    s.close()
    it = Interactive(ssh + ["-T", "-L", "127.0.0.1:%d:127.0.0.1:9" % lport, target], env=env)
    it.expect(b"capos$ ")
    data = b"?"
    try:
        c = socket.create_connection(("127.0.0.1", lport), timeout=5)
        c.settimeout(5)
        data = c.recv(100)
        c.close()
    except OSError as e:
        data = str(e).encode()
    it.send(b"exit 0\n")
    rc, out, err = it.finish()
    check("-L forward refused (client)", data == b"" and b"open failed: administratively prohibited: deny.direct-tcpip" in err,
          (data, err))
    check("-L forward refused (reason deny.direct-tcpip)", log.wait(r"reason=deny\.direct-tcpip", m, 5))
    check("-L: session went on and exited 0", rc == 0, (rc, err))

    m = log.mark()
    rc, out, err = run(ssh + ["-W", "127.0.0.1:9", target], env=env)
    check("-W stdio forward refused (client)", rc == 255 and b"deny.direct-tcpip" in err, (rc, err))

    m = log.mark()
    rc, out, err = run(ssh + ["-T", "-o", "ExitOnForwardFailure=yes", "-R", "127.0.0.1:0:127.0.0.1:9", target],
                       b"exit 0\n", env=env)
    check("-R forward refused (client)", rc == 255 and b"remote port forwarding failed" in err, (rc, err))
    check("-R forward refused (reason deny.tcpip-forward)", log.wait(r"reason=deny\.tcpip-forward", m, 5))

    # -A: OpenSSH asks with want_reply=0, so the visible effect is that no agent arrives
    m = log.mark()
    agent = subprocess.run(["ssh-agent", "-s"], stdout=subprocess.PIPE, text=True, env=env).stdout
    aenv = dict(env)
    for k, v in re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent):
        aenv[k] = v
    subprocess.run(["ssh-add", "-q", uk], env=aenv, stderr=subprocess.DEVNULL)
    rc, out, err = run(ssh + ["-A", "-v", "-T", target], b"agent\nexit 0\n", env=aenv)
    check("-A refused (client: requested, none forwarded)",
          rc == 0 and b"Requesting authentication agent forwarding" in err and b"no agent is forwarded" in out,
          (rc, out, err[-300:]))
    check("-A refused (reason deny.agent)", log.wait(r"reason=deny\.agent", m, 5))
    subprocess.run(["ssh-agent", "-k"], env=aenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    m = log.mark()
    eenv = dict(env, LC_CAPOS_TEST="secret-value")
    rc, out, err = run(ssh + ["-v", "-o", "SendEnv=LC_CAPOS_TEST", "-T", target], b"env\nexit 0\n", env=eenv)
    check("SendEnv refused (client: sent, nothing forwarded)",
          rc == 0 and b"setting env LC_CAPOS_TEST" in err and b"no environment is forwarded" in out,
          (rc, out, err[-300:]))
    mm = log.wait(r'reason=deny\.env what="([^"]*)"', m, 5)
    check("SendEnv refused (reason deny.env, name only)",
          mm and mm.group(1) == "LC_CAPOS_TEST" and "secret-value" not in "\n".join(log.since(m)))

    # second channel on one connection (OpenSSH multiplexing)
    m = log.mark()
    ctl = os.path.join(tmp, "ctl")
    master = Interactive(ssh + ["-T", "-M", "-S", ctl, "-o", "ControlPersist=no", target], env=env)
    master.expect(b"capos$ ")
    rc, out, err = run(ssh + ["-T", "-S", ctl, "-o", "ControlMaster=no", target], b"exit 0\n", env=env, timeout=15)
    # (the mux client then falls back to a connection of its own, which works)
    check("second channel refused (client)", b"Session open refused by peer" in err, (rc, err))
    check("second channel refused (reason deny.second-session)", log.wait(r"reason=deny\.second-session", m, 5))
    master.send(b"echo master-still-works\nexit 0\n")
    rc, out, err = master.finish()
    check("first channel unaffected", rc == 0 and b"master-still-works" in out, (rc, out, err))

    # --- authentication ---
    m = log.mark()
    rc, out, err = run(base + ["-i", ok, "-T", target], b"exit 0\n", env=env)
    check("unknown key denied (client)", rc == 255 and b"Permission denied (publickey)" in err, (rc, err))
    check("unknown key denied (reason auth.key-unknown)", log.wait(r"reason=auth\.key-unknown", m, 5))
    rc, out, err = run(base + ["-o", "PreferredAuthentications=password,keyboard-interactive",
                               "-o", "PubkeyAuthentication=no", "-T", target], b"", env=env)
    check("password login impossible (client)", rc == 255 and b"Permission denied (publickey)" in err, (rc, err))
    m = log.mark()
    rc, out, err = run([HOSTILE, str(port), "password"])
    check("password attempt denied (raw)", b"auth=failure methods=publickey partial=0" in out, out)
    check("password attempt denied (reason)", log.wait(r"reason=auth\.password-disabled", m, 5))
    m = log.mark()
    rc, out, err = run([HOSTILE, str(port), "kbdint"])
    check("keyboard-interactive denied (raw)", b"auth=failure methods=publickey partial=0" in out, out)
    check("keyboard-interactive denied (reason)", log.wait(r"reason=auth\.kbdint-disabled", m, 5))
    # attempt limit: an agent full of unknown keys
    m = log.mark()
    agent = subprocess.run(["ssh-agent", "-s"], stdout=subprocess.PIPE, text=True, env=env).stdout
    aenv = dict(env)
    for k, v in re.findall(r"(SSH_AUTH_SOCK|SSH_AGENT_PID)=([^;]+);", agent):
        aenv[k] = v
    for i in range(8):
        kp = os.path.join(tmp, "junk%d" % i)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", kp], check=True)
        subprocess.run(["ssh-add", "-q", kp], env=aenv, stderr=subprocess.DEVNULL)
    rc, out, err = run(["/usr/bin/ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                        "-o", "BatchMode=yes", "-p", str(port), "-T", target], b"", env=aenv)
    check("attempt limit: disconnect (client)", rc == 255 and b"auth.too-many-attempts" in err, (rc, err))
    check("attempt limit: reason auth.too-many-attempts", log.wait(r"reason=auth\.too-many-attempts", m, 5))
    subprocess.run(["ssh-agent", "-k"], env=aenv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # --- ssh-keyscan returns exactly the host key ---
    rc, out, err = run(["/usr/bin/ssh-keyscan", "-p", str(port), "127.0.0.1"])
    keys = sorted(set(tuple(l.split()[1:3]) for l in out.decode().splitlines() if l and not l.startswith("#")))
    check("ssh-keyscan: exactly the host key", keys == [(hostpub[0], hostpub[1])], (keys, err))

    # --- re-key during a long transfer, both directions ---
    n = 48 * 1024 * 1024
    m = log.mark()
    rc, out, err = run(ssh + ["-T", "-o", "RekeyLimit=1M", target], b"blast %d\nexit 0\n" % n, env=env, timeout=120)
    want = b"capos$ " + blast_bytes(n) + b"capos$ "
    cid = log.login_conn(m)
    kexes = len([l for l in log.since(m) if "conn=%s event=kex-done" % cid in l])
    check("rekey download: %d MiB intact" % (n >> 20), rc == 0 and out == want,
          (rc, len(out), hashlib.sha256(out).hexdigest(), err[-300:]))
    check("rekey download: re-keyed many times (%d)" % kexes, kexes >= 20, kexes)
    n = 24 * 1024 * 1024
    blob = os.urandom(n)
    m = log.mark()
    rc, out, err = run(ssh + ["-T", "-o", "RekeyLimit=1M", target], b"sink %d\n" % n + blob + b"exit 0\n",
                       env=env, timeout=120)
    cid = log.login_conn(m)
    kexes = len([l for l in log.since(m) if "conn=%s event=kex-done" % cid in l])
    check("rekey upload: %d MiB intact" % (n >> 20),
          rc == 0 and ("sink %d sha256=%s" % (n, hashlib.sha256(blob).hexdigest())).encode() in out,
          (rc, out[-200:], err[-300:]))
    check("rekey upload: re-keyed many times (%d)" % kexes, kexes >= 10, kexes)
    # the second cipher, aes256-gcm@openssh.com (offered where the CPU has AES-NI)
    n = 16 * 1024 * 1024
    m = log.mark()
    rc, out, err = run(ssh + ["-T", "-c", "aes256-gcm@openssh.com", "-o", "RekeyLimit=1M", target],
                       b"blast %d\nexit 0\n" % n, env=env, timeout=120)
    cid = log.login_conn(m)
    kexes = len([l for l in log.since(m) if "conn=%s event=kex-done" % cid in l])
    if b"no matching cipher" in err:
        check("aes256-gcm: not offered (no AES-NI here)", True)
    else:
        check("aes256-gcm: %d MiB intact, re-keyed (%d)" % (n >> 20, kexes),
              rc == 0 and out == b"capos$ " + blast_bytes(n) + b"capos$ " and kexes >= 5,
              (rc, len(out), kexes, err[-300:]))
    # server-initiated re-key (the server runs with -r 16 MiB)
    n = 40 * 1024 * 1024
    m = log.mark()
    rc, out, err = run(ssh + ["-T", target], b"blast %d\nexit 0\n" % n, env=env, timeout=120)
    cid = log.login_conn(m)
    kexes = len([l for l in log.since(m) if "conn=%s event=kex-done" % cid in l])
    check("server-initiated rekey: intact, re-keyed (%d)" % kexes,
          rc == 0 and out == b"capos$ " + blast_bytes(n) + b"capos$ " and kexes >= 3, (rc, len(out), kexes))

    # --- hostile clients over raw TCP, while a good session keeps working ---
    good = Interactive(ssh + ["-tt", target], env=env)
    check("good session up", good.expect(b"capos$ "))
    table = [
        ("bad-banner", "banner.malformed", False),
        ("banner-v1", "banner.version", False),
        ("nul-banner", "banner.malformed", False),
        ("long-banner", "banner.too-long", False),
        ("huge-length", "packet.length", True),
        ("bad-padding", "packet.padding", True),
        ("before-kex", "protocol.unexpected-message", True),
        ("no-common-kex", "kex.no-common-kex", True),
        ("bad-mac", "packet.mac", True),
        ("garbage-after-newkeys", "packet.(length|mac)", True),
        ("stall", "auth.grace-timeout", False),
        ("stall-after-banner", "auth.grace-timeout", True),
        ("stall-after-kex", "auth.grace-timeout", True),
    ]
    procs = []
    for mode, reason, visible in table:
        p = subprocess.Popen([HOSTILE, str(port), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append((mode, reason, visible, p))
        if not mode.startswith("stall"):
            p.wait(30)
    seq = 0
    for mode, reason, visible, p in procs:
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        out = out.decode(errors="replace")
        mm = re.search(r"local_port=(\d+)", out)
        cid = log.conn_of_port(int(mm.group(1))) if mm else None
        logged = cid and log.wait(r"conn=%s event=disconnect reason=%s" % (cid, reason), 0, 10)
        ok_client = "closed=1" in out and (not visible or re.search(r'disconnect="%s"' % reason, out))
        check("hostile %s: connection ended with reason %s" % (mode, reason), ok_client and logged,
              (out, cid))
        if mode.startswith("stall"):
            aft = re.search(r"after_ms=(\d+)", out)
            check("hostile %s: ended by the grace timer" % mode,
                  aft and GRACE * 1000 - 200 <= int(aft.group(1)) <= GRACE * 1000 + 3000, out)
        seq += 1
        good.send(b"echo still-alive-%d\r" % seq)
        check("good session alive after %s" % mode, good.expect(b"still-alive-%d\r\ncapos$ " % seq, 10))
    good.send(b"exit 0\r")
    rc, out, err = good.finish()
    check("good session exits cleanly", rc == 0, (rc, err))

    # --- many connections at once ---
    outs = [None] * 16

    def one(i):
        outs[i] = run(ssh + ["-T", target], b"echo parallel-%d\nexit %d\n" % (i, i), env=env, timeout=60)
    ths = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    check("16 parallel sessions", all(o[0] == i and b"parallel-%d" % i in o[1] for i, o in enumerate(outs)),
          [o[0] for o in outs])

    # --- an independent implementation: Dropbear's dbclient ---
    dbhome = os.path.join(tmp, "dbhome")
    os.makedirs(os.path.join(dbhome, ".ssh"))
    with open(os.path.join(dbhome, ".ssh", "known_hosts"), "w") as f:
        f.write("127.0.0.1 %s %s\n" % (hostpub[0], hostpub[1]))
    dbk = os.path.join(tmp, "user_key.dropbear")
    subprocess.run(["dropbearconvert", "openssh", "dropbear", uk, dbk], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    denv = dict(env, HOME=dbhome)
    db = ["/usr/bin/dbclient", "-i", dbk, "-p", str(port)]
    m = log.mark()
    rc, out, err = run(db + ["-T", target], b"echo from-dropbear\nexit 5\n", env=denv)
    check("dbclient: login, command output, exit status 5", rc == 5 and b"from-dropbear" in out, (rc, out, err))
    check("dbclient: identified", log.wait(r'client-version version="SSH-2\.0-dropbear', m, 2))
    rc, out = run_pty(db + ["-t", target], [(b"capos$ ", b"echo dropbear-pty\r"),
                                            (b"dropbear-pty\r\ncapos$ ", b"exit 6\r")], env=denv)
    check("dbclient with pty", rc == 6 and b"dropbear-pty\r\n" in out, (rc, out))
    m = log.mark()
    rc, out, err = run(db + [target, "id"], env=denv)
    check("dbclient exec refused", rc != 0 and log.wait(r"reason=deny\.exec", m, 5), (rc, out, err))
    with open(os.path.join(dbhome, ".ssh", "known_hosts"), "w") as f:
        f.write("127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGz1bZ3D3jN2mT0bFJ0b6pI0b3vbK3wq5b5j1GQy6wQ8\n")
    rc, out, err = run(db + ["-T", target], b"exit 0\n", env=denv)
    check("dbclient rejects a wrong host key (signature really checked)", rc != 0, (rc, err))

    # --- a third implementation: PuTTY's plink ---
    ppk = os.path.join(tmp, "user_key.ppk")
    subprocess.run(["puttygen", uk, "-O", "private", "-o", ppk], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    fp = subprocess.run(["ssh-keygen", "-lf", os.path.join(tmp, "host_key.pub")], stdout=subprocess.PIPE,
                        text=True).stdout.split()[1]
    pl = ["/usr/bin/plink", "-ssh", "-batch", "-i", ppk, "-P", str(port), "-hostkey", fp]
    m = log.mark()
    rc, out, err = run(pl + ["-T", target], b"echo from-putty\nexit 9\n", env=denv)
    check("plink: login, command output, exit status 9", rc == 9 and b"from-putty" in out, (rc, out, err))
    check("plink: identified", log.wait(r'client-version version="SSH-2\.0-PuTTY', m, 2))
    m = log.mark()
    rc, out, err = run(pl + [target, "id"], env=denv)
    check("plink exec refused", rc != 0 and b"refused to start a shell/command" in err
          and log.wait(r"reason=deny\.exec", m, 5), (rc, out, err))
    rc, out, err = run(["/usr/bin/plink", "-ssh", "-batch", "-i", ppk, "-P", str(port), "-hostkey",
                        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "-T", target], b"exit 0\n", env=denv)
    check("plink rejects a wrong host key", rc != 0, (rc, err))


if __name__ == "__main__":
    sys.exit(main())
