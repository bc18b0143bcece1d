"""Regression cases from hand-built frames, each run against lib/net and Linux.

Every case states what the RFC asks and checks it on one target (a Peer
plus how to reach it); the driver runs it on lib/net (a failure fails the
suite) and on a Linux kernel in its own namespace, whose outcome is
printed next to it for comparison.
"""
import os
import random
import socket
import threading
import time

from raw import (ACK, FIN, ICMP_ECHO, ICMP_ECHO_REPLY, PROTO_ICMP, PROTO_TCP, PSH, RST, SYN,
                 ETH_TYPE_ARP, ARP_REQUEST, Conn, icmp, opt_mss, tcp)


class Target:
    def __init__(self, name, peer, ip, stack=None):
        self.name, self.peer, self.ip, self.stack = name, peer, ip, stack

    def stats(self):
        return self.stack.stats() if self.stack else None


def is_challenge_ack(c, p):
    """A bare ACK on c's connection acknowledging exactly what we sent."""
    return c.mine(p) and p["flags"] & (ACK | RST | SYN | FIN) == ACK and not p["data"] and \
        p["ack"] == c.snd_nxt


def rst_with_data_inexact(tg):
    """RFC 5961 3.2: only a RST at exactly RCV.NXT resets; any other in-window
    RST (here RST+ACK with 1000 bytes starting 900 before RCV.NXT) gets a
    challenge ACK and the connection lives on."""
    c = Conn(tg.peer, 7).open()
    c.write(b"x" * 1000)
    assert c.read(1000) == b"x" * 1000, "echo before the test"
    tg.peer.drain()
    c.send(RST | ACK, seq=c.snd_nxt - 900, data=b"r" * 1000)
    ch = tg.peer.expect(lambda p: is_challenge_ack(c, p) or (c.mine(p) and p["flags"] & RST), 1.0)
    assert ch is not None and not ch["flags"] & RST, "no challenge ACK"
    c.write(b"alive")
    try:
        got = c.read(5, timeout=2)
    except ConnectionResetError:
        got = b"(reset)"
    c.rst()
    assert got == b"alive", "connection gone after an inexact RST: %r" % got


def syn_data_injection(tg):
    """RFC 5961 4.2 (and RFC 9293 3.10.7.4 fourth step): a SYN in a
    synchronized state gets a challenge ACK and none of its data reaches
    the application, even when it starts at RCV.NXT - 1 with an acceptable ACK."""
    c = Conn(tg.peer, 7).open()
    c.write(b"hello")
    assert c.read(5) == b"hello", "echo before the test"
    tg.peer.drain()
    c.send(SYN | ACK, seq=c.snd_nxt - 1, data=b"INJECTED")
    ch = tg.peer.expect(lambda p: is_challenge_ack(c, p) or (c.mine(p) and p["data"]), 1.0)
    c.write(b"after")
    try:
        got = c.read(5, timeout=2)
    except ConnectionResetError:
        got = b"(reset)"
    c.rst()
    assert ch is not None and not ch["data"], "no challenge ACK (got %r)" % (ch and ch["data"])
    assert got == b"after", "the SYN's data was delivered: echo %r" % got


def zero_window_with_data_in_flight(tg):
    """RFC 9293 3.8.6.1: a window shrunk to zero with data in flight is
    probed for as long as the receiver answers, and the connection survives."""
    c = Conn(tg.peer, 19, mss=1000).open()
    flight = tg.peer.collect(lambda p: c.mine(p) and p["data"], 0.15)
    seen = sum(len(p["data"]) for p in flight)
    assert seen >= 2000, "first flight too small: %d" % seen
    c.rcv_nxt = (c.rcv_nxt + 1000) & 0xffffffff
    c.send(ACK, win=0)
    probes, reset = 0, False
    end = time.time() + 3.5
    while True:
        p = tg.peer.expect(c.mine, end - time.time())
        if p is None:
            break
        if p["flags"] & RST:
            reset = True
            break
        probes += 1
        c.send(ACK, win=0)          # still closed
    assert not reset, "reset while the window was closed"
    assert probes >= 2, "%d probes/retransmissions in 3.5 s of zero window" % probes
    c.send(ACK, win=65535)
    try:
        got = c.read(3000, timeout=5)
    except ConnectionResetError:
        got = b""
    c.rst()
    assert len(got) >= 3000, "no data after the window opened (%d bytes)" % len(got)


