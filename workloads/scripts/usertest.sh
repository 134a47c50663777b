#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every workload once under qemu-riscv64-static, chrooted into the Debian 13 riscv64
# root exactly as in a guest (the runner mounts proc, sys and dev in a private mount
# namespace), and verifies the output. Usage: usertest.sh [--install-only] SYSROOT OUTDIR
# Environment: WORKLOADS (comma list, default all), ITERATIONS (1), WARMUP (0).
set -eu
install_only=false
if [ "${1:-}" = --install-only ]; then install_only=true; shift; fi
root=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
log=$here/build/usertest.txt
[ "$(id -u)" = 0 ] || { echo "usertest.sh: run as root (the runner chroots and mounts)" >&2; exit 1; }
# Install the tree as /opt/rvbench in the root, plus the emulator that runs each workload
# (the runner is static; it execs the emulator with the workload's argv inside the chroot).
# Both steps are skipped when already current, so runs that overlap do not disturb each other.
if ! diff -rq "$out" "$root/opt/rvbench" > /dev/null 2>&1; then
    rm -rf "$root/opt/rvbench.new"
    mkdir -p "$root/opt"
    cp -a "$out" "$root/opt/rvbench.new"
    rm -rf "$root/opt/rvbench"
    mv "$root/opt/rvbench.new" "$root/opt/rvbench"
fi
qemu=$(command -v qemu-riscv64-static)
if ! cmp -s "$qemu" "$root/usr/bin/qemu-riscv64-static"; then
    cp "$qemu" "$root/usr/bin/qemu-riscv64-static.new"
    mv "$root/usr/bin/qemu-riscv64-static.new" "$root/usr/bin/qemu-riscv64-static"
fi
if $install_only; then exit 0; fi
set -- --root "$root" --wrapper /usr/bin/qemu-riscv64-static \
    --iterations "${ITERATIONS:-1}" --warmup "${WARMUP:-0}" --workloads "${WORKLOADS:-all}"
status=0
qemu-riscv64-static "$out/bin/rvbench-runner" "$@" > "$log" || status=$?
echo "usertest.sh: runner exited with status $status; output in $log"
python3 "$here/scripts/check_output.py" "$log" "$out/workloads.json" ${WORKLOADS:+--only "$WORKLOADS"}
