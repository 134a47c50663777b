// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import Host
import Logging
import RVBenchCore

/// What every executor call knows about the experiment.
public struct ExperimentContext: Sendable {
    public var spec: ExperimentSpec
    public var directory: URL
    /// 8 lowercase hex digits, stable across resumes.
    public var runID: String
    /// 0 for `run`, then 1, 2, … for each `resume`.
    public var session: Int
    /// Domains of earlier sessions of this run that a crash may have left behind (those of attempts that
    /// never ended). `prepare` should destroy and undefine every domain whose name starts with
    /// `domainPrefix`; this list names the most likely ones.
    public var possiblyStaleDomains: [String]
    public var logger: Logger
    /// What preflight resolved for each variant that runs (set once `prepare` returned).
    public var plans: [String: VariantPlan] = [:]

    public init(spec: ExperimentSpec, directory: URL, runID: String, session: Int,
                possiblyStaleDomains: [String] = [], logger: Logger) {
        self.spec = spec; self.directory = directory; self.runID = runID; self.session = session
        self.possiblyStaleDomains = possiblyStaleDomains; self.logger = logger
    }

    /// Every domain of this run is named with this prefix: `rvbench-RUNID-`.
    public var domainPrefix: String { "rvbench-\(runID)-" }

    /// The plan of a variant: preflight's, or a plain one for a host that resolved nothing for it.
    public func plan(for variant: VariantSpec) -> VariantPlan {
        plans[variant.name] ?? VariantPlan(variant: variant.name, kind: variant.kind, aia: variant.aia)
    }

    /// The unique domain name of one attempt: `rvbench-RUNID-VARIANT-bBOOT-aATTEMPT`.
    public func domainName(for key: BootKey, attempt: Int) -> String {
        // An uncounted twin's "@" becomes "-": domain names stay plain for shells and pgrep patterns.
        "\(domainPrefix)\(key.variant.replacingOccurrences(of: "@", with: "-"))-b\(key.boot)-a\(attempt)"
    }
}

/// What one boot attempt knows.
public struct BootContext: Sendable {
    public var experiment: ExperimentContext
    /// 1-based.
    public var attempt: Int
    /// The domain to define for this attempt (unique per run, variant, boot and attempt).
    public var domainName: String
    /// The spec's timeouts; the runner enforces them, executors may pass them on (e.g. to the guest runner).
    public var timeouts: Timeouts
    public var logger: Logger

    public init(experiment: ExperimentContext, attempt: Int, domainName: String, timeouts: Timeouts, logger: Logger) {
        self.experiment = experiment; self.attempt = attempt; self.domainName = domainName
        self.timeouts = timeouts; self.logger = logger
    }
}

/// Runs boots of variants: the seam between the run loop and the lab, libvirt, SSH and the probe.
///
/// The runner calls `prepare` once per `run` or `resume`, then for each boot attempt `runBoot` and,
/// whatever happened, `cleanUpBoot`, and finally `finish` on every exit path (success, failure, timeout,
/// cancellation). The runner enforces the timeouts: when one expires it cancels the stream, so an
/// implementation should tear down in the stream's `onTermination` as well as in `cleanUpBoot`.
public protocol VariantExecutor: Sendable {
    /// Gets ready (e.g. boots the lab, opens the libvirt connection, destroys stale domains whose names
    /// start with `context.domainPrefix`) and plans the variants. Variants that cannot run here come back
    /// as `.notRun` with reasons (recorded as not run and skipped); runnable ones with the devices their
    /// boots get (`BootContext.plan`). Throwing aborts the experiment before any boot.
    func prepare(_ context: ExperimentContext) async throws -> [PreflightVerdict]

    /// Starts one boot attempt and returns its events. Must not block past the start: the boot timeout
    /// runs from the call.
    func runBoot(_ boot: ScheduledBoot, context: BootContext) async throws -> AsyncThrowingStream<BootEvent, any Error>

    /// Destroys and undefines whatever the attempt created. Called after every attempt, also after
    /// timeouts and on cancellation (in a task that is not cancelled). Must be idempotent.
    func cleanUpBoot(_ boot: ScheduledBoot, context: BootContext) async

    /// Releases what `prepare` set up. Called once on every exit path, in a task that is not cancelled.
    func finish(_ context: ExperimentContext) async
}

extension VariantExecutor {
    public func prepare(_ context: ExperimentContext) async throws -> [PreflightVerdict] { [] }
    public func finish(_ context: ExperimentContext) async {}
}

/// What an executor tells the manifest about the host it ran on.
public struct ManifestHost: Sendable {
    /// From the host's probe: kernel, ISA, the host's own AIA mode, versions.
    public var facts: HostFacts
    /// One generated domain XML per guest variant.
    public var domains: [String: String]
    /// What preflight resolved for each variant that ran.
    public var plans: [String: VariantPlan]
    /// The driver that held the host's assignable device in each boot attempt, by domain name.
    public var deviceBindings: [String: DeviceBinding]

    public init(facts: HostFacts, domains: [String: String] = [:], plans: [String: VariantPlan] = [:],
                deviceBindings: [String: DeviceBinding] = [:]) {
        self.facts = facts; self.domains = domains; self.plans = plans; self.deviceBindings = deviceBindings
    }
}

/// An executor whose host the manifest can describe once `prepare` reached it.
public protocol ManifestedExecutor: VariantExecutor {
    /// Nil until the host was reached.
    var manifestHost: ManifestHost? { get }
}

extension HostBackedExecutor: ManifestedExecutor {
    public var manifestHost: ManifestHost? {
        host.hostFacts.map { ManifestHost(facts: $0, domains: host.generatedDomainXML, plans: host.variantPlans,
                                          deviceBindings: host.deviceBindings) }
    }
}
