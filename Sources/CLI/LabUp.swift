// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import RVBenchCore

/// `rvbench lab up`.
struct LabUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the lab and return once its libvirtd answers; a running lab is kept."
    )

    @OptionGroup var options: LabOptions

    @Flag(name: .long, help: ArgumentHelp(
        "Run L0 with QEMU's -icount shift=0,sleep=off: guest time follows instructions executed.",
        discussion: "Repeats agree closely, but memory-system costs (TLB misses, two-stage walks) vanish: this mode shows instruction-path overhead only."))
    var deterministic = false

    @Option(name: .long, help: ArgumentHelp(
        "L0's QEMU: system (Debian 12's 7.2, a libvirt domain) or trixie (QEMU 10 from a Debian 13 root, a supervised process).",
        discussion: "trixie adds AIA (aplic-imsic), Sscofpmf, riscv-iommu-pci, and a deterministic mode that boots."))
    var qemu: LabQEMU = .system

    func run() async throws {
        try await runLab {
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
}

/// `rvbench lab down`.
struct LabDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the lab and remove its domain and run state."
    )

    @OptionGroup var options: LabOptions

    func run() async throws {
        try await runLab {
            let r = try await options.lab().down()
            if r.destroyed.isEmpty && !r.removedState {
                labOut("lab down: nothing was running")
            } else {
                labOut("lab down: destroyed \(r.destroyed.isEmpty ? "no domain" : r.destroyed.joined(separator: ", "))"
                      + (r.removedState ? "; removed the run state" : ""))
            }
        }
    }
}

/// `rvbench lab ssh`.
struct LabSSH: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh",
        abstract: "Run a command in the lab's riscv64 host over SSH, or print the ssh command line."
    )

    @OptionGroup var options: LabOptions

    @Argument(parsing: .captureForPassthrough, help: "The command to run in L1.")
    var command: [String] = []

    func run() async throws {
        try await runLab {
            let lab = options.lab()
            guard let state = LabStateStore(url: options.paths.stateFile).load().state else {
                throw RVBenchError(.notFound, "the lab is not up; run `rvbench lab up`")
            }
            let command = self.command.first == "--" ? Array(self.command.dropFirst()) : self.command
            if command.isEmpty {
                labOut(lab.sshArguments(state).joined(separator: " "))
            } else {
                labOut(try await lab.ssh(state, command.joined(separator: " ")), terminator: "")
            }
        }
    }
}

extension LabQEMU: ExpressibleByArgument {}
extension LabL1Kernel: ExpressibleByArgument {}
