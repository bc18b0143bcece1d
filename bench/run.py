#!/usr/bin/python3
"""make bench: capOS against a Linux guest on the same QEMU machine model.

Both guests run under -icount shift=0, where a TSC delta is a count of guest
instructions: deterministic, and comparable across machines. -icount runs
one CPU at a time (round-robin TCG), and the Linux guest never finishes
bringing up a second CPU that way (it stops at "Booting SMP
configuration"), so that run is -smp 1 for both. The cause is QEMU 7.2's
round-robin scheduler: under -icount each vCPU's budget is all the
instructions up to the next timer deadline, so a vCPU that neither halts
nor executes PAUSE uses all of it and the next vCPU gets none, every round.
Linux's boot CPU waits for the second in a loop that calls schedule() and
never pauses (do_boot_cpu's wait for cpu_callin_mask), while the second
spins in wait_for_master_cpu and is never run again. QEMU 8.1 splits the
budget between the vCPUs ("accel/tcg/tcg-accel-ops-rr: ensure fairness
with icount"); Debian 12 ships 7.2. The rows that need two
CPUs really at once (metrics named "mt-...") come from a second run of both
guests with -smp 2 under -accel tcg,thread=multi without -icount: there the
TSC counts host time, and those rows say "wall, MTTCG". Every figure is measured
in this run; nothing is asserted. Usage: run.py CASE..."""
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
CACHE = os.path.join(ROOT, "bench", "cache")
ICOUNT = ["-icount", "shift=0"]   # sleep=off hangs the Linux guest when it idles
ICOUNT_SMP = 1                     # see above: QEMU 7.2 starves Linux's second CPU under -icount
SMP = 2                            # the wall-clock (MTTCG) run
MT = "mt-"                         # metrics measured by the wall clock under MTTCG


def qemu_capos_smp(smp, accel, extra=()):
    """The bench image on smp CPUs: accel "tcg,thread=single" (for -icount)
    or "tcg" (scripts/qemu makes that multi-threaded above one CPU)."""
    cmd, env = qemu_capos("", extra)
    env.update(CAPOS_SMP=str(smp), CAPOS_ACCEL=accel)
    return cmd, env


def qemu_capos(args, extra=(), mem=64, pkg="bench.pkg"):
    """The capOS guest on one CPU, like qemu_linux's default."""
    env = dict(os.environ, CAPOS_MEM=str(mem), CAPOS_ACCEL="tcg", CAPOS_SMP="1")
    return [os.path.join(ROOT, "scripts/qemu"), os.path.join(BUILD, "kernel.bin"),
            os.path.join(BUILD, pkg), args, "--", *extra], env


def qemu_linux(initrd, args, extra=(), accel="tcg", smp=1):
    return ["qemu-system-x86_64", "-accel", accel, "-cpu", "max", "-m", "256", "-smp", str(smp),
            "-display", "none", "-serial", "stdio", "-no-reboot",
            "-kernel", os.path.join(CACHE, "vmlinux"), "-initrd", initrd,
            "-append", "console=ttyS0 quiet panic=-1 rdinit=/init -- " + args, *extra], dict(os.environ)


def run(cmd_env, timeout=600):
    cmd, env = cmd_env
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def time_to(cmd_env, pattern, timeout=120):
    """Wall seconds from starting QEMU until pattern appears on its serial."""
    cmd, env = cmd_env
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    out = b""
    try:
        while True:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                return None
            out += chunk
            if re.search(pattern, out):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                return None
    finally:
        p.kill()
        p.wait()


def cpio_newc(entries):
    """entries: (name, mode, data, rdev) -> a newc archive."""
    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        out += hdr.encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def build_initrd(cases, path):
    def f(p):
        return open(p, "rb").read()
    entries = [("dev", 0o40755, b"", (0, 0)), ("dev/console", 0o20600, b"", (5, 1)),
               ("bin", 0o40755, b"", (0, 0)), ("bin/busybox", 0o100755, f(os.path.join(CACHE, "busybox")), (0, 0)),
               ("bin/sh", 0o120777, b"busybox", (0, 0)), ("proc", 0o40755, b"", (0, 0)),
               ("init", 0o100755, f(os.path.join(BUILD, "bench/linux_init")), (0, 0)),
               ("bench", 0o40755, b"", (0, 0))]
    for c in cases:
        entries.append(("bench/" + c, 0o100755, f(os.path.join(BUILD, "bench/linux", c)), (0, 0)))
    open(path, "wb").write(cpio_newc(entries))


def parse(out):
    """metric -> (median, p99)"""
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^BENCH (\S+) median=(\d+) p99=(\d+)", out, re.M)}


def pairs(cases):
    """'pair: capos-metric = linux-metric' lines from the case files."""
    res = []
    for c in cases:
        for m in re.finditer(r"pair:\s*(\S+)\s*=\s*(\S+)", open(os.path.join(ROOT, "bench/cases", c + ".c")).read()):
            res.append((m.group(1), m.group(2)))
    return res


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def fig(v):
    return f"{v[0]} ({v[1]})" if v else "-"


