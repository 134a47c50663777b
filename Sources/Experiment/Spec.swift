// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Host
import Remote
import RVBenchCore

/// A validated experiment: what to run, where, how often, and how to judge it.
///
/// Made by `ExperimentSpec.parse(yaml:file:catalogue:)` or `ExperimentSpec.load(from:catalogue:)`,
/// which reject an invalid spec before anything runs. docs/spec.md documents every key.
public struct ExperimentSpec: Sendable, Equatable {
    /// Names the results directory and every sample. Letters, digits, `.`, `_` and `-`.
    public var name: String
    /// The seed of every random choice: the interleaved order, the bootstrap.
    public var seed: UInt64
    public var host: HostSpec
    /// In spec order; exactly one has `baseline == true`.
    public var variants: [VariantSpec]
    /// In spec order.
    public var workloads: [WorkloadSpec]
    public var repetitions: RepetitionPolicy
    /// Host perf events to count; empty for `counters: none`.
    public var counters: [String]
    /// Also run every variant without counters, to measure what counting costs: `variants` then ends
    /// with an uncounted twin of each, named `NAME@no-counters`.
    public var measureCounterOverhead: Bool

    /// The name suffix of a variant's uncounted twin.
    public static let uncountedSuffix = "@no-counters"
    public var timeouts: Timeouts
    public var retries: RetryPolicy
    public var stats: StatsSettings
    /// Where the spec came from; nil for a spec built in code.
    public var source: SpecSource?
    /// What the command line changed on top of `source` (e.g. `run --deterministic`); recorded in the
    /// manifest so that `resume` and `reproduce` apply it again.
    public var overrides = SpecOverrides()

    public init(name: String, seed: UInt64, host: HostSpec, variants: [VariantSpec], workloads: [WorkloadSpec],
                repetitions: RepetitionPolicy = RepetitionPolicy(), counters: [String] = [],
                measureCounterOverhead: Bool = false, timeouts: Timeouts = Timeouts(),
                retries: RetryPolicy = RetryPolicy(), stats: StatsSettings = StatsSettings(), source: SpecSource? = nil) {
        var all = variants
        if measureCounterOverhead, !counters.isEmpty {
            // The uncounted twin of every variant: the same guest or host, booted in the same interleaved
            // rounds, with no host counters. Comparing the two gives what counting costs.
            for v in variants where v.counted {
                var twin = v
                twin.name = v.name + Self.uncountedSuffix
                twin.countedName = v.name
                twin.baseline = false
                all.append(twin)
            }
        }
        self.name = name; self.seed = seed; self.host = host; self.variants = all; self.workloads = workloads
        self.repetitions = repetitions; self.counters = counters; self.measureCounterOverhead = measureCounterOverhead
        self.timeouts = timeouts; self.retries = retries; self.stats = stats; self.source = source
    }

    /// The variant every other one is compared against.
    public var baseline: VariantSpec {
        variants.first(where: \.baseline) ?? variants[0]
    }

    /// The variant with this name.
    public func variant(named name: String) -> VariantSpec? {
        variants.first { $0.name == name }
    }
}

/// The spec file a spec was read from.
public struct SpecSource: Sendable, Equatable {
    /// The path as given by the user (used in messages).
    public var path: String
    /// The exact text that was parsed.
    public var yaml: String
    /// Lowercase hex SHA-256 of the text's UTF-8 bytes; the journal records it so `resume` can
    /// refuse a spec that changed.
    public var sha256: String

    public init(path: String, yaml: String) {
        self.path = path
        self.yaml = yaml
        self.sha256 = SHA256.hex(of: yaml)
    }
}

/// One way of running the workloads: what the host needs to know about it (its `setup`, whose fields read
/// as the variant's own: `variant.name`, `variant.vcpus`, …) and what only the experiment uses.
@dynamicMemberLookup
public struct VariantSpec: Sendable, Equatable {
    /// Name, kind, guest shape and device. Defaults: 1 vCPU, 512 MiB, CPU `host-passthrough`, machine `virt`.
    public var setup: VariantSetup
    /// Whether the other variants are compared against this one.
    public var baseline: Bool
    /// For the uncounted twin that `measure_counter_overhead` adds (its boots count nothing), the name of
    /// the counted variant it mirrors; nil for every other variant.
    public var countedName: String?

    /// False for an uncounted twin.
    public var counted: Bool { countedName == nil }

