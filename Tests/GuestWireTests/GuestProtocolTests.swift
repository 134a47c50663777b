// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import GuestWire
import RVBenchCore

/// A result line exactly as rvbench-runner prints it (taken from a run under qemu-riscv64-static).
private let runnerLine = #"@@rvbench v1 {"workload":"onnx-mobilenet","iteration":0,"phase":"measure","wall_ns":3302804984,"user_ns":1104120000,"sys_ns":51117000,"max_rss_kb":85820,"metrics":{"inferences":1,"ms_per_inference":726.376826,"inferences_per_s":1.3766959,"load_ms":733.817553},"info":{"onnxruntime":"1.21.0"},"checksum":"argmax=309","checksum_ok":true,"counters":{},"counters_unavailable":"perf_event_open(cycles): Function not implemented"}"#

private func result(_ fields: String) -> String {
    #"@@rvbench v1 {"workload":"w","iteration":1,"phase":"measure","wall_ns":10,"user_ns":2,"sys_ns":3,"metrics":{},"checksum":"c","checksum_ok":true,"counters":{"cycles":5}"# + fields + "}"
}

private func outcome(_ line: String) -> ParseOutcome {
    var p = GuestProtocolParser()
    return p.parse(line)
}

private func rejection(_ line: String) -> GuestLineRejection? {
    if case .rejected(let r) = outcome(line) { return r }
    return nil
}

private func parsedResult(_ line: String) -> GuestResult? {
    if case .line(.result(let r)) = outcome(line) { return r }
    return nil
}

