#!/usr/bin/python3
"""The reference for bench-web: Python's websockets (Debian's
python3-websockets) over Python's ssl (OpenSSL), an echo at every path,
with the same certificate, protocol version and suite as the dev server:
TLS 1.2, ECDHE-ECDSA-AES128-GCM-SHA256.  usage: ref_server.py CERT.pem KEY.pem PORTFILE"""
import asyncio
import ssl
import sys

import websockets


async def echo(ws, *_):
    async for msg in ws:
        await ws.send(msg)


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    async with websockets.serve(echo, "127.0.0.1", 0, ssl=ctx, max_size=2 ** 21) as server:
        port = server.sockets[0].getsockname()[1]
        with open(sys.argv[3], "w") as f:
            f.write("%d\n" % port)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
