// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Where a console's bytes come from: a libvirt stream, or a stand-in in tests.
/// `read` is called from one dedicated thread; `abort` from any thread, at any time.
protocol ConsoleByteSource: Sendable {
    /// Blocks until bytes arrive. Returns how many were written to `buffer`, 0 at the end of the
    /// stream; throws on failure (also after `abort`).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Completes the stream after `read` returned 0.
    func finish()
    /// Ends the stream early and makes a blocked `read` return. Safe to call more than once.
    func abort()
}

/// A guest console opened with `DomainHandle.openConsole()`.
///
/// Reading happens on a dedicated thread doing blocking reads, never on Swift's cooperative
/// pool; `close()` aborts the stream, which unblocks that thread.
public final class ConsoleStream: Sendable {
    private let source: any ConsoleByteSource
    private let state = Locked(State())

    private struct State {
        var started = false
        var closed = false
    }

    init(source: any ConsoleByteSource) {
        self.source = source
    }

    /// A console that delivers `chunks` and then ends, as a guest that prints them and powers
    /// off would. For tests of code that reads consoles through a stand-in `DomainHandle`.
    public convenience init(replaying chunks: [[UInt8]]) {
        self.init(source: ReplayedBytes(chunks))
    }

    deinit {
        // A reader thread keeps the source alive and ends it itself; without one, end it here.
        if !state.withLock({ $0.started }) { source.abort() }
    }

    /// Lines as they arrive, split by `LineSplitter` (CR stripped; a line longer than `maxLineBytes`
    /// keeps only its head and is flagged, never unbounded memory); ends when the stream closes (guest
    /// powered off) or `close()` is called. Call it once per console; call it before resuming a paused
    /// guest so that no line is lost. Cancelling the consuming task closes the console.
    public func lines(maxLineBytes: Int = 4096) -> AsyncThrowingStream<LineSplitter.Line, Error> {
        let (stream, continuation) = AsyncThrowingStream<LineSplitter.Line, Error>.makeStream()
        let (alreadyStarted, closed) = state.withLock { s -> (Bool, Bool) in
            defer { s.started = true }
            return (s.started, s.closed)
        }
        if alreadyStarted {
            continuation.finish(throwing: RVBenchError(
                .internal, "console lines() was called twice; open a new console for a second reader"))
            return stream
        }
        if closed {
            continuation.finish()
            return stream
        }
        let source = self.source
        let state = self.state
        continuation.onTermination = { _ in
            Self.close(source: source, state: state)
        }
        let thread = Thread {
            Self.pump(source: source, state: state, maxLineBytes: max(1, maxLineBytes), continuation: continuation)
        }
        thread.name = "rvbench-console"
        thread.start()
        return stream
    }

    /// Ends the console: `virStreamAbort`, which also unblocks a reader waiting for bytes.
    /// Idempotent.
    public func close() {
        Self.close(source: source, state: state)
    }

    private static func close(source: any ConsoleByteSource, state: Locked<State>) {
        let wasClosed = state.withLock { s -> Bool in
            defer { s.closed = true }
            return s.closed
        }
        if !wasClosed { source.abort() }
    }

    /// True once `close()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    private static func pump(source: any ConsoleByteSource, state: Locked<State>, maxLineBytes: Int,
                             continuation: AsyncThrowingStream<LineSplitter.Line, Error>.Continuation) {
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count: Int
            do {
                count = try source.read(into: buffer)
            } catch {
                if let last = splitter.finish() { continuation.yield(last) }
                if state.withLock({ $0.closed }) {
                    continuation.finish()
                } else {
                    continuation.finish(throwing: error)
                }
                return
            }
            if count == 0 {
                if let last = splitter.finish() { continuation.yield(last) }
                source.finish()
                continuation.finish()
                return
            }
            for line in splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) {
                continuation.yield(line)
            }
        }
    }
}

/// Fixed bytes, then the end of the stream.
private final class ReplayedBytes: ConsoleByteSource {
    private let state: Locked<(pending: [[UInt8]], aborted: Bool)>

    init(_ chunks: [[UInt8]]) {
        state = Locked((chunks.filter { !$0.isEmpty }, false))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try state.withLock { s in
            if s.aborted { throw RVBenchError(.internal, "console closed") }
            guard !s.pending.isEmpty else { return 0 }
            let chunk = s.pending.removeFirst()
            let n = min(chunk.count, buffer.count)
            buffer.copyBytes(from: chunk[0..<n])
            if n < chunk.count { s.pending.insert(Array(chunk[n...]), at: 0) }
            return n
        }
    }

    func finish() {}

    func abort() {
        state.withLock { $0.aborted = true }
    }
}

/// A value guarded by a lock.
final class Locked<Value>: @unchecked Sendable {
    // Safe: `value` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
