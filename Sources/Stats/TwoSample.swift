// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// Welch's unequal-variance t-test, candidate − baseline.
public struct WelchResult: Sendable, Equatable {
    /// t statistic of mean(candidate) − mean(baseline).
    public var t: Double
    /// Welch–Satterthwaite degrees of freedom.
    public var df: Double
    /// Two-sided p-value.
    public var p: Double
}

/// The Mann–Whitney U test.
public struct MannWhitneyResult: Sendable, Equatable {
    /// U of the candidate: pairs (c, b) with c > b, plus one half for each tie.
    public var u: Double
    /// Two-sided p-value from the normal approximation with tie and continuity correction.
    public var p: Double
}

extension Statistics {
    /// Welch's t-test. The same quantities as SciPy's `ttest_ind(candidate, baseline, equal_var=False)`.
    /// The p-value is 2·Q_t(|t|; df) from `gsl_cdf_tdist_Q`. When both variances are 0 the test is
    /// degenerate: t is 0 with p = 1 if the means are equal, otherwise ±∞ with p = 0.
    public static func welch(baseline: [Double], candidate: [Double]) throws -> WelchResult {
        try validate(baseline, name: "baseline")
        try validate(candidate, name: "candidate")
        return welchUnchecked(baseline: baseline, candidate: candidate)
    }

    static func welchUnchecked(baseline: [Double], candidate: [Double]) -> WelchResult {
        func mv(_ xs: [Double]) -> (Double, Double) {
            xs.withUnsafeBufferPointer { b in
                let m = GSL.mean(b)
                return (m, GSL.variance(b, mean: m))
            }
        }
        let (mb, vb) = mv(baseline), (mc, vc) = mv(candidate)
        let nb = Double(baseline.count), nc = Double(candidate.count)
        let sb = vb / nb, sc = vc / nc
        let se2 = sb + sc
        guard se2 > 0 else {
            let df = nb + nc - 2
            if mc == mb { return WelchResult(t: 0, df: df, p: 1) }
            return WelchResult(t: mc > mb ? .infinity : -.infinity, df: df, p: 0)
        }
        let t = (mc - mb) / se2.squareRoot()
        let df = se2 * se2 / (sc * sc / (nc - 1) + sb * sb / (nb - 1))
        let p = min(1, 2 * GSL.tQ(abs(t), df: df))
        return WelchResult(t: t, df: df, p: p)
    }

    /// The Mann–Whitney U test with midranks for ties. U is the candidate's; the two-sided p-value
    /// is 2·Q(z) with z = (max(U, n·m − U) − n·m/2 − ½) / σ and the tie-corrected
    /// σ² = n·m/12 · ((N + 1) − Σ(t³ − t) / (N(N − 1))), capped at 1. This is SciPy's
    /// `mannwhitneyu(candidate, baseline, use_continuity=True, method='asymptotic')`.
    public static func mannWhitney(baseline: [Double], candidate: [Double]) throws -> MannWhitneyResult {
        try validate(baseline, name: "baseline", minimum: 1)
        try validate(candidate, name: "candidate", minimum: 1)
        return mannWhitneyUnchecked(baseline: baseline, candidate: candidate)
    }

    static func mannWhitneyUnchecked(baseline: [Double], candidate: [Double]) -> MannWhitneyResult {
        let nc = candidate.count, nb = baseline.count
        let pooled = candidate + baseline
        let order = GSL.sortIndex(pooled)
        let total = pooled.count
        var rankSumCandidate = 0.0
        var tieTerm = 0.0
        var start = 0
        while start < total {
            var end = start + 1
            while end < total && pooled[order[end]] == pooled[order[start]] { end += 1 }
            // Positions start..<end share the midrank (start + 1 + end) / 2 (1-based ranks).
            let midrank = Double(start + 1 + end) / 2
            let t = Double(end - start)
            if end - start > 1 { tieTerm += t * t * t - t }
            for k in start..<end where order[k] < nc { rankSumCandidate += midrank }
            start = end
        }
        let u = rankSumCandidate - Double(nc) * Double(nc + 1) / 2
        let n1 = Double(nc), n2 = Double(nb), n = Double(total)
        let mu = n1 * n2 / 2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        let p: Double
        if variance > 0 {
            let z = (max(u, n1 * n2 - u) - mu - 0.5) / variance.squareRoot()
            p = min(1, max(0, 2 * GSL.normalQ(z)))
        } else {
            p = 1
        }
        return MannWhitneyResult(u: u, p: p)
    }

