#!/usr/bin/python3
"""The default system on a kept disk (what `make run` does), driven at the
serial door as a person would: set up the operator password, leave QEMU,
boot again on the same image: setup is closed, the same password logs in;
add an account and an SSH key, leave, boot again: both are there, and
the audit trail holds the last boot's events. The SSH host key is made at
the first boot and is the same key at every later boot; a damaged store
is never overwritten (the key is then ephemeral). Then an empty disk
(FRESH=1) asks for setup again and has a new host key."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sessions"))
from capos_qemu import Checks, Guest, scratch  # noqa: E402
from door import Door  # noqa: E402

PASSWORD = "durable-horse-7"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"


def boot(img):
    os.environ["CAPOS_DISK"] = img
    try:
        g = Guest()
    finally:
        del os.environ["CAPOS_DISK"]
    g.wait_for(r"^login: ", 60)
    g.wait_for(r"store: (formatted|recovered|corrupt).*\n", 60)
    g.wait_for(r"hostkey: 256 SHA256:\S+ .*\n", 60)     # the last of the store's clients to start
    g.send("\r")                             # a fresh prompt after the services' log lines
    g.wait_for(r"^login: \Z", 30)
    return g, Door(g)


def hostkey(g):
    """(how the key came, its fingerprint) from the boot log."""
    # (a line may follow the login prompt drawn before it)
    g.wait_for(r"hostkey: 256 SHA256:\S+ ", 60)
    how = re.findall(r"hostkey: (a new host key|the host key kept|an EPHEMERAL|NON-PRODUCTION)", g.text())
    fp = re.findall(r"hostkey: 256 (SHA256:[A-Za-z0-9+/]{43}) ", g.text())
    return (how[-1] if how else None, fp[-1] if fp else None)


def leave(g, logs):
    g.send(b"\x01x")                          # Ctrl-A X
    g.wait_exit(30)
    logs.append(g.text())


def main():
    c = Checks("store-run")
    tmp = scratch("capos-run-disk-")
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    logs = []

    g, d = boot(img)
    try:
        c.check("a new disk is formatted at the first boot", "store: formatted a blank disk" in g.text())
        how1, fp1 = hostkey(g)
        c.check("the first boot makes a host key and keeps it in the store", how1 == "a new host key" and fp1, how1)
        c.check("setup sets the first operator password", d.setup(PASSWORD) == "done")
        d.at_login()
    finally:
        leave(g, logs)

    g, d = boot(img)
    try:
        c.check("the second boot recovers the store", re.search(r"store: recovered \d+ commits", g.text()) is not None)
        how, fp = hostkey(g)
        c.check("after a reboot the host key is the one kept in the store (same fingerprint)",
                how == "the host key kept" and fp == fp1, f"{how} {fp} vs {fp1}")
        d.at_login()
        mark = len(g.text())
        g.send("setup\r")
        g.wait_for(r"^setup: .*\n", 30, since=mark)
        c.check("setup is closed after the reboot",
                re.search(r"^setup: an operator credential exists already$", g.text()[mark:], re.M) is not None)
        out = d.login("admin", pw="wrong", expect_shell=False)
        c.check("a wrong password is refused after the reboot", "login incorrect" in out)
        d.login("admin", pw=PASSWORD)
        c.check("the same password logs in after the reboot", True)
        c.check("useradd carol", d.cmd("admin", "useradd carol guest").strip() == "useradd: added (active)")
        c.check("keyadd carol", d.cmd("admin", "keyadd carol " + KEY + " carol@laptop").strip() == "keyadd: key authorized")
        d.exit("admin")
    finally:
        leave(g, logs)

    g, d = boot(img)
    try:
        how, fp = hostkey(g)
        c.check("and again after a second reboot", how == "the host key kept" and fp == fp1, f"{how} {fp}")
        d.login("admin", pw=PASSWORD)
        out = d.cmd("admin", "accounts")
        c.check("after a reboot the added account and its SSH key are there",
                re.search(r"^  carol +active +guest +1 key$", out, re.M) is not None and
                ("      " + KEY + "\n") in out and re.search(r"^  admin +active +operator,guest", out, re.M) is not None,
                out)
        out = d.cmd("admin", "audit 30")
        c.check("after a reboot the audit trail holds the last boot's events (the account and key added, "
                "the refused and the good login)",
                all(re.search(p, out) for p in (r"account-add ok by carol", r"key-add ok by carol",
                                                 r"login-denied password-wrong", r"login ok")), out)
        d.exit("admin")
    finally:
        leave(g, logs)

    # a damaged disk: the store says where, nothing crashes, and setup cannot take over the system
    with open(img, "r+b") as f:
        f.seek(1 * 512 + 100)                # the padding of commit 1, the empty first snapshot
        f.write(b"\x5a")
    g, d = boot(img)
    try:
        c.check("a damaged disk is reported with where the damage is",
                re.search(r"store: corrupt: commit 1 at sector 1 fails its checksum", g.text()) is not None)
        how, fp = hostkey(g)
        c.check("on a damaged store the host key is ephemeral, and the store is not overwritten",
                how == "an EPHEMERAL" and fp != fp1 and "hostkey: the store cannot keep the host key" in g.text(), how)
        c.check("setup on a damaged disk is refused (nothing is kept, nobody takes over)", d.setup(PASSWORD) == "refused")
        c.check("the system carries on: a guest session still opens", d.login("guest") is None)
        d.exit("guest")
        c.check("no process was killed", not re.search(r"killed|panic", g.text()))
    finally:
        leave(g, logs)

    os.unlink(img)                          # FRESH=1
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    g, d = boot(img)
    try:
        d.at_login()
        how, fp = hostkey(g)
        c.check("an empty disk (FRESH=1) makes a new host key", how == "a new host key" and fp != fp1, f"{how} {fp}")
        g.send("setup\r")
        g.wait_for(r"^password: ", 20)
        c.check("an empty disk asks for setup again", True)
    finally:
        leave(g, logs)
    transcript = "\n=====\n".join(logs)
    c.check("no password in the transcript", PASSWORD not in transcript)
    c.done(transcript)


if __name__ == "__main__":
    main()
