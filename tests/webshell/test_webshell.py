#!/usr/bin/python3
"""test-webshell: the web shell gateway inside capOS (user/webshell-gateway)
on make run's system (manifests/system.manifest, with the test-only
sessprobe as the operator's echo so the kernel's tables can be read from a
shell; TIME_WAIT of 1 s, an operator idle timeout of IDLE_S, and agent mode
as manifests/agent.manifest has it: its model and tool map), booted by
scripts/qemu with make run's network: the printed https://localhost:PORT/
is what the tests use.

Before booting: the TLS private key is in the key service's binary
(user/tlskey) and not the gateway's. The operator's password is set on the
serial console (`setup`), as a person would. This half holds the console and speaks raw TLS: the development
certificate verifies for localhost; a foreign Host, a foreign or missing
Origin (login, logout, WebSocket) and plaintext on the TLS port are refused
with their reasons and start no shell; a login whose page never opens its
terminal ends by itself (checked once its 30 s are up, while the browser
half runs); a dropped WebSocket and a client that never grants credits
(flow control) are played for the browser half on request, on sessions it
logged in by passkey.
It also holds the measuring session (Meter): one web session logged in once,
on its own WebSocket, whose shell reads the kernel's counters, the session
table and the gateway's caps for every teardown row (Teardown: the baseline,
and after each row a reading repeated until it is back or 45 s have
passed; the rows' bands are explained at EXACT).
The browser half (webshell_test.js, headless Chromium through
playwright-core) logs in, reads `session`, `caps` and the kernel's tables
from the page, resizes, pastes, screenshots, runs one agent command whose
tool call waits for consent (the prompt in the terminal, answered from the
page, the result read there), and proves each teardown
(logout, tab close, shell exit, WebSocket loss, failed logins and a stale
cookie, refused passkeys, the idle timeout) brings the kernel's counters,
the session table and the gateway's caps back to the baseline; each row
in a browser context of its own, closed after it (its connections end at
once), logged in by passkey (no password hashing in the guest). Passkeys
with a CDP virtual authenticator: one registered from a password session,
a later login with it alone, and refused assertions (bogus signature, no
user verification, a foreign origin, a replayed challenge) that start no
shell. Each progress line carries the seconds since the start."""
import base64
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import SESSPROBE_SWAP, Checks, Guest, ROOT, boot_package, run_network_env, scratch  # noqa: E402

PASSWORD = "s3cret-horse"
IDLE_S = 20         # the operator's idle timeout in this image (make run's is 15 minutes)
T0 = time.monotonic()


def elapsed():
    """Seconds since the harness started, for its progress lines."""
    return f"[{time.monotonic() - T0:5.0f}s]"


class TimedChecks(Checks):
    """Checks whose lines say when each was judged (where the time goes)."""

    def check(self, what, ok, detail=""):
        super().check(f"{elapsed()} {what}", ok, detail)
CERT = os.path.join(ROOT, "build/tls-dev/dev-cert.pem")


class Console:
    """The guest's serial console, read by a thread so it never blocks
    while the browser works; wait_for as Guest's, under a lock."""

    def __init__(self, g):
        self.g, self.lock, self.stop = g, threading.Lock(), False
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while not self.stop:
            with self.lock:
                got = self.g._read(0.1)
            if got is None:
                break
            time.sleep(0.05)

    def text(self):
        with self.lock:
            return self.g.text()

    def wait_for(self, pattern, timeout=60, since=0):
        end = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while time.monotonic() < end:
            m = rx.search(self.text(), since)
            if m:
                return m
            time.sleep(0.1)
        return None


