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
        abstract: "Compare two results directories and report regressions on boot means, Holm-corrected.",
        discussion: """
        The boot is the unit: for every workload and variant, each boot's iterations are averaged and the \
        ratio candidate / baseline is estimated on the logarithms of those boot means (Welch's t, \
        Welch-Satterthwaite degrees of freedom). A regression needs a one-sided test against 1 + threshold \
        (1 - threshold for higher-is-better metrics) to reject after Holm's correction across the primary \
        metric x workload x variant family; equivalent needs TOST to show the ratio within 1 +/- threshold; \
        anything else is inconclusive. Secondary metrics and counters (--all-metrics) and uncounted twins are \
        corrected separately and never decide the exit code. Threshold, alpha and resamples come from the \
        baseline spec's stats block unless flags override them; the summary says which applied. A series the \
        baseline has and the candidate lacks is a failure (exit 3). Prints a Markdown summary (also appended \
        to $GITHUB_STEP_SUMMARY when that is set). Use a fixed boot count (5 or more per variant) for gating \
        runs.

        Gating in CI: `rvbench compare base cand; test $? -ne 2` fails the job only on a regression. The \
        strict form `s=$?; test $s -eq 0 -o $s -eq 4` also fails when the data cannot tell (exit 6) or a \
        series is missing (exit 3).

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "Results directory of the baseline run.")
    public var baseline: String

    @Argument(help: "Results directory of the candidate run (e.g. a patched kernel or QEMU).")
    public var candidate: String

    @Flag(name: .long, help: "Also compare secondary metrics and counters, each family corrected on its own; they never decide the exit code.")
    public var allMetrics = false

    @Option(name: .long, help: "Noise threshold as a fraction of the baseline (default: the baseline spec's, else 0.01).")
    public var threshold: Double?

    @Option(name: .long, help: "Significance level of the Holm-corrected tests (default: the baseline spec's, else 0.05).")
    public var alpha: Double?

    @Option(name: .long, help: "Bootstrap resamples for the descriptive figures (default: the baseline spec's, else 10000).")
    public var resamples: Int?

    @Option(name: .long, help: "Bootstrap seed (default: the baseline spec's seed).")
    public var seed: UInt64?

    @Option(name: .long, help: "Also write the Markdown summary to this file.")
    public var markdown: String?

    public init() {}

    public func run() throws {
        let status = try execute(output: { FileHandle.standardOutput.write(Data($0.utf8)) },
                                 errors: { FileHandle.standardError.write(Data($0.utf8)) })
        if status != .success { throw ExitCode(status.rawValue) }
    }

    /// Runs the comparison and returns the exit status; the summary goes to `output`, problems to `errors`.
    public func execute(output: (String) -> Void, errors: (String) -> Void) throws -> ExitStatus {
        let base = URL(fileURLWithPath: baseline, isDirectory: true)
        let cand = URL(fileURLWithPath: candidate, isDirectory: true)
        let outcome: CompareRuns.Outcome
        do {
            outcome = try CompareRuns.compare(
                baseline: base, candidate: cand, allMetrics: allMetrics,
                overrides: CompareRuns.Overrides(threshold: threshold, alpha: alpha, resamples: resamples, seed: seed))
        } catch let e as RVBenchError {
            errors("rvbench compare: \(e.message)\n")
            let missingBaseline = e.code == .notFound && e.message.contains("baseline")
            if e.code == .notFound && !missingBaseline { return .runFailed }
            return missingBaseline ? .baselineMissing : .usage
        }
        let md = CompareRuns.markdown(outcome, baseline: baseline, candidate: candidate)
        output(md)
        if let markdown {
            try Data(md.utf8).write(to: URL(fileURLWithPath: markdown))
        }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty,
           let handle = FileHandle(forWritingAtPath: summary) {
            handle.seekToEndOfFile()
            handle.write(Data(md.utf8))
            handle.closeFile()
        }
        for line in outcome.missing { errors("rvbench compare: \(line)\n") }
        if outcome.rows.isEmpty && outcome.missing.isEmpty {
            errors("rvbench compare: the two runs share no workload, variant and metric\n")
            return .usage
        }
        return outcome.exitStatus
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
