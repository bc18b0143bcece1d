#!/usr/bin/python3
"""Write the fuzzer's seed corpus (tests/capnp-rpc/seeds/) from the captured
C++ vectors: the C++ client's whole stream for the server side (first byte
0), the C++ server's for the client side (first byte 1), and each client
frame alone.  Usage: make_seeds.py vectors.h OUTDIR"""
import os
import re
import sys


def main():
    text = open(sys.argv[1]).read()
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    arrays = {}
    for name, body in re.findall(r"static const unsigned char (\w+)\[\] = \{([0-9,]*)\};", text):
        arrays[name] = bytes(int(x) for x in body.split(",") if x)
    client = [arrays[k] for k in sorted((k for k in arrays if k.startswith("cxx_client_")),
                                        key=lambda k: int(k.rsplit("_", 1)[1]))]
    server = [arrays[k] for k in sorted((k for k in arrays if k.startswith("cxx_server_")),
                                        key=lambda k: int(k.rsplit("_", 1)[1]))]
    open(os.path.join(out, "server-stream"), "wb").write(b"\0" + b"".join(client))
    open(os.path.join(out, "client-stream"), "wb").write(b"\1" + b"".join(server))
    for i, f in enumerate(client[:12]):
        open(os.path.join(out, "server-frame-%02d" % i), "wb").write(b"\0" + b"".join(client[:i]) + f)


if __name__ == "__main__":
    main()
