#!/usr/bin/python3
"""`make run` proof: the default system boots, starts its services from the
manifest and lands at a login prompt on the serial terminal. Driven as a
person would: set up the operator password, fail a login, log in, look at
the shell's capabilities, session and the audit trail, use a service, log
out to a fresh prompt, take a guest session with a narrower bundle, and
leave QEMU with Ctrl-A X. No password may ever show in the transcript, and
neither shell may hold authority beyond its profile's bundle."""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import tempfile  # noqa: E402
from capos_qemu import Guest, Checks, ROOT, boot_package, run_network_env, scratch  # noqa: E402

PASSWORD = "s3cret-horse"
OPERATOR_CAPS = ["terminal", "session", "context", "timer", "audit", "echo", "programs", "accounts", "netinfo", "ping"]
GUEST_CAPS = ["terminal", "session", "context", "timer"]
RAW = ["ProcessSpawner", "EndpointFactory", "SessionAuthority", "Power", "BootPackage", "KernelStats",
       "RestrictedShellLauncher", "AuthorityBroker", "SessionManager", "CredentialStore", "AccountStore",
       "ThreadSpawner", "Console", "VirtualMemory", "NetworkManager", "NetworkInfo", "TcpListenAuthority",
       "TcpListener", "TcpSocket", "UdpSocket", "Nic", "DeviceMmio", "DMAPool", "Interrupt", "DeviceManager"]
# the operator's view of the network (read-only) and ping are in its bundle; nothing else of the network
OPERATOR_RAW = [i for i in RAW if i != "NetworkInfo"]


def kernel_caps(text, pid=None):
    """(pid, sorted interfaces) of each shell line of the watcher (the kernel's own tables)."""
    return [(int(p), sorted(i.split())) for p, i in
            re.findall(r"AUTHORITY capos-shell pid=(\d+) held=\d+:(.*)$", text, re.M)]


def http_get(url):
    """The raw answer (status line, headers, body) to GET url, as curl -si prints it."""
    host, port = url.split("/")[2].split(":")
    path = "/" + url.split("/", 3)[3]
    s = socket.create_connection((host, int(port)), timeout=60)
    s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    s.close()
    return out.decode("utf-8", "replace")


def caps_listed(text):
    return re.findall(r"^  (\S+)\s+(\S+)$", text, re.M)


