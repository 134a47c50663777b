// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// What the analysis needs to know of one workload's metric: its kind, unit and direction.
public struct MetricInfo: Sendable, Equatable {
    public var kind: MetricKind
    /// The manifest's unit; nil: the samples' own.
    public var unit: String?
    public var direction: Direction
    /// What the metric measures, from the manifest.
    public var description: String?

    public init(kind: MetricKind, unit: String? = nil, direction: Direction, description: String? = nil) {
        self.kind = kind; self.unit = unit; self.direction = direction; self.description = description
    }
}

/// The work a workload does, from its manifest's `work`: which metric counts it and its unit's name.
public struct WorkUnit: Sendable, Equatable {
    public var metric: String
    public var unit: String

    public init(metric: String, unit: String) {
        self.metric = metric; self.unit = unit
    }
}

/// A workload label and metric name: the key of `MetricInfo` lookups.
public struct MetricKey: Hashable, Sendable, Comparable {
    public var workload: String
    public var metric: String

    public init(workload: String, metric: String) {
        self.workload = workload; self.metric = metric
    }

    public static func < (a: MetricKey, b: MetricKey) -> Bool { (a.workload, a.metric) < (b.workload, b.metric) }
}

extension Statistics {
    /// Turns raw samples into per-workload results.
    ///
    /// - Samples are grouped by workload × metric × variant. Results are ordered by workload, then
    ///   metric kind (primary, secondary, verification, counter), then metric; within one, the baseline
    ///   comes first, then the other variants in order of first appearance, then the variants in `notRun`
    ///   (sorted by name) with status `.notRun(reason)`.
    /// - A metric's kind, unit and direction come from `metrics`; a metric not listed there takes the
    ///   kind its samples carry (counters are marked where they are read), else `secondary`.
    /// - Each run variant with at least 2 finite values gets descriptive statistics; NaN and infinite
    ///   values are dropped and counted in `failures`.
    /// - Verification metrics are checked, not compared: `check` says whether every value agrees.
    /// - Every other metric's variants are compared with the baseline on boot means (`compareSeries`).
    ///   Families: primary metrics of counted variants; secondary metrics; counters; primary metrics of
    ///   the variants in `twins` (uncounted twins). Each family has its own Holm correction.
    /// - A comparison that cannot be made (too few boots, values ≤ 0) is left out and the reason is
    ///   added to the candidate's `failures`.
    /// - Primary metrics get Kalibera & Jones design advice per variant; `bootCosts` (seconds a boot
    ///   costs beyond its iterations, per variant) makes the optimal iterations per boot a measured figure.
    public static func analyze(samples: [Sample], baseline: String, metrics: [MetricKey: MetricInfo] = [:],
                               twins: Set<String> = [], notRun: [String: String] = [:],
                               options: CompareOptions = CompareOptions(),
                               bootCosts: [String: Double] = [:], work: [String: WorkUnit] = [:],
                               bootLabel: String = "boot") throws -> [WorkloadResult] {
        try options.validate()
        var bySeries: [MetricKey: [String: [Sample]]] = [:]
        var order: [MetricKey: [String]] = [:]
        var sampleKinds: [MetricKey: MetricKind] = [:]
        for s in samples {
            let key = MetricKey(workload: s.workload, metric: s.metric)
            if bySeries[key, default: [:]][s.variant] == nil { order[key, default: []].append(s.variant) }
            bySeries[key, default: [:]][s.variant, default: []].append(s)
            if let kind = s.kind { sampleKinds[key] = kind }
        }
        func info(_ key: MetricKey) -> MetricInfo {
            metrics[key] ?? MetricInfo(kind: sampleKinds[key] ?? .secondary, direction: .lowerIsBetter)
        }
        let keys = bySeries.keys.sorted { a, b in
            (a.workload, info(a).kind, a.metric) < (b.workload, info(b).kind, b.metric)
        }

        var results: [WorkloadResult] = []
        var pairs: [SeriesPair] = []
        var pairPlace: [(result: Int, variant: String)] = []
        for key in keys {
            let variants = bySeries[key]!
            let metricInfo = info(key)
            let seen = order[key]!
            let runOrder = (seen.contains(baseline) ? [baseline] : []) + seen.filter { $0 != baseline }
            let unit = metricInfo.unit ?? variants[seen[0]]!.first!.unit
            let id = MetricID(name: key.metric, kind: metricInfo.kind, unit: unit)

            var rows: [VariantResult] = []
            var perBoot: [String: [[Double]]] = [:]
            for v in runOrder {
                let ordered = variants[v]!.sorted { ($0.boot, $0.iteration) < ($1.boot, $1.iteration) }
                let finite = ordered.filter { $0.value.isFinite }
                var failures: [String] = []
                let dropped = ordered.count - finite.count
                if dropped > 0 { failures.append("\(dropped) non-finite value\(dropped == 1 ? "" : "s") dropped") }
                var descriptive: Descriptive? = nil
                if finite.count >= 2 {
                    descriptive = describe(sorted: GSL.sorted(finite.map(\.value)))
                    perBoot[v] = groupByBoot(finite.map { ($0.boot, $0.value) })
                } else {
                    failures.append("\(finite.count) usable value\(finite.count == 1 ? "" : "s"); statistics need at least 2")
                }
                rows.append(VariantResult(variant: v, status: .run, descriptive: descriptive, failures: failures))
            }
            for (v, reason) in notRun.sorted(by: { $0.key < $1.key }) where variants[v] == nil {
                rows.append(VariantResult(variant: v, status: .notRun(reason: reason), descriptive: nil))
            }

            var check: VerificationCheck? = nil
            if metricInfo.kind == .verification {
                let values = GSL.sorted(runOrder.flatMap { v in variants[v]!.map(\.value).filter(\.isFinite) })
                var distinct: [Double] = []
                for x in values where distinct.last != x { distinct.append(x) }
                check = VerificationCheck(consistent: distinct.count <= 1, values: Array(distinct.prefix(5)),
                                          distinct: distinct.count)
            } else if let base = perBoot[baseline] {
                for v in runOrder where v != baseline {
                    guard let cand = perBoot[v] else { continue }
                    let family: ComparisonFamily
                    switch metricInfo.kind {
                    case .primary: family = twins.contains(v) || twins.contains(baseline) ? .twin : .primary
                    case .secondary, .verification: family = .secondary
                    case .counter: family = .counter
                    }
                    pairs.append(SeriesPair(workload: key.workload, metric: id, direction: metricInfo.direction,
                                            baselineName: baseline, candidateName: v, baseline: base, candidate: cand,
                                            family: family))
                    pairPlace.append((results.count, v))
                }
            }
            var design: [DesignAdvice] = []
            if metricInfo.kind == .primary {
                for v in runOrder {
                    guard let groups = perBoot[v] else { continue }
                    let iterationCost = iterationSeconds(samples, key: key, variant: v)
                    if let advice = try? designAdvice(variant: v, groups: groups, bootCost: bootCosts[v],
                                                      iterationCost: iterationCost, options: options) {
                        design.append(advice)
                    }
                }
            }
            var result = WorkloadResult(workload: key.workload, metric: key.metric, kind: metricInfo.kind, unit: unit,
                                        direction: metricInfo.direction, baseline: baseline,
                                        variants: rows, comparisons: [], check: check, design: design)
            result.description = metricInfo.description
            results.append(result)
        }

        for i in results.indices where results[i].kind == .counter {
            results[i].perUnit = perUnitOfWork(results[i], samples: samples, work: work, bootLabel: bootLabel)
        }

        let outcomes = try compareSeries(pairs, options: options)
        for (outcome, place) in zip(outcomes, pairPlace) {
            switch outcome {
            case .compared(let c):
                results[place.result].comparisons.append(c)
            case .unanalysable(let reason):
                if let i = results[place.result].variants.firstIndex(where: { $0.variant == place.variant }) {
                    results[place.result].variants[i].failures.append("no comparison with \(baseline): \(reason)")
                }
            }
        }
        return results
    }

