#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs the bundle's objects one at a time in schedule order (schedule.txt) and saves each
# boot's console log (VMIs) or output (Jobs) to logs/NAME.log. Needs kubectl and a cluster
# with riscv64 nodes and a KubeVirt build that admits riscv64 guests.
#   TIMEOUT=seconds per boot (default 3600)
set -eu
cd "$(dirname "$0")"
ns=rvbench
timeout=${TIMEOUT:-3600}
mkdir -p logs
kubectl apply -f namespace.yaml
while read -r kind name file; do
  echo "== $kind $name"
  kubectl apply -f "$file"
  waited=0
  while :; do
    if [ "$kind" = VirtualMachineInstance ]; then
      phase=$(kubectl get vmi -n "$ns" "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
      case "$phase" in Succeeded|Failed) break ;; esac
    else
      done_=$(kubectl get job -n "$ns" "$name" -o jsonpath='{.status.succeeded}{.status.failed}' 2>/dev/null || true)
      [ -n "$done_" ] && break
    fi
    [ "$waited" -ge "$timeout" ] && { echo "timed out after $timeout s" >&2; break; }
    sleep 5
    waited=$((waited + 5))
  done
  if [ "$kind" = VirtualMachineInstance ]; then
    kubectl logs -n "$ns" -l vm.kubevirt.io/name="$name" -c guest-console-log --tail=-1 > "logs/$name.log" || true
    kubectl delete vmi -n "$ns" "$name" --wait=false
  else
    kubectl logs -n "$ns" "job/$name" > "logs/$name.log" || true
    kubectl delete job -n "$ns" "$name" --wait=false
  fi
done < schedule.txt
echo "logs in $(pwd)/logs; next: rvbench kubevirt collect . logs/*.log -o RESULTS"