class Tls:
    """One TLS connection to the gateway, verifying the development certificate for localhost."""

    def __init__(self, port):
        ctx = ssl.create_default_context(cafile=CERT)
        ctx.check_hostname = True
        self.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 60), server_hostname="localhost")
        self.s.settimeout(60)
        self.buf = b""

    def request(self, raw):
        self.s.sendall(raw)
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                break
            self.buf += d
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: *(\d+)", head, re.I)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            d = self.s.recv(65536)
            if not d:
                break
            rest += d
        self.buf = rest[n:]
        status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0
        return status, head.decode("latin-1"), rest[:n].decode("utf-8", "replace")

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def http(port, method, path, host, origin=None, body=None, cookie=None, extra=""):
    t = Tls(port)
    try:
        req = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        if origin:
            req += f"Origin: {origin}\r\n"
        if cookie:
            req += f"Cookie: {cookie}\r\n"
        if body is not None:
            req += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        req += extra + "\r\n" + (body or "")
        return t.request(req.encode())
    finally:
        t.close()


def login(port):
    """A password login as the page does it: the cookie, or None."""
    host = f"localhost:{port}"
    st, head, body = http(port, "POST", "/login", host, "https://" + host, f"user=admin&password={PASSWORD}")
    m = re.search(r"Set-Cookie: (capos_webshell=[0-9a-f]{64});", head)
    return (m.group(1) if st == 200 and m else None), st, body


class Ws:
    """A raw WebSocket client of the terminal stream (frames masked, binary)."""

    def __init__(self, port, cookie, origin=None):
        host = f"localhost:{port}"
        self.t = Tls(port)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin or 'https://' + host}\r\n"
               f"Cookie: {cookie}\r\n\r\n")
        self.t.s.sendall(req.encode())
        while b"\r\n\r\n" not in self.t.buf:
            d = self.t.s.recv(65536)
            if not d:
                break
            self.t.buf += d
        head, _, self.buf = self.t.buf.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else 0

    def send(self, payload, opcode=2):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([0x80 | opcode]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n))
        self.t.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self, timeout):
        """One message (opcode, payload), or None when nothing came in time."""
        self.t.s.settimeout(timeout)
        while True:
            if len(self.buf) >= 2:
                n, off = self.buf[1] & 0x7F, 2
                if n == 126:
                    n, off = (struct.unpack(">H", self.buf[2:4])[0], 4) if len(self.buf) >= 4 else (None, 4)
                elif n == 127:
                    n, off = (struct.unpack(">Q", self.buf[2:10])[0], 10) if len(self.buf) >= 10 else (None, 10)
                if n is not None and len(self.buf) >= off + n:
                    op, p = self.buf[0] & 0x0F, self.buf[off:off + n]
                    self.buf = self.buf[off + n:]
                    return op, p
            try:
                d = self.t.s.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                return None
            if not d:
                return None
            self.buf += d

    def drop(self):
        """The TCP connection dropped under the stream: no close frame, no close_notify, a reset."""
        self.t.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.t.s.close()


def until_prompt(w, secs=60):
    got = b""
    end = time.monotonic() + secs
    while b"admin@capos> " not in got and time.monotonic() < end:
        m = w.recv(5)
        if m and m[1][:1] == b"o":
            got += m[1][1:]
    return got


def ws_loss(port, cookie):
    """The terminal of a session the browser logged in (by passkey), its
    TCP connection then dropped under it."""
    w = Ws(port, cookie)
    ok = w.status == 101 and b"admin@capos> " in until_prompt(w)
    w.drop()
    return {"ok": ok}


def flood(port, cookie):
    """No credits granted: `help` typed 60 times (well over 64 KiB of
    output); at most the window arrives, then nothing; one grant of 65536
    lets at most that much more through."""
    w = Ws(port, cookie)
    if w.status != 101:
        return {"ok": False, "detail": f"ws {w.status}"}

    def drain(n, quiet, upto):
        """Output bytes (counting from n) until none came for `quiet` s, or
        for 2 s once `upto` have come (nothing more may arrive)."""
        while True:
            m = w.recv(2 if n >= upto else quiet)
            if not m:
                return n
            if m[1][:1] == b"o":
                n += len(m[1]) - 1

    first = len(until_prompt(w))            # the greeting and the prompt
    for _ in range(60):
        w.send(b"ihelp\r")
    first = drain(first, 5, 65536)
    w.send(b"a" + struct.pack(">I", 65536))
    second = drain(0, 3, 65536)
    w.send(b"x")
    detail = f"without credits {first} bytes, after a grant of 65536 {second} more"
    return {"ok": 60000 < first <= 65536 and 0 < second <= 65536, "detail": detail}


