// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// Variance components and repetition advice for samples nested as boot → iteration
/// (Kalibera & Jones, "Rigorous Benchmarking in Reasonable Time", ISMM 2013).
public struct NestedSummary: Codable, Sendable, Equatable {
    /// Number of boots (the outer level).
    public var boots: Int
    /// Mean number of iterations per boot (the inner level).
    public var iterationsPerBoot: Double
    /// Grand mean of all iterations.
    public var mean: Double
    /// Percentile CI of the grand mean from a two-level bootstrap (boots, then iterations in each).
    public var meanCI: Interval
    /// S₁²: pooled variance of iterations within a boot, Σᵢ Σⱼ (yᵢⱼ − ȳᵢ)² / Σᵢ (nᵢ − 1).
    public var withinBootVariance: Double
    /// S₂²: variance of the boot means (n − 1 denominator).
    public var bootMeansVariance: Double
    /// T₂² = S₂² − S₁²/n̄: the variance that boots add beyond iteration noise (may be ≤ 0 when boots do not differ).
    public var betweenBootVariance: Double
    /// Relative cost of one boot (set-up, warm-up) and of one iteration, as given.
    public var bootCost: Double
    public var iterationCost: Double
    /// K&J's optimal iterations per boot, ⌈√((bootCost / iterationCost) · T₁² / T₂²)⌉; nil when
    /// T₂² ≤ 0 (no boot-level variance was detected, so more iterations per boot are always cheaper).
    public var optimalIterationsPerBoot: Int?
    /// Boots needed for a t-interval half-width of `targetRelativeHalfWidth`·mean when each boot runs
    /// `optimalIterationsPerBoot` iterations (or the observed mean count when that is nil), using
    /// Var(grand mean) ≈ (T₂² + T₁²/n) / boots.
    public var bootsForTarget: Int
    public var targetRelativeHalfWidth: Double
}

extension Statistics {
    /// Summarises samples grouped per boot (each inner array holds one boot's iterations).
    ///
    /// Needs at least 2 boots, no empty boot, at least one boot with 2 or more iterations and finite
    /// values. With unequal iteration counts the mean count n̄ stands in for K&J's balanced n.
    public static func nested(groups: [[Double]], seed: UInt64 = 1, resamples: Int = 10_000,
                              level: Double = 0.95, bootCost: Double = 1, iterationCost: Double = 1,
                              targetRelativeHalfWidth: Double = 0.02) throws -> NestedSummary {
        try validateNested(groups, name: "samples")
        guard bootCost > 0, iterationCost > 0, bootCost.isFinite, iterationCost.isFinite else {
            throw RVBenchError(.badInput, "bootCost and iterationCost must be positive; got \(bootCost) and \(iterationCost)")
        }
        guard resamples >= 100 else {
            throw RVBenchError(.badInput, "resamples must be at least 100; got \(resamples)")
        }
        let boots = groups.count
        let means = groups.map { $0.reduce(0, +) / Double($0.count) }
        var ss = 0.0, df = 0
        for (g, m) in zip(groups, means) {
            for y in g { ss += (y - m) * (y - m) }
            df += g.count - 1
        }
        let s1 = ss / Double(df)
        let meanOfMeans = means.reduce(0, +) / Double(boots)
        let s2 = means.reduce(0) { $0 + ($1 - meanOfMeans) * ($1 - meanOfMeans) } / Double(boots - 1)
        let nBar = Double(groups.reduce(0) { $0 + $1.count }) / Double(boots)
        let t2 = s2 - s1 / nBar

        var optimal: Int? = nil
        if t2 > 0 {
            let r = ((bootCost / iterationCost) * s1 / t2).squareRoot()
            optimal = max(1, Int(r.rounded(.up)))
        }
        let total = groups.reduce(0) { $0 + $1.count }
        let grandMean = groups.reduce(0) { $0 + $1.reduce(0, +) } / Double(total)

        let perBoot = optimal.map(Double.init) ?? nBar
        let varianceOfMean = max(t2, 0) + s1 / perBoot
        let z = GSL.normalPinv((1 + level) / 2)
        var bootsNeeded = 2
        if grandMean != 0 && targetRelativeHalfWidth > 0 {
            // Iterate because the t quantile depends on the number of boots.
            var k = 2
            for _ in 0..<20 {
                let q = k > 1 ? GSL.tPinv((1 + level) / 2, df: Double(k - 1)) : z
                let next = max(2, Int((q * q * varianceOfMean / pow2(targetRelativeHalfWidth * grandMean)).rounded(.up)))
                if next == k { break }
                k = next
            }
            bootsNeeded = k
        }

        let rng = try GSL.Random(seed: seed)
        var distribution = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples { distribution[r] = nestedResampleMean(groups, rng) }
        GSL.sort(&distribution)
        return NestedSummary(
            boots: boots, iterationsPerBoot: nBar, mean: grandMean,
            meanCI: Bootstrap.percentile(sortedDistribution: distribution, level: level),
            withinBootVariance: s1, bootMeansVariance: s2, betweenBootVariance: t2,
            bootCost: bootCost, iterationCost: iterationCost,
            optimalIterationsPerBoot: optimal, bootsForTarget: bootsNeeded,
            targetRelativeHalfWidth: targetRelativeHalfWidth)
    }

