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

import subprocess
import struct

from raw import (ACK, FIN, ICMP_ECHO, ICMP_ECHO_REPLY, ICMP_UNREACH, ICMP_UNREACH_PORT, IP_MF,
                 PROTO_ICMP, PROTO_TCP, PROTO_UDP, PSH, RST, SYN, ETH_TYPE_ARP, ARP_REQUEST,
                 ARP_REPLY, OPT_SACK, OPT_SACK_PERM, OPT_TS, OPT_WSCALE, Conn, arp, aton, eth, icmp,
                 ipv4, opt_mss, opt_sack, opt_sack_perm, opt_ts, opt_wscale, tcp, tcp_options, udp)


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


def challenge_ack_per_connection(tg):
    """RFC 5961 7 leaves the limit open; a stack-wide budget is a side
    channel (CVE-2016-5696). Spending one connection's challenge ACKs must
    leave another's untouched."""
    a = Conn(tg.peer, 7).open()
    b = Conn(tg.peer, 7).open()
    tg.peer.drain()
    for i in range(300):
        a.send(RST, seq=a.snd_nxt + 1 + i)         # in window, not exact
    time.sleep(0.3)
    tg.peer.drain()
    b.send(RST, seq=b.snd_nxt + 1)
    ch = tg.peer.expect(lambda p: is_challenge_ack(b, p), 1.0)
    a.rst()
    b.rst()
    assert ch is not None, "no challenge ACK on a fresh connection once another spent its budget"


def ooo_overlap_first_copy_wins(tg):
    """Overlapping out-of-order data: the first copy received of every byte
    is kept, whatever the shape of the overlap (byte-exact)."""
    c = Conn(tg.peer, 7).open()
    base = c.snd_nxt
    for off, data in ((10, b"A" * 10), (15, b"B" * 10), (5, b"C" * 10)):
        c.send(ACK, seq=base + off, data=data)
        time.sleep(0.02)
    c.send(ACK | PSH, seq=base, data=b"D" * 8)     # in order, overlapping C
    c.snd_nxt = base + 25
    try:
        got = c.read(25, timeout=2)
    except ConnectionResetError:
        got = b"(reset)"
    c.rst()
    want = b"D" * 5 + b"C" * 5 + b"A" * 10 + b"B" * 5
    assert got == want, "got %r, first copies give %r" % (got, want)


def malformed_option_ignored(tg):
    """A malformed option (here kind 8, length 0, after a valid MSS) is
    ignored with what follows it, not the segment: the SYN is answered."""
    c = Conn(tg.peer, 7, syn_opts=opt_mss(1000) + b"\x08\x00\x00\x00")
    c.open()
    c.write(b"options")
    got = c.read(7, timeout=2)
    c.rst()
    assert got == b"options", got


def sack_ignored_unless_negotiated(tg):
    """RFC 2018: SACK blocks mean nothing on a connection that did not
    negotiate SACK-permitted; they are not used."""
    c = Conn(tg.peer, 19, mss=1000).open()          # no SACK-permitted offered
    first = tg.peer.collect(lambda p: c.mine(p) and p["data"], 0.1)
    assert first, "no data from the source"
    before = tg.stats()
    blk = struct.pack("!BBBBII", 1, 1, OPT_SACK, 10, (c.rcv_nxt + 2000) & 0xffffffff,
                      (c.rcv_nxt + 3000) & 0xffffffff)
    c.send(ACK, opts=blk, win=0)
    time.sleep(0.1)
    c.rst()
    if before is not None:
        got = tg.stats()["tcp_sack_blocks_rx"] - before["tcp_sack_blocks_rx"]
        assert got == 0, "%d SACK blocks taken without SACK-permitted" % got