def login_latency(rounds=5):
    """Host-measured: from sending the password to the shell's prompt, over
    the serial line, plain TCG (includes the Argon2id verify)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
    from capos_qemu import Guest
    g = Guest("", smp=1)                # the Linux twin boots -smp 1
    times = []
    try:
        g.wait_for(r"^login: ", 60)
        g.send("setup\r")
        g.wait_for(r"^password: ", 20)
        g.send("bench-pass\r")
        g.wait_for(r"^again: ", 20)
        g.send("bench-pass\r")
        g.wait_for(r"^setup: done", 30)
        for _ in range(rounds):
            mark = len(g.text())
            g.wait_for(r"^login: \Z", 20, since=mark - 8 if mark > 8 else 0)
            g.send("admin\r")
            g.wait_for(r"^password: \Z", 20, since=mark)
            mark = len(g.text())
            t0 = time.monotonic()
            g.send("bench-pass\r")
            g.wait_for(r"^admin@capos> ", 30, since=mark)
            times.append(time.monotonic() - t0)
            g.send("exit\r")
            g.wait_for(r"^logged out", 20, since=mark)
    finally:
        g.kill()
    return statistics.median(times)


def main():
    cases = sys.argv[1:]
    subprocess.run([os.path.join(ROOT, "bench/fetch-linux.sh")], check=True)
    tmp = tempfile.mkdtemp()
    try:
        initrd = os.path.join(tmp, "initrd.cpio")
        build_initrd(cases, initrd)

        print(f"bench: capOS guest (-smp {ICOUNT_SMP}, -icount shift=0) ...", flush=True)
        st, cap_out = run(qemu_capos_smp(ICOUNT_SMP, "tcg,thread=single", ICOUNT))
        cap = {k: v for k, v in parse(cap_out).items() if not k.startswith(MT)}
        # under -icount shift=0 a guest nanosecond is one instruction: the
        # banner's time since boot is the instruction count (to 1,000)
        m = re.search(r"capOS: init is up \(pid 1\) at (\d+) us after boot", cap_out)
        cap_boot_instr = int(m.group(1)) * 1000 if m else None
        print(f"bench: Linux guest (-smp {ICOUNT_SMP}, -icount shift=0) ...", flush=True)
        st, lin_out = run(qemu_linux(initrd, " ".join(cases), ICOUNT, "tcg,thread=single", ICOUNT_SMP))
        lin = {k: v for k, v in parse(lin_out).items() if not k.startswith(MT)}
        print(f"bench: both guests again (-smp {SMP}, -accel tcg,thread=multi, wall clock) for the {MT} rows ...",
              flush=True)
        st, cap_mt_out = run(qemu_capos_smp(SMP, "tcg"))
        st, lin_mt_out = run(qemu_linux(initrd, " ".join(cases), (), "tcg,thread=multi", SMP))
        cap.update({k: v for k, v in parse(cap_mt_out).items() if k.startswith(MT)})
        lin.update({k: v for k, v in parse(lin_mt_out).items() if k.startswith(MT)})
        m = re.search(r"LINUX-INIT tsc=(\d+)", lin_out)
        lin_boot_instr = int(m.group(1)) if m else None
        for name, out in (("capOS", cap_out), ("Linux", lin_out), ("capOS MTTCG", cap_mt_out),
                          ("Linux MTTCG", lin_mt_out)):
            for d in re.findall(r"^BENCH-DONE (\S+) exit=(-?\d+)", out, re.M):
                if d[1] != "0":
                    print(f"bench: warning: {name} case {d[0]} exited {d[1]}")

        print("bench: boot wall time (plain TCG, median of 5 / 3) ...", flush=True)
        cap_walls = [time_to(qemu_capos("", pkg="boot.pkg"), rb"capOS: init is up") for _ in range(5)]
        lin_walls = [time_to(qemu_linux(initrd, ""), rb"LINUX-INIT") for _ in range(3)]
        cap_wall = statistics.median([w for w in cap_walls if w is not None] or [0])
        lin_wall = statistics.median([w for w in lin_walls if w is not None] or [0])

        print("bench: smallest -m that boots the default image to its login prompt ...", flush=True)
        lo, hi = 1, 64          # hi passes; find the smallest passing size
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if time_to(qemu_capos("", mem=mid, pkg="boot.pkg"), rb"\nlogin: ", timeout=60) is not None:
                hi = mid
            else:
                lo = mid

        print()
        print(f"capOS vs Linux guest: guest instructions per operation, median (p99), -icount shift=0, "
              f"-smp {ICOUNT_SMP}; rows marked (wall, MTTCG): -smp {SMP}, TSC ticks of host time under "
              f"-accel tcg,thread=multi (speed-up rows: hundredths)")
        print(f"  {'capOS operation':26} {'capOS':>18}   {'Linux operation':26} {'Linux':>18} {'capOS/Linux':>11}")
        paired = set()
        for a, b in pairs(cases):
            paired |= {a, b}
            ca, lb = cap.get(a), lin.get(b)
            r = ratio(ca[0] if ca else None, lb[0] if lb else None)
            label = " (wall, MTTCG)" if a.startswith(MT) else ""
            print(f"  {a:26} {fig(ca):>18}   {b:26} {fig(lb):>18} {r:>11}{label}")
        for k, v in cap.items():
            if k not in paired:
                print(f"  {k:26} {fig(v):>18}")
        print()
        print("Boot")
        print(f"  {'kernel entry -> init banner':34} {cap_boot_instr or '-':>10} {'':>10}  instructions (capOS)")
        print(f"  {'reset -> /init':34} {'':>10} {lin_boot_instr or '-':>10}  instructions (Linux)")
        print(f"  {'wall, QEMU start -> banner / init':34} {cap_wall:>10.3f} {lin_wall:>10.3f} {ratio(cap_wall, lin_wall):>12}  seconds")
        print()
        print(f"Memory: smallest -m that boots the default image to its login prompt: {hi} MiB")
        print("bench: login latency ...", flush=True)
        print(f"Login: password sent -> shell prompt, serial, plain TCG, median of 5: {login_latency() * 1000:.0f} ms")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
