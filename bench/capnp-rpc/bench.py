#!/usr/bin/python3
"""bench-capnp-rpc-loopback: Cap'n Proto RPC round trips on the host's
loopback, the same C++ client (tests/capnp-rpc/cxx/client.c++, bench mode:
Echo.echo of 5 bytes) against lib/capnp-rpc (the dev server, built -O2
without sanitizers) and against Debian's C++ EzRpcServer
(tests/capnp-rpc/cxx/server.c++).  One call at a time (round trip) and 16
in flight (calls per second).  Reported, never asserted.
Usage: bench.py DEVSERVER CXXSERVER CLIENT"""
import os
import subprocess
import sys

CALLS = int(os.environ.get("CRPC_BENCH_CALLS", "4000"))


def serve(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    return p, p.stdout.readline().split()[1]


def run(client, port, depth):
    best = None
    for _ in range(3):
        out = subprocess.run([client, "127.0.0.1", port, "bench", str(CALLS), str(depth)], capture_output=True,
                             text=True, env=dict(os.environ, REMOTE_PASSWORD="secret"), timeout=300).stdout
        line = [x for x in out.splitlines() if x.startswith("ok bench")]
        ns = int(line[0].split("ns=")[1]) if line else None
        if ns and (best is None or ns < best):
            best = ns
    return best


def main():
    dev, cxx, client = sys.argv[1:4]
    rows = []
    for name, cmd in (("lib/capnp-rpc (C)", [dev, "--port", "0"]), ("C++ EzRpcServer", [cxx, "127.0.0.1", "0"])):
        p, port = serve(cmd)
        try:
            rt = run(client, port, 1)
            tp = run(client, port, 16)
        finally:
            p.kill()
            p.wait()
        rows.append((name, rt, tp))
    print("capnp-rpc loopback, %d Echo.echo calls, best of 3 (C++ client):" % CALLS)
    print("  %-20s %14s %18s" % ("server", "round trip", "16 in flight"))
    for name, rt, tp in rows:
        print("  %-20s %11.1f us %13.0f calls/s" % (name, rt / CALLS / 1000.0, CALLS / (tp / 1e9)))


if __name__ == "__main__":
    main()
