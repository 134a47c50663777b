// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Hypervisor
import RVBenchCore
import Testing

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
        var got: [LineSplitter.Line] = []
        for try await line in lines { got.append(line) }
        #expect(got.map(\.text) == ["OpenSBI ", "Platform", "no newli"])
        #expect(got.map(\.length) == [12, 8, 10])
        #expect(got.map(\.oversized) == [true, false, true])
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
