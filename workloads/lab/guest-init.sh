#!/bin/busybox sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stand-in /init for L2 guests until the workload runner replaces it: proves the guest
# booted under KVM, prints the protocol's end line and powers off.
# `rvbench.linger=N` on the kernel command line keeps the guest alive N seconds before
# powering off (so per-VM KVM statistics can still be read).
bb=/bin/busybox
$bb mkdir -p /proc /sys /dev
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "rvbench-guest-hello kernel=$($bb uname -r) uptime=$($bb cut -d' ' -f1 /proc/uptime)"
for dev in /sys/block/vd*; do
    [ -e "$dev" ] && echo "rvbench-guest-disk ${dev##*/} sectors=$($bb cat "$dev/size")"
done
echo "@@rvbench v1 done {}"
for arg in $($bb cat /proc/cmdline); do
    case "$arg" in
        rvbench.linger=*) $bb sleep "${arg#rvbench.linger=}" ;;
    esac
done
$bb poweroff -f