private let fieldCases: [(String, String)] = {
    var c: [(String, String)] = []
    c.append((result("").replacingOccurrences(of: #""workload":"w","#, with: ""), "missing workload"))
    c.append((result("").replacingOccurrences(of: #""wall_ns":10"#, with: #""wall_ns":-10"#), "wall_ns is negative"))
    c.append((result("").replacingOccurrences(of: #""wall_ns":10"#, with: #""wall_ns":10.5"#), "wall_ns is not a non-negative integer"))
    c.append((result("").replacingOccurrences(of: #""wall_ns":10"#, with: #""wall_ns":"10""#), "wall_ns is not a number"))
    c.append((result("").replacingOccurrences(of: #""wall_ns":10"#, with: #""wall_ns":18446744073709551616"#), "wall_ns is not a non-negative integer in range"))
    c.append((result("").replacingOccurrences(of: #""iteration":1"#, with: #""iteration":1e2"#), "iteration is not a non-negative integer"))
    c.append((result("").replacingOccurrences(of: #""phase":"measure""#, with: #""phase":"cooldown""#), "phase must be warmup or measure"))
    c.append((result("").replacingOccurrences(of: #""checksum_ok":true"#, with: #""checksum_ok":"true""#), "checksum_ok is not a boolean"))
    c.append((result("").replacingOccurrences(of: #""checksum_ok":true"#, with: #""checksum_ok":1"#), "checksum_ok is not a boolean"))
    c.append((result("").replacingOccurrences(of: #""metrics":{}"#, with: #""metrics":{"fps":1e999}"#), "metric fps is not a finite number"))
    c.append((result("").replacingOccurrences(of: #""metrics":{}"#, with: #""metrics":{"fps":"fast"}"#), "metric fps is not a finite number"))
    c.append((result("").replacingOccurrences(of: #""metrics":{}"#, with: #""metrics":[]"#), "metrics is not an object"))
    c.append((result("").replacingOccurrences(of: #""counters":{"cycles":5}"#, with: #""counters":{"cycles":-5}"#), "counter cycles is negative"))
    c.append((result("").replacingOccurrences(of: #""counters":{"cycles":5}"#, with: #""counters":{}"#), "counters_unavailable gives no reason"))
    c.append((result("").replacingOccurrences(of: #""workload":"w""#, with: #""workload":"""#), "workload is empty"))
    c.append((result(#","info":{"k":1}"#), "info k is not a string"))
    c.append((#"@@rvbench v1 done {"results":1}"#, "done: missing workloads"))
    c.append((#"@@rvbench v1 error {"workload":"w"}"#, "missing reason"))
    return c
}()

@Suite struct GuestProtocolTests {
    @Test func parsesARunnerResultLine() throws {
        let r = try #require(parsedResult(runnerLine))
        #expect(r.workload == "onnx-mobilenet")
        #expect(r.iteration == 0)
        #expect(r.phase == .measure)
        #expect(r.wallNanoseconds == 3_302_804_984)
        #expect(r.userNanoseconds == 1_104_120_000)
        #expect(r.systemNanoseconds == 51_117_000)
        #expect(r.metrics["ms_per_inference"] == 726.376826)
        #expect(r.metrics["inferences"] == 1)
        #expect(r.info["onnxruntime"] == "1.21.0")
        #expect(r.checksum == "argmax=309")
        #expect(r.checksumOK)
        #expect(r.counters.isEmpty)
        #expect(r.countersUnavailable == "perf_event_open(cycles): Function not implemented")
        #expect(r.maxRSSKilobytes == 85820)
    }

    @Test func parsesCountersDoneAndError() throws {
        let r = try #require(parsedResult(result(#","counters_scaled":true"#)))
        #expect(r.counters == ["cycles": 5])
        #expect(r.countersScaled)

        guard case .line(.done(let s)) = outcome(#"@@rvbench v1 done {"results":12,"checksum_failures":0,"iterations":1,"warmup":0,"elapsed_ns":31000000000,"workloads":["a","b"],"seed":"42","kernel":"6.12.1","machine":"riscv64","pid1":true}"#) else {
            Issue.record("done line not parsed")
            return
        }
        #expect(s == GuestSummary(results: 12, checksumFailures: 0, iterations: 1, warmup: 0, elapsedNanoseconds: 31_000_000_000,
                                  workloads: ["a", "b"], seed: "42", kernel: "6.12.1", machine: "riscv64", pid1: true))

        guard case .line(.error(let e)) = outcome(#"@@rvbench v1 error {"reason":"workload exited with status 1","workload":"x264-320","phase":"warmup","iteration":0,"stderr_tail":"Unknown encoder\n"}"#) else {
            Issue.record("error line not parsed")
            return
        }
        #expect(e == GuestError(reason: "workload exited with status 1", workload: "x264-320", phase: .warmup, iteration: 0, stderrTail: "Unknown encoder\n"))
    }

    @Test(arguments: [
        "", "[    1.234] virtio_blk virtio0: [vda] 1024 512-byte logical blocks", "login: ", "rvbench v1 {}",
        " @@rvbench v1 {}", "@rvbench v1 {}",
    ])
    func consoleNoiseIsOther(line: String) {
        var p = GuestProtocolParser()
        #expect(p.parse(line) == .line(.other))
        #expect(p.counts.other == 1)
        #expect(p.counts.rejected == 0)
    }

    @Test func stripsConsoleLineEndings() {
        #expect(parsedResult(runnerLine + "\r\n") != nil)
        #expect(parsedResult(runnerLine + "\n") != nil)
    }

    @Test(arguments: [
        // JSON syntax
        ("@@rvbench v1 ", "unexpected end"),
        ("@@rvbench v1 {", "expected a member name"),
        ("@@rvbench v1 {\"workload\":\"onnx", "unterminated string (truncated line?)"),
        ("@@rvbench v1 not json", "bad literal"),
        ("@@rvbench v1 {\"a\":1,", "expected a member name"),
        ("@@rvbench v1 [1,2]", "not a JSON object"),
        ("@@rvbench v1 {} {}", "trailing bytes"),
        ("@@rvbench v1 {\"a\":01}", "leading zero"),
        ("@@rvbench v1 {\"a\":NaN}", "unexpected character"),
        ("@@rvbench v1 {\"a\":Infinity}", "unexpected character"),
        ("@@rvbench v1 {\"a\":\"x\u{01}\"}", "control character"),
        ("@@rvbench v1 {\"a\":\"\\ud800\"}", "lone high surrogate"),
        ("@@rvbench v1 {\"a\":\"\\x\"}", "bad escape"),
        ("@@rvbench v1 {\"a\":1,\"a\":2}", "duplicate key a"),
        ("@@rvbench v1done {}", "but not with"),
        ("@@rvbench  v1 {}", "but not with"),
        ("@@rvbench v1 done", "unexpected character"),
    ] as [(String, String)])
    func malformedSyntax(line: String, reason: String) throws {
        let r = try #require(rejection(line))
        #expect(r.kind == .malformed)
        #expect(r.reason.contains(reason), "\(r.reason)")
    }

    @Test(arguments: fieldCases)
    func malformedFields(line: String, reason: String) throws {
        let r = try #require(rejection(line))
        #expect(r.kind == .malformed)
        #expect(r.reason.contains(reason), "\(r.reason)")
    }

    @Test func truncatedLinesAreMalformed() {
        // Every proper prefix of a valid line that still carries the marker must be refused, never trap.
        let bytes = Array(runnerLine.utf8)
        var parser = GuestProtocolParser()
        for cut in GuestProtocol.marker.utf8.count ..< bytes.count {
            if case .line = parser.parse(Array(bytes[0 ..< cut])) {
                Issue.record("prefix of \(cut) bytes was accepted")
            }
        }
        #expect(parser.counts.results == 0)
        #expect(parser.counts.rejected == bytes.count - GuestProtocol.marker.utf8.count)
    }

    @Test func sizeLimitIsExact() throws {
        // Pad a valid line to exactly the limit with spaces inside the JSON object.
        let base = Array(result("").utf8)
        let atLimit = Array(base.dropLast()) + Array(repeating: UInt8(ascii: " "), count: GuestProtocol.maxLineBytes - base.count) + [UInt8(ascii: "}")]
        #expect(atLimit.count == GuestProtocol.maxLineBytes)
        var p = GuestProtocolParser()
        guard case .line(.result) = p.parse(atLimit + [0x0A]) else {
            Issue.record("a line of exactly \(GuestProtocol.maxLineBytes) bytes was refused")
            return
        }
        let over = Array(atLimit.dropLast()) + [UInt8(ascii: " "), UInt8(ascii: "}")]
        guard case .rejected(let r) = p.parse(over) else {
            Issue.record("a line over the limit was accepted")
            return
        }
        #expect(r.kind == .oversized)
        #expect(p.counts.oversized == 1)
        #expect(p.counts.results == 1)
    }

    @Test func hugeLineIsOversized() {
        let line = "@@rvbench v1 {\"workload\":\"" + String(repeating: "A", count: 1 << 20) + "\"}"
        #expect(rejection(line)?.kind == .oversized)
    }

    @Test(arguments: [
        [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80],
    ] as [[UInt8]])
    func invalidUTF8IsMalformed(bad: [UInt8]) {
        let line = Array(#"@@rvbench v1 {"reason":""#.utf8) + bad + Array(#""}"#.utf8)
        var p = GuestProtocolParser()
        guard case .rejected(let r) = p.parse(line) else {
            Issue.record("invalid UTF-8 accepted")
            return
        }
        #expect(r.kind == .malformed)
        #expect(r.reason == "not valid UTF-8")
        #expect(p.counts.malformed == 1)
    }

    @Test func hostileStringsRoundTripVerbatim() throws {
        let html = #"<script>alert("x")</script><img src=x onerror=alert(1)>&amp; \u00e9 ☃ 😀"#
        // JSON-escaped as the runner escapes it: quotes and backslashes escaped, the rest as is.
        let escaped = html.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let line = result(#","info":{"note":""# + escaped + #""},"verify_problem":"</td><td onmouseover=alert(2)>""#)
            .replacingOccurrences(of: #""checksum":"c""#, with: #""checksum":"\u003cb\u003e\ud83d\ude00""#)
        let r = try #require(parsedResult(line))
        #expect(r.info["note"] == html)
        #expect(r.verifyProblem == "</td><td onmouseover=alert(2)>")
        #expect(r.checksum == "<b>😀")
    }

    @Test(arguments: ["@@rvbench v2 {}", "@@rvbench v10 done {\"x\":1}", "@@rvbench v0 {}"])
    func unknownVersionIsCounted(line: String) {
        var p = GuestProtocolParser()
        guard case .rejected(let r) = p.parse(line) else {
            Issue.record("an unknown version was accepted")
            return
        }
        #expect(r.kind == .unknownVersion)
        #expect(p.counts.unknownVersion == 1)
        #expect(p.rejections == [r])
    }

    @Test func nestingBombIsRefused() {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let depth = 2000
            let bomb = "@@rvbench v1 {\"metrics\":" + String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth) + "}"
            // Over the size limit for objects; check the depth limit on a bomb that fits, too.
            let small = "@@rvbench v1 {\"metrics\":" + String(repeating: open, count: 200) + "1" + String(repeating: close, count: 200) + "}"
            #expect(rejection(bomb) != nil)
            let r = rejection(small)
            #expect(r?.kind == .malformed)
            #expect(r?.reason.contains("nesting deeper than") == true, "\(String(describing: r))")
        }
    }

    @Test func rejectionListIsBounded() {
        var p = GuestProtocolParser()
        for _ in 0 ..< 1000 { _ = p.parse("@@rvbench v1 {") }
        #expect(p.counts.malformed == 1000)
        #expect(p.rejections.count == GuestProtocolParser.maxKeptRejections)
    }

    @Test func splitterHandlesChunksAndEndlessLines() throws {
        var parser = GuestProtocolParser()
        var splitter = LineSplitter(maxLineBytes: GuestProtocol.maxLineBytes)
        let stream = Array(("boot noise\r\n" + runnerLine + "\r\n" + "@@rvbench v2 {}\n").utf8)
        var outcomes: [ParseOutcome] = []
        // Feed in odd-sized pieces.
        var i = 0
        while i < stream.count {
            let end = min(i + 7, stream.count)
            outcomes += splitter.feed(stream[i ..< end]).map { parser.parse($0) }
            i = end
        }
        #expect(outcomes.count == 3)
        #expect(outcomes[0] == .line(.other))
        if case .line(.result(let r)) = outcomes[1] { #expect(r.checksum == "argmax=309") } else { Issue.record("result not parsed") }
        #expect(parser.counts.unknownVersion == 1)

        // A protocol line that never ends is cut at the limit and reported as oversized.
        let endless = Array("@@rvbench v1 {\"x\":\"".utf8) + Array(repeating: UInt8(ascii: "y"), count: 100_000)
        #expect(splitter.feed(endless).isEmpty)
        let last = splitter.finish().map { parser.parse($0) }
        if case .rejected(let r) = last { #expect(r.kind == .oversized) } else { Issue.record("endless line not refused") }
        #expect(splitter.finish() == nil)
        // A line of exactly the limit plus its CRLF is not oversized.
        let atLimit = Array("@@rvbench v1 {".utf8) + Array(repeating: UInt8(ascii: " "), count: GuestProtocol.maxLineBytes - 15)
            + Array("}\r\n".utf8)
        let line = try #require(splitter.feed(atLimit).first)
        #expect(line.length == GuestProtocol.maxLineBytes && !line.oversized)
    }
}
