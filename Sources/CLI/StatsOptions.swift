// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import RVBenchCore
import Stats

/// The statistics settings that `compare` and `stats compare` share. An option left out keeps
/// `CompareOptions`' default.
public struct StatsOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Noise threshold as a fraction of the baseline; changes within 1 ± threshold are no change (default 0.01).")
    public var threshold: Double?

    @Option(name: .long, help: "Significance level of the Holm-corrected tests (default 0.05).")
    public var alpha: Double?

    @Option(name: .long, help: "Bootstrap resamples (default 10000).")
    public var resamples: Int?

    @Option(name: .long, help: "Bootstrap seed (default 1).")
    public var seed: UInt64?

    public init() {}

    public func validate() throws {
        if let resamples, resamples < 100 { throw ValidationError("--resamples must be at least 100") }
        if let threshold, !(threshold >= 0 && threshold < 1) { throw ValidationError("--threshold must lie in [0, 1)") }
        if let alpha, !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must lie strictly between 0 and 1") }
    }

    /// The settings, with `CompareOptions`' defaults for what was left out.
    public func compareOptions(direction: Direction = .lowerIsBetter) -> CompareOptions {
        var options = CompareOptions(direction: direction)
        if let threshold { options.threshold = threshold }
        if let alpha { options.alpha = alpha }
        if let resamples { options.resamples = resamples }
        if let seed { options.seed = seed }
        return options
    }
}
