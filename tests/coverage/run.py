#!/usr/bin/python3
"""make coverage: line coverage of every host-built library (and of the
kernel and user-space files the fuzz targets build for the host, by folder),
measured by
running its unit tests and a short run of its fuzz target (which replays the
target's seed corpus first) through a clang source-coverage build.

The build goes to build/cov (the same rules as the normal build: a sub-make
with BUILD=build/cov and clang with -fprofile-instr-generate
-fcoverage-mapping as the host compilers). Prints a table per library and,
with --check, fails when a library is below its floor in floors.txt.
Usage: run.py [--check]"""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COV = os.path.join(ROOT, "build", "cov")
PROF = os.path.join(COV, "prof")
FLAGS = "-fprofile-instr-generate -fcoverage-mapping -Wno-unknown-warning-option -Wno-unused-command-line-argument"
# the host suites that exercise the libraries, and how long each fuzz smoke runs
TARGETS = ["test-unit", "test-capnp-unit", "test-capnp-malformed", "test-capnp-rpc", "test-capnp-fuzz",
           "test-manifest-unit", "test-manifest-table", "test-manifest-fuzz", "test-net-unit", "test-net-fuzz",
           "test-ssh-unit", "test-ssh-fuzz", "test-kernel-fuzz", "test-http-unit", "test-http-fuzz",
           "test-ws-unit", "test-ws-fuzz", "test-tls-unit", "test-tls-fuzz", "test-store", "test-store-fuzz",
           "test-fuzz-kernel-bootpkg", "test-fuzz-kernel-linedisc", "test-fuzz-kernel-ring", "test-fuzz-keys", "test-fuzz-cmdline",
           "test-fuzz-fmt", "test-fuzz-dispatch",
           "test-webauthn-unit", "test-webauthn-fuzz", "test-capnp-rpc-unit", "test-fuzz-capnp-rpc"]
FUZZ_SECONDS = os.environ.get("COVERAGE_FUZZ_SECONDS", "10")
LIBS = ["alloc", "capnp", "fmt", "manifest", "net", "siphash", "ssh", "http", "ws", "tls", "store", "webauthn", "capnp-rpc"]
# kernel and user-space folders some of whose files a host target builds
# (tests/kernel, tests/fuzz): a row counts those files only (its "files"
# column says how many of the folder's)
FOLDERS = ["kernel/sched", "kernel/cap", "kernel/ring", "user/accounts", "user/capos-shell", "user/login"]


def floors():
    out = {}
    for line in open(os.path.join(ROOT, "tests/coverage/floors.txt")):
        line = line.split("#")[0].split()
        if len(line) == 2:
            out[line[0]] = float(line[1])
    return out


def main():
    check = "--check" in sys.argv
    for f in glob.glob(os.path.join(PROF, "*")):
        os.remove(f)
    os.makedirs(PROF, exist_ok=True)
    env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(PROF, "%p-%m.profraw"))
    cc = f"clang {FLAGS}"
    r = subprocess.run(["make", "--no-print-directory", "-C", ROOT, "BUILD=build/cov", f"HOST_CC={cc}",
                        f"FUZZ_CC={cc}", f"CAPNP_FUZZ_TIME={FUZZ_SECONDS}", f"MANIFEST_FUZZ_TIME={FUZZ_SECONDS}",
                        f"SSH_FUZZ_SMOKE_TIME={FUZZ_SECONDS}", f"NET_FUZZ_TIME={FUZZ_SECONDS}",
                        f"KFUZZ_ELF_TIME={FUZZ_SECONDS}", f"WEB_FUZZ_SMOKE_TIME={FUZZ_SECONDS}",
                        f"STORE_FUZZ_TIME={FUZZ_SECONDS}", f"FUZZ_SMOKE_SECONDS={FUZZ_SECONDS}"] + TARGETS,
                       env=env, capture_output=True, text=True)
    if r.returncode:
        print(r.stdout[-3000:] + r.stderr[-3000:])
        print("coverage: 0 passed, 1 failed (the instrumented suites did not pass)")
        return 1
    merged = os.path.join(COV, "merged.profdata")
    subprocess.run(["llvm-profdata", "merge", "-sparse", "-o", merged] + glob.glob(os.path.join(PROF, "*.profraw")),
                   check=True)
    bins = []
    for path in glob.glob(os.path.join(COV, "**", "*"), recursive=True):
        if os.path.isfile(path) and os.access(path, os.X_OK) and not path.endswith((".py", ".sh")):
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF" and b"__llvm_covmap" in open(path, "rb").read():
                    bins.append(path)
    args = ["llvm-cov", "export", "-summary-only", "-instr-profile=" + merged, bins[0]]
    for b in bins[1:]:
        args += ["-object", b]
    data = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    per = {lib: [0, 0] for lib in LIBS + FOLDERS}
    built = {lib: 0 for lib in per}
    files = {}
    for obj in data["data"]:
        for f in obj["files"]:
            name = os.path.relpath(f["filename"], ROOT)
            parts = name.split(os.sep)
            group = parts[1] if parts[0] == "lib" else "/".join(parts[:2])
            if len(parts) < 3 or parts[0] not in ("lib", "kernel", "user") or group not in per or not name.endswith(".c"):
                continue
            lines = f["summary"]["lines"]
            # a file linked into several binaries appears once per export entry: keep the best
            if name not in files or lines["covered"] > files[name][0]:
                files[name] = (lines["covered"], lines["count"])
    for name, (cov, cnt) in files.items():
        parts = name.split(os.sep)
        lib = parts[1] if parts[0] == "lib" else "/".join(parts[:2])
        per[lib][0] += cov
        per[lib][1] += cnt
        built[lib] += 1
    fl = floors()
    print(f"{'library / folder':18} {'files':>7} {'lines':>7} {'covered':>8} {'percent':>8} {'floor':>6}")
    failed = []
    for lib in per:
        cov, cnt = per[lib]
        pct = 100.0 * cov / cnt if cnt else 0.0
        floor = fl.get(lib)
        label = lib if "/" in lib else "lib/" + lib
        total = len(glob.glob(os.path.join(ROOT, label, "*.c")))
        nfiles = f"{built[lib]}/{total}"
        print(f"{label:18} {nfiles:>7} {cnt:7} {cov:8} {pct:7.1f}% {floor if floor is not None else '-':>6}")
        if floor is not None and pct < floor:
            failed.append(f"{label} {pct:.1f}% < {floor}%")
    if "-v" in sys.argv:
        for name in sorted(files):
            cov, cnt = files[name]
            print(f"  {name:40} {cov:6}/{cnt:<6} {100.0 * cov / cnt if cnt else 0:6.1f}%")
    if check:
        for f in failed:
            print("coverage: below the floor:", f)
        print(f"coverage: {len(per) - len(failed)} passed, {len(failed)} failed")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
