#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Makes a root built by scripts/fresh-root.sh usable as a machine of its own, for
# scripts/in-root.sh: it reaches the package registries the way this machine does (its resolver
# and its CA bundle, which holds any CA this machine's network requires), and its libvirt runs
# QEMU in the root's own mount namespace.
#
# Why the last: a chroot is not a whole machine. libvirt's private /dev for each QEMU finds no
# usable devpts there ("Failed to create PTY"), so `namespaces = []` is set in qemu.conf. That
# changes where QEMU runs, not what it loads: firmware, option ROMs and devices are checked as is.
#
#   scripts/prepare-root.sh ROOT
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 ROOT" >&2; exit 64; }
root=$1
[ -d "$root/etc" ] || { echo "prepare-root.sh: $root has no /etc; is it a root?" >&2; exit 1; }
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root/etc/ssl/certs"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
conf=$root/etc/libvirt/qemu.conf
if [ -f "$conf" ] && ! grep -q '^namespaces = \[\]' "$conf"; then
  echo 'namespaces = []  # see scripts/prepare-root.sh' >> "$conf"
fi
