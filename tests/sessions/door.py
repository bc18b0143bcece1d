"""Driving the real login door over the serial terminal, as a person would
(tests/sessions/door.manifest: the default session path, with the test-only
sessprobe as the operator's echo service)."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Guest, ROOT, boot_package  # noqa: E402

PASSWORD = "s3cret-horse"
MANIFEST = os.path.join(ROOT, "tests/sessions/door.manifest")


def door_guest(tmp, sessionmgr_args=None, probe_args=None, programs=None, manifest=MANIFEST):
    """Boot the door manifest (or another with the same lines: `manifest`)
    (with the session manager's and the probe's args, and the programs
    ProgramLauncher runs, replaced when given) and wait for the first login
    prompt."""
    replace = []
    if sessionmgr_args is not None:
        replace.append(("    args capacity=32\n", f"    args {sessionmgr_args}\n"))
    if probe_args is not None:
        replace.append(("    export echo interface=Echo\n", f"    export echo interface=Echo\n    args {probe_args}\n"))
    if programs is not None:
        replace.append(("    args hello fault\n", f"    args {programs}\n"))
    g = Guest("", pkg=boot_package(manifest, tmp, replace=replace))
    g.wait_for(r"^login: ", 60)
    return g


class Door:
    def __init__(self, g):
        self.g = g

    def at_login(self):
        """The login prompt, the last thing on the console but for the lines
        services log after it ("[logger] up (pid 2)" came right after the
        prompt once, while the services started)."""
        self.g.wait_for(r"^login: (?:\[[\w.-]+\][^\n]*\n)*\Z", 30)

    def setup(self, pw=PASSWORD):
        """The first operator's password. The prompts are matched from what
        this step typed on, not as the console's last bytes: in a full system
        another service may log a line right after a prompt (the host key
        service's fingerprint did)."""
        g = self.g
        self.at_login()
        g.answer("setup\r", r"password: ")
        g.answer(pw + "\r", r"again: ")
        return g.answer(pw + "\r", r"^setup: (\w+)\n", 60).group(1)

    def login(self, who, pw=PASSWORD, expect_shell=True, quiet=True):
        """Log in; returns the text the door printed when no shell came.
        quiet=False: something else (the probe) may print after the prompt."""
        g = self.g
        self.at_login()
        mark = len(g.text())
        g.send(who + "\r")
        if who != "guest":
            g.wait_for(r"^password: \Z", 20, since=mark)
            g.send(pw + "\r")
        if expect_shell:
            g.wait_for(rf"^{who}@capos> " + (r"\Z" if quiet else ""), 60, since=mark)
            return None
        g.wait_for(r"^login: \Z", 60, since=mark + 1)
        return g.text()[mark:]

    def cmd(self, who, line, timeout=30):
        """Type a command at the shell prompt; returns its output."""
        g = self.g
        g.wait_for(rf"^{who}@capos> \Z", timeout)
        mark = len(g.text())
        g.send(line + "\r")
        if line.isprintable():
            # the output starts after the echo of the line (a prompt drawn
            # twice before it must not end the command early)
            # (the editor keeps at most 255 bytes of a line: match its start)
            start = g.wait_for(rf"{re.escape(line[:200])}[^\n]*\n", timeout, since=mark).end()
        else:
            # an edited line (cursor keys, Tab) echoes otherwise: its output
            # starts after the first line that follows
            g.wait_for(r"\n", timeout, since=mark)
            start = g.text().index("\n", mark) + 1
        g.wait_for(rf"^{who}@capos> \Z", timeout, since=start)
        out = g.text()[start:]
        return out[:out.rindex(f"{who}@capos> ")] if f"{who}@capos> " in out else out

    def exit(self, who):
        g = self.g
        g.wait_for(rf"^{who}@capos> \Z", 30)
        mark = len(g.text())
        g.send("exit\r")
        g.wait_for(r"^logged out\n", 30, since=mark)
        self.at_login()

    def probe(self, who, what):
        out = self.cmd(who, "echo " + what)
        m = re.search(r"^PROBE (.*)$", out, re.M)
        assert m, out
        return m.group(1)


def stats_fields(line):
    """The probe's stats line as a dict; the session manager's own cap count
    (from the kernel's table) is "smcaps"."""
    return dict(re.findall(r"(\S+)=(\d+)", line.replace("session-manager held=", "smcaps=")))
