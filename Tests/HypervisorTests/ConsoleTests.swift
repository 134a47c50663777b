// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Hypervisor
import RVBenchCore
import Testing

@Suite struct ConsoleLineSplitterTests {
    private func split(_ chunks: [String], max: Int = 4096) -> [ConsoleLine] {
        var splitter = ConsoleLineSplitter(maxLineBytes: max)
        var lines = chunks.flatMap { splitter.feed(Array($0.utf8)) }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    @Test func splitsOnLineFeedsAcrossChunks() {
        let lines = split(["hel", "lo\nwor", "ld\n", "\n", "tail"])
        #expect(lines.map(\.text) == ["hello", "world", "", "tail"])
        #expect(lines.allSatisfy { !$0.oversized })
    }

    @Test func dropsCarriageReturnsEvenWhenSplitFromTheirLineFeed() {
        let lines = split(["OpenSBI v1.2\r", "\n", "Platform\r\r\n", "a\rb\r\n"])
        #expect(lines.map(\.text) == ["OpenSBI v1.2", "Platform", "ab"])
        #expect(lines.allSatisfy { !$0.bytes.contains(0x0D) })
    }

    @Test func aLineOfExactlyTheBoundIsNotOversized() {
        let lines = split(["abcd\n", "abcd"], max: 4)
        #expect(lines.map(\.text) == ["abcd", "abcd"])
        #expect(lines.allSatisfy { !$0.oversized })
    }

    @Test func longLinesAreSplitIntoBoundedFlaggedPieces() {
        let lines = split(["abcdefghij\nok\n"], max: 4)
        #expect(lines.map(\.text) == ["abcd", "efgh", "ij", "ok"])
        #expect(lines.map(\.oversized) == [true, true, true, false])
        #expect(lines.allSatisfy { $0.bytes.count <= 4 })
    }

    @Test func aLongUnterminatedTailIsFlagged() {
        let lines = split(["abcdef"], max: 4)
        #expect(lines.map(\.text) == ["abcd", "ef"])
        #expect(lines.map(\.oversized) == [true, true])
    }

    @Test func memoryStaysBoundedForAnEndlessLine() {
        var splitter = ConsoleLineSplitter(maxLineBytes: 100)
        let chunk = [UInt8](repeating: 0x41, count: 1000)
        var count = 0
        for _ in 0..<100 {
            let lines = splitter.feed(chunk)
            count += lines.count
            #expect(lines.allSatisfy { $0.bytes.count == 100 && $0.oversized })
        }
        #expect(count == 999)
        #expect(splitter.finish()?.bytes.count == 100)
    }

    @Test func invalidUTF8IsDecodedLossily() {
        var splitter = ConsoleLineSplitter()
        let lines = splitter.feed([0x61, 0xFF, 0x62, 0x0A])
        #expect(lines.first?.bytes == [0x61, 0xFF, 0x62])
        #expect(lines.first?.text == "a\u{FFFD}b")
    }

    @Test func finishWithNothingPendingGivesNothing() {
        var splitter = ConsoleLineSplitter()
        _ = splitter.feed(Array("x\n".utf8))
        #expect(splitter.finish() == nil)
    }
}

/// A console byte source fed by the test: `read` blocks until a chunk, the end, a failure or
/// `abort` arrives.
final class ScriptedSource: ConsoleByteSource, @unchecked Sendable {
    // @unchecked Sendable is safe: all state is guarded by `condition`.
    enum Event { case bytes([UInt8]), end, failure }
    private let condition = NSCondition()
    private var events: [Event] = []
    private var aborted = false
    private(set) var finishCalls = 0
    private(set) var abortCalls = 0

    func push(_ event: Event) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty && !aborted { condition.wait() }
        if aborted { throw RVBenchError(.library, "aborted") }
        switch events.removeFirst() {
        case .end:
            return 0
        case .failure:
            throw RVBenchError(.library, "libvirt: stream broke (0/1)")
        case .bytes(let bytes):
            let n = min(bytes.count, buffer.count)
            buffer.copyBytes(from: bytes[0..<n])
            if n < bytes.count { events.insert(.bytes(Array(bytes[n...])), at: 0) }
            return n
        }
    }

    func finish() {
        condition.lock()
        finishCalls += 1
        condition.unlock()
    }

    func abort() {
        condition.lock()
        abortCalls += 1
        aborted = true
        condition.broadcast()
        condition.unlock()
    }

    var counts: (finish: Int, abort: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (finishCalls, abortCalls)
    }
}

@Suite struct ConsoleStreamTests {
    @Test func deliversLinesAndEndsAtEndOfStream() async throws {
        let source = ScriptedSource()
        let console = ConsoleStream(source: source)
        let lines = console.lines(maxLineBytes: 8)
        source.push(.bytes(Array("OpenSBI v1.2\r\nPlat".utf8)))
        source.push(.bytes(Array("form\r\nno newline".utf8)))
        source.push(.end)
        var got: [ConsoleLine] = []
        for try await line in lines { got.append(line) }
        #expect(got.map(\.text) == ["OpenSBI ", "v1.2", "Platform", "no newli", "ne"])
        #expect(got.map(\.oversized) == [true, true, false, true, true])
        #expect(source.counts.finish == 1)
    }

    @Test func closeUnblocksAWaitingReader() async throws {
        let source = ScriptedSource()
        let console = ConsoleStream(source: source)
        let lines = console.lines()
        source.push(.bytes(Array("first\n".utf8)))
        var got: [String] = []
        for try await line in lines {
            got.append(line.text)
            console.close()  // the reader thread is now blocked in read(); close must end it
        }
        #expect(got == ["first"])
        #expect(console.isClosed)
        #expect(source.counts.abort == 1)
        console.close()
        #expect(source.counts.abort == 1)
    }

    @Test func aBrokenStreamThrows() async throws {
        let source = ScriptedSource()
        let console = ConsoleStream(source: source)
        let lines = console.lines()
        source.push(.bytes(Array("partial".utf8)))
        source.push(.failure)
        var got: [String] = []
        await #expect(throws: RVBenchError.self) {
            for try await line in lines { got.append(line.text) }
        }
        #expect(got == ["partial"])
    }

    @Test func linesCanBeTakenOnlyOnce() async throws {
        let source = ScriptedSource()
        let console = ConsoleStream(source: source)
        _ = console.lines()
        await #expect(throws: RVBenchError.self) {
            for try await _ in console.lines() {}
        }
        console.close()
    }

    @Test func cancellingTheConsumerClosesTheConsole() async throws {
        let source = ScriptedSource()
        let console = ConsoleStream(source: source)
        let lines = console.lines()
        let consumer = Task {
            var n = 0
            for try await _ in lines { n += 1 }
            return n
        }
        source.push(.bytes(Array("a\n".utf8)))
        consumer.cancel()
        _ = try? await consumer.value
        // onTermination runs when the stream is cancelled; it aborts the source.
        let deadline = ContinuousClock.now + .seconds(300) // a hang guard; the suite may be starved of threads
        while source.counts.abort == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(source.counts.abort == 1)
        #expect(console.isClosed)
    }

    @Test func droppingAnUnreadConsoleAbortsIt() {
        let source = ScriptedSource()
        do { _ = ConsoleStream(source: source) }
        #expect(source.counts.abort == 1)
    }

    @Test func aReplayedConsoleDeliversItsBytesThenEnds() async throws {
        let console = ConsoleStream(replaying: [Array("one\r\ntw".utf8), [], Array("o\nthree".utf8)])
        var got: [String] = []
        for try await line in console.lines() { got.append(line.text) }
        #expect(got == ["one", "two", "three"])
    }
}
