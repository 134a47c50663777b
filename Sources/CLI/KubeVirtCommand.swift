// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser

/// `rvbench kubevirt`: the experiment matrix on a Kubernetes cluster with KubeVirt.
public struct KubeVirtCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kubevirt",
        abstract: "Run a spec's schedule on a KubeVirt cluster of riscv64 nodes and read the results back.",
        discussion: """
        `export` writes a bundle (VirtualMachineInstances, Jobs, OCI images, a kustomization and a README); \
        `collect` turns the boots' console and Job logs into a results directory. docs/kubevirt.md \
        describes the mapping and what upstream KubeVirt refuses today.
        """,
        subcommands: [KubeVirtExport.self, KubeVirtCollect.self]
    )

    public init() {}
}
