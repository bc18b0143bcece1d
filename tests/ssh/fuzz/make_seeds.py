#!/usr/bin/python3
"""Writes the fuzzer's seed inputs (see fuzz_ssh.c for the input format)."""
import os
import struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
os.makedirs(here, exist_ok=True)


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack(">I", len(b)) + b


def u32(v):
    return struct.pack(">I", v)


def plain_packet(payload):
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + b"\0" * pad


def chunks(raw, size=200):
    out = b""
    for i in range(0, len(raw), size):
        c = raw[i:i + size]
        out += bytes([len(c) - 1]) + c
    return out


def msgs(*ms):
    return b"".join(struct.pack(">H", len(m)) + m for m in ms)


def make_kexinit(cipher):
    return (bytes([20]) + b"\x11" * 16 + s("curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com")
            + s("ssh-ed25519") + s(cipher) * 2 + s("hmac-sha2-256") * 2
            + s("none") * 2 + s("") * 2 + b"\0" + u32(0))


kexinit = make_kexinit("chacha20-poly1305@openssh.com")
kexinit_gcm = make_kexinit("aes256-gcm@openssh.com")
ecdh = bytes([30]) + s(b"\x09" + b"\0" * 31)
# the mode byte's flags (fuzz_ssh.c): the aes256-gcm suite, a server re-key in progress
GCM, REKEY = 4, 8
seeds = {
    "raw_kex": b"\0" + chunks(b"SSH-2.0-fuzz\r\n" + plain_packet(kexinit) + plain_packet(ecdh)),
    "raw_kex_gcm": b"\0" + chunks(b"SSH-2.0-fuzz\r\n" + plain_packet(kexinit_gcm) + plain_packet(ecdh)),
    "raw_banner": b"\0" + chunks(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"),
    "auth": b"\1" + msgs(
        bytes([50]) + s("alice") + s("ssh-connection") + s("none"),
        bytes([50]) + s("alice") + s("ssh-connection") + s("password") + b"\0" + s("pw"),
        bytes([50]) + s("alice") + s("ssh-connection") + s("publickey") + b"\0" + s("ssh-ed25519")
        + s(s("ssh-ed25519") + s(b"\1" * 32)),
        bytes([50]) + s("alice") + s("ssh-connection") + s("publickey") + b"\1" + s("ssh-ed25519")
        + s(s("ssh-ed25519") + s(b"\1" * 32)) + s(s("ssh-ed25519") + s(b"\2" * 64))),
    "session": b"\2" + msgs(
        bytes([98]) + u32(0) + s("pty-req") + b"\1" + s("xterm") + u32(80) + u32(24) + u32(0) + u32(0) + s(""),
        bytes([98]) + u32(0) + s("window-change") + b"\0" + u32(100) + u32(40) + u32(0) + u32(0),
        bytes([98]) + u32(0) + s("exec") + b"\1" + s("id"),
        bytes([98]) + u32(0) + s("env") + b"\0" + s("LANG") + s("C"),
        bytes([94]) + u32(0) + s("hello\n"),
        bytes([93]) + u32(0) + u32(100000),
        bytes([80]) + s("tcpip-forward") + b"\1" + s("127.0.0.1") + u32(0),
        bytes([80]) + s("keepalive@openssh.com") + b"\1",
        bytes([90]) + s("direct-tcpip") + u32(3) + u32(65536) + u32(32768) + s("h") + u32(1) + s("o") + u32(2),
        bytes([90]) + s("session") + u32(4) + u32(65536) + u32(32768),
        bytes([20]) + kexinit[1:],
        bytes([96]) + u32(0),
        bytes([97]) + u32(0)),
    "rawstream": b"\3" + b"\0\0\0\x10" + b"\xaa" * 40,
}
# the same inputs over the aes256-gcm suite, and in a session while the server re-keys
for name in ("auth", "session", "rawstream"):
    seeds[name + "_gcm"] = bytes([seeds[name][0] | GCM]) + seeds[name][1:]
rekey_msgs = msgs(
    bytes([98]) + u32(0) + s("window-change") + b"\0" + u32(100) + u32(40) + u32(0) + u32(0),
    bytes([98]) + u32(0) + s("env") + b"\1" + s("LANG") + s("C"),
    bytes([94]) + u32(0) + s("queued\n"),
    bytes([80]) + s("keepalive@openssh.com") + b"\1",
    bytes([90]) + s("session") + u32(4) + u32(65536) + u32(32768),
    bytes([2]) + s("ignored"),
    bytes([96]) + u32(0))
seeds["rekey"] = bytes([2 | REKEY]) + rekey_msgs
seeds["rekey_gcm"] = bytes([2 | REKEY | GCM]) + rekey_msgs
seeds["rekey_raw_gcm"] = bytes([3 | REKEY | GCM]) + b"\0\0\0\x10" + b"\xaa" * 40
for name, data in seeds.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
