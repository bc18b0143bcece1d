#!/usr/bin/python3
"""Sessions have limits, and people are told about them in plain words,
through the real login door (tests/sessions/door.manifest):
- a full session table (the manager's capacity is set to 3 and the
  test-only sessprobe fills it at boot) is "too many sessions" for the
  operator with the right password and for a guest, audited as
  session-table-full, never as a wrong password; once the probe lets its
  sessions go, logins work again;
- repeated wrong passwords end in a back-off that says how long to wait;
- the audit view: time stamps, the principal for successful logins and
  logouts only, `audit N`;
- a session past its profile's lifetime is told and logged out, and so is
  one idle past its profile's idle timeout; both are audited with the
  principal; a session nobody logs out and no shell watches is ended by
  the manager when its lifetime is up;
- a session whose context is revoked is ended at its next use.
Every shell's caps are read from the kernel's own tables."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sessions"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, abi_errors  # noqa: E402
from door import Door, door_guest  # noqa: E402

GUEST_SHELL = sorted(["TerminalSession", "UserSession", "SessionContext", "Timer"])
REVOKED = abi_errors()["CAP_ERR_APPLICATION"]     # the manager fails the call
OPERATOR_SHELL = sorted(["TerminalSession", "UserSession", "SessionContext", "Timer", "AuditLog", "Echo",
                         "ProgramLauncher", "AccountAdmin"])


def shell_ok(d):
    m = re.search(r"capos-shell held=(\d+): (.*)", d.probe("admin", "shells"))
    return bool(m) and int(m.group(1)) == len(OPERATOR_SHELL) and sorted(m.group(2).split()) == OPERATOR_SHELL


def full_table(c, tmp):
    g = door_guest(tmp, sessionmgr_args="capacity=3", probe_args="fill 2")
    d = Door(g)
    try:
        g.wait_for(r"PROBE filled 3 sessions, table 3/3\n", 30)
        g.send("\r")                                  # the probe's line may have taken the prompt's place
        c.check("setup works while the table is full", d.setup() == "done")
        out = d.login("admin", expect_shell=False)
        c.check("the operator, right password, full table: 'too many sessions', not 'login incorrect'",
                "too many sessions: try again later" in out and "incorrect" not in out, out)
        d.at_login()
        mark = len(g.text())
        g.send("guest\r")                             # the probe prints as soon as it sees this refusal
        g.wait_for(r"^too many sessions: try again later\n", 30, since=mark)
        c.check("a guest, full table: 'too many sessions', not silence", True)
        g.wait_for(r"PROBE released 3 sessions, table 0/3\n", 30, since=mark)
        g.send("\r")                                  # the probe's line may have taken the prompt's place
        d.login("admin")
        c.check("once sessions end, the operator logs in", True)
        c.check("the kernel's own table: the operator shell holds exactly its bundle", shell_ok(d))
        out = d.cmd("admin", "audit 32")
        full = re.findall(r"login-denied session-table-full(.*)$", out, re.M)
        c.check("the refusals (the probe's last try, then the operator's and the guest's) are audited as "
                "session-table-full, naming nobody", len(full) == 3 and all(" by " not in f for f in full), out)
        c.check("... and never as a wrong password", "password-wrong" not in out, out)
        c.check("the probe's sessions are audited ending with logout",
                len(re.findall(r"session-end logout by guest", out)) == 3, out)
        out = d.cmd("admin", "audit 3")
        recs = re.findall(r"^  #(\d+) +(\d+\.\d{3})s (\S+) (\S+)( by \S+)? session \d+$", out, re.M)
        c.check("audit N shows the last N records, each with its time stamp", len(recs) == 3, out)
        c.check("a successful login names its principal", re.search(r"login ok by admin session", out) is not None, out)
        for bad in ("0", "33", "x", "3x"):
            out = d.cmd("admin", "audit " + bad)
            c.check(f"audit {bad} is refused in plain words", out.strip() == "audit: N is a whole number from 1 to 32",
                    out)
        d.exit("admin")
        # back-off: wrong passwords until the store backs off; the door says how long
        said = None
        for _ in range(8):
            out = d.login("admin", pw="wrong", expect_shell=False)
            m = re.search(r"too many failures: try again in (\d+) s", out)
            if m:
                said = m
                break
            assert "login incorrect" in out, out
        c.check("repeated wrong passwords end in a back-off that says how long to wait",
                said is not None and int(said.group(1)) >= 1, str(said and said.group(0)))
        return True
    except AssertionError as e:
        print(str(e)[-3000:])
        return False
    finally:
        g.kill()
        c.log = g.text()


def lifetime(c, tmp, args, what, message, reason, hold=False):
    g = door_guest(tmp, sessionmgr_args=f"capacity=32 {args}", probe_args="hold" if hold else None)
    d = Door(g)
    try:
        if hold:
            # a session nobody logs out and no shell watches: the manager ends it
            g.wait_for(r"PROBE held session ended by the manager \((-?\d+)\), table 0/32\n", 60)
            c.check(f"{what}: a session with no shell, never logged out, is ended by the manager", True)
            g.send("\r")                              # the probe's line took the prompt's place
        c.check(f"{what}: setup", d.setup() == "done")
        d.login("admin")
        c.check(f"{what}: the kernel's own table: the operator shell holds exactly its bundle", shell_ok(d))
        d.probe("admin", "watch")
        d.exit("admin")
        d.login("guest", quiet=False)
        m = g.wait_for(r"PROBE seen capos-shell held=(\d+): (.*)\n", 30)
        c.check(f"{what}: the kernel's own table: the guest shell holds exactly the guest bundle",
                m.group(1) == "4" and sorted(m.group(2).split()) == GUEST_SHELL, m.group(0))
        mark = len(g.text())
        g.wait_for(rf"^{message}: logged out\nlogged out\n", 60, since=mark - 200 if mark > 200 else 0)
        c.check(f"{what}: the shell says so and logs out", True)
        d.at_login()
        d.login("admin")
        out = d.cmd("admin", "audit 32")
        c.check(f"{what}: audited with the principal", re.search(rf"session-end {reason} by guest", out) is not None, out)
        if hold:
            c.check(f"{what}: both expiries audited (the manager's and the shell's)",
                    len(re.findall(r"session-end expired by guest", out)) == 2, out)
            out = d.cmd("admin", "echo revoke")
            m = re.search(r"PROBE revoke open=(\d+)/(\d+)/(\d+) info=(-?\d+) again=(-?\d+) ended=(\d+)", out)
            c.check("revocation: a session whose context is revoked is ended at its next use, its slot back",
                    bool(m) and m.group(1) == "1" and m.group(2) == "2" and m.group(3) == "1" and m.group(4) == str(REVOKED)
                    and m.group(5) == str(REVOKED) and m.group(6) == "1", out)
            out = d.cmd("admin", "audit 3")
            c.check("revocation: audited with the principal", re.search(r"session-end revoked by guest", out) is not None,
                    out)
            out = d.cmd("admin", "echo revoke-quiet", timeout=90)
            m = re.search(r"PROBE revoke-quiet open=(\d+)/(\d+) ended=(\d+)", out)
            c.check("revocation: a revoked session never used again is ended by the manager by itself",
                    bool(m) and m.groups() == ("2", "1", "1"), out)
        out = d.cmd("admin", "echo stats")
        c.check(f"{what}: the session's slot came back (one session open, the operator's)",
                re.search(r"table open=1 ", out) is not None, out)
        d.exit("admin")
        return True
    except AssertionError as e:
        print(str(e)[-3000:])
        return False
    finally:
        g.kill()
        c.log = g.text()


def main():
    c = Checks("session-limits")
    c.log = ""
    logs = []
    with tempfile.TemporaryDirectory() as tmp:
        c.check("full table walk-through completes", full_table(c, tmp))
        logs.append(c.log)
    with tempfile.TemporaryDirectory() as tmp:
        c.check("expiry walk-through completes",
                lifetime(c, tmp, "guest:idle=0:life=3", "expiry", "the session has expired", "expired", hold=True))
        logs.append(c.log)
    with tempfile.TemporaryDirectory() as tmp:
        c.check("idle walk-through completes", lifetime(c, tmp, "guest:idle=2:life=0", "idle", "idle for 2s", "idle"))
        logs.append(c.log)
    c.check("no password in any transcript", not any("s3cret-horse" in l for l in logs))
    c.done("\n=====\n".join(logs) if c.failed else None)


if __name__ == "__main__":
    main()
