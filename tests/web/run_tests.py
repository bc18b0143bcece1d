#!/usr/bin/python3
"""Interop and hostile-client tests of host/web-devserver on 127.0.0.1.

curl (keep-alive, ETag/304, chunked upload), raw sockets (smuggling shapes,
limits, a slow-header client, clients that never read), Python's websockets
(echo, ping, close, a refused Origin), raw WebSocket frames (invalid UTF-8,
unmasked), and headless Chromium via playwright-core opening the page and
echoing through a WebSocket.  Every check asserts behaviour, never timing.
The same server with TLS (the build's development certificate): curl,
wss with Python websockets, Chromium over https, openssl s_client (the
suite negotiated; clients offering only CBC, RSA key exchange, TLS 1.1 or
TLS 1.3 refused); passkeys: Chromium with
a CDP virtual authenticator registers and logs in through lib/webauthn, and
each refusal (bogus signature, no UV, no UP, a replayed response, a foreign
origin, a wrong RP ID, certificate attestation) comes back with its reason;
hostile passkey calls are refused with their reasons; the per-source
rate limit answers 403 rate-limited.
Usage: run_tests.py BUILD_DIR DEVSERVER NODE_DIR TLS_DEV_DIR"""
import asyncio
import base64
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def fnv1a(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def curl(*args):
    r = subprocess.run(["curl", "-s", "--noproxy", "*", *args], capture_output=True, timeout=60)
    return r.stdout


def raw_request(port, data, read_all=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(data)
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
        if not read_all:
            break
    s.close()
    return out


def mask_frame(b0, payload, masked=True):
    key = b"\x11\x22\x33\x44"
    n = len(payload)
    m = 0x80 if masked else 0
    if n < 126:
        h = bytes([b0, m | n])
    elif n < 65536:
        h = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        h = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if masked:
        h += key
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return h + payload


def ws_raw_open(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(20)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "Origin: http://127.0.0.1:%d\r\n\r\n" % (port, port)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(1)
        if not b:
            break
        head += b
    return s, head


def ws_read_close(s):
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        data += b
    # the server's frames are unmasked; find its close frame
    i = 0
    while i + 2 <= len(data):
        n, h = data[i + 1] & 0x7f, 2
        if n == 126:
            n, h = struct.unpack(">H", data[i + 2:i + 4])[0], 4
        elif n == 127:
            n, h = struct.unpack(">Q", data[i + 2:i + 10])[0], 10
        if data[i] == 0x88 and n >= 2:
            return struct.unpack(">H", data[i + h:i + h + 2])[0]
        i += h + n
    return None


def test_curl(port, root):
    base = "http://127.0.0.1:%d" % port
    big = open(os.path.join(root, "big.bin"), "rb").read()
    out = os.path.join(root, "..", "big.out")
    w = curl("-o", "/dev/null", "-o", out, "-w", "%{num_connects} %{http_code}\n", base + "/", base + "/big.bin")
    lines = w.decode().split()
    check(lines == ["1", "200", "0", "200"], "curl keep-alive: two requests, one connection: %r" % lines)
    check(open(out, "rb").read() == big, "curl big.bin content")
    w = curl("-0", "-H", "Connection: keep-alive", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects} %{http_code}\n",
             base + "/", base + "/big.bin")
    lines = w.decode().split()
    check(lines == ["1", "200", "0", "200"], "curl HTTP/1.0 keep-alive: %r" % lines)
    head = curl("-I", base + "/big.bin").decode()
    etag = [l.split(":", 1)[1].strip() for l in head.split("\r\n") if l.lower().startswith("etag:")]
    check(len(etag) == 1, "ETag present")
    code = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: " + (etag[0] if etag else ""),
                base + "/big.bin")
    check(code == b"304", "If-None-Match gives 304: %r" % code)
    up = os.path.join(root, "big.bin")
    r = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + up, base + "/upload")
    j = json.loads(r or b"{}")
    check(j.get("bytes") == len(big) and j.get("fnv1a") == fnv1a(big), "chunked upload: %r" % j)
    r = curl("-H", "Expect: 100-continue", "--data-binary", "@" + up, base + "/upload")
    j = json.loads(r or b"{}")
    check(j.get("bytes") == len(big), "Content-Length upload with 100-continue: %r" % j)
    code = curl("--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", base + "/../../etc/passwd")
    check(code == b"400", "dot-dot path refused: %r" % code)
    code = curl("-o", "/dev/null", "-w", "%{http_code}", base + "/nope.html")
    check(code == b"404", "missing file 404")
    info = json.loads(curl(base + "/api/info") or b"{}")
    check(info.get("server") == "capos-web-devserver", "JSON endpoint")


