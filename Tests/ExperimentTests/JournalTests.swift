// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote
import RVBenchCore

/// Collects journal writes. `@unchecked Sendable`: `operations` is only touched while holding `lock`.
final class OperationLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _operations: [Journal.Operation] = []
    func append(_ op: Journal.Operation) { lock.lock(); _operations.append(op); lock.unlock() }
    var operations: [Journal.Operation] { lock.lock(); defer { lock.unlock() }; return _operations }
}

@Suite struct JournalFileTests {
    static let spec = Fixtures.spec(boots: 1, iterations: 2)

    func sample(_ variant: String, boot: Int, iteration: Int, value: Double) -> Sample {
        Sample(experiment: "unit", variant: variant, workload: "onnx-mobilenet", boot: boot, iteration: iteration,
               metric: "wall_ns", value: value, unit: "ns", timestamp: 5)
    }

    @Test func recordsReplayAndUncommittedSamplesAreDropped() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let boots = Schedule(spec: Self.spec).planned
        let journal = try Journal.create(in: dir, now: { 77 })
        try journal.beginSession(experiment: "unit", specSHA256: "abc", seed: 42, runID: "0000beef", session: 0)
        try journal.beginBoot(boots[0], attempt: 1)
        let first = sample(boots[0].variant.name, boot: 0, iteration: 0, value: 1)
        try journal.recordSample(first)
        try journal.endBootOK(boots[0], attempt: 1)
        try journal.beginBoot(boots[1], attempt: 1)
        try journal.recordSample(sample(boots[1].variant.name, boot: 0, iteration: 0, value: 2))
        journal.close() // the controller dies here: the second boot is open

        let state = try Journal.replay(dir)
        #expect(state.entries.map(\.record) == [.experimentStart, .bootStart, .bootEnd, .bootStart])
        #expect(state.runID == "0000beef" && state.specSHA256 == "abc" && state.sessions == 1)
        #expect(state.samples == [first])
        #expect(state.completedBoots == [boots[0].key: 1])
        #expect(state.openBoot?.key == boots[1].key)
        #expect(state.endedAttempts[boots[1].key] == nil)
        #expect(state.needsRepair)
        #expect(state.completedIterations == [IterationKey(first)])
        #expect(state.entries.allSatisfy { $0.timestamp == 77 })

