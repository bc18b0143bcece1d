#!/usr/bin/python3
"""A login/logout cycle leaves nothing behind (tests/sessions/shell.manifest):
the proof program logs in through the SessionManager, has the launcher start a shell on
the terminal, the host uses it and types exit, the session's caps are
released; around the second such cycle the kernel's counters (free frames,
objects, heap, processes, cap slots, pending calls) must be identical."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, Guest, ROOT, boot_package  # noqa: E402



def main():
    c = Checks("login-cycle")
    with tempfile.TemporaryDirectory() as tmp:
        pkg = boot_package(os.path.join(ROOT, "tests/sessions/shell.manifest"), tmp)
        g = Guest(pkg=pkg)
        try:
            for cycle, cmd in (("warm-up", "caps\r"), ("measured", "echo once more\r")):
                mark = len(g.text())
                g.wait_for(r"^admin@capos> ", 60, since=mark)
                g.send(cmd)
                g.wait_for(r"^admin@capos> \Z", 30, since=len(g.text()) - 1 if cmd == "caps\r" else mark + 1)
                g.send("exit\r")
                g.wait_for(rf"^LOGINTEST {cycle} cycle (-?\d+)$", 30, since=mark)
            status = g.wait_exit(60)
        finally:
            g.kill()
    log = g.text()
    c.check("two login/shell/logout cycles complete", re.search(r"^LOGINTEST warm-up cycle 0$", log, re.M) is not None
            and re.search(r"^LOGINTEST measured cycle 0$", log, re.M) is not None)
    b = re.search(r"^LOGINTEST before (.*)$", log, re.M)
    a = re.search(r"^LOGINTEST after  (.*)$", log, re.M)
    c.check("the session's resources are released: the kernel's counters are back where they were",
            bool(a and b) and a.group(1) == b.group(1), f"{b and b.group(1)} / {a and a.group(1)}")
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
