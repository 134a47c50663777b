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

    @OptionGroup public var stats: StatsOptions

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
            // A missing baseline throws `.baselineMissing` (exit 5); other errors map by their code.
            outcome = try CompareRuns.compare(
                baseline: base, candidate: cand, allMetrics: allMetrics,
                overrides: CompareRuns.Overrides(threshold: stats.threshold, alpha: stats.alpha,
                                                 resamples: stats.resamples, seed: stats.seed))
        } catch {
            errors(CommandFailure.message(for: error) + "\n")
            return ExitStatus(for: error)
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
