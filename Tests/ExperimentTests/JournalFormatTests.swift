// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import RVBenchCore

/// Journals written by rvbench before its records were typed (`Fixtures/journal-format/`, see the README
/// there) still read, re-encode to the same bytes, replay and resume.
@Suite struct JournalFormatTests {
    static let fixtures = Fixtures.directory.appendingPathComponent("journal-format")

    /// A copy of a fixture directory that a test may change.
    static func copy(_ name: String) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        for file in ["journal.jsonl", "samples.jsonl"] {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name).appendingPathComponent(file),
                                             to: dir.appendingPathComponent(file))
        }
        return dir
    }

    @Test(arguments: ["all-records", "interrupted"])
    func everyWholeLineDecodesAndEncodesToTheSameBytes(_ name: String) throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name).appendingPathComponent("journal.jsonl"))
        let lines = AppendOnlyFile.lines(in: data).filter(\.terminated)
        #expect(lines.count >= 4)
        for line in lines {
            let entry = try ResultsJSON.decoder().decode(JournalEntry.self, from: Data(line.bytes))
            #expect(try entry.line() == Data(line.bytes) + Data([0x0a]), "line \(line.number)")
        }
    }

    @Test func everyKindOfRecordReplays() throws {
        let dir = try Self.copy("all-records")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = try Journal.replay(dir)
        #expect(Set(state.entries.map(\.record)) == Set(JournalEvent.Kind.allCases))
        #expect(state.start == JournalEvent.SessionStart(
            experiment: "journal-format", specSHA256: "d746891627769e67b63007fefc58f9807e7684b0bca23af6b0854f952480c5d9",
            seed: 7, runID: "fdb634c9", session: 0))
        #expect(state.isComplete && !state.needsRepair && state.openBoot == nil)
        #expect(state.failedBoots == Set((0 ..< 3).map { BootKey(variant: "native", boot: $0) }))
        #expect(state.endedAttempts.values.allSatisfy { $0 == 2 })
        #expect(state.completedBoots.isEmpty && state.samples.isEmpty)
        #expect(state.stoppingDecisions == [2: true])
        #expect(state.failures.count == 6 && state.notRun.map(\.variant) == ["vdpa"])
        let retries = state.entries.compactMap { entry -> Bool? in
            if case .bootEnd(let end) = entry.event, case .failed(_, let retry) = end.outcome { return retry }
            return nil
        }
        #expect(retries == [true, false, true, false, true, false])
        guard case .notRun(let notRun) = state.entries[1].event else {
            Issue.record("the second entry is not the not-run record")
            return
        }
        #expect(notRun.variant == "vdpa" && notRun.workload == nil)
        #expect(state.lastEnd == JournalEvent.SessionEnd(status: .complete, reason: nil))
    }

    /// The crash this fixture holds: boot 1's samples were all written and its boot-end was half written.
    @Test func anInterruptedRunReplaysAndResumes() async throws {
        let dir = try Self.copy("interrupted")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = try Journal.replay(dir)
        #expect(state.entries.map(\.record) == [.experimentStart, .bootStart, .bootEnd, .bootStart])
        #expect(state.openBoot == JournalEvent.BootStart(variant: "native", boot: 1, round: 1, sequence: 1, attempt: 1))
        #expect(state.completedBoots == [BootKey(variant: "native", boot: 0): 1])
        #expect(state.samples.count == 26 && state.samples.allSatisfy { $0.boot == 0 })
        #expect(state.samplesCommittedBytes == 4715 && state.samplesBytes == 9435)
        #expect(state.journalValidBytes == 636 && state.journalBytes == 699)
        #expect(state.needsRepair)

        let spec = ExperimentSpec(
            name: "kubevirt-native", seed: 99, host: .lab(LabOptions()),
            variants: [VariantSpec(name: "native", kind: .native, baseline: true)],
            workloads: [WorkloadSpec(name: "micro-timer", kind: .micro, metric: "ns_per_op", direction: .lowerIsBetter),
                        WorkloadSpec(name: "micro-pagetouch", kind: .micro, metric: "ns_per_op", direction: .lowerIsBetter)],
            repetitions: RepetitionPolicy(minBoots: 2, iterations: 2, warmup: 1))
        let recorder = Recorder()
        let summary = try await ExperimentRunner(spec: spec, directory: dir, executor: FakeExecutor(recorder: recorder),
                                                 now: { 2000 }).resume()
        #expect(summary.status == .complete && summary.bootsOK == 2 && summary.runID == "f328f23a")
        #expect(recorder.contexts.first?.possiblyStaleDomains == ["rvbench-f328f23a-native-b1-a1"])
        #expect(recorder.attempts == ["rvbench-f328f23a-native-b1-a1"])
        let after = try Journal.replay(dir)
        #expect(after.isComplete && !after.needsRepair && after.sessions == 2)
        #expect(Array(after.samples.prefix(26)) == state.samples, "the committed samples of the first session stay")
        #expect(after.samples.dropFirst(26).allSatisfy { $0.boot == 1 && $0.unit == "u" })
        // The torn boot-end was cut, and the old entries are still byte for byte what was written.
        let journal = try Data(contentsOf: dir.appendingPathComponent("journal.jsonl"))
        let original = try Data(contentsOf: Self.fixtures.appendingPathComponent("interrupted/journal.jsonl"))
        #expect(journal.prefix(636) == original.prefix(636))
        #expect(AppendOnlyFile.lines(in: journal).allSatisfy { $0.terminated })
    }
}
