#!/usr/bin/python3
"""Writes the seeds of tests/kernel/fuzz_elf.c into seeds/: small static
x86_64 executables as the loader expects them (a text segment, a data
segment with bss, and the entry in the text), so the fuzzer starts from
images that load."""
import os
import struct


def elf(segments, entry):
    """segments: (vaddr, flags, data, memsz); PF_X 1, PF_W 2, PF_R 4."""
    ehsize, phsize = 64, 56
    off = ehsize + phsize * len(segments)
    phdrs, body = b"", b""
    for vaddr, flags, data, memsz in segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, flags, off + len(body), vaddr, vaddr, len(data), memsz, 0x1000)
        body += data
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, ehsize, 0, 0, ehsize, phsize, len(segments), 64, 0, 0)
    return eh + phdrs + body


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")
    os.makedirs(d, exist_ok=True)
    text = bytes([0x48, 0x31, 0xc0, 0xc3]) * 8           # xor rax, rax; ret
    seeds = {
        "text-only": elf([(0x400000, 5, text, len(text))], 0x400000),
        "text-data-bss": elf([(0x400000, 5, text, len(text)), (0x401000, 6, b"data" * 16, 0x3000)], 0x400004),
        "two-pages": elf([(0x400ff0, 5, text, len(text))], 0x400ff0),
    }
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
