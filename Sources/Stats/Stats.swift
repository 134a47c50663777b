// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// rvbench's statistics: descriptive statistics, two-sample comparisons with bootstrap confidence
/// intervals, Holm's correction, verdicts, outlier flags, a nested bootstrap and a stopping rule.
///
/// Conventions used throughout:
/// - Quantiles are Hyndman & Fan type 7 (linear interpolation between order statistics), which is
///   GSL's `gsl_stats_quantile_from_sorted_data`, numpy's default `linear` method and R's default.
/// - Ratios are candidate / baseline; differences are candidate − baseline.
/// - Every random quantity comes from GSL's taus2 generator seeded from `CompareOptions.seed`, so the same
///   inputs and seed give bit-identical results regardless of how many threads run.
public enum Statistics {}

/// Settings for a two-sample comparison.
public struct CompareOptions: Sendable, Equatable {
    /// Whether smaller or larger values of the metric are better.
    public var direction: Direction
    /// Noise threshold: a ratio within 1 ± threshold is never a regression or an improvement.
    public var threshold: Double
    /// Significance level for the (Holm-corrected) p-value.
    public var alpha: Double
    /// Bootstrap resamples.
    public var resamples: Int
    /// Seed of the bootstrap random number streams.
    public var seed: UInt64
    /// Confidence level of the intervals.
    public var level: Double
    /// Worker threads for the bootstrap; nil uses every active core. Results do not depend on it.
    public var threads: Int?

    public init(direction: Direction = .lowerIsBetter, threshold: Double = 0.01, alpha: Double = 0.05,
                resamples: Int = 10_000, seed: UInt64 = 1, level: Double = 0.95, threads: Int? = nil) {
        self.direction = direction; self.threshold = threshold; self.alpha = alpha
        self.resamples = resamples; self.seed = seed; self.level = level; self.threads = threads
    }

    func validate() throws {
        guard resamples >= 100 else {
            throw RVBenchError(.badInput, "resamples must be at least 100; got \(resamples)")
        }
        guard level > 0, level < 1 else {
            throw RVBenchError(.badInput, "confidence level must lie strictly between 0 and 1; got \(level)")
        }
        guard alpha > 0, alpha < 1 else {
            throw RVBenchError(.badInput, "alpha must lie strictly between 0 and 1; got \(alpha)")
        }
        guard threshold >= 0, threshold < 1, threshold.isFinite else {
            throw RVBenchError(.badInput, "threshold must lie in [0, 1); got \(threshold)")
        }
        if let threads, threads < 1 {
            throw RVBenchError(.badInput, "threads must be at least 1; got \(threads)")
        }
    }
}

extension Statistics {
    /// Checks that a sample set is usable: at least `minimum` values, all finite.
    static func validate(_ xs: [Double], name: String, minimum: Int = 2) throws {
        if xs.isEmpty {
            throw RVBenchError(.badInput, "\(name) is empty; give at least \(minimum) values")
        }
        if xs.count < minimum {
            throw RVBenchError(.badInput, "\(name) has \(xs.count) value\(xs.count == 1 ? "" : "s"); give at least \(minimum)")
        }
        if let i = xs.firstIndex(where: { !$0.isFinite }) {
            throw RVBenchError(.badInput, "\(name) value \(i) is \(xs[i]); give finite numbers only")
        }
    }

    // MARK: Descriptive statistics

    /// Descriptive statistics of one sample set.
    ///
    /// - n, mean (`gsl_stats_mean`), sample standard deviation with an n − 1 denominator
    ///   (`gsl_stats_variance_m`), coefficient of variation stddev / mean (infinite when the mean is 0);
    /// - median and the quantiles p0, p5, p25, p50, p75, p95, p100, all type 7
    ///   (`gsl_stats_quantile_from_sorted_data`; numpy `linear`);
    /// - MAD, unscaled: the median of |x − median|.
    ///
    /// Throws `badInput` for fewer than 2 values or any NaN or infinity.
    public static func describe(_ xs: [Double]) throws -> Descriptive {
        try validate(xs, name: "sample")
        let sorted = GSL.sorted(xs)
        return describe(sorted: sorted)
    }

    /// `describe` for data already validated and sorted ascending.
    static func describe(sorted: [Double]) -> Descriptive {
        let n = sorted.count
        let (mean, sd): (Double, Double) = sorted.withUnsafeBufferPointer { b in
            let m = GSL.mean(b)
            return (m, GSL.variance(b, mean: m).squareRoot())
        }
        let median = GSL.quantile(sorted: sorted, 0.5)
        var dev = sorted.map { abs($0 - median) }
        GSL.sort(&dev)
        let mad = GSL.quantile(sorted: dev, 0.5)
        let cv = sd == 0 ? 0 : (mean == 0 ? Double.infinity : sd / mean)
        let q = Quantiles(p0: sorted[0],
                          p5: GSL.quantile(sorted: sorted, 0.05),
                          p25: GSL.quantile(sorted: sorted, 0.25),
                          p50: median,
                          p75: GSL.quantile(sorted: sorted, 0.75),
                          p95: GSL.quantile(sorted: sorted, 0.95),
                          p100: sorted[n - 1])
        return Descriptive(n: n, mean: mean, stddev: sd, median: median, mad: mad, cv: cv, quantiles: q)
    }

