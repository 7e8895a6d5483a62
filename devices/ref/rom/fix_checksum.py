#!/usr/bin/env python3
"""Sets the last byte of an option ROM image so that all its bytes sum to 0 (mod 256).

usage: fix_checksum.py IN OUT
Checks the 0x55AA signature and that the size byte matches the file length.
"""
import os
import sys


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: fix_checksum.py IN OUT\n")
        return 2
    data = bytearray(open(argv[1], "rb").read())
    if len(data) < 512 or data[0:2] != b"\x55\xaa":
        sys.stderr.write(f"{argv[1]}: not an option ROM (no 0x55AA signature)\n")
        return 1
    if data[2] * 512 != len(data):
        sys.stderr.write(f"{argv[1]}: size byte says {data[2] * 512} bytes, file has {len(data)}\n")
        return 1
    data[-1] = 0
    data[-1] = (-sum(data)) & 0xFF
    tmp = argv[2] + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
