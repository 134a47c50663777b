// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote
import RVBenchCore

/// Captures what a sink writes. `@unchecked Sendable`: `text` is only touched while holding `lock`.
final class Capture: @unchecked Sendable {
    private let lock = NSLock()
    private var _text = ""
    var output: TextOutput { TextOutput { [self] in lock.lock(); _text += $0; lock.unlock() } }
    var text: String { lock.lock(); defer { lock.unlock() }; return _text }
}

@Suite struct ProgressTests {
    static let first = BootProgress(variant: "native", boot: 0, attempt: 1, round: 0, index: 1, total: 4)
    static let second = BootProgress(variant: "virtio", boot: 0, attempt: 1, round: 0, index: 2, total: 4)
    static let events: [ProgressEvent] = [
        .experimentStarted(experiment: "quickstart", runID: "0badcafe", session: 0, totalBoots: 4, doneBoots: 0),
        .notRun(variant: "vfio", reason: "no iommu"),
        .bootStarted(first),
        .workloadStarted(first, workload: "x264-320"),
        .sampleRecorded(first, sample: BootSample(workload: "x264-320", iteration: 0, metric: "fps", value: 12.5, unit: "1/s")),
        .bootFinished(first, failure: nil, willRetry: false, seconds: 30),
        .bootStarted(second),
        .bootFinished(second, failure: "boot timed out after 300 s", willRetry: true, seconds: 90),
        .stoppingDecision(rounds: 2, continueRunning: true, reason: "wide"),
        .experimentFinished(status: .complete, bootsOK: 4, bootsFailed: 0, seconds: 125),
    ]

    @Test func plainLines() {
        let capture = Capture()
        let sink = PlainProgress(output: capture.output)
        Self.events.forEach(sink.report)
        #expect(capture.text == """
            experiment quickstart: 4 boots planned, run 0badcafe
            variant vfio not run: no iommu
            [1/4] native boot 0 attempt 1 started
            [1/4] native boot 0 x264-320
            [1/4] native boot 0 ok in 30s, ETA 1m30s
            [2/4] virtio boot 0 attempt 1 started
            [2/4] virtio boot 0 attempt 1 failed after 1m30s: boot timed out after 300 s; retrying, ETA 3m00s
            after 2 rounds: another round (wide)
            experiment complete: 4 boots ok, 0 failed, 2m05s

            """)
    }

    @Test func terminalBarWithETA() {
        let capture = Capture()
        let sink = TerminalProgress(output: capture.output, width: 8)
        Self.events.prefix(6).forEach(sink.report)
        let screens = capture.text.components(separatedBy: "\r\u{1B}[2K").filter { !$0.isEmpty }
        #expect(screens.first == "quickstart (run 0badcafe)\n[--------] 0/4 boots  ETA --")
        #expect(screens.last == "[##------] 1/4 boots  ETA 1m30s  native boot 0 x264-320")
        sink.report(Self.events[7])
        #expect(capture.text.hasSuffix("virtio boot 0 attempt 1 failed: boot timed out after 300 s (retrying)\n"
            + "[##------] 1/4 boots  ETA 3m00s  native boot 0 x264-320"))
        sink.report(Self.events[9])
        #expect(capture.text.hasSuffix("\r\u{1B}[2Kcomplete: 4 boots ok, 0 failed in 2m05s\n"))
    }

    @Test func jsonLinesParse() throws {
        let capture = Capture()
        let sink = JSONProgress(output: capture.output)
        Self.events.forEach(sink.report)
        let lines = capture.text.split(separator: "\n")
        #expect(lines.count == Self.events.count)
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.map { $0["event"] as? String } == [
            "experiment-started", "not-run", "boot-started", "workload-started", "sample", "boot-finished",
            "boot-started", "boot-finished", "stopping", "experiment-finished",
        ])
        #expect(objects[0]["run_id"] as? String == "0badcafe" && objects[0]["total_boots"] as? Int == 4)
        #expect(objects[4]["value"] as? Double == 12.5 && objects[4]["metric"] as? String == "fps")
        #expect(objects[7]["ok"] as? Bool == false && objects[7]["will_retry"] as? Bool == true)
        #expect(objects[9]["boots_ok"] as? Int == 4)
    }

    @Test func silentWritesNothingAndDurationsFormat() {
        SilentProgress().report(Self.events[0])
        #expect(DurationText.short(0) == "0s")
        #expect(DurationText.short(59.4) == "59s")
        #expect(DurationText.short(65) == "1m05s")
        #expect(DurationText.short(3720) == "1h02m")
        #expect(DurationText.short(.nan) == "?")
    }

    @Test func modesPickTheirSinks() {
        #expect(ProgressMode.from(json: true, quiet: true) == .quiet)
        #expect(ProgressMode.from(json: true, quiet: false) == .json)
        #expect(ProgressMode.from(json: false, quiet: false) == .auto)
        #expect(ProgressMode.auto.makeSink(isTerminal: true) is TerminalProgress)
        #expect(ProgressMode.auto.makeSink(isTerminal: false) is PlainProgress)
        #expect(ProgressMode.json.makeSink() is JSONProgress)
        #expect(ProgressMode.quiet.makeSink() is SilentProgress)
    }

    @Test func theRunnerReportsThroughTheSink() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let capture = Capture()
        let runner = ExperimentRunner(spec: Fixtures.spec(), directory: dir, executor: FakeExecutor(recorder: Recorder()),
                                      stopping: FixedBootCount(), progress: JSONProgress(output: capture.output))
        _ = try await runner.run()
        let events = capture.text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String
        }
        #expect(events.first == "experiment-started" && events.last == "experiment-finished")
        #expect(events.filter { $0 == "boot-finished" }.count == 4)
        #expect(events.filter { $0 == "sample" }.count == 8)
    }
}
