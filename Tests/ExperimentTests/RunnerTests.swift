// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote
import RVBenchCore
import Stats

@Suite struct RunnerTests {
    func run(_ spec: ExperimentSpec, _ executor: FakeExecutor, stopping: (any StoppingPolicy)? = FixedBootCount(),
             progress: any ProgressSink = SilentProgress()) async throws -> (RunSummary, JournalState) {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = ExperimentRunner(spec: spec, directory: dir, executor: executor, stopping: stopping,
                                      progress: progress, now: { 1000 })
        let summary = try await runner.run()
        return (summary, try Journal.replay(dir))
    }

    /// One boot and one iteration per variant gives no statistics, but it measured: the run succeeded.
    @Test func aRunWithOneValuePerVariantSucceedsAndOneWithoutValuesFails() {
        func sample(_ workload: String, _ value: Double) -> Sample {
            Sample(experiment: "unit", variant: "virtio", workload: workload, boot: 0, iteration: 0, metric: "iops",
                   value: value, unit: "IO/s", timestamp: 0)
        }
        #expect(RunOutcome.exitStatus(anyDescriptive: false, samples: [sample("fio-randread", 99)]) == .success)
        #expect(RunOutcome.exitStatus(anyDescriptive: true, samples: []) == .success)
        #expect(RunOutcome.exitStatus(anyDescriptive: false, samples: []) == .runFailed)
        #expect(RunOutcome.exitStatus(anyDescriptive: false, samples: [sample(BootSample.bootLabel, 5)]) == .runFailed)
        #expect(RunOutcome.exitStatus(anyDescriptive: false, samples: [sample("fio-randread", .nan)]) == .runFailed)
    }

    @Test func aCleanRunJournalsEverySampleOnce() async throws {
        let spec = Fixtures.spec(workloads: 2, boots: 2, iterations: 3)
        let recorder = Recorder()
        let (summary, state) = try await run(spec, FakeExecutor(recorder: recorder))
        #expect(summary.status == .complete)
        #expect(summary.bootsOK == 4 && summary.bootsFailed == 0 && summary.rounds == 2)
        #expect(summary.samples.count == 2 * 2 * 2 * 3)
        #expect(state.samples == summary.samples)
        #expect(Set(state.samples.map(IterationKey.init)).count == 24)
        // Samples are stored in schedule order, each with the value the executor reported.
        let order = Schedule(spec: spec).planned
        #expect(state.samples.map(\.variant).removingAdjacentDuplicates() == order.map(\.variant.name).removingAdjacentDuplicates())
        for s in state.samples {
            #expect(s.value == FakeExecutor.value(variant: s.variant, boot: s.boot, workload: s.workload, iteration: s.iteration))
            #expect(s.experiment == "unit" && s.unit == "u")
        }
        #expect(state.entries.map(\.record).first == .experimentStart)
        #expect(state.entries.map(\.record).last == .experimentEnd)
        #expect(state.entries.filter { $0.record == .bootStart }.count == 4)
        #expect(state.isComplete)
        // One prepare, one finish, a cleanup per attempt, unique domain names.
        #expect(recorder.prepares == 1 && recorder.finishes == 1)
        #expect(recorder.cleanups == recorder.attempts)
        #expect(Set(recorder.attempts).count == 4)
        #expect(recorder.attempts.allSatisfy { $0.hasPrefix("rvbench-\(summary.runID)-") })
    }

    @Test func aFailedAttemptIsRetriedAndItsSamplesDropped() async throws {
        let recorder = Recorder()
        let executor = FakeExecutor(recorder: recorder) { boot, attempt in
            boot.variant.name == "virtio" && boot.boot == 0 && attempt == 1 ? .throwMidStream("qemu exited with signal 9") : .normal
        }
        let (summary, state) = try await run(Fixtures.spec(), executor)
        #expect(summary.status == .complete && summary.bootsOK == 4 && summary.bootsFailed == 0)
        #expect(summary.samples.count == 8)
        #expect(summary.failures.map(\.reason) == ["qemu exited with signal 9"])
        #expect(summary.failures.first?.variant == "virtio" && summary.failures.first?.boot == 0)
        #expect(state.completedBoots[BootKey(variant: "virtio", boot: 0)] == 2)
        #expect(recorder.attempts.count == 5 && recorder.cleanups == recorder.attempts)
    }

