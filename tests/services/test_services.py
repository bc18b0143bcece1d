#!/usr/bin/python3
"""The boot manifest in the guest.

1. A manifest boots (tests/services/services.manifest): init validates it,
   starts logger then echo with their grants and sessions, the echo service
   answers through its endpoint, and a service that fails (the test service
   crasher exits with 3 after each answer) is restarted by the supervisor
   (on-failure) behind the same endpoint.
2. Every broken manifest of tests/manifest/bad whose programs exist in the
   boot image stops the boot before anything starts, with the message (naming
   the line at fault) that its '# expect:' line gives."""
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT, boot_package, run_guest, test_programs, scratch  # noqa: E402

BUILD = os.path.join(ROOT, "build")
PROGRAMS = test_programs()


def main():
    c = Checks("services")
    status, log = run_guest(timeout=60, pkg=boot_package(os.path.join(ROOT, "tests/services/services.manifest"),
                                                          scratch("capos-services-")))
    c.check("the manifest validates and gives the start order",
            "init: boot manifest ok: 2 sessions, 4 services; start order: logger echo crasher proof" in log)
    c.check("logger starts first, then echo, which logs through its grant of logger.log",
            log.find("[logger] up") < log.find("[logger] echo: up") != -1)
    c.check("the manifest's args reach the service", "[logger] echo: up (args: hello from the manifest)" in log)
    c.check("echo answers through its endpoint", "SERVICES echo round=0 result=0 reply=ping" in log)
    c.check("echo's endpoint discloses the caller's principal and profile (disclose=)",
            "[logger] echo: 4 bytes from system/system" in log)
    c.check("the crasher answers its first call", "SERVICES crasher round=0 result=0 reply=ping" in log)
    c.check("the supervisor logs the failed service's exit", "init: service crasher exited with 3" in log)
    c.check("restart policy on-failure:3 restarts it", "init: restarting crasher (1 of 3)" in log)
    c.check("the restarted service answers on the same endpoint", "SERVICES crasher round=1 result=0 reply=ping" in log)
    c.check("and is restarted again after its second failure", "init: restarting crasher (2 of 3)" in log)
    c.check("the proof powers off cleanly", status == 1 and "SERVICES done" in log, f"exit {status}")
    if c.failed:
        c.done(log)

    tmp = scratch("capos-services-")
    cases = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/manifest/bad/*.manifest")) +
                       glob.glob(os.path.join(ROOT, "tests/services/bad/*.manifest"))):
        text = open(path).read()
        bins = set(re.findall(r"binary=(\S+)", text))
        if not bins <= set(PROGRAMS) | {"ech0"}:      # unknown_binary names a missing one on purpose
            continue
        expect = [m for m in re.findall(r"^#\s*expect:\s?(.*)$", text, re.M) if m.startswith("line ")]
        name = os.path.basename(path)[:-len(".manifest")]
        mbin = os.path.join(tmp, name + ".bin")
        pkg = os.path.join(tmp, name + ".pkg")
        subprocess.run([os.path.join(BUILD, "mkmanifest/mkmanifest"), path, mbin], check=True)
        subprocess.run([os.path.join(BUILD, "tools/mkpkg"), pkg, "manifest=" + mbin] +
                       [f"{p}={path}" for p, path in PROGRAMS.items()], check=True)
        status, log = run_guest("", timeout=60, pkg=pkg)
        cases += 1
        want = "init: boot manifest rejected: " + (expect[0] if expect else "?")
        c.check(f"bad manifest {name}: '{want[30:]}'", want in log and "[logger]" not in log and status == 5,
                f"exit {status}; got: {[l for l in log.splitlines() if 'rejected' in l]}")
    c.check("at least six broken manifests were booted", cases >= 6, str(cases))
    c.done()


if __name__ == "__main__":
    main()
