// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import RVBenchCore

/// The root `rvbench` command.
public struct RVBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rvbench",
        abstract: "Measure what virtualization costs on RISC-V.",
        discussion: ExitStatus.helpText,
        version: RVBenchVersion.string,
        subcommands: [StatsCommand.self, BenchCommand.self, ReportCommand.self, LabCommand.self, DoctorCommand.self,
                      RunCommand.self, ResumeCommand.self, CompareCommand.self, ReproduceCommand.self,
                      KubeVirtCommand.self]
    )

    public init() {}
}
