// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import RVBenchCore
import Stats

/// The direction of a metric, as a command-line value.
public enum MetricDirection: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Smaller values are better (times, cycles).
    case lowerIsBetter = "lower-is-better"
    /// Larger values are better (throughput, frames per second).
    case higherIsBetter = "higher-is-better"

    var direction: Direction {
        switch self {
        case .lowerIsBetter: return .lowerIsBetter
        case .higherIsBetter: return .higherIsBetter
        }
    }
}

/// `rvbench stats compare BASELINE CANDIDATE`.
public struct StatsCompare: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare a candidate sample file with a baseline sample file.",
        discussion: """
        Each file holds one positive number per line; blank lines and # comments are allowed.
        Each number counts as one independent unit (for nested data, give one mean per boot). The verdict \
        comes from Welch's t on the logarithms: a one-sided test against 1 ± threshold decides regression or \
        improvement, TOST decides equivalent, anything else is inconclusive. The ratio of means with seeded \
        percentile and BCa bootstrap CIs and the other figures are descriptive.
        This command exits with 0 (equivalent), 2 (regression), 4 (improvement), 6 (inconclusive or no test) \
        or 64 (bad usage or input).

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "File with the baseline's samples.")
    public var baseline: String

    @Argument(help: "File with the candidate's samples.")
    public var candidate: String

    @Flag(help: "Print one JSON object instead of a table.")
    public var json = false

    @Option(help: "Whether smaller or larger values are better.")
    public var direction: MetricDirection = .lowerIsBetter

    @OptionGroup public var stats: StatsOptions

    public init() {}

    public func run() throws {
        try execute().deliver()
    }

    /// Runs the comparison without touching the process's streams.
    public func execute() -> PrintedOutcome<String> {
        do {
            let base = try NumberList.read(path: baseline, requirePositive: true)
            let cand = try NumberList.read(path: candidate, requirePositive: true)
            let options = stats.compareOptions(direction: direction.direction)
            let report = try CompareReport(baseline: base, candidate: cand, options: options)
            let text = json ? report.json() : report.table(baselineName: baseline, candidateName: candidate)
            let status: ExitStatus
            switch report.comparison.verdict {
            case .regression: status = .regression
            case .improvement: status = .improvementOnly
            case .equivalent: status = .success
            case .inconclusive, .noTest: status = .inconclusive
            }
            return PrintedOutcome(standardOutput: text, standardError: "", status: status)
        } catch {
            return PrintedOutcome(standardOutput: "", standardError: CommandFailure.message(for: error), status: ExitStatus(for: error))
        }
    }
}