    // MARK: Multiple comparisons and verdicts

    /// Holm–Bonferroni adjusted p-values, in the order given.
    ///
    /// Sort ascending, multiply the i-th smallest (0-based) by m − i, take the running maximum so
    /// the adjusted values keep the order of the raw ones, and cap at 1.
    public static func holm(_ pValues: [Double]) -> [Double] {
        let m = pValues.count
        guard m > 0 else { return [] }
        let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
        var adjusted = [Double](repeating: 1, count: m)
        var running = 0.0
        for (rank, index) in order.enumerated() {
            let scaled = min(1, Double(m - rank) * pValues[index])
            running = max(running, scaled)
            adjusted[index] = running
        }
        return adjusted
    }

    /// Re-decides every comparison that has a boot-level analysis, one Holm family per
    /// `ComparisonFamily` (see `decideFamily`), keeping their order. Each family uses the threshold and
    /// alpha of its first member. A two-stage interval is kept only when its level did not change.
    public static func applyHolm(_ comparisons: [Comparison]) -> [Comparison] {
        var out = comparisons
        for family in ComparisonFamily.allCases {
            let members = comparisons.indices.filter { comparisons[$0].bootLevel?.family == family }
            guard let first = members.first else { continue }
            let inputs = members.map { i -> BootLevelInput in
                let bl = comparisons[i].bootLevel!
                let welch = LogRatioWelch(logRatio: log(bl.ratio), se: bl.logRatioSE, df: bl.df,
                                          bootsBaseline: bl.bootsBaseline, bootsCandidate: bl.bootsCandidate)
                return BootLevelInput(welch: welch, direction: comparisons[i].direction, family: family)
            }
            let decided = decideFamily(inputs, threshold: comparisons[first].threshold, alpha: comparisons[first].alpha)
            for (i, d) in zip(members, decided) {
                var bl = d.bootLevel
                if let old = comparisons[i].bootLevel?.twoStageCI, old.level == bl.ci.level { bl.twoStageCI = old }
                out[i].bootLevel = bl
                out[i].verdict = d.verdict
                out[i].adjustedP = d.adjustedP
            }
        }
        return out
    }

    // MARK: Outliers

    /// Indices (ascending) of values outside Tukey's fences [Q1 − k·IQR, Q3 + k·IQR], with type 7
    /// quartiles. Non-finite values are always flagged. Fewer than 4 finite values flag nothing else.
    public static func tukeyOutliers(_ xs: [Double], k: Double = 1.5) -> [Int] {
        let finite = xs.filter(\.isFinite)
        guard finite.count >= 4 else { return xs.indices.filter { !xs[$0].isFinite } }
        let s = GSL.sorted(finite)
        let q1 = GSL.quantile(sorted: s, 0.25), q3 = GSL.quantile(sorted: s, 0.75)
        let iqr = q3 - q1
        let lo = q1 - k * iqr, hi = q3 + k * iqr
        return xs.indices.filter { !xs[$0].isFinite || xs[$0] < lo || xs[$0] > hi }
    }

    /// Indices (ascending) of values whose modified z-score 0.6745·(x − median) / MAD exceeds
    /// `cutoff` in absolute value (Iglewicz & Hoaglin). When the MAD is 0 the score uses the mean
    /// absolute deviation instead, (x − median) / (1.253314·meanAD); when that is 0 too, nothing is
    /// flagged. Non-finite values are always flagged.
    public static func madOutliers(_ xs: [Double], cutoff: Double = 3.5) -> [Int] {
        let finite = xs.filter(\.isFinite)
        guard finite.count >= 3 else { return xs.indices.filter { !xs[$0].isFinite } }
        let s = GSL.sorted(finite)
        let median = GSL.quantile(sorted: s, 0.5)
        var dev = s.map { abs($0 - median) }
        GSL.sort(&dev)
        let mad = GSL.quantile(sorted: dev, 0.5)
        let score: (Double) -> Double
        if mad > 0 {
            score = { 0.6745 * ($0 - median) / mad }
        } else {
            let meanAD = dev.reduce(0, +) / Double(dev.count)
            guard meanAD > 0 else { return xs.indices.filter { !xs[$0].isFinite } }
            score = { ($0 - median) / (1.253314 * meanAD) }
        }
        return xs.indices.filter { !xs[$0].isFinite || abs(score(xs[$0])) > cutoff }
    }
}