    /// Ratio of grand means (candidate / baseline) with a percentile CI from a two-level bootstrap:
    /// each replicate draws boots with replacement, then iterations with replacement inside each drawn
    /// boot, for both samples independently.
    public static func nestedRatio(baseline: [[Double]], candidate: [[Double]], seed: UInt64 = 1,
                                   resamples: Int = 10_000, level: Double = 0.95) throws -> (estimate: Double, ci: Interval) {
        try validateNested(baseline, name: "baseline", requireWithin: false)
        try validateNested(candidate, name: "candidate", requireWithin: false)
        for (groups, name) in [(baseline, "baseline"), (candidate, "candidate")] {
            if groups.joined().contains(where: { $0 <= 0 }) {
                throw RVBenchError(.badInput, "\(name) has a value ≤ 0; ratios need positive values")
            }
        }
        guard resamples >= 100 else {
            throw RVBenchError(.badInput, "resamples must be at least 100; got \(resamples)")
        }
        guard level > 0, level < 1 else {
            throw RVBenchError(.badInput, "confidence level must lie strictly between 0 and 1; got \(level)")
        }
        func grand(_ g: [[Double]]) -> Double {
            g.reduce(0) { $0 + $1.reduce(0, +) } / Double(g.reduce(0) { $0 + $1.count })
        }
        let estimate = grand(candidate) / grand(baseline)
        let rng = try GSL.Random(seed: seed)
        var distribution = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            let mb = nestedResampleMean(baseline, rng)
            let mc = nestedResampleMean(candidate, rng)
            distribution[r] = mc / mb
        }
        GSL.sort(&distribution)
        return (estimate, Bootstrap.percentile(sortedDistribution: distribution, level: level))
    }

    static func validateNested(_ groups: [[Double]], name: String, requireWithin: Bool = true) throws {
        guard groups.count >= 2 else {
            throw RVBenchError(.badInput, "\(name) has \(groups.count) boot\(groups.count == 1 ? "" : "s"); the nested bootstrap needs at least 2")
        }
        if let i = groups.firstIndex(where: \.isEmpty) {
            throw RVBenchError(.badInput, "\(name) boot \(i) has no iterations; drop it or rerun it")
        }
        if requireWithin && !groups.contains(where: { $0.count >= 2 }) {
            throw RVBenchError(.badInput, "\(name) has one iteration per boot; run at least 2 iterations in some boot to estimate within-boot variance")
        }
        if groups.joined().contains(where: { !$0.isFinite }) {
            throw RVBenchError(.badInput, "\(name) contains NaN or infinity; give finite numbers only")
        }
    }

    /// Mean of one two-level resample: boots drawn with replacement, then iterations with replacement
    /// within each drawn boot (at that boot's size).
    static func nestedResampleMean(_ groups: [[Double]], _ rng: GSL.Random) -> Double {
        var sum = 0.0
        var count = 0
        let k = UInt32(groups.count)
        for _ in 0..<groups.count {
            let g = groups[rng.index(k)]
            let n = UInt32(g.count)
            for _ in 0..<g.count { sum += g[rng.index(n)] }
            count += g.count
        }
        return sum / Double(count)
    }

    @inline(__always) static func pow2(_ x: Double) -> Double { x * x }
}