def test_hostile_http(port):
    host = ("Host: 127.0.0.1:%d\r\n" % port).encode()
    cases = [
        (b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         b"400", b"smuggle.cl-and-te"),
        (b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", b"400",
         b"smuggle.cl-duplicate"),
        (b"POST / HTTP/1.1\r\n" + host + b"Transfer-Encoding: gzip, chunked\r\n\r\n", b"501",
         b"smuggle.te-unsupported"),
        (b"GET / HTTP/1.1\r\n" + host + b"X: a\r\n b\r\n\r\n", b"400", b"header.obs-fold"),
        (b"GET / HTTP/1.1\n" + host + b"\r\n", b"400", b"line.bare-lf"),
        (b"GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n", b"421", b"host.unknown"),
        (b"GET / HTTP/1.1\r\n" + host + b"X: " + b"a" * 9000 + b"\r\n\r\n", b"431", b"header.line-too-long"),
        (b"POST /upload HTTP/1.1\r\n" + host + b"Content-Length: 2000000\r\n\r\n", b"413", b"body.too-large"),
        (b"GET / HTTP/3.0\r\n" + host + b"\r\n", b"505", b"request-line.version"),
    ]
    for req, status, reason in cases:
        r = raw_request(port, req)
        check(r.startswith(b"HTTP/1.1 " + status + b" ") and reason in r and b"Connection: close" in r,
              "hostile %r: %r" % (reason, r[:120]))


async def ws_peer(port):
    url = "ws://127.0.0.1:%d/ws" % port
    origin = "http://127.0.0.1:%d" % port
    async with websockets.connect(url, origin=origin, max_size=2 ** 21) as ws:
        await ws.send("héllo ✓ from python")
        check(await ws.recv() == "héllo ✓ from python", "websockets text echo")
        blob = os.urandom(200000)
        await ws.send(blob)
        check(await ws.recv() == blob, "websockets 200 KB binary echo (fragmented by the server)")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)
        check(True, "ping answered")
        await ws.close(1000, "bye")
    check(ws.close_code == 1000, "close handshake 1000: %r" % ws.close_code)
    try:
        async with websockets.connect(url, origin="http://evil.test"):
            check(False, "foreign Origin accepted")
    except websockets.exceptions.InvalidStatusCode as e:
        check(e.status_code == 403, "foreign Origin refused with 403: %r" % e.status_code)


def test_ws(port):
    asyncio.run(asyncio.wait_for(ws_peer(port), 60))
    s, head = ws_raw_open(port)
    check(head.startswith(b"HTTP/1.1 101 ") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, "raw handshake")
    s.sendall(mask_frame(0x01, b"ok\xed") + mask_frame(0x80, b"\xa0\x80"))
    check(ws_read_close(s) == 1007, "surrogate split across fragments closed with 1007")
    s.close()
    s, head = ws_raw_open(port)
    s.sendall(mask_frame(0x81, b"hi", masked=False))
    check(ws_read_close(s) == 1002, "unmasked frame closed with 1002")
    s.close()
    s, head = ws_raw_open(port)
    s.sendall(mask_frame(0x88, b"\x03\xed"))
    check(ws_read_close(s) == 1002, "close code 1005 on the wire closed with 1002")
    s.close()


