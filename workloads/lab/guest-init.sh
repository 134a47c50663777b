#!/bin/busybox sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stand-in /init for L2 guests until the workload runner replaces it: proves the guest
# booted under KVM, prints the protocol's end line and powers off.
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "rvbench-guest-hello kernel=$(/bin/busybox uname -r) uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
echo "@@rvbench v1 done {}"
/bin/busybox poweroff -f
