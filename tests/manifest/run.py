#!/usr/bin/python3
"""The boot manifest's table tests: mkmanifest and lib/manifest end to end.

usage: run.py MKMANIFEST CHECK OUTDIR

- good manifests (tests/manifest/good.manifest, manifests/system.manifest)
  compile, validate and give the order their '# order:' line names;
  good.manifest decodes with `capnp decode` to good.decoded.txt (the
  reference tool reads our message as the schema says);
- every tests/manifest/bad/*.manifest compiles (syntax is fine) and then
  fails validation with the code and message of its '# expect:' lines;
  truncated and garbage messages are refused as malformed;
- every tests/manifest/syntax/*.manifest makes mkmanifest fail with the
  'FILE:LINE: message' of its '# expect:' line, writing no output.

The compiled messages stay in OUTDIR: the fuzz target's seeds.
"""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCHEMA = os.path.join(ROOT, "schema", "capos.capnp")
# The programs the test boot package holds (check.c's has_binary).
# (the test manifests' own names, and every program of user/, which the
# system manifest may start)
BINARIES = sorted({"init", "logger", "echo", "shell", "clock", "a", "b", "c", "d"} |
                  {d for d in os.listdir(os.path.join(ROOT, "user"))
                   if d != "rt" and os.path.isdir(os.path.join(ROOT, "user", d))})
# enum manifest_err, by name, as lib/manifest/manifest.h numbers it
CODES = {
    "MALFORMED": 1, "TOO_MANY": 2, "BAD_NAME": 3, "DUP_SESSION": 4,
    "DUP_SERVICE": 5, "DUP_GRANT": 6, "DUP_EXPORT": 7, "UNKNOWN_BINARY": 8,
    "UNKNOWN_SESSION": 9, "UNKNOWN_KERNEL_CAP": 10, "NO_PROVIDER": 11,
    "SELF_GRANT": 12, "CYCLE": 13, "BAD_RESTART": 14, "DUP_DEVICE": 16,
    "BAD_DEVICE": 17,
}

passed = failed = 0


def result(ok, name, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok   %s" % name)
    else:
        failed += 1
        print("FAIL %s %s" % (name, detail))


def headers(path, key):
    """The values of '# key: value' comment lines."""
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r"#\s*%s:\s?(.*)$" % re.escape(key), line.rstrip("\n"))
            if m:
                out.append(m.group(1))
    return out


def compile_manifest(mk, src, out):
    if os.path.exists(out):
        os.remove(out)
    return subprocess.run([mk, src, out], capture_output=True, text=True)


def check(chk, binary):
    return subprocess.run([chk, binary] + BINARIES, capture_output=True, text=True)


def test_good(mk, chk, outdir, src, decoded=None, order=None):
    name = os.path.relpath(src, ROOT)
    out = os.path.join(outdir, os.path.basename(src) + ".bin")
    c = compile_manifest(mk, src, out)
    if c.returncode != 0:
        result(False, name + ": compiles", c.stderr)
        return
    result(True, name + ": compiles")
    if decoded:
        d = subprocess.run(["capnp", "decode", SCHEMA, "SystemManifest"],
                           stdin=open(out, "rb"), capture_output=True, text=True)
        with open(decoded) as f:
            want = f.read()
        result(d.returncode == 0 and d.stdout == want,
               name + ": capnp decode gives " + os.path.basename(decoded),
               "\n--- got\n" + d.stdout + d.stderr + "--- want\n" + want)
    r = check(chk, out)
    want = "ok: order " + (order or headers(src, "order")[0]) + "\n"
    result(r.returncode == 0 and r.stdout == want and not r.stderr,
           name + ": validates, order " + want.strip()[10:],
           "got %r %r (exit %d)" % (r.stdout, r.stderr, r.returncode))
    return out


def test_bad(mk, chk, outdir, src):
    name = os.path.relpath(src, ROOT)
    out = os.path.join(outdir, os.path.basename(src) + ".bin")
    c = compile_manifest(mk, src, out)
    if c.returncode != 0:
        result(False, name + ": compiles", c.stderr)
        return
    code, msg = headers(src, "expect")
    want = "error %d: %s\n" % (CODES[code], msg)
    r = check(chk, out)
    result(r.returncode == 1 and r.stdout == want and not r.stderr,
           name + ": " + code, "\n  got  %r\n  want %r\n  %s" % (r.stdout, want, r.stderr))


def test_malformed(chk, outdir, good):
    with open(good, "rb") as f:
        data = f.read()
    want = "error 1: malformed manifest: "
    cases = {
        "truncated": data[:len(data) // 2],
        "empty": b"",
        "segment count too large": b"\xff\xff\xff\xff" + data[4:],
        # a struct pointer whose offset leaves the segment
        "root pointer out of bounds": data[:8] + b"\xfc\xff\xff\x1f\x01\x00\x00\x00" + data[16:],
        "text": b"not a capnp message at all.",
    }
    for label, blob in cases.items():
        path = os.path.join(outdir, "malformed-" + label.replace(" ", "-") + ".bin")
        with open(path, "wb") as f:
            f.write(blob)
        r = check(chk, path)
        result(r.returncode == 1 and r.stdout.startswith(want) and not r.stderr,
               "malformed message (%s): MALFORMED" % label, "got %r %r" % (r.stdout, r.stderr))


def test_syntax(mk, outdir, src):
    name = os.path.relpath(src, ROOT)
    out = os.path.join(outdir, "syntax-" + os.path.basename(src) + ".bin")
    c = compile_manifest(mk, src, out)
    want = "%s:%s\n" % (src, headers(src, "expect")[0])
    result(c.returncode == 1 and c.stderr == want and not os.path.exists(out),
           name + ": mkmanifest refuses it",
           "\n  got  %r (exit %d)\n  want %r" % (c.stderr, c.returncode, want))


def main():
    mk, chk, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    good = test_good(mk, chk, outdir, os.path.join(HERE, "good.manifest"),
                     os.path.join(HERE, "good.decoded.txt"))
    test_good(mk, chk, outdir, os.path.join(ROOT, "manifests", "system.manifest"),
              order="logger echo blk store audit credentials accounts sessionmgr programs nicdrv net broker launcher login webstatus hostkey sshgw remotegw webshell")
    bad = sorted(glob.glob(os.path.join(HERE, "bad", "*.manifest")))
    for src in bad:
        test_bad(mk, chk, outdir, src)
    if good:
        test_malformed(chk, outdir, good)
    syntax = sorted(glob.glob(os.path.join(HERE, "syntax", "*.manifest")))
    for src in syntax:
        test_syntax(mk, outdir, os.path.relpath(src, os.getcwd()))
    # the tables must not silently shrink
    result(len(bad) >= 8 and len(syntax) >= 8, "at least 8 bad and 8 syntax manifests",
           "%d bad, %d syntax" % (len(bad), len(syntax)))
    print("manifest-table: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
