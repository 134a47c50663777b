// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import Host
import RVBenchCore

/// The real `VariantExecutor`: translates the run's spec, schedule and boot contexts into the host's
/// requests and hands them to a `HostExecutor`.
public struct HostBackedExecutor: VariantExecutor {
    public let host: HostExecutor

    public init(host: HostExecutor) {
        self.host = host
    }

    public func prepare(_ context: ExperimentContext) async throws -> [PreflightVerdict] {
        let spec = context.spec
        return try await host.prepare(HostPreparation(
            host: spec.host, variants: spec.variants.map(\.setup), counters: spec.counters, session: context.session,
            domainPrefix: context.domainPrefix, directory: context.directory,
            dataDisk: spec.workloads.contains(where: \.readsDataDisk)))
    }

    public func runBoot(_ boot: ScheduledBoot, context: BootContext) async throws -> AsyncThrowingStream<BootEvent, any Error> {
        try await host.runBoot(Self.request(boot, context: context, fault: host.fault(variant: boot.variant.name, boot: boot.boot,
                                                                                 attempt: context.attempt)))
    }

    public func cleanUpBoot(_ boot: ScheduledBoot, context: BootContext) async {
        await host.cleanUpBoot(kind: boot.variant.kind, domainName: context.domainName)
    }

    public func finish(_ context: ExperimentContext) async {
        await host.finish(domainPrefix: context.domainPrefix)
    }

    /// The host's request for one boot attempt.
    static func request(_ boot: ScheduledBoot, context: BootContext, fault: FaultPlan.Kind?) -> BootRequest {
        let experiment = context.experiment
        let runner = RunnerArguments(
            workloads: runnerWorkloads(boot),
            iterations: boot.workloads.map(\.iterations).max() ?? 1,
            warmup: boot.workloads.map(\.warmup).max() ?? 0,
            seed: experiment.spec.seed &+ UInt64(boot.sequence),
            workloadTimeout: Int(context.timeouts.workloadSeconds),
            fault: fault,
            dataDisk: boot.workloads.contains { $0.workload.readsDataDisk })
        return BootRequest(plan: experiment.plan(for: boot.variant), variant: boot.variant.setup, boot: boot.boot,
                           attempt: context.attempt, domainName: context.domainName, runner: runner,
                           counters: boot.workloads.first?.counters ?? [], directory: experiment.directory,
                           logger: context.logger)
    }

    /// The runner's workload names for a boot, in the boot's order, each once.
    static func runnerWorkloads(_ boot: ScheduledBoot) -> [String] {
        var seen = Set<String>(), names: [String] = []
        for w in boot.workloads where seen.insert(w.workload.name).inserted { names.append(w.workload.name) }
        return names
    }
}