def martian_sources(tg):
    """RFC 1122 3.2.1.3 / RFC 1812 5.3.7: nothing from 0/8, 240/4, the
    limited broadcast or our own address is answered, and no state is kept."""
    tg.peer.drain()
    before = tg.stats()
    bad = ["0.0.0.0", "240.0.0.1", "255.255.255.255", tg.ip]
    for i, src in enumerate(bad):
        tg.peer.send_ip(PROTO_ICMP, icmp(ICMP_ECHO, 0, bytes([0x77, i, 0, 1]), b"martian"), src=src)
        sport = 7 if src == tg.ip else 4444 + i     # LAND: src and dst the same
        tg.peer.send_ip(PROTO_TCP, tcp(src, tg.ip, sport, 7, random.getrandbits(32), 0, SYN,
                                       opts=opt_mss(1000)), src=src)

    def answer(p):
        if p.get("proto") == PROTO_ICMP and p.get("type") == ICMP_ECHO_REPLY and \
                p["icmp"][4] == 0x77:
            return True
        if p.get("proto") == PROTO_TCP and p.get("sport") == 7 and p["flags"] & SYN:
            return True
        return p.get("etype") == ETH_TYPE_ARP and p.get("op") == ARP_REQUEST and p["tpa"] in bad
    got = tg.peer.collect(answer, 0.7)
    assert not got, "answered martians: %s" % ["%s->%s" % (p.get("src", p.get("spa")),
                                                           p.get("dst", p.get("tpa"))) for p in got]
    if before is not None:
        after = tg.stats()
        assert after["SYN_RECEIVED"] <= before["SYN_RECEIVED"], "half-open slots taken"
        assert after["drop_ip_martian"] - before["drop_ip_martian"] >= 2 * len(bad), \
            "martians not counted"


def syn_flood_on_link(tg, attempt_timeout=1.0):
    """A SYN flood from spoofed on-link sources (which never answer ARP) must
    not lock a real, resolved client out: every one of its connections
    during the flood succeeds. Returns (successes, attempts)."""
    # The short form runs in `make test`; bench-net-synflood sets the long one.
    count = int(os.environ.get("NET_FLOOD_SYNS", "3000"))
    secs = float(os.environ.get("NET_FLOOD_SECS", "2"))
    net = tg.ip.rsplit(".", 1)[0]
    taken = {tg.ip, tg.client_ip, tg.peer.my_ip} | set(getattr(tg, "others", ()))
    pool = [a for a in ("%s.%d" % (net, h) for h in range(10, 251)) if a not in taken]
    done = threading.Event()

    def flood():
        t0 = time.time()
        for i in range(count):
            src = random.choice(pool)
            tg.peer.send_ip(PROTO_TCP, tcp(src, tg.ip, random.randint(1024, 65535), 7,
                                           random.getrandbits(32), 0, SYN, opts=opt_mss(1460)), src=src)
            ahead = t0 + secs * (i + 1) / count - time.time()
            if ahead > 0:
                time.sleep(ahead)
        done.set()
    th = threading.Thread(target=flood, daemon=True)
    th.start()
    ok = attempts = 0
    while not done.is_set():
        attempts += 1
        t0 = time.time()
        try:
            s = socket.create_connection((tg.ip, 7), timeout=attempt_timeout, source_address=(tg.client_ip, 0))
            s.settimeout(max(0.05, attempt_timeout - (time.time() - t0)))
            s.sendall(b"real client")
            if s.recv(64) == b"real client":
                ok += 1
            s.close()
        except OSError:
            pass
        time.sleep(max(0.0, 0.1 - (time.time() - t0)))
    th.join()
    tg.flood_result = (ok, attempts)
    print("     %s: real client connected %d of %d times during %d spoofed on-link SYNs in %.0f s"
          % (tg.name, ok, attempts, count, secs), flush=True)
    assert attempts and ok == attempts, "real client: %d of %d connections during the flood" % (ok, attempts)


CASES = [rst_with_data_inexact, syn_data_injection, zero_window_with_data_in_flight,
         martian_sources, syn_flood_on_link]
