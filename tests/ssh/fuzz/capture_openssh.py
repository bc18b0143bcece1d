#!/usr/bin/python3
"""Records what a real OpenSSH client sends and keeps it as ssh fuzz seeds.

Starts the host dev server (host/ssh-devserver) on loopback behind a
recording TCP relay, logs in with /usr/bin/ssh once per cipher the server
offers, types `echo captured` and `exit` into a shell channel, and writes the client's byte stream, cut where the
client's reads split it, as a mode-0 input of fuzz_ssh.c (raw bytes from
the first byte of the connection, in chunks) to seeds/openssh-<cipher>.

The stream is real: OpenSSH's banner, its KEXINIT with every algorithm and
extension it offers, its ECDH init, and the encrypted rest. Replayed against
the fuzzer's deterministic server the encrypted part no longer decrypts (the
client's ephemeral key differs), so it exercises the plaintext negotiation
with what OpenSSH really sends, and the first-packet MAC failure.
Usage: capture_openssh.py DEVSERVER"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CIPHERS = {"chacha": "chacha20-poly1305@openssh.com", "gcm": "aes256-gcm@openssh.com"}
MODE_RAW = 0
CHUNK_MAX = 256          # a chunk's length byte holds length - 1


def relay(lsock, upstream_port, record):
    """Accepts one connection and relays it both ways, keeping the
    client-to-server reads in order."""
    c, _ = lsock.accept()
    s = socket.create_connection(("127.0.0.1", upstream_port))

    def pump(src, dst, keep):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b""
            if not b:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if keep:
                record.append(b)
            dst.sendall(b)

    t = threading.Thread(target=pump, args=(s, c, False))
    t.start()
    pump(c, s, True)
    t.join()
    c.close()
    s.close()


def seed(reads):
    out = bytearray([MODE_RAW])
    for r in reads:
        for i in range(0, len(r), CHUNK_MAX):
            part = r[i:i + CHUNK_MAX]
            out.append(len(part) - 1)
            out += part
    return bytes(out)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    server = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="capos-ssh-capture-")
    env = dict(os.environ, HOME=tmp)
    env.pop("SSH_AUTH_SOCK", None)
    hk, uk = os.path.join(tmp, "host_key"), os.path.join(tmp, "user_key")
    for k in (hk, uk):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True)
    ak = os.path.join(tmp, "authorized_keys")
    shutil.copy(uk + ".pub", ak)
    portf = os.path.join(tmp, "port")
    srv = subprocess.Popen([server, "-p", "0", "-P", portf, "-k", hk, "-a", ak, "-l", os.path.join(tmp, "log")],
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(portf) and open(portf).read().strip():
                break
            time.sleep(0.05)
        port = int(open(portf).read())
        for name, cipher in CIPHERS.items():
            lsock = socket.socket()
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(1)
            reads = []
            t = threading.Thread(target=relay, args=(lsock, port, reads))
            t.start()
            r = subprocess.run(["/usr/bin/ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
                                "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                                "-o", "IdentitiesOnly=yes", "-i", uk, "-c", cipher,
                                "-T", "-p", str(lsock.getsockname()[1]), "alice@127.0.0.1"],
                               env=env, input=b"echo captured\nexit\n", capture_output=True, timeout=30)
            t.join(10)
            lsock.close()
            path = os.path.join(HERE, "seeds", "openssh-" + name)
            with open(path, "wb") as f:
                f.write(seed(reads))
            if r.returncode:
                print(r.stderr.decode(errors="replace").strip())
            print("capture_openssh: %s: ssh exit %d, %d reads, %d bytes -> %s"
                  % (cipher, r.returncode, len(reads), sum(map(len, reads)), os.path.relpath(path, HERE)))
    finally:
        srv.terminate()
        srv.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
