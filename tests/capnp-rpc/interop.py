#!/usr/bin/python3
"""test-capnp-rpc-interop: Debian's C++ Cap'n Proto RPC client (libcapnp-rpc
0.9.2, tests/capnp-rpc/cxx/client.c++) against lib/capnp-rpc in the
loopback dev server (tests/capnp-rpc/devserver.c, ASan/UBSan).

Rows: password login with calls pipelined on answers not yet returned,
list, system-info, session info, a released cap, each denial (wrong
interface, unknown method, unimplemented, unknown cap), logout and the
calls after it (disconnected); a key login (Ed25519 challenge); a wrong
password; 20 connections at once.  After each, the dev server's line for
the connection must say it left nothing behind (live=0).
Usage: interop.py DEVSERVER CLIENT CAPOS-REMOTE"""
import atexit
import base64
import os
import queue
import shutil
import subprocess
import tempfile
import sys
import threading

SEED = "4242424242424242424242424242424242424242424242424242424242424242"
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def main():
    dev, client, cremote = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="capnp-rpc-interop-")
    atexit.register(shutil.rmtree, tmp, True)
    sshkey = os.path.join(tmp, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", sshkey], check=True)
    sshpub = base64.b64decode(open(sshkey + ".pub").read().split()[1])[-32:].hex()
    pub = subprocess.run([client, "-", "0", "pubkey", SEED], capture_output=True, text=True).stdout.strip()
    srv = subprocess.Popen([dev, "--key", pub, "--key", sshpub], stdout=subprocess.PIPE, text=True)
    port = srv.stdout.readline().split()[1]
    closed = queue.Queue()

    def reader():
        for line in srv.stdout:
            if line.startswith("closed"):
                closed.put(line.split())

    threading.Thread(target=reader, daemon=True).start()

    def run(*args):
        r = subprocess.run([client, "127.0.0.1", port] + list(args), capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout.splitlines()

    def ended_clean(n=1):
        for _ in range(n):
            f = closed.get(timeout=20)
            kv = dict(x.split("=", 1) for x in f[2:])
            check(kv["live"] == "0", "connection %s left %s entries" % (f[1], kv["live"]))

    rc, out = run("password")
    check(rc == 0, "password run exit %d" % rc)
    expect = [
        "ok login result=0",
        "ok pipelined-echo pipelined hello",
        "ok entry session 9eda9cdc566606d0 this login: info, logout",
        "ok entry system-info f3fb10e3bf03f343 uptime, versions, memory and process counts (read-only)",
        "ok entry echo f72e07eb2e0c33a9 answers with the bytes it is given",
        "ok system-info uptime=1234567 kernel=capOS test processes=7",
        "ok session principal=admin auth=password",
        "ok echo released",
        "denied wrong-interface unimplemented unknown-interface",
        "denied unknown-method unimplemented unknown-method",
        "denied unimplemented unimplemented unimplemented",
        "denied unknown-cap failed unknown-cap",
        "ok logout",
        "denied after-logout disconnected disconnected",
        "denied capset-after-logout disconnected disconnected",
        "ok done",
    ]
    for line in expect:
        check(line in out, "C++ client: no line %r (got %r)" % (line, out))
    ended_clean()

    rc, out = run("key", SEED)
    check(rc == 0 and "ok key-login result=0" in out and "ok session principal=admin auth=publicKey" in out,
          "key login: %r" % out)
    ended_clean()

    rc, out = run("key", "11" * 32)
    check("ok key-login result=1" in out, "a key not authorized is denied: %r" % out)
    ended_clean()

    rc, out = run("wrong")
    check(rc == 0 and "ok wrong-password result=1 hascap=0" in out, "wrong password: %r" % out)
    ended_clean()

    # our C client, the same rows
    def crem(*args, key=None, password="secret"):
        cmd = [cremote, "--port", port] + (["--key", key] if key else []) + ["login", "admin"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, CAPOS_REMOTE_PASSWORD=password))
        return r.returncode, r.stdout

    rc, out = crem("list", "call system-info", "call echo hello there", "call session", "logout", "call echo x")
    check("echo         f72e07eb2e0c33a9  answers with the bytes it is given" in out, "capos-remote list: %r" % out)
    check("processes 7\n" in out and "kernel capOS test\n" in out, "capos-remote system-info: %r" % out)
    check("\nhello there\n" in out, "capos-remote echo: %r" % out)
    check("auth password\n" in out, "capos-remote session: %r" % out)
    check("logged out\ndenied disconnected disconnected\n" in out and rc == 4, "capos-remote logout rc=%d %r" % (rc, out))
    ended_clean()
    rc, out = crem("call session", key=sshkey)
    check(rc == 0 and "auth publicKey\n" in out, "capos-remote --key rc=%d %r" % (rc, out))
    ended_clean()
    rc, out = crem("list", password="nope")
    check(rc == 3 and "login denied (1)" in out, "capos-remote wrong password rc=%d %r" % (rc, out))
    ended_clean()
    rc, out = crem("list", key=sshkey + ".pub")
    check(rc == 1, "capos-remote: a file that is no private key is a usage error (rc=%d)" % rc)
    ended_clean()
    rc = subprocess.run([cremote, "--port", "1", "login", "admin", "list"], capture_output=True,
                        env=dict(os.environ, CAPOS_REMOTE_PASSWORD="x")).returncode
    check(rc == 2, "capos-remote: no gateway: exit 2 (got %d)" % rc)

    procs = [subprocess.Popen([client, "127.0.0.1", port, "echo-loop", "50"], stdout=subprocess.PIPE, text=True)
             for _ in range(20)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    check(all("ok echo-loop 50" in o for o in outs), "20 concurrent connections")
    ended_clean(20)

    srv.kill()
    srv.wait()
    print("capnp-rpc interop: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
