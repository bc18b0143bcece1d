#!/usr/bin/python3
"""The store in QEMU (user/virtio-blk + user/store + lib/store): commits
survive a reboot on the same image; QEMU killed at a random moment during
a stream of commits (and once with a torn commit left at the tail) loses
no acknowledged commit and shows nothing half-written; a damaged image is
reported, not crashed on; a full disk refuses and keeps what it had; a
namespace cap reaches only its own keys."""
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from capos_qemu import Checks, Guest, boot_package, run_guest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TMP = tempfile.mkdtemp(prefix="capos-store-")
M64 = (1 << 64) - 1
KILL_RUNS = int(os.environ.get("STORE_KILL_RUNS", "5"))


def drive(img):
    return ["-drive", f"file={img},if=none,id=d0,format=raw",
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]


def image(sectors):
    path = tempfile.mktemp(dir=TMP, suffix=".img")
    with open(path, "wb") as f:
        f.truncate(sectors * 512)
    return path


def package(mode):
    return boot_package(os.path.join(HERE, "store.manifest"), tempfile.mkdtemp(dir=TMP), mode)


def boot(img, mode):
    status, log = run_guest("", timeout=240, pkg=package(mode), extra=drive(img))
    return status, log


def has(log, pattern):
    return re.search(pattern, log, re.M) is not None


# ---- enough of lib/store's format to leave a torn commit at the tail ----
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def mix(x):
    x ^= x >> 30
    x = (x * 0xbf58476d1ce4e5b9) & M64
    x ^= x >> 27
    x = (x * 0x94d049bb133111eb) & M64
    return x ^ (x >> 31)


def tag(epoch, seq, i):
    return mix(epoch ^ mix((seq * 0x9e3779b97f4a7c15 + i + 1) & M64))


def tear_after_tail(img):
    """Write commit N+1 after the last whole commit N, its second sector torn
    (new head, old tail): what a power loss mid-write leaves."""
    data = bytearray(open(img, "rb").read())
    epoch = struct.unpack_from("<Q", data, 24)[0]
    p, seq = 1, 1            # a store that never compacted: its log starts at sector 1
    while True:
        sec = data[p * 512:(p + 1) * 512]
        h = sec[8:48]
        if (len(sec) < 512 or struct.unpack_from("<I", h, 0)[0] != 0x63545343
                or struct.unpack_from("<Q", h, 16)[0] != seq or struct.unpack_from("<Q", sec, 0)[0] != tag(epoch, seq, 0)):
            break
        p += struct.unpack_from("<I", h, 24)[0]
        seq += 1
    ops = bytes([1, 11, 4]) + struct.pack("<H", 600) + b"credentials" + b"last" + b"\x77" * 600
    hdr = struct.pack("<IBBHQQIII", 0x63545343, 1, 2, 1, epoch, seq, 2, len(ops), crc32c(ops))   # version 1, flags END
    hdr += struct.pack("<I", crc32c(hdr))
    stream = hdr + ops
    for i in range(2):
        body = stream[i * 496:(i + 1) * 496].ljust(496, b"\0")
        sector = struct.pack("<Q", tag(epoch, seq, i)) + body + struct.pack("<Q", tag(epoch, seq, i))
        if i == 1:
            sector = sector[:200] + bytes(data[(p + i) * 512 + 200:(p + i + 1) * 512])   # torn: a prefix landed
        data[(p + i) * 512:(p + i + 1) * 512] = sector
    open(img, "wb").write(data)
    return seq


