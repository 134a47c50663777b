// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Logging
import RVBenchCore

/// perf counters on one process of this machine: every requested event on the process's main
/// thread, or on each of its threads (`/proc/PID/task/*`), each thread with its own counter and
/// inheritance off, the way `perf stat --per-thread` does it.
///
/// Events that cannot be counted (an unknown name, a PMU without the event, a permission problem)
/// are reported by `stop()` as `.unavailable` with the reason; they never read as 0.
/// The group owns its file descriptors: `close()` (idempotent) or deinit releases them.
/// Threads created after `start()` are not counted.
public final class PerfCounterGroup: CounterSource, @unchecked Sendable {
    // @unchecked Sendable: every mutable field is guarded by `lock`.
    /// The events as requested, in order.
    public let events: [String]
    /// The process counted; 0 means the calling thread only.
    public let pid: Int32
    /// Whether every thread of `pid` is counted, or only its main thread.
    public let threads: Bool

    private let logger: Logger?
    private let lock = NSLockShim()
    private var encodings: [String: Result<PerfEventEncoding, RVBenchError>] = [:]
    /// Open descriptors per event, one per thread.
    private var fds: [String: [Int32]] = [:]
    private var userOnly: Set<String> = []
    private var openFailures: [String: String] = [:]
    private var started = false
    private var closed = false

    /// Prepares counters; nothing is opened until `start()`.
    /// - Parameters:
    ///   - events: libpfm4 names, e.g. ["perf::CYCLES", "perf::TASK-CLOCK"].
    ///   - pid: the process to count; 0 for the calling thread.
    ///   - threads: count every thread of `pid` (found in /proc/PID/task at `start()`).
    public init(events: [String], pid: Int32, threads: Bool = true, logger: Logger? = nil) {
        self.events = events
        self.pid = pid
        self.threads = threads
        self.logger = logger
        for name in events where encodings[name] == nil {
            do {
                encodings[name] = .success(try PfmLibrary.encode(name))
            } catch let error as RVBenchError {
                encodings[name] = .failure(error)
            } catch {
                encodings[name] = .failure(RVBenchError(.library, "libpfm4: \(error)"))
            }
        }
    }

    deinit {
        for list in fds.values { list.forEach(PerfSyscall.close) }
    }

