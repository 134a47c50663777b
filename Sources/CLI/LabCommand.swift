// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser

/// `rvbench lab`: the emulated riscv64 KVM host.
public struct LabCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Build, start and stop the emulated riscv64 KVM host.",
        discussion: """
        The lab is QEMU TCG (L0) on this machine running a Debian 13 riscv64 host (L1) with KVM, \
        libvirtd and an SSH server; guests (L2) run under KVM inside it. Timings from the lab show \
        functional behaviour and relative event counts, not silicon speed.
        """,
        subcommands: [LabBuild.self, LabUp.self, LabDown.self, LabStatus.self, LabSSH.self]
    )

    public init() {}
}
