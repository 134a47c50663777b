#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Boots a riscv64 kernel under qemu-system-riscv64 (TCG, no KVM) with rvbench-runner as
# /init and the workload root as a read-only virtio-blk-pci disk, exactly as an L2 guest
# gets them, and prints the console. A functional check of the runner's PID 1 path; the
# timings are those of an emulated machine.
# Usage: systemtest.sh KERNEL_IMAGE SYSROOT OUTDIR [KERNEL_ARGS...]
# e.g. systemtest.sh Image "$(cat build/sysroot.path)" build/out rvbench.workloads=micro-mmio rvbench.iterations=1
set -eu
kernel=$1 root=$2 out=$3
shift 3
cache=${RVBENCH_CACHE:-$HOME/.cache/rvbench}/workloads/systemtest
mkdir -p "$cache"
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/usertest.sh" --install-only "$root" "$out"

# initramfs: the runner as /init, and a console node
rm -rf "$cache/initramfs"
mkdir -p "$cache/initramfs/dev"
cp "$out/bin/rvbench-runner" "$cache/initramfs/init"
mknod -m 600 "$cache/initramfs/dev/console" c 5 1
(cd "$cache/initramfs" && find . | cpio -o -H newc --quiet) > "$cache/initramfs.cpio"

# the workload disk: the root with /opt/rvbench, as ext4
size=$(du -sm "$root" | cut -f1)
rm -f "$cache/disk.img"
mke2fs -q -t ext4 -d "$root" -L rvbench "$cache/disk.img" "$((size + size / 4 + 64))M"

timeout 1800 qemu-system-riscv64 -M virt -cpu "${QEMU_CPU:-rv64}" -smp 2 -m 2G -nographic -no-reboot \
    -bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin \
    -kernel "$kernel" -initrd "$cache/initramfs.cpio" \
    -drive file="$cache/disk.img",if=none,id=d0,format=raw,readonly=on -device virtio-blk-pci,drive=d0 \
    -append "console=ttyS0 panic=1 quiet $*"
