// SPDX-License-Identifier: GPL-3.0-or-later
// The content of rvbench's data disk (pattern "rvbench-data-v1"): 64-bit little-endian words,
// word i (at byte offset 8*i) = splitmix64 finaliser of (SEED + (i + 1) * GOLDEN). Every block
// differs from every other, so a device that serves the wrong block or no data is caught.
// The lab writes the image from the same definition (Sources/Lab/DataDisk.swift), and
// scripts/datadisk.py computes the image's SHA-256 for the manifests.
#ifndef RVB_DATADISK_H
#define RVB_DATADISK_H
#include <stdint.h>

#define RVB_DATA_SEED 0x7276626e63682d64ULL /* "rvbench-d" */
#define RVB_DATA_GOLDEN 0x9e3779b97f4a7c15ULL

static inline uint64_t rvb_data_word(uint64_t i) {
    uint64_t z = RVB_DATA_SEED + (i + 1) * RVB_DATA_GOLDEN;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
#endif