def test_slow_and_stuck(port, root, logpath):
    """A slow-header client, an HTTP client and a WebSocket client that never
    read: the server keeps serving others, the slow one gets 408 and the two
    that never read are closed once their output stalls."""
    slow = socket.create_connection(("127.0.0.1", port), timeout=30)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port)
    stuck = socket.create_connection(("127.0.0.1", port), timeout=30)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.setblocking(False)
    req = b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
    sent = 0
    try:
        for _ in range(200):
            sent += stuck.send(req)
    except BlockingIOError:
        pass
    wstuck, head = ws_raw_open(port, rcvbuf=4096)
    wstuck.setblocking(False)
    frame = mask_frame(0x82, b"z" * 60000)
    try:
        for _ in range(2000):
            wstuck.send(frame)
    except BlockingIOError:
        pass
    # others are served meanwhile
    big = open(os.path.join(root, "big.bin"), "rb").read()
    for _ in range(3):
        got = curl("http://127.0.0.1:%d/big.bin" % port)
        check(got == big, "served while others stall")
    asyncio.run(asyncio.wait_for(ws_echo_once(port), 30))
    # the slow client is answered 408 once its header deadline passes
    r = b""
    while True:
        try:
            b = slow.recv(4096)
        except socket.timeout:
            break
        if not b:
            break
        r += b
    check(r.startswith(b"HTTP/1.1 408 ") and b"timeout.header" in r, "slow header gets 408: %r" % r[:60])
    slow.close()
    stalled = 0
    for _ in range(600):
        stalled = open(logpath).read().count("output stalled, closed")
        if stalled >= 2:
            break
        time.sleep(0.1)
    check(stalled == 2, "both clients that never read were closed: %d" % stalled)
    stuck.close()
    wstuck.close()
    got = curl("http://127.0.0.1:%d/big.bin" % port)
    check(got == big, "served after the stuck clients left")


async def ws_echo_once(port):
    async with websockets.connect("ws://127.0.0.1:%d/ws" % port, origin="http://127.0.0.1:%d" % port) as ws:
        await ws.send("still here")
        check(await ws.recv() == "still here", "websocket echo while others stall")


def test_browser(port, node_dir):
    test_browser_url("http://localhost:%d/" % port, node_dir)


def test_browser_url(url, node_dir):
    script = os.path.join(HERE, "browser_test.js")
    env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))
    r = subprocess.run(["node", script, url], capture_output=True, timeout=120,
                       env=env, cwd=node_dir)
    line = r.stdout.decode().strip().splitlines()[-1:] or ["{}"]
    try:
        res = json.loads(line[0])
    except ValueError:
        res = {"error": r.stdout.decode() + r.stderr.decode()}
    want = "echo:héllo from the browser ✓|binary:true|close:1000|server:capos-web-devserver"
    check(res.get("title") == want, "chromium %s page + WebSocket echo: %r" % (url, res))


