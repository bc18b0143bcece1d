#!/usr/bin/python3
"""Round-trip table against the reference Cap'n Proto tool, both ways.

For every case that the C driver lists:
  encode: our generated builders -> `capnp decode --short` must print the
          case's text exactly;
  decode: `capnp encode` of the case's text -> our generated readers must
          see the case's values (the driver's checks).
Prints one line per direction and case, then "N passed, M failed".

usage: roundtrip.py DRIVER SCHEMA [SEED_DIR]
With SEED_DIR, both encodings of every case (ours and the reference tool's,
which for the large case has several segments and far pointers) are also
written there as seeds for the fuzzer.
"""
import os
import subprocess
import sys

driver, schema = sys.argv[1], sys.argv[2]
seed_dir = sys.argv[3] if len(sys.argv) > 3 else None


def run(cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60)


cases = run([driver, "list"]).stdout.decode().splitlines()
if not cases:
    print("capnp-roundtrip: the driver listed no cases")
    sys.exit(1)

passed = failed = 0
for line in cases:
    name, root, text = line.split("\t", 2)

    ours = run([driver, "encode", name])
    dec = run(["capnp", "decode", "--short", schema, root], ours.stdout)
    got = dec.stdout.decode().strip()
    if ours.returncode == 0 and dec.returncode == 0 and got == text:
        passed += 1
        print(f"PASS encode {name}")
    else:
        failed += 1
        print(f"FAIL encode {name}")
        print(f"  want: {text[:400]}")
        print(f"  got:  {got[:400]}")
        print(f"  {ours.stderr.decode()}{dec.stderr.decode()}")

    enc = run(["capnp", "encode", schema, root], text.encode())
    if seed_dir:
        for tag, data in (("ours", ours.stdout), ("ref", enc.stdout)):
            with open(os.path.join(seed_dir, f"{tag}-{name}"), "wb") as f:
                f.write(data)
    chk = run([driver, "check", name], enc.stdout)
    if enc.returncode == 0 and chk.returncode == 0:
        passed += 1
        print(f"PASS decode {name}")
    else:
        failed += 1
        print(f"FAIL decode {name}")
        print(f"  {enc.stderr.decode()}{chk.stderr.decode()}")

print(f"capnp-roundtrip: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
