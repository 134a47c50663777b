// SPDX-License-Identifier: GPL-3.0-or-later
// A small SHA-256 (FIPS 180-4) for the runner, which hashes workload output.
#ifndef RVB_SHA256_H
#define RVB_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t length;
    uint8_t block[64];
    size_t used;
} rvb_sha256;

void rvb_sha256_init(rvb_sha256 *s);
void rvb_sha256_update(rvb_sha256 *s, const void *data, size_t n);
/// Writes 64 lowercase hex digits and a NUL into hex.
void rvb_sha256_final_hex(rvb_sha256 *s, char hex[65]);
#endif
