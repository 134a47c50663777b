// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Welch's t on the logarithms of per-boot means: the boot-level comparison every verdict rests on.
public struct LogRatioWelch: Sendable, Equatable {
    /// mean(log candidate boot means) − mean(log baseline boot means).
    public var logRatio: Double
    /// Its standard error; 0 when neither side varies between boots.
    public var se: Double
    /// Welch–Satterthwaite degrees of freedom (nb + nc − 2 when `se` is 0).
    public var df: Double
    public var bootsBaseline: Int
    public var bootsCandidate: Int

    /// exp(logRatio): the ratio of the geometric means of the boot means.
    public var ratio: Double { exp(logRatio) }

    /// The two-sided interval of the ratio at `level`: exp(logRatio ± t_{(1+level)/2, df}·se).
    public func interval(level: Double) -> Interval {
        guard se > 0 else { return Interval(low: ratio, high: ratio, level: level) }
        let t = GSL.tPinv((1 + level) / 2, df: df)
        return Interval(low: exp(logRatio - t * se), high: exp(logRatio + t * se), level: level)
    }

    /// One-sided minimum-effect p-values against 1 ± threshold and the TOST p-value; nil when `se` is 0.
    ///
    /// - `above`: H0 ratio ≤ 1 + threshold against H1 ratio > 1 + threshold: Q_t((d − ln(1 + θ)) / se).
    /// - `below`: H0 ratio ≥ 1 − threshold against H1 ratio < 1 − threshold: P_t((d − ln(1 − θ)) / se).
    /// - `equivalence`: Schuirmann's two one-sided tests, H0 ratio ≤ 1 − θ or ratio ≥ 1 + θ: the larger
    ///   of Q_t((d − ln(1 − θ)) / se) and P_t((d − ln(1 + θ)) / se).
    public func pValues(threshold: Double) -> (above: Double, below: Double, equivalence: Double)? {
        guard se > 0 else { return nil }
        let upper = log1p(threshold), lower = log1p(-threshold)
        let tUpper = (logRatio - upper) / se, tLower = (logRatio - lower) / se
        let above = GSL.tQ(tUpper, df: df)
        let below = GSL.tQ(-tLower, df: df)
        let equivalence = max(GSL.tQ(tLower, df: df), GSL.tQ(-tUpper, df: df))
        return (above, below, equivalence)
    }
}

extension Statistics {
    /// The mean of each boot's iterations, in the order given.
    public static func bootMeans(_ groups: [[Double]]) -> [Double] {
        groups.map { $0.reduce(0, +) / Double($0.count) }
    }

    /// Welch's t on log boot means (candidate − baseline).
    ///
    /// Throws `badInput` for fewer than 2 boots on a side, a non-finite value or a boot mean ≤ 0
    /// (a ratio needs positive values).
    public static func logRatioWelch(baselineBootMeans b: [Double], candidateBootMeans c: [Double]) throws -> LogRatioWelch {
        for (xs, name) in [(b, "baseline"), (c, "candidate")] {
            guard xs.count >= 2 else {
                throw RVBenchError(.badInput, "\(name) has \(xs.count) boot\(xs.count == 1 ? "" : "s"); a boot-level comparison needs at least 2 per side")
            }
            if let bad = xs.first(where: { !$0.isFinite }) {
                throw RVBenchError(.badInput, "\(name) has a boot mean of \(bad); give finite numbers only")
            }
            if let bad = xs.first(where: { $0 <= 0 }) {
                throw RVBenchError(.badInput, "\(name) has a boot mean of \(bad); a ratio needs values > 0")
            }
        }
        func meanVariance(_ xs: [Double]) -> (Double, Double) {
            let logs = xs.map { log($0) }
            let m = logs.reduce(0, +) / Double(logs.count)
            let v = logs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(logs.count - 1)
            return (m, v)
        }
        let (mb, vb) = meanVariance(b), (mc, vc) = meanVariance(c)
        let nb = Double(b.count), nc = Double(c.count)
        let sb = vb / nb, sc = vc / nc
        let se2 = sb + sc
        let d = mc - mb
        // Variances below this are rounding noise of identical values, not variation.
        guard se2 > 1e-28 else {
            return LogRatioWelch(logRatio: d, se: 0, df: nb + nc - 2, bootsBaseline: b.count, bootsCandidate: c.count)
        }
        let df = se2 * se2 / ((sb * sb) / (nb - 1) + (sc * sc) / (nc - 1))
        return LogRatioWelch(logRatio: d, se: se2.squareRoot(), df: df, bootsBaseline: b.count, bootsCandidate: c.count)
    }

    /// The level at which Holm's step-down procedure tested each hypothesis.
    ///
    /// With the p-values sorted ascending, the hypothesis of rank r (0-based) is tested at α / (m − r) while
    /// every smaller one was rejected; once one is not rejected (rank r*), all later ones count as tested at
    /// α / (m − r*). So a row is rejected exactly when its raw p is below its level, and a two-sided interval
    /// at 1 − 2·level agrees with its one-sided decision.
    public static func holmLevels(_ pValues: [Double], alpha: Double) -> [Double] {
        let m = pValues.count
        let order = pValues.indices.sorted { (pValues[$0], $0) < (pValues[$1], $1) }
        var levels = [Double](repeating: alpha, count: m)
        var stopped: Double? = nil
        for (rank, index) in order.enumerated() {
            if let stopped {
                levels[index] = stopped
                continue
            }
            let level = alpha / Double(m - rank)
            levels[index] = level
            if !(pValues[index] < level) { stopped = level }
        }
        return levels
    }

