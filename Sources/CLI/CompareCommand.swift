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

    @OptionGroup public var stats: StatsOptions

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
        // A missing baseline throws `.baselineMissing`, which `CommandFailure` turns into exit 5.
        let outcome = try CompareRuns.compare(
            baseline: base, candidate: cand, primaryMetrics: primary, directions: directions,
            options: stats.compareOptions())
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
            throw RVBenchError(.badInput, "the two runs share no workload, variant and metric; compare runs of the same spec")
        }
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}
