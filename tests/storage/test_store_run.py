#!/usr/bin/python3
"""The default system on a kept disk (what `make run` does): set up the
operator password, leave QEMU, boot again on the same image: setup is
closed and the same password logs in. Then an empty disk (FRESH=1) asks
for setup again."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, Guest  # noqa: E402

PASSWORD = "durable-horse-7"


def boot(img):
    os.environ["CAPOS_DISK"] = img
    try:
        return Guest()
    finally:
        del os.environ["CAPOS_DISK"]


def leave(g):
    g.send(b"\x01x")                          # Ctrl-A X
    return g.wait_exit(30)


def main():
    c = Checks("store-run")
    tmp = tempfile.mkdtemp(prefix="capos-run-disk-")
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    logs = []
    g = boot(img)
    try:
        g.wait_for(r"^login: ", 60)
        g.wait_for(r"store: (formatted|recovered|corrupt)", 60)
        c.check("a new disk is formatted at the first boot", re.search(r"store: formatted a blank disk", g.text()) is not None)
        g.send("setup\r")
        g.wait_for(r"^password: ", 20)
        g.send(PASSWORD + "\r")
        g.wait_for(r"^again: ", 20)
        g.send(PASSWORD + "\r")
        g.wait_for(r"^setup: (done|refused)", 30)
        c.check("setup sets the first operator password", "setup: done" in g.text())
        g.wait_for(r"^login: ", 20)
    finally:
        leave(g)
        logs.append(g.text())

    g = boot(img)
    try:
        g.wait_for(r"^login: ", 60)
        g.wait_for(r"store: (formatted|recovered|corrupt)", 60)
        c.check("the second boot recovers the store", re.search(r"store: recovered 1 commits", g.text()) is not None)
        g.send("setup\r")
        g.wait_for(r"^setup: .*|^password: ", 30)
        c.check("setup is closed after the reboot",
                re.search(r"^setup: an operator credential exists already$", g.text(), re.M) is not None)
        g.wait_for(r"^login: \Z", 20)
        g.send("admin\r")
        g.wait_for(r"^password: \Z", 20)
        g.send("wrong\r")
        g.wait_for(r"^login incorrect", 30)
        c.check("a wrong password is refused after the reboot", True)
        g.wait_for(r"^login: \Z", 20)
        g.send("admin\r")
        g.wait_for(r"^password: \Z", 20)
        g.send(PASSWORD + "\r")
        g.wait_for(r"^admin@capos> ", 30)
        c.check("the same password logs in after the reboot", True)
        g.send("logout\r")
    finally:
        leave(g)
        logs.append(g.text())

    os.unlink(img)                          # FRESH=1
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    g = boot(img)
    try:
        g.wait_for(r"^login: ", 60)
        g.send("setup\r")
        g.wait_for(r"^password: ", 20)
        c.check("an empty disk asks for setup again", True)
    finally:
        leave(g)
        logs.append(g.text())
    transcript = "\n=====\n".join(logs)
    c.check("no password in the transcript", PASSWORD not in transcript)
    c.done(transcript)


if __name__ == "__main__":
    main()
