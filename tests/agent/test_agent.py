#!/usr/bin/python3
"""Agent mode through the real login door on the serial terminal
(tests/agent/agent.manifest: the door manifest with the deterministic
LanguageModel, user/model, and the broker's tool map). The model plays its
demo script; the shell gates each call it proposes: a read-only call runs
by itself, a forbidden tool is never shown to the model (it says what it
was shown), consent is asked y/N, step-up asks for the password again,
Ctrl-C cancels a slow model turn and a tool call in flight, a model that
does not answer ends its turn, a runaway loop is stopped by the quota,
malformed calls come back as failed results. The audit records are there
and carry no argument's content; the model service's caps, read from the
kernel's tables, carry no session, terminal, launcher or broker authority."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sessions"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import ROOT, Checks, Guest  # noqa: E402
from door import PASSWORD, Door, door_guest  # noqa: E402

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agent.manifest")
SHOWN = "session,echo,programs,audit,pause,run,useradd,disable"
# what the model service may hold: its endpoint and the timer
NEVER = {"TerminalSession", "UserSession", "SessionContext", "SessionManager", "SessionAuthority",
         "RestrictedShellLauncher", "ProgramLauncher", "ProcessSpawner", "AuthorityBroker", "AccountAdmin",
         "CredentialStore", "AuditLog", "EndpointFactory", "KernelStats", "Console", "Echo"}
PROMPT = r"^admin@capos> \Z"


def main():
    c = Checks("agent-shell")
    ok = False
    with tempfile.TemporaryDirectory() as tmp:
        g = door_guest(tmp, manifest=MANIFEST)
        d = Door(g)
        try:
            c.check("setup", d.setup() == "done")
            d.login("admin")
            out = d.cmd("admin", "help")
            c.check("help lists agent for the operator", re.search(r"^  agent PROMPT", out, re.M) is not None, out)

            out = d.cmd("admin", "agent tools")
            m = re.search(r"^model: shown: (\S*)$", out, re.M)
            c.check("the model was shown the tools the map allows", m is not None and m.group(1) == SHOWN, out)
            c.check("... never the forbidden one", m is not None and "keyadd" not in m.group(1).split(","), out)

            out = d.cmd("admin", "agent read")
            c.check("read-only calls run by themselves",
                    "agent: session ok (auto)" in out and "agent: echo ok (auto)" in out, out)
            c.check("... and their results go back to the model",
                    re.search(r"^model: results: #\d+ ok/auto \(\d+ bytes\), #\d+ ok/auto", out, re.M) is not None, out)

            # consent: accepted, then refused
            mark = len(g.text())
            g.send("agent mutate\r")
            g.wait_for(r"allow run \{\"program\":\"hello\"\}\? \[y/N\] \Z", 30, since=mark)
            g.send("y\r")
            g.wait_for(PROMPT, 30, since=mark)
            out = g.text()[mark:]
            c.check("consent accepted: the call runs", "agent: run ok (consent-yes)" in out and
                    re.search(r"^hello", out, re.M) is not None, out)
            mark = len(g.text())
            g.send("agent mutate\r")
            g.wait_for(r"\[y/N\] \Z", 30, since=mark)
            g.send("n\r")
            g.wait_for(PROMPT, 30, since=mark)
            out = g.text()[mark:]
            c.check("consent refused: denied, and the model hears so",
                    "agent: run denied (consent-no)" in out and "denied/consent-no" in out, out)

            # step-up: the right password, then a wrong one
            mark = len(g.text())
            g.send("agent admin\r")
            g.wait_for(r"password for useradd: \Z", 30, since=mark)
            g.send(PASSWORD + "\r")
            g.wait_for(PROMPT, 60, since=mark)
            out = g.text()[mark:]
            c.check("step-up with the right password runs the call", "agent: useradd ok (stepup-ok)" in out, out)
            mark = len(g.text())
            g.send("agent admin\r")
            g.wait_for(r"password for useradd: \Z", 30, since=mark)
            g.send("not-the-password\r")
            g.wait_for(PROMPT, 60, since=mark)
            out = g.text()[mark:]
            c.check("step-up with a wrong password is denied", "agent: useradd denied (stepup-wrong)" in out, out)

            out = d.cmd("admin", "agent forbidden")
            c.check("a forbidden tool is refused", "agent: keyadd denied (forbidden)" in out, out)

            out = d.cmd("admin", "agent malformed")
            c.check("an unknown tool: a failed result", "agent: unknown failed (unknown-tool)" in out, out)
            c.check("bad arguments: failed results", out.count("agent: echo failed (bad-arguments)") == 2, out)
            c.check("oversize arguments: a failed result", "agent: echo failed (oversize-arguments)" in out, out)
            c.check("... all sent back to the model", "failed/unknown-tool" in out and
                    "failed/oversize-arguments" in out, out)

            out = d.cmd("admin", "agent runaway", timeout=60)
            c.check("a runaway loop is ended by the quota", "agent: quota reached" in out and
                    out.count("agent: echo ok (auto)") == 8, out)

            # Ctrl-C during a slow model turn
            mark = len(g.text())
            g.send("agent slow\r")
            g.wait_for(r"^agent: thinking", 30, since=mark)
            g.send("\x03")
            g.wait_for(PROMPT, 30, since=mark)
            out = g.text()[mark:]
            c.check("Ctrl-C cancels a slow model turn", "agent: cancelled" in out and "slow answer" not in out, out)
            out = d.cmd("admin", "agent hello")
            c.check("... and the model answers the next turn", "model: hello from the demo model" in out, out)

            # a model that never answers in time
            out = d.cmd("admin", "agent slow", timeout=60)
            c.check("a model that does not answer: the turn ends", "did not answer in time" in out, out)

            # Ctrl-C during a tool call
            mark = len(g.text())
            g.send("agent pause\r")
            g.wait_for(r"^agent: pausing", 30, since=mark)
            g.send("\x03")
            g.wait_for(PROMPT, 30, since=mark)
            out = g.text()[mark:]
            c.check("Ctrl-C cancels the tool call in flight and the turn",
                    "agent: pause cancelled (interrupted)" in out and "agent: cancelled" in out, out)

            out = d.cmd("admin", "audit 32")
            c.check("audited: proposals, decisions, outcomes", all(
                re.search(rf"agent-{e} ", out) for e in ("propose", "decision", "outcome")), out)
            c.check("... with reason codes", re.search(r"agent-decision pause\.auto", out) is not None and
                    re.search(r"agent-outcome pause\.cancelled\.res-0\.h-[0-9a-f]{8}", out) is not None and
                    re.search(r"agent-propose pause\.args-\d+\.h-[0-9a-f]{8}", out) is not None, out)
            c.check("... and the turn's end", re.search(r"agent-turn interrupted", out) is not None, out)
            c.check("no argument's content in the audit log", "tell-nobody" not in out and
                    "program" not in out and "AAAA" not in out, out)

            probe = d.probe("admin", "caps model")
            m = re.search(r"model held=(\d+): (.*)", probe)
            held = set(m.group(2).split()) if m else set()
            c.check("the model service's caps (kernel's tables): none of session, terminal, launcher, broker",
                    m is not None and not (held & NEVER), probe)
            probe = d.probe("admin", "shells")
            c.check("the operator's shell holds the LanguageModel", "LanguageModel" in probe, probe)
            d.exit("admin")

            d.login("guest")
            out = d.cmd("guest", "agent read")
            c.check("guests have no agent mode", "agent: not available to this session" in out, out)
            out = d.cmd("guest", "help")
            c.check("... and help does not list it", "agent" not in out, out)
            ok = True
        except AssertionError as e:
            print(str(e)[-4000:])
        finally:
            g.kill()
    c.check("the whole walk-through completes", ok)
    c.check("no password in the transcript", PASSWORD not in g.text() and "not-the-password" not in g.text())
    log = g.text()

    # the image `make run-agent-shell` boots: a login, then agent works
    g = Guest("", pkg=os.path.join(ROOT, "build/agent-boot.pkg"))
    d = Door(g)
    ok = False
    try:
        g.wait_for(r"^login: ", 60)
        c.check("run-agent-shell: setup", d.setup() == "done")
        d.login("admin")
        out = d.cmd("admin", "agent read")
        c.check("run-agent-shell: agent runs a read-only call", "agent: session ok (auto)" in out, out)
        out = d.cmd("admin", "agent tools")
        c.check("run-agent-shell: the model is shown the manifest's tools", f"model: shown: {SHOWN}" in out, out)
        ok = True
    except AssertionError as e:
        print(str(e)[-4000:])
    finally:
        g.kill()
    c.check("run-agent-shell: the walk-through completes", ok)
    c.done(log + g.text() if c.failed else None)


if __name__ == "__main__":
    main()
