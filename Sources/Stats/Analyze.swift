// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

extension Statistics {
    /// Turns raw samples into per-workload results.
    ///
    /// - Samples are grouped by workload × metric × variant. Results are ordered by workload, then
    ///   metric; within one, the baseline comes first, then the other variants in order of first
    ///   appearance, then the variants in `notRun` (sorted by name) with status `.notRun(reason)`.
    /// - Each run variant with at least 2 finite values gets descriptive statistics; NaN and infinite
    ///   values are dropped and counted in `failures`.
    /// - Every other variant is compared with the baseline (`compare`). When both sides span at least
    ///   2 boots, `ratioOfMeansCI` is replaced by the two-level (boot → iteration) bootstrap CI of
    ///   `nestedRatio`, which accounts for boot-to-boot variation; every other field stays flat.
    /// - Holm's correction runs across all comparisons of all workloads and metrics, and the
    ///   verdicts follow from the corrected p-values.
    /// - A comparison that cannot be made (too few values, values ≤ 0) is left out and the reason is
    ///   added to the candidate's `failures`.
    public static func analyze(samples: [Sample], baseline: String, directions: [String: Direction] = [:],
                               notRun: [String: String] = [:], options: CompareOptions = CompareOptions()) throws -> [WorkloadResult] {
        try options.validate()
        struct Key: Hashable, Comparable {
            var workload: String
            var metric: String
            static func < (a: Key, b: Key) -> Bool { (a.workload, a.metric) < (b.workload, b.metric) }
        }
        var bySeries: [Key: [String: [Sample]]] = [:]
        var order: [Key: [String]] = [:]
        for s in samples {
            let key = Key(workload: s.workload, metric: s.metric)
            if bySeries[key, default: [:]][s.variant] == nil { order[key, default: []].append(s.variant) }
            bySeries[key, default: [:]][s.variant, default: []].append(s)
        }

        var results: [WorkloadResult] = []
        for key in bySeries.keys.sorted() {
            let variants = bySeries[key]!
            let direction = directions[key.metric] ?? .lowerIsBetter
            let seen = order[key]!
            let runOrder = (seen.contains(baseline) ? [baseline] : []) + seen.filter { $0 != baseline }
            let unit = variants[seen[0]]!.first!.unit

            var rows: [VariantResult] = []
            var flat: [String: [Double]] = [:]
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
                    flat[v] = finite.map(\.value)
                    var boots: [Int: [Double]] = [:]
                    for s in finite { boots[s.boot, default: []].append(s.value) }
                    perBoot[v] = boots.keys.sorted().map { boots[$0]! }
                } else {
                    failures.append("\(finite.count) usable value\(finite.count == 1 ? "" : "s"); statistics need at least 2")
                }
                rows.append(VariantResult(variant: v, status: .run, descriptive: descriptive, failures: failures))
            }
            for (v, reason) in notRun.sorted(by: { $0.key < $1.key }) where variants[v] == nil {
                rows.append(VariantResult(variant: v, status: .notRun(reason: reason), descriptive: nil))
            }

            var comparisons: [Comparison] = []
            if let base = flat[baseline] {
                for v in runOrder where v != baseline {
                    guard let cand = flat[v] else { continue }
                    var o = options
                    o.direction = direction
                    do {
                        var c = try compare(baseline: base, candidate: cand, options: o,
                                            baselineName: baseline, candidateName: v, metric: key.metric)
                        if let bb = perBoot[baseline], let cb = perBoot[v], bb.count >= 2, cb.count >= 2 {
                            c.ratioOfMeansCI = try nestedRatio(baseline: bb, candidate: cb, seed: o.seed,
                                                               resamples: o.resamples, level: o.level).ci
                        }
                        comparisons.append(c)
                    } catch let error as RVBenchError where error.code == .badInput {
                        if let i = rows.firstIndex(where: { $0.variant == v }) {
                            rows[i].failures.append("no comparison with \(baseline): \(error.message)")
                        }
                    }
                }
            }
            results.append(WorkloadResult(workload: key.workload, metric: key.metric, unit: unit,
                                          direction: direction, baseline: baseline,
                                          variants: rows, comparisons: comparisons))
        }

        // Holm across the whole family, in result order.
        let corrected = applyHolm(results.flatMap(\.comparisons))
        var next = 0
        for i in results.indices {
            let count = results[i].comparisons.count
            results[i].comparisons = Array(corrected[next..<(next + count)])
            next += count
        }
        return results
    }
}
