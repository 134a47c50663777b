// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote
import RVBenchCore

extension Tag {
    @Tag static var lab: Self
}

/// Shared fixtures of the experiment tests.
enum Fixtures {
    static let catalogue = WorkloadCatalogue([
        .init(name: "onnx-mobilenet", kind: .ai, parameters: ["resolution", "threads"]),
        .init(name: "x264-320", kind: .video, parameters: ["frames", "preset", "threads"]),
        .init(name: "dav1d-decode", kind: .video, metric: "fps", direction: .higherIsBetter),
        .init(name: "sbi-call", kind: .micro),
    ])

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rvbench-experiment-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small spec built in code: two or three variants, one or two workloads.
    static func spec(variants: [VariantSpec]? = nil, workloads: Int = 1, boots: Int = 2, maxBoots: Int? = nil,
                     iterations: Int = 2, warmup: Int = 1, retries: Int = 1, timeouts: Timeouts = Timeouts(),
                     seed: UInt64 = 42, counters: [String] = [], overhead: Bool = false) -> ExperimentSpec {
        let all = [
            WorkloadSpec(name: "onnx-mobilenet", kind: .ai, metric: "wall_ns", direction: .lowerIsBetter),
            WorkloadSpec(name: "x264-320", kind: .video, metric: "fps", direction: .higherIsBetter),
        ]
        return ExperimentSpec(
            name: "unit", seed: seed, host: .lab(LabOptions()),
            variants: variants ?? [VariantSpec(name: "native", kind: .native, baseline: true),
                                   VariantSpec(name: "virtio", kind: .virtio)],
            workloads: Array(all.prefix(workloads)),
            repetitions: RepetitionPolicy(minBoots: boots, maxBoots: maxBoots, iterations: iterations, warmup: warmup),
            counters: counters, measureCounterOverhead: overhead, timeouts: timeouts,
            retries: RetryPolicy(boot: retries))
    }
}

/// Counts what the runner asked of an executor. `@unchecked Sendable`: every field is guarded by `lock`.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var _attempts: [String] = []
    private var _cleanups: [String] = []
    private var _prepares = 0
    private var _finishes = 0
    private var _contexts: [ExperimentContext] = []

    func attempt(_ name: String) { lock.lock(); _attempts.append(name); lock.unlock() }
    func cleanup(_ name: String) { lock.lock(); _cleanups.append(name); lock.unlock() }
    func prepare(_ context: ExperimentContext) { lock.lock(); _prepares += 1; _contexts.append(context); lock.unlock() }
    func finish() { lock.lock(); _finishes += 1; lock.unlock() }

    var attempts: [String] { lock.lock(); defer { lock.unlock() }; return _attempts }
    var cleanups: [String] { lock.lock(); defer { lock.unlock() }; return _cleanups }
    var prepares: Int { lock.lock(); defer { lock.unlock() }; return _prepares }
    var finishes: Int { lock.lock(); defer { lock.unlock() }; return _finishes }
    var contexts: [ExperimentContext] { lock.lock(); defer { lock.unlock() }; return _contexts }
}

/// An executor that plays a script per attempt: good samples, errors, hangs or garbage.
struct FakeExecutor: VariantExecutor {
    enum Script: Sendable {
        /// booted, then every workload's samples in order, then the end.
        case normal
        /// runBoot itself throws.
        case throwAtStart(String)
        /// The stream throws after the first workload.
        case throwMidStream(String)
        /// Nothing ever arrives.
        case hangBeforeBoot
        /// booted and the first workload starts, then nothing.
        case hangInWorkload
        /// booted, then these events, then the end.
        case events([BootEvent])
        /// Like `.normal`, but the last sample is missing.
        case dropLastSample
        /// These events, then nothing.
        case hangAfter([BootEvent])
    }

    let recorder: Recorder
    var unavailable: [PreflightVerdict] = []
    var prepareError: String?
    let script: @Sendable (ScheduledBoot, Int) -> Script

    init(recorder: Recorder, unavailable: [PreflightVerdict] = [], prepareError: String? = nil,
         script: @escaping @Sendable (ScheduledBoot, Int) -> Script = { _, _ in .normal }) {
        self.recorder = recorder; self.unavailable = unavailable; self.prepareError = prepareError
        self.script = script
    }

    /// The value every normal run reports: a function of where it was measured only.
    static func value(variant: String, boot: Int, workload: String, iteration: Int) -> Double {
        let v: Int = variant.utf8.count * 1000
        let w: Int = workload.utf8.count * 10
        let whole: Int = v + boot * 100 + w + iteration
        return Double(whole) + 0.5
    }

