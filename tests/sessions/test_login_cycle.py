#!/usr/bin/python3
"""The session path never runs out (tests/sessions/door.manifest, the real
login door on the serial terminal): after the operator's first password is
set, CYCLES login/logout cycles, guests mixed with a few operators (each
operator login costs an Argon2id verification), all through the door as a
person types them. The session table has 32 slots; before the fix the 33rd
login failed. Afterwards a login still works, and the kernel's counters
(free frames, objects, heap, processes, cap slots, pending calls), the
session manager's table (open sessions, the caps it keeps) and what the
session manager holds in the kernel's own table are back where they were;
the shell's caps, read from the kernel's tables, are exactly its bundle."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks  # noqa: E402
from door import Door, door_guest, stats_fields  # noqa: E402

CYCLES = int(os.environ.get("CAPOS_LOGIN_CYCLES", "1000"))
ADMIN_EVERY = 50           # one operator login in 50: 20 of 1000
SAME = ["frames", "objects", "heap", "processes", "slots", "pending", "open", "held", "smcaps"]
OPERATOR_SHELL = ["TerminalSession", "UserSession", "SessionContext", "Timer", "AuditLog", "Echo",
                  "ProgramLauncher", "AccountAdmin"]


def main():
    c = Checks("login-cycle")
    with tempfile.TemporaryDirectory() as tmp:
        g = door_guest(tmp)
        d = Door(g)
        try:
            c.check("setup sets the operator's password", d.setup() == "done")
            # warm-up: one of each, so first-use allocations are not counted
            d.login("admin")
            d.probe("admin", "stats")
            d.exit("admin")
            d.login("guest")
            d.exit("guest")
            d.login("admin")
            before = d.probe("admin", "stats")
            shells = d.probe("admin", "shells")
            d.exit("admin")
            admins = 0
            for i in range(CYCLES):
                who = "admin" if i % ADMIN_EVERY == ADMIN_EVERY - 1 else "guest"
                admins += who == "admin"
                d.login(who)
                d.exit(who)
            d.login("admin")
            after = d.probe("admin", "stats")
            d.exit("admin")
            d.login("guest")
            d.exit("guest")
            still = True
        except AssertionError as e:
            print(str(e)[-3000:])
            still = False
        finally:
            g.kill()
    log = g.text()
    c.check(f"{CYCLES} login/logout cycles through the door ({admins} operator, {CYCLES - admins} guest), "
            "then operator and guest logins still work", still)
    b, a = stats_fields(before if still else ""), stats_fields(after if still else "")
    c.check("the kernel's counters and the session manager's table are back where they were",
            still and all(b.get(k) == a.get(k) for k in SAME), f"{before if still else ''} / {after if still else ''}")
    c.check("the session manager's table: one open session (the measuring one), two caps kept for it",
            still and b.get("open") == "1" and b.get("held") == "2", before if still else "")
    c.check("every session opened since was ended",
            still and int(a["opened"]) - int(b["opened"]) == CYCLES + 1 and
            int(a["ended"]) - int(b["ended"]) == CYCLES + 1, f"{before if still else ''} / {after if still else ''}")
    m = re.search(r"capos-shell held=(\d+): (.*)", shells if still else "")
    c.check("the kernel's own table: the operator shell holds exactly its bundle",
            bool(m) and m.group(1) == str(len(OPERATOR_SHELL)) and sorted(m.group(2).split()) == sorted(OPERATOR_SHELL),
            shells if still else "")
    c.check("no password in the transcript", "s3cret-horse" not in log)
    c.done(log if c.failed else None)


if __name__ == "__main__":
    main()
