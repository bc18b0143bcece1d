"""The Linux side of the comparison: services on the second namespace's
kernel, matching net-tap's: 7 echo, 19 source (sends until the peer goes)."""
import socket
import sys
import threading


def echo(c):
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
    except OSError:
        pass
    c.close()


def source(c):
    chunk = bytes(range(256)) * 256
    try:
        while True:
            c.sendall(chunk)
    except OSError:
        pass
    c.close()


def serve(port, fn):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(1024)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=fn, args=(c,), daemon=True).start()


for port, fn in ((7, echo), (19, source)):
    threading.Thread(target=serve, args=(port, fn), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()                # runs until the driver closes our stdin
