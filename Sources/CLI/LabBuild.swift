// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab build`.
struct LabBuild: AsyncParsableCommand, LabSubcommand {
    static let configuration = labCommand("build", "Build the lab's kernels, root file systems and images, reusing what is cached.")

    @OptionGroup var options: LabOptions

    @Option(name: .long, help: "The workloads' build output to put on the workload disk (default: $RVBENCH_WORKLOADS or workloads/build/out).")
    var workloads: String?

    @Option(name: .long, help: "Parallel jobs for the kernel build.")
    var jobs: Int = 2

    @Option(name: .long, help: "Also build L0's QEMU: trixie extracts QEMU 10 from Debian 13 (otherwise `lab up --qemu trixie` does it).")
    var qemu: QEMUFlavour = .debian12

    @Option(name: .customLong("l1-kernel"), help: ArgumentHelp(
        "L1's kernel: own (the default: cross-built from Debian sid's linux-source-7.2) or debian (Debian 13's 6.12, a fallback without VFIO).",
        discussion: "own has the RISC-V IOMMU, VFIO type1, NVMe, vdpa_sim_blk and vp_vdpa, and L2 guests run it too; its first build takes about 13 minutes on 2 cores. With debian, L2's kernel is built from Debian 12's linux-source-6.1 (apt-get install linux-source-6.1). Without the option, RVBENCH_L1_KERNEL decides."))
    var l1Kernel: LabL1Kernel?

    func run() async throws {
        let source = try SourceTree.locate()
        let env = ProcessInfo.processInfo.environment
        let out = workloads ?? env["RVBENCH_WORKLOADS"] ?? source.appendingPathComponent("workloads/build/out").path
        let builder = LabBuilder(paths: options.paths, source: source, workloadsOut: URL(fileURLWithPath: out),
                                 jobs: max(1, min(jobs, 2)), l1Kernel: try l1Kernel ?? LabL1Kernel.fromEnvironment(),
                                 logger: options.logger(), progress: options.progress())
        let manifest = try await builder.build()
        labOut("lab build \(manifest.id): \(options.paths.manifest.path)")
        if qemu == .trixie {
            let q = try await builder.buildTrixieQEMU()
            labOut("L0 QEMU: \(q.version) in \(q.root)")
        }
    }
}