def settle(con, want, secs=90):
    """Wait until the gateway has `want` connections open (its log's
    accepted and closed lines)."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t = con.text()
        opened = set(re.findall(r"^webshell-gateway: conn (\d+): accepted$", t, re.M))
        closed = set(re.findall(r"^webshell-gateway: conn (\d+): closed ", t, re.M))
        if len(opened - closed) == want:
            return True
        time.sleep(0.1)
    return False


class Meter:
    """The measuring session: one web session, logged in once (by password,
    on the raw TLS client), whose shell reads the kernel's counters and the
    session manager's table (`echo stats`) and the gateway's caps (`echo
    caps webshell-gateway`) over its own WebSocket: the gateway's one open
    connection between the cases, so every reading counts the same one
    session and one connection."""

    PROMPT = b"admin@capos> "

    def __init__(self, port):
        self.cookie, st, body = login(port)
        if not self.cookie:
            raise AssertionError(f"the measuring session did not log in: {st} {body}")
        self.w = Ws(port, self.cookie)
        if self.w.status != 101 or self.PROMPT not in until_prompt(self.w):
            raise AssertionError(f"the measuring session's terminal did not open ({self.w.status})")
        self.unacked = 0
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.stop = False
        threading.Thread(target=self._keepalive, daemon=True).start()

    def _keepalive(self):
        """An empty line now and then: the shell's idle timeout (shortened in
        this image) must end the idle row's session, never this one."""
        while not self.stop:
            time.sleep(1)
            if time.monotonic() - self.last > IDLE_S / 4:
                try:
                    self.run("", rb"")
                except (AssertionError, OSError):
                    return

    def run(self, cmd, want, secs=60):
        """Type cmd; the match of `want` (a bytes regex) in its answer, once the next prompt is there."""
        with self.lock:
            try:
                return self._run(cmd, want, secs)
            finally:
                self.last = time.monotonic()

    def _run(self, cmd, want, secs):
        self.w.send(b"i" + cmd.encode() + b"\r")
        got = b""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            m = self.w.recv(5)
            if not m:
                continue
            if m[1][:1] == b"e":
                raise AssertionError("the measuring session ended: " + m[1][1:].decode("latin-1"))
            if m[1][:1] != b"o":
                continue
            got += m[1][1:]
            self.unacked += len(m[1]) - 1
            if self.unacked >= 4096:                 # credits back, as the page grants them
                self.w.send(b"a" + struct.pack(">I", self.unacked))
                self.unacked = 0
            hit = re.search(want, got)
            if hit and self.PROMPT in got[hit.end():]:
                return hit
        raise AssertionError(f"no answer to {cmd!r}: {got[-500:]!r}")

    def reading(self):
        """The counters now: the kernel's, the session table's (`smcaps`: the session
        manager's caps), and the gateway's caps (`gwcaps`)."""
        k = self.run("echo stats", rb"PROBE kernel (.*)\r?\n").group(1).decode()
        r = {m[0]: int(m[1]) for m in re.findall(r"(\S+)=(\d+)", k.replace("session-manager held=", "smcaps="))}
        r["gwcaps"] = int(self.run("echo caps webshell-gateway", rb"PROBE webshell-gateway held=(\d+)").group(1))
        return r

    def close(self):
        self.stop = True
        try:
            self.w.send(b"x")
        except OSError:
            pass
        self.w.t.close()


