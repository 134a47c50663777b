// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab up`.
struct LabUp: AsyncParsableCommand, LabSubcommand {
    static let configuration = labCommand("up", "Start the lab and return once its libvirtd answers; a running lab is kept.")

    @OptionGroup var options: LabOptions

    @Flag(name: .long, help: ArgumentHelp(
        "Run L0 with QEMU's -icount shift=0,sleep=off: guest time follows instructions executed.",
        discussion: "Repeats agree closely, but memory-system costs (TLB misses, two-stage walks) vanish: this mode shows instruction-path overhead only."))
    var deterministic = false

    @Option(name: .long, help: ArgumentHelp(
        "L0's QEMU: system (Debian 12's 7.2, a libvirt domain) or trixie (QEMU 10 from a Debian 13 root, a supervised process).",
        discussion: "trixie adds AIA (aplic-imsic), Sscofpmf, riscv-iommu-pci, and a deterministic mode that boots."))
    var qemu: QEMUFlavour = .debian12

    func run() async throws {
        let lab = options.lab()
        let r = try await lab.up(qemu: qemu, deterministic: deterministic)
        if r.reused {
            labOut("lab already up (started \(ISO8601DateFormatter().string(from: r.state.startedAt)))")
        } else {
            labOut(String(format: "lab up: L1 ready in %.1f s, libvirt answered after %.1f s",
                         r.bootSeconds ?? 0, r.libvirtReadySeconds ?? 0))
        }
        if let v = r.state.qemuVersion { labOut("L0: \(v) (process \(r.state.pid ?? 0))") }
        if let v = r.versions {
            labOut("L1: libvirt \(v.libvirtDaemon ?? "?"), \(v.hypervisorType) \(v.hypervisor ?? "?")")
        }
        labOut("libvirt: \(r.state.libvirtURI)")
        labOut("ssh:     \(lab.sshArguments(r.state).joined(separator: " "))")
    }
}

extension QEMUFlavour: ExpressibleByArgument {}
extension LabL1Kernel: ExpressibleByArgument {}
