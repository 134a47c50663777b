// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// One candidate series against its baseline series, both grouped by boot.
public struct SeriesPair: Sendable {
    public var workload: String
    public var metric: MetricID
    public var direction: Direction
    public var baselineName: String
    public var candidateName: String
    /// Each inner array holds one boot's iterations, in boot order.
    public var baseline: [[Double]]
    public var candidate: [[Double]]
    public var family: ComparisonFamily

    public init(workload: String, metric: MetricID, direction: Direction, baselineName: String, candidateName: String,
                baseline: [[Double]], candidate: [[Double]], family: ComparisonFamily) {
        self.workload = workload; self.metric = metric; self.direction = direction
        self.baselineName = baselineName; self.candidateName = candidateName
        self.baseline = baseline; self.candidate = candidate; self.family = family
    }
}

/// What comparing one `SeriesPair` gave.
public enum SeriesOutcome: Sendable, Equatable {
    case compared(Comparison)
    /// The pair could not be analysed; the reason says why and what to do.
    case unanalysable(reason: String)

    public var comparison: Comparison? {
        if case .compared(let c) = self { return c }
        return nil
    }
}

extension Statistics {
    /// Compares every pair on boot means, deciding each `ComparisonFamily` with its own Holm correction
    /// (`decideFamily`), and adds the descriptive within-boot figures from pooled iterations.
    ///
    /// A pair with fewer than 2 boots on a side, or a value ≤ 0, is unanalysable and takes no part in
    /// any family; the others are decided without it. When both sides have at least
    /// `BootLevel.twoStageMinimumBoots` boots, a two-stage bootstrap interval at the same level as the
    /// boot-level interval is added.
    public static func compareSeries(_ pairs: [SeriesPair], options: CompareOptions) throws -> [SeriesOutcome] {
        try options.validate()
        let pairs = pairs.map { pair -> SeriesPair in
            var p = pair
            p.baseline = p.baseline.filter { !$0.isEmpty }
            p.candidate = p.candidate.filter { !$0.isEmpty }
            return p
        }
        var outcomes = [SeriesOutcome](repeating: .unanalysable(reason: ""), count: pairs.count)
        var welches: [Int: LogRatioWelch] = [:]
        for (i, pair) in pairs.enumerated() {
            if let reason = unanalysableReason(pair) {
                outcomes[i] = .unanalysable(reason: reason)
                continue
            }
            do {
                welches[i] = try logRatioWelch(baselineBootMeans: bootMeans(pair.baseline),
                                               candidateBootMeans: bootMeans(pair.candidate))
            } catch let error as RVBenchError where error.code == .badInput {
                outcomes[i] = .unanalysable(reason: error.message)
            }
        }
        for family in ComparisonFamily.allCases {
            let members = welches.keys.sorted().filter { pairs[$0].family == family }
            guard !members.isEmpty else { continue }
            let decided = decideFamily(members.map { BootLevelInput(welch: welches[$0]!, direction: pairs[$0].direction,
                                                                    family: family) },
                                       threshold: options.threshold, alpha: options.alpha)
            for (i, d) in zip(members, decided) {
                let pair = pairs[i]
                var o = options
                o.direction = pair.direction
                var c = try compare(baseline: Array(pair.baseline.joined()), candidate: Array(pair.candidate.joined()),
                                    options: o, baselineName: pair.baselineName, candidateName: pair.candidateName,
                                    metric: pair.metric.name, decide: false)
                var bl = d.bootLevel
                if min(pair.baseline.count, pair.candidate.count) >= BootLevel.twoStageMinimumBoots, bl.logRatioSE > 0 {
                    bl.twoStageCI = try nestedRatio(baseline: pair.baseline, candidate: pair.candidate, seed: options.seed,
                                                    resamples: options.resamples, level: bl.ci.level).ci
                }
                c.bootLevel = bl
                c.verdict = d.verdict
                c.adjustedP = d.adjustedP
                outcomes[i] = .compared(c)
            }
        }
        return outcomes
    }

    static func unanalysableReason(_ pair: SeriesPair) -> String? {
        for (groups, name) in [(pair.baseline, pair.baselineName), (pair.candidate, pair.candidateName)] {
            let boots = groups.filter { !$0.isEmpty }.count
            if boots < 2 {
                return "\(name) has \(boots) boot\(boots == 1 ? "" : "s") with values; the boot-level comparison needs at least 2 per side"
            }
            if let bad = groups.joined().first(where: { !$0.isFinite || $0 <= 0 }) {
                return "\(name) has a value of \(bad); a ratio needs finite values > 0"
            }
        }
        return nil
    }
}
