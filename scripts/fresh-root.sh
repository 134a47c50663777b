#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds (once) a clean Debian 12 root for the fresh-install test: mmdebstrap's minbase plus
# exactly the packages in scripts/debian12-packages.txt, without Recommends, from this
# machine's own apt sources. Prints the root's path. Cached by the list's content (and this
# script's) under $RVBENCH_CACHE/fresh-install/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${RVBENCH_CACHE:-$HOME/.cache/rvbench}/fresh-install
list=$here/scripts/debian12-packages.txt
pkgs=$(sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$list" | sort -u)
key=$(printf '%s\n' "$pkgs" | cat - "$0" | sha256sum | cut -c1-16)
root=$cache/debian12-$key
if [ -f "$root/.complete" ]; then echo "$root"; exit 0; fi

[ "$(id -u)" = 0 ] || { echo "fresh-root.sh: needs root (mmdebstrap installs packages with maintainer scripts)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "fresh-root.sh: mmdebstrap is not installed; run scripts/deps.sh" >&2; exit 1; }
sources=""
for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  [ -s "$f" ] && { sources=$f; break; }
done
[ -n "$sources" ] || { echo "fresh-root.sh: no apt sources on this machine; configure apt first" >&2; exit 1; }

mkdir -p "$cache"
rm -rf "$root.tmp"
echo "fresh-root.sh: building a Debian 12 minbase root with $(printf '%s\n' "$pkgs" | wc -l) packages into $root" >&2
started=$(date +%s)
mmdebstrap --quiet --variant=minbase --aptopt='APT::Install-Recommends "false"' \
    --include="$(printf '%s\n' "$pkgs" | paste -sd, -)" bookworm "$root.tmp" "$sources" >&2
touch "$root.tmp/.complete"
mv "$root.tmp" "$root"
echo "fresh-root.sh: built in $(( $(date +%s) - started )) s" >&2
echo "$root"
