#!/usr/bin/python3
"""Unpack the ELF vmlinux from a bzImage: find the compressed payload by its
magic and decompress it (xz or zstd or gzip), keeping the first result that
is an ELF file."""
import gzip
import lzma
import subprocess
import sys

data = open(sys.argv[1], "rb").read()
candidates = []
for magic, kind in ((b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b\x08", "gzip")):
    pos = data.find(magic)
    while pos != -1:
        candidates.append((pos, kind))
        pos = data.find(magic, pos + 1)
for pos, kind in sorted(candidates):
    try:
        if kind == "xz":
            out = lzma.LZMADecompressor().decompress(data[pos:])
        elif kind == "gzip":
            out = gzip.decompress(data[pos:])
        else:
            out = subprocess.run(["zstd", "-dc"], input=data[pos:], capture_output=True).stdout
    except Exception:
        continue
    if out[:4] == b"\x7fELF":
        open(sys.argv[2], "wb").write(out)
        sys.exit(0)
sys.exit("extract_vmlinux: no ELF payload found")
