#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The data disk's content, pattern rvbench-data-v1 (src/datadisk.h): prints its SHA-256, or writes it.

    datadisk.py sha256 BYTES        the SHA-256 of the first BYTES bytes
    datadisk.py write BYTES FILE    writes them to FILE (for the user-mode test)

Word i (64-bit, little-endian, at byte 8*i) is the splitmix64 finaliser of SEED + (i + 1) * GOLDEN.
"""
import hashlib
import sys

import numpy as np

PATTERN = "rvbench-data-v1"
SEED = 0x7276626E63682D64
GOLDEN = 0x9E3779B97F4A7C15
CHUNK_WORDS = 1 << 17  # 1 MiB


def chunks(nbytes):
    if nbytes <= 0 or nbytes % 4096:
        raise ValueError("the size must be a positive multiple of 4096")
    words = nbytes // 8
    with np.errstate(over="ignore"):
        for start in range(0, words, CHUNK_WORDS):
            i = np.arange(start, min(words, start + CHUNK_WORDS), dtype=np.uint64)
            z = np.uint64(SEED) + (i + np.uint64(1)) * np.uint64(GOLDEN)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
            yield z.astype("<u8").tobytes()


def sha256(nbytes):
    h = hashlib.sha256()
    for c in chunks(nbytes):
        h.update(c)
    return h.hexdigest()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "sha256":
        print(sha256(int(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "write":
        with open(sys.argv[3] + ".tmp", "wb") as f:
            for c in chunks(int(sys.argv[2])):
                f.write(c)
        import os
        os.replace(sys.argv[3] + ".tmp", sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
