#!/usr/bin/python3
"""The audit service: structured records only (free text such as a typed
password is refused), bounded with a dropped count, read back by the
operator profile only (the endpoint discloses each caller's profile)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, abi_errors, run_proof  # noqa: E402

E = abi_errors()


def main():
    c = Checks("audit")
    status, log = run_proof("audit", timeout=60)

    def has(p):
        return re.search(p, log, re.M) is not None

    app = E["CAP_ERR_APPLICATION"]
    c.check("structured records are accepted", has(r"^AUDIT write login result=0$") and has(r"^AUDIT write denial result=0$"))
    c.check("free text is refused (nothing like a password can be logged)", has(rf"^AUDIT write free-text result={app}$"))
    c.check("codes are lower-case identifiers", has(rf"^AUDIT write uppercase result={app}$"))
    c.check("the operator reads the newest records; older ones are counted as dropped",
            has(r"^AUDIT tail operator result=0$") and has(r"^AUDIT tail count=5 dropped=46$")
            and has(r"^AUDIT rec seq=302 event=noise reason=flood session=299$"))
    c.check("a guest may not read the log", has(rf"^AUDIT tail guest result={app}$"))
    c.check("the refused text never reached the log or the console", "hunter2" not in log)
    c.check("all clients exit 0", len(re.findall(r"^AUDITTEST \S+ exit=0$", log, re.M)) == 3)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
