#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Measures `make demo` cold on a clean Debian 12 root: the fresh-install root (scripts/fresh-root.sh,
# whose build time is the package installation), plus the Swift toolchain's own runtime packages,
# a copy of this checkout and an empty artifact cache. Everything runs inside the root, in private
# mount and pid namespaces. Prints the wall time of each phase.
#
#   scripts/cold-demo.sh [SWIFT_DIR]     SWIFT_DIR defaults to /opt/swift (bound read-only)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
swift=${1:-/opt/swift}
[ "$(id -u)" = 0 ] || { echo "cold-demo.sh: needs root" >&2; exit 1; }
[ -x "$swift/usr/bin/swift" ] || { echo "cold-demo.sh: no Swift toolchain at $swift" >&2; exit 1; }
fresh=$("$here/scripts/fresh-root.sh")
work=$(mktemp -d /var/tmp/rvbench-cold-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
echo "cold-demo: copying the fresh root $fresh" >&2
cp -a "$fresh" "$root"
mkdir -p "$root/opt/swift" "$root/src"
git -C "$here" archive --format=tar HEAD | tar -C "$root/src" -xf -
"$here/scripts/prepare-root.sh" "$root"
[ -f /etc/gitconfig ] && cp /etc/gitconfig "$root/etc/gitconfig"   # where SwiftPM finds its packages here

cat > "$root/src/cold.sh" <<'INSIDE'
set -euo pipefail
t() { date +%s; }
cd /src
t0=$(t)
echo "cold-demo: installing the Swift toolchain's runtime packages (not rvbench's; a machine with Swift has them)"
apt-get update -q >/tmp/apt-update.log 2>&1
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends binutils libc6-dev libcurl4-openssl-dev \
  libedit2 libgcc-12-dev libpython3-dev libsqlite3-0 libstdc++-12-dev libxml2-dev libncurses-dev libz3-dev \
  pkg-config tzdata zlib1g-dev git uuid-dev >/tmp/swift-deps.log 2>&1 || { tail -20 /tmp/swift-deps.log; exit 1; }
t1=$(t)
export PATH=/opt/swift/usr/bin:$PATH RVBENCH_CACHE=/src/.cache/rvbench
make demo
t2=$(t)
echo "cold-demo: swift runtime packages $((t1 - t0)) s; make demo $((t2 - t1)) s"
ls -d results/*/ | tail -1
INSIDE

started=$(date +%s)
packages=()
[ -d /opt/swift-packages ] && packages=(--bind-ro /opt/swift-packages /opt/swift-packages)
"$here/scripts/in-root.sh" "$root" --bind-ro "$swift" /opt/swift "${packages[@]}" -- bash /src/cold.sh
mkdir -p /var/tmp/rvbench-cold-demo-results
cp -a "$root"/src/results/2* /var/tmp/rvbench-cold-demo-results/ 2>/dev/null || true
echo "cold-demo: results copied to /var/tmp/rvbench-cold-demo-results"
echo "cold-demo: fresh root build (package installation) is cached here; scripts/fresh-root.sh reports its own time"
echo "cold-demo: whole chroot phase $(( $(date +%s) - started )) s"
