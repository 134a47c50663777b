// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Logging
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

    /// Parses the command line, bootstraps logging at the level the command's `--verbose`/`--quiet`
    /// ask for (the only place that does), runs the command, and exits through `CommandFailure`.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            let level = (command as? any LoggingCommand)?.logLevel ?? VerbosityOptions.defaultLevel
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: CommandFailure.exitError(for: error))
        }
    }
}