    /// A counter per unit of work. A counter recorded per iteration of a workload with a work unit is
    /// divided by the work of the same iteration; a per-boot counter (workload `bootLabel`) is divided by
    /// the work of the boot's measured iterations when exactly one workload with a work unit ran in it.
    static func perUnitOfWork(_ result: WorkloadResult, samples: [Sample], work: [String: WorkUnit],
                              bootLabel: String) -> PerUnitOfWork? {
        struct Cell: Hashable { var variant: String; var boot: Int; var iteration: Int }
        let counter = samples.filter { $0.workload == result.workload && $0.metric == result.metric && $0.value.isFinite }
        let variants = result.variants.filter { $0.status == .run }.map(\.variant)
        if let unit = work[result.workload] {
            var done: [Cell: Double] = [:]
            for s in samples where s.workload == result.workload && s.metric == unit.metric && s.value > 0 {
                done[Cell(variant: s.variant, boot: s.boot, iteration: s.iteration)] = s.value
            }
            var values: [PerUnitOfWork.Value] = []
            for v in variants {
                let ratios = counter.filter { $0.variant == v }.compactMap { s in
                    done[Cell(variant: v, boot: s.boot, iteration: s.iteration)].map { s.value / $0 }
                }
                if !ratios.isEmpty { values.append(.init(variant: v, value: ratios.reduce(0, +) / Double(ratios.count))) }
            }
            return values.isEmpty ? nil : PerUnitOfWork(unit: unit.unit, workMetric: unit.metric, basis: "the counter over the work of the same iteration", values: values)
        }
        guard result.workload == bootLabel else { return nil }
        let ran = Set(samples.filter { $0.workload != bootLabel }.map(\.workload))
        guard ran.count == 1, let only = ran.first, let unit = work[only] else { return nil }
        var values: [PerUnitOfWork.Value] = []
        for v in variants {
            var perBoot: [Double] = []
            for s in counter where s.variant == v {
                let total = samples.filter { $0.variant == v && $0.boot == s.boot && $0.workload == only && $0.metric == unit.metric }
                    .reduce(0) { $0 + $1.value }
                if total > 0 { perBoot.append(s.value / total) }
            }
            if !perBoot.isEmpty { values.append(.init(variant: v, value: perBoot.reduce(0, +) / Double(perBoot.count))) }
        }
        return values.isEmpty ? nil : PerUnitOfWork(unit: unit.unit, workMetric: unit.metric,
                                                    basis: "per boot, over the measured iterations' work (the counter also covers the boot and the warm-up)",
                                                    values: values)
    }

