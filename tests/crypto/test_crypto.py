#!/usr/bin/python3
"""libsodium in the guest: Debian's static libsodium, linked into a capOS
program through the runtime's POSIX shims, must compute exactly what the same
source computes on Linux (SHA-256, Ed25519 sign/verify, X25519, Argon2id,
randomness), and the SHA-256 of "abc" must be the FIPS 180-2 vector."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT, run_proof  # noqa: E402


def lines(text):
    return dict(re.findall(r"^CRYPTO (\S+) (\S+)$", text, re.M))


def main():
    c = Checks("crypto")
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "cryptotest")
        subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(ROOT, "tests/guest/cryptotest/main.c"), "-lsodium"], check=True)
        host = lines(subprocess.run([exe], capture_output=True, text=True, check=True).stdout)
    status, log = run_proof("run cryptotest", timeout=120)
    guest = lines(log)
    c.check("the host twin ran", len(host) == 10, str(host))
    c.check("sodium_init succeeds in the guest", guest.get("init") == "0")
    c.check("SHA-256(\"abc\") is the FIPS 180-2 vector",
            guest.get("sha256-abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    for k in ("ed25519-pk", "ed25519-sig", "x25519-base", "argon2id"):
        c.check(f"{k}: the guest computes what Linux computes", k in guest and guest.get(k) == host.get(k),
                f"{guest.get(k)} vs {host.get(k)}")
    c.check("Ed25519 verifies, and refuses a tampered signature",
            guest.get("ed25519-verify") == "0" and guest.get("ed25519-verify-tampered") == "-1")
    c.check("Argon2id (3 passes, 4 MiB) completes", guest.get("argon2id-result") == "0")
    c.check("randomness comes from the CPU (RDRAND)", guest.get("random-nonzero") == "1")
    c.check("every line the host printed, the guest printed", set(host) == set(guest), str(set(host) ^ set(guest)))
    c.check("the program exits 0", "RUN cryptotest exit=0" in log and status == 1, f"exit {status}")
    c.done(log)


if __name__ == "__main__":
    main()
