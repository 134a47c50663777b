#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Starts (or stops) the controller's virtlogd and libvirtd when no init system runs them.
# `start` records what it started in .cache/services.started so that `stop` only stops those.
set -euo pipefail
cd "$(dirname "$0")/.."
state=.cache/services.started
mkdir -p .cache
case "${1:-}" in
  start)
    : > "$state.new"
    if ! pgrep -x virtlogd >/dev/null; then virtlogd -d; echo virtlogd >> "$state.new"; fi
    if ! pgrep -x libvirtd >/dev/null; then libvirtd -d; echo libvirtd >> "$state.new"; fi
    cat "$state.new" >> "$state"; rm -f "$state.new"
    for _ in $(seq 1 50); do
      virsh -c qemu:///system version >/dev/null 2>&1 && { echo "services: libvirtd ready"; exit 0; }
      sleep 0.2
    done
    echo "services: libvirtd did not answer on qemu:///system" >&2; exit 1 ;;
  stop)
    [ -f "$state" ] || exit 0
    # libvirtd first: it may still talk to virtlogd.
    for s in libvirtd virtlogd; do
      grep -qx "$s" "$state" && pkill -x "$s" || true
    done
    rm -f "$state"; echo "services: stopped what was started" ;;
  *) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
