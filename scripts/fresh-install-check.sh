#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The fresh-install checks, run inside a clean Debian 12 root made by scripts/fresh-root.sh.
#
#   scripts/fresh-install-check.sh ROOT PROGRAMS L0XML
#
# PROGRAMS lists "name package" per line (the code's list of external programs) and L0XML is
# the lab's L0 domain as the code renders it; the fresh-install test writes both. Inside the
# root, in private mount and pid namespaces (so nothing started there can outlive this script):
#   1. scripts/deps.sh must find no apt package missing;
#   2. every C program under workloads/ and the probe must cross-build;
#   3. scripts/services.sh must start libvirtd and virtlogd, see libvirtd answer, and stop them;
#   4. workloads/scripts/gen_models.py must write its models;
#   5. every program in PROGRAMS must be on PATH, and the Debian archive must be found;
#   6. libvirt must start the L0 domain paused (firmware, option ROMs, devices), then destroy it.
# Each failure prints a line starting with "FRESH-FAIL:"; the exit status is 1 if any did.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 ROOT PROGRAMS L0XML" >&2; exit 64; }
root=$(cd "$1" && pwd); programs=$2; l0xml=$3
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${RVBENCH_CACHE:-$HOME/.cache/rvbench}
[ "$(id -u)" = 0 ] || { echo "fresh-install-check.sh: needs root (chroot and mounts)" >&2; exit 1; }
[ -f "$root/.complete" ] || { echo "fresh-install-check.sh: $root is not a finished root; run scripts/fresh-root.sh" >&2; exit 1; }

# A copy of the checkout's scripts and guest-side sources, without build output.
rm -rf "$root/src"
mkdir -p "$root/src/rvbench" "$cache/workloads"
tar -C "$here" --exclude=workloads/build --exclude=workloads/probe/build -cf - scripts workloads \
  | tar -C "$root/src/rvbench" -xf -
cp "$programs" "$root/src/programs.txt"
cp "$l0xml" "$root/src/l0.xml"
# Placeholder kernel, initrd and disk for the paused L0: QEMU loads them but never runs them.
head -c 65536 /dev/zero > "$root/src/l0-kernel"
head -c 65536 /dev/zero > "$root/src/l0-initrd"
head -c 1048576 /dev/zero > "$root/src/l0-disk"
# Resolver, CA bundle and libvirt's namespaces setting, as for every root run as a machine.
"$here/scripts/prepare-root.sh" "$root"

cat > "$root/src/inside.sh" <<'INSIDE'
set -uo pipefail
cd /src/rvbench
fail=0
step() { echo "fresh: == $*"; }
bad() { echo "FRESH-FAIL: $*"; fail=1; }
is_riscv64_elf() {  # e_machine 243 is RISC-V, e_ident[EI_CLASS] 2 is 64-bit
  [ "$(od -An -tu1 -j4 -N1 "$1" | tr -d ' ')" = 2 ] && [ "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" = 243 ]
}

step "1. scripts/deps.sh on the fresh root"
if out=$(RVBENCH_DEPS_NO_SWIFT=1 scripts/deps.sh 2>&1); then echo "$out"; else echo "$out"; bad "scripts/deps.sh failed"; fi
if echo "$out" | grep -q "apt package(s):"; then
  bad "scripts/deps.sh had to install apt packages on a root that holds the whole list"
fi

step "2. cross-build every C program under workloads/ and the probe"
bins="rvbench-runner rvbench-micro rvbench-tinyllama rvbench-onnx"
targets=""; for b in $bins; do targets="$targets build/out/bin/$b"; done
make -s -C workloads $targets || bad "the workloads' C programs did not build (make -C workloads $targets)"
for b in $bins; do
  f=workloads/build/out/bin/$b
  if [ -f "$f" ] && is_riscv64_elf "$f"; then echo "fresh: $b is a riscv64 ELF"; else bad "$f is missing or not a riscv64 ELF"; fi
done
make -s -C workloads/probe || bad "the probe did not cross-build (make -C workloads/probe)"
is_riscv64_elf workloads/probe/build/rvbench-probe || bad "workloads/probe/build/rvbench-probe is not a riscv64 ELF"
make -s -C workloads/probe native || bad "the probe did not build for the controller (make -C workloads/probe native)"

step "4. workloads/scripts/gen_models.py"
mkdir -p /tmp/models
if python3 workloads/scripts/gen_models.py /tmp/models > /tmp/gen_models.log 2>&1; then
  ls /tmp/models | sed 's/^/fresh: model /'
  ls /tmp/models/*.onnx >/dev/null 2>&1 || bad "gen_models.py wrote no .onnx model"
else
  cat /tmp/gen_models.log; bad "gen_models.py failed"
fi

step "5. every external program the code starts"
while read -r name pkg; do
  [ -n "$name" ] || continue
  case $name in
    /*) [ -x "$name" ] ;;
    *) command -v "$name" >/dev/null ;;
  esac || bad "program $name is not installed (package $pkg)"
done < /src/programs.txt

step "5. the Debian archive, from the root's own apt configuration (lab build and the sysroot use it)"
mirror=$(scripts/debian-mirror.sh) && echo "fresh: archive $mirror" || bad "scripts/debian-mirror.sh found no archive in the root's apt sources"

step "3. scripts/services.sh start"
if scripts/services.sh start; then
  virsh -c qemu:///system uri >/dev/null || bad "libvirtd does not answer after services.sh start"

  step "6. the lab's L0 domain starts (paused) under libvirt"
  if err=$(virsh -c qemu:///system create /src/l0.xml --paused 2>&1); then
    echo "fresh: $err"
    name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' /src/l0.xml | head -1)
    virsh -c qemu:///system destroy "$name" >/dev/null || bad "cannot destroy the L0 domain $name"
  else
    echo "$err"; bad "libvirt could not start the lab's L0 domain: $(echo "$err" | tr '\n' ' ')"
  fi

  step "3. scripts/services.sh stop"
  scripts/services.sh stop || bad "services.sh stop failed"
else
  bad "scripts/services.sh start failed"
fi
sleep 1
# One name per pgrep: -x compares at most 15 characters of a process name, so match QEMU by its path.
left="$(pgrep -l -x libvirtd || true)$(pgrep -l -x virtlogd || true)$(pgrep -l -f '^/usr/bin/qemu-system-' || true)"
[ -z "$left" ] || bad "still running after services.sh stop: $(echo "$left" | tr '\n' ' ')"

[ $fail = 0 ] && echo "fresh: every check passed"
exit $fail
INSIDE

exec "$here/scripts/in-root.sh" "$root" --bind "$cache" /cache --env RVBENCH_CACHE=/cache -- bash /src/inside.sh
