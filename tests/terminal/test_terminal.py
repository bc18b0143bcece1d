#!/usr/bin/python3
"""TerminalSession on the serial line, driven from the host: echoed lines,
password entry with no echo (the secret never reaches the serial output),
Backspace editing, Ctrl-C as an interrupt and Ctrl-D as end of input."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Guest, Checks, proof_package  # noqa: E402


def main():
    c = Checks("terminal")
    g = Guest(pkg=proof_package("terminal"))
    try:
        steps = [("echo", "visible\r"), ("secret", "hunter2\r"), ("edit", "abX\x7fc\r"),
                 ("interrupt", "partial\x03"), ("eof", "\x04")]
        for name, keys in steps:
            g.wait_for(rf"^TERM ready-{name}$", 30)
            g.send(keys)
            g.wait_for(rf"^TERM {name} result=", 30)
        status = g.wait_exit(30)
    finally:
        g.kill()
    log = g.text()

    def has(p):
        return re.search(p, log, re.M) is not None

    c.check("an echoed line comes back, and was echoed", has(r"^TERM echo result=0 line=visible event=0$")
            and has(r"^visible$"))
    c.check("a password is read correctly", has(r"^TERM secret result=0 len=7 matches=1 event=0$"))
    c.check("the password never appears on the serial line", "hunter2" not in log)
    c.check("Backspace edits the line", has(r"^TERM edit result=0 line=abc event=0$"))
    c.check("Ctrl-C ends the read as an interrupt and drops the partial line",
            has(r"^TERM interrupt result=0 len=0 event=1$"))
    c.check("Ctrl-D on an empty line is end of input", has(r"^TERM eof result=0 len=0 event=2$"))
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
