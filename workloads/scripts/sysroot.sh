#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds (once) a Debian 13 riscv64 root holding the workloads' runtime packages
# (packages.txt) and build-only packages (build-packages.txt), and prints its path.
# The root serves two purposes: headers for cross builds, and QEMU_LD_PREFIX/chroot
# for running riscv64 programs under qemu-riscv64-static.
# The Debian mirror is read from this host's apt configuration at run time.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${RVBENCH_CACHE:-$HOME/.cache/rvbench}/workloads
pkgs=$(cat "$here/packages.txt" "$here/build-packages.txt" | sed 's/#.*//' | tr -s ' \n' '\n' | sed '/^$/d' | sort -u)
key=$(printf '%s\n' "$pkgs" | cat - "$0" | sha256sum | cut -c1-16)
root=$cache/sysroot-$key
if [ -f "$root/.complete" ]; then echo "$root"; exit 0; fi

mirror=$("$here/../scripts/debian-mirror.sh")

mkdir -p "$cache"
rm -rf "$root.tmp"
include=$(printf '%s\n' "$pkgs" | paste -sd, -)
mmdebstrap --quiet --variant=extract --architectures=riscv64 --include="$include" \
    trixie "$root.tmp" "deb $mirror trixie main" >&2
# merged-/usr links (the extract variant runs no maintainer scripts)
for d in bin lib sbin; do
    [ -e "$root.tmp/$d" ] || ln -s "usr/$d" "$root.tmp/$d"
done
# the alternatives links that maintainer scripts would have made (BLAS/LAPACK for ffmpeg's deps)
for lib in "$root.tmp"/usr/lib/riscv64-linux-gnu/blas/*.so.* "$root.tmp"/usr/lib/riscv64-linux-gnu/lapack/*.so.*; do
    [ -e "$lib" ] || continue
    link="$root.tmp/usr/lib/riscv64-linux-gnu/$(basename "$lib")"
    [ -e "$link" ] || ln -s "$(basename "$(dirname "$lib")")/$(basename "$lib")" "$link"
done
touch "$root.tmp/.complete"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "$root"
