// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Logging
import RVBenchCore

/// `rvbench reproduce DIR`: run an experiment again from its manifest and check agreement.
public struct ReproduceCommand: AsyncParsableCommand, RunOutputCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Re-run an experiment from its manifest and check that the results agree.",
        discussion: """
        Checks the SHA-256 of every artifact recorded in DIR/manifest.json (kernels, initramfs, images, \
        workload catalogue) first and stops on a mismatch unless --allow-changed-artifacts is given. Then \
        runs the stored spec (same seed) into a new results directory and reports, per comparison, whether \
        the new ratio CI overlaps the original's. Exits 0 when all agree, 2 when any disagree.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "A results directory written by `rvbench run`.")
    public var directory: String

    @Flag(name: .long, help: "Run even when an artifact's hash differs from the manifest.")
    public var allowChangedArtifacts = false

    @OptionGroup public var options: RunOutputOptions

    public init() {}

    public func run() async throws {
        let dir = URL(fileURLWithPath: directory, isDirectory: true)
        let options = self.options
        let spec = try RunSession.specOfRun(dir)
        let original = try ResultsDirectory(url: dir).readResults()
        let problems = try RunSession.verifyArtifacts(of: dir)
        for p in problems { FileHandle.standardError.write(Data("rvbench reproduce: artifact changed: \(p)\n".utf8)) }
        if !problems.isEmpty && !allowChangedArtifacts {
            throw RVBenchError(.badInput, "\(problems.count) artifact(s) changed since the run; "
                + "rebuild the recorded artifacts or pass --allow-changed-artifacts")
        }
        if problems.isEmpty { options.say("artifacts: all hashes match the manifest") }
        let again = RunSession.newDirectory(base: dir.deletingLastPathComponent(), name: spec.name + "-reproduce")
        options.say("results directory: \(again.path)")
        let outcome = try await withSignalCancellation(resuming: again) {
            try await RunSession.run(spec: spec, directory: again, progress: options.progressSink(),
                                     logger: options.logger(), commandLine: CommandLine.arguments,
                                     labProgress: options.labProgress())
        }
        var disagree = 0
        for (name, agrees) in CompareRuns.agreement(original: original, again: outcome.results) {
            let word = agrees.map { $0 ? "agrees" : "DISAGREES" } ?? "missing in the new run"
            if agrees != true { disagree += 1 }
            options.say("  \(name): \(word)")
        }
        options.say(disagree == 0 ? "reproduced: every ratio CI overlaps the original" : "\(disagree) comparison(s) did not reproduce")
        if disagree > 0 { throw ExitCode(ExitStatus.regression.rawValue) }
    }
}
