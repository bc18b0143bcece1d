#!/usr/bin/python3
"""CredentialStore in QEMU: setup only while empty, Argon2id verification,
an unknown principal answered like a wrong password (no enumeration), a
back-off after three failures that refuses even the right password until it
ends, and no password or verifier ever on the console."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, run_proof  # noqa: E402

OK, WRONG, UNKNOWN, BACKOFF = 0, 1, 2, 3   # enum CredentialResult


def main():
    c = Checks("credentials")
    status, log = run_proof("credentials", timeout=120)

    def val(p):
        m = re.search(p, log, re.M)
        return m.group(1) if m else None

    c.check("the store starts empty", val(r"^CRED empty result=0 empty=(\d)$") == "1")
    c.check("before setup every principal is unknown", val(r"^CRED verify-before-setup (-?\d+)$") == str(UNKNOWN))
    c.check("setup creates the first credential", val(r"^CRED setup (-?\d+)$") == "1")
    c.check("setup refuses once a credential exists", val(r"^CRED setup-again (-?\d+)$") == "0")
    c.check("the right password verifies (Argon2id)", val(r"^CRED verify-good (-?\d+) ") == str(OK))
    c.check("an unknown principal is refused", val(r"^CRED verify-unknown (-?\d+)$") == str(UNKNOWN))
    c.check("wrong passwords are refused", re.findall(r"^CRED verify-wrong (-?\d+)$", log, re.M) == [str(WRONG)] * 3)
    m = re.search(r"^CRED verify-during-backoff (-?\d+) retry-ms=(\d+)$", log, re.M)
    c.check("after three failures even the right password waits out a back-off",
            bool(m) and m.group(1) == str(BACKOFF) and 0 < int(m.group(2)) <= 1000)
    c.check("after the back-off the right password works again", val(r"^CRED verify-after-backoff (-?\d+)$") == str(OK))
    c.check("no password or verifier on the console", "correct horse" not in log and "$argon2" not in log)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
