// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import Host
import Logging
import RVBenchCore
import Stats

/// How a `run` or `resume` ended.
public struct RunSummary: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Every boot of the schedule ended (ok, or failed after its retries).
        case complete
        /// `timeouts.experiment_s` ran out; `rvbench resume` continues.
        case timedOut = "timed-out"
    }

    public var status: Status
    public var runID: String
    /// Boots that ended ok, over all sessions.
    public var bootsOK: Int
    /// Boots given up after their retries, over all sessions.
    public var bootsFailed: Int
    /// Rounds started (boots per variant).
    public var rounds: Int
    /// Committed samples, over all sessions.
    public var samples: [Sample]
    /// Failure records, over all sessions (one per failed attempt).
    public var failures: [FailureRecord]
    public var notRun: [NotRunRecord]
}

/// The run loop: takes a validated spec through its interleaved schedule, one boot at a time, through a
/// `VariantExecutor`, and journals every sample and event so that `resume` can finish the job.
///
/// Policies (docs/spec.md describes them for users):
/// - **Timeouts.** `boot_s` runs from `runBoot` until the first event; `workload_s` restarts at
///   `booted`, `workloadStarted` and `workloadFinished`. On expiry the stream is cancelled, the attempt
///   fails with the reason and `cleanUpBoot` runs.
/// - **Failures.** An executor error, a `failed` event, a malformed event (unknown workload, iteration out
///   of range, non-finite value, duplicate sample) or a stream that ends with missing iterations fails the
///   attempt. Its samples are dropped, since a boot is the unit of the nested design.
/// - **Retries.** A failed attempt is retried at once, up to `retries.boot` more times; then the boot is
///   recorded as failed and the experiment goes on with the next boot.
/// - **Experiment timeout.** When `experiment_s` runs out, the current attempt is abandoned (not counted),
///   the session ends as `timed-out`, and `resume` continues from there.
/// - **Cancellation** (SIGINT, SIGTERM through task cancellation): the current attempt is abandoned, the
///   executor cleans up, and `CancellationError` is thrown; `resume` continues.
public struct ExperimentRunner: Sendable {
    public var spec: ExperimentSpec
    public var directory: URL
    public var executor: any VariantExecutor
    public var stopping: any StoppingPolicy
    public var progress: any ProgressSink
    public var logger: Logger
    /// Wall-clock seconds since the Unix epoch, for sample and journal timestamps.
    public var now: @Sendable () -> Double
    /// Sees every journal write; set by crash-simulation tests only.
    var journalObserver: (@Sendable (Journal.Operation) -> Void)?

    public init(spec: ExperimentSpec, directory: URL, executor: any VariantExecutor,
                stopping: (any StoppingPolicy)? = nil, progress: any ProgressSink = SilentProgress(),
                logger: Logger = Logger(label: "rvbench.experiment"),
                now: @escaping @Sendable () -> Double = Journal.wallClock) {
        self.spec = spec; self.directory = directory; self.executor = executor
        self.stopping = stopping ?? StoppingRulePolicy(spec: spec)
        self.progress = progress; self.logger = logger; self.now = now
    }

    /// Starts the experiment in `directory`, which must not hold one already.
    public func run() async throws -> RunSummary {
        let journal = try Journal.create(in: directory, now: now)
        journal.observer = journalObserver
        defer { journal.close() }
        let runID = String(format: "%08x", UInt32.random(in: 0 ... .max))
        var state = JournalState()
        try journal.beginSession(experiment: spec.name, specSHA256: spec.source?.sha256, seed: spec.seed,
                                 runID: runID, session: 0)
        state.entries.append(JournalEntry(.experimentStart(.init(experiment: spec.name, specSHA256: spec.source?.sha256,
                                                                 seed: spec.seed, runID: runID, session: 0)),
                                          timestamp: 0, samplesBytes: 0))
        return try await execute(journal: journal, state: state, runID: runID, session: 0, stale: [])
    }