    /// Seconds one iteration of this workload takes for `variant`: the mean of its `wall_ns` samples,
    /// or of the metric itself when it is a time in ns; nil when neither is there.
    static func iterationSeconds(_ samples: [Sample], key: MetricKey, variant: String) -> Double? {
        let wall = samples.filter { $0.workload == key.workload && $0.variant == variant && $0.metric == "wall_ns" }
            .map(\.value).filter { $0.isFinite && $0 > 0 }
        guard !wall.isEmpty else { return nil }
        return wall.reduce(0, +) / Double(wall.count) / 1e9
    }

    /// Kalibera & Jones advice for one variant from `nested`: variance components, the cost-optimal
    /// iterations per boot when both costs are known, and the boots per side for a boot-level ratio
    /// interval of ±threshold (at least 1%) at that design.
    static func designAdvice(variant: String, groups: [[Double]], bootCost: Double?, iterationCost: Double?,
                             options: CompareOptions) throws -> DesignAdvice {
        let target = max(options.threshold, 0.01)
        let costsKnown = (bootCost ?? 0) > 0 && (iterationCost ?? 0) > 0
        let summary = try nested(groups: groups, seed: options.seed, resamples: 100, level: options.level,
                                 bootCost: costsKnown ? bootCost! : 1, iterationCost: costsKnown ? iterationCost! : 1,
                                 targetRelativeHalfWidth: target)
        // A ratio's log variance is the sum of both sides', so each side needs twice the boots that
        // the same half-width of one mean would.
        let bootsPerSide = max(2, 2 * summary.bootsForTarget)
        return DesignAdvice(variant: variant, boots: summary.boots, iterationsPerBoot: summary.iterationsPerBoot,
                            withinBootVariance: summary.withinBootVariance,
                            betweenBootVariance: summary.betweenBootVariance,
                            bootCostSeconds: bootCost, iterationCostSeconds: iterationCost,
                            optimalIterationsPerBoot: costsKnown ? summary.optimalIterationsPerBoot : nil,
                            bootsForTarget: bootsPerSide, targetRelativeHalfWidth: target)
    }
}
