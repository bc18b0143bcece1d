"""Frames built and read byte by byte, and a raw peer that speaks them.

Nothing here goes through a socket library that would fill in or correct a
field: every header is packed by hand, checksums included, and sent on an
AF_PACKET socket. A Peer owns an address nobody else has on the link (it
answers ARP for it itself), so the target's replies come back to it alone
and no kernel on our side interferes with a connection built by hand.
"""
import queue
import random
import socket
import struct
import threading
import time

ETH_P_ALL = 0x0003
ETH_TYPE_IP = 0x0800
ETH_TYPE_ARP = 0x0806
ARP_REQUEST, ARP_REPLY = 1, 2
PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
OPT_EOL, OPT_NOP, OPT_MSS, OPT_WSCALE, OPT_SACK_PERM, OPT_SACK = 0, 1, 2, 3, 4, 5
OPT_TS = 8
ICMP_ECHO_REPLY, ICMP_UNREACH, ICMP_ECHO = 0, 3, 8
ICMP_UNREACH_PORT = 3
IP_MF = 0x2000
IP_DF = 0x4000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def aton(a):
    return socket.inet_aton(a)


def ntoa(b):
    return socket.inet_ntoa(b)


def mac_bytes(m):
    return bytes.fromhex(m.replace(":", ""))


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, ETH_TYPE_IP, 6, 4, op) + sha + aton(spa) + tha + aton(tpa)


def ipv4(src, dst, proto, payload, opts=b"", ident=None, frag=IP_DF, ttl=64, ihl=None, total=None):
    ihl = (20 + len(opts)) // 4 if ihl is None else ihl
    total = 20 + len(opts) + len(payload) if total is None else total
    ident = random.getrandbits(16) if ident is None else ident
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, frag, ttl, proto, 0,
                    aton(src), aton(dst)) + opts
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", opts=b"", win=65535):
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                    (20 + len(opts)) // 4 << 4, flags, win, 0, 0) + opts
    pseudo = aton(src) + aton(dst) + struct.pack("!BBH", 0, PROTO_TCP, len(h) + len(data))
    c = csum(pseudo + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sport, dport, data):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    pseudo = aton(src) + aton(dst) + struct.pack("!BBH", 0, PROTO_UDP, 8 + len(data))
    c = csum(pseudo + h + data) or 0xffff
    return h[:6] + struct.pack("!H", c) + data


def icmp(typ, code, rest, data=b""):
    h = struct.pack("!BBH", typ, code, 0) + rest + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def opt_mss(v):
    return struct.pack("!BBH", OPT_MSS, 4, v)


def opt_wscale(v):
    return struct.pack("!BBBB", OPT_NOP, OPT_WSCALE, 3, v)


def opt_sack_perm():
    return struct.pack("!BBBB", OPT_NOP, OPT_NOP, OPT_SACK_PERM, 2)


def opt_ts(tsval, tsecr):
    return struct.pack("!BBBBII", OPT_NOP, OPT_NOP, OPT_TS, 10, tsval & 0xffffffff, tsecr & 0xffffffff)


def opt_sack(blocks):
    return struct.pack("!BBBB", OPT_NOP, OPT_NOP, OPT_SACK, 2 + 8 * len(blocks)) + \
        b"".join(struct.pack("!II", a & 0xffffffff, b & 0xffffffff) for a, b in blocks)


def parse(f):
    """A received frame as a dict of the fields the tests look at."""
    p = {"raw": f, "dst_mac": f[0:6], "src_mac": f[6:12]}
    if len(f) < 14:
        return p
    p["etype"] = etype = struct.unpack("!H", f[12:14])[0]
    b = f[14:]
    if etype == ETH_TYPE_ARP and len(b) >= 28:
        p["op"] = struct.unpack("!H", b[6:8])[0]
        p["sha"], p["spa"], p["tha"], p["tpa"] = b[8:14], ntoa(b[14:18]), b[18:24], ntoa(b[24:28])
    elif etype == ETH_TYPE_IP and len(b) >= 20:
        ihl = (b[0] & 15) * 4
        total = struct.unpack("!H", b[2:4])[0]
        p["proto"], p["src"], p["dst"] = b[9], ntoa(b[12:16]), ntoa(b[16:20])
        l4 = b[ihl:total]
        if p["proto"] == PROTO_TCP and len(l4) >= 20:
            sport, dport, seq, ack, doff, flags, win = struct.unpack("!HHIIBBH", l4[:16])
            hl = (doff >> 4) * 4
            p.update(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=win,
                     opts=l4[20:hl], data=l4[hl:])
        elif p["proto"] == PROTO_ICMP and len(l4) >= 8:
            p.update(type=l4[0], code=l4[1], icmp=l4)
        elif p["proto"] == PROTO_UDP and len(l4) >= 8:
            p.update(sport=struct.unpack("!H", l4[0:2])[0], dport=struct.unpack("!H", l4[2:4])[0])
    return p


