// SPDX-License-Identifier: GPL-3.0-or-later

/// Process exit codes shared by every rvbench command. Documented in `--help`.
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

    /// One line per code, for `--help` text.
    public static var helpText: String {
        """
        exit codes:
          0   success; compare: every primary comparison equivalent (TOST)
          1   internal failure
          2   regression: one-sided test on boot means, Holm-corrected p < alpha
          3   run failed; compare: a baseline series missing from the candidate
          4   improvement, every other primary comparison equivalent
          5   baseline missing or unreadable
          6   inconclusive: no regression, but not all shown equivalent
          64  bad usage or bad input
        """
    }
}