        // Reopening truncates the open boot's sample; nothing else changes.
        let reopened = try Journal.reopen(in: dir, state: state)
        reopened.close()
        let after = try Journal.replay(dir)
        #expect(!after.needsRepair)
        let text = try String(contentsOf: dir.appendingPathComponent("samples.jsonl"), encoding: .utf8)
        #expect(text == String(decoding: try JournalRecord.sample(first).line(), as: UTF8.self))
    }

    @Test func journalLinesAreCompactSortedAndSnakeCase() throws {
        let entry = JournalEntry(.bootEnd(.init(variant: "virtio", boot: 2, attempt: 1,
                                                outcome: .failed(reason: "boot timed out", retry: true))),
                                 timestamp: 1.5, samplesBytes: 120)
        let line = String(decoding: try entry.line(), as: UTF8.self)
        #expect(line == #"{"attempt":1,"boot":2,"reason":"boot timed out","record":"boot-end","retry":true,"samples_bytes":120,"status":"failed","timestamp":1.5,"variant":"virtio"}"# + "\n")
    }

    @Test func failedBootsAreRolledBackBeforeTheirFailureIsRecorded() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let boots = Schedule(spec: Self.spec).planned
        let journal = try Journal.create(in: dir)
        try journal.beginSession(experiment: "unit", specSHA256: nil, seed: 1, runID: "00000001", session: 0)
        try journal.beginBoot(boots[0], attempt: 1)
        try journal.recordSample(sample(boots[0].variant.name, boot: 0, iteration: 0, value: 1))
        let failure = FailureRecord(experiment: "unit", variant: boots[0].variant.name, workload: "onnx-mobilenet",
                                    boot: 0, iteration: 1, reason: "qemu exited with signal 9", timestamp: 3)
        try journal.endBootFailed(boots[0], attempt: 1, failure: failure, retry: false)
        journal.close()
        let state = try Journal.replay(dir)
        #expect(state.samples.isEmpty)
        #expect(state.failures == [failure])
        #expect(state.failedBoots == [boots[0].key])
        #expect(state.isDone(boots[0].key))
        #expect(!state.needsRepair)
        #expect(state.entries.map(\.record) == [.experimentStart, .bootStart, .failure, .bootEnd])
    }

    @Test func tornLastLinesAreIgnoredAndCut() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try Journal.create(in: dir)
        try journal.beginSession(experiment: "unit", specSHA256: nil, seed: 1, runID: "00000001", session: 0)
        journal.close()
        let url = dir.appendingPathComponent("journal.jsonl")
        let whole = try Data(contentsOf: url)
        for torn in [#"{"record":"boot-st"#, #"{"record":"boot-start"}"#, "\u{0}\u{0}\u{0}\n"] {
            var data = whole
            data.append(Data(torn.utf8))
            try data.write(to: url)
            let state = try Journal.replay(dir)
            #expect(state.entries.count == 1)
            #expect(state.journalValidBytes == Int64(whole.count))
            #expect(state.journalBytes == Int64(data.count))
            try Journal.reopen(in: dir, state: state).close()
            #expect(try Data(contentsOf: url) == whole)
        }
    }

    @Test func oneWriterAtATime() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = try Journal.create(in: dir)
        try journal.beginSession(experiment: "unit", specSHA256: nil, seed: 1, runID: "00000001", session: 0)
        let state = try Journal.replay(dir)
        #expect { try Journal.reopen(in: dir, state: state) } throws: { error in
            (error as? RVBenchError)?.message.contains("another rvbench is running this experiment") == true
        }
        journal.close()
        try Journal.reopen(in: dir, state: state).close()
    }

    @Test func damageThatNoCrashMakesIsAnError() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let boots = Schedule(spec: Self.spec).planned
        let journal = try Journal.create(in: dir)
        try journal.beginSession(experiment: "unit", specSHA256: nil, seed: 1, runID: "00000001", session: 0)
        try journal.beginBoot(boots[0], attempt: 1)
        try journal.recordSample(sample(boots[0].variant.name, boot: 0, iteration: 0, value: 1))
        try journal.endBootOK(boots[0], attempt: 1)
        journal.close()
        let url = dir.appendingPathComponent("journal.jsonl")
        let original = try String(contentsOf: url, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false)
        lines[1] = "garbage"
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        #expect { try Journal.replay(dir) } throws: { error in
            let error = error as? RVBenchError
            return error?.code == .format && error?.message.contains("journal.jsonl:2") == true
        }
        try original.write(to: url, atomically: true, encoding: .utf8)
        try Data().write(to: dir.appendingPathComponent("samples.jsonl"))
        #expect { try Journal.replay(dir) } throws: { error in
            (error as? RVBenchError)?.message.contains("samples were lost outside rvbench") == true
        }
        #expect { try Journal.create(in: dir) } throws: { error in
            (error as? RVBenchError)?.message.contains("already holds an experiment") == true
        }
    }
}

@Suite struct CrashResumeTests {
    /// Scenario 0: two variants × two boots × two iterations, where the first attempt of one boot fails
    /// halfway. Scenario 1: adaptive rounds (one to three, the rule asks for exactly one more) with the
    /// uncounted twin of every workload, and the same failing attempt.
    static func spec(_ scenario: Int) -> ExperimentSpec {
        scenario == 0 ? Fixtures.spec(boots: 2, iterations: 2, retries: 1)
            : Fixtures.spec(boots: 1, maxBoots: 3, iterations: 2, retries: 1, counters: ["perf::CYCLES"], overhead: true)
    }

    static func executor(_ recorder: Recorder) -> FakeExecutor {
        FakeExecutor(recorder: recorder) { boot, attempt in
            boot.variant.name == "virtio" && boot.boot == 1 && attempt == 1 ? .throwMidStream("qemu died") : .normal
        }
    }

    static func runner(_ dir: URL, _ recorder: Recorder, scenario: Int = 0) -> ExperimentRunner {
        let oneMore = ClosureStoppingPolicy { query in
            query.roundsCompleted < 2 ? .continueRunning(reason: "one more") : .stop(reason: "enough")
        }
        return ExperimentRunner(spec: spec(scenario), directory: dir, executor: executor(recorder),
                                stopping: scenario == 0 ? FixedBootCount() : oneMore, now: { 1000 })
    }

    /// Replays the first `count` operations, plus `partial` bytes of the next append, into `dir`.
    static func materialize(_ ops: [Journal.Operation], count: Int, partial: Int, into dir: URL) throws {
        var files: [String: Data] = ["journal.jsonl": Data(), "samples.jsonl": Data()]
        for op in ops.prefix(count) {
            switch op {
            case .append(let file, let bytes): files[file]!.append(bytes)
            case .truncate(let file, let length): files[file] = files[file]!.prefix(Int(length))
            }
        }
        if partial > 0, count < ops.count, case .append(let file, let bytes) = ops[count] {
            files[file]!.append(bytes.prefix(partial))
        }
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
    }

