// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser

/// `rvbench stats`: statistics on plain sample files.
public struct StatsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Run rvbench's statistics on plain sample files.",
        subcommands: [StatsCompare.self]
    )

    public init() {}
}
