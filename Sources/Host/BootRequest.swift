// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Logging
import RVBenchCore

/// What a host needs to know about a variant to plan and boot it.
public struct VariantSetup: Sendable, Equatable {
    /// The variant's name, as samples and the journal record it.
    public var name: String
    public var kind: VariantKind
    /// Guest vCPUs and memory (guest kinds only).
    public var vcpus: Int
    public var memoryMiB: Int
    /// libvirt CPU mode or model (guest kinds only).
    public var cpu: String
    public var aia: AIAMode
    /// The QEMU machine type.
    public var machine: String
    /// The device the spec names (`passthrough` only); preflight resolves it to an address.
    public var device: PCIDeviceSelector?
    /// Where the vDPA device comes from (`vdpa` only).
    public var vdpaSource: VDPASource

    public init(name: String, kind: VariantKind, vcpus: Int = 1, memoryMiB: Int = 512, cpu: String = "host-passthrough",
                aia: AIAMode = .none, machine: String = "virt", device: PCIDeviceSelector? = nil,
                vdpaSource: VDPASource = .simulator) {
        self.name = name; self.kind = kind; self.vcpus = vcpus; self.memoryMiB = memoryMiB; self.cpu = cpu
        self.aia = aia; self.machine = machine; self.device = device; self.vdpaSource = vdpaSource
    }
}

/// The arguments of one run of the workload runner (`rvbench-runner`), on the host or as a guest's init.
public struct RunnerArguments: Sendable, Equatable {
    /// Workload names, in the boot's order, each once.
    public var workloads: [String]
    public var iterations: Int
    public var warmup: Int
    public var seed: UInt64
    /// Seconds one workload may take.
    public var workloadTimeout: Int
    /// A fault the runner injects on purpose (fault tests only).
    public var fault: FaultPlan.Kind?
    /// True when a workload reads the data disk: a guest then gets it as a second disk.
    public var dataDisk: Bool

    public init(workloads: [String], iterations: Int, warmup: Int, seed: UInt64, workloadTimeout: Int,
                fault: FaultPlan.Kind? = nil, dataDisk: Bool = false) {
        self.workloads = workloads; self.iterations = iterations; self.warmup = warmup; self.seed = seed
        self.workloadTimeout = workloadTimeout; self.fault = fault; self.dataDisk = dataDisk
    }
}

/// One boot attempt, as the host runs it.
public struct BootRequest: Sendable {
    /// What preflight decided for the variant: its resolved devices.
    public var plan: VariantPlan
    public var variant: VariantSetup
    /// 0-based boot index within the variant, and the 1-based attempt.
    public var boot: Int
    public var attempt: Int
    /// The unique domain name of this attempt (also names the native attempt in logs).
    public var domainName: String
    public var runner: RunnerArguments
    /// Host perf events to count; empty for none.
    public var counters: [String]
    /// The results directory: `domains/` and `counters-unavailable.json` go there.
    public var directory: URL
    public var logger: Logger

    public init(plan: VariantPlan, variant: VariantSetup, boot: Int, attempt: Int, domainName: String,
                runner: RunnerArguments, counters: [String], directory: URL, logger: Logger) {
        self.plan = plan; self.variant = variant; self.boot = boot; self.attempt = attempt
        self.domainName = domainName; self.runner = runner; self.counters = counters; self.directory = directory
        self.logger = logger
    }
}

/// Faults the workload runner injects on purpose, for rvbench's own fault tests on the real path:
/// `hang` stops after the first measured result; `garbage` prints malformed and hostile lines after it.
public struct FaultPlan: Sendable, Equatable {
    public enum Kind: String, Sendable { case hang, garbage }

    public struct Entry: Sendable, Equatable {
        public var kind: Kind
        public var variant: String
        public var boot: Int
        /// The attempt (1-based) that misbehaves; the retry runs clean.
        public var attempt: Int

        public init(kind: Kind, variant: String, boot: Int, attempt: Int = 1) {
            self.kind = kind; self.variant = variant; self.boot = boot; self.attempt = attempt
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public func fault(variant: String, boot: Int, attempt: Int) -> Kind? {
        entries.first { $0.variant == variant && $0.boot == boot && $0.attempt == attempt }?.kind
    }
}
