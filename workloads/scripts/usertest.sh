#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs every workload once under qemu-riscv64-static, chrooted into the Debian 13 riscv64
# root exactly as in a guest (the runner mounts proc, sys and dev in a private mount
# namespace), and verifies the output. Usage: usertest.sh [--install-only] SYSROOT OUTDIR
# Environment: WORKLOADS (comma list, default all), ITERATIONS (1), WARMUP (0).
# The I/O workloads read the data disk's image from a file here, /var/tmp/rvbench-data.img in the root, with
# POSIX AIO (qemu-user implements no Linux AIO system calls), and rvbench-fio starts fio through the
# emulator (no binfmt here): --install-only writes the image and build/usermode.conf, workloads.conf with
# those changes.
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
image=$root/var/tmp/rvbench-data.img
bytes=$((64 << 20))
if [ ! -f "$image" ] || [ "$(stat -c %s "$image")" != "$bytes" ]; then
    mkdir -p "$root/var/tmp"
    python3 "$here/scripts/datadisk.py" write "$bytes" "$image"
fi
conf=$here/build/usermode.conf
sed -e 's|^arg --ioengine=libaio$|arg --ioengine=posixaio|' \
    -e 's|^arg /opt/rvbench/bin/rvbench-fio$|&\narg --device\narg /var/tmp/rvbench-data.img|' \
    -e 's|^arg /usr/bin/fio$|arg /usr/bin/qemu-riscv64-static\n&|' \
    "$out/workloads.conf" > "$conf.tmp"
mv "$conf.tmp" "$conf"
if $install_only; then exit 0; fi
set -- --root "$root" --config "$conf" --wrapper /usr/bin/qemu-riscv64-static \
    --iterations "${ITERATIONS:-1}" --warmup "${WARMUP:-0}" --workloads "${WORKLOADS:-all}"
status=0
qemu-riscv64-static "$out/bin/rvbench-runner" "$@" > "$log" || status=$?
echo "usertest.sh: runner exited with status $status; output in $log"
python3 "$here/scripts/check_output.py" "$log" "$out/workloads.json" ${WORKLOADS:+--only "$WORKLOADS"}
