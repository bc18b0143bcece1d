#!/usr/bin/python3
"""Writes the seeds of fuzz_dispatch.c into seeds/: for each interface of
the table (by index, in schema order) and a few methods, a params message
whose root has data words and pointers to short texts, a struct and a
list, so every kind of field the stubs read has bytes to start from.
Usage: make_seeds.py NUMBER_OF_INTERFACES"""
import os
import struct
import sys


def struct_ptr(offset, dw, pw):
    return struct.pack("<II", (offset << 2) & 0xffffffff, dw | pw << 16)


def list_ptr(offset, size, count):
    return struct.pack("<II", ((offset << 2) | 1) & 0xffffffff, size | count << 3)


def params():
    # root: 2 data words, 4 pointers; then the pointed-to objects
    words = [struct_ptr(0, 2, 4), struct.pack("<Q", 0x0102030405060708), struct.pack("<Q", 7)]
    # pointer slots are words 3..6; their targets start at word 7
    text = b"abc\0".ljust(8, b"\0")
    targets = [text, text, struct.pack("<QQ", 1, 2), struct.pack("<Q", 0x0003000200010000)]
    kinds = [("list", 2, 4), ("list", 2, 4), ("struct", 2, 0), ("list", 3, 4)]
    at = 7
    for slot, (kind, a, b) in enumerate(kinds):
        off = at - (3 + slot) - 1
        words.append(list_ptr(off, a, b) if kind == "list" else struct_ptr(off, a, b))
        at += len(targets[slot]) // 8
    seg = b"".join(words) + b"".join(targets)
    return struct.pack("<II", 0, len(seg) // 8) + seg


def main():
    n = int(sys.argv[1])
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
    os.makedirs(d, exist_ok=True)
    p = params()
    for i in range(n):
        for method in (0, 1):
            with open(os.path.join(d, f"iface{i:02d}-m{method}"), "wb") as f:
                f.write(bytes([i, method, 1, 0x0e]) + p)
    with open(os.path.join(d, "unknown-iface"), "wb") as f:
        f.write(bytes([250, 0, 0, 0x0e]) + p)


if __name__ == "__main__":
    main()
