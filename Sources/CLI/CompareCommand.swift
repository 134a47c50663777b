// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Report
import RVBenchCore
import Stats

/// `rvbench compare BASELINE_DIR CANDIDATE_DIR`: regression check between two runs.
public struct CompareCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two results directories and report regressions, Holm-corrected.",
        discussion: """
        For every workload, variant and metric measured in both runs, compares the candidate's samples \
        with the baseline's: ratio of means with a seeded bootstrap 95% CI, Welch's t and a verdict. A \
        regression needs the whole ratio CI beyond the noise threshold and the Holm-corrected p below \
        alpha. Prints a Markdown summary (also appended to $GITHUB_STEP_SUMMARY when that is set).

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "Results directory of the baseline run.")
    public var baseline: String

    @Argument(help: "Results directory of the candidate run (e.g. a patched kernel or QEMU).")
    public var candidate: String

    @Flag(name: .long, help: "Compare every metric, not only each workload's primary metric.")
    public var allMetrics = false

    @Option(name: .long, help: "Noise threshold as a fraction of the baseline.")
    public var threshold: Double = 0.01

    @Option(name: .long, help: "Significance level for the Holm-corrected p-values.")
    public var alpha: Double = 0.05

    @Option(name: .long, help: "Bootstrap resamples.")
    public var resamples: Int = 10_000

    @Option(name: .long, help: "Bootstrap seed.")
    public var seed: UInt64 = 1

    @Option(name: .long, help: "Also write the Markdown summary to this file.")
    public var markdown: String?

    public init() {}

    public func run() throws {
        let base = URL(fileURLWithPath: baseline, isDirectory: true)
        let cand = URL(fileURLWithPath: candidate, isDirectory: true)
        var primary: [String: String]? = nil
        var directions: [String: Direction] = [:]
        if let spec = try? RunSession.specOfRun(base) {
            for w in spec.workloads { directions[w.metric] = w.direction }
            if !allMetrics { primary = Dictionary(spec.workloads.map { ($0.name, $0.metric) }, uniquingKeysWith: { a, _ in a }) }
        }
        let outcome: CompareRuns.Outcome
        do {
            outcome = try CompareRuns.compare(
                baseline: base, candidate: cand, primaryMetrics: primary, directions: directions,
                options: CompareOptions(threshold: threshold, alpha: alpha, resamples: resamples, seed: seed))
        } catch let e as RVBenchError {
            FileHandle.standardError.write(Data("rvbench compare: \(e.message)\n".utf8))
            let missingBaseline = e.code == .notFound && e.message.contains("baseline")
            throw ExitCode((missingBaseline ? ExitStatus.baselineMissing : ExitStatus.usage).rawValue)
        }
        let md = CompareRuns.markdown(outcome, baseline: baseline, candidate: candidate)
        FileHandle.standardOutput.write(Data(md.utf8))
        if let markdown {
            try Data(md.utf8).write(to: URL(fileURLWithPath: markdown))
        }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty,
           let handle = FileHandle(forWritingAtPath: summary) {
            handle.seekToEndOfFile()
            handle.write(Data(md.utf8))
            handle.closeFile()
        }
        if outcome.rows.isEmpty {
            FileHandle.standardError.write(Data("rvbench compare: the two runs share no workload, variant and metric\n".utf8))
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}

/// `rvbench reproduce DIR`: run an experiment again from its manifest and check agreement.
public struct ReproduceCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Re-run an experiment from its manifest and check that the results agree.",
        discussion: """
        Checks the SHA-256 of every artifact recorded in DIR/manifest.json (kernels, initramfs, images, \
        workload catalogue) first and stops on a mismatch unless --allow-changed-artifacts is given. Then \
        runs the stored spec (same seed) into a new results directory and reports, per comparison, whether \
        the new ratio CI overlaps the original's. Exits 0 when all agree, 2 when any disagree.
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
        let spec: ExperimentSpec
        let original: ResultsDocument
        do {
            spec = try RunSession.specOfRun(dir)
            original = try ResultsDirectory(url: dir).readResults()
            let problems = try RunSession.verifyArtifacts(of: dir)
            for p in problems { FileHandle.standardError.write(Data("rvbench reproduce: artifact changed: \(p)\n".utf8)) }
            if !problems.isEmpty && !allowChangedArtifacts {
                FileHandle.standardError.write(Data("rvbench reproduce: rebuild the recorded artifacts or pass --allow-changed-artifacts\n".utf8))
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            if problems.isEmpty { options.say("artifacts: all hashes match the manifest") }
        } catch let e as ExitCode {
            throw e
        } catch {
            throw exitForRunError(error, directory: nil)
        }
        let again = RunSession.newDirectory(base: dir.deletingLastPathComponent(), name: spec.name + "-reproduce")
        options.say("results directory: \(again.path)")
        let outcome: RunOutcome
        do {
            outcome = try await withSignalCancellation {
                try await RunSession.run(spec: spec, directory: again, progress: options.progressSink(),
                                         logger: options.logger(), commandLine: CommandLine.arguments,
                                         labProgress: options.labProgress())
            }
        } catch {
            throw exitForRunError(error, directory: again)
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
