// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// One variant × workload pair of the experiment.
public struct Cell: Sendable, Equatable {
    public var variant: VariantSpec
    public var workload: WorkloadSpec
    /// The name written into samples: the workload's name.
    public var label: String
    /// Host perf events counted in this cell (empty: none, also for an uncounted twin variant).
    public var counters: [String]
}

/// The matrix of variants × workloads.
public enum Matrix {
    /// The suffix of the uncounted twin of a variant when `measure_counter_overhead` is set.
    public static let uncountedSuffix = ExperimentSpec.uncountedSuffix

    /// Every cell, variants in spec order (uncounted twins last), then workloads in spec order.
    public static func expand(_ spec: ExperimentSpec) -> [Cell] {
        spec.variants.flatMap { variant in
            instances(spec, variant: variant).map {
                Cell(variant: variant, workload: $0.workload, label: $0.label, counters: $0.counters)
            }
        }
    }

    /// The workload runs of one boot of `variant`, in spec order (before the per-boot shuffle).
    static func instances(_ spec: ExperimentSpec, variant: VariantSpec) -> [(workload: WorkloadSpec, label: String, counters: [String])] {
        spec.workloads.map { (workload: $0, label: $0.name, counters: variant.counted ? spec.counters : []) }
    }
}

/// A workload as one boot runs it: `warmup` unrecorded iterations, then `iterations` measured ones
/// numbered 0 ..< iterations.
public struct ScheduledWorkload: Sendable, Equatable {
    public var workload: WorkloadSpec
    /// The `workload` field of this run's samples (see `Cell.label`).
    public var label: String
    public var counters: [String]
    public var warmup: Int
    public var iterations: Int

    public init(workload: WorkloadSpec, label: String, counters: [String], warmup: Int, iterations: Int) {
        self.workload = workload; self.label = label; self.counters = counters
        self.warmup = warmup; self.iterations = iterations
    }
}

/// Identifies a boot of a variant: the `variant` and `boot` fields of its samples.
public struct BootKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var variant: String
    /// 0-based boot index within the variant; equal to the round.
    public var boot: Int

    public init(variant: String, boot: Int) {
        self.variant = variant; self.boot = boot
    }

    public static func < (a: BootKey, b: BootKey) -> Bool { (a.boot, a.variant) < (b.boot, b.variant) }

    public var description: String { "\(variant) boot \(boot)" }
}

/// One boot of one variant, with the workloads it runs in order.
public struct ScheduledBoot: Sendable, Equatable {
    /// 0-based position in the whole schedule: `round × variants + position in the round`.
    public var sequence: Int
    /// 0-based round; each round boots every variant once.
    public var round: Int
    public var variant: VariantSpec
    /// 0-based boot index within the variant (equal to `round`).
    public var boot: Int
    /// In the order they run in this boot.
    public var workloads: [ScheduledWorkload]

    public init(sequence: Int, round: Int, variant: VariantSpec, boot: Int, workloads: [ScheduledWorkload]) {
        self.sequence = sequence; self.round = round; self.variant = variant; self.boot = boot
        self.workloads = workloads
    }

    public var key: BootKey { BootKey(variant: variant.name, boot: boot) }

    /// The scheduled workload with this label.
    public func workload(labelled label: String) -> ScheduledWorkload? {
        workloads.first { $0.label == label }
    }
}

/// The seeded, interleaved order of boots.
///
/// Rounds come in mirrored pairs, which balances position effects ABBA-style: round `2k` boots every
/// variant once in an order shuffled by `Xoshiro256StarStar(seed, stream("round-pair/k"))`, and round
/// `2k + 1` boots them in the reverse of that order (two variants give A B | B A or B A | A B). Within a
/// boot, the workload runs are shuffled by the stream `"workload-order/VARIANT/ROUND"`. Every round is a
/// function of the seed and its index alone, so extra adaptive rounds and resumed runs see the same
/// order. docs/spec.md describes the algorithm.
public struct Schedule: Sendable {
    public let spec: ExperimentSpec
    public let seed: UInt64

    /// The schedule of `spec` under `seed` (default: the spec's seed).
    public init(spec: ExperimentSpec, seed: UInt64? = nil) {
        self.spec = spec
        self.seed = seed ?? spec.seed
    }

    /// The boots of round `round` (0-based), in running order.
    public func round(_ round: Int) -> [ScheduledBoot] {
        precondition(round >= 0, "rounds are 0-based")
        var order = Array(spec.variants.indices)
        var rng = Xoshiro256StarStar(seed: seed, stream: Xoshiro256StarStar.stream("round-pair/\(round / 2)"))
        rng.shuffle(&order)
        if round % 2 == 1 { order.reverse() }
        return order.enumerated().map { position, variantIndex in
            let variant = spec.variants[variantIndex]
            var workloads = Matrix.instances(spec, variant: variant).map {
                ScheduledWorkload(workload: $0.workload, label: $0.label, counters: $0.counters,
                                  warmup: spec.repetitions.warmup, iterations: spec.repetitions.iterations)
            }
            var workloadRNG = Xoshiro256StarStar(
                seed: seed, stream: Xoshiro256StarStar.stream("workload-order/\(variant.name)/\(round)"))
            workloadRNG.shuffle(&workloads)
            return ScheduledBoot(sequence: round * spec.variants.count + position, round: round, variant: variant,
                                 boot: round, workloads: workloads)
        }
    }

    /// Rounds `range`, concatenated.
    public func rounds(_ range: Range<Int>) -> [ScheduledBoot] {
        range.flatMap { round($0) }
    }

    /// The boots that always run: rounds `0 ..< min_boots`.
    public var planned: [ScheduledBoot] { rounds(0 ..< spec.repetitions.minBoots) }

    /// The longest schedule: rounds `0 ..< max_boots`.
    public var maximal: [ScheduledBoot] { rounds(0 ..< spec.repetitions.maxBoots) }

    /// The planned boots of `spec` under `seed`: variants interleaved in seeded, ABBA-balanced rounds.
    public static func interleaved(_ spec: ExperimentSpec, seed: UInt64) -> [ScheduledBoot] {
        Schedule(spec: spec, seed: seed).planned
    }
}