    @Test func aBootThatKeepsFailingIsGivenUpAndTheExperimentGoesOn() async throws {
        let recorder = Recorder()
        let executor = FakeExecutor(recorder: recorder) { boot, _ in
            boot.variant.name == "virtio" && boot.boot == 1 ? .throwAtStart("no /dev/kvm in the lab host") : .normal
        }
        let (summary, state) = try await run(Fixtures.spec(retries: 2), executor)
        #expect(summary.status == .complete)
        #expect(summary.bootsOK == 3 && summary.bootsFailed == 1)
        #expect(summary.failures.count == 3)
        #expect(summary.failures.allSatisfy { $0.reason == "no /dev/kvm in the lab host" && $0.workload == nil })
        #expect(state.failedBoots == [BootKey(variant: "virtio", boot: 1)])
        let ends = state.entries.compactMap { entry -> JournalEvent.BootEnd? in
            if case .bootEnd(let end) = entry.event, end.status == .failed { return end }
            return nil
        }
        #expect(ends.map(\.outcome) == [true, true, false].map { .failed(reason: "no /dev/kvm in the lab host", retry: $0) })
        #expect(ends.map(\.attempt) == [1, 2, 3])
        #expect(summary.samples.count == 6)
    }

    @Test func aGuestThatNeverBootsTimesOut() async throws {
        let recorder = Recorder()
        let executor = FakeExecutor(recorder: recorder) { boot, _ in
            boot.variant.name == "virtio" ? .hangBeforeBoot : .normal
        }
        let spec = Fixtures.spec(boots: 1, retries: 0, timeouts: Timeouts(bootSeconds: 0.2, workloadSeconds: 60))
        let (summary, _) = try await run(spec, executor)
        #expect(summary.failures.map(\.reason) == ["boot timed out after 0.2 s (the guest never reported)"])
        #expect(summary.bootsFailed == 1 && summary.bootsOK == 1)
        #expect(recorder.cleanups == recorder.attempts)
    }