    /// Continues the experiment in `directory` after a crash, an interrupt or an experiment timeout.
    /// The spec must be the one the run started with (same SHA-256 of its text). A complete experiment
    /// is left alone and its summary returned.
    public func resume() async throws -> RunSummary {
        let state = try Journal.replay(directory)
        guard let start = state.start else {
            throw RVBenchError(.format, "\(directory.path)/\(Journal.journalName) has no experiment-start; "
                + "start the experiment again with `rvbench run`")
        }
        let runID = start.runID
        if let recorded = start.specSHA256, let current = spec.source?.sha256, recorded != current {
            throw RVBenchError(.badInput, "the spec changed since this run started (sha256 \(current.prefix(12)), "
                + "the journal has \(recorded.prefix(12))); resume with the spec stored in manifest.json")
        }
        guard start.experiment == spec.name, start.seed == spec.seed else {
            throw RVBenchError(.badInput, "\(directory.path) holds experiment \"\(start.experiment)\" with "
                + "seed \(start.seed); resume it with its own spec")
        }
        if state.isComplete {
            return summary(state: state, status: .complete, runID: runID, rounds: roundsStarted(state))
        }
        let journal = try Journal.reopen(in: directory, state: state, now: now)
        journal.observer = journalObserver
        defer { journal.close() }
        var stale: [String] = []
        let context = ExperimentContext(spec: spec, directory: directory, runID: runID, session: state.sessions,
                                        logger: logger)
        if let open = state.openBoot {
            stale.append(context.domainName(for: open.key, attempt: open.attempt))
        }
        var repaired = state
        repaired.openBoot = nil
        repaired.samplesBytes = repaired.samplesCommittedBytes
        repaired.journalBytes = repaired.journalValidBytes
        try journal.beginSession(experiment: spec.name, specSHA256: spec.source?.sha256, seed: spec.seed,
                                 runID: runID, session: state.sessions)
        repaired.entries.append(JournalEntry(.experimentStart(.init(experiment: spec.name, specSHA256: spec.source?.sha256,
                                                                    seed: spec.seed, runID: runID, session: state.sessions)),
                                             timestamp: 0, samplesBytes: 0))
        repaired.lastEnd = nil
        return try await execute(journal: journal, state: repaired, runID: runID, session: state.sessions,
                                 stale: stale)
    }

    // MARK: The loop

    private func roundsStarted(_ state: JournalState) -> Int {
        state.endedAttempts.keys.map { $0.boot + 1 }.max() ?? 0
    }

    private func summary(state: JournalState, status: RunSummary.Status, runID: String, rounds: Int) -> RunSummary {
        RunSummary(status: status, runID: runID, bootsOK: state.completedBoots.count,
                   bootsFailed: state.failedBoots.count, rounds: rounds, samples: state.samples,
                   failures: state.failures, notRun: state.notRun)
    }

    private func execute(journal: Journal, state initial: JournalState, runID: String, session: Int,
                         stale: [String]) async throws -> RunSummary {
        var state = initial
        var context = ExperimentContext(spec: spec, directory: directory, runID: runID, session: session,
                                        possiblyStaleDomains: stale, logger: logger)
        let clock = ContinuousClock()
        let sessionStart = clock.now
        let experimentDeadline = spec.timeouts.experimentSeconds.map { sessionStart + .seconds($0) }
        let executor = self.executor

        let verdicts: [PreflightVerdict]
        do {
            verdicts = try await executor.prepare(context)
        } catch {
            let context = context
            await Task { await executor.finish(context) }.value
            throw error
        }
        do {
            var skipped = Set<String>()
            for verdict in verdicts {
                switch verdict {
                case .runnable(let plan):
                    context.plans[plan.variant] = plan
                case .notRun(let variant, let reason) where spec.variant(named: variant) != nil:
                    skipped.insert(variant)
                    if !state.notRun.contains(where: { $0.variant == variant && $0.workload == nil }) {
                        let record = NotRunRecord(experiment: spec.name, variant: variant, reason: reason, timestamp: now())
                        try journal.recordNotRun(record)
                        state.notRun.append(record)
                    }
                    progress.report(.notRun(variant: variant, reason: reason))
                case .notRun:
                    break
                }
            }
            let context = context
            let result = try await loop(journal: journal, state: &state, context: context, skipped: skipped,
                                        clock: clock, sessionStart: sessionStart, deadline: experimentDeadline)
            await Task { await executor.finish(context) }.value
            return result
        } catch {
            await Task { await executor.finish(context) }.value
            throw error
        }
    }

