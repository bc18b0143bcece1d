#!/usr/bin/python3
"""The session path in QEMU (tests/sessions/sessions.manifest): audit,
credentials, accounts and the session manager started from a manifest,
password logins and the SSH public-key bridge.
A good login yields a UserSession and a SessionContext that agree on the
principal and profile; every kind of denial (wrong password, disallowed
profile, locked, disabled, recovery-only, missing account, no credential)
answers only "denied" and leaves its principal-blanked reason code in the
audit log; guests get a guest session; no password reaches any log."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT, boot_package, run_guest  # noqa: E402

DENIALS = ["password-wrong", "profile-not-allowed", "account-locked", "account-disabled",
           "account-recovery-only", "account-missing", "credential-unknown"]
SSH_DENIALS = ["ssh-key-unknown", "ssh-bad-signature", "ssh-account-locked", "ssh-profile-not-allowed",
               "ssh-account-missing"]


def main():
    c = Checks("sessions")
    with tempfile.TemporaryDirectory() as tmp:
        pkg = boot_package(os.path.join(ROOT, "tests/sessions/sessions.manifest"), tmp)
        status, log = run_guest(timeout=120, pkg=pkg)

    def has(p):
        return re.search(p, log, re.M) is not None

    c.check("the session services start in dependency order",
            "start order: audit credentials accounts sessionmgr" in log)
    c.check("the first operator credential is set up", has(r"^SESSION setup 1$"))
    c.check("a good login returns a UserSession and a SessionContext", has(r"^SESSION login admin/operator result=0 caps=2$"))
    c.check("the UserSession says who, which profile and how",
            has(r"^SESSION admin info=0 principal=admin profile=operator method=password$"))
    c.check("the minted SessionContext agrees and is live", has(r"^SESSION admin context=0 principal=admin live=1$"))
    denied = re.findall(r"^SESSION login (\S+) result=(-?\d+) caps=(\d+)$", log, re.M)
    c.check("each bad login is just 'denied' (1), with no caps",
            [d[1:] for d in denied[1:]] == [("1", "0")] * 7, str(denied))
    c.check("a guest gets a guest session", has(r"^SESSION guest result=0 caps=2$")
            and has(r"^SESSION guest info=0 principal=guest profile=guest method=none$"))
    recs = re.findall(r"^AUDIT rec seq=\d+ event=(\S+) reason=(\S+) session=\d+$", log, re.M)
    c.check("the audit log has every denial's reason code, in order",
            [r[1] for r in recs if r[0] == "login-denied"] == DENIALS + SSH_DENIALS, str(recs))
    c.check("sshPublicKey: an authorized key's signature mints a publicKey session",
            has(r"^SSHAUTH good result=0 caps=2$") and has(r"^SSHAUTH good session principal=admin method=publicKey$"))
    ssh = {m[0]: m[1] for m in re.findall(r"^SSHAUTH (\S+) result=(-?\d+) caps=(\d+)$", log, re.M)}
    c.check("sshPublicKey: unknown key, bad signature, locked account, disallowed profile and missing account "
            "are each just 'denied'",
            all(ssh.get(k) == "1" for k in ("unknown-key", "bad-signature", "locked", "profile", "missing")), str(ssh))
    c.check("the audit log has the good login and both session openings",
            ("login", "ok") in recs and ("session-open", "password") in recs and ("session-open", "none") in recs)
    c.check("no password anywhere in the output", "correct horse" not in log and "$argon2" not in log)
    c.check("poweroff with status 0", status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
