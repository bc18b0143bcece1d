#!/usr/bin/python3
"""The restricted shell launcher's denial table: with a compromised broker
that slips broad authority into a session's bundle (ProcessSpawner,
EndpointFactory, SessionAuthority, Power), the launcher starts no shell and
fails the call; an ordinary bundle (Timer) does start one."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT, abi_errors, boot_package, run_guest  # noqa: E402



def main():
    c = Checks("launcher")
    app = abi_errors()["CAP_ERR_APPLICATION"]
    with tempfile.TemporaryDirectory() as tmp:
        pkg = boot_package(os.path.join(ROOT, "tests/sessions/launcher.manifest"), tmp)
        status, log = run_guest(timeout=60, pkg=pkg)
    got = dict((m[0], (m[1], m[2])) for m in re.findall(r"^LAUNCH (\S+) result=(-?\d+) shells=(\d+)$", log, re.M))
    for cap, iface in (("spawner", "ProcessSpawner"), ("endpoints", "EndpointFactory"),
                       ("sessions", "SessionAuthority"), ("power", "Power")):
        c.check(f"a bundle with {iface} starts no shell", got.get(cap) == (str(app), "0"), str(got.get(cap)))
    c.check("an ordinary bundle (Timer) starts the shell", got.get("timer") == ("0", "1"), str(got.get("timer")))
    m = re.search(r"^AUTHORITY capos-shell held=(\d+): (.*)$", log, re.M)
    c.check("the kernel's own table: the shell holds exactly terminal, session, its context and the bundle",
            bool(m) and m.group(1) == "4" and
            sorted(m.group(2).split()) == sorted(["TerminalSession", "UserSession", "SessionContext", "Timer"]),
            m and m.group(0))
    m = re.search(r"^AUTHORITY launcher held=\d+: (.*)$", log, re.M)
    c.check("only the launcher (not the shell) holds the ProcessSpawner it starts shells with",
            bool(m) and "ProcessSpawner" in m.group(1))
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
