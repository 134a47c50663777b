// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Logging
import RVBenchCore

/// `rvbench resume DIR`: finish an interrupted experiment.
public struct ResumeCommand: AsyncParsableCommand, RunOutputCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted experiment from its journal.",
        discussion: """
        Replays DIR/journal.jsonl: committed samples are kept, a boot that never ended is re-run from \
        scratch (its partial samples are dropped, so nothing is duplicated), stale domains of the run are \
        destroyed, and the schedule continues. The spec is the one stored in DIR/manifest.json.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "A results directory written by `rvbench run`.")
    public var directory: String

    @OptionGroup public var options: RunOutputOptions

    public init() {}

    public func run() async throws {
        let dir = URL(fileURLWithPath: directory, isDirectory: true)
        let options = self.options
        let outcome = try await withSignalCancellation(resuming: dir) {
            try await RunSession.resume(directory: dir, progress: options.progressSink(), logger: options.logger(),
                                        commandLine: CommandLine.arguments, labProgress: options.labProgress())
        }
        printOutcome(outcome, options: options)
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}
