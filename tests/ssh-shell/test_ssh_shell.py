#!/usr/bin/python3
"""test-ssh-shell: the SSH gateway inside capOS (user/ssh-gateway) with the
host key in its key service (user/hostkey), driven by the host's OpenSSH
/usr/bin/ssh through a hostfwd on 127.0.0.1 (restrict=on: nothing leaves
this machine). The system is make run-ssh-shell's (manifests/ssh-shell.manifest). A key
authorized in the manifest's AccountStore args logs in
as admin, runs `session`, `caps` and `exit` in capos-shell; the operator's
"echo" is the test-only sessprobe, so the shell's and the gateway's caps
are read from the kernel's own tables (`echo caps NAME`); a pseudo-terminal
resized under ssh shows the window-change reaching the shell (`whoami`); an
unknown key and a password are denied; ssh-keyscan sees the key whose
fingerprint the boot log printed; -L, -R, -A, -X, SendEnv, exec, sftp and a
second session channel (ControlMaster) are refused, each with the client's
failure message and the reason code in the gateway's log and the audit log;
a client gone before its shell starts, a client gone while its shell runs
and a shell's `exit` each leave the kernel's counters, the session
manager's table and the gateway's caps where they were; with 20 stalled
unauthenticated connections (random early drop seen, the per-source limit
and the login grace ending them) a real login succeeds; a byte flipped in
one connection's encrypted stream ends only it (packet.mac); 8 concurrent
sessions each see only their own output."""
import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, Guest, ROOT, boot_forwarded, boot_package, free_port, run_network_env, scratch  # noqa: E402

GRACE = 60
ECHO_SERVICE = """service echo binary=echo session=anon restart=on-failure:3 disclose=principal,profile
    grant log = logger.log
    grant timer = kernel.timer
    export echo interface=Echo
    args hello from the manifest
"""
# `echo caps NAME` and `echo stats` read the kernel's cap tables and
# counters and the session manager's table (tests/guest/sessprobe)
SESSPROBE_SERVICE = """service sessprobe binary=sessprobe session=system restart=never
    grant console = kernel.console
    grant timer = kernel.timer
    grant stats = kernel.stats
    grant manager = sessionmgr.manager
    export echo interface=Echo
"""


# what the SSH gateway holds with no connection (the kernel's table)
# (its grants, the listener it made, the owner end of its terminal endpoint)
GATEWAY_IDLE = ["Console", "Timer", "VirtualMemory", "TcpListenAuthority", "TcpListener", "SshHostKey",
                "SessionManager", "RestrictedShellLauncher", "AuditLog", "Endpoint"]
# and for each logged-in connection with its shell running: the socket, the
# session's facet and context, the shell's terminal facet, its process
GATEWAY_PER_SESSION = ["TcpSocket", "UserSession", "SessionContext", "TerminalSession", "ProcessHandle"]
# raw network, spawn, key, broker, launcher, session-manager authority
FORBIDDEN_SHELL = {"TcpListenAuthority", "TcpListener", "TcpSocket", "NetworkManager", "NetworkInfo", "Nic",
                   "ProcessSpawner", "SshHostKey", "AuthorityBroker", "RestrictedShellLauncher", "SessionManager",
                   "EndpointFactory", "KernelStats", "Console"}


def resize_session(cmd, env):
    """ssh on a pseudo-terminal of 100x30: `whoami`, then the terminal is
    resized to 132x43 (ssh gets SIGWINCH and sends window-change), `whoami`
    again, `exit`. Returns the output up to each answer."""
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.execve(cmd[0], cmd, env)
    buf = b""

    def until(pat, since=0, secs=90):
        nonlocal buf
        end = time.monotonic() + secs
        while not (pat and re.search(pat, buf[since:])) and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 1)
            if r:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                buf += d
        return buf[since:].decode("utf-8", "replace")

    try:
        until(rb"admin@capos> ")
        os.write(fd, b"whoami\r")
        first = until(rb"terminal\r?\n(.|\n)*admin@capos> ")
        n = len(buf)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 43, 132, 0, 0))
        # the shell asks the size when `whoami` runs: the window-change must
        # be there first, so ask until it is (each answer is a prompt)
        second = ""
        for _ in range(20):
            os.write(fd, b"whoami\r")
            second = until(rb"terminal\r?\n(.|\n)*admin@capos> ", n)
            if "132x43" in second:
                break
            n = len(buf)
        os.write(fd, b"exit\r")
        until(None, len(buf), 30)  # to EOF
    finally:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return first, second


