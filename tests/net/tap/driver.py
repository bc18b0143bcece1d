"""TAP tests: lib/net (in net-tap) against the Linux TCP/IP stack and tools.

Runs inside a network namespace made by run.sh. The TAP device belongs to
net-tap; Linux's side of it is 10.77.0.1 (and .3), the stack gets .2 from a
dnsmasq started here (or statically with --static). The raw cases
(raw_cases.py, frames built byte by byte in raw.py) run last, each on the
stack and on the Linux kernel of run.sh's second namespace.
"""
import argparse
import hashlib
import os
import queue
import random
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

TAP = "ntap0"
LINUX_IP = "10.77.0.1"
LINUX_IP2 = "10.77.0.3"
STACK_IP = "10.77.0.2"
STACK_MAC = "02:ca:b0:5e:00:02"
PEER_IP = "10.77.0.50"              # a hand-built host on the TAP link
PEER_MAC = "02:00:00:77:00:50"
# The Linux target for the comparisons: a veth pair into the second namespace.
VETH, VETH_B = "nveth0", "nveth1"
VETH_IP, LINUXB_IP = "10.78.0.1", "10.78.0.2"
LINUXB_PEER_IP = "10.78.0.50"

results = []


def sh(cmd, timeout=60, check=True, **kw):
    r = subprocess.run(cmd, shell=True, timeout=timeout, capture_output=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError("command failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr.decode(errors="replace")))
    return r


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


class Stack:
    def __init__(self, binary, source):
        self.p = subprocess.Popen([binary, "--tap", TAP, "--source-file", source, "--tcbs", "320"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("ready", 10)

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait_for(self, prefix, timeout, collect=None):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r from net-tap" % prefix)
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("net-tap exited (status %s)" % self.p.poll())
            if collect is not None:
                collect.append(line)
            if line.startswith(prefix):
                return line

    def stats(self):
        self.send("stats")
        got = []
        self.wait_for("end", 10, got)
        s = {}
        for line in got:
            parts = line.split()
            if len(parts) == 3 and parts[0] in ("stat", "state"):
                s[parts[1]] = int(parts[2])
        return s

    def alive(self):
        return self.p.poll() is None


def test(fn):
    def run(*a):
        name = fn.__name__
        t0 = time.time()
        try:
            fn(*a)
            results.append((name, True))
            print("ok   %s (%.1fs)" % (name, time.time() - t0), flush=True)
        except Exception as e:  # noqa: a failing test must not stop the others
            results.append((name, False))
            print("FAIL %s: %s" % (name, e), flush=True)
    run.__name__ = fn.__name__
    return run


@test
def dhcp_exchange(st, tmp, static):
    if static:
        raise AssertionError("static mode requested: no DHCP")
    leases = os.path.join(tmp, "leases")
    d = subprocess.Popen(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--port=0",
                          "--interface=" + TAP, "--bind-interfaces", "--no-resolv", "--no-hosts",
                          "--dhcp-range=%s,%s,255.255.255.0,2m" % (STACK_IP, STACK_IP),
                          "--dhcp-option=3," + LINUX_IP, "--dhcp-leasefile=" + leases,
                          "--pid-file=" + os.path.join(tmp, "dnsmasq.pid")],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "dnsmasq.log"), "w"))
    st.dnsmasq = d
    time.sleep(0.3)
    st.send("dhcp")
    line = st.wait_for("dhcp-bound", 30)
    assert line.split()[1] == STACK_IP, line
    # dnsmasq pinged the address before offering it, when nobody had it yet:
    # drop that failed neighbour entry.
    sh("ip neigh flush dev %s" % TAP)
    s = st.stats()
    assert s["dhcp_bound"] == 1 and s["dhcp_offer_rx"] >= 1 and s["dhcp_ack_rx"] >= 1, s
    assert STACK_IP in open(leases).read(), "dnsmasq has no lease for us"


@test
def ping_answered(st, tmp, static):
    r = sh("ping -c 3 -i 0.2 -W 2 %s" % STACK_IP)
    assert b" 0% packet loss" in r.stdout, r.stdout
    r = sh("ping -c 2 -i 0.2 -W 2 -s 5000 %s" % STACK_IP)     # fragmented both ways
    assert b" 0% packet loss" in r.stdout, r.stdout
    s = st.stats()
    assert s["icmp_echo_reply_tx"] >= 5 and s["ip_reassembled"] >= 2 and s["ip_frag_tx"] >= 2, s


@test
def arp_both_ways(st, tmp, static):
    # Linux resolves us.
    r = sh("arping -c 2 -w 5 -I %s %s" % (TAP, STACK_IP))
    assert STACK_MAC.upper() in r.stdout.decode().upper(), r.stdout
    # We resolve an address of Linux's we have never heard from.
    linux_mac = open("/sys/class/net/%s/address" % TAP).read().strip()
    before = st.stats()["arp_request_tx"]
    st.send("ping %s 2 56" % LINUX_IP2)
    st.wait_for("echo-reply %s" % LINUX_IP2, 5)
    st.send("arp %s" % LINUX_IP2)
    line = st.wait_for("arp ", 5)
    assert line.split()[2] == linux_mac, (line, linux_mac)
    assert st.stats()["arp_request_tx"] > before


@test
def tcp_echo_nc(st, tmp, static):
    r = sh("printf 'hello capOS\\n' | nc -N -w 5 %s 7" % STACK_IP, timeout=10)
    assert r.stdout == b"hello capOS\n", r.stdout


@test
def tcp_64mib_linux_to_stack(st, tmp, static):
    src = os.path.join(tmp, "src")
    r = sh("nc -N -w 20 %s 9 < %s" % (STACK_IP, src), timeout=120)
    n, digest = r.stdout.decode().split()
    assert int(n) == os.path.getsize(src) == 64 << 20, n
    assert digest == st.src_sha, (digest, st.src_sha)


@test
def tcp_64mib_stack_to_linux_curl(st, tmp, static):
    out = os.path.join(tmp, "curl.out")
    sh("curl -sS --max-time 60 -o %s http://%s/" % (out, STACK_IP), timeout=90)
    assert os.path.getsize(out) == 64 << 20
    assert sha(out) == st.src_sha


class LinuxPeer:
    """A Linux TCP server for the stack's client mode: sends a file while it
    receives, closes its side after the stack's FIN. (nc -l -N gives up
    on stdin as soon as the network side reaches EOF, so it cannot do this.)"""

    def __init__(self, port, path):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((LINUX_IP, port))
        self.ls.listen(1)
        self.ls.settimeout(30)
        self.path = path
        self.digest = None
        self.count = 0
        self.error = None
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        try:
            c, _ = self.ls.accept()
            c.settimeout(120)
            sender = threading.Thread(target=self.send_all, args=(c,), daemon=True)
            sender.start()
            h = hashlib.sha256()
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
                self.count += len(b)
            sender.join(120)
            c.close()
            self.digest = h.hexdigest()
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.ls.close()

    def send_all(self, c):
        with open(self.path, "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    break
                c.sendall(b)
        c.shutdown(socket.SHUT_WR)

    def join(self, timeout):
        self.t.join(timeout)
        if self.error:
            raise AssertionError("Linux peer: %s" % self.error)


def client_transfer(st, tmp, path, port, timeout):
    want = sha(path)
    got_stack = os.path.join(tmp, "client.stack")
    peer = LinuxPeer(port, path)
    st.send("connect %s %d %s %s" % (LINUX_IP, port, path, got_stack))
    st.wait_for("client ", 5)
    line = st.wait_for("client-", timeout)
    assert line.startswith("client-done"), line
    peer.join(timeout)
    assert peer.digest == want, "Linux received wrong bytes (%d)" % peer.count
    assert sha(got_stack) == want, "stack received wrong bytes"


@test
def tcp_stack_as_client_both_ways(st, tmp, static):
    # Our stack connects out to a Linux server; 64 MiB go each way at once.
    client_transfer(st, tmp, os.path.join(tmp, "src"), 5001, 120)


@test
def tcp_200_concurrent(st, tmp, static):
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(200):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((STACK_IP, 7))
        data = (("conn %03d " % i) * 1200).encode()[:10000]
        c = {"s": s, "out": data, "sent": 0, "got": bytearray(), "want": data, "shut": False}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    open_ = 200
    peak = 0
    end = time.time() + 60
    while open_ and time.time() < end:
        for key, ev in sel.select(timeout=1):
            c = key.data
            s = c["s"]
            if ev & selectors.EVENT_WRITE and not c["shut"]:
                try:
                    n = s.send(c["out"][c["sent"]:])
                    c["sent"] += n
                except BlockingIOError:
                    pass
                if c["sent"] == len(c["out"]):
                    s.shutdown(socket.SHUT_WR)
                    c["shut"] = True
                    sel.modify(s, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                if not b:
                    sel.unregister(s)
                    s.close()
                    open_ -= 1
                else:
                    c["got"] += b
        if open_ == 200 and peak == 0:
            peak = st.stats().get("ESTABLISHED", 0)
    assert open_ == 0, "%d connections unfinished" % open_
    bad = [i for i, c in enumerate(conns) if bytes(c["got"]) != c["want"]]
    assert not bad, "wrong echo on %d connections" % len(bad)
    # Every connection winds down (a lost FIN may take an RTO or two).
    end = time.time() + 10
    while True:
        s = st.stats()
        left = s["ESTABLISHED"] + s["CLOSE_WAIT"] + s["LAST_ACK"]
        if left == 0 or time.time() > end:
            break
        time.sleep(0.2)
    assert left == 0, "connections left: %d" % left


@test
def tcp_half_close(st, tmp, static):
    # Linux half-closes; we keep sending after its FIN (the sink's digest).
    s = socket.create_connection((STACK_IP, 9), timeout=10)
    payload = os.urandom(300000)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        reply += b
    s.close()
    n, digest = reply.decode().split()
    assert int(n) == len(payload) and digest == hashlib.sha256(payload).hexdigest()
    # We half-close first (source sends its file then FIN); Linux still sends after.
    s = socket.create_connection((STACK_IP, 80), timeout=10)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    total = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        total += len(b)
    s.sendall(b"late data after your FIN\n")   # our side is in FIN_WAIT_2 and still reads
    s.close()
    assert total > 64 << 20


@test
def tcp_zero_window_persist(st, tmp, static):
    # Linux's reader stalls: its window closes, we probe it, then it reads
    # everything and the bytes are exact.
    before = st.stats()["tcp_zero_window_probes"]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(30)
    s.connect((STACK_IP, 19))
    time.sleep(2.5)
    probes = st.stats()["tcp_zero_window_probes"] - before
    h = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    s.close()
    assert probes > 0, "no zero-window probes while the reader stalled"
    assert n == 64 << 20 and h.hexdigest() == st.src_sha, "wrong bytes after the stall"


@test
def tcp_rst_both_ways(st, tmp, static):
    before = st.stats()
    # From Linux: SO_LINGER 0 makes close() send RST.
    s = socket.create_connection((STACK_IP, 7), timeout=10)
    s.sendall(b"abc")
    assert s.recv(3) == b"abc"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.3)
    mid = st.stats()
    assert mid["tcp_rst_rx"] == before["tcp_rst_rx"] + 1, (mid["tcp_rst_rx"], before["tcp_rst_rx"])
    assert mid["ESTABLISHED"] == 0
    # From us: the reset service aborts after the first data.
    s = socket.create_connection((STACK_IP, 13), timeout=10)
    s.sendall(b"x")
    try:
        s.recv(10)
        time.sleep(0.2)
        s.send(b"y")
        s.recv(10)
        raise AssertionError("no reset from the stack")
    except ConnectionResetError:
        pass
    s.close()
    assert st.stats()["tcp_rst_tx"] > mid["tcp_rst_tx"]


@test
def tcp_backlog_overflow(st, tmp, static):
    # Port 8 listens with backlog 2 and accepts only when told to. Six
    # clients at once overflow it; once the queue drains, all get served
    # (our SYN-ACK retransmissions and Linux's retransmissions bring them in).
    socks = []
    for i in range(6):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((STACK_IP, 8))
        socks.append(s)
    sent = [False] * 6
    done = [False] * 6
    end = time.time() + 1.0
    while time.time() < end:
        for i, s in enumerate(socks):
            if not sent[i]:
                try:
                    s.send(b"msg%d" % i)
                    sent[i] = True
                except (BlockingIOError, OSError):
                    pass
        time.sleep(0.05)
    assert st.stats()["drop_tcp_listen_overflow"] > 0, "no overflow counted"
    end = time.time() + 40
    while not all(done) and time.time() < end:
        st.send("accept-slow")
        st.wait_for("accepted", 5)
        time.sleep(0.1)
        for i, s in enumerate(socks):
            if done[i]:
                continue
            try:
                if not sent[i]:
                    s.send(b"msg%d" % i)
                    sent[i] = True
                if s.recv(16) == b"msg%d" % i:
                    done[i] = True
            except (BlockingIOError, OSError):
                pass
    for s in socks:
        s.close()
    assert all(done), "not served after the queue drained: %s" % done


def tcbs(st):
    st.send("tcbs")
    got = []
    st.wait_for("tcbs-end", 10, got)
    return "\n".join(got)


def impaired_transfer(st, tmp, loss, dup, reorder, seed, size):
    path = os.path.join(tmp, "imp.%d" % size)
    if not os.path.exists(path):
        with open(os.path.join(tmp, "src"), "rb") as f, open(path, "wb") as o:
            o.write(f.read(size))
    want = sha(path)
    st.send("impair %d %d %d %d" % (loss, dup, reorder, seed))
    st.wait_for("impaired", 5)
    try:
        # Linux -> stack through the sink, and both ways through the stack's client.
        r = sh("nc -N -w 60 %s 9 < %s" % (STACK_IP, path), timeout=150, check=False)
        if len(r.stdout.split()) != 2:
            raise AssertionError("nc to the sink: status %d, out %r, err %r\n%s" % (
                r.returncode, r.stdout, r.stderr, tcbs(st)))
        n, digest = r.stdout.decode().split()
        assert int(n) == size and digest == want, "sink got %s bytes, digest %s" % (n, digest)
        client_transfer(st, tmp, path, 5002, 150)
    finally:
        st.send("impair 0 0 0 0")
        st.wait_for("impaired", 5)
    s = st.stats()
    assert s["impair_dropped"] > 0 or s["impair_duplicated"] > 0


@test
def impair_loss_1pct(st, tmp, static):
    impaired_transfer(st, tmp, 10, 0, 0, 101, 4 << 20)


@test
def impair_loss_5pct(st, tmp, static):
    impaired_transfer(st, tmp, 50, 0, 0, 102, 1 << 20)


@test
def impair_loss_20pct(st, tmp, static):
    impaired_transfer(st, tmp, 200, 0, 0, 103, 128 << 10)


@test
def impair_dup_reorder(st, tmp, static):
    impaired_transfer(st, tmp, 0, 50, 100, 104, 4 << 20)
    assert st.stats()["impair_reordered"] > 0


# --- hostile input, sent raw on Linux's side of the TAP ---------------------

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(a):
    return socket.inet_aton(a)


def ip_packet(src, dst, proto, payload, ihl_words=5, total=None, bad_csum=False, frag=0x4000):
    total = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl_words, 0, total, 7, frag, 64, proto, 0, ip4(src), ip4(dst))
    c = csum(h)
    if bad_csum:
        c ^= 0x5555
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def tcp_segment(src, dst, sport, dport, seq, ack, flags, data=b"", opts=b"", doff=None, bad_csum=False, win=65535):
    doff = (20 + len(opts)) // 4 if doff is None else doff
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    if bad_csum:
        c ^= 0x1234
    return h[:16] + struct.pack("!H", c) + h[18:] + data


@test
def hostile_input(st, tmp, static):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((TAP, 0))
    mine = bytes.fromhex(open("/sys/class/net/%s/address" % TAP).read().strip().replace(":", ""))
    theirs = bytes.fromhex(STACK_MAC.replace(":", ""))
    eth = theirs + mine + b"\x08\x00"

    # A live connection that must survive everything below.
    live = socket.create_connection((STACK_IP, 7), timeout=10)
    live.sendall(b"before")
    assert live.recv(6) == b"before"
    lport = live.getsockname()[1]

    L, S = LINUX_IP, STACK_IP
    syn = tcp_segment(L, S, 40001, 7, 1, 0, 0x02)
    table = [
        ("bad ip checksum", "drop_ip_checksum", eth + ip_packet(L, S, 6, syn, bad_csum=True)),
        ("bad tcp checksum", "drop_tcp_checksum", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x02, bad_csum=True))),
        ("truncated ip header", "drop_ip_short", eth + ip_packet(L, S, 6, syn)[:12]),
        ("ip length beyond frame", "drop_ip_len", eth + ip_packet(L, S, 6, syn, total=900)),
        ("ip header length 3", "drop_ip_hdrlen", eth + ip_packet(L, S, 6, syn, ihl_words=3)),
        ("tcp data offset beyond segment", "drop_tcp_hdrlen", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x02, doff=15))),
        ("truncated tcp header", "drop_tcp_short", eth + ip_packet(L, S, 6, syn[:12])),
        ("syn+fin", "drop_tcp_flags", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x03))),
        ("syn+rst", "drop_tcp_flags", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x06))),
        ("null flags", "drop_tcp_flags", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x00))),
        ("xmas (fin+psh+urg)", "drop_tcp_flags", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x29))),
        ("tcp option length 0 (ignored, not the SYN)", "tcp_options_malformed", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x02, opts=b"\x02\x00\x00\x00"))),
        ("tcp option past header (ignored)", "tcp_options_malformed", eth + ip_packet(L, S, 6, tcp_segment(L, S, 40001, 7, 1, 0, 0x02, opts=b"\x01\x01\x03\x09"))),
        ("udp length bogus", "drop_udp_len", eth + ip_packet(L, S, 17, struct.pack("!HHHH", 5, 7, 500, 0) + b"x" * 8)),
        ("udp bad checksum", "drop_udp_checksum", eth + ip_packet(L, S, 17, struct.pack("!HHHH", 5, 7, 12, 0x1234) + b"abcd")),
        ("icmp bad checksum", "drop_icmp_checksum", eth + ip_packet(L, S, 1, b"\x08\x00\x12\x34\x00\x01\x00\x01data")),
        ("arp truncated", "drop_arp_malformed", theirs + mine + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04"),
        ("ip from broadcast", "drop_ip_martian", eth + ip_packet("255.255.255.255", S, 6, syn)),
        ("out-of-window rst", "drop_tcp_rst_out_of_window",
         eth + ip_packet(L, S, 6, tcp_segment(L, S, lport, 7, random.getrandbits(32) ^ 0x80000000, 0, 0x04))),
        ("ack far beyond snd_max", "drop_tcp_out_of_window",
         eth + ip_packet(L, S, 6, tcp_segment(L, S, lport, 7, random.getrandbits(32), 0, 0x10, data=b"junk"))),
        ("fragment over the bound", "drop_frag_too_big", eth + ip_packet(L, S, 17, b"z" * 64, frag=0x2000 | (20000 // 8))),
    ]
    failed = []
    for name, counter, frame in table:
        before = st.stats()[counter]
        raw.send(frame)
        time.sleep(0.02)
        if st.stats()[counter] <= before:
            failed.append(name)
    # SYN flood from many ports: bounded half-open state, SYN cookies answer.
    # The frames are built first and then sent back to back: Linux resets
    # every SYN-ACK (it has no such connection), so a flood that trickles out
    # at the pace of building frames (a loaded machine) frees each half-open
    # block before the next SYN comes and never fills the table.
    flood = [eth + ip_packet(L, S, 6, tcp_segment(L, S, 20000 + i, 7, random.getrandbits(32), 0, 0x02))
             for i in range(3000)]
    flood_before = st.stats()
    for frame in flood:
        raw.send(frame)
    time.sleep(0.5)
    s = st.stats()
    if s["SYN_RECEIVED"] > 320 // 4:
        failed.append("half-open not bounded: %d" % s["SYN_RECEIVED"])
    if s["tcp_syncookie_sent"] <= flood_before["tcp_syncookie_sent"]:
        failed.append("no syn cookies under flood")
    # The live connection and new ones still work; the stack is still running.
    live.sendall(b"after")
    live.settimeout(10)
    assert live.recv(5) == b"after", "live connection broken"
    live.close()
    r = sh("printf 'still here\\n' | nc -N -w 5 %s 7" % STACK_IP, timeout=10)
    assert r.stdout == b"still here\n"
    assert st.alive()
    # Nothing leaks: the flood's half-open blocks are reset by Linux (it has
    # no such connections) and every block returns to the pool.
    end = time.time() + 15
    while time.time() < end:
        s = st.stats()
        if s["SYN_RECEIVED"] + s["ESTABLISHED"] + s["CLOSE_WAIT"] + s["LAST_ACK"] == 0:
            break
        time.sleep(0.3)
    else:
        failed.append("connection blocks not returned: %s" % {k: s[k] for k in (
            "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK")})
    assert not failed, "not counted/dropped: %s" % failed


class LinuxTarget:
    """The kernel of the second namespace (run.sh's NET_NS_B) behind a veth
    pair, running linux_services.py: the reference for the raw cases."""

    def __init__(self, tmp):
        ns = os.environ["NET_NS_B"]
        self.tmp = tmp
        sh("ip link add %s type veth peer name %s netns %s" % (VETH, VETH_B, ns))
        sh("ip addr add %s/24 dev %s && ip link set %s up" % (VETH_IP, VETH, VETH))
        sh("ip netns exec %s sh -c 'ip link set lo up && ip addr add %s/24 dev %s && ip link set %s up'"
           % (ns, LINUXB_IP, VETH_B, VETH_B))
        here = os.path.dirname(os.path.abspath(__file__))
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable,
                                   os.path.join(here, "linux_services.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.p.stdout.readline().strip() == "ready", "Linux services did not start"
        self.mac = sh("ip netns exec %s cat /sys/class/net/%s/address" % (ns, VETH_B)).stdout.decode().strip()
        time.sleep(0.3)

    def close(self):
        self.p.stdin.close()
        self.p.wait(5)


def raw_targets(st, linux):
    import raw
    import raw_cases
    t_stack = raw_cases.Target("lib/net", raw.Peer("lib/net", TAP, PEER_IP, PEER_MAC, STACK_IP, STACK_MAC),
                               STACK_IP, st)
    t_stack.client_ip, t_stack.others = LINUX_IP, (LINUX_IP2,)

    def stack_connect_out(ip, port):
        st.send("connect %s %d /dev/null %s" % (ip, port, os.path.join(linux.tmp, "connect-out")))
        st.wait_for("client ", 5)

        def result(timeout):
            try:
                line = st.wait_for("client-", timeout)
            except AssertionError:
                return "no error in %.1f s" % timeout
            return "refused" if line.split()[-1] == "-5" else line
        return result
    t_stack.connect_out = stack_connect_out
    t_linux = raw_cases.Target("linux", raw.Peer("linux", VETH, LINUXB_PEER_IP, PEER_MAC, LINUXB_IP,
                                                 linux.mac), LINUXB_IP)
    t_linux.client_ip = VETH_IP

    def linux_connect_out(ip, port):
        code = ("import socket\ns = socket.socket()\ns.settimeout(10)\ntry:\n    s.connect((%r, %d))\n"
                "    print('connected')\nexcept ConnectionRefusedError:\n    print('refused')\n"
                "except OSError as e:\n    print(type(e).__name__)\n" % (ip, port))
        p = subprocess.Popen(["ip", "netns", "exec", os.environ["NET_NS_B"], sys.executable, "-c", code],
                             stdout=subprocess.PIPE, text=True)

        def result(timeout):
            try:
                return p.communicate(timeout=timeout)[0].strip()
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return "no error in %.1f s" % timeout
        return result
    t_linux.connect_out = linux_connect_out
    return t_stack, t_linux


def run_raw_case(fn, t_stack, t_linux):
    """The case on lib/net (counted) and on Linux (printed next to it)."""
    t0 = time.time()
    try:
        fn(t_stack)
        ok, why = True, ""
    except Exception as e:  # noqa: reported, the other cases still run
        ok, why = False, str(e)
    t1 = time.time()
    try:
        fn(t_linux)
        lx = "as the RFC asks"
    except Exception as e:  # noqa
        lx = "differs: %s" % e
    results.append((fn.__name__, ok))
    if ok:
        print("ok   %s (%.1fs; linux: %s)" % (fn.__name__, t1 - t0, lx), flush=True)
    else:
        print("FAIL %s: %s (linux: %s)" % (fn.__name__, why, lx), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--static", action="store_true")
    args = ap.parse_args()
    sh("ip link set lo up")
    sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
    src = os.path.join(args.tmp, "src")
    with open(src, "wb") as f:
        f.write(random.Random(7).randbytes(64 << 20))
    st = Stack(args.bin, src)
    st.src_sha = sha(src)
    st.dnsmasq = None
    sh("ip link set %s up" % TAP)
    sh("ip addr add %s/24 dev %s" % (LINUX_IP, TAP))
    sh("ip addr add %s/24 dev %s" % (LINUX_IP2, TAP))
    time.sleep(0.2)
    try:
        if args.static:
            st.send("static")
        dhcp_exchange(st, args.tmp, args.static)
        only = os.environ.get("NET_TESTS", "").split()
        for t in (ping_answered, arp_both_ways, tcp_echo_nc, tcp_64mib_linux_to_stack,
                  tcp_64mib_stack_to_linux_curl, tcp_stack_as_client_both_ways, tcp_200_concurrent,
                  tcp_half_close, tcp_zero_window_persist, tcp_rst_both_ways, tcp_backlog_overflow, impair_loss_1pct,
                  impair_loss_5pct, impair_loss_20pct, impair_dup_reorder, hostile_input):
            if not only or t.__name__ in only:
                t(st, args.tmp, args.static)
        import raw_cases
        cases = [c for c in raw_cases.CASES if not only or c.__name__ in only]
        if cases:
            linux = LinuxTarget(args.tmp)
            t_stack, t_linux = raw_targets(st, linux)
            try:
                for c in cases:
                    run_raw_case(c, t_stack, t_linux)
            finally:
                t_stack.peer.close()
                t_linux.peer.close()
                linux.close()
        s = st.stats()
        print("counters: " + " ".join("%s=%d" % kv for kv in sorted(s.items()) if kv[1]), flush=True)
    finally:
        st.send("quit")
        try:
            st.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            st.p.kill()
        if st.dnsmasq:
            st.dnsmasq.terminate()
            st.dnsmasq.wait()
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("net-tap: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
