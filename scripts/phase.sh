#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs one phase of `make test` and records how long it took:
#   scripts/phase.sh NAME COMMAND [ARG...]   runs COMMAND, prints "phase NAME: N s (status S)"
#   scripts/phase.sh --summary               prints every phase recorded since the last --reset
#   scripts/phase.sh --reset                 forgets the recorded phases
# The record is .build/phases.txt; the summary is the last thing `make test` prints, so that a
# truncated log still shows where the time went.
set -uo pipefail
record="${RVBENCH_PHASES:-.build/phases.txt}"
case "${1:-}" in
    --reset) mkdir -p "$(dirname "$record")"; : > "$record"; exit 0 ;;
    --summary)
        echo "== make test: time per phase (machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
        [ -f "$record" ] && cat "$record"
        exit 0 ;;
esac
name="$1"; shift
start=$(date +%s)
"$@"
status=$?
line="phase $name: $(( $(date +%s) - start )) s (status $status)"
echo "$line" >&2
mkdir -p "$(dirname "$record")"
echo "$line" >> "$record"
exit $status