# What a leak leaves behind stays: kernel objects, cap slots, processes, the
# session table (open sessions, their caps) and the gateway's caps must be
# exactly back. Three counters also move with work in flight, in both
# directions, for tens of seconds (the network stack's Nic.send and timers,
# the kernel heap's size classes, a process heap's high-water mark): they are
# held to bands around the FIRST baseline, never re-based, so whatever a case
# leaks accumulates over the cases and leaves its band.
EXACT = ("objects", "processes", "slots", "open", "held", "smcaps", "gwcaps")
HEAP_BAND, PENDING_BAND, FRAMES_BAND = 2048, 6, 8


class Teardown:
    """The baseline and each teardown row's reading, judged here (where the
    measuring session is): a reading is taken once the gateway is down to
    the measuring connection, and again every half second until it is back
    at the baseline or 45 s have passed (work in flight settles; a leak
    stays)."""

    def __init__(self, con, meter):
        self.con, self.meter, self.base, self.first = con, meter, None, None

    def baseline(self):
        """Three readings, each field's least (free frames: the most): a call in
        flight at one reading is not counted."""
        if not settle(self.con, 1):
            return None
        reads = [self.meter.reading() for _ in range(3)]
        self.base = {k: (max if k == "frames" else min)(r[k] for r in reads) for k in reads[0]}
        self.first = dict(self.base)
        return self.base

    def differs(self, a):
        d = [k for k in EXACT if a[k] != self.base[k]]
        if a["heap"] > self.first["heap"] + HEAP_BAND:
            d.append("heap")
        if a["pending"] > self.first["pending"] + PENDING_BAND:
            d.append("pending")
        if a["frames"] < self.first["frames"] - FRAMES_BAND:
            d.append("frames")
        if a["opened"] - self.base["opened"] != a["ended"] - self.base["ended"]:
            d.append("opened-ended")
        return d

    def after_case(self, secs=45):
        settled = settle(self.con, 1)
        end = time.monotonic() + secs
        while True:
            a = self.meter.reading()
            diff = self.differs(a)
            if not diff or time.monotonic() > end:
                break
            time.sleep(0.5)
        if not settled:
            diff.append("connections")
        detail = (f"differs: {diff} (heap high {self.first['heap'] + HEAP_BAND}, pending high "
                  f"{self.first['pending'] + PENDING_BAND}, frames low {self.first['frames'] - FRAMES_BAND})\n"
                  f"{json.dumps(self.base)}\n{json.dumps(a)}")
        self.base = a
        return {"ok": not diff, "detail": detail}


def hostile(c, con, port):
    host = f"localhost:{port}"
    origin = "https://" + host
    st, _, body = http(port, "GET", "/", "evil.example")
    c.check("a foreign Host is refused (421 host.unknown)", st == 421 and "host.unknown" in body, f"{st} {body}")
    st, head, body = http(port, "GET", "/", "127.0.0.1:%d" % port)
    c.check("the page answers for 127.0.0.1 too, with its CSP", st == 200 and "script-src 'self'" in head, head)
    st, head, body = http(port, "GET", "/app.js", host)
    c.check("the page's own script is served from the gateway", st == 200 and "caposTerminal" in body, head)
    mark = len(con.text())
    for what, o in (("a foreign Origin", "https://evil.example"), ("no Origin", None),
                    ("an http:// Origin", "http://" + host)):
        st, _, body = http(port, "POST", "/login", host, o, f"user=admin&password={PASSWORD}")
        c.check(f"a login with {what} is refused (403 origin), even with the right password",
                st == 403 and "origin" in body, f"{st} {body}")
    c.check("the refused logins reached no session", "login admin" not in con.text()[mark:], con.text()[mark:])
    st, _, body = http(port, "POST", "/login", host, origin, "user=admin&password=%00x")
    c.check("a login body with a NUL in a field is refused (400 login.body)", st == 400 and "login.body" in body,
            f"{st} {body}")
    st, _, body = http(port, "GET", "/login", host)
    c.check("GET /login is refused (405 method)", st == 405, f"{st} {body}")
    st, _, body = http(port, "GET", "/../etc", host)
    c.check("a path with .. is refused (400 target.path)", st == 400 and "target.path" in body, f"{st} {body}")

    # a WebSocket with a foreign Origin, even with a valid cookie: no shell;
    # that login then ends by itself (the page never opened its terminal)
    mark = len(con.text())
    cookie, st, body = login(port)
    sid = json.loads(body).get("session", "none") if st == 200 else "none"
    w = Ws(port, cookie, "https://evil.example")
    c.check("a WebSocket from a foreign Origin is refused (403 handshake.origin), even with a valid cookie",
            w.status == 403, str(w.status))
    w.t.close()
    w = Ws(port, "capos_webshell=" + "00" * 32)
    c.check("a WebSocket with an unknown cookie is refused (401 ws.no-session)", w.status == 401, str(w.status))
    w.t.close()
    st, _, body = http(port, "POST", "/logout", host, "https://evil.example", "", cookie)
    c.check("a logout from a foreign Origin is refused (403 origin)", st == 403, f"{st} {body}")

    # plaintext on the TLS port: the handshake fails, the gateway serves on
    mark = len(con.text())
    s = socket.create_connection(("127.0.0.1", port), 30)
    s.settimeout(30)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    st, _, _ = http(port, "GET", "/", host)
    c.check("plain HTTP on the TLS port fails its handshake (tls-failed) and the gateway serves on",
            con.wait_for(r"conn \d+: closed \(tls-failed\)", 30, mark) is not None and st == 200,
            con.text()[mark:][-800:])
    return sid


