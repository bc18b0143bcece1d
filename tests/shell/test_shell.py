#!/usr/bin/python3
"""The login shell as a person meets it on the first day, through the real
login door on the serial terminal (tests/sessions/door.manifest, with the
test program sessjob added to what `run` accepts). Each defect of the
session issue gets its regression check here: whole numbers for `wait` and
`!N`, a 9th `spawn` refused, `exit` ending running jobs (none of their
output on the next login screen), `run` failures in plain words, text
after `}` refused, Ctrl-C cancelling `setup` and interrupting the
foreground program, Backspace removing a whole UTF-8 character. And what a
login shell is expected to have: help for this session only, programs,
jobs, kill %N, background output when the job ends, uptime, time, whoami.
The shells' caps are read from the kernel's own tables."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sessions"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks  # noqa: E402
from door import PASSWORD, Door, door_guest  # noqa: E402

OPERATOR_SHELL = ["TerminalSession", "UserSession", "SessionContext", "Timer", "AuditLog", "Echo",
                  "ProgramLauncher", "AccountAdmin"]
NEWPW = "an0ther-horse-battery"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
GUEST_SHELL = ["TerminalSession", "UserSession", "SessionContext", "Timer"]


def shell_caps(probe_line):
    m = re.search(r"capos-shell held=(\d+): (.*)", probe_line)
    return (int(m.group(1)), sorted(m.group(2).split())) if m else (None, [])


def main():
    c = Checks("shell")
    with tempfile.TemporaryDirectory() as tmp:
        g = door_guest(tmp, programs="hello fault sessjob")
        d = Door(g)
        try:
            # Ctrl-C during setup cancels it; setup still works afterwards
            d.at_login()
            g.send("setup\r")
            g.wait_for(r"^password: \Z", 20)
            g.send("\x03")
            g.wait_for(r"^setup: cancelled$", 20)
            c.check("Ctrl-C during setup cancels it", True)
            c.check("... and setup works afterwards", d.setup() == "done")

            out = d.login("x" * 40, expect_shell=False)
            c.check("an overlong login name is just 'login incorrect'", "login incorrect" in out, out)
            g.send("adm\x02\x07in\x1b[D\r")            # control bytes and a cursor key: dropped
            g.wait_for(r"^password: \Z", 20)
            g.send(PASSWORD + "\r")
            g.wait_for(r"^admin@capos> \Z", 60)
            c.check("control bytes and cursor keys never reach a login name", True)
            held, caps = shell_caps(d.probe("admin", "shells"))
            c.check("the kernel's own table: the operator shell holds exactly its bundle",
                    held == len(OPERATOR_SHELL) and caps == sorted(OPERATOR_SHELL), f"{held} {caps}")
            out = d.cmd("admin", "help")
            c.check("help (operator) lists run, spawn, jobs, kill, audit, programs",
                    all(re.search(rf"^  {w}\b", out, re.M) for w in ("run", "spawn", "jobs", "kill", "audit",
                                                                     "programs", "whoami", "uptime")), out)
            out = d.cmd("admin", "programs")
            c.check("programs lists what run accepts, one line each",
                    re.search(r"^  hello\s+prints a greeting", out, re.M) is not None and
                    re.search(r"^  sessjob\s+\S", out, re.M) is not None and len(out.strip().splitlines()) == 3, out)
            out = d.cmd("admin", "whoami")
            c.check("whoami (and the terminal's size, from TerminalSession)",
                    out.strip() == "admin (profile operator, logged in by password) on a 80x24 terminal", out)
            out = d.cmd("admin", "uptime")
            c.check("uptime", re.match(r"up \S+, this session \S+, 0 jobs$", out.strip()) is not None, out)
            out = d.cmd("admin", "time")
            c.check("a human time", re.match(r"\S+ since boot \(\d+\.\d{3} s", out.strip()) is not None, out)

            # the line editor on raw keys (TerminalSession.readKeys). Over QEMU's
            # serial mux a literal Ctrl-A is typed as Ctrl-A Ctrl-A.
            WHO = "admin (profile operator, logged in by password) on a 80x24 terminal"
            keys = {
                "Left x3 then insert": "whami\x1b[D\x1b[D\x1b[Do",
                "Ctrl-A (Home) then insert": "hoami\x01\x01w",
                "Home key, End key": "hoam\x1b[Hw\x1b[Fi",
                "Ctrl-A then Ctrl-E (End)": "whoam\x01\x01\x05i",
                "Right": "whoamx\x1b[D\x1b[D\x1b[C\x1b[C\x7fi",
                "Ctrl-K cuts to the end": "whoami extra" + "\x1b[D" * 6 + "\x0b",
                "Ctrl-W cuts the word before": "whoami foo\x17\x7f",
                "Ctrl-U cuts to the start": "junk\x15whoami",
                "Delete": "wxhoami\x01\x01\x1b[C\x1b[3~",
                "Up recalls the last command": "\x1b[A",
                "Tab completes a command": "who\t",
            }
            for what, k in keys.items():
                out = d.cmd("admin", k)
                c.check(f"line editor: {what}", out.strip() == WHO, repr(out))
            d.cmd("admin", "uptime")
            out = d.cmd("admin", "\x1b[A\x1b[A\x1b[A\x1b[B")
            c.check("line editor: Up x3, Down walks the history (back to whoami)", out.strip() == WHO, repr(out))
            out = d.cmd("admin", "s\t")
            c.check("line editor: Tab with several matches lists them (session, spawn)",
                    re.search(r"^session +spawn *$", out, re.M) is not None, repr(out))
            out = d.cmd("admin", "run hel\t")
            c.check("line editor: Tab completes a program name after run",
                    re.search(r"^hello from pid \d+\nhello exited with 7$", out, re.M) is not None, repr(out))
            out = d.cmd("admin", "run hello with { t: @ti\t}")
            c.check("line editor: Tab completes a cap name after @",
                    re.search(r"^hello exited with 7$", out, re.M) is not None, repr(out))
            mark = len(g.text())
            g.send("\x0c")
            g.wait_for(r"\x1b\[H\x1b\[2J\radmin@capos> \x1b\[K", 20, since=mark)
            c.check("line editor: Ctrl-L clears the screen and redraws the prompt", True)
            g.send("whoami\x03")
            g.wait_for(r"\^C\nadmin@capos> \Z", 20, since=mark)
            c.check("line editor: Ctrl-C drops the line", True)
            out = d.cmd("admin", "x" * 300)
            c.check("line editor: an overlong line is cut at 255 bytes, nothing lost beyond it",
                    out.strip() == "unknown command: " + "x" * 255 + " (try 'help')", out[:80])
            out = d.cmd("admin", "who\x07\x1b\x1bami")
            c.check("line editor: control bytes and a lone ESC never enter the line", out.strip() == WHO, repr(out))

            # run failures, each in plain words (typed errors from ProgramLauncher)
            runs = {
                "run nosuch": r"run: nosuch: no such program \(see 'programs'\)",
                "run hello with { console: @timer }": r"run: hello: the grant name 'console' is reserved",
                "run hello with { p: @programs }": r"run: hello: the launcher refuses to pass that cap",
                "run hello with { : @timer }": r"run: hello: a grant needs a name",
                "run hello with { a: @timer, b: @timer, c: @timer, d: @timer, e: @timer, f: @timer, g: @timer, "
                "h: @timer }": r"run: hello: too many grants \(at most 7\)",
                "run hello with { t: @timer } now": r"run: unexpected text after '}': now",
                "run hello with { t: @nosuch }": r"run: no grantable cap named nosuch",
            }
            for cmd, want in runs.items():
                out = d.cmd("admin", cmd)
                c.check(f"{cmd!r} says why in plain words", re.match(want, out.strip()) is not None
                        and "-24" not in out, out)
            out = d.cmd("admin", "run hello with { t: @timer }")
            c.check("run with a grant runs the program, its output through the shell",
                    re.search(r"^hello from pid \d+\nhello exited with 7$", out, re.M) is not None, out)

            # Ctrl-C interrupts the foreground program (killed through its ProcessHandle)
            g.send("run sessjob\r")
            g.wait_for(r"^sessjob up\n", 20)
            g.send("\x03")
            g.wait_for(r"^sessjob killed\nadmin@capos> \Z", 20)
            c.check("Ctrl-C ends the foreground program and the shell goes on", True)

            # jobs: 8 background jobs, the 9th refused
            for i in range(1, 9):
                out = d.cmd("admin", "spawn sessjob")
                assert re.search(rf"^\[{i}\] sessjob started", out, re.M), out
            out = d.cmd("admin", "spawn sessjob")
            c.check("a 9th spawn is refused with 'too many jobs' (not run in the foreground)",
                    out.strip().startswith("spawn: too many jobs") and "sessjob up" not in out, out)
            out = d.cmd("admin", "jobs")
            c.check("jobs lists the 8 jobs", len(re.findall(r"^\[\d\] (running|waiting-for-input) sessjob$", out, re.M)) == 8,
                    out)
            out = d.cmd("admin", "wait 10")
            c.check("wait 10 is job 10 (whole numbers), not job 1", out.strip() == "wait: no such job 10", out)
            out = d.cmd("admin", "wait 1x")
            c.check("wait 1x is not a job number", out.strip() == "wait: '1x' is not a job number", out)
            mark = len(g.text())
            g.send("kill %3\r")
            g.wait_for(r"^\[3\] sessjob ended:\nsessjob up\n  sessjob killed\n", 20, since=mark)
            c.check("kill %3 ends job 3; its output is shown when it ends", True)
            # wait brings a job to the front: what it wrote so far, then its readLine gets the next line
            g.wait_for(r"^admin@capos> \Z", 20)
            g.send("wait 2\r")
            g.wait_for(r"^sessjob up\n", 20)
            g.send("hi there\r")
            g.wait_for(r"^sessjob got: hi there\nsessjob exited with 3\nadmin@capos> \Z", 20)
            c.check("wait 2 brings job 2 to the front: its output, then the line typed reaches it", True)
            # history: whole numbers in !N
            out = d.cmd("admin", "!102")
            c.check("!102 is command 102 (not in the history), not !10", out.strip() == "!102: no such command in the history",
                    out)
            out = d.cmd("admin", "history")
            n = re.findall(r"^  (\d+)  ", out, re.M)
            c.check("history lists at most 16 commands, numbered", len(n) == 16, out)
            # Backspace removes a whole UTF-8 character
            out = d.cmd("admin", "x\u00e9\x7fy")
            c.check("Backspace removes a whole UTF-8 character (2 bytes)", out.strip() == "unknown command: xy (try 'help')",
                    repr(out))
            out = d.cmd("admin", "x\u20ac\x7fz")
            c.check("... and a 3-byte one", out.strip() == "unknown command: xz (try 'help')", repr(out))

            # exit with jobs running: it says so and ends them
            mark = len(g.text())
            g.send("exit\r")
            g.wait_for(r"^logged out\n", 30, since=mark)
            left = g.text()[mark:]
            c.check("exit with jobs running says so and ends them",
                    re.search(r"^ending 6 running jobs: \[1\] sessjob \[4\] sessjob", left, re.M) is not None, left)
            d.at_login()
            after = g.text()[g.text().rindex("logged out"):]
            c.check("none of their output lands on the next login screen", "sessjob" not in after, after)

            d.login("admin")
            d.probe("admin", "watch")                 # the guest's shell cannot ask the probe itself
            d.exit("admin")
            d.login("guest", quiet=False)
            g.wait_for(r"PROBE seen capos-shell held=\d+: .*\n", 30)
            g.send("\r")                                # the probe's line took the prompt's place
            out = d.cmd("guest", "help")
            c.check("help (guest) shows only what a guest can use (no accounts, passwd, run, audit...)",
                    not re.search(r"^  (run|spawn|jobs|kill|audit|programs|echo|accounts|useradd|disable|enable|keyadd|"
                                  r"keydel|passwd)\b", out, re.M) and
                    re.search(r"^  whoami\b", out, re.M) is not None, out)
            out = d.cmd("guest", "run hello")
            c.check("a guest cannot run programs", out.strip() == "run: not available to this session", out)
            out = d.cmd("guest", "useradd eve guest")
            c.check("a guest cannot administer accounts", out.strip() == "useradd: not available to this session", out)
            out = d.cmd("guest", "passwd")
            c.check("a guest has no password to change", out.strip() == "passwd: not available to this session", out)
            d.exit("guest")
            d.login("admin")
            held, caps = shell_caps(d.probe("admin", "seen"))
            c.check("the kernel's own table: the guest's shell held exactly the guest bundle",
                    held == len(GUEST_SHELL) and caps == sorted(GUEST_SHELL), f"{held} {caps}")
            held, caps = shell_caps(d.probe("admin", "shells"))
            c.check("... and now one shell is left, the operator's, with exactly its bundle",
                    held == len(OPERATOR_SHELL) and caps == sorted(OPERATOR_SHELL), f"{held} {caps}")
            # passwd: the current password first; Argon2id; audited
            def passwd(cur, new, again):
                mark = len(g.text())
                g.send("passwd\r")
                for prompt, secret in (("current password", cur), ("new password", new),
                                       ("new password again", again)):
                    g.wait_for(rf"^{prompt}: \Z", 20, since=mark)
                    mark = len(g.text())
                    g.send(secret + "\r")
                return g.wait_for(r"^passwd: (.*)\n", 60, since=mark).group(1)
            c.check("passwd: a wrong current password changes nothing",
                    passwd("nope", NEWPW, NEWPW).startswith("the current password is not right"))
            c.check("passwd: new passwords that differ change nothing",
                    passwd(PASSWORD, NEWPW, NEWPW + "x").startswith("the new passwords differ"))
            c.check("passwd: a short new password is refused", passwd(PASSWORD, "short", "short").startswith("the new "
                                                                                                       "password needs"))
            mark = len(g.text())
            g.send("passwd\r")
            g.wait_for(r"^current password: \Z", 20, since=mark)
            g.send("\x03")
            g.wait_for(r"^passwd: cancelled\n", 20, since=mark)
            c.check("passwd: Ctrl-C cancels", True)
            c.check("passwd: the operator changes their own password", passwd(PASSWORD, NEWPW, NEWPW) == "changed")
            out = d.cmd("admin", "audit 6")
            c.check("passwd: the change is audited with the principal, the refusals without",
                    re.search(r"password-change ok by admin", out) is not None and
                    re.search(r"password-change-denied password-wrong session", out) is not None, out)
            d.exit("admin")
            out = d.login("admin", expect_shell=False)
            c.check("passwd: the old password no longer logs in", "login incorrect" in out, out)
            d.login("admin", pw=NEWPW)
            c.check("passwd: the new one does", True)
            d.exit("admin")
            # the door's line discipline (the kernel's): Backspace removes a whole UTF-8 character
            d.at_login()
            g.send("gu\u20ac\x7fest\r")
            g.wait_for(r"^guest@capos> ", 30)
            c.check("at the door, Backspace removes a whole UTF-8 character (3 bytes): gu€⌫est is guest", True)
            d.exit("guest")
            d.login("admin", pw=NEWPW)

            # account administration through the operator's AccountAdmin
            cmds = [
                ("useradd carol guest", r"useradd: added \(active\)"),
                ("useradd carol guest", r"useradd: that account exists already"),
                ("useradd bad/name guest", r"useradd: a name is 1 to 23"),
                ("useradd dave Operator", r"useradd: give 1 to 4 profiles"),
                ("useradd dave", r"useradd: usage"),
                ("keyadd carol " + KEY + " carol@laptop", r"keyadd: key authorized"),
                ("keyadd carol " + KEY, r"keyadd: that key is authorized already"),
                ("keyadd carol ssh-ed25519 AAAAnotakey", r"keyadd: not a key line as ssh-keygen writes it"),
                ("keyadd carol ssh-rsa AAAAB3NzaC1yc2E", r"keyadd: not a key line"),
                ("keyadd nobody " + KEY, r"keyadd: no such account"),
                ("disable carol", r"disable: disabled"),
                ("disable nobody", r"disable: no such account"),
            ]
            for cmd, want in cmds:
                out = d.cmd("admin", cmd)
                c.check(f"{cmd[:40]!r}: {want.split(': ', 1)[1][:30]}", re.match(want, out.strip()) is not None, out)
            out = d.cmd("admin", "accounts")
            c.check("accounts lists carol disabled, with her key as ssh-keygen writes it",
                    re.search(r"^  carol +disabled +guest +1 key$", out, re.M) is not None and
                    ("      " + KEY + "\n") in out and re.search(r"^  admin +active +operator,guest", out, re.M)
                    is not None, out)
            c.check("enable undoes disable", d.cmd("admin", "enable carol").strip() == "enable: enabled")
            c.check("keydel removes the key", d.cmd("admin", "keydel carol " + KEY).strip() == "keydel: key removed")
            c.check("... once", d.cmd("admin", "keydel carol " + KEY).strip().startswith("keydel: that key is not"))
            out = d.cmd("admin", "audit 20")
            for ev in ("account-add ok by carol", "key-add ok by carol", "account-disable ok by carol",
                       "account-enable ok by carol", "key-remove ok by carol"):
                c.check(f"audited: {ev}", re.search(rf"{ev} session", out) is not None, out)
            c.check("refusals audited with their reason, naming nobody",
                    re.search(r"account-add-denied exists session", out) is not None and
                    re.search(r"key-add-denied bad-key session", out) is not None, out)
            # a disabled account cannot log in: the operator disables their own
            c.check("disable admin", d.cmd("admin", "disable admin").strip() == "disable: disabled")
            d.exit("admin")
            out = d.login("admin", pw=NEWPW, expect_shell=False)
            c.check("a disabled account with the right password does not log in", "login incorrect" in out, out)
            ok = True
        except AssertionError as e:
            print(str(e)[-4000:])
            ok = False
        finally:
            g.kill()
    c.check("the whole walk-through completes", ok)
    c.check("no password in the transcript", "s3cret-horse" not in g.text() and NEWPW not in g.text())
    c.done(g.text() if c.failed else None)


if __name__ == "__main__":
    main()
