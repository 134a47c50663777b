#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a command inside a Debian root (a directory) as if it were a machine of its own: private
# mount and pid namespaces (every process started there ends with the command), the root made a
# mount point (libvirt changes the propagation of "/"), /dev, /proc and /sys from the host, and
# empty /run and /tmp. The environment is cleared except PATH, HOME and LANG.
#
#   scripts/in-root.sh ROOT [--bind SRC DEST] [--bind-ro SRC DEST] [--env NAME=VALUE] -- CMD [ARG...]
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 ROOT [--bind SRC DEST] [--bind-ro SRC DEST] [--env N=V] -- CMD..." >&2; exit 64; }
root=$(cd "$1" && pwd); shift
binds=() envs=()
while [ $# -gt 0 ]; do
  case $1 in
    --bind|--bind-ro) binds+=("$1" "$2" "$3"); shift 3 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "in-root.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
[ $# -gt 0 ] || { echo "in-root.sh: no command" >&2; exit 64; }
[ "$(id -u)" = 0 ] || { echo "in-root.sh: needs root (mounts and chroot)" >&2; exit 1; }

exec unshare --mount --pid --fork --kill-child bash -c '
  set -e
  root=$1; shift
  mount --make-rprivate /
  mount --bind "$root" "$root"
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount -t tmpfs tmpfs "$root/run"
  mkdir -p "$root/run/lock"   # /var/lock points here; libvirt locks its ptys in it
  mount -t tmpfs tmpfs "$root/tmp"
  while [ "$1" != -- ]; do
    mkdir -p "$root$3"
    if [ "$1" = --bind-ro ]; then mount --bind -o ro "$2" "$root$3"; else mount --bind "$2" "$root$3"; fi
    shift 3
  done
  shift
  envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 "${envs[@]}" "$@"
' in-root "$root" "${binds[@]}" -- "${envs[@]}" -- "$@"