    @Test func aHangingWorkloadTimesOut() async throws {
        let executor = FakeExecutor(recorder: Recorder()) { _, _ in .hangInWorkload }
        let spec = Fixtures.spec(boots: 1, retries: 0, timeouts: Timeouts(bootSeconds: 60, workloadSeconds: 0.2))
        let (summary, state) = try await run(spec, executor)
        #expect(summary.failures.count == 2)
        #expect(summary.failures.allSatisfy {
            $0.reason == "workload onnx-mobilenet timed out after 0.2 s" && $0.workload == "onnx-mobilenet"
        })
        #expect(state.samples.isEmpty)
    }

    @Test func silenceAfterTheBootAndAfterTheLastWorkloadTimeOut() async throws {
        // Only the misbehaving variant, so that no healthy boot runs under the short limit.
        let spec = Fixtures.spec(variants: [VariantSpec(name: "virtio", kind: .virtio, baseline: true)], boots: 1,
                                 retries: 0, timeouts: Timeouts(bootSeconds: 60, workloadSeconds: 0.2))
        let afterBoot = FakeExecutor(recorder: Recorder()) { boot, _ in
            boot.variant.name == "virtio" ? .events([.booted, .log("idle")]) : .normal
        }
        // `.events` ends the stream, so use a hang after the boot instead.
        let hangAfterBoot = FakeExecutor(recorder: Recorder()) { boot, _ in
            boot.variant.name == "virtio" ? .hangAfter([.booted]) : .normal
        }
        let hangAtEnd = FakeExecutor(recorder: Recorder()) { boot, _ in
            boot.variant.name == "virtio"
                ? .hangAfter([.booted] + FakeExecutor.samples(of: boot).map { .sample($0) }
                    + [.workloadFinished(boot.workloads[0].label)])
                : .normal
        }
        let (ended, _) = try await run(spec, afterBoot)
        #expect(ended.failures.map(\.reason) == ["incomplete boot: onnx-mobilenet gave 0 of 2 measured iterations of wall_ns"])
        let (idle, _) = try await run(spec, hangAfterBoot)
        #expect(idle.failures.map(\.reason) == ["no workload started or finished within 0.2 s of the boot"])
        let (lingering, _) = try await run(spec, hangAtEnd)
        #expect(lingering.failures.map(\.reason) == ["the boot did not end within 0.2 s of its last workload"])
    }

    @Test func theQuickstartSpecRunsEndToEndWithAFakeExecutor() async throws {
        let url = Fixtures.repository.appendingPathComponent("analysis/quickstart.yaml")
        let real = try? WorkloadCatalogue.load(from: Fixtures.repository.appendingPathComponent("workloads"))
        let catalogue = (real?.entries.isEmpty ?? true) ? Fixtures.catalogue : real!
        let spec = try ExperimentSpec.load(from: url, displayPath: "analysis/quickstart.yaml", catalogue: catalogue)
        let (summary, state) = try await run(spec, FakeExecutor(recorder: Recorder()), stopping: nil)
        let r = spec.repetitions
        #expect(summary.status == .complete)
        #expect(summary.samples.count == spec.variants.count * r.minBoots * spec.workloads.count * r.iterations)
        #expect(Set(state.samples.map(\.workload)) == Set(spec.workloads.map(\.name)))
        #expect(state.start?.specSHA256 == spec.source?.sha256)
        guard case .experimentStart(let start) = state.entries.first?.event else {
            Issue.record("the journal does not begin with experiment-start")
            return
        }
        #expect(start.specSHA256 == spec.source?.sha256)
    }

    static let garbage: [(String, [BootEvent], String)] = [
        ("unknown workload", [.booted, .sample(BootSample(workload: "<script>", iteration: 0, metric: "wall_ns", value: 1, unit: "ns"))],
         #"malformed sample: workload "<script>" is not scheduled in this boot"#),
        ("iteration out of range", [.sample(BootSample(workload: "onnx-mobilenet", iteration: 7, metric: "wall_ns", value: 1, unit: "ns"))],
         "malformed sample: iteration 7 of onnx-mobilenet is outside 0..<2"),
        ("not a number", [.sample(BootSample(workload: "onnx-mobilenet", iteration: 0, metric: "wall_ns", value: .nan, unit: "ns"))],
         "malformed sample: wall_ns of onnx-mobilenet iteration 0 is nan"),
        ("bad metric", [.sample(BootSample(workload: "onnx-mobilenet", iteration: 0, metric: "wall ns\n", value: 1, unit: "ns"))],
         #"malformed sample: metric name "wall ns?" of onnx-mobilenet"#),
        ("duplicate", [.sample(BootSample(workload: "onnx-mobilenet", iteration: 0, metric: "wall_ns", value: 1, unit: "ns")),
                       .sample(BootSample(workload: "onnx-mobilenet", iteration: 0, metric: "wall_ns", value: 2, unit: "ns"))],
         "malformed sample: wall_ns of onnx-mobilenet iteration 0 reported twice"),
        ("unknown workload start", [.booted, .workloadStarted("rm -rf /")],
         #"malformed event: workload "rm -rf /" is not scheduled in this boot"#),
        ("silence", [.booted, .log("Linux version 6.12"), .workloadStarted("onnx-mobilenet"), .workloadFinished("onnx-mobilenet")],
         "incomplete boot: onnx-mobilenet gave 0 of 2 measured iterations of wall_ns"),
        ("runner error", [.booted, .failed(reason: "@@rvbench v1 error\n{\"checksum_ok\": false}", workload: "onnx-mobilenet", iteration: 1)],
         #"@@rvbench v1 error {"checksum_ok": false}"#),
    ]

    @Test(arguments: 0 ..< RunnerTests.garbage.count)
    func garbageFailsTheBootWithAReason(_ index: Int) async throws {
        let (_, events, reason) = Self.garbage[index]
        let recorder = Recorder()
        let executor = FakeExecutor(recorder: recorder) { boot, _ in
            boot.variant.name == "virtio" ? .events(events) : .normal
        }
        let (summary, state) = try await run(Fixtures.spec(boots: 1, retries: 0), executor)
        #expect(summary.failures.map(\.reason) == [reason])
        #expect(state.samples.allSatisfy { $0.variant == "native" })
        #expect(state.samples.count == 2)
        #expect(recorder.cleanups == recorder.attempts)
    }

    @Test func aMissingLastSampleFailsTheBoot() async throws {
        let executor = FakeExecutor(recorder: Recorder()) { _, _ in .dropLastSample }
        let (summary, _) = try await run(Fixtures.spec(boots: 1, retries: 0), executor)
        #expect(summary.failures.map(\.reason) == Array(
            repeating: "incomplete boot: onnx-mobilenet gave 1 of 2 measured iterations of wall_ns", count: 2))
        #expect(summary.failures.map(\.iteration) == [1, 1])
    }

    @Test func unavailableVariantsAreRecordedAsNotRun() async throws {
        let recorder = Recorder()
        let executor = FakeExecutor(recorder: recorder, unavailable: [
            .notRun(variant: "virtio", reason: "no VFIO type1 for riscv in this kernel"),
        ])
        let (summary, state) = try await run(Fixtures.spec(), executor)
        #expect(summary.notRun.map(\.reason) == ["no VFIO type1 for riscv in this kernel"])
        #expect(state.notRun.map(\.variant) == ["virtio"])
        #expect(state.samples.allSatisfy { $0.variant == "native" } && state.samples.count == 4)
        #expect(recorder.attempts.allSatisfy { $0.contains("-native-") })
    }

    @Test func aFailingPrepareStillFinishes() async throws {
        let recorder = Recorder()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = ExperimentRunner(spec: Fixtures.spec(), directory: dir,
                                      executor: FakeExecutor(recorder: recorder, prepareError: "the lab did not start"))
        await #expect(throws: RVBenchError.self) { try await runner.run() }
        #expect(recorder.finishes == 1 && recorder.attempts.isEmpty)
    }

    @Test func theStoppingRuleDecidesBetweenMinimumAndMaximum() async throws {
        let spec = Fixtures.spec(boots: 2, maxBoots: 6)
        let asked = OperationCounter()
        let policy = ClosureStoppingPolicy { query in
            asked.add(query.roundsCompleted)
            return query.roundsCompleted < 4 ? .continueRunning(reason: "too wide") : .stop(reason: "narrow enough")
        }
        let (summary, state) = try await run(spec, FakeExecutor(recorder: Recorder()), stopping: policy)
        #expect(asked.values == [2, 3, 4])
        #expect(summary.rounds == 4 && summary.bootsOK == 8)
        #expect(state.stoppingDecisions == [2: true, 3: true, 4: false])

        let always = ClosureStoppingPolicy { _ in .continueRunning(reason: "never narrow") }
        let (capped, _) = try await run(spec, FakeExecutor(recorder: Recorder()), stopping: always)
        #expect(capped.rounds == 6 && capped.bootsOK == 12)
    }

    @Test func theStatsStoppingRuleLooksAtBootMeans() async throws {
        // The fake's values differ by 100 between boots around ~4000: wide at 2 boots, narrow enough by 5% later.
        let spec = Fixtures.spec(boots: 2, maxBoots: 10)
        let policy = StoppingRulePolicy(rule: StoppingRule(targetRelativeHalfWidth: 0.05, minimum: 2, maximum: 10))
        let query = StoppingQuery(spec: spec, roundsCompleted: 2, samples: [
            Sample(experiment: "unit", variant: "native", workload: "onnx-mobilenet", boot: 0, iteration: 0,
                   metric: "wall_ns", value: 10, unit: "ns", timestamp: 0),
            Sample(experiment: "unit", variant: "native", workload: "onnx-mobilenet", boot: 0, iteration: 1,
                   metric: "wall_ns", value: 20, unit: "ns", timestamp: 0),
            Sample(experiment: "unit", variant: "native", workload: "onnx-mobilenet", boot: 1, iteration: 0,
                   metric: "wall_ns", value: 30, unit: "ns", timestamp: 0),
            Sample(experiment: "unit", variant: "native", workload: "onnx-mobilenet", boot: 1, iteration: 0,
                   metric: "fps", value: 99, unit: "1/s", timestamp: 0),
        ], variants: ["native"])
        #expect(query.bootMeans(variant: "native", workload: "onnx-mobilenet") == [15, 30])
        let decision = await policy.decide(query)
        #expect(!decision.shouldStop)
        let (summary, _) = try await run(spec, FakeExecutor(recorder: Recorder()), stopping: policy)
        #expect(summary.rounds > 2 && summary.rounds <= 10)
    }

    @Test func cancellationCleansUpAndResumeFinishes() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let recorder = Recorder()
        let hanging = FakeExecutor(recorder: recorder) { boot, _ in boot.sequence == 2 ? .hangInWorkload : .normal }
        let runner = ExperimentRunner(spec: Fixtures.spec(), directory: dir, executor: hanging, now: { 1000 })
        let task = Task { try await runner.run() }
        try await waitUntil("the third boot attempt") { recorder.attempts.count >= 3 }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(recorder.cleanups == recorder.attempts && recorder.finishes == 1)
        let state = try Journal.replay(dir)
        #expect(state.openBoot?.sequence == 2)
        #expect(!state.needsRepair) // the abandoned boot's samples were rolled back already
        #expect(state.samples.count == 4)

        let resumed = try await ExperimentRunner(spec: Fixtures.spec(), directory: dir,
                                                 executor: FakeExecutor(recorder: Recorder()), now: { 1000 }).resume()
        #expect(resumed.status == .complete && resumed.bootsOK == 4 && resumed.samples.count == 8)
        #expect(resumed.runID == state.runID)
    }

    @Test func theExperimentTimeLimitEndsTheSessionAndResumeContinues() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = Fixtures.spec(timeouts: Timeouts(bootSeconds: 60, workloadSeconds: 60, experimentSeconds: 1))
        let hanging = FakeExecutor(recorder: Recorder()) { boot, _ in boot.sequence == 1 ? .hangInWorkload : .normal }
        let first = try await ExperimentRunner(spec: spec, directory: dir, executor: hanging, now: { 1000 }).run()
        #expect(first.status == .timedOut)
        #expect(first.bootsOK == 1 && first.failures.isEmpty)
        let state = try Journal.replay(dir)
        #expect(state.lastEnd?.status == .timedOut && !state.isComplete)
        // The same experiment (name and seed; a spec built in code has no text to hash) without the limit.
        let second = try await ExperimentRunner(spec: Fixtures.spec(), directory: dir,
                                                executor: FakeExecutor(recorder: Recorder()), now: { 1000 }).resume()
        #expect(second.status == .complete && second.bootsOK == 4 && second.samples.count == 8)
    }

    @Test func resumeRefusesAnotherSpec() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = SpecParsingTests.minimal
        let spec = try ExperimentSpec.parse(yaml: yaml, file: "a.yaml", catalogue: Fixtures.catalogue)
        _ = try await ExperimentRunner(spec: spec, directory: dir, executor: FakeExecutor(recorder: Recorder()),
                                       stopping: FixedBootCount()).run()
        let changed = try ExperimentSpec.parse(yaml: yaml + "# edited\n", file: "a.yaml", catalogue: Fixtures.catalogue)
        await #expect { try await ExperimentRunner(spec: changed, directory: dir,
                                                   executor: FakeExecutor(recorder: Recorder())).resume() } throws: { error in
            (error as? RVBenchError)?.message.hasPrefix("the spec changed since this run started") == true
        }
        // The same spec resumes a complete experiment without running anything.
        let recorder = Recorder()
        let again = try await ExperimentRunner(spec: spec, directory: dir, executor: FakeExecutor(recorder: recorder)).resume()
        #expect(again.status == .complete && recorder.attempts.isEmpty && again.bootsOK == 10)
    }

    @Test func counterOverheadRunsTheUncountedTwin() async throws {
        let spec = Fixtures.spec(boots: 1, counters: ["perf::CYCLES"], overhead: true)
        let (summary, _) = try await run(spec, FakeExecutor(recorder: Recorder()))
        #expect(Set(summary.samples.map(\.variant)) == ["native", "virtio", "native@no-counters", "virtio@no-counters"])
        #expect(summary.samples.count == 4 * 2)
    }
}

/// `@unchecked Sendable`: `values` is only touched while holding `lock`.
final class OperationCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _values: [Int] = []
    func add(_ value: Int) { lock.lock(); _values.append(value); lock.unlock() }
    var values: [Int] { lock.lock(); defer { lock.unlock() }; return _values }
}

extension Array where Element: Equatable {
    func removingAdjacentDuplicates() -> [Element] {
        reduce(into: []) { result, element in if result.last != element { result.append(element) } }
    }
}
