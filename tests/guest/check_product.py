#!/usr/bin/python3
"""The product apart from its tests: the default image (build/boot.pkg) holds
exactly init and the programs its manifest names (read off the manifest the
way the build does), none of them a test program of tests/guest; and init
carries no test mode (it never reads its arguments, and no proof mode name
or proof output tag is in its binary)."""
import os
import re
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, ROOT  # noqa: E402

BUILD = os.path.join(ROOT, "build")


def package_programs(path):
    data = open(path, "rb").read()
    magic, count, _ = struct.unpack_from("<8sII", data, 0)
    assert magic == b"CAPOSPKG", magic
    names = []
    for i in range(count):
        name, _, _ = struct.unpack_from("<32sQQ", data, 16 + i * 48)
        names.append(name.split(b"\0")[0].decode())
    return names


def main():
    c = Checks("image/product")
    progs = package_programs(os.path.join(BUILD, "boot.pkg"))
    want = subprocess.run(["awk", "-f", os.path.join(ROOT, "manifests/image-programs.awk"),
                           os.path.join(ROOT, "manifests/system.manifest")],
                          capture_output=True, text=True, check=True).stdout.split()
    c.check("the default image holds exactly init and the programs of the manifest",
            sorted(p for p in progs if p != "manifest") == sorted(set(want)), f"{sorted(progs)} vs {sorted(set(want))}")
    tests = {d for d in os.listdir(os.path.join(ROOT, "tests/guest")) if os.path.isdir(os.path.join(ROOT, "tests/guest", d))}
    c.check("no test program is in the default image", not tests & set(progs), str(tests & set(progs)))
    c.check("no test program is in user/", not tests & set(os.listdir(os.path.join(ROOT, "user"))))
    src = "".join(open(os.path.join(ROOT, "user/init", f)).read() for f in os.listdir(os.path.join(ROOT, "user/init")))
    c.check("init never reads its arguments (no boot-argument modes)", "rt_capset->args" not in src)
    blob = open(os.path.join(BUILD, "user/init"), "rb").read()
    proof = "".join(open(os.path.join(ROOT, "tests/guest/proof", f)).read()
                    for f in os.listdir(os.path.join(ROOT, "tests/guest/proof")))
    tags = set(re.findall(r'printf\("([A-Z][A-Z-]{2,}) ', proof))
    c.check("the proof's output tags are known to this check", len(tags) >= 8, str(tags))
    found = sorted(t for t in tags if t.encode() + b" " in blob)
    c.check("init's binary holds none of the proof's output tags", not found, str(found))
    for mode in ("sqefuzz", "logintest", "sessiontest", "ipctest", "termtest", "bench "):
        c.check(f"init's binary holds no test mode '{mode.strip()}'", mode.encode() not in blob)
    c.done()


if __name__ == "__main__":
    main()
