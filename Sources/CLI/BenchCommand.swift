// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser

/// `rvbench bench`: time rvbench's own components against peer tools.
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time rvbench's own components against peer tools.",
        subcommands: [BenchStats.self, BenchLab.self, BenchOverhead.self]
    )

    public init() {}
}