def make_run(c, tmp, env, uk):
    """The default system (build/boot.pkg, what make run boots, with make
    run's network from scripts/qemu) serves SSH too: scripts/qemu prints the
    ssh line; the operator logs in on the serial console, authorizes a key
    with keyadd, and that ssh line logs in."""
    env = dict(run_network_env(), CAPOS_SSH_ARGS="-i " + uk)
    g = Guest(env=env)
    try:
        m = g.wait_for(r"^capOS: SSH \(once the guest is up\): (ssh -i \S+ -p (\d+) admin@127\.0\.0\.1)$", 30)
        line = m.group(1)
        c.check("make run's system: scripts/qemu prints the ssh -p PORT admin@127.0.0.1 line (127.0.0.1 only)",
                m.group(2) == env["CAPOS_SSH_PORT"], g.text()[-800:])
        g.wait_for(r"^login: ", 60)
        g.wait_for(r"^ssh-gateway: serving SSH on port 22", 60)
        g.wait_for(r"netstack: dhcp lease", 60)
        g.answer("setup\r", r"password: ")
        g.answer("s3cret-horse\r", r"again: ")
        g.answer("s3cret-horse\r", r"^login: ", 30)
        g.answer("admin\r", r"password: ")
        g.send("s3cret-horse\r")
        g.wait_for(r"^admin@capos> \Z", 30)
        mark = len(g.text())
        g.send("keyadd admin " + open(uk + ".pub").read().strip() + "\r")
        # wait for keyadd's own answer, not a prompt drawn before it
        mark = g.wait_for(r"^keyadd: .*\n", 30, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 30, since=mark)
        rc, out, err = run(line.split() + ["-F", "/dev/null", "-o", "UserKnownHostsFile=/dev/null",
                                           "-o", "StrictHostKeyChecking=no", "-o", "IdentitiesOnly=yes",
                                           "-o", "BatchMode=yes", "-tt"], b"whoami\nexit\n", env=env)
        c.check("make run's system serves SSH: after keyadd on the console, that ssh line logs in as admin",
                rc == 0 and "admin (profile operator, logged in by publicKey)" in out, f"rc={rc} {out[-800:]!r} "
                f"{err[-500:]!r} {g.text()[-1500:]}")
    finally:
        g.kill()


class FlipProxy:
    """A TCP relay from a port of 127.0.0.1 to the guest's SSH port that, once
    flip() was called, inverts one byte of the next chunk from the client."""

    def __init__(self, port):
        self.port, self.armed, self.flipped = port, threading.Event(), threading.Event()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.local = self.ls.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _pump(self, a, b, flip):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if flip and self.armed.is_set() and not self.flipped.is_set() and len(d) > 8:
                    d = d[:8] + bytes([d[8] ^ 0xFF]) + d[9:]
                    self.flipped.set()
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self):
        cl, _ = self.ls.accept()
        up = socket.create_connection(("127.0.0.1", self.port))
        threading.Thread(target=self._pump, args=(cl, up, True), daemon=True).start()
        threading.Thread(target=self._pump, args=(up, cl, False), daemon=True).start()


def count(g, mark, pattern):
    return len(re.findall(pattern, g.text()[mark:], re.M))


