#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Prints the Debian archive this machine's apt uses: the first URI of a non-security "deb" source,
# read from /etc/apt/sources.list and every *.list and *.sources file in sources.list.d, in the
# order apt reads them. The same rules as DebianMirror.fromAptConfiguration in Sources/Lab.
#   APT_DIR overrides /etc/apt (tests).
set -eu
dir=${APT_DIR:-/etc/apt}
for f in "$dir/sources.list" "$dir"/sources.list.d/*.list "$dir"/sources.list.d/*.sources; do
  [ -r "$f" ] || continue
  case $f in
    *.sources)
      awk 'BEGIN { RS = "" }
           { uri = ""; deb = 0; sec = 0; n = split($0, line, "\n")
             for (i = 1; i <= n; i++) {
               if (line[i] ~ /^#/) continue
               if (line[i] ~ /^Types:/ && line[i] ~ /[ \t]deb([ \t]|$)/) deb = 1
               if (line[i] ~ /^Suites:/ && line[i] ~ /security/) sec = 1
               if (line[i] ~ /^URIs:/ && uri == "") {
                 m = split(line[i], w, /[ \t]+/)
                 for (j = 2; j <= m; j++) if (w[j] != "" && w[j] !~ /security/) { uri = w[j]; break }
               }
             }
             if (deb && !sec && uri != "") { print uri; exit }
           }' "$f" ;;
    *) awk '$1 == "deb" { i = 2
                          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                          if (i < NF && $(i + 1) !~ /security/) { print $i; exit } }' "$f" ;;
  esac
done | head -n 1 | sed 's:/*$::' | grep . || {
  echo "debian-mirror.sh: no Debian archive in $dir/sources.list or $dir/sources.list.d/; configure apt first" >&2
  exit 1
}