    /// The Hodges–Lehmann shift: the median of all n·m differences candidate_i − baseline_j
    /// (the mean of the two middle ones when n·m is even).
    ///
    /// Exact and O((n + m)·log n + 64·(n + m)) time, O(n + m) memory: with both samples sorted the
    /// differences form an implicit matrix whose rows increase and columns decrease, so the number of
    /// differences ≤ v is counted in one staircase walk. The k-th smallest difference is the least
    /// double v whose count reaches k; it is found by bisection over the ordered bit patterns of
    /// doubles, which ends after at most 64 steps on exactly one of the computed differences.
    public static func hodgesLehmann(baseline: [Double], candidate: [Double]) throws -> Double {
        try validate(baseline, name: "baseline", minimum: 1)
        try validate(candidate, name: "candidate", minimum: 1)
        return hodgesLehmann(sortedBaseline: GSL.sorted(baseline), sortedCandidate: GSL.sorted(candidate))
    }

    static func hodgesLehmann(sortedBaseline b: [Double], sortedCandidate c: [Double]) -> Double {
        let total = c.count * b.count
        if total % 2 == 1 {
            return kthDifference(b, c, (total + 1) / 2)
        }
        let lo = kthDifference(b, c, total / 2)
        let hi = kthDifference(b, c, total / 2 + 1)
        return (lo + hi) / 2
    }

    /// Number of pairs with c_i − b_j ≤ v, for ascending `b` and `c`.
    static func countDifferences(atMost v: Double, _ b: UnsafeBufferPointer<Double>, _ c: UnsafeBufferPointer<Double>) -> Int {
        let m = b.count
        var j = 0
        var count = 0
        for ci in c {
            while j < m && ci - b[j] > v { j += 1 }
            count += m - j
        }
        return count
    }

    /// The k-th smallest (1-based) of the differences c_i − b_j.
    static func kthDifference(_ b: [Double], _ c: [Double], _ k: Int) -> Double {
        b.withUnsafeBufferPointer { bb in
            c.withUnsafeBufferPointer { cb in
                var lo = orderedKey(cb[0] - bb[bb.count - 1])
                var hi = orderedKey(cb[cb.count - 1] - bb[0])
                while lo < hi {
                    let mid = lo + (hi - lo) / 2
                    if countDifferences(atMost: fromOrderedKey(mid), bb, cb) >= k {
                        hi = mid
                    } else {
                        lo = mid + 1
                    }
                }
                return fromOrderedKey(lo)
            }
        }
    }

    /// Maps doubles to unsigned integers with the same order (−0 just below +0).
    @inline(__always)
    static func orderedKey(_ x: Double) -> UInt64 {
        let bits = x.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    @inline(__always)
    static func fromOrderedKey(_ k: UInt64) -> Double {
        Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k)
    }

    /// Cliff's delta: P(candidate > baseline) − P(candidate < baseline) over all pairs, in [−1, 1].
    /// O((n + m) log) by sorting both samples and merging.
    public static func cliffsDelta(baseline: [Double], candidate: [Double]) throws -> Double {
        try validate(baseline, name: "baseline", minimum: 1)
        try validate(candidate, name: "candidate", minimum: 1)
        return cliffsDelta(sortedBaseline: GSL.sorted(baseline), sortedCandidate: GSL.sorted(candidate))
    }

    static func cliffsDelta(sortedBaseline b: [Double], sortedCandidate c: [Double]) -> Double {
        let m = b.count
        var below = 0      // #{b_j < c_i}, non-decreasing in i
        var atMost = 0     // #{b_j <= c_i}
        var greater = 0    // pairs with c > b
        var less = 0       // pairs with c < b
        for ci in c {
            while below < m && b[below] < ci { below += 1 }
            if atMost < below { atMost = below }
            while atMost < m && b[atMost] <= ci { atMost += 1 }
            greater += below
            less += m - atMost
        }
        return Double(greater - less) / (Double(c.count) * Double(m))
    }
}
