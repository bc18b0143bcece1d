#!/usr/bin/python3
"""test-webshell: the web shell gateway inside capOS (user/webshell-gateway)
on make run's system (manifests/system.manifest, with the test-only
sessprobe as the operator's echo so the kernel's tables can be read from a
shell), booted by scripts/qemu with make run's network: the printed
https://localhost:PORT/ is what the tests use.

The operator's password is set on the serial console (`setup`), as a person
would. This half holds the console and speaks raw TLS: the development
certificate verifies for localhost; a foreign Host, a foreign or missing
Origin (login, logout, WebSocket) and plaintext on the TLS port are refused
with their reasons and start no shell; a login whose page never opens its
terminal ends by itself; a dropped WebSocket and a client that never grants
credits (flow control) are played for the browser half on request.
The browser half (webshell_test.js, headless Chromium through
playwright-core) logs in, reads `session`, `caps` and the kernel's tables
from the page, resizes, pastes, screenshots, and proves each teardown
(logout, tab close, shell exit, WebSocket loss, failed logins and a stale
cookie) brings the kernel's counters, the session table and the gateway's
caps back to the baseline. Passkeys with a CDP virtual authenticator: one
registered from a password session, a later login with it alone, and
refused assertions (bogus signature, no user verification, a foreign
origin, a replayed challenge) that start no shell."""
import base64
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import SESSPROBE_SWAP, Checks, Guest, ROOT, boot_package, free_port  # noqa: E402

PASSWORD = "s3cret-horse"
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


def ws_loss(port, con):
    cookie, _, _ = login(port)
    if not cookie:
        return {"ok": False}
    w = Ws(port, cookie)
    ok = w.status == 101 and b"admin@capos> " in until_prompt(w)
    w.drop()
    return {"ok": ok}


def flood(port, con):
    """No credits granted: `help` typed 60 times (well over 64 KiB of
    output); at most the window arrives, then nothing; one grant of 65536
    lets at most that much more through."""
    cookie, _, _ = login(port)
    if not cookie:
        return {"ok": False, "detail": "no login"}
    w = Ws(port, cookie)
    if w.status != 101:
        return {"ok": False, "detail": f"ws {w.status}"}

    def drain(quiet):
        n = 0
        while True:
            m = w.recv(quiet)
            if not m:
                return n
            if m[1][:1] == b"o":
                n += len(m[1]) - 1

    first = drain(5)                        # the greeting and the prompt
    for _ in range(60):
        w.send(b"ihelp\r")
    first += drain(8)
    w.send(b"a" + struct.pack(">I", 65536))
    second = drain(8)
    w.send(b"x")
    detail = f"without credits {first} bytes, after a grant of 65536 {second} more"
    return {"ok": 60000 < first <= 65536 and 0 < second <= 65536, "detail": detail}