    /// One comparison's boot-level inputs before the family is corrected.
    public struct BootLevelInput: Sendable {
        public var welch: LogRatioWelch
        public var direction: Direction
        public var family: ComparisonFamily

        public init(welch: LogRatioWelch, direction: Direction, family: ComparisonFamily) {
            self.welch = welch; self.direction = direction; self.family = family
        }
    }

    /// Decides a family of boot-level comparisons.
    ///
    /// For each comparison the directional test is the minimum-effect test on the side its estimate lies
    /// (p = min(pAbove, pBelow): the two alternatives exclude each other); equivalence is TOST. Holm runs
    /// over the directional p-values of the family, and separately over the TOST p-values. A comparison is
    /// a regression or an improvement when its Holm-adjusted directional p is below alpha, else equivalent
    /// when its adjusted TOST p is, else inconclusive. With no variance on either side there is no test.
    /// The reported interval is at 1 − 2·(the Holm level of the deciding test), so it always agrees with
    /// the verdict; an inconclusive row's interval uses the smaller of its two levels.
    public static func decideFamily(_ inputs: [BootLevelInput], threshold: Double, alpha: Double)
        -> [(bootLevel: BootLevel, verdict: Verdict, adjustedP: Double)] {
        let tested = inputs.indices.filter { inputs[$0].welch.se > 0 }
        var pDirectional = [Double](repeating: 1, count: inputs.count)
        var pEquivalence = [Double](repeating: 1, count: inputs.count)
        var pAbove = [Double](repeating: 1, count: inputs.count)
        var pBelow = [Double](repeating: 1, count: inputs.count)
        for i in tested {
            let p = inputs[i].welch.pValues(threshold: threshold)!
            pAbove[i] = p.above; pBelow[i] = p.below
            pDirectional[i] = min(p.above, p.below)
            pEquivalence[i] = p.equivalence
        }
        let directionalP = tested.map { pDirectional[$0] }, equivalenceP = tested.map { pEquivalence[$0] }
        let adjDirectional = holm(directionalP), adjEquivalence = holm(equivalenceP)
        let levelDirectional = holmLevels(directionalP, alpha: alpha)
        let levelEquivalence = holmLevels(equivalenceP, alpha: alpha)

        var out: [(bootLevel: BootLevel, verdict: Verdict, adjustedP: Double)] = []
        for (i, input) in inputs.enumerated() {
            let w = input.welch
            let underpowered = min(w.bootsBaseline, w.bootsCandidate) < BootLevel.adequateBoots
            guard let k = tested.firstIndex(of: i) else {
                let level = 1 - 2 * alpha
                let bl = BootLevel(bootsBaseline: w.bootsBaseline, bootsCandidate: w.bootsCandidate, ratio: w.ratio,
                                   logRatioSE: 0, df: w.df, ci: w.interval(level: level), pAbove: 1, pBelow: 1,
                                   pEquivalence: 1, adjustedPDirectional: 1, adjustedPEquivalence: 1,
                                   family: input.family, familySize: inputs.count, underpowered: underpowered,
                                   noTestReason: "no variance between boots on either side")
                out.append((bl, .noTest, 1))
                continue
            }
            let verdict: Verdict, adjusted: Double, level: Double
            if adjDirectional[k] < alpha {
                let bad = (pAbove[i] <= pBelow[i]) == (input.direction == .lowerIsBetter)
                verdict = bad ? .regression : .improvement
                adjusted = adjDirectional[k]
                level = levelDirectional[k]
            } else if adjEquivalence[k] < alpha {
                verdict = .equivalent
                adjusted = adjEquivalence[k]
                level = levelEquivalence[k]
            } else {
                verdict = .inconclusive
                adjusted = adjDirectional[k]
                level = min(levelDirectional[k], levelEquivalence[k])
            }
            let bl = BootLevel(bootsBaseline: w.bootsBaseline, bootsCandidate: w.bootsCandidate, ratio: w.ratio,
                               logRatioSE: w.se, df: w.df, ci: w.interval(level: 1 - 2 * level),
                               pAbove: pAbove[i], pBelow: pBelow[i], pEquivalence: pEquivalence[i],
                               adjustedPDirectional: adjDirectional[k], adjustedPEquivalence: adjEquivalence[k],
                               family: input.family, familySize: tested.count, underpowered: underpowered)
            out.append((bl, verdict, adjusted))
        }
        return out
    }

    /// Groups values by boot, in ascending boot order: the nested design's outer level.
    public static func groupByBoot(_ samples: [(boot: Int, value: Double)]) -> [[Double]] {
        var boots: [Int: [Double]] = [:]
        for s in samples { boots[s.boot, default: []].append(s.value) }
        return boots.keys.sorted().map { boots[$0]! }
    }
}
