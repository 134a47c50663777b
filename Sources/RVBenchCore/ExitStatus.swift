// SPDX-License-Identifier: GPL-3.0-or-later

/// Process exit codes shared by every rvbench command. `--help` lists them from `meaning`.
///
/// A new code is a case here plus its line in `meaning` (the switch makes the compiler ask for it);
/// an error code reaches it through `RVBenchError.Code.exitStatus`. Nothing else changes.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// Success; for comparisons: no change beyond the noise threshold.
    case success = 0
    /// An unexpected internal failure.
    case failure = 1
    /// At least one comparison is a statistically significant regression.
    case regression = 2
    /// The run itself failed (VM, host or workload errors left no usable result).
    case runFailed = 3
    /// At least one improvement and no regression.
    case improvementOnly = 4
    /// The baseline results are missing or unreadable.
    case baselineMissing = 5
    /// No regression, but at least one primary comparison could neither show a change nor show
    /// equivalence within the threshold (or allowed no test): the data cannot tell.
    case inconclusive = 6
    /// Bad usage or bad input (EX_USAGE).
    case usage = 64
    /// Stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
    case interrupted = 130

    /// What the code means, one line of `--help`.
    public var meaning: String {
        switch self {
        case .success: "success; compare: every primary comparison equivalent (TOST)"
        case .failure: "internal failure"
        case .regression: "regression: one-sided test on boot means, Holm-corrected p < alpha"
        case .runFailed: "run failed; compare: a baseline series missing or failed in the candidate"
        case .improvementOnly: "improvement, every other primary comparison equivalent"
        case .baselineMissing: "baseline missing or unreadable"
        case .inconclusive: "inconclusive: no regression, but not all shown equivalent"
        case .usage: "bad usage or bad input"
        case .interrupted: "interrupted (a run continues with `rvbench resume DIR`)"
        }
    }

    /// One line per code, for `--help` text.
    public static var helpText: String {
        (["exit codes:"] + allCases.map { "  " + String($0.rawValue).padding(toLength: 4, withPad: " ", startingAt: 0) + $0.meaning })
            .joined(separator: "\n")
    }

    /// The exit status of a command that failed with `error`: an `RVBenchError` by its code,
    /// cancellation as interrupted, anything else as an internal failure.
    public init(for error: any Error) {
        switch error {
        case let error as RVBenchError: self = error.code.exitStatus
        case is CancellationError: self = .interrupted
        default: self = .failure
        }
    }
}

extension RVBenchError.Code {
    /// The exit status of a command that fails with this code: the one mapping every command uses.
    public var exitStatus: ExitStatus {
        switch self {
        // What the user gave, or must make first, is wrong or missing: fix it and run again.
        case .badInput, .notFound, .format: .usage
        case .baselineMissing: .baselineMissing
        // The host, a VM, a process or a C library failed the run.
        case .unsupported, .library, .process, .guest: .runFailed
        case .interrupted: .interrupted
        case .internal: .failure
        }
    }
}