def settle(con, want, secs=90):
    """Wait until the gateway has `want` connections open (its log's
    accepted and closed lines): idle keep-alive ones end at its 10 s
    header deadline."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t = con.text()
        opened = set(re.findall(r"^webshell-gateway: conn (\d+): accepted$", t, re.M))
        closed = set(re.findall(r"^webshell-gateway: conn (\d+): closed ", t, re.M))
        if len(opened - closed) == want:
            return True
        time.sleep(0.2)
    return False


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
    w = Ws(port, cookie, "https://evil.example")
    c.check("a WebSocket from a foreign Origin is refused (403 handshake.origin), even with a valid cookie",
            w.status == 403, str(w.status))
    w.t.close()
    w = Ws(port, "capos_webshell=" + "00" * 32)
    c.check("a WebSocket with an unknown cookie is refused (401 ws.no-session)", w.status == 401, str(w.status))
    w.t.close()
    st, _, body = http(port, "POST", "/logout", host, "https://evil.example", "", cookie)
    c.check("a logout from a foreign Origin is refused (403 origin)", st == 403, f"{st} {body}")
    m = con.wait_for(r"webshell-gateway: session \w+: ended \(attach-timeout\)", 90, mark)
    c.check("a login whose page never opens its terminal ends after 30 s (attach-timeout), having started no shell",
            m is not None and "shell started" not in con.text()[mark:], con.text()[mark:][-1500:])

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


def main():
    c = Checks("webshell")
    tmp = tempfile.mkdtemp(prefix="capos-webshell-")
    pkg = boot_package(os.path.join(ROOT, "manifests/system.manifest"), tmp,
                       replace=SESSPROBE_SWAP + [
                                # TIME_WAIT of 1 s (2 MSL), not 60: the many short browser
                                # connections leave the stack's table before each reading
                                ("args dhcp auth=http:80", "args dhcp msl=500 auth=http:80")])
    for k, v in (("CAPOS_NET", "user"), ("CAPOS_HTTP_PORT", free_port()), ("CAPOS_SSH_PORT", free_port()),
                 ("CAPOS_WEB_PORT", free_port())):
        os.environ[k] = str(v)
    g = Guest(pkg=pkg, mem=128)
    con = None
    try:
        m = g.wait_for(r"^capOS: the web shell \(once the guest is up\): (https://localhost:(\d+)/) ", 30)
        url, port = m.group(1), int(m.group(2))
        c.check("scripts/qemu prints the web shell's https://localhost:PORT/ (127.0.0.1 only)",
                port == int(os.environ["CAPOS_WEB_PORT"]), g.text()[-600:])
        g.wait_for(r"^login: ", 90)
        g.wait_for(r"^webshell-gateway: serving HTTPS on port 443 .*NOT FOR PRODUCTION", 60)
        g.wait_for(r"netstack: dhcp lease", 60)
        g.send("setup\r")
        for _ in range(2):
            g.wait_for(r"^(password|again): \Z", 20)
            g.send(PASSWORD + "\r")
        g.wait_for(r"^login: \Z", 30)
        con = Console(g)
        hostile(c, con, port)

        node = subprocess.Popen(["node", os.path.join(ROOT, "tests/webshell/webshell_test.js"), url, PASSWORD, tmp],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        for line in node.stdout:
            line = line.rstrip("\n")
            if line.startswith("CHECK "):
                _, res, rest = line.split(" ", 2)
                what, _, detail = rest.partition(" :: ")
                c.check(what, res == "ok", detail.replace("\\n", "\n"))
            elif line.startswith("CALL "):
                req = json.loads(line[5:])
                if req["op"] == "mark":
                    ans = {"mark": len(con.text())}
                elif req["op"] == "waitlog":
                    m = con.wait_for(req["re"], req.get("timeout", 60), req["since"])
                    ans = {"ok": m is not None, "text": con.text()[req["since"]:][-3000:]}
                elif req["op"] == "settle":
                    ans = {"ok": settle(con, req["open"])}
                elif req["op"] == "wsloss":
                    ans = ws_loss(port, con)
                else:
                    ans = flood(port, con)
                node.stdin.write(json.dumps(ans) + "\n")
                node.stdin.flush()
            elif line == "DONE":
                break
            else:
                print(line)
        node.wait(60)
        log = con.text()
        c.check("the gateway never crashed (no restart, no fault)",
                log.count("webshell-gateway: serving HTTPS") == 1 and not re.search(r"webshell-gateway.*(fault|abort)",
                                                                                   log), log[-1500:])
    finally:
        if con:
            con.stop = True
            time.sleep(0.3)
        g.kill()
        for k in ("CAPOS_NET", "CAPOS_HTTP_PORT", "CAPOS_SSH_PORT", "CAPOS_WEB_PORT"):
            os.environ.pop(k, None)
    c.done("\n".join(l for l in g.text().splitlines() if not l.startswith("[kernel] pci")))


if __name__ == "__main__":
    main()
