#!/usr/bin/python3
"""Records a real dnsmasq DHCP exchange and keeps it as a net fuzz seed.

In a network namespace of its own (it re-runs itself under `unshare -n`, so
nothing outside is touched): a veth pair, dnsmasq serving 10.0.0.2 on one
end, and on the other a raw-socket client with the stack's MAC that sends
DISCOVER and REQUEST byte by byte and keeps the OFFER and ACK frames exactly
as dnsmasq sent them. Writes seeds/dhcp-dnsmasq: role 2 (the DHCP client)
and the two frames as records with the DHCP-reply flag (frame_fuzz.c fixes
the xid and checksums, nothing else).
Usage: capture_dhcp.py (as root)"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUR_MAC = bytes([2, 0, 0, 0, 0, 2])
SERVER_IP, CLIENT_IP = "10.0.0.1", "10.0.0.2"
ROLE_DHCP = 2
FIX_IP, FIX_L4, DHCP_REPLY = 1, 2, 64
BOOTREQUEST, DISCOVER, OFFER, REQUEST, ACK = 1, 1, 2, 3, 5
XID = 0x1c0ffee1


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def request_frame(msg_type, extra_opts):
    bootp = struct.pack("!BBBBIHH4s4s4s4s", BOOTREQUEST, 1, 6, 0, XID, 0, 0x8000, bytes(4), bytes(4), bytes(4),
                        bytes(4))
    bootp += OUR_MAC + bytes(10) + bytes(64) + bytes(128) + struct.pack("!I", 0x63825363)
    opts = bytes([53, 1, msg_type]) + extra_opts + bytes([55, 4, 1, 3, 6, 51, 255])
    payload = bootp + opts
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    src, dst = bytes(4), b"\xff" * 4
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", csum(pseudo + udp) or 0xffff) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\xff" * 6 + OUR_MAC + b"\x08\x00" + ip + udp


def dhcp_type(frame):
    """The DHCP message type of a reply to XID, or None."""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    udp = frame[14 + ihl:]
    if struct.unpack("!H", udp[2:4])[0] != 68:
        return None
    bootp = udp[8:]
    if struct.unpack("!I", bootp[4:8])[0] != XID:
        return None
    i = 240
    while i + 1 < len(bootp) and bootp[i] != 255:
        if bootp[i] == 0:
            i += 1
            continue
        if bootp[i] == 53:
            return bootp[i + 2]
        i += 2 + bootp[i + 1]
    return None


def wait_reply(s, want, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.1, end - time.time()))
        try:
            f = s.recv(2048)
        except socket.timeout:
            break
        if dhcp_type(f) == want:
            return f
    raise SystemExit("capture_dhcp: no DHCP message %d from dnsmasq" % want)


def record(flags, advance_ms, frame):
    return struct.pack(">BBH", flags, advance_ms, len(frame)) + frame


def inside():
    tmp = tempfile.mkdtemp(prefix="capos-dhcp-capture-")
    sh("ip link set lo up")
    sh("ip link add srv type veth peer name cli")
    sh("ip link set cli address %s" % ":".join("%02x" % b for b in OUR_MAC))
    sh("ip addr add %s/24 dev srv" % SERVER_IP)
    sh("ip link set srv up && ip link set cli up")
    d = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0", "--interface=srv",
                          "--bind-interfaces", "--no-resolv", "--no-hosts", "--no-ping",
                          "--dhcp-range=%s,%s,255.255.255.0,2m" % (CLIENT_IP, CLIENT_IP),
                          "--dhcp-option=3," + SERVER_IP, "--dhcp-option=6," + SERVER_IP,
                          "--dhcp-leasefile=" + os.path.join(tmp, "leases"),
                          "--pid-file=" + os.path.join(tmp, "pid")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        s.bind(("cli", 0))
        s.send(request_frame(DISCOVER, b""))
        offer = wait_reply(s, OFFER)
        server_id = socket.inet_aton(SERVER_IP)
        s.send(request_frame(REQUEST, bytes([50, 4]) + socket.inet_aton(CLIENT_IP) + bytes([54, 4]) + server_id))
        ack = wait_reply(s, ACK)
    finally:
        d.terminate()
        d.wait(5)
    seed = bytes([ROLE_DHCP]) + record(FIX_IP | FIX_L4 | DHCP_REPLY, 10, offer) + \
        record(FIX_IP | FIX_L4 | DHCP_REPLY, 10, ack)
    path = os.path.join(HERE, "seeds", "dhcp-dnsmasq")
    with open(path, "wb") as f:
        f.write(seed)
    print("capture_dhcp: OFFER %d bytes, ACK %d bytes from dnsmasq -> %s" % (len(offer), len(ack),
                                                                               os.path.relpath(path, HERE)))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    return subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), "--inside"]).returncode


if __name__ == "__main__":
    sys.exit(main())
