#!/usr/bin/python3
"""`make run` proof: the default system boots to a visible banner, says how to
leave, answers on its console, stays up, and Ctrl-A X leaves QEMU."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Guest, Checks  # noqa: E402


def main():
    c = Checks("boot/run")
    g = Guest("")
    try:
        g.wait_for(r"^init> ", 60)
        c.check("banner visible", "capOS: init is up" in g.text())
        c.check("says how to leave QEMU", "Ctrl-A X leaves QEMU" in g.text())
        g.send("caps\r")
        g.wait_for(r"^  power\s+cap", 30)
        c.check("console answers 'caps' with the CapSet", True)
        g.send("hello\r")
        m = g.wait_for(r"^hello exited with (-?\d+)\n", 30)
        c.check("'hello' spawns a process and reports its exit code 7", m.group(1) == "7")
        g.send("fault\r")
        m = g.wait_for(r"^fault exited with (-?\d+)\n", 30)
        c.check("'fault' is killed and the console goes on", m.group(1) == "-1000")
        time.sleep(0.5)
        c.check("the system stays up", g.proc.poll() is None)
        g.send(b"\x01x")
        status = g.wait_exit(30)
        c.check("Ctrl-A X leaves QEMU", status == 0, f"exit status {status}")
    finally:
        g.kill()
    c.done(g.text())


if __name__ == "__main__":
    main()
