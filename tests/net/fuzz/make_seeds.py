#!/usr/bin/python3
"""Writes the seed corpus of tests/net/fuzz/frame_fuzz.c into seeds/: one
input per role of the stack (listener, active opener, DHCP client), each a
few well-formed records the fuzzer can mutate from. See frame_fuzz.c for the
record format and the flag bits."""
import os
import struct

OUR_MAC, PEER_MAC = bytes([2, 0, 0, 0, 0, 2]), bytes([2, 0, 0, 0, 0, 1])
OUR_IP, PEER_IP = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
FIX_IP, FIX_L4, REL_SEQ, LIVE_PORTS, APP_IO, POLL, DHCP_REPLY = 1, 2, 4, 8, 16, 32, 64


def record(flags, advance_ms, frame):
    return struct.pack(">BBH", flags, advance_ms, len(frame)) + frame


def ipv4(proto, src, dst, payload):
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
    return b"\x08\x00" + hdr + payload        # the ethertype, then the header (checksums fixed by flags)


def eth(dst, payload):
    return dst + PEER_MAC + payload


def tcp(sport, dport, seq, ack, flags, data=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data


def dhcp(msg_type, yiaddr):
    bootp = struct.pack(">BBBBIHH4s4s4s4s", 2, 1, 6, 0, 0, 0, 0x8000, bytes(4), yiaddr, PEER_IP, bytes(4))
    bootp += OUR_MAC + bytes(10) + bytes(64) + bytes(128) + struct.pack(">I", 0x63825363)
    opts = bytes([53, 1, msg_type, 54, 4]) + PEER_IP + bytes([1, 4, 255, 255, 255, 0, 3, 4]) + PEER_IP
    opts += bytes([51, 4]) + struct.pack(">I", 3600) + bytes([58, 4]) + struct.pack(">I", 1800) + bytes([255])
    payload = bootp + opts
    udp = struct.pack(">HHHH", 67, 68, 8 + len(payload), 0) + payload
    return eth(b"\xff" * 6, ipv4(17, PEER_IP, b"\xff\xff\xff\xff", udp))


def tcp_session():
    out = b""
    # in-window data to the live connection (seq/ack relative), then an ACK, then a FIN
    out += record(FIX_IP | FIX_L4 | REL_SEQ | LIVE_PORTS | APP_IO, 5,
                  eth(OUR_MAC, ipv4(6, PEER_IP, OUR_IP, tcp(0, 0, 0, 100, 0x18, b"GET / HTTP/1.0\r\n\r\n"))))
    out += record(FIX_IP | FIX_L4 | REL_SEQ | LIVE_PORTS | POLL, 50,
                  eth(OUR_MAC, ipv4(6, PEER_IP, OUR_IP, tcp(0, 0, 18, 120, 0x10))))
    out += record(FIX_IP | FIX_L4 | REL_SEQ | LIVE_PORTS, 5,
                  eth(OUR_MAC, ipv4(6, PEER_IP, OUR_IP, tcp(0, 0, 18, 120, 0x11))))
    return out


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
    os.makedirs(d, exist_ok=True)
    seeds = {
        "listener": b"\x00" + tcp_session(),
        "active-open": b"\x01" + tcp_session(),
        "dhcp": b"\x02" + record(FIX_IP | FIX_L4 | DHCP_REPLY, 10, dhcp(2, OUR_IP)) +
                record(FIX_IP | FIX_L4 | DHCP_REPLY | POLL, 10, dhcp(5, OUR_IP)),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
