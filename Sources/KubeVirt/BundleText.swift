// SPDX-License-Identifier: GPL-3.0-or-later

/// The prose and the script a bundle carries.
enum BundleText {
    static func readme(_ m: BundleManifest) -> String {
        let vmis = m.objects.filter { $0.kind == .virtualMachineInstance }.count
        let jobs = m.objects.filter { $0.kind == .job }.count
        var s = """
        # rvbench bundle: \(m.experiment), run \(m.runID)

        Written by `rvbench kubevirt export` (rvbench \(m.rvbenchVersion)) from a spec with SHA-256
        `\(m.spec.sha256)` and seed \(m.seed). It runs the spec's schedule on a Kubernetes cluster
        with riscv64 nodes and KubeVirt: \(vmis) VirtualMachineInstance(s), one per guest boot, and
        \(jobs) Job(s), one per native boot, in namespace `\(m.namespace)`. Every object carries the labels
        `rvbench.io/run`, `rvbench.io/variant`, `rvbench.io/boot`, `rvbench.io/round` and
        `rvbench.io/spec-sha256` (the first 32 hex digits; the annotation of the same name has all 64).

        ## What upstream KubeVirt refuses today

        Upstream KubeVirt does not run riscv64 guests yet. Its VMI admission webhook
        (`ValidateVirtualMachineInstancePerArch`) admits only amd64, arm64 and s390x, so
        `kubectl apply` of these VMIs fails there with "unsupported architecture: riscv64". The
        bundle is for a KubeVirt build that carries riscv64 support (virt-launcher and virt-handler
        images for riscv64, and the webhook change). rvbench's lint found these upstream refusals:


        """
        if m.upstreamRefusals.isEmpty {
            s += "- none (the bundle holds only native Jobs)\n"
        } else {
            for r in m.upstreamRefusals { s += "- `\(r)`\n" }
        }
        if !m.notRun.isEmpty {
            s += "\nVariants of the spec that a cluster cannot run; `collect` reports them as not run:\n\n"
            for n in m.notRun { s += "- `\(n.variant)`: \(n.reason)\n" }
        }
        s += """

        ## Images

        The images are OCI image layouts packed as tar archives under `images/`, built without a
        container daemon. Push them unchanged, so that their digests stay the ones the objects pin:


        """
        for (name, record) in m.images.sorted(by: { $0.key < $1.key }) {
            let ref = m.imageReferences[name] ?? "?"
            let repository = ref.split(separator: "@").first.map(String.init) ?? ref
            s += "    skopeo copy --preserve-digests oci-archive:\(record.archive):\(record.tag) docker://\(repository):\(m.runID)\n"
        }
        if !m.images.isEmpty {
            s += "\n| image | manifest digest | holds |\n|---|---|---|\n"
            for (name, record) in m.images.sorted(by: { $0.key < $1.key }) {
                let holds = record.files.isEmpty ? "the workload root (from \(record.rootFrom ?? "the workload disk"))"
                    : record.files.map { "`\($0.path)`" }.joined(separator: ", ")
                s += "| `\(name)` | `\(record.manifestDigest)` | \(holds) |\n"
            }
        }
        if !m.hostDevices.isEmpty {
            s += """

            ## Host devices

            Passthrough variants ask for a device by resource name. The KubeVirt CR must permit
            it and turn on the HostDevices feature gate; `kubevirt-patch.yaml` does both:

                kubectl patch kubevirt kubevirt -n kubevirt --type merge --patch-file kubevirt-patch.yaml

            A merge patch replaces lists: when the CR already lists feature gates or permitted
            devices, add these entries to its lists instead (`kubectl edit kubevirt -n kubevirt kubevirt`).


            """
            for d in m.hostDevices {
                s += "- `\(d.variant)`: `\(d.resourceName)` for PCI `\(d.pciVendorSelector)`"
                    + (d.note.map { " (\($0))" } ?? "") + "\n"
            }
            s += "\nThe node's device must be bound to vfio-pci.\n"
        }
        s += """

        ## Running it

        In schedule order, one boot at a time, as `rvbench run` does (recommended: boots then do not
        compete for a node, and the interleaving the statistics rely on is kept). The script applies
        each object, waits for it to finish, saves its console or Job log to `logs/NAME.log` and
        deletes it:

            ./run-in-order.sh

        Or everything at once (faster; concurrent boots on one node disturb each other's timings):

            kubectl apply -k .
            # when every VMI is Succeeded or Failed and every Job is done:
            for n in $(awk '$1 == "VirtualMachineInstance" {print $2}' schedule.txt); do
              kubectl logs -n \(m.namespace) -l vm.kubevirt.io/name=$n -c guest-console-log --tail=-1 > logs/$n.log
            done
            for n in $(awk '$1 == "Job" {print $2}' schedule.txt); do
              kubectl logs -n \(m.namespace) job/$n > logs/$n.log
            done

        Fetch the logs before deleting the objects. Then, where rvbench runs:

            rvbench kubevirt collect . logs/*.log -o results/\(m.experiment)-kubevirt

        `collect` reads the logs with the same strict parser and journal rules as `rvbench run` and
        writes a normal results directory (report, compare and reproduce read it). A boot whose log
        is missing, truncated or malformed is recorded as failed, with the reason.

        """
        return s
    }

    static func script(namespace: String) -> String {
        """
        #!/bin/sh
        # SPDX-License-Identifier: GPL-3.0-or-later
        # Runs the bundle's objects one at a time in schedule order (schedule.txt) and saves each
        # boot's console log (VMIs) or output (Jobs) to logs/NAME.log. Needs kubectl and a cluster
        # with riscv64 nodes and a KubeVirt build that admits riscv64 guests.
        #   TIMEOUT=seconds per boot (default 3600)
        set -eu
        cd "$(dirname "$0")"
        ns=\(namespace)
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

        """
    }
}