def main():
    c = Checks("store-qemu")
    logs = []

    # 1. commit, power off, boot again on the same image, read back
    img = image(8192)
    status, log = boot(img, "fill")
    logs.append(log)
    c.check("a blank disk is formatted", has(log, r"^store: formatted a blank disk: 0 commits"))
    c.check("a commit of two keys in each of two namespaces", has(log, r"^SP fill cred=0 acct=0$"))
    c.check("a namespace does not reach another's keys (notFound both ways)",
            has(log, r"^SP isolation acct-get-secret=1 cred-get-account=1$"))
    c.check("listing a namespace shows its own keys only", has(log, r"^SP list acct n=2 account:admin sshkey:admin$"))
    c.check("bounds: key over 64 and value over 1024 tooBig, empty key badArgument",
            has(log, r"^SP bounds key65=2 value1025=2 empty=6$") and has(log, r"^SP bounds value1024=0$"))
    filled = shutil.copy(img, img + ".filled")
    status, log = boot(img, "check")
    logs.append(log)
    c.check("after a reboot the store recovers its commits", has(log, r"^store: recovered 3 commits"))
    c.check("after a reboot every key reads back", has(log, r"^SP check get-error=0$") and has(log, r"^SP check cred=1 acct=1$"))
    c.check("and namespaces stay apart", has(log, r"^SP check isolation acct-get-secret=1$"))

    # 2. kill QEMU at a random moment during a stream of commits
    seed = int(os.environ.get("STORE_KILL_SEED", str(int(time.time()))))
    print(f"  kill runs: {KILL_RUNS}, STORE_KILL_SEED={seed}")
    rnd = random.Random(seed)
    compacted = 0
    for run in range(KILL_RUNS):
        torn = run == KILL_RUNS - 1
        # a small disk compacts its log every few dozen commits: kills land around compactions too
        img = image(8192 if torn else 256)
        g = Guest("", pkg=package("stream"), extra=drive(img))
        try:
            g.wait_for(rf"^SP acked {rnd.randint(1, 40)}$", timeout=240)
            if run == 0:
                # the first run is killed after its first compaction, so at
                # least one lands after one whatever the seed
                g.wait_for(r"^store: compacted the log", timeout=240)
            time.sleep(rnd.uniform(0, 0.4))
        finally:
            g.kill()
        while g._read(0):
            pass
        acked = max([int(x) for x in re.findall(r"^SP acked (\d+)$", g.text(), re.M)] or [0])
        compacted += len(re.findall(r"^store: compacted the log", g.text(), re.M))
        if torn:
            tear_after_tail(img)
        status, log = boot(img, "verify")
        logs.append(log)
        m = re.search(r"^SP verify last=(\d+) consistent=(\d)$", log, re.M)
        last = int(m.group(1)) if m else -1
        c.check(f"kill run {run + 1}{' (a torn commit left at the tail)' if torn else ''}: every acknowledged commit "
                f"is there (acked {acked}, found {last}), nothing half-written",
                m is not None and last >= acked and m.group(2) == "1" and status == 1, log[-1500:] if not m else "")
        if torn:
            c.check("the torn commit is reported and ignored", has(log, r"^store: recovered \d+ commits.*a torn last commit ignored$"))

    c.check(f"the kill runs' logs were compacted along the way ({compacted} times)", compacted > 0)

    # 3. a damaged image: a clear message, no crash
    img = filled
    with open(img, "r+b") as f:
        f.seek(1 * 512 + 100)
        b = f.read(1)
        f.seek(1 * 512 + 100)
        f.write(bytes([b[0] ^ 0x40]))
    status, log = boot(img, "check")
    logs.append(log)
    c.check("a damaged commit is reported with where it is",
            has(log, r"^store: corrupt: commit 1 at sector 1 fails its checksum$"))
    c.check("the store answers `corrupt` rather than crashing", has(log, r"^SP check get-error=5$"))
    c.check("the kernel and the guest carry on (clean power-off)", status == 1 and not has(log, r"killed|panic"))

    # 4. a full disk: new keys until the live data fills a log region
    img = image(128)
    status, log = boot(img, "grow")
    logs.append(log)
    m = re.search(r"^SP grow refused at (\d+) error=3$", log, re.M)
    c.check("a full disk refuses a commit with `full`", m is not None)
    c.check("the store compacted its log on the way", has(log, r"^store: compacted the log"))
    n = int(m.group(1)) if m else 0
    status, log = boot(img, "growcheck")
    logs.append(log)
    c.check("and keeps every acknowledged commit", n > 1 and has(log, rf"^SP growcheck keys={n - 1} intact=1$"))
    c.done("\n=====\n".join(logs))
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