    static func samples(of boot: ScheduledBoot) -> [BootSample] {
        boot.workloads.flatMap { w in
            (0 ..< w.iterations).map { i in
                BootSample(workload: w.label, iteration: i, metric: w.workload.metric,
                           value: value(variant: boot.variant.name, boot: boot.boot, workload: w.label, iteration: i),
                           unit: "u", timestamp: 1000)
            }
        }
    }

    func prepare(_ context: ExperimentContext) async throws -> [PreflightVerdict] {
        recorder.prepare(context)
        if let prepareError { throw RVBenchError(.unsupported, prepareError) }
        return unavailable
    }

    func finish(_ context: ExperimentContext) async {
        recorder.finish()
    }

    func cleanUpBoot(_ boot: ScheduledBoot, context: BootContext) async {
        recorder.cleanup(context.domainName)
    }

    func runBoot(_ boot: ScheduledBoot, context: BootContext) async throws -> AsyncThrowingStream<BootEvent, any Error> {
        recorder.attempt(context.domainName)
        let script = self.script(boot, context.attempt)
        if case .throwAtStart(let message) = script { throw RVBenchError(.guest, message) }
        return AsyncThrowingStream { continuation in
            func normal(dropLast: Bool = false) {
                continuation.yield(.booted)
                let all = Self.samples(of: boot)
                for w in boot.workloads {
                    continuation.yield(.workloadStarted(w.label))
                    for s in all where s.workload == w.label {
                        if dropLast, s == all.last { continue }
                        continuation.yield(.sample(s))
                    }
                    continuation.yield(.workloadFinished(w.label))
                }
                continuation.finish()
            }
            func hang() {
                let sleeper = Task {
                    try? await Task.sleep(for: .seconds(3600))
                    continuation.finish()
                }
                continuation.onTermination = { _ in sleeper.cancel() }
            }
            switch script {
            case .normal, .throwAtStart:
                normal()
            case .dropLastSample:
                normal(dropLast: true)
            case .throwMidStream(let message):
                continuation.yield(.booted)
                let w = boot.workloads[0]
                continuation.yield(.workloadStarted(w.label))
                for s in Self.samples(of: boot) where s.workload == w.label { continuation.yield(.sample(s)) }
                continuation.finish(throwing: RVBenchError(.guest, message))
            case .hangBeforeBoot:
                hang()
            case .hangInWorkload:
                continuation.yield(.booted)
                continuation.yield(.workloadStarted(boot.workloads[0].label))
                hang()
            case .hangAfter(let events):
                for e in events { continuation.yield(e) }
                hang()
            case .events(let events):
                for e in events { continuation.yield(e) }
                continuation.finish()
            }
        }
    }
}

/// Waits until `condition` holds, checking every 5 ms, and fails after `seconds`: a poll that cannot hang the suite.
/// The limit is a hang guard, not a timing assertion: on a loaded 2-core machine the whole suite shares two
/// cooperative threads with CPU-bound simulations and fsync-heavy journals, so it is generous.
func waitUntil(_ what: String, seconds: Double = 300, _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            throw RVBenchError(.internal, "timed out after \(seconds) s waiting for \(what)")
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A progress sink that tests wait on: each event is checked against the waiters as it happens.
/// `@unchecked Sendable`: every field is guarded by `lock`.
final class EventProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ProgressEvent] = []
    private var waiters: [(predicate: @Sendable (ProgressEvent) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = []

    func report(_ event: ProgressEvent) {
        lock.lock()
        events.append(event)
        var ready: [CheckedContinuation<Bool, Never>] = []
        waiters.removeAll { waiter in
            guard waiter.predicate(event) else { return false }
            ready.append(waiter.continuation)
            return true
        }
        lock.unlock()
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Waits for an event (already seen or still to come) that satisfies `predicate`; false after `seconds`.
    func wait(seconds: Double, for predicate: @escaping @Sendable (ProgressEvent) -> Bool) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    self.lock.lock()
                    if self.events.contains(where: predicate) {
                        self.lock.unlock()
                        continuation.resume(returning: true)
                        return
                    }
                    self.waiters.append((predicate, continuation))
                    self.lock.unlock()
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let first = await group.next() ?? false
            if !first { self.resumeAll(false) }
            group.cancelAll()
            await group.waitForAll()
            return first
        }
    }

    private func resumeAll(_ value: Bool) {
        lock.lock()
        let pending = waiters
        waiters.removeAll()
        lock.unlock()
        for waiter in pending { waiter.continuation.resume(returning: value) }
    }
}

extension ProgressEvent {
    /// A measured sample of this variant's boot and attempt arrived.
    func isSample(variant: String, boot: Int, attempt: Int) -> Bool {
        if case .sampleRecorded(let p, _) = self { return p.variant == variant && p.boot == boot && p.attempt == attempt }
        return false
    }
}