def attach_timeout(c, con, sid):
    """The hostile logins' session (its page never opened the terminal) has
    ended by itself 30 s after the login, meanwhile the browser half ran."""
    m = con.wait_for(rf"webshell-gateway: session {sid}: ended \(attach-timeout\)", 60)
    c.check("a login whose page never opens its terminal ends after 30 s (attach-timeout), having started no shell",
            m is not None and f"session {sid}: shell started" not in con.text(), con.text()[-1500:])


def agent_mode():
    """The replacements that give this image agent mode as make
    run-agent-shell has it (manifests/agent.manifest): its deterministic
    LanguageModel, granted to the broker with the same per-tool map, so the
    web shell is the agent-capable capos-shell."""
    with open(os.path.join(ROOT, "manifests/agent.manifest")) as f:
        text = f.read()
    model = re.search(r"^# The deterministic LanguageModel.*?\n\n", text, re.M | re.S).group(0)
    tools = re.search(r"^    args agent:.*\n", text, re.M).group(0)
    return [("service broker binary=broker", model + "service broker binary=broker"),
            ("    export broker interface=AuthorityBroker\n",
             "    grant model = model.model\n    export broker interface=AuthorityBroker\n" + tools)]


def key_custody(c):
    """The TLS private key is built into the key service (user/tlskey), never
    into the gateway: its P-256 scalar (and the key file) are in one ELF and
    not the other."""
    text = subprocess.run(["openssl", "pkey", "-in", os.path.join(ROOT, "build/tls-dev/dev-key.pem"), "-text", "-noout"],
                          capture_output=True, text=True, check=True).stdout
    m = re.search(r"priv:\s*([0-9a-f:\s]+)pub:", text)
    scalar = int(re.sub(r"[^0-9a-f]", "", m.group(1)), 16).to_bytes(32, "big") if m else None
    with open(os.path.join(ROOT, "build/tls-dev/dev-key.der"), "rb") as f:
        der = f.read()
    elf = {}
    for name in ("tlskey", "webshell-gateway"):
        with open(os.path.join(ROOT, "build/user", name), "rb") as f:
            elf[name] = f.read()
    c.check("the TLS private key is in the key service's binary (the search finds it there)",
            scalar is not None and scalar in elf["tlskey"])
    c.check("the web shell gateway's binary holds neither the TLS private key nor its key file",
            scalar is not None and scalar not in elf["webshell-gateway"] and der not in elf["webshell-gateway"])


