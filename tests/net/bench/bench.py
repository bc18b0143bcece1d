"""Benchmark: Linux <-> lib/net over a TAP device, against Linux <-> Linux
over a veth pair, with the same client code and the same services.
Reports figures, never fails on them. Runs inside namespaces made by
tests/net/tap/run.sh (NET_NS_B names the second one)."""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

TAP = "ntap0"
SOURCE_LEN = 64 << 20


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True)


# --- the Linux services for the baseline (same protocol as net-tap's) -------

def serve(addr, source_len):
    blob = os.urandom(1 << 20)

    def sink(c):
        n = 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            n += len(b)
        c.sendall(b"%d -\n" % n)
        c.close()

    def echo(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.close()

    def http(c):
        req = b""
        while b"\r\n\r\n" not in req:
            b = c.recv(4096)
            if not b:
                break
            req += b
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % source_len)
        left = source_len
        while left:
            k = min(left, len(blob))
            c.sendall(blob[:k])
            left -= k
        c.close()

    def listener(port, fn):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(64)
        while True:
            c, _ = s.accept()
            threading.Thread(target=fn, args=(c,), daemon=True).start()

    for port, fn in ((9, sink), (7, echo), (80, http)):
        threading.Thread(target=listener, args=(port, fn), daemon=True).start()
    print("serving", flush=True)
    sys.stdin.read()


# --- the client measurements -------------------------------------------------

def upload(ip, total):
    s = socket.create_connection((ip, 9), timeout=60)
    buf = os.urandom(1 << 20)
    t0 = time.perf_counter()
    left = total
    while left:
        k = min(left, len(buf))
        s.sendall(buf[:k])
        left -= k
    s.shutdown(socket.SHUT_WR)
    reply = s.recv(200)
    dt = time.perf_counter() - t0
    s.close()
    assert int(reply.split()[0]) == total, reply
    return total / dt


def download(ip):
    s = socket.create_connection((ip, 80), timeout=60)
    t0 = time.perf_counter()
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        n += len(b)
    dt = time.perf_counter() - t0
    s.close()
    return (n - 100) / dt if n > SOURCE_LEN else 0.0


def pingpong(ip, rounds):
    s = socket.create_connection((ip, 7), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 32
    rtts = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < len(msg):
            got += len(s.recv(64))
        rtts.append(time.perf_counter() - t0)
    s.close()
    rtts.sort()
    return statistics.median(rtts) * 1e6, rtts[int(len(rtts) * 0.99)] * 1e6


def measure(ip, label):
    up = max(upload(ip, 256 << 20) for _ in range(2))
    down = max(download(ip) for _ in range(2))
    med, p99 = pingpong(ip, 3000)
    print("%-26s upload %7.0f MB/s   download %7.0f MB/s   ping-pong median %6.1f us  p99 %6.1f us"
          % (label, up / 1e6, down / 1e6, med, p99), flush=True)
    return up, down, med


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin")
    ap.add_argument("--tmp")
    ap.add_argument("--serve")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, SOURCE_LEN)
        return
    nsb = os.environ["NET_NS_B"]
    sh("ip link set lo up")
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
    src = os.path.join(args.tmp, "src")
    with open(src, "wb") as f:
        f.write(os.urandom(SOURCE_LEN))
    # Our stack on the TAP.
    tap = subprocess.Popen([args.bin, "--tap", TAP, "--ip", "10.77.0.2/24", "--source-file", src,
                            "--tcbs", "16", "--buf", os.environ.get("NET_BENCH_BUF", "131072")],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    assert tap.stdout.readline().strip() == "ready"
    sh("ip link set %s up && ip addr add 10.77.0.1/24 dev %s" % (TAP, TAP))
    # The baseline: a veth pair into the second namespace, a Python server there.
    sh("ip link add vbA type veth peer name vbB netns %s" % nsb)
    sh("ip addr add 10.88.0.1/24 dev vbA && ip link set vbA up")
    sh("ip netns exec %s sh -c 'ip link set lo up; ip addr add 10.88.0.2/24 dev vbB; ip link set vbB up'" % nsb)
    srv = subprocess.Popen(["ip", "netns", "exec", nsb, sys.executable, os.path.abspath(__file__),
                            "--serve", "10.88.0.2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert srv.stdout.readline().strip() == "serving"
    time.sleep(0.3)
    try:
        print("bench-net: 256 MiB uploads, 64 MiB downloads, 3000 x 32-byte round trips (best of 2)")
        ours = measure("10.77.0.2", "Linux <-> lib/net (TAP)")
        base = measure("10.88.0.2", "Linux <-> Linux (veth)")
        print("ratios (ours / baseline): upload %.2f  download %.2f  ping-pong latency x%.2f"
              % (ours[0] / base[0], ours[1] / base[1], ours[2] / base[2]))
        r = sh("ip netns exec %s iperf3 -s -1 -D -B 10.88.0.2" % nsb, check=False)
        time.sleep(0.3)
        r = sh("iperf3 -c 10.88.0.2 -t 2 -J", check=False)
        if r.returncode == 0:
            bps = json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"]
            print("reference: iperf3 Linux -> Linux over veth %.0f MB/s" % (bps / 8e6))
        tap.stdin.write("sizes\n")
        tap.stdin.flush()
        line = tap.stdout.readline().split()
        stack, tcb, sb, rb = int(line[2]), int(line[4]), int(line[6]), int(line[8])
        print("memory: %d bytes per connection, idle or busy (control block %d + send ring %d + "
              "receive ring %d, fixed at start); stack state %d bytes"
              % (tcb + sb + rb, tcb, sb, rb, stack))
    finally:
        tap.stdin.write("quit\n")
        tap.stdin.flush()
        tap.wait(timeout=5)
        srv.stdin.close()
        srv.kill()


if __name__ == "__main__":
    main()
