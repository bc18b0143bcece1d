#!/usr/bin/python3
"""make bench: host/web-devserver (lib/tls over BearSSL, lib/http, lib/ws)
against a reference on the same machine in the same run: Python's
websockets over Python's ssl (OpenSSL), bench/web/ref_server.py.  Both use
the build's development certificate (ECDSA P-256), TLS 1.2 and
ECDHE-ECDSA-AES128-GCM-SHA256, and are measured with the same clients:

  handshakes/s: `openssl s_time -new` (a full handshake per connection, no
                resumption, nothing sent after it) for a fixed time; the
                rounds alternate between the servers; median of the rounds.
  echo RTT:     one wss connection from Python's websockets client; a
                32-byte text message, then a 64 KiB binary one, sent and
                awaited one at a time; median and 99th percentile.

Ratios are web-devserver / reference (above 1: the dev server does more
handshakes per second, or takes longer per round trip).  Reports figures,
never fails on them.  usage: bench.py BUILD_DIR"""
import asyncio
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(BUILD, "host/web-devserver/web-devserver")
TLS = os.path.join(BUILD, "tls-dev")
SUITE = "ECDHE-ECDSA-AES128-GCM-SHA256"
ROUNDS = int(os.environ.get("WEB_BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("WEB_BENCH_SECONDS", "4"))
SMALL, SMALL_N = b"x" * 32, 2000
BIG, BIG_N = os.urandom(65536), 200


def start(args, portfile):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(portfile) and open(portfile).read().endswith("\n"):
            return p, int(open(portfile).read())
        time.sleep(0.05)
    p.kill()
    raise RuntimeError("server did not start: %s" % args[0])


def temp_key(port):
    """The ECDHE group the handshake used, as s_client names it."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-brief", "-tls1_2", "-cipher", SUITE],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    m = re.search(r"(?:Server|Peer) Temp Key: ([^\n]+)", r.stdout + r.stderr)
    return m.group(1).strip() if m else "?"


def handshakes(port):
    t0 = time.perf_counter()
    r = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % port, "-new", "-time", str(SECONDS),
                        "-tls1_2", "-cipher", SUITE], capture_output=True, text=True, timeout=SECONDS + 60)
    wall = time.perf_counter() - t0
    m = re.search(r"(\d+) connections in [\d.]+s", r.stdout)
    return int(m.group(1)) / wall if m else None


async def echo_rtt(port):
    import websockets
    ctx = ssl.create_default_context(cafile=os.path.join(TLS, "dev-cert.pem"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    out = {}
    async with websockets.connect("wss://localhost:%d/ws" % port, ssl=ctx, origin="https://localhost:%d" % port,
                                  max_size=2 ** 21, compression=None) as ws:
        for name, msg, n in (("small", SMALL.decode(), SMALL_N), ("big", BIG, BIG_N)):
            times = []
            for i in range(n + n // 10):
                t0 = time.perf_counter()
                await ws.send(msg)
                back = await ws.recv()
                dt = time.perf_counter() - t0
                if back != msg:
                    raise RuntimeError("echo mismatch")
                if i >= n // 10:
                    times.append(dt * 1e6)
            times.sort()
            out[name] = (statistics.median(times), times[int(len(times) * 0.99) - 1])
    return out


def fmt(v, unit):
    return "%10.1f %s" % (v, unit) if v is not None else "%10s %s" % ("-", unit)


def ratio(a, b):
    return "%6.2f" % (a / b) if a and b else "     -"


def main():
    if not os.path.exists(SERVER):
        print("bench-web: %s missing (make all)" % SERVER)
        return 0
    work = tempfile.mkdtemp(prefix="bench-web-", dir=BUILD)
    ours, ref = None, None
    try:
        ours, oport = start([SERVER, "--root", os.path.join(ROOT, "host/web-devserver/www"), "--port", "0",
                             "--port-file", os.path.join(work, "ours.port"),
                             "--tls-cert", os.path.join(TLS, "dev-cert.der"),
                             "--tls-key", os.path.join(TLS, "dev-key.der")], os.path.join(work, "ours.port"))
        ref, rport = start(["/usr/bin/python3", os.path.join(HERE, "ref_server.py"), os.path.join(TLS, "dev-cert.pem"),
                            os.path.join(TLS, "dev-key.pem"), os.path.join(work, "ref.port")],
                           os.path.join(work, "ref.port"))
        hs = {"ours": [], "ref": []}
        for _ in range(ROUNDS):
            for name, port in (("ours", oport), ("ref", rport)):
                v = handshakes(port)
                if v:
                    hs[name].append(v)
        med = {k: statistics.median(v) if v else None for k, v in hs.items()}
        groups = (temp_key(oport), temp_key(rport))
        rtt = {name: asyncio.run(echo_rtt(port)) for name, port in (("ours", oport), ("ref", rport))}
    except Exception as e:  # a benchmark reports, never fails
        print("bench-web: not measured: %s" % e)
        return 0
    finally:
        for p in (ours, ref):
            if p:
                p.terminate()
                p.wait(timeout=10)
    print("bench-web: TLS 1.2 %s, ECDSA P-256 certificate, loopback, same clients for both" % SUITE)
    print("bench-web: key exchange: web-devserver %s, reference %s" % groups)
    print("%-34s %16s %16s %8s" % ("", "web-devserver", "python ws+ssl", "ratio"))
    print("%-34s %16s %16s %8s" % ("TLS handshakes/s (s_time -new)", fmt(med["ours"], "/s"), fmt(med["ref"], "/s"),
                                   ratio(med["ours"], med["ref"])))
    for name, label in (("small", "wss echo RTT, 32 B text"), ("big", "wss echo RTT, 64 KiB binary")):
        o, r = rtt["ours"][name], rtt["ref"][name]
        print("%-34s %16s %16s %8s" % (label + " (median)", fmt(o[0], "us"), fmt(r[0], "us"), ratio(o[0], r[0])))
        print("%-34s %16s %16s %8s" % (label + " (p99)", fmt(o[1], "us"), fmt(r[1], "us"), ratio(o[1], r[1])))
    print("bench-web: handshake rounds (ours/ref): %s / %s" %
          (" ".join("%.0f" % v for v in hs["ours"]), " ".join("%.0f" % v for v in hs["ref"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
