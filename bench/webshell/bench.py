#!/usr/bin/python3
"""make bench-webshell: the web shell against the SSH gateway, into the same
capOS guest in the same run (make run's system, plain TCG, make run's
network: scripts/qemu's forwards from 127.0.0.1); host wall clock.

  page load / connect -> prompt:
      web:  a fresh headless Chromium context from navigation to the shell's
            prompt in the terminal, logged in by passkey (bench.js);
      SSH:  `ssh -tt` with an authorized Ed25519 key until the first prompt
            (bench/ssh-guest's measure(): TCP, KEX, publickey, pty, shell).
      Neither hashes a password in the guest. Median of LOADS (a warm-up first).
  keystroke echo round trip:
      web:  one byte as typed input to xterm.js until its echo is in the
            terminal's buffer (the WebSocket, TLS, the gateway, the shell);
      SSH:  one byte to the OpenSSH client until it is echoed.
      Median of KEYS.

The operator's password is set on the serial console (`setup`), the key is
authorized there (`keyadd`), and the page registers a passkey from a
password session first. Every figure is measured in this run; nothing is
asserted.
usage: bench.py [LOADS] [KEYS]"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "sessions"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from capos_qemu import Guest, free_port  # noqa: E402
from door import PASSWORD  # noqa: E402

LOADS = int(sys.argv[1]) if len(sys.argv) > 1 else 11
KEYS = int(sys.argv[2]) if len(sys.argv) > 2 else 51
CAPOS_PROMPT = rb"admin@capos> $"


def ssh_bench():
    """bench/ssh-guest's SSH client side (Session, measure, med_ms)."""
    spec = importlib.util.spec_from_file_location("ssh_guest_bench", os.path.join(ROOT, "bench/ssh-guest/bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.CONNECTS, mod.KEYS = LOADS, KEYS
    return mod


def main():
    sb = ssh_bench()
    tmp = tempfile.mkdtemp(prefix="capos-webshell-bench-")
    ports = {"CAPOS_NET": "user", "CAPOS_HTTP_PORT": free_port(), "CAPOS_SSH_PORT": free_port(),
             "CAPOS_WEB_PORT": free_port()}
    for k, v in ports.items():
        os.environ[k] = str(v)
    g = None
    try:
        os.makedirs(os.path.join(tmp, "home"))
        os.environ["HOME"] = os.path.join(tmp, "home")
        uk = os.path.join(tmp, "user_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", uk], check=True)
        pub = open(uk + ".pub").read().split()
        ssh = ["ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
               "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=60",
               "-o", "IdentityAgent=none", "-i", uk, "-p", str(ports["CAPOS_SSH_PORT"]), "-tt", "admin@127.0.0.1"]

        print("bench: capOS guest (plain TCG), the web shell and the SSH gateway ...", flush=True)
        g = Guest(mem=128)
        m = g.wait_for(r"^capOS: the web shell \(once the guest is up\): (https://localhost:\d+/) ", 30)
        url = m.group(1)
        g.wait_for(r"^webshell-gateway: serving HTTPS", 120)
        g.wait_for(r"^ssh-gateway: serving SSH", 60)
        g.wait_for(r"netstack: dhcp lease", 60)
        g.wait_for(r"^login: ", 30)
        mark = len(g.text())
        g.send("setup\r")                    # (log lines may follow a prompt: no end anchors)
        for prompt in ("password", "again"):
            g.wait_for(rf"^{prompt}: ", 20, since=mark)
            g.send(PASSWORD + "\r")
        done = g.wait_for(r"^setup: (\w+)", 60, since=mark)
        if done.group(1) != "done":
            print("bench: setup: " + done.group(1))
            return 1
        g.wait_for(r"^login: ", 60, since=done.end())
        mark = len(g.text())
        g.send("admin\r")
        g.wait_for(r"password: ", 20, since=mark)
        g.send(PASSWORD + "\r")
        g.wait_for(r"admin@capos> ", 60, since=mark)
        mark = len(g.text())
        g.send(f"keyadd admin {pub[0]} {pub[1]} bench\r")
        if not re.search(r"keyadd: key authorized", g.wait_for(r"keyadd: .*\n", 60, since=mark).group(0)):
            print("bench: keyadd failed: " + g.text()[mark:])
            return 1

        conn, keys, _ = sb.measure(ssh, CAPOS_PROMPT)
        node = subprocess.run(["node", os.path.join(ROOT, "bench/webshell/bench.js"), url, PASSWORD, str(LOADS),
                               str(KEYS)], capture_output=True, text=True, timeout=1800)
        line = next((x for x in node.stdout.splitlines() if x.startswith("RESULT ")), "RESULT {}")
        web = json.loads(line[7:])
        if "error" in web or not web:
            print("bench: the browser half failed: " + web.get("error", node.stdout[-2000:] + node.stderr[-2000:]))
            return 1

        ver = subprocess.run(["ssh", "-V"], stderr=subprocess.PIPE, text=True).stderr.strip()
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
        print()
        print(f"Into capOS: the web shell ({chromium}, headless) vs the SSH gateway ({ver}); plain TCG, host wall clock")
        print("  %-48s %10s %10s %10s" % ("", "web", "SSH", "web/SSH"))
        for name, a, b in ((f"page load / connect -> shell prompt, median of {LOADS}", web["load"], conn),
                           (f"keystroke echo round trip, median of {KEYS}", web["keys"], keys)):
            ma, mb = sb.med_ms(a), sb.med_ms(b)
            print("  %-48s %10s %10s %10s" % (name, "%.1f ms" % ma if ma is not None else "-",
                                               "%.1f ms" % mb if mb is not None else "-",
                                               "%.2f" % (ma / mb) if ma and mb else "-"))
            if len(a) != len(b):
                print(f"    (samples: web {len(a)}, SSH {len(b)})")
        print("  (web: passkey login, a new browser context each load; SSH: Ed25519 publickey, a new client each connect)")
    finally:
        if g:
            g.kill()
        for k in ports:
            os.environ.pop(k, None)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