    @Test(arguments: [0, 1])
    func noSampleIsLostOrDuplicatedWhereverTheControllerDies(_ scenario: Int) async throws {
        let reference = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: reference) }
        let log = OperationLog()
        var referenceRunner = Self.runner(reference, Recorder(), scenario: scenario)
        referenceRunner.journalObserver = { log.append($0) }
        let summary = try await referenceRunner.run()
        #expect(summary.status == .complete)
        #expect(summary.samples.count == (scenario == 0 ? 8 : 2 * 2 * 2 * 2))
        #expect(summary.rounds == 2)
        #expect(summary.failures.count == 1)
        let expected = try Journal.replay(reference)
        let ops = log.operations
        #expect(ops.contains { if case .truncate = $0 { return true } else { return false } })

        var cuts: [(Int, Int)] = []
        for k in 0 ... ops.count {
            cuts.append((k, 0))
            if k < ops.count, case .append(_, let bytes) = ops[k] {
                cuts.append((k, 1))
                cuts.append((k, bytes.count / 2))
                cuts.append((k, bytes.count - 1)) // everything but the newline
            }
        }
        #expect(ops.count >= 25 && cuts.count >= 90)
        for (count, partial) in cuts {
            let dir = try Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try Self.materialize(ops, count: count, partial: partial, into: dir)
            let recorder = Recorder()
            let runner = Self.runner(dir, recorder, scenario: scenario)
            let before = try Journal.replay(dir)
            let result: RunSummary
            if before.start == nil {
                result = try await runnerAfterEmptyStart(dir, recorder, scenario: scenario)
            } else {
                result = try await runner.resume()
            }
            #expect(result.status == .complete, "cut \(count)+\(partial)")
            let after = try Journal.replay(dir)
            #expect(after.samples == expected.samples, "cut \(count)+\(partial): committed samples differ")
            #expect(after.stoppingDecisions == expected.stoppingDecisions, "cut \(count)+\(partial)")
            #expect(after.failures.map(\.reason) == ["qemu died"], "cut \(count)+\(partial)")
            #expect(after.isComplete && after.openBoot == nil && !after.needsRepair, "cut \(count)+\(partial)")
            // The file itself holds each sample once and nothing unreadable.
            let contents = JournalContents.parse(try Data(contentsOf: dir.appendingPathComponent("samples.jsonl")))
            #expect(contents.problems.isEmpty, "cut \(count)+\(partial): \(contents.problems)")
            #expect(contents.samples == expected.samples, "cut \(count)+\(partial)")
            #expect(Set(contents.samples.map { "\(IterationKey($0))/\($0.metric)" }).count == contents.samples.count)
            // Every attempt started by this session was cleaned up, and finish ran once.
            #expect(recorder.cleanups == recorder.attempts, "cut \(count)+\(partial)")
            #expect(recorder.finishes == (before.isComplete ? 0 : 1), "cut \(count)+\(partial)")
        }
    }

    /// A kill before the experiment-start reached the disk leaves nothing to resume: run again.
    func runnerAfterEmptyStart(_ dir: URL, _ recorder: Recorder, scenario: Int) async throws -> RunSummary {
        #expect(throws: RVBenchError.self) { _ = try Self.resumeSynchronously(dir) }
        // Whatever partial line is there, `run` needs empty files.
        try Data().write(to: dir.appendingPathComponent("journal.jsonl"))
        try Data().write(to: dir.appendingPathComponent("samples.jsonl"))
        return try await Self.runner(dir, recorder, scenario: scenario).run()
    }

    static func resumeSynchronously(_ dir: URL) throws -> JournalState {
        let state = try Journal.replay(dir)
        guard state.start != nil else {
            throw RVBenchError(.format, "no experiment-start")
        }
        return state
    }

    @Test func resumeNamesTheStaleDomainOfTheOpenBoot() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = OperationLog()
        var runner = Self.runner(dir, Recorder())
        runner.journalObserver = { log.append($0) }
        _ = try await runner.run()
        // Cut right after the first boot-start.
        let ops = log.operations
        let firstBootStart = ops.firstIndex { op in
            if case .append(let file, let bytes) = op { return file == "journal.jsonl" && String(decoding: bytes, as: UTF8.self).contains("boot-start") }
            return false
        }!
        let crashed = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: crashed) }
        try Self.materialize(ops, count: firstBootStart + 2, partial: 0, into: crashed) // boot-start and one sample
        let state = try Journal.replay(crashed)
        let recorder = Recorder()
        let summary = try await Self.runner(crashed, recorder).resume()
        #expect(summary.status == .complete)
        let context = try #require(recorder.contexts.first)
        #expect(context.session == 1)
        #expect(context.runID == state.runID)
        let open = try #require(state.openBoot?.key)
        #expect(context.possiblyStaleDomains == ["rvbench-\(state.runID!)-\(open.variant)-b\(open.boot)-a1"])
        #expect(try Journal.replay(crashed).sessions == 2)
    }
}
