#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what rvbench needs on Debian 12. The apt packages are listed in
# scripts/debian12-packages.txt, the only list of them. As root they are installed (without
# Recommends, so the list must name everything); otherwise the exact command is printed.
# Also checks the Python modules and the Swift toolchain.
#   RVBENCH_DEPS_NO_SWIFT=1   skip the Swift check (the fresh-install test's root has no Swift)
set -euo pipefail
cd "$(dirname "$0")/.."

list=scripts/debian12-packages.txt
mapfile -t APT_PACKAGES < <(sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$list")
PIP_PACKAGES=(onnx numpy scipy)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${#missing[@]} apt package(s): ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "deps: missing apt packages (from $list); run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

py=${PYTHON:-python3}
pymissing=()
for m in "${PIP_PACKAGES[@]}"; do
  "$py" -c "import $m" 2>/dev/null || pymissing+=("$m")
done
if ((${#pymissing[@]})); then
  # Debian's own Python refuses pip installs outside a venv (PEP 668) unless told otherwise.
  pipflags=(-q)
  if "$py" -m pip install --help 2>/dev/null | grep -q -- --break-system-packages; then
    pipflags+=(--break-system-packages)
  fi
  if [ "$(id -u)" = 0 ] || [ -n "${VIRTUAL_ENV:-}" ]; then
    echo "deps: pip installing ${pymissing[*]}"
    "$py" -m pip install "${pipflags[@]}" "${pymissing[@]}"
  else
    echo "deps: missing Python modules; run:" >&2
    echo "  $py -m pip install --user ${pipflags[*]} ${pymissing[*]}" >&2
    exit 1
  fi
fi

if [ "${RVBENCH_DEPS_NO_SWIFT:-0}" != 1 ] && ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "deps: swift found at /opt/swift/usr/bin (the Makefile adds it to PATH)"
  else
    echo "deps: Swift 6 is required; install a Swift 6 toolchain and put it in PATH" >&2
    exit 1
  fi
fi
echo "deps: ok"