def tcp_options(opts):
    """Option kinds present in a received header, with their values."""
    out, i = {}, 0
    while i < len(opts):
        k = opts[i]
        if k == OPT_EOL:
            break
        if k == OPT_NOP:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        out[k] = opts[i + 2:i + opts[i + 1]]
        i += opts[i + 1]
    return out


class Peer:
    """A host of our own making on the link: my_ip/my_mac, talking to one target."""

    def __init__(self, name, ifname, my_ip, my_mac, tgt_ip, tgt_mac):
        self.name, self.ifname = name, ifname
        self.my_ip, self.my_mac = my_ip, mac_bytes(my_mac)
        self.tgt_ip, self.tgt_mac = tgt_ip, mac_bytes(tgt_mac)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.s.bind((ifname, 0))
        self.s.settimeout(0.1)
        self.q = queue.Queue()
        self.extra_ips = set()          # more addresses we answer ARP for
        self.stop = False
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def close(self):
        self.stop = True
        self.t.join(1)
        self.s.close()

    def _read(self):
        while not self.stop:
            try:
                f, addr = self.s.recvfrom(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            p = parse(f)
            if p.get("etype") == ETH_TYPE_ARP and p.get("op") == ARP_REQUEST and \
                    (p["tpa"] == self.my_ip or p["tpa"] in self.extra_ips):
                self.raw(eth(p["sha"], self.my_mac, ETH_TYPE_ARP,
                             arp(ARP_REPLY, self.my_mac, p["tpa"], p["sha"], p["spa"])))
            if p["src_mac"] == self.tgt_mac:
                p["t"] = time.time()
                self.q.put(p)

    def raw(self, frame):
        self.s.send(frame)

    def send_ip(self, proto, payload, src=None, **kw):
        self.raw(eth(self.tgt_mac, self.my_mac, ETH_TYPE_IP,
                     ipv4(src or self.my_ip, self.tgt_ip, proto, payload, **kw)))

    def drain(self):
        while True:
            try:
                self.q.get_nowait()
            except queue.Empty:
                return

    def collect(self, pred, duration):
        """Every frame from the target matching pred within `duration` seconds."""
        end, got = time.time() + duration, []
        while True:
            left = end - time.time()
            if left <= 0:
                return got
            try:
                p = self.q.get(timeout=left)
            except queue.Empty:
                return got
            if pred(p):
                got.append(p)

    def expect(self, pred, timeout):
        """The first frame matching pred within timeout, else None (others are dropped)."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                p = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(p):
                return p


class Conn:
    """A TCP connection built by hand from a Peer to the target."""

    def __init__(self, peer, dport, sport=None, mss=1000, syn_opts=None, win=65535):
        self.p, self.dport = peer, dport
        self.sport = sport or random.randint(20000, 60000)
        self.iss = random.getrandbits(32)
        self.snd_nxt = self.iss
        self.win = win
        self.syn_opts = opt_mss(mss) if syn_opts is None else syn_opts
        self.irs = self.rcv_nxt = None
        self.synack = None

    def mine(self, p):
        return p.get("proto") == PROTO_TCP and p.get("sport") == self.dport and \
            p.get("dport") == self.sport

    def send(self, flags, seq=None, ack=None, data=b"", opts=b"", win=None):
        seq = self.snd_nxt if seq is None else seq
        ack = (self.rcv_nxt or 0) if ack is None else ack
        self.p.send_ip(PROTO_TCP, tcp(self.p.my_ip, self.p.tgt_ip, self.sport, self.dport, seq, ack,
                                      flags, data, opts, self.win if win is None else win))

    def open(self, timeout=3):
        self.send(SYN, seq=self.iss, ack=0, opts=self.syn_opts)
        sa = self.p.expect(lambda p: self.mine(p) and p["flags"] & (SYN | ACK) == SYN | ACK, timeout)
        if sa is None:
            raise AssertionError("%s: no SYN-ACK to port %d" % (self.p.name, self.dport))
        self.synack = sa
        self.irs = sa["seq"]
        self.rcv_nxt = (sa["seq"] + 1) & 0xffffffff
        self.snd_nxt = (self.iss + 1) & 0xffffffff
        self.send(ACK)
        return self

    def write(self, data):
        self.send(ACK | PSH, data=data)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xffffffff

    def read(self, n, timeout=3, ack=True):
        """n bytes from the target in sequence order (acknowledged as they come)."""
        got = b""
        end = time.time() + timeout
        while len(got) < n:
            p = self.p.expect(lambda p: self.mine(p), end - time.time())
            if p is None:
                break
            if p["flags"] & RST:
                raise ConnectionResetError("%s: reset by the target" % self.p.name)
            if p["data"] and p["seq"] == self.rcv_nxt:
                got += p["data"]
                self.rcv_nxt = (self.rcv_nxt + len(p["data"])) & 0xffffffff
                if ack:
                    self.send(ACK)
        return got

    def rst(self):
        self.send(RST | ACK)
