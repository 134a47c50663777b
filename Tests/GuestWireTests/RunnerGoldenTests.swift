// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import GuestWire
import RVBenchCore
import Testing

/// The translator against recorded output of the real runner (`Fixtures/runner-micro-pagetouch.out`, see
/// the README there): the events it makes, and the `done` line checked against what arrived.
@Suite struct RunnerGoldenTests {
    static let recorded = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/runner-micro-pagetouch.out")

    static func output() throws -> String {
        try String(contentsOf: recorded, encoding: .utf8)
    }

    /// Feeds `text` to a translator as a byte stream in pieces of `piece` bytes (SSH, a log), or line by
    /// line as the console stream splits it; returns the events and the translator.
    static func translate(_ text: String, piece: Int = 97, console: Bool = false) async throws
        -> ([BootEvent], GuestLineTranslator) {
        let (stream, continuation) = AsyncThrowingStream<BootEvent, any Error>.makeStream()
        let translator = GuestLineTranslator(continuation: continuation)
        let bytes = Array(text.utf8)
        if console {
            var splitter = LineSplitter(maxLineBytes: GuestProtocol.maxLineBytes)
            var lines = splitter.feed(bytes)
            if let last = splitter.finish() { lines.append(last) }
            for line in lines { translator.feedLine(line) }
        } else {
            var i = 0
            while i < bytes.count {
                translator.feed(Data(bytes[i ..< min(i + piece, bytes.count)]))
                i += piece
            }
            translator.finish()
        }
        continuation.finish()
        var events: [BootEvent] = []
        for try await event in stream { events.append(event) }
        return (events, translator)
    }

    static func sample(_ iteration: Int, _ metric: String, _ value: Double, _ unit: String?) -> BootEvent {
        .sample(BootSample(workload: "micro-pagetouch", iteration: iteration, metric: metric, value: value, unit: unit))
    }

    /// What the recorded output must become: the warm-up starts the workload and gives no samples; each
    /// measured iteration gives the runner's three times (ns) and the workload's own metrics, whose
    /// units the workload manifest gives.
    static let expected: [BootEvent] = [
        .booted,
        .workloadStarted("micro-pagetouch"),
        sample(0, "wall_ns", 108_133_907, "ns"), sample(0, "user_ns", 19_931_000, "ns"), sample(0, "sys_ns", 87_526_000, "ns"),
        sample(0, "ns_per_op", 2878.78052, nil), sample(0, "pages", 32768, nil),
        sample(1, "wall_ns", 98_184_149, "ns"), sample(1, "user_ns", 19_238_000, "ns"), sample(1, "sys_ns", 76_939_000, "ns"),
        sample(1, "ns_per_op", 2602.83246, nil), sample(1, "pages", 32768, nil),
        .workloadFinished("micro-pagetouch"),
    ]

    @Test(arguments: [1, 97, 4096])
    func theRecordedOutputBecomesTheseEvents(_ piece: Int) async throws {
        let (events, translator) = try await Self.translate(try Self.output(), piece: piece)
        #expect(events == Self.expected)
        #expect(translator.sawEnd && translator.rejectionSummary == nil)
        #expect(translator.summary == GuestSummary(results: 3, checksumFailures: 0, iterations: 2, warmup: 1,
                                                   elapsedNanoseconds: 375_261_281, workloads: ["micro-pagetouch"],
                                                   seed: "5", kernel: "6.18.44-fc-v657", machine: "riscv64", pid1: false))
    }

    @Test func aConsoleWithCarriageReturnsGivesTheSameEvents() async throws {
        let text = try Self.output().replacingOccurrences(of: "\n", with: "\r\n")
        let (events, translator) = try await Self.translate("OpenSBI v1.2\r\n[    0.000000] Linux version 6.1\r\n" + text, console: true)
        #expect(events == Self.expected)
        #expect(translator.sawEnd)
    }

    /// The done line is checked against what arrived: the count of result lines, the workloads, and each
    /// workload's warm-up and measured iterations.
    @Test(arguments: [
        ("drop", "counts 3 result lines, but 2 arrived"),
        (#""workloads":["micro-timer"]"#, "names workloads micro-timer, but results of micro-pagetouch arrived"),
        (#""warmup":0"#, "says 0 warm-up and 2 measured iterations per workload, but micro-pagetouch has 1 and 2"),
    ])
    func aDoneLineThatDisagreesFailsTheBoot(_ change: String, _ reason: String) async throws {
        var lines = try Self.output().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        switch change {
        case "drop":
            lines.remove(at: 2) // the second measured iteration
        case let replacement:
            let key = replacement.split(separator: ":")[0]
            let done = try #require(lines.firstIndex { $0.hasPrefix("@@rvbench v1 done ") })
            let range = try #require(lines[done].range(of: key + #":(\[[^\]]*\]|[0-9]+)"#, options: .regularExpression))
            lines[done].replaceSubrange(range, with: replacement)
        }
        let (events, translator) = try await Self.translate(lines.joined(separator: "\n"))
        #expect(translator.sawEnd)
        let failures = events.compactMap { event -> String? in
            if case .failed(let reason, _, _) = event { return reason }
            return nil
        }
        #expect(failures == ["the runner's done line \(reason): output was lost on the way; check the console or SSH link"])
    }
}