async def wss_peer(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    async with websockets.connect("wss://localhost:%d/ws" % port, origin="https://localhost:%d" % port,
                                  ssl=ctx, max_size=2 ** 21) as ws:
        await ws.send("über TLS ✓")
        check(await ws.recv() == "über TLS ✓", "wss text echo")
        blob = os.urandom(300000)
        await ws.send(blob)
        check(await ws.recv() == blob, "wss 300 KB binary echo")
    check(ws.close_code == 1000, "wss close 1000")


def test_tls(port, root, tls_dir, node_dir):
    cafile = os.path.join(tls_dir, "dev-cert.pem")
    base = "https://localhost:%d" % port
    big = open(os.path.join(root, "big.bin"), "rb").read()
    out = os.path.join(root, "..", "big-tls.out")
    w = curl("--cacert", cafile, "-o", "/dev/null", "-o", out, "-w", "%{num_connects} %{http_code} %{ssl_verify_result}\n",
             base + "/", base + "/big.bin")
    lines = w.decode().split()
    check(lines == ["1", "200", "0", "0", "200", "0"], "curl https keep-alive, certificate verified: %r" % lines)
    check(os.path.exists(out) and open(out, "rb").read() == big, "https big.bin content")
    r = curl("--cacert", cafile, "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + os.path.join(root, "big.bin"),
             base + "/upload")
    j = json.loads(r or b"{}")
    check(j.get("bytes") == len(big) and j.get("fnv1a") == fnv1a(big), "https chunked upload: %r" % j)
    r = raw_request(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    check(not r.startswith(b"HTTP/"), "plaintext on the TLS port gets no HTTP answer")
    asyncio.run(asyncio.wait_for(wss_peer(port, cafile), 60))
    test_browser_url("https://localhost:%d/" % port, node_dir)


def s_client(port, cafile, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
                        "-CAfile", cafile, "-brief", *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def test_tls_suites(port, tls_dir):
    """openssl s_client: the suite each client gets, and clients offering only weak ones refused."""
    cafile = os.path.join(tls_dir, "dev-cert.pem")
    rc, out = s_client(port, cafile)
    check(rc == 0 and "Protocol version: TLSv1.2" in out and "Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256" in out
          and "Verification: OK" in out, "s_client default: TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256, verified: %r" % out)
    rc, out = s_client(port, cafile, "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
    check(rc == 0 and "Ciphersuite: ECDHE-ECDSA-CHACHA20-POLY1305" in out, "s_client ChaCha20-Poly1305: %r" % out)
    rc, out = s_client(port, cafile, "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
    check(rc == 0 and "Ciphersuite: ECDHE-ECDSA-AES256-GCM-SHA384" in out, "s_client AES256-GCM: %r" % out)
    weak = [("RSA key exchange, AES-CBC-SHA", ["-cipher", "AES128-SHA:AES256-SHA"]),
            ("RSA key exchange, AES-GCM", ["-cipher", "AES128-GCM-SHA256"]),
            ("ECDHE-ECDSA with AES-CBC-SHA", ["-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"]),
            ("ECDHE-ECDSA with AES-CBC-SHA256/384", ["-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384"]),
            ("ECDHE-RSA only", ["-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]),
            ("TLS 1.1", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
            ("TLS 1.3 only", ["-tls1_3"])]
    for what, args in weak:
        rc, out = s_client(port, cafile, *args)
        check(rc != 0 and "CONNECTION ESTABLISHED" not in out, "s_client offering only %s refused: %r" % (what, out))
    rc, out = s_client(port, cafile)
    check(rc == 0 and "CONNECTION ESTABLISHED" in out, "s_client served after the refusals")


def test_webauthn(port, node_dir):
    script = os.path.join(HERE, "webauthn_test.js")
    env = dict(os.environ, NODE_PATH=os.path.join(node_dir, "node_modules"))
    r = subprocess.run(["node", script, str(port)], capture_output=True, timeout=180, env=env, cwd=node_dir)
    line = r.stdout.decode().strip().splitlines()[-1:] or ["{}"]
    try:
        res = json.loads(line[0])
    except ValueError:
        res = {"exception": r.stdout.decode() + r.stderr.decode()}
    check("exception" not in res, "webauthn browser run: %r" % res.get("exception"))
    ok = lambda k: res.get(k, {}).get("ok") is True and res[k].get("user") == "alice"
    err = lambda k, reason: check(res.get(k, {}).get("error") == reason,
                                  "passkey %s refused as %s: %r" % (k, reason, res.get(k)))
    check(ok("register") and res["register"].get("credential"), "passkey registered: %r" % res.get("register"))
    check(ok("login") and res["login"].get("userVerified") is True, "passkey login: %r" % res.get("login"))
    check(ok("login_again") and res["login_again"]["signCount"] > res["login"]["signCount"],
          "second login, sign count grows: %r" % res.get("login_again"))
    check(ok("login_discoverable"), "login with a discoverable credential: %r" % res.get("login_discoverable"))
    rp = res.get("replay", {})
    check(rp.get("first", {}).get("ok") is True and rp.get("replay", {}).get("error") == "challenge.unknown",
          "replayed login response refused as challenge.unknown: %r" % rp)
    err("bogus_signature", "signature")
    err("no_uv", "auth-data.user-verified")
    err("no_up", "auth-data.user-present")
    check(ok("login_after"), "login works again after the refusals: %r" % res.get("login_after"))
    err("register_no_uv", "auth-data.user-verified")
    err("register_direct", "attestation.x5c")
    err("foreign_origin", "client-data.origin")
    err("wrong_rp_id", "auth-data.rp-id-hash")


def tls_request(port, cafile, data):
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(data)
            out = b""
            while True:
                try:
                    b = s.recv(65536)
                except (ConnectionResetError, ssl.SSLError):
                    break
                if not b:
                    break
                out += b
    return out


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def test_passkey_hostile(port, tls_dir):
    """Hostile calls to the passkey endpoints: each refused with its reason; the server goes on."""
    cafile = os.path.join(tls_dir, "dev-cert.pem")
    forged = b64u(b'{"type":"webauthn.create","challenge":"' + b64u(bytes(32)) +
                  b'","origin":"https://localhost:%d"}' % port)
    table = [
        ("register/finish", b"clientDataJSON=" + forged, 400, "request.fields"),
        ("register/finish", b"clientDataJSON=!!!!&attestationObject=oA", 400, "request.fields"),
        ("register/finish", b"clientDataJSON=AAAA&attestationObject=oA", 400, "client-data.json"),
        ("register/finish", b"clientDataJSON=" + forged + b"&attestationObject=oA", 400, "challenge.unknown"),
        ("login/finish", b"id=AAAA&clientDataJSON=" + forged + b"&authenticatorData=AAAA&signature=AAAA", 400,
         "credential.unknown"),
        ("register/begin", b"user=a b", 400, "request.user"),
        ("register/begin", b"user=" + b"x" * 33, 400, "request.user"),
        ("login/begin", b"user=nobody", 400, "account.unknown"),
        ("nope", b"", 404, "request.endpoint"),
        ("register/begin", b"user=" + b"x" * 9000, 413, "request.body-size"),
    ]
    for path, body, status, reason in table:
        r = tls_request(port, cafile, b"POST /api/passkey/%s HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: %d\r\n"
                        b"Connection: close\r\n\r\n%s" % (path.encode(), port, len(body), body))
        head, _, payload = r.partition(b"\r\n\r\n")
        got = (head.split(b" ", 2)[1:2] or [b""])[0].decode(), payload.strip()
        want = (str(status), b'{"error":"%s"}' % reason.encode())
        check(got == want, "passkey %s %r refused: got %r, want %r" % (path, body[:40], got, want))
    r = tls_request(port, cafile, b"GET /passkey.html HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n" % port)
    check(r.startswith(b"HTTP/1.1 200"), "TLS server serves after hostile passkey calls")


def test_passkey_rate_limit(port):
    """The plain server allows 5 passkey calls per source: the 6th is refused."""
    codes = []
    for _ in range(6):
        r = raw_request(port, b"POST /api/passkey/login/begin HTTP/1.1\r\nHost: localhost:%d\r\n"
                        b"Content-Length: 10\r\nConnection: close\r\n\r\nuser=nobod" % port)
        codes.append((r.split(b" ", 2)[1:2] or [b""])[0] + b" " + r[r.find(b"\r\n\r\n") + 4:].strip())
    check(codes[:5] == [b'400 {"error":"account.unknown"}'] * 5 and codes[5] == b'403 {"error":"rate-limited"}',
          "passkey calls per source rate-limited: %r" % codes)


def start_server(server, work, name, root, extra):
    portfile = os.path.join(work, name + ".port")
    log = open(os.path.join(work, name + ".log"), "w")
    proc = subprocess.Popen([server, "--root", root, "--port", "0", "--port-file", portfile] + extra, stderr=log)
    for _ in range(200):
        if os.path.exists(portfile) and open(portfile).read().endswith("\n"):
            break
        time.sleep(0.05)
    return proc, log, int(open(portfile).read())


def main():
    build, server, node_dir, tls_dir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    work = tempfile.mkdtemp(prefix="web-interop-", dir=build)
    root = os.path.join(work, "www")
    os.makedirs(root)
    shutil.copy(os.path.join(HERE, "www", "index.html"), root)
    for f in ("passkey.html", "passkey.js"):
        shutil.copy(os.path.join(HERE, "..", "..", "host", "web-devserver", "www", f), root)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(300000))
    proc, log, port = start_server(server, work, "plain", root,
                                   ["--header-timeout-ms", "2000", "--stall-timeout-ms", "3000",
                                    "--passkey-source-burst", "5"])
    tproc, tlog, tport = start_server(server, work, "tls", root,
                                      ["--tls-cert", os.path.join(tls_dir, "dev-cert.der"),
                                       "--tls-key", os.path.join(tls_dir, "dev-key.der"),
                                       "--webauthn-host", "sub.localhost", "--extra-host", "evil.localhost"])
    try:
        test_curl(port, root)
        test_hostile_http(port)
        test_ws(port)
        test_slow_and_stuck(port, root, os.path.join(work, "plain.log"))
        test_browser(port, node_dir)
        test_tls(tport, root, tls_dir, node_dir)
        test_tls_suites(tport, tls_dir)
        test_webauthn(tport, node_dir)
        test_passkey_hostile(tport, tls_dir)
        test_passkey_rate_limit(port)
        check(proc.poll() is None and tproc.poll() is None, "servers still running (no sanitizer finding)")
    finally:
        for p, lg in ((proc, log), (tproc, tlog)):
            p.terminate()
            p.wait(timeout=10)
            lg.close()
    if failed:
        for name in ("plain", "tls"):
            print(open(os.path.join(work, name + ".log")).read()[-3000:])
    else:
        shutil.rmtree(work)
    print("test-web-interop: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