def main():
    c = TimedChecks("webshell")
    key_custody(c)
    tmp = scratch("capos-webshell-")
    pkg = boot_package(os.path.join(ROOT, "manifests/system.manifest"), tmp,
                       replace=SESSPROBE_SWAP + [
                                # TIME_WAIT of 1 s (2 MSL), not 60: the many short browser
                                # connections leave the stack's table before each reading
                                ("args dhcp auth=http:80", "args dhcp msl=500 auth=http:80"),
                                # the idle-timeout row waits this long, not 15 minutes
                                ("operator:idle=900:", f"operator:idle={IDLE_S}:")] + agent_mode())
    env = run_network_env()
    g = Guest(pkg=pkg, mem=128, env=env)
    con = None
    try:
        m = g.wait_for(r"^capOS: the web shell \(once the guest is up\): (https://localhost:(\d+)/) ", 30)
        url, port = m.group(1), int(m.group(2))
        c.check("scripts/qemu prints the web shell's https://localhost:PORT/ (127.0.0.1 only)",
                port == int(env["CAPOS_WEB_PORT"]), g.text()[-600:])
        g.wait_for(r"^login: ", 90)
        g.wait_for(r"^webshell-gateway: serving HTTPS on port 443 .*NOT FOR PRODUCTION", 60)
        g.wait_for(r"netstack: dhcp lease", 60)
        g.answer("setup\r", r"password: ")
        g.answer(PASSWORD + "\r", r"again: ")
        g.answer(PASSWORD + "\r", r"^login: ", 30)
        con = Console(g)
        print(f"  {elapsed()} booted, password set")
        sid = hostile(c, con, port)
        meter = Meter(port)
        tear = Teardown(con, meter)
        print(f"  {elapsed()} the measuring session is open")

        def serve(req):
            """One CALL of the browser half: what only this half can see or do."""
            op = req["op"]
            if op == "mark":
                return {"mark": len(con.text())}
            if op == "waitlog":
                m = con.wait_for(req["re"], req.get("timeout", 60), req["since"])
                return {"ok": m is not None, "text": con.text()[req["since"]:][-3000:]}
            if op == "baseline":
                attach_timeout(c, con, sid)
                return {"base": tear.baseline()}
            if op == "teardown":
                return tear.after_case()
            if op == "wsloss":
                return ws_loss(port, req["cookie"])
            if op == "flood":
                return flood(port, req["cookie"])
            return {"ok": False, "detail": "unknown op " + op}

        node = subprocess.Popen(["node", os.path.join(ROOT, "tests/webshell/webshell_test.js"), url, PASSWORD, tmp],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        done = False
        for line in node.stdout:
            line = line.rstrip("\n")
            if line.startswith("CHECK "):
                _, res, rest = line.split(" ", 2)
                what, _, detail = rest.partition(" :: ")
                c.check(what, res == "ok", detail.replace("\\n", "\n"))
            elif line.startswith("CALL "):
                req = json.loads(line[5:])
                try:
                    ans = serve(req)
                except (AssertionError, OSError, ValueError) as e:
                    ans = {"ok": False, "detail": f"{req['op']}: {e}"}
                node.stdin.write(json.dumps(ans) + "\n")
                node.stdin.flush()
            elif line == "DONE":
                done = True
                break
            else:
                print(f"  {elapsed()} {line}")
        meter.close()
        rc = node.wait(60)
        c.check("the browser half ran to its end (it said DONE and exited 0)", done and rc == 0,
                "DONE=%s exit=%s" % (done, rc))
        log = con.text()
        c.check("the gateway never crashed (no restart, no fault)",
                log.count("webshell-gateway: serving HTTPS") == 1 and not re.search(r"webshell-gateway.*(fault|abort)",
                                                                                   log), log[-1500:])
    finally:
        if con:
            con.stop = True
            time.sleep(0.3)
        g.kill()
    c.done("\n".join(l for l in g.text().splitlines() if not l.startswith("[kernel] pci")))


if __name__ == "__main__":
    main()
