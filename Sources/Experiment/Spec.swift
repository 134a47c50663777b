// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
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
                twin.counted = false
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

/// Where the variants run.
public enum HostSpec: Sendable, Equatable {
    /// The emulated riscv64 KVM host built by the Lab target.
    case lab(LabOptions)
    /// A riscv64 board (or any libvirt host) reached through a libvirt URI and SSH.
    case remote(RemoteHost)

    public var isLab: Bool {
        if case .lab = self { return true }
        return false
    }
}

/// Options of `host: lab`.
public struct LabOptions: Sendable, Equatable {
    /// Which QEMU emulates the lab's L0 machine.
    public enum QEMU: String, Sendable, CaseIterable {
        /// Debian 12's qemu-system-misc 7.2 (no AIA, no Sscofpmf).
        case debian12
        /// Debian 13's QEMU 10.0 from a trixie root (AIA, Sscofpmf, riscv-iommu-pci).
        case trixie
    }

    public var qemu: QEMU
    /// Run L0 with `-icount shift=0,sleep=off`: guest time becomes a function of instructions executed.
    public var deterministic: Bool

    public init(qemu: QEMU = .debian12, deterministic: Bool = false) {
        self.qemu = qemu
        self.deterministic = deterministic
    }
}

/// A remote hypervisor host.
public struct RemoteHost: Sendable, Equatable {
    /// A libvirt URI such as `qemu+ssh://root@board/system`.
    public var uri: String
    /// The SSH target for the probe and the native variant, `[user@]host[:port]`; nil when unused.
    public var ssh: SSHTarget?
    /// Path of the SSH private key, as written (a leading `~` is expanded by whoever uses it).
    public var identity: String?

    public init(uri: String, ssh: SSHTarget? = nil, identity: String? = nil) {
        self.uri = uri; self.ssh = ssh; self.identity = identity
    }
}

/// `[user@]host[:port]`.
public struct SSHTarget: Sendable, Equatable, CustomStringConvertible {
    public var user: String?
    public var host: String
    public var port: Int

    public init(user: String? = nil, host: String, port: Int = 22) {
        self.user = user; self.host = host; self.port = port
    }

    /// Parses `[user@]host[:port]`; a bracketed IPv6 host `[::1]:2222` is accepted. Nil when malformed.
    public init?(parsing text: String) {
        var rest = Substring(text)
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard let user, !user.isEmpty, !user.contains(where: { $0.isWhitespace || $0 == ":" }) else { return nil }
        }
        var host: Substring
        var port = 22
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex) ..< close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty, (1 ... 65535).contains(port),
              !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" }) else { return nil }
        self.init(user: user, host: String(host), port: port)
    }

    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return (user.map { "\($0)@" } ?? "") + shownHost + ":\(port)"
    }
}

/// How a variant runs the workloads.
public enum VariantKind: String, Sendable, CaseIterable {
    /// Directly on the riscv64 host.
    case native
    /// In a KVM guest whose devices QEMU emulates.
    case virtio
    /// In a KVM guest with a PCI device assigned through VFIO.
    case passthrough
    /// In a KVM guest whose virtio datapath is a vhost-vdpa device.
    case vdpa

    /// Whether the variant is a guest (every kind but `native`).
    public var isGuest: Bool { self != .native }
}

/// The RISC-V Advanced Interrupt Architecture mode of the guest's `virt` machine.
public enum AIAMode: String, Sendable, CaseIterable {
    case none
    case aplic
    case aplicIMSIC = "aplic-imsic"
}

/// The PCI device a `passthrough` variant assigns.
public enum PCIDeviceSelector: Sendable, Equatable, CustomStringConvertible {
    /// `domain:bus:slot.function`, e.g. `0000:01:00.0` (lowercase hex).
    case address(String)
    /// The `index`-th device (0-based, in address order) with this vendor and device ID (4 hex digits each).
    case id(vendor: String, device: String, index: Int)

    public var description: String {
        switch self {
        case .address(let address): return address
        case .id(let vendor, let device, let index): return "\(vendor):\(device)#\(index)"
        }
    }

    /// Whether `text` is a full PCI address `dddd:bb:ss.f` in hex.
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2 else { return false }
        let slotFunction = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard slotFunction.count == 2, slotFunction[0].count == 2, slotFunction[1].count == 1,
              let slot = Int(slotFunction[0], radix: 16), slot < 32,
              let function = Int(slotFunction[1], radix: 16), function < 8 else { return false }
        return parts[0].allSatisfy(\.isHexDigit) && parts[1].allSatisfy(\.isHexDigit)
    }
}

/// One way of running the workloads.
public struct VariantSpec: Sendable, Equatable {
    public var name: String
    public var kind: VariantKind
    /// Guest vCPUs (guest kinds only).
    public var vcpus: Int
    /// Guest memory in MiB (guest kinds only).
    public var memoryMiB: Int
    /// libvirt CPU mode or model, `host-passthrough` by default (guest kinds only).
    public var cpu: String
    public var aia: AIAMode
    /// The QEMU machine type, `virt` by default.
    public var machine: String
    /// The assigned device (`passthrough` only).
    public var device: PCIDeviceSelector?
    /// Whether the other variants are compared against this one.
    public var baseline: Bool
    /// False for the uncounted twin that `measure_counter_overhead` adds: its boots count nothing.
    public var counted: Bool = true

    /// For an uncounted twin, the name of the variant it mirrors.
    public var countedName: String? {
        counted ? nil : String(name.dropLast(ExperimentSpec.uncountedSuffix.count))
    }

    public init(name: String, kind: VariantKind, vcpus: Int = VariantSpec.defaultVCPUs,
                memoryMiB: Int = VariantSpec.defaultMemoryMiB, cpu: String = "host-passthrough", aia: AIAMode = .none,
                machine: String = "virt", device: PCIDeviceSelector? = nil, baseline: Bool = false) {
        self.name = name; self.kind = kind; self.vcpus = vcpus; self.memoryMiB = memoryMiB; self.cpu = cpu
        self.aia = aia; self.machine = machine; self.device = device; self.baseline = baseline
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

    public init(name: String, kind: WorkloadKind, params: [String: ParameterValue] = [:], metric: String,
                direction: Direction) {
        self.name = name; self.kind = kind; self.params = params; self.metric = metric; self.direction = direction
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
