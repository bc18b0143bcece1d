#!/usr/bin/python3
"""Endpoints, sessions and capability transfer, proven in QEMU.

Boots the proof program in mode "ipc": it makes an endpoint, mints two
sessions, runs ipc-server and ipc-client in many roles. The guest prints
facts; every expectation is here."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, abi_errors, run_proof  # noqa: E402

E = abi_errors()


def main():
    c = Checks("ipc")
    status, log = run_proof("ipc", timeout=300)

    def line(pattern):
        m = re.search(pattern, log, re.M)
        return m

    def val(pattern):
        m = line(pattern)
        return m.group(1) if m else None

    c.check("endpoint created, sessions minted, server started",
            bool(line(r"^IPC endpoint-create result=0$") and line(r"^IPC sessions minted=1$") and line(r"^IPC server started=1$")))
    refs = {}
    for name in ("A1", "A2", "B1", "BADGE", "INHERIT"):
        m = line(rf"^CLIENT {name} ref=([0-9a-f]{{32}}) stable=(\d) epoch=(\d+) badge=(\d+) principal=(\S*) profile=(\S*)$")
        c.check(f"client {name} got answers with a caller reference", bool(m))
        if m:
            refs[name] = m.groups()
    if len(refs) == 5:
        c.check("a caller's reference is stable across its calls", all(r[1] == "1" for r in refs.values()))
        c.check("two processes in the same session get the same reference", refs["A1"][0] == refs["A2"][0])
        c.check("clients in different sessions get different references", refs["A1"][0] != refs["B1"][0])
        c.check("the reference comes from the session, not the facet or badge", refs["BADGE"][0] == refs["A1"][0])
        c.check("a process without a chosen session inherits its parent's", refs["INHERIT"][0] not in (refs["A1"][0], refs["B1"][0])
                and refs["INHERIT"][4] == "system")
        c.check("the badge is delivered as a routing label", refs["BADGE"][3] == "42" and refs["A1"][3] == "0")
        c.check("the endpoint discloses principal and profile it was allowed to",
                refs["A1"][4:] == ("alice", "operator") and refs["B1"][4:] == ("bob", "guest"))
    m = line(r"^CLIENT LIVE ref=([0-9a-f]{32}) stable=1 epoch=1 badge=0 principal= profile=$")
    c.check("another endpoint sees a different reference for the same session, and no disclosure",
            bool(m) and "A1" in refs and m.group(1) != refs["A1"][0])
    got = re.findall(r"^CLIENT cap (\S+) ([0-9a-f]{16})$", log, re.M)
    c.check("a spawned process holds exactly its three grants, under their names",
            sorted(n for n, _ in got) == ["console", "probe", "timer"] and val(r"^CLIENT caps count=(\d+)$") == "3")
    c.check("no endpoint may serve SessionContext (kernel-vouched interfaces cannot be forged)",
            val(r"^IPC forge-session-context result=(-?\d+)$") == str(E["CAP_ERR_INVALID_ARGUMENT"]))
    c.check("a facet cannot RECV", val(r"^CLIENT facet-recv result=(-?\d+)$") == str(E["CAP_ERR_NOT_OWNER"]))
    c.check("a facet cannot RETURN", val(r"^CLIENT facet-return result=(-?\d+)$") == str(E["CAP_ERR_NOT_OWNER"]))
    c.check("a message over the receiver's bound is refused",
            val(r"^CLIENT big result=(-?\d+)$") == str(E["CAP_ERR_MESSAGE_TOO_LARGE"]))
    c.check("the endpoint works after refusing it", val(r"^CLIENT small-after-big result=(-?\d+)$") == "0")

    c.check("copy: the receiver uses the cap", bool(line(r"^ipc-server: this line went through a Console cap that arrived in a call$")))
    c.check("copy: the call succeeds and the sender keeps its cap",
            val(r"^CLIENT copy result=(-?\d+)$") == "0" and val(r"^CLIENT copy sender-console-still-works=(\d)$") == "1")
    c.check("move: the call succeeds", val(r"^CLIENT move result=(-?\d+)$") == "0")
    c.check("move: the sender's slot is gone (stale)", val(r"^CLIENT move old-id-now=(-?\d+)$") == str(E["CAP_ERR_STALE_CAP"]))
    c.check("bad descriptor: the call fails and the moved cap stays with the sender",
            val(r"^CLIENT move-bad result=(-?\d+)$") == str(E["CAP_ERR_INVALID_CAP"])
            and val(r"^CLIENT move-bad timer-now-result=(-?\d+)$") == "0")
    c.check("moving one cap twice in a call fails and loses nothing",
            val(r"^CLIENT move-twice result=(-?\d+)$") == str(E["CAP_ERR_CAP_IN_TRANSFER"])
            and val(r"^CLIENT move-twice timer-now-result=(-?\d+)$") == "0")
    m = line(r"^IPC fill-table result=0 filled=(\d+)$")
    c.check("the receiver's table can be filled", bool(m) and int(m.group(1)) > 200)
    rb = re.findall(r"^CLIENT move-rollback result=(-?\d+)\nCLIENT move-rollback timer-now-result=(-?\d+)$", log, re.M)
    c.check("full receiver table: the move fails with OVERLOADED and the sender keeps the cap",
            len(rb) >= 1 and rb[0] == (str(E["CAP_ERR_OVERLOADED"]), "0"))
    c.check("receiver dies mid-transfer: the caller sees DISCONNECTED and keeps the cap",
            len(rb) == 2 and rb[1] == (str(E["CAP_ERR_DISCONNECTED"]), "0"))

    def stats_back(tag, what):
        """The guest's 'IPC stats <tag>before' and '<tag>after' lines are equal."""
        before = line(rf"^IPC stats {tag}before (.*)$")
        after = line(rf"^IPC stats {tag}after (.*)$")
        c.check(what, bool(before and after) and before.group(1) == after.group(1),
                f"{before and before.group(1)} vs {after and after.group(1)}")

    stats_back("", "leak accounting: frames, objects, heap, processes, slots and pending calls return to their "
               "starting values after 1000 spawn/transfer/exit cycles")
    c.check("all 1000 cycles succeeded", bool(line(r"^IPC cycles=1000 failures=0$")))
    c.check("a caller killed while its call is queued exits as killed", val(r"^IPC dying-caller exit=(-?\d+)$") == "-1001")
    m = line(r"^IPC dying-caller pending before=(\d+) after=(\d+) objects before=(\d+) after=(\d+)$")
    c.check("its queued call is withdrawn: no pending call or object is left behind",
            bool(m) and m.group(1) == m.group(2) and m.group(3) == m.group(4))
    c.check("fast path, caller killed while the server holds its call: the caller exits as killed",
            val(r"^IPC orphan caller-exit=(-?\d+)$") == "-1001")
    m = line(r"^IPC-SERVER orphan return=(-?\d+) wrong-id=(-?\d+) again=(-?\d+)$")
    c.check("fast path: the server's RETURN to the dead caller gets DISCONNECTED, a call id never given "
            "NO_SUCH_CALL, the same id twice NO_SUCH_CALL",
            bool(m) and m.groups() == (str(E["CAP_ERR_DISCONNECTED"]), str(E["CAP_ERR_NO_SUCH_CALL"]),
                                       str(E["CAP_ERR_NO_SUCH_CALL"])), m and m.group(0))
    c.check("fast path: the server exits cleanly after it", val(r"^IPC orphan server-exit=(-?\d+)$") == "0")
    c.check("a caller killed while rt_serve_forever's handler runs exits as killed",
            val(r"^IPC slow caller-exit=(-?\d+)$") == "-1001")
    c.check("... and the server goes on serving: the next call is answered (the RETURN to the dead caller "
            "ended that call, not the serve loop)", line(r"^IPC slow next-call=0 echoed=1$") is not None)
    c.check("... and its serve loop never ended: it was still serving when the proof killed it",
            line(r"^IPC slow server-kill=0$") is not None and val(r"^IPC slow server-exit=(-?\d+)$") == "-1001" and
            line(r"^IPC-SERVER slow: the serve loop ended$") is None)
    stats_back("orphan-", "fast path: frames, objects, heap, processes, slots and pending calls back to their "
               "starting values after the orphaned call, its server and its endpoint are gone")
    c.check("silent RETURN: every caller gets its answer", line(r"^IPC silent calls=3 answered=3$") is not None)
    m = line(r"^IPC-SERVER silent answered=(\d+) stray=(\d+) wrong-id=(-?\d+) bad-flag=(-?\d+)$")
    c.check("silent RETURN: the server's CQ gets no completion for a RETURN that succeeds (its RETURN and next "
            "RECV wait in one cap_enter), a silent RETURN to a call id never given is still answered "
            "NO_SUCH_CALL, an unknown flag INVALID_REQUEST",
            bool(m) and m.groups() == ("3", "0", str(E["CAP_ERR_NO_SUCH_CALL"]), str(E["CAP_ERR_INVALID_REQUEST"])),
            m and m.group(0))
    c.check("silent RETURN: the server exits cleanly", val(r"^IPC silent server-exit=(-?\d+)$") == "0")
    c.check("answer-and-wait pair: the caller killed while the server held its call exits as killed",
            val(r"^IPC pair caller-exit=(-?\d+)$") == "-1001")
    m = line(r"^IPC-SERVER pair dead=(-?\d+) wrong-id=(-?\d+) bad-buf=(-?\d+) ring-buf=(-?\d+) again=(-?\d+) "
             r"answered=(\d+) stray=(\d+)$")
    c.check("answer-and-wait pair (a silent RETURN with the next RECV in one cap_enter): the RETURN to the dead "
            "caller gets DISCONNECTED, to a call id never given NO_SUCH_CALL, a RECV into unmapped memory "
            "INVALID_RESULT_BUFFER, a RECV into the ring BUFFER_OVERLAPS_RING, the same id twice NO_SUCH_CALL; "
            "3 calls then answered with no stray CQE",
            bool(m) and m.groups() == (str(E["CAP_ERR_DISCONNECTED"]), str(E["CAP_ERR_NO_SUCH_CALL"]),
                                       str(E["CAP_ERR_INVALID_RESULT_BUFFER"]),
                                       str(E["CAP_ERR_BUFFER_OVERLAPS_RING"]), str(E["CAP_ERR_NO_SUCH_CALL"]),
                                       "3", "0"), m and m.group(0))
    c.check("answer-and-wait pair: every live caller gets its answer (the one whose RECV was refused too)",
            line(r"^IPC pair calls=4 answered=4$") is not None)
    c.check("answer-and-wait pair: the server exits cleanly", val(r"^IPC pair server-exit=(-?\d+)$") == "0")
    stats_back("pair-", "answer-and-wait pair: frames, objects, heap, processes, slots and pending calls back to "
               "their starting values after its hostile ends, its server and its endpoint are gone")
    c.check("owner killed: the call in flight completes with DISCONNECTED",
            val(r"^CLIENT hold result=(-?\d+)$") == str(E["CAP_ERR_DISCONNECTED"]))
    c.check("after the owner is gone, calls fail with DISCONNECTED",
            val(r"^CLIENT AFTER error=(-?\d+)$") == str(E["CAP_ERR_DISCONNECTED"]))
    c.check("a revoked session fails closed", val(r"^CLIENT REVOKED error=(-?\d+)$") == str(E["CAP_ERR_SESSION_REVOKED"]))
    c.check("the test ran to its end", bool(line(r"^IPC done$")))
    c.check("no kernel panic", "KERNEL PANIC" not in log)
    c.check("poweroff with status 0", status == 1, f"exit status {status}")
    c.done(log)


if __name__ == "__main__":
    main()
