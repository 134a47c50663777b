#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what rvbench needs on Debian 12: apt packages when run as root,
# otherwise prints the exact command to run. Also checks Swift and Python modules.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # C libraries behind the system-library targets
  pkg-config libvirt-dev libgsl-dev libpfm4-dev
  # local libvirt that runs the lab's L0 domain
  libvirt-daemon-system libvirt-clients
  # L0: QEMU TCG for riscv64, OpenSBI firmware, user-mode emulation for tests
  qemu-system-misc qemu-utils opensbi qemu-user-static
  # riscv64 root filesystems and images
  mmdebstrap cpio e2fsprogs zstd xz-utils openssh-client
  # cross toolchain and kernel sources for the guest kernel, probe and runner
  gcc-riscv64-linux-gnu linux-source-6.1 bc flex bison libssl-dev libelf-dev make
)
PIP_PACKAGES=(onnx numpy scipy)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "deps: missing apt packages; run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

py=${PYTHON:-python3}
pymissing=()
for m in "${PIP_PACKAGES[@]}"; do
  "$py" -c "import $m" 2>/dev/null || pymissing+=("$m")
done
if ((${#pymissing[@]})); then
  if [ "$(id -u)" = 0 ] || [ -n "${VIRTUAL_ENV:-}" ]; then
    echo "deps: pip installing ${pymissing[*]}"
    "$py" -m pip install -q "${pymissing[@]}"
  else
    echo "deps: missing Python modules; run:" >&2
    echo "  $py -m pip install --user ${pymissing[*]}" >&2
    exit 1
  fi
fi

if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "deps: swift found at /opt/swift/usr/bin (add it to PATH)"
  else
    echo "deps: Swift 6 is required; install a Swift 6 toolchain and put it in PATH" >&2
    exit 1
  fi
fi
echo "deps: ok"