    /// The thread ids counted: the threads in /proc/PID/task, or just `pid`.
    static func threadIDs(of pid: Int32, all: Bool) throws -> [Int32] {
        guard all, pid > 0 else { return [pid] }
        let dir = "/proc/\(pid)/task"
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            throw RVBenchError(.notFound, "no process \(pid) to count (cannot list \(dir)); is it still running?",
                               cause: error)
        }
        return names.compactMap { Int32($0) }.sorted()
    }

    /// Opens and enables every event on every thread. Wraps `perf_event_open(2)` and
    /// `PERF_EVENT_IOC_ENABLE`.
    /// - Throws: when already started or closed, or when the process does not exist.
    public func start() throws {
        try lock.withLock {
            if closed { throw RVBenchError(.internal, "perf counter group used after close()") }
            if started { throw RVBenchError(.internal, "perf counter group started twice; call stop() first") }
            let tids = try Self.threadIDs(of: pid, all: threads)
            fds = [:]
            openFailures = [:]
            userOnly = []
            for name in events where fds[name] == nil {
                guard case .success(let encoding) = encodings[name] else { continue }
                var opened: [Int32] = []
                var firstFailure: PerfSyscall.Failure?
                for tid in tids {
                    switch PerfSyscall.open(encoding, tid: tid) {
                    case .success(let (fd, user)):
                        opened.append(fd)
                        if user { userOnly.insert(name) }
                    case .failure(let failure):
                        if failure.errno == ESRCH { continue } // the thread ended meanwhile
                        if firstFailure == nil { firstFailure = failure }
                    }
                }
                if opened.isEmpty {
                    openFailures[name] = (firstFailure ?? PerfSyscall.Failure(call: "perf_event_open", errno: ESRCH)).description
                } else if let firstFailure {
                    logger?.debug("event not counted on every thread",
                                  metadata: ["event": "\(name)", "reason": "\(firstFailure)"])
                }
                fds[name] = opened
            }
            started = true
            for list in fds.values {
                for fd in list { try PerfSyscall.enable(fd) }
            }
        }
    }

    /// Disables, reads and closes every counter; returns one reading per requested event.
    /// Values, `time_enabled` and `time_running` are summed over the threads.
    public func stop() throws -> CounterReadings {
        try lock.withLock {
            guard started else { throw RVBenchError(.internal, "perf counter group stopped before it was started") }
            started = false
            defer {
                for list in fds.values { list.forEach(PerfSyscall.close) }
                fds = [:]
            }
            for list in fds.values { for fd in list { try? PerfSyscall.disable(fd) } }
            var out = CounterReadings()
            for name in events {
                switch encodings[name] {
                case .failure(let error)?:
                    out[name] = .unavailable(error.message)
                    continue
                case nil:
                    out[name] = .unavailable("not encoded")
                    continue
                case .success?:
                    break
                }
                if let failure = openFailures[name] {
                    out[name] = .unavailable(failure)
                    continue
                }
                var value: UInt64 = 0, enabled: UInt64 = 0, running: UInt64 = 0
                var readError: String?
                for fd in fds[name] ?? [] {
                    do {
                        let r = try PerfSyscall.read(fd)
                        value &+= r.value
                        enabled &+= r.enabled
                        running &+= r.running
                    } catch {
                        readError = "\(error)"
                    }
                }
                if let readError {
                    out[name] = .unavailable(readError)
                } else {
                    out[name] = .value(value, enabled: enabled, running: running)
                }
            }
            return out
        }
    }

    /// Events that were counted in user space only, because counting the kernel was not permitted.
    public var userOnlyEvents: Set<String> { lock.withLock { userOnly } }

    /// Closes every descriptor. Idempotent; the group cannot be started again.
    public func close() {
        lock.withLock {
            for list in fds.values { list.forEach(PerfSyscall.close) }
            fds = [:]
            started = false
            closed = true
        }
    }
}

/// Counts `events` on `pid` while `body` runs; the counters are closed on every exit,
/// including a throw or cancellation.
public func withCounters<T>(
    events: [String], pid: Int32, threads: Bool = true, logger: Logger? = nil,
    _ body: () async throws -> T
) async throws -> (result: T, readings: CounterReadings) {
    let group = PerfCounterGroup(events: events, pid: pid, threads: threads, logger: logger)
    defer { group.close() }
    return try await withCounters(group, body)
}

/// The perf events this machine can open, probed on the calling process (never assumed).
public enum PerfAvailability {
    /// The events probed by default: generic hardware and software events.
    public static let defaultEvents = [
        "perf::CYCLES", "perf::INSTRUCTIONS", "perf::CACHE-REFERENCES", "perf::CACHE-MISSES",
        "perf::BRANCHES", "perf::BRANCH-MISSES", "perf::TASK-CLOCK", "perf::PAGE-FAULTS",
        "perf::CONTEXT-SWITCHES", "perf::CPU-MIGRATIONS",
    ]

    /// Whether each event opens, probed on the calling thread: each is opened once and closed at once.
    public static func probe(_ events: [String] = defaultEvents) -> [PerfEventStatus] {
        events.map { name in
            do {
                let encoding = try PfmLibrary.encode(name)
                switch PerfSyscall.open(encoding, tid: 0) {
                case .success(let (fd, _)):
                    PerfSyscall.close(fd)
                    return PerfEventStatus(event: name, unavailable: nil)
                case .failure(let failure):
                    return PerfEventStatus(event: name, unavailable: failure.description)
                }
            } catch let error as RVBenchError {
                return PerfEventStatus(event: name, unavailable: error.message)
            } catch {
                return PerfEventStatus(event: name, unavailable: "\(error)")
            }
        }
    }
}

/// Whether one perf event opens on this machine.
public struct PerfEventStatus: Sendable, Equatable, Codable {
    public var event: String
    /// Nil when the event opens; otherwise why not.
    public var unavailable: String?

    public init(event: String, unavailable: String?) {
        self.event = event; self.unavailable = unavailable
    }

    public var opens: Bool { unavailable == nil }
}