    public init(name: String, kind: VariantKind, vcpus: Int = VariantSpec.defaultVCPUs,
                memoryMiB: Int = VariantSpec.defaultMemoryMiB, cpu: String = "host-passthrough", aia: AIAMode = .none,
                machine: String = "virt", device: PCIDeviceSelector? = nil, vdpaSource: VDPASource = .simulator,
                baseline: Bool = false) {
        setup = VariantSetup(name: name, kind: kind, vcpus: vcpus, memoryMiB: memoryMiB, cpu: cpu, aia: aia,
                             machine: machine, device: device, vdpaSource: vdpaSource)
        self.baseline = baseline
    }

    public subscript<Value>(dynamicMember field: WritableKeyPath<VariantSetup, Value>) -> Value {
        get { setup[keyPath: field] }
        set { setup[keyPath: field] = newValue }
    }

    public static let defaultVCPUs = 1
    public static let defaultMemoryMiB = 512
}

/// A value of a workload parameter, as written in the spec.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)

    public var description: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

/// One workload of the catalogue, with its parameters and the metric that judges it.
public struct WorkloadSpec: Sendable, Equatable {
    /// A name from the workload catalogue (`workloads/*/workload.json`).
    public var name: String
    public var kind: WorkloadKind
    /// Parameters passed to the workload, sorted by key.
    public var params: [String: ParameterValue]
    /// The primary metric: what the stopping rule and the verdict look at.
    public var metric: String
    public var direction: Direction
    /// Kind, unit and direction of each metric the workload's manifest describes (`metric_kinds`); empty
    /// for a spec built in code.
    public var metricKinds: [String: WorkloadCatalogue.MetricDescription]
    /// True when the workload reads the data disk (its manifest's `data_disk`).
    public var readsDataDisk: Bool

    public init(name: String, kind: WorkloadKind, params: [String: ParameterValue] = [:], metric: String,
                direction: Direction, metricKinds: [String: WorkloadCatalogue.MetricDescription] = [:],
                readsDataDisk: Bool = false) {
        self.name = name; self.kind = kind; self.params = params; self.metric = metric; self.direction = direction
        self.metricKinds = metricKinds; self.readsDataDisk = readsDataDisk
    }
}

/// The repetition policy. Boots are the outer level of the nested design, iterations the inner one.
public struct RepetitionPolicy: Sendable, Equatable {
    /// Boots per variant that always run.
    public var minBoots: Int
    /// Boots per variant that never are exceeded; above `minBoots` the stopping rule decides.
    public var maxBoots: Int
    /// Measured iterations of each workload per boot.
    public var iterations: Int
    /// Unrecorded iterations of each workload per boot, before the measured ones.
    public var warmup: Int
    /// Target half-width of the 95% CI relative to the mean, for the stopping rule (0.02 = ±2%).
    public var targetCIHalfWidth: Double

    public init(minBoots: Int = 5, maxBoots: Int? = nil, iterations: Int = 5, warmup: Int = 1,
                targetCIHalfWidth: Double = 0.02) {
        self.minBoots = minBoots
        self.maxBoots = maxBoots ?? minBoots
        self.iterations = iterations
        self.warmup = warmup
        self.targetCIHalfWidth = targetCIHalfWidth
    }

    /// Whether the boot count is decided by the stopping rule.
    public var isAdaptive: Bool { maxBoots > minBoots }
}

/// Time limits, in seconds.
public struct Timeouts: Sendable, Equatable {
    /// From the start of a boot until the guest (or the native runner) is up.
    public var bootSeconds: Double
    /// For one workload in one boot (warm-up and measured iterations together); also bounds the wait
    /// for the first workload after the boot and for the end of the boot after the last workload.
    public var workloadSeconds: Double
    /// For one `run` or `resume` invocation; nil for no limit.
    public var experimentSeconds: Double?

    public init(bootSeconds: Double = 300, workloadSeconds: Double = 600, experimentSeconds: Double? = nil) {
        self.bootSeconds = bootSeconds; self.workloadSeconds = workloadSeconds; self.experimentSeconds = experimentSeconds
    }
}

/// What happens when a boot fails.
public struct RetryPolicy: Sendable, Equatable {
    /// Further attempts of a failed boot; after them the boot is recorded as failed and the experiment goes on.
    public var boot: Int

    public init(boot: Int = 1) {
        self.boot = boot
    }
}

/// Settings of the comparison.
public struct StatsSettings: Sendable, Equatable {
    /// Minimum effect: a regression or improvement must show the ratio beyond 1 ± threshold, equivalence within it.
    public var threshold: Double
    public var alpha: Double
    /// Bootstrap resamples.
    public var resamples: Int

    public init(threshold: Double = 0.01, alpha: Double = 0.05, resamples: Int = 10_000) {
        self.threshold = threshold; self.alpha = alpha; self.resamples = resamples
    }
}