def limits(c, g, ssh, target, env, port):
    """MaxStartups-style random early drop, the per-source limit and the
    login grace with stalled unauthenticated connections; a byte flipped in
    one connection's encrypted stream; 8 concurrent sessions."""
    mark = len(g.text())
    held, refused_at = [], []

    def open_one():
        t = socket.create_connection(("127.0.0.1", port), 60)
        t.settimeout(60)
        got = b""
        try:
            while b"\n" not in got:
                d = t.recv(256)
                if not d:
                    break
                got += d
        except (ConnectionResetError, socket.timeout):
            pass
        if got.startswith(b"SSH-2.0-"):
            held.append(t)          # it sent its banner; we never send ours
            return True
        t.close()
        refused_at.append(len(held))
        return False

    for _ in range(200):            # 20 stalled, and at least one early drop seen
        if len(held) >= 20 and refused_at:
            break
        open_one()
    g.wait_for(r"^ssh-gateway: refused a connection from \S+: max-startups$", 60, since=mark)
    c.check("%d stalled unauthenticated connections held; new ones were dropped at random once 10 were "
            "unauthenticated (max-startups, never before)" % len(held),
            len(held) >= 20 and refused_at and min(refused_at) >= 10 and
            count(g, mark, r"^ssh-gateway: refused a connection from \S+: max-startups$") == len(refused_at),
            f"held={len(held)} refused at {refused_at}")

    ok, tries = False, 0
    while not ok and tries < 20:    # a login may itself be dropped early: try again, as a person would
        tries += 1
        rc, out, err = run(ssh + ["-tt", target], b"whoami\nexit\n", env=env)
        ok = rc == 0 and "logged in by publicKey" in out
    c.check("a real login succeeds while they stall (%d tries)" % tries,
            ok and count(g, mark, r"auth\.grace-timeout") == 0, f"rc={rc} {err[-400:]!r}")

    before = len(held)
    for _ in range(100):
        if count(g, mark, r"^ssh-gateway: refused a connection from \S+: per-source-limit$"):
            break
        open_one()
        g.wait_for(r"^ssh-gateway: (conn \d+: accepted|refused .*)$", 30, since=len(g.text()) - 1)
    c.check("the per-source limit: at most 24 unauthenticated connections from one address, the next refused "
            "(per-source-limit)",
            count(g, mark, r"^ssh-gateway: refused a connection from \S+: per-source-limit$") >= 1 and len(held) == 24,
            f"held {before} then {len(held)}")

    n = len(held)
    g.wait_for(r"(?:^ssh-gateway: conn \d+: disconnect auth\.grace-timeout$(?:.|\n)*){%d}" % n, GRACE * 3,
               since=mark)
    eofs = 0
    for t in held:
        try:
            t.settimeout(30)
            while t.recv(4096):
                pass
            eofs += 1
        except OSError:
            eofs += 1
        t.close()
    c.check("the login grace ends every stalled connection (auth.grace-timeout, audited) and its socket",
            count(g, mark, r"^ssh-gateway: conn \d+: disconnect auth\.grace-timeout$") == n and eofs == n,
            f"{n} held")

    # a byte flipped in one connection's encrypted stream
    proxy = FlipProxy(port)
    mark = len(g.text())
    by = subprocess.Popen(ssh + ["-tt", target], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)
    g.wait_for(r"^ssh-gateway: conn \d+: shell started", 60, since=mark)
    m2 = len(g.text())
    # through the relay: the same host key, known under the guest's port
    vic = subprocess.Popen([a if a != str(port) else str(proxy.local) for a in ssh] +
                           ["-o", "HostKeyAlias=[127.0.0.1]:%d" % port, "-tt", target],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    g.wait_for(r"^ssh-gateway: conn \d+: shell started", 60, since=m2)
    proxy.armed.set()
    vic.stdin.write(b"whoami\n")
    vic.stdin.flush()
    g.wait_for(r"^ssh-gateway: conn \d+: disconnect packet\.mac$", 60, since=mark)
    vo, ve = vic.communicate(timeout=60)
    bo, be = by.communicate(b"whoami\nexit\n", timeout=60)
    c.check("a byte flipped in one connection's encrypted stream ends that connection (packet.mac) and only it",
            proxy.flipped.is_set() and vic.returncode != 0 and by.returncode == 0 and
            b"logged in by publicKey" in bo and count(g, mark, r"disconnect packet\.mac$") == 1,
            f"{vic.returncode} {ve[-300:]!r} {by.returncode} {bo[-300:]!r}")

    # 8 concurrent interactive sessions, each sees only its own output
    mark = len(g.text())
    ps = [subprocess.Popen(ssh + ["-tt", target], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env) for _ in range(8)]
    try:
        g.wait_for(r"(?:^ssh-gateway: conn \d+: shell started for admin$(?:.|\n)*){8}", 120, since=mark)
        for i, p in enumerate(ps):
            p.stdin.write(b"tok%dx\n" % i)
            p.stdin.flush()
        outs = [p.communicate(b"exit\n", timeout=60)[0].decode("utf-8", "replace") for p in ps]
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
                p.wait()
    own = [("unknown command: tok%dx" % i) in o for i, o in enumerate(outs)]
    other = [[j for j in range(8) if j != i and "tok%dx" % j in o] for i, o in enumerate(outs)]
    c.check("8 concurrent interactive sessions: each sees its own output and no other's",
            all(own) and not any(other) and all(p.returncode == 0 for p in ps), f"{own} {other}")


def refusals(c, g, ssh, target, tmp, env, port, kh, uk):
    """Each request the gateway refuses: what the client is told (the
    protocol's failure message, where the protocol has one) and the reason
    code the gateway logs and records in the audit log."""
    seen = []

    def gw_says(reason, mark):
        g.wait_for(r"^ssh-gateway: conn \d+: denied %s$" % re.escape(reason), 60, since=mark)
        seen.append(reason)
        return True

    def one(what, args, expect, reason, inp=b"exit\n", want_rc=None, e=None, told=None):
        mark = len(g.text())
        rc, out, err = run(ssh + args + [target] + ([] if what != "exec" else ["session"]), inp, env=e or env)
        ok = re.search(expect, err) is not None and (want_rc is None or rc == want_rc)
        told = told or f"the client is told \"{expect}\""
        c.check(f"{what} is refused: {told}, the gateway says {reason}",
                ok and gw_says(reason, mark), f"rc={rc} err={err[-600:]!r}")
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)

    # -L: the forward is set up locally; a connection through it is refused
    lp = free_port()
    mark = len(g.text())
    p = subprocess.Popen(ssh + ["-N", "-L", "%d:127.0.0.1:9" % lp, target], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    got = None
    try:
        g.wait_for(r"^ssh-gateway: conn \d+: login admin", 60, since=mark)
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", lp), 10) as t:
                    t.settimeout(60)
                    got = t.recv(100)
                break
            except (ConnectionRefusedError, socket.timeout):
                time.sleep(0.1)     # ssh's local listener is not up yet
        ok = got == b"" and gw_says("deny.direct-tcpip", mark)
    finally:
        p.kill()
        _, err = p.communicate(timeout=30)
    err = err.decode("utf-8", "replace")
    c.check("ssh -N -L is refused: the client is told \"open failed: administratively prohibited: "
            "deny.direct-tcpip\", the gateway says deny.direct-tcpip",
            ok and "open failed: administratively prohibited: deny.direct-tcpip" in err, f"{got!r} {err[-600:]!r}")
    g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)

    one("ssh -N -R", ["-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9"],
        r"remote port forwarding failed for listen port 0", "deny.tcpip-forward", want_rc=255)
    # agent and env requests go with want-reply false (OpenSSH): the protocol
    # has no failure message for them; the session goes on without them
    agent = os.path.join(tmp, "agent")
    ag = subprocess.run(["ssh-agent", "-s", "-a", agent], stdout=subprocess.PIPE, check=True).stdout.decode()
    agpid = int(re.search(r"SSH_AGENT_PID=(\d+)", ag).group(1))
    try:
        one("ssh -A", ["-A", "-tt"], r"^(?![\s\S]*(?i:agent))", "deny.agent", want_rc=0,
            e=dict(env, SSH_AUTH_SOCK=agent), told="no failure message (want-reply false), the session goes on")
    finally:
        os.kill(agpid, signal.SIGTERM)
    one("ssh -X", ["-X", "-tt"], r"X11 forwarding request failed on channel 0", "deny.x11", want_rc=0,
        e=dict(env, DISPLAY=":99"))
    one("ssh -o SendEnv=LANG", ["-o", "SendEnv=LANG", "-tt"], r"^(?![\s\S]*LANG)", "deny.env", want_rc=0,
        e=dict(env, LANG="C.UTF-8"), told="no failure message (want-reply false), the session goes on")
    one("exec", [], r"exec request failed on channel 0", "deny.exec", inp=b"", want_rc=255)

    mark = len(g.text())
    rc, out, err = run(["/usr/bin/sftp", "-b", "-", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                        "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                        "-P", str(port), "-i", uk, target], b"ls\n", env=env)
    c.check("sftp is refused: the client is told \"subsystem request failed on channel 0\", the gateway says "
            "deny.subsystem", rc != 0 and "subsystem request failed on channel 0" in err and
            gw_says("deny.subsystem", mark), f"rc={rc} err={err[-600:]!r}")
    g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)

    # a second session channel on one connection: a ControlMaster with its
    # shell open, then a client through its control socket
    sock = os.path.join(tmp, "cm")
    mark = len(g.text())
    m = subprocess.Popen(ssh + ["-o", "ControlMaster=yes", "-o", "ControlPath=" + sock, "-tt", target],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        g.wait_for(r"^ssh-gateway: conn \d+: shell started", 60, since=mark)
        rc, out, err = run(ssh + ["-o", "ControlMaster=no", "-o", "ControlPath=" + sock, "-tt", target], b"exit\n",
                           env=env)
        mine = gw_says("deny.second-session", mark)
        m.stdin.write(b"exit\n")
        m.stdin.flush()
        _, merr = m.communicate(timeout=60)
    finally:
        if m.poll() is None:
            m.kill()
            m.wait()
    merr = merr.decode("utf-8", "replace")
    c.check("a second session channel (ControlMaster) is refused: the master is told \"open failed: "
            "administratively prohibited: deny.second-session\", the gateway says deny.second-session",
            mine and "Session open refused by peer" in err and
            "open failed: administratively prohibited: deny.second-session" in merr, f"{err[-600:]!r} {merr[-600:]!r}")

    # the audit log has each of them, with its reason
    mark = len(g.text())
    rc, out, err = run(ssh + ["-tt", target], b"audit 32\nexit\n", env=env)
    missing = [r for r in seen if not re.search(r"ssh-denied %s\b" % re.escape(r), out)]
    c.check("the audit log records every refusal with its reason code (%s)" % " ".join(seen),
            len(seen) == 8 and not missing, f"missing {missing} {out[-2000:]!r}")
    g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)


# what must be back where it was: the kernel's counters, the session
# manager's table and what it holds, and what the gateway holds
# (free frames: no fewer than before; the network stack's own buffers come
# and go with its connections' lifetimes, so one more free is not a leak)
SAME = ["objects", "processes", "slots", "pending", "open", "held", "smcaps", "gwcaps"]
# The kernel heap's bytes also move with the size of the messages in flight
# when the counters are read (a Nic.send of this very session's output, now
# up to 16 KiB, lands in another size class), with no object more or fewer:
# it is held to a band above the FIRST baseline, never re-based, so what a
# case leaks accumulates over the cases and leaves the band.
HEAP_BAND = 2048


def measure(g, ssh, target, env):
    """The kernel's counters and the session manager's table, from inside a
    fresh SSH session (so every measurement counts the same one session),
    and the gateway's cap count from the kernel's table. Three readings,
    each field's least (free frames: most): a call in flight at one reading
    (the gateway sending the shell's last output) is not a leak, and a leak
    shows in every reading."""
    mark = len(g.text())
    rc, out, err = run(ssh + ["-tt", target], b"echo stats\necho stats\necho stats\necho caps ssh-gateway\necho pend\nexit\n",
                       env=env)
    g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
    lines = re.findall(r"^PROBE (kernel .*)$", out, re.M)
    gw = re.search(r"^PROBE ssh-gateway held=(\d+)", out, re.M)
    if len(lines) != 3 or not gw:
        return {}, out[-1500:]
    reads = [dict(re.findall(r"(\S+)=(\d+)", l.replace("session-manager held=", "smcaps="))) for l in lines]
    f = {k: str((max if k == "frames" else min)(int(r[k]) for r in reads)) for k in reads[0]}
    f["gwcaps"] = gw.group(1)
    pend = re.search(r"^PROBE pend(.*)$", out, re.M)     # who holds the pending calls (for the report)
    return f, " ".join("%s=%s" % kv for kv in f.items()) + " | pending by process:" + (pend.group(1) if pend else " ?")


def teardown(c, g, ssh, target, env):
    """Client gone before its shell starts, client gone while the shell runs,
    shell `exit` first: each ends the session, the shell, the socket and
    every cap minted for it: counters back to the baseline."""

    def before_shell():
        mark = len(g.text())
        p = subprocess.Popen(ssh + ["-N", target], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        try:
            g.wait_for(r"^ssh-gateway: conn \d+: login admin", 60, since=mark)
        finally:
            p.kill()
            p.communicate(timeout=30)
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        return "shell started" not in g.text()[mark:]

    def while_shell():
        mark = len(g.text())
        p = subprocess.Popen(ssh + ["-tt", target], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
        try:
            g.wait_for(r"^ssh-gateway: conn \d+: shell started", 60, since=mark)
            p.stdin.write(b"whoami\n")
            p.stdin.flush()
            while b"terminal" not in p.stdout.read1(4096):
                pass
        finally:
            p.kill()
            p.communicate(timeout=30)
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        return "shell started" in g.text()[mark:]

    def shell_exit():
        mark = len(g.text())
        rc, out, err = run(ssh + ["-tt", target], b"exit\n", env=env)
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        return rc == 0 and "shell exited (0)" in g.text()[mark:]

    cases = [("the client disconnects before its shell starts", before_shell),
             ("the client disconnects while its shell runs", while_shell),
             ("the shell exits before the client closes", shell_exit)]
    for _, f in cases:                  # warm-up: first-use allocations are not counted
        f()
    def differs(base, after):
        diff = [k for k in SAME if base.get(k) != after.get(k)]
        if not after or int(after["heap"]) > int(first["heap"]) + HEAP_BAND:
            diff.append("heap")
        if not after or int(after["frames"]) < int(base["frames"]):
            diff.append("frames")
        return diff

    def settled(base=None, tries=4):
        """A measurement once it has settled: equal to base, or (without
        base) the same twice in a row. On several CPUs a service can be
        between one call and its next wait at all three readings of one
        measurement (a pending call, and its heap bytes, more or fewer);
        a leak stays in every one."""
        last, line = measure(g, ssh, target, env)
        for _ in range(tries):
            if base is not None and last and not differs(base, last):
                break
            now, nline = measure(g, ssh, target, env)
            if base is None and now and not differs(last, now):
                return now, nline
            last, line = now, nline
        return last, line

    first = {"heap": 1 << 62}               # no band before the first baseline
    base, bline = settled()
    first = base
    c.check("the baseline: one open session (the measuring one)", base.get("open") == "1", bline)
    for what, f in cases:
        ok = f()
        after, aline = settled(base)
        diff = differs(base, after)
        c.check(f"{what}: the session, the shell, the socket and its caps are gone (kernel counters, the "
                f"session manager's table, the gateway's caps back to the baseline)",
                ok and bool(after) and not diff and
                int(after["opened"]) - int(base["opened"]) == int(after["ended"]) - int(base["ended"]),
                f"differs: {diff}\n{bline}\n{aline}")
        if after:
            base, bline = after, aline


def probe(out, name):
    """The interfaces each `name` process holds, from sessprobe's answer to
    `echo caps NAME` (the kernel's KernelStats.processes)."""
    m = re.search(r"^PROBE (%s held=.*)$" % re.escape(name), out, re.M)
    if not m:
        return None
    return [seg.split(": ", 1)[1].split() if ": " in seg else [] for seg in m.group(1).strip().split(" | ")]


def run(args, inp=b"", timeout=90, env=None):
    p = subprocess.run(args, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main():
    c = Checks("ssh-shell")
    tmp = scratch("capos-sshsh-")
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".ssh"))
    env = dict(os.environ, HOME=home)
    env.pop("SSH_AUTH_SOCK", None)
    uk, ok = os.path.join(tmp, "user_key"), os.path.join(tmp, "other_key")
    for k in (uk, ok):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", os.path.basename(k), "-f", k], check=True)
    pub = open(uk + ".pub").read().split()
    keys = "key:admin:%s:%s" % (pub[0], pub[1])
    # the system of make run-ssh-shell, with the test-only sessprobe as the
    # operator's echo
    pkg = boot_package(os.path.join(ROOT, "manifests/ssh-shell.manifest"), tmp,
                       replace=[("@KEYS@", keys), (ECHO_SERVICE, SESSPROBE_SERVICE),
                                ("    grant echo = echo.echo\n", "    grant echo = sessprobe.echo\n"),
                                # a shorter login grace, so the stalled connections end within the test
                                ("persource=24 grace=120", "persource=24 grace=%d" % GRACE)])
    g, fwd = boot_forwarded([22], r"^ssh-gateway: (serving SSH on port 22.*|.*cannot.*|.*not answer.*)$", 90, pkg=pkg, mem=128)
    port = fwd[22]
    try:
        log = g.text()
        fp = re.search(r"^hostkey: 256 (SHA256:[A-Za-z0-9+/]{43}) \S+ \(ED25519\)$", log, re.M)
        c.check("the key service prints the host key's fingerprint, labelled non-production",
                bool(fp) and "hostkey: NON-PRODUCTION host key from the manifest" in log, log[-1500:])
        c.check("the gateway serves SSH on port 22", "ssh-gateway: serving SSH on port 22" in log, log[-1500:])
        g.wait_for(r"^(\[logger\] )?netstack: dhcp lease (\S+) .*$", 60)

        rc, out, err = run(["ssh-keyscan", "-T", "60", "-t", "ed25519", "-p", str(port), "127.0.0.1"], env=env)
        kh = os.path.join(tmp, "known_hosts")
        with open(kh, "w") as f:
            f.write(out)
        rc2, lf, _ = run(["ssh-keygen", "-lf", kh])
        c.check("ssh-keyscan sees the key whose fingerprint the boot log printed",
                bool(fp) and fp.group(1) in lf and "ED25519" in lf, out + err + lf)

        base = ["/usr/bin/ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + kh,
                "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=60", "-p", str(port)]
        target = "admin@127.0.0.1"

        mark = len(g.text())
        rc, out, err = run(base + ["-i", uk, "-tt", target],
                           b"session\ncaps\necho caps capos-shell\necho caps ssh-gateway\nexit\n", env=env, timeout=120)
        c.check("ssh -i KEY -p PORT admin@127.0.0.1 logs in and the shell answers `session`",
                re.search(r"admin", out) is not None and re.search(r"publicKey|publickey", out) is not None,
                f"rc={rc} out={out[-1500:]!r} err={err[-800:]!r}")
        listing = out.split("echo caps")[0]
        c.check("`caps` lists the shell's caps over SSH, with no network, spawn, key or launcher authority",
                "terminal" in listing and not re.search(r"TcpListenAuthority|NetworkManager|ProcessSpawner|SshHostKey|"
                                                    r"RestrictedShellLauncher|SessionManager", listing), listing[-1500:])
        c.check("`exit` ends the session and ssh returns", rc == 0, f"rc={rc} {err[-500:]!r}")
        shell = probe(out, "capos-shell")
        c.check("the kernel's table: the SSH shell holds its terminal and session, and no raw network, spawn, "
                "key, broker, session-manager or launcher authority",
                shell is not None and len(shell) == 1 and {"TerminalSession", "UserSession"} <= set(shell[0]) and
                not set(shell[0]) & FORBIDDEN_SHELL, f"{shell} {out[-1500:]!r}")
        gw = probe(out, "ssh-gateway")
        # during the session: the plumbing and the grants, the listener it
        # made, its terminal endpoint, and for the one connection its socket,
        # the session facet and context and the shell's process handle
        c.check("the kernel's table: the gateway holds exactly its grants, its listener and this session's caps",
                gw is not None and len(gw) == 1 and sorted(gw[0]) == sorted(GATEWAY_IDLE + GATEWAY_PER_SESSION),
                f"{gw} {out[-1500:]!r}")
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        c.check("the gateway saw the login and the shell's exit",
                re.search(r"conn \d+: login admin", g.text()[mark:]) is not None and
                re.search(r"conn \d+: shell exited", g.text()[mark:]) is not None, g.text()[mark:][-1500:])

        mark = len(g.text())
        first, second = resize_session(base + ["-i", uk, "-tt", target], env)
        c.check("the client's terminal size reaches the shell (pty-req): `whoami` says 100x30", "on a 100x30 terminal"
                in first, first[-800:])
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        c.check("a window-change reaches the shell: after the client's terminal is resized, `whoami` says 132x43",
                "on a 132x43 terminal" in second and
                re.search(r"conn \d+: window 132x43", g.text()[mark:]) is not None, second[-800:])

        mark = len(g.text())
        rc, out, err = run(base + ["-i", ok, "-T", target], b"exit\n", env=env)
        c.check("an unknown key is denied (generic on the wire)",
                rc == 255 and "Permission denied (publickey)" in err, f"rc={rc} {err[-500:]!r}")
        askpass = os.path.join(tmp, "askpass")
        with open(askpass, "w") as f:
            f.write("#!/bin/sh\necho not-a-password\n")
        os.chmod(askpass, 0o700)
        penv = dict(env, SSH_ASKPASS=askpass, SSH_ASKPASS_REQUIRE="force", DISPLAY="none")
        pw = [a if a != "BatchMode=yes" else "BatchMode=no" for a in base]
        rc, out, err = run(pw + ["-o", "PreferredAuthentications=password,keyboard-interactive",
                                 "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-T", target],
                           b"", env=penv)
        c.check("a client that wants only password or keyboard-interactive is refused (only publickey is offered)",
                rc == 255 and "Permission denied (publickey)" in err, f"rc={rc} {err[-500:]!r}")
        g.wait_for(r"^ssh-gateway: conn \d+: closed .*$(?:.|\n)*^ssh-gateway: conn \d+: closed .*$", 60, since=mark)
        c.check("the gateway audited the refusals with their reasons",
                "auth failure auth.key-unknown" in g.text()[mark:], g.text()[mark:][-1500:])

        refusals(c, g, base + ["-i", uk], target, tmp, env, port, kh, uk)
        teardown(c, g, base + ["-i", uk], target, env)
        limits(c, g, base + ["-i", uk], target, env, port)
    finally:
        g.kill()
    log = g.text()
    make_run(c, tmp, env, uk)
    c.done("\n".join(l for l in log.splitlines() if not l.startswith("[kernel] pci")))


if __name__ == "__main__":
    main()
