#!/usr/bin/python3
"""Writes the seeds of tests/kernel/fuzz_bootpkg.c into seeds-bootpkg/:
packages laid out as tools/mkpkg writes them (header, entry table, each file
16-byte aligned), one with a manifest, one without, one with an entry
whose extent runs past the end, and a truncated table."""
import os
import struct

MAGIC = b"CAPOSPKG"
NAME = 32


def package(files, count=None):
    hdr = 16 + (NAME + 16) * len(files)
    table, body, off = b"", b"", hdr
    for name, data, *lie in files:
        off = (off + 15) & ~15
        body = body.ljust(off - hdr, b"\0")
        size = lie[0] if lie else len(data)
        table += name.encode().ljust(NAME, b"\0") + struct.pack("<QQ", off, size)
        body += data
        off += len(data)
    return MAGIC + struct.pack("<II", len(files) if count is None else count, 0) + table + body


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds-bootpkg")
    os.makedirs(d, exist_ok=True)
    elf = b"\x7fELF" + bytes(60)
    seeds = {
        "init-manifest": package([("init", elf), ("manifest", bytes(range(256)) * 3), ("capos-shell", elf)]),
        "no-manifest": package([("init", elf)]),
        "past-end": package([("init", elf), ("manifest", b"m" * 40, 4096)]),
        "table-short": package([("init", elf)], count=9)[:80],
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