    private func loop(journal: Journal, state: inout JournalState, context: ExperimentContext, skipped: Set<String>,
                      clock: ContinuousClock, sessionStart: ContinuousClock.Instant,
                      deadline: ContinuousClock.Instant?) async throws -> RunSummary {
        let schedule = Schedule(spec: spec)
        let running = spec.variants.map(\.name).filter { !skipped.contains($0) }
        let policy = spec.repetitions
        let retries = spec.retries.boot
        var total = running.count * policy.minBoots
        let doneAtStart = state.completedBoots.count + state.failedBoots.count
        progress.report(.experimentStarted(experiment: spec.name, runID: context.runID, session: context.session,
                                           totalBoots: total, doneBoots: doneAtStart))
        var index = 0
        var round = 0
        var status = RunSummary.Status.complete
        rounds: while round < policy.maxBoots {
            if round >= policy.minBoots {
                let alreadyStarted = state.endedAttempts.keys.contains { $0.boot >= round }
                var more: Bool
                if let recorded = state.stoppingDecisions[round] {
                    more = recorded
                } else if alreadyStarted {
                    more = true
                } else {
                    let query = StoppingQuery(spec: spec, roundsCompleted: round, samples: state.samples,
                                              variants: running)
                    let decision = await stopping.decide(query)
                    try Task.checkCancellation()
                    more = !decision.shouldStop
                    try journal.recordStopping(rounds: round, continueRunning: more, reason: decision.reason)
                    state.stoppingDecisions[round] = more
                    progress.report(.stoppingDecision(rounds: round, continueRunning: more, reason: decision.reason))
                }
                if !more { break rounds }
                total += running.count
            }
            for boot in schedule.round(round) where !skipped.contains(boot.variant.name) {
                index += 1
                if state.isDone(boot.key) { continue }
                while true {
                    if let deadline, clock.now >= deadline {
                        status = .timedOut
                        break rounds
                    }
                    let attempt = state.endedAttempts[boot.key, default: 0] + 1
                    let position = BootProgress(variant: boot.variant.name, boot: boot.boot, attempt: attempt,
                                                round: round, index: index, total: total)
                    let outcome = try await runAttempt(boot, attempt: attempt, position: position, journal: journal,
                                                       context: context, clock: clock, deadline: deadline)
                    switch outcome {
                    case .ok(let samples, let seconds):
                        try journal.endBootOK(boot, attempt: attempt)
                        state.endedAttempts[boot.key, default: 0] += 1
                        state.completedBoots[boot.key] = attempt
                        state.samples.append(contentsOf: samples)
                        progress.report(.bootFinished(position, failure: nil, willRetry: false, seconds: seconds))
                    case .failed(let failure, let seconds):
                        let retry = attempt <= retries
                        try journal.endBootFailed(boot, attempt: attempt, failure: failure, retry: retry)
                        state.endedAttempts[boot.key, default: 0] += 1
                        state.failures.append(failure)
                        if !retry { state.failedBoots.insert(boot.key) }
                        logger.warning("boot attempt failed", metadata: [
                            "run.variant": "\(boot.variant.name)", "run.boot": "\(boot.boot)",
                            "run.attempt": "\(attempt)", "run.reason": "\(failure.reason)",
                        ])
                        progress.report(.bootFinished(position, failure: failure.reason, willRetry: retry,
                                                      seconds: seconds))
                        if retry { continue }
                    case .experimentTimedOut:
                        try journal.abandonOpenBoot()
                        status = .timedOut
                        break rounds
                    case .cancelled:
                        try journal.abandonOpenBoot()
                        throw CancellationError()
                    }
                    break
                }
            }
            round += 1
        }
        let reason = status == .timedOut
            ? "the experiment's time limit of \(Int(spec.timeouts.experimentSeconds ?? 0)) s ran out; "
                + "`rvbench resume` continues" : nil
        try journal.endSession(status: status, reason: reason)
        let seconds = Self.seconds(clock.now - sessionStart)
        progress.report(.experimentFinished(status: status, bootsOK: state.completedBoots.count,
                                            bootsFailed: state.failedBoots.count, seconds: seconds))
        return summary(state: state, status: status, runID: context.runID, rounds: round)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attoseconds) = duration.components
        return Double(s) + Double(attoseconds) / 1e18
    }

    // MARK: One attempt

    enum AttemptOutcome {
        case ok([Sample], seconds: Double)
        case failed(FailureRecord, seconds: Double)
        case experimentTimedOut
        case cancelled
    }

    private enum Input: Sendable {
        case event(BootEvent)
        case finished
        /// The executor's own error, kept whole (code and cause) until it becomes the failure's reason.
        case threw(any Error)
        case deadline(Int)
    }


    private func runAttempt(_ boot: ScheduledBoot, attempt: Int, position: BootProgress, journal: Journal,
                            context: ExperimentContext, clock: ContinuousClock,
                            deadline experimentDeadline: ContinuousClock.Instant?) async throws -> AttemptOutcome {
        let key = boot.key
        let bootContext = BootContext(experiment: context, attempt: attempt,
                                      domainName: context.domainName(for: key, attempt: attempt),
                                      timeouts: spec.timeouts, logger: logger)
        try journal.beginBoot(boot, attempt: attempt)
        progress.report(.bootStarted(position))
        let started = clock.now

        let (inputs, continuation) = AsyncStream<Input>.makeStream()
        let executor = self.executor
        let pump = Task {
            do {
                let stream = try await executor.runBoot(boot, context: bootContext)
                for try await event in stream {
                    continuation.yield(.event(event))
                }
                continuation.yield(.finished)
            } catch {
                continuation.yield(.threw(error))
            }
        }
        var watchdog: Task<Void, Never>?
        var generation = 0
        var armedLimit = WatchLimit.boot
        func arm(_ limit: WatchLimit) {
            let seconds: Double
            switch limit {
            case .boot: seconds = spec.timeouts.bootSeconds
            default: seconds = spec.timeouts.workloadSeconds
            }
            var when = clock.now + .seconds(seconds)
            armedLimit = limit
            if let experimentDeadline, experimentDeadline < when {
                when = experimentDeadline
                armedLimit = .experiment
            }
            watchdog?.cancel()
            generation += 1
            let armed = generation
            watchdog = Task {
                try? await Task.sleep(until: when, clock: .continuous)
                if !Task.isCancelled { continuation.yield(.deadline(armed)) }
            }
        }
        arm(.boot)

        var monitor = BootMonitor(boot: boot)
        var collected: [Sample] = []
        var failure: (reason: String, workload: String?, iteration: Int?)?
        var executorError: (any Error)?
        var experimentTimedOut = false
        var settled = false
        var journalError: (any Error)?
        for await input in inputs {
            switch input {
            case .deadline(let armed):
                guard armed == generation else { continue }
                switch armedLimit {
                case .experiment:
                    experimentTimedOut = true
                case .boot:
                    failure = ("boot timed out after \(Self.show(spec.timeouts.bootSeconds)) s "
                        + "(the guest never reported)", nil, nil)
                case .workload(let label):
                    failure = ("workload \(label ?? "?") timed out after \(Self.show(spec.timeouts.workloadSeconds)) s",
                               label, nil)
                case .afterBoot:
                    failure = ("no workload started or finished within \(Self.show(spec.timeouts.workloadSeconds)) s "
                        + "of the boot", nil, nil)
                case .afterWorkloads:
                    failure = ("the boot did not end within \(Self.show(spec.timeouts.workloadSeconds)) s "
                        + "of its last workload", nil, nil)
                }
            case .event(let event):
                let wasBooted = monitor.booted
                switch monitor.accept(event) {
                case .ignore:
                    if case .log(let text) = event {
                        logger.debug("console", metadata: ["vm.name": "\(bootContext.domainName)", "vm.line": "\(text)"])
                    }
                case .rearm(let limit):
                    arm(limit)
                    if case .workloadStarted(let label) = event {
                        progress.report(.workloadStarted(position, workload: label))
                    }
                case .sample(let s):
                    if !wasBooted { arm(.afterBoot) }
                    let sample = Sample(experiment: spec.name, variant: boot.variant.name, workload: s.workload,
                                        boot: boot.boot, iteration: s.iteration, metric: s.metric, value: s.value,
                                        unit: s.unit ?? boot.workload(labelled: s.workload)?.workload.metricKinds[s.metric]?.unit ?? "",
                                        timestamp: s.timestamp ?? now(), kind: s.kind)
                    do {
                        try journal.recordSample(sample)
                    } catch {
                        journalError = error
                    }
                    collected.append(sample)
                    var recorded = s
                    recorded.unit = sample.unit
                    progress.report(.sampleRecorded(position, sample: recorded))
                case .fail(let reason, let workload, let iteration):
                    failure = (reason, workload, iteration)
                }
            case .finished:
                if let missing = monitor.missing() {
                    failure = (missing.reason, missing.workload, missing.iteration)
                } else {
                    settled = true
                }
            case .threw(let error):
                failure = (Self.describe(error), monitor.currentWorkload, nil)
                executorError = error
            }
            if failure != nil || experimentTimedOut || settled || journalError != nil { break }
        }
        let cancelled = !(failure != nil || experimentTimedOut || settled || journalError != nil)
        pump.cancel()
        watchdog?.cancel()
        continuation.finish()
        await Task { await executor.cleanUpBoot(boot, context: bootContext) }.value
        let seconds = Self.seconds(clock.now - started)

        if let journalError { throw journalError }
        if cancelled { return .cancelled }
        if experimentTimedOut { return .experimentTimedOut }
        if let failure {
            if let executorError {
                logger.error("the executor failed a boot", metadata: [
                    "vm.name": "\(bootContext.domainName)", "error": "\(executorError)",
                    "error.code": "\((executorError as? RVBenchError)?.code.rawValue ?? "none")",
                ])
            }
            return .failed(FailureRecord(experiment: spec.name, variant: boot.variant.name, workload: failure.workload,
                                         boot: boot.boot, iteration: failure.iteration, reason: failure.reason,
                                         timestamp: now(), errorCode: (executorError as? RVBenchError)?.code),
                           seconds: seconds)
        }
        return .ok(collected, seconds: seconds)
    }

    static func show(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// An error as a one-line reason.
    static func describe(_ error: any Error) -> String {
        let text: String
        if let error = error as? RVBenchError {
            text = error.description
        } else if error is CancellationError {
            text = "cancelled"
        } else {
            text = String(describing: error)
        }
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.isEmpty ? "the executor failed without a message" : String(line.prefix(500))
    }
}

