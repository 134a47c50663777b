#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The controller's virtlogd and libvirtd, for machines where no init system runs them.
#
#   scripts/services.sh start         start what is not already answering; wait until libvirtd answers
#   scripts/services.sh stop          stop what `start` started, by the PIDs in its pid files
#   scripts/services.sh run CMD...    start, run CMD, and stop again on every exit path
#   scripts/services.sh status        what this script started and whether it still runs
#
# Only processes this script started are ever stopped: their pid files live in
# .cache/services/ (RVBENCH_SERVICES_DIR overrides), and a pid is signalled only while
# /proc/PID/exe is still the daemon that was started. A libvirtd that something else
# started is used as it is and left alone.
#   RVBENCH_SERVICES_TIMEOUT   seconds to wait for libvirtd (default 300: its first start on a
#                              new machine probes every installed QEMU emulator)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${RVBENCH_SERVICES_DIR:-$PWD/.cache/services}
timeout=${RVBENCH_SERVICES_TIMEOUT:-300}
uri=qemu:///system

say() { echo "services: $*"; }
die() { echo "services: $*" >&2; exit 1; }

# Readiness needs no emulator: `virsh version` asks for the host architecture's QEMU, which a
# controller that only emulates riscv64 does not have; `uri` only needs the daemon to answer.
answers() { virsh -c "$uri" uri >/dev/null 2>&1; }

# our_pid NAME: prints the pid from NAME's pid file if that process is still the daemon we started.
our_pid() {
  local f="$dir/$1.pid" pid exe
  [ -s "$f" ] || return 1
  pid=$(tr -dc 0-9 < "$f")
  [ -n "$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "$exe" = "$(cat "$dir/$1.exe" 2>/dev/null)" ] || return 1
  echo "$pid"
}

start_daemon() {  # NAME
  local name=$1 bin
  bin=$(command -v "$name") || die "$name is not installed; run scripts/deps.sh (package libvirt-daemon)"
  mkdir -p "$dir"
  rm -f "$dir/$name.pid"
  readlink -f "$bin" > "$dir/$name.exe"
  "$bin" -d -p "$dir/$name.pid" || die "$name did not start; see its messages above"
  for _ in $(seq 1 50); do [ -s "$dir/$name.pid" ] && break; sleep 0.1; done
  our_pid "$name" >/dev/null || die "$name exited right after starting"
  echo "$name" >> "$dir/started"
  started_now+=("$name")
  say "started $name (pid $(our_pid "$name"))"
}

stop_daemon() {  # NAME
  local name=$1 pid
  if pid=$(our_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$dir/$name.pid" "$dir/$name.exe"
}

started_now=()

# stop_these NAME...: stops the named daemons that this script started.
stop_these() {
  local name
  # libvirtd first: it may still talk to virtlogd.
  for name in libvirtd virtlogd; do
    if printf '%s\n' "$@" | grep -qx "$name"; then
      stop_daemon "$name"
      [ -f "$dir/started" ] && sed -i "/^$name\$/d" "$dir/started"
    fi
  done
  return 0
}

stop() {
  [ -f "$dir/started" ] || return 0
  # libvirtd first: it may still talk to virtlogd.
  for name in libvirtd virtlogd; do
    grep -qx "$name" "$dir/started" && stop_daemon "$name"
  done
  rm -f "$dir/started"
}

start() {
  if answers; then say "libvirtd already answers on $uri; using it"; return 0; fi
  # From here on, any failure stops what this call started.
  trap 'rc=$?; if [ $rc -ne 0 ]; then stop_these "${started_now[@]}"; fi; exit $rc' EXIT
  trap 'exit 130' INT TERM
  our_pid virtlogd >/dev/null || start_daemon virtlogd
  our_pid libvirtd >/dev/null || start_daemon libvirtd
  local waited=0 next=10
  while ! answers; do
    our_pid libvirtd >/dev/null || die "libvirtd exited while starting; run 'libvirtd' in a terminal to see why"
    if [ "$waited" -ge "$timeout" ]; then
      die "libvirtd did not answer on $uri within ${timeout}s (set RVBENCH_SERVICES_TIMEOUT to wait longer)"
    fi
    if [ "$waited" -ge "$next" ]; then
      say "waiting for libvirtd on $uri (${waited}s; a first start probes every installed QEMU emulator)"
      next=$((next + 10))
    fi
    sleep 1; waited=$((waited + 1))
  done
  say "libvirtd answers on $uri after ${waited}s"
  trap - EXIT INT TERM
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    for name in virtlogd libvirtd; do
      if pid=$(our_pid "$name"); then say "$name running (pid $pid, started by this script)"
      else say "$name not started by this script"; fi
    done ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run CMD [ARG...]"
    start
    # Only what this call started is stopped again, on every exit path.
    trap 'rc=$?; stop_these "${started_now[@]}"; exit $rc' EXIT
    trap 'exit 130' INT TERM
    "$@" ;;
  *) echo "usage: $0 start|stop|status|run CMD..." >&2; exit 64 ;;
esac
