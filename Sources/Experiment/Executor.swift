// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Logging
import RVBenchCore

/// One value a boot reports for a measured iteration.
public struct BootSample: Sendable, Equatable {
    /// The scheduled workload's label (`ScheduledWorkload.label`).
    public var workload: String
    /// 0-based measured iteration (warm-up iterations are not reported).
    public var iteration: Int
    /// e.g. `wall_ns`, `fps`, `host.perf.cycles`.
    public var metric: String
    public var value: Double
    public var unit: String
    /// Seconds since the Unix epoch when the value was taken; nil: when the runner received it.
    public var timestamp: Double?
    /// `.counter` for the counters the executor reads; nil: the workload manifest says what the metric is.
    public var kind: MetricKind?

    public init(workload: String, iteration: Int, metric: String, value: Double, unit: String, timestamp: Double? = nil,
                kind: MetricKind? = nil) {
        self.workload = workload; self.iteration = iteration; self.metric = metric; self.value = value
        self.unit = unit; self.timestamp = timestamp; self.kind = kind
    }
}

/// What an executor reports while a boot runs.
///
/// The expected order is `booted`, then for each workload `workloadStarted`, its samples and
/// `workloadFinished`, and then the stream ends once the guest is gone. `booted` may be left out (the
/// first other event implies it), and so may the workload markers; the timeouts are then coarser.
public enum BootEvent: Sendable, Equatable {
    /// The guest (or, for `native`, the runner on the host) is up. Ends the boot timeout.
    case booted
    /// A workload begins (its label). Restarts the workload timeout.
    case workloadStarted(String)
    /// A measured value.
    case sample(BootSample)
    /// A workload is done (its label). Restarts the workload timeout for whatever comes next.
    case workloadFinished(String)
    /// The executor saw the boot fail: a crash, a QEMU death, a runner error line, a checksum mismatch.
    case failed(reason: String, workload: String?, iteration: Int?)
    /// A line for the debug log (e.g. console output); not recorded.
    case log(String)
}

/// A variant that will not run at all, e.g. because preflight found the host lacks something.
public struct VariantUnavailable: Sendable, Equatable {
    public var variant: String
    /// Names what is missing, e.g. "no VFIO type1 for riscv in this kernel".
    public var reason: String

    public init(variant: String, reason: String) {
        self.variant = variant; self.reason = reason
    }
}

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

    public init(spec: ExperimentSpec, directory: URL, runID: String, session: Int,
                possiblyStaleDomains: [String] = [], logger: Logger) {
        self.spec = spec; self.directory = directory; self.runID = runID; self.session = session
        self.possiblyStaleDomains = possiblyStaleDomains; self.logger = logger
    }

    /// Every domain of this run is named with this prefix: `rvbench-RUNID-`.
    public var domainPrefix: String { "rvbench-\(runID)-" }

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
    /// start with `context.domainPrefix`). Returns the variants that cannot run here, with reasons; those
    /// are recorded as not run and skipped. Throwing aborts the experiment before any boot.
    func prepare(_ context: ExperimentContext) async throws -> [VariantUnavailable]

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
    public func prepare(_ context: ExperimentContext) async throws -> [VariantUnavailable] { [] }
    public func finish(_ context: ExperimentContext) async {}
}
