#!/usr/bin/python3
"""The CredentialStore on the store: the first credential set up, QEMU
powered off, booted again on the same image: the same password logs in, a
wrong one does not, and setup is closed. The disk holds no password."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, boot_package, run_guest, scratch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    c = Checks("store-credentials")
    tmp = scratch("capos-cred-")
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.truncate(4 << 20)
    extra = ["-drive", f"file={img},if=none,id=d0,format=raw", "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]
    logs = []
    for mode in ("setup", "login"):
        os.makedirs(os.path.join(tmp, mode))
        pkg = boot_package(os.path.join(HERE, "credentials.manifest"), os.path.join(tmp, mode), mode)
        status, log = run_guest("", timeout=240, pkg=pkg, extra=extra)
        logs.append(log)
        has = lambda p: re.search(p, log, re.M) is not None  # noqa: E731,B023
        if mode == "setup":
            c.check("a blank disk: the credential store is empty", has(r"^CP setup empty=1$"))
            c.check("setup creates the first credential (committed)", has(r"^CP setup created=1$"))
            c.check("a second setup is refused", has(r"^CP setup again=0$"))
            c.check("the password verifies", has(r"^CP setup verify=0$"))
        else:
            c.check("after a reboot the verifier is loaded from the store",
                    has(r"^credentials: 1 verifiers loaded from the store$"))
            c.check("after a reboot the store is not empty (setup stays closed)", has(r"^CP login empty=0$"))
            c.check("after a reboot the same password logs in, a wrong one and an unknown name do not",
                    has(r"^CP login right=0 wrong=1 unknown=2$"))
        c.check(f"clean power-off ({mode})", status == 1)
    data = open(img, "rb").read()
    c.check("the image holds an Argon2id verifier, never the password",
            b"$argon2id$" in data and b"correct horse battery" not in data)
    c.done("\n=====\n".join(logs))


if __name__ == "__main__":
    main()