/// Which limit the boot watchdog is armed with.
enum WatchLimit {
    case boot, afterBoot, workload(String?), afterWorkloads, experiment
}

/// Checks a boot's events against its schedule.
struct BootMonitor {
    enum Verdict {
        case ignore
        case rearm(WatchLimit)
        case sample(BootSample)
        case fail(reason: String, workload: String?, iteration: Int?)
    }

    let boot: ScheduledBoot
    private(set) var booted = false
    private(set) var currentWorkload: String?
    private var started = Set<String>()
    private var finished = Set<String>()
    private var seen = Set<String>()

    init(boot: ScheduledBoot) {
        self.boot = boot
    }

    static let maxMetricLength = 128

    mutating func accept(_ event: BootEvent) -> Verdict {
        switch event {
        case .log:
            return .ignore
        case .booted:
            if booted { return .ignore }
            booted = true
            return .rearm(.afterBoot)
        case .workloadStarted(let label):
            booted = true
            guard boot.workload(labelled: label) != nil else {
                return .fail(reason: "malformed event: workload \"\(Self.clip(label))\" is not scheduled in this boot",
                             workload: nil, iteration: nil)
            }
            guard !started.contains(label) else {
                return .fail(reason: "malformed event: workload \(label) started twice", workload: label, iteration: nil)
            }
            started.insert(label)
            currentWorkload = label
            return .rearm(.workload(label))
        case .workloadFinished(let label):
            guard boot.workload(labelled: label) != nil else {
                return .fail(reason: "malformed event: workload \"\(Self.clip(label))\" is not scheduled in this boot",
                             workload: nil, iteration: nil)
            }
            finished.insert(label)
            currentWorkload = nil
            return .rearm(.afterWorkloads)
        case .failed(let reason, let workload, let iteration):
            let text = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
            return .fail(reason: text.isEmpty ? "the executor reported a failure without a reason" : Self.clip(text, 500),
                         workload: workload ?? currentWorkload, iteration: iteration)
        case .sample(let s) where s.workload == BootSample.bootLabel:
            // Per-boot host measurements (e.g. KVM exit counts over the whole boot).
            booted = true
            guard s.iteration == 0, s.value.isFinite, !s.metric.isEmpty, s.metric.count <= Self.maxMetricLength,
                  !s.metric.contains(where: { $0.isWhitespace || $0.isNewline }),
                  seen.insert("\(s.workload)\u{0}0\u{0}\(s.metric)").inserted else {
                return .fail(reason: "malformed boot-level sample \(Self.clip(s.metric))", workload: nil, iteration: nil)
            }
            return .sample(s)
        case .sample(let s):
            booted = true
            guard let scheduled = boot.workload(labelled: s.workload) else {
                return .fail(reason: "malformed sample: workload \"\(Self.clip(s.workload))\" is not scheduled in this boot",
                             workload: nil, iteration: nil)
            }
            guard (0 ..< scheduled.iterations).contains(s.iteration) else {
                return .fail(reason: "malformed sample: iteration \(s.iteration) of \(s.workload) is outside "
                    + "0..<\(scheduled.iterations)", workload: s.workload, iteration: nil)
            }
            guard !s.metric.isEmpty, s.metric.count <= Self.maxMetricLength,
                  !s.metric.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                return .fail(reason: "malformed sample: metric name \"\(Self.clip(s.metric))\" of \(s.workload)",
                             workload: s.workload, iteration: s.iteration)
            }
            guard s.value.isFinite else {
                return .fail(reason: "malformed sample: \(s.metric) of \(s.workload) iteration \(s.iteration) is \(s.value)",
                             workload: s.workload, iteration: s.iteration)
            }
            if let unit = s.unit, unit.count > 32 || unit.contains(where: \.isNewline) {
                return .fail(reason: "malformed sample: unit \"\(Self.clip(unit))\" of \(s.metric)",
                             workload: s.workload, iteration: s.iteration)
            }
            let identity = "\(s.workload)\u{0}\(s.iteration)\u{0}\(s.metric)"
            guard seen.insert(identity).inserted else {
                return .fail(reason: "malformed sample: \(s.metric) of \(s.workload) iteration \(s.iteration) "
                    + "reported twice", workload: s.workload, iteration: s.iteration)
            }
            return .sample(s)
        }
    }

    /// The first measured iteration without its primary metric, if any.
    func missing() -> (reason: String, workload: String, iteration: Int)? {
        for scheduled in boot.workloads {
            let metric = scheduled.workload.metric
            let have = (0 ..< scheduled.iterations).filter { seen.contains("\(scheduled.label)\u{0}\($0)\u{0}\(metric)") }
            if have.count < scheduled.iterations {
                let first = (0 ..< scheduled.iterations).first { !have.contains($0) } ?? 0
                return ("incomplete boot: \(scheduled.label) gave \(have.count) of \(scheduled.iterations) "
                    + "measured iterations of \(metric)", scheduled.label, first)
            }
        }
        return nil
    }

    static func clip(_ text: String, _ limit: Int = 80) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "..." : cleaned
    }
}
