// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore
import Stats

/// What the stopping policy sees after a round.
public struct StoppingQuery: Sendable {
    public var spec: ExperimentSpec
    /// Rounds completed so far (every variant booted that many times, or given up).
    public var roundsCompleted: Int
    /// Committed samples of every boot that ended ok, in this and earlier sessions.
    public var samples: [Sample]
    /// Variants that run (not recorded as not run).
    public var variants: [String]

    public init(spec: ExperimentSpec, roundsCompleted: Int, samples: [Sample], variants: [String]) {
        self.spec = spec; self.roundsCompleted = roundsCompleted; self.samples = samples; self.variants = variants
    }

    /// Per-boot means of the primary metric of one variant and workload label, in boot order: the
    /// outer level of the nested design, which the stopping rule looks at.
    public func bootMeans(variant: String, workload label: String) -> [Double] {
        guard let metric = spec.workloads.first(where: { $0.name == label })?.metric else { return [] }
        var byBoot: [Int: (sum: Double, n: Int)] = [:]
        for s in samples where s.variant == variant && s.workload == label && s.metric == metric {
            byBoot[s.boot, default: (0, 0)].sum += s.value
            byBoot[s.boot, default: (0, 0)].n += 1
        }
        return byBoot.keys.sorted().map { byBoot[$0]!.sum / Double(byBoot[$0]!.n) }
    }
}

/// Decides, after the minimum boots, whether another round runs. The runner asks only between
/// `min_boots` and `max_boots` rounds; at `max_boots` it stops regardless.
public protocol StoppingPolicy: Sendable {
    func decide(_ query: StoppingQuery) async -> StopDecision
}

/// Never asks for more than the minimum.
public struct FixedBootCount: StoppingPolicy {
    public init() {}

    public func decide(_ query: StoppingQuery) async -> StopDecision {
        .stop(reason: "the boot count is fixed at \(query.roundsCompleted)")
    }
}

/// A policy from a closure (tests, experiments with custom rules).
public struct ClosureStoppingPolicy: StoppingPolicy {
    let body: @Sendable (StoppingQuery) async -> StopDecision

    public init(_ body: @escaping @Sendable (StoppingQuery) async -> StopDecision) {
        self.body = body
    }

    public func decide(_ query: StoppingQuery) async -> StopDecision { await body(query) }
}

/// The Stats engine's `StoppingRule` applied to every cell the verdicts rest on: for each workload, the
/// boot-level ratio of every other variant against the baseline (log-ratio Welch interval on per-boot means of
/// the primary metric). With only the baseline running, each workload's boot means stand in. Another round
/// runs while any cell's rule says continue.
public struct StoppingRulePolicy: StoppingPolicy {
    public var rule: StoppingRule

    public init(rule: StoppingRule) {
        self.rule = rule
    }

    /// The rule the spec asks for: its target half-width, `min_boots` and `max_boots`. An adaptive run never
    /// stops before `StoppingRule.adaptiveMinimumBoots` (5) boots per variant, whatever `min_boots` says.
    public init(spec: ExperimentSpec) {
        let minimum = spec.repetitions.isAdaptive
            ? max(spec.repetitions.minBoots, StoppingRule.adaptiveMinimumBoots) : spec.repetitions.minBoots
        self.init(rule: StoppingRule(targetRelativeHalfWidth: spec.repetitions.targetCIHalfWidth,
                                     minimum: minimum, maximum: spec.repetitions.maxBoots))
    }

    public func decide(_ query: StoppingQuery) async -> StopDecision {
        var reasons: [String] = []
        let baseline = query.spec.baseline.name
        let candidates = query.variants.filter { $0 != baseline }
        if query.variants.contains(baseline) && !candidates.isEmpty {
            for workload in query.spec.workloads {
                let b = query.bootMeans(variant: baseline, workload: workload.name)
                for variant in candidates {
                    let decision = rule.decide(baselineBootMeans: b,
                                               candidateBootMeans: query.bootMeans(variant: variant, workload: workload.name))
                    if !decision.shouldStop {
                        return .continueRunning(reason: "\(variant)/\(baseline) \(workload.name): \(decision.reason)")
                    }
                    reasons.append(decision.reason)
                }
            }
            return .stop(reason: reasons.first.map { "every ratio is done (first: \($0))" } ?? "nothing to measure")
        }
        for variant in query.variants {
            for workload in query.spec.workloads {
                let decision = rule.decide(query.bootMeans(variant: variant, workload: workload.name))
                if !decision.shouldStop {
                    return .continueRunning(reason: "\(variant)/\(workload.name): \(decision.reason)")
                }
                reasons.append(decision.reason)
            }
        }
        return .stop(reason: reasons.first.map { "every cell is done (first: \($0))" } ?? "nothing to measure")
    }
}