def main():
    c = Checks("boot/run")
    # the default manifest, with the test program `fault` added to what
    # ProgramLauncher may run (the default image holds no test program), and
    # a watcher that prints each shell's caps from the kernel's tables
    watcher = ("service watcher binary=tcpecho session=system restart=never\n"
               "    grant console = kernel.console\n    grant stats = kernel.stats\n    grant timer = kernel.timer\n"
               "    args watch capos-shell\n")
    pkg = boot_package(os.path.join(ROOT, "manifests/system.manifest"), scratch("capos-run-"),
                       replace=[("    args hello\n", "    args hello fault\n"),
                                ("    grant info = net.info\n", "    grant info = net.info\n\n" + watcher)])
    # the network of `make run`: scripts/qemu adds the NIC and the forward
    g = Guest(pkg=pkg, env=run_network_env())
    try:
        g.wait_for(r"^login: ", 60)
        c.check("boots to a login prompt", "capOS login" in g.text())
        m = g.wait_for(r"^capOS: the status page \(webstatus\) will answer at (http://127\.0\.0\.1:(\d+)/) once", 5)
        url = m.group(1)
        g.wait_for(r"\[logger\] netstack: dhcp lease 10\.0\.2\.15 ", 60)
        g.wait_for(r"\[logger\] webstatus: serving HTTP on port 80$", 60)
        page = http_get(url)
        c.check("the status page answers over the forwarded port (virtio-net driver, stack, webstatus)",
                page.startswith("HTTP/1.0 200 OK\r\n") and "capOS status" in page and "10.0.2.15" in page, page)
        c.check("... and an unknown path is 404", http_get(url + "nope").startswith("HTTP/1.0 404 "))
        g.send("setup\r")
        g.wait_for(r"^password: ", 20)
        g.send(PASSWORD + "\r")
        g.wait_for(r"^again: ", 20)
        g.send(PASSWORD + "\r")
        g.wait_for(r"^setup: (done|refused)", 30)
        c.check("setup sets the first operator password", "setup: done" in g.text())
        mark = len(g.text())
        g.wait_for(r"^login: ", 20)
        g.send("admin\r")
        g.wait_for(r"^password: ", 20)
        g.send("wrong\r")
        g.wait_for(r"^login incorrect", 30)
        c.check("a wrong password is refused", True)
        g.wait_for(r"^login: \Z", 20)
        g.answer("admin\r", r"password: ")
        g.send(PASSWORD + "\r")
        g.wait_for(r"^admin@capos> ", 30)
        g.wait_for(r"AUTHORITY capos-shell pid=\d+ ", 20)
        g.send("\r")                       # the watcher's line may have come after the prompt
        g.wait_for(r"^admin@capos> \Z", 20)
        mark = len(g.text())
        g.send("caps\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("caps") + r"\n", 20, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 20, since=mark)
        caps = caps_listed(g.text()[mark:])
        c.check("the operator shell holds exactly its bundle", [n for n, _ in caps] == OPERATOR_CAPS, str(caps))
        c.check("... and no raw authority (of the network only NetworkInfo and IcmpEcho)",
                not any(i in OPERATOR_RAW for _, i in caps) and ("netinfo", "NetworkInfo") in caps
                and ("ping", "IcmpEcho") in caps, str(caps))
        kc = kernel_caps(g.text())
        c.check("the kernel's tables agree: the operator shell holds exactly these caps",
                len(kc) == 1 and kc[0][1] == sorted(i for _, i in caps), f"{kc} {caps}")
        mark = len(g.text())
        g.send("help\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("help") + r"\n", 20, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 20, since=mark)
        c.check("help lists net and ping for the operator",
                re.search(r"^  net ", g.text()[mark:], re.M) is not None
                and re.search(r"^  ping A\.B\.C\.D \[COUNT\] ", g.text()[mark:], re.M) is not None)
        mark = len(g.text())
        g.send("net\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("net") + r"\n", 20, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 20, since=mark)
        out = g.text()[mark:]
        c.check("net shows the DHCP address, mask and lease, the counters and the connection table",
                re.search(r"^address 10\.0\.2\.15 mask 255\.255\.255\.0 gateway \S+$", out, re.M) is not None
                and re.search(r"^lease   dhcp, [1-9]\d* s$", out, re.M) is not None
                and re.search(r"^frames  rx [1-9]\d* tx [1-9]\d* ", out, re.M) is not None
                and re.search(r"^connections: \d+$", out, re.M) is not None, out)
        mark = len(g.text())
        g.send("ping 10.0.2.2 2\r")
        g.wait_for(r"^2 sent, \d+ answered\n", 30, since=mark)
        out = g.text()[mark:]
        c.check("ping 10.0.2.2 is answered (by slirp) through the stack's IcmpEcho",
                re.search(r"^reply from 10\.0\.2\.2: seq=1 time=\d+\.\d{3} ms$", out, re.M) is not None
                and re.search(r"^reply from 10\.0\.2\.2: seq=2 ", out, re.M) is not None
                and "2 sent, 2 answered" in out, out)
        g.send("ping 10.0.2\r")
        g.wait_for(r"^ping: usage: ping A\.B\.C\.D \[COUNT\]", 20)
        c.check("ping refuses a malformed address", True)
        g.send("session\r")
        g.wait_for(r"^principal admin, profile operator, auth password, expires in 7h[0-5]\dm, idle logout after 15m00s\n"
                   r"admin@capos> \Z", 20)
        c.check("session names the principal, profile and method, and the real expiry (the manager's default "
                "operator lifetime, 8 h, and idle timeout, 15 min)", True)
        mark = len(g.text())
        g.send("audit\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("audit") + r"\n", 20, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 20, since=mark)
        trail = g.text()[mark:]
        c.check("the operator reads the audit log: the failed login's reason code, then the login",
                re.search(r"login-denied password-wrong", trail) is not None and re.search(r"login ok", trail) is not None,
                trail)
        g.send("echo over the endpoint\r")
        g.wait_for(r"^over the endpoint$", 20)
        c.check("a bundle service answers (echo), and sees the caller as admin/operator",
                "[logger] echo: 17 bytes from admin/operator" in g.text())
        g.send("run hello with { timer: @timer }\r")
        m = g.wait_for(r"^hello from pid (\d+)\nhello exited with (-?\d+)$", 30)
        c.check("run: a permitted program runs with named grants, its output through the shell's stdio",
                m.group(2) == "7")
        g.send("run fault\r")
        m = g.wait_for(r"^fault exited with (-?\d+)\n", 30)
        c.check("run: a program that faults is reported and the shell goes on", m.group(1) == "-1000")
        g.send("run spin\r")
        g.wait_for(r"^run: spin: no such program \(see 'programs'\)$", 20)
        c.check("run: a program that is not permitted is refused", True)
        g.send("run hello with { t: @terminal }\r")
        g.wait_for(r"^run: no grantable cap named terminal$", 20)
        c.check("run: the terminal itself is never handed to a program", True)
        g.send("spawn hello\r")
        g.wait_for(r"^\[1\] hello started", 20)
        m = g.wait_for(r"^\[1\] hello ended:\nhello from pid \d+\n  hello exited with (-?\d+)\nadmin@capos> ", 30)
        c.check("spawn starts a job in the background; its output and exit are shown when it ends", m.group(1) == "7")
        g.send("\x1b[Ctime\r")            # a cursor key first (Right, with nothing to its right): no trace
        g.wait_for(r"^\S+ since boot \(\d+\.\d{3} s.*\nadmin@capos> \Z", 20)
        mark = len(g.text())
        g.send("history\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("history") + r"\n", 20, since=mark).end()
        g.wait_for(r"^admin@capos> \Z", 20, since=mark)
        c.check("history lists the commands (the cursor key left no trace)",
                re.search(r"^  \d+  time$", g.text()[mark:], re.M) is not None and "[A" not in g.text()[mark:])
        g.send("exit\r")
        g.wait_for(r"^logged out$", 20)
        g.wait_for(r"^login: \Z", 20)
        c.check("exit returns to a fresh login prompt", True)
        g.send("guest\r")
        g.wait_for(r"^guest@capos> ", 30)
        g.wait_for(r"AUTHORITY capos-shell pid=\d+ ", 20, since=len(g.text()) - 200)
        g.send("\r")
        g.wait_for(r"^guest@capos> \Z", 20)
        mark = len(g.text())
        g.send("caps\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("caps") + r"\n", 20, since=mark).end()
        g.wait_for(r"^guest@capos> \Z", 20, since=mark)
        caps = caps_listed(g.text()[mark:])
        c.check("the guest shell holds only the guest bundle", [n for n, _ in caps] == GUEST_CAPS, str(caps))
        kc = kernel_caps(g.text())
        c.check("the kernel's tables agree: the guest shell holds exactly these caps (no NetworkInfo, no IcmpEcho)",
                len(kc) == 2 and kc[1][1] == sorted(i for _, i in caps)
                and not any(i in RAW + ["IcmpEcho"] for i in kc[1][1]), str(kc))
        mark = len(g.text())
        g.send("help\r")
        # its output starts after the echo of the line (a prompt drawn twice must not end it early)
        mark = g.wait_for(re.escape("help") + r"\n", 20, since=mark).end()
        g.wait_for(r"^guest@capos> \Z", 20, since=mark)
        c.check("help shows a guest neither net nor ping",
                re.search(r"^  (net|ping)\b", g.text()[mark:], re.M) is None, g.text()[mark:])
        g.send("net\r")
        g.wait_for(r"^net: not available to this session$", 20)
        g.send("ping 10.0.2.2\r")
        g.wait_for(r"^ping: not available to this session$", 20)
        c.check("a guest can neither look at the network nor ping", True)
        g.send("audit\r")
        g.wait_for(r"^audit: not available to this session$", 20)
        c.check("a guest cannot read the audit log", True)
        g.send("run hello\r")
        g.wait_for(r"^run: not available to this session$", 20)
        c.check("a guest cannot run programs", True)
        g.send("exit\r")
        g.wait_for(r"^login: \Z", 20)
        c.check("the system stays up", g.proc.poll() is None)
        g.send(b"\x01x")
        status = g.wait_exit(30)
        c.check("Ctrl-A X leaves QEMU", status == 0, f"exit status {status}")
    finally:
        g.kill()
    c.check("no password in the transcript", PASSWORD not in g.text())
    c.check("neither shell ever held network or device authority (the kernel's tables, watched all along)",
            "AUTHORITY-GREW" not in g.text())
    c.done(g.text())


if __name__ == "__main__":
    main()
