// SPDX-License-Identifier: GPL-3.0-or-later
// The report lines a workload program prints on stdout for rvbench-runner:
//   metric NAME VALUE      a finite number (NAME: [a-z0-9_], at most 40 characters)
//   checksum TOKEN         compared verbatim with the manifest's expected checksum
//   verify ok | verify fail REASON
//   info KEY VALUE         free text, kept as a string
// Time comes from the clock_gettime system call, never the vDSO: user-mode
// rdtime/rdcycle can trap in KVM guests.
#ifndef RVB_REPORT_H
#define RVB_REPORT_H
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline int64_t rvb_now_ns(void) {
    struct timespec ts;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) return -1;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void rvb_metric(const char *name, double value) { printf("metric %s %.17g\n", name, value); }
static inline void rvb_checksum(const char *token) { printf("checksum %s\n", token); }
static inline void rvb_info(const char *key, const char *value) { printf("info %s %s\n", key, value); }
#endif