def ping_fragments(tg, ident, size=2000):
    payload = bytes(i & 0xff for i in range(size))
    msg = icmp(ICMP_ECHO, 0, struct.pack("!HH", ident, 1), payload)
    fid = random.getrandbits(16)
    tg.peer.send_ip(PROTO_ICMP, msg[:1480], ident=fid, frag=IP_MF, total=20 + 1480)
    tg.peer.send_ip(PROTO_ICMP, msg[1480:], ident=fid, frag=1480 // 8)


def echo_reply_to(tg, ident, timeout):
    return tg.peer.expect(lambda p: p.get("proto") == PROTO_ICMP and p.get("type") == ICMP_ECHO_REPLY
                          and struct.unpack("!H", p["icmp"][4:6])[0] == ident, timeout)


def fragment_slots_evicted(tg):
    """1,000 incomplete datagrams must not block fragmented traffic that
    follows them for the reassembly timeout: the oldest make way."""
    for i in range(1000):
        tg.peer.send_ip(PROTO_UDP, udp(tg.peer.my_ip, tg.ip, 5000, 9, b"x" * 24)[:24],
                        ident=i, frag=IP_MF, total=20 + 24)
    time.sleep(0.2)
    tg.peer.drain()
    ping_fragments(tg, 0x4601)
    assert echo_reply_to(tg, 0x4601, 1.5) is not None, "fragmented ping not answered after the flood"


def ip_options_checked(tg):
    """RFC 1122 3.2.1.8 lets a host refuse source routes; RFC 791 options
    must be well formed: a source-routed or malformed datagram is dropped,
    a datagram with harmless options is answered."""
    def ping(ident, opts):
        tg.peer.send_ip(PROTO_ICMP, icmp(ICMP_ECHO, 0, struct.pack("!HH", ident, 1), b"options"), opts=opts)
        return echo_reply_to(tg, ident, 0.5) is not None
    lsrr = bytes([131, 7, 4]) + aton(tg.peer.my_ip) + b"\x00"
    ssrr = bytes([137, 7, 4]) + aton(tg.peer.my_ip) + b"\x00"
    zero_len = bytes([7, 0, 0, 0])
    past_end = bytes([1, 1, 68, 12])
    nops = bytes([1, 1, 1, 0])
    bad = [name for name, opts in (("LSRR", lsrr), ("SSRR", ssrr), ("length 0", zero_len),
                                  ("past the header", past_end)) if ping(0x4700 + len(name), opts)]
    assert ping(0x4799, nops), "harmless options (NOPs) not answered"
    assert not bad, "answered: %s" % bad


def icmp_errors_rate_limited(tg):
    """RFC 1812 4.3.2.8 (and RFC 1122 3.2.2): ICMP errors are rate limited;
    50 datagrams to a closed port at once do not get 50 answers."""
    tg.peer.drain()
    for i in range(50):
        tg.peer.send_ip(PROTO_UDP, udp(tg.peer.my_ip, tg.ip, 6000 + i, 9999, b"closed?"))
    got = tg.peer.collect(lambda p: p.get("proto") == PROTO_ICMP and p.get("type") == ICMP_UNREACH, 0.5)
    assert 1 <= len(got) <= 12, "%d port unreachables for 50 datagrams" % len(got)


def icmp_unreach_fails_connect(tg):
    """RFC 1122 4.2.3.9: port (and protocol) unreachable are hard errors;
    answering our SYN with one fails the connect at once."""
    tg.peer.drain()
    result = tg.connect_out(tg.peer.my_ip, 9)
    syn = tg.peer.expect(lambda p: p.get("proto") == PROTO_TCP and p.get("dport") == 9 and
                         p["flags"] & SYN, 2.0)
    assert syn is not None, "no SYN from the target"
    ip_hdr = syn["raw"][14:34]
    quoted = ip_hdr + syn["raw"][34:42]
    tg.peer.send_ip(PROTO_ICMP, icmp(ICMP_UNREACH, ICMP_UNREACH_PORT, b"\0\0\0\0", quoted))
    err = result(2.0)
    assert err == "refused", "connect after port unreachable: %s" % err


def arp_probe_answered(tg):
    """RFC 5227 2.1.1 / 2.4: an ARP probe (sender address 0.0.0.0) for our
    address is answered, so the prober learns the address is taken."""
    tg.peer.drain()
    tg.peer.raw(eth(b"\xff" * 6, tg.peer.my_mac, ETH_TYPE_ARP,
                    arp(ARP_REQUEST, tg.peer.my_mac, "0.0.0.0", b"\0" * 6, tg.ip)))
    rep = tg.peer.expect(lambda p: p.get("etype") == ETH_TYPE_ARP and p.get("op") == ARP_REPLY and
                         p["spa"] == tg.ip, 1.0)
    assert rep is not None, "ARP probe for our address not answered"


def half_open_expire_under_pressure(tg):
    """After a SYN flood the half-open slots come back quickly, so a new
    client gets a real SYN-ACK (window scaling, SACK) rather than a cookie."""
    net = tg.ip.rsplit(".", 1)[0]
    for i in range(300):
        src = "%s.%d" % (net, 100 + i % 100)
        tg.peer.send_ip(PROTO_TCP, tcp(src, tg.ip, 30000 + i, 7, random.getrandbits(32), 0, SYN,
                                       opts=opt_mss(1460)), src=src)
    time.sleep(3.5)
    c = Conn(tg.peer, 7, syn_opts=opt_mss(1000) + opt_wscale(7) + opt_sack_perm())
    c.open()
    opts = tcp_options(c.synack["opts"])
    c.rst()
    assert OPT_WSCALE in opts and 4 in opts, "SYN-ACK 3.5 s after a flood lacks WS/SACK: %s" % sorted(opts)


def pool_full_refuses_cleanly(tg):
    """With every connection block in use, a new client is refused at once
    (RST to its SYN), never accepted and then silently dropped."""
    held = []
    try:
        for i in range(400):
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect((tg.ip, 7))
            except OSError:
                s.close()
                break
            held.append(s)
        # The pool is full (or the target has no fixed pool): one more client.
        t0 = time.time()
        s = socket.socket()
        s.settimeout(3)
        try:
            s.connect((tg.ip, 7))
            s.sendall(b"one more")
            got = s.recv(16)
            outcome = "served" if got == b"one more" else "dropped"
        except ConnectionRefusedError:
            outcome = "refused"
        except OSError as e:
            outcome = "dropped (%s)" % e
        s.close()
        assert outcome in ("served", "refused"), "a client beyond the pool: %s after %.1f s" % (
            outcome, time.time() - t0)
    finally:
        for s in held:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        time.sleep(0.5)


def syn_cookie_keeps_wscale_sack(tg):
    """A SYN answered with a SYN cookie while the half-open slots are full
    still gets window scaling and SACK when the client offered timestamps
    (RFC 7323): the SYN-ACK carries TS (the options ride in its TSval, as
    Linux encodes them), every later segment carries TS, the window the
    client advertises is taken scaled, and out-of-order data is SACKed."""
    ns = os.environ.get("NET_NS_B") if tg.stack is None else None
    if ns:      # the Linux reference answers every SYN with a cookie
        old = subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.tcp_syncookies"],
                             capture_output=True, text=True).stdout.strip() or "1"
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_syncookies=2"], check=True)
    try:
        _syn_cookie_keeps_wscale_sack(tg)
    finally:
        if ns:
            subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_syncookies=" + old])


