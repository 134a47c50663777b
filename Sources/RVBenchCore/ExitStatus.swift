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
    /// Bad usage or bad input (EX_USAGE).
    case usage = 64

    /// One line per code, for `--help` text.
    public static var helpText: String {
        """
        exit codes:
          0   success / no change
          1   internal failure
          2   regression (a comparison's CI lies beyond the noise threshold and Holm-corrected p < alpha)
          3   run failed
          4   improvement only (no regression)
          5   baseline missing or unreadable
          64  bad usage or bad input
        """
    }
}