def _syn_cookie_keeps_wscale_sack(tg):
    win = 256                               # with our shift of 7: 32 KiB
    before = tg.stats()
    if tg.stack is not None:                # fill lib/net's half-open slots
        net = tg.ip.rsplit(".", 1)[0]
        for i in range(300):
            src = "%s.%d" % (net, 100 + i % 100)
            tg.peer.send_ip(PROTO_TCP, tcp(src, tg.ip, 40000 + i, 19, random.getrandbits(32), 0, SYN,
                                           opts=opt_mss(1460)), src=src)
    c = Conn(tg.peer, 19, win=win)
    my_ts = random.getrandbits(31)
    c.send(SYN, seq=c.iss, ack=0, opts=opt_mss(1000) + opt_wscale(7) + opt_sack_perm() + opt_ts(my_ts, 0))
    sa = tg.peer.expect(lambda p: c.mine(p) and p["flags"] & (SYN | ACK) == SYN | ACK, 3)
    assert sa is not None, "no SYN-ACK"
    o = tcp_options(sa["opts"])
    assert OPT_TS in o, "SYN-ACK without timestamps: %s" % sorted(o)
    tsval, tsecr = struct.unpack("!II", o[OPT_TS])
    assert tsecr == my_ts, "SYN-ACK TSecr %d, our TSval %d" % (tsecr, my_ts)
    assert OPT_WSCALE in o and OPT_SACK_PERM in o, "SYN-ACK lacks WS/SACK: %s" % sorted(o)
    c.irs = sa["seq"]
    c.rcv_nxt = (sa["seq"] + 1) & 0xffffffff
    c.snd_nxt = (c.iss + 1) & 0xffffffff
    tg.peer.drain()
    c.send(ACK, opts=opt_ts(my_ts + 1, tsval))
    try:
        if before is not None:
            got = tg.stats()["tcp_syncookie_ok"] - before["tcp_syncookie_ok"]
            assert got == 1, "the handshake did not complete through a cookie (%d)" % got
        # No ACKs from us: what arrives is one flight, bounded by our window.
        segs = tg.peer.collect(lambda p: c.mine(p) and p["data"], 0.5)
        assert segs, "no data after the handshake"
        flight = max((p["seq"] + len(p["data"]) - c.rcv_nxt) & 0xffffffff for p in segs)
        assert flight > 4 * win, "%d bytes in flight against a window field of %d << 7: " \
            "window scaling not used" % (flight, win)
        assert all(OPT_TS in tcp_options(p["opts"]) for p in segs), "a data segment without TS"
        last = max(segs, key=lambda p: (p["seq"] - c.rcv_nxt) & 0xffffffff)
        peer_ts = struct.unpack("!I", tcp_options(last["opts"])[OPT_TS][:4])[0]
        # Acknowledge the first segment, SACK the last one (if there are two).
        first = min(segs, key=lambda p: (p["seq"] - c.rcv_nxt) & 0xffffffff)
        c.rcv_nxt = (first["seq"] + len(first["data"])) & 0xffffffff
        blk = [(last["seq"], last["seq"] + len(last["data"]))] if last is not first else []
        mid = tg.stats()
        c.send(ACK, opts=opt_ts(my_ts + 2, peer_ts) + (opt_sack(blk) if blk else b""))
        # Out-of-order data to the target: its ACK must SACK it.
        tg.peer.drain()
        ooo = (c.snd_nxt + 1000) & 0xffffffff
        c.send(ACK | PSH, seq=ooo, data=b"s" * 100, opts=opt_ts(my_ts + 3, peer_ts))
        ack = tg.peer.expect(lambda p: c.mine(p) and OPT_SACK in tcp_options(p["opts"]), 1.0)
        assert ack is not None, "out-of-order data not SACKed"
        sb = struct.unpack("!II", tcp_options(ack["opts"])[OPT_SACK][:8])
        assert sb == (ooo, (ooo + 100) & 0xffffffff), "SACK block %r, sent [%d, %d)" % (sb, ooo, ooo + 100)
        assert OPT_TS in tcp_options(ack["opts"]), "SACK without TS"
        if mid is not None and blk:
            got = tg.stats()["tcp_sack_blocks_rx"] - mid["tcp_sack_blocks_rx"]
            assert got >= 1, "our SACK block was not taken"
    finally:
        c.rst()


CASES = [rst_with_data_inexact, syn_data_injection, zero_window_with_data_in_flight,
         martian_sources, challenge_ack_per_connection, ooo_overlap_first_copy_wins,
         malformed_option_ignored, sack_ignored_unless_negotiated, fragment_slots_evicted,
         ip_options_checked, icmp_errors_rate_limited, icmp_unreach_fails_connect,
         arp_probe_answered, half_open_expire_under_pressure, pool_full_refuses_cleanly,
         syn_cookie_keeps_wscale_sack, syn_flood_on_link]
