// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// One counter after a measurement: a value with its perf time accounting, or the reason it could
/// not be counted. An unavailable counter is never reported as 0.
public enum CounterReading: Sendable, Equatable, Codable {
    /// The raw count, with `time_enabled` and `time_running` in nanoseconds, summed over every thread
    /// counted. When `running < enabled` the kernel multiplexed the counter; see `scaledValue`.
    case value(UInt64, enabled: UInt64, running: UInt64)
    /// Why the counter has no value, e.g. "perf_event_open: No such file or directory (ENOENT): ...".
    case unavailable(String)

    /// The raw count, or nil when unavailable.
    public var rawValue: UInt64? {
        if case .value(let v, _, _) = self { return v }
        return nil
    }

    /// The count scaled for multiplexing, `value × enabled / running` (perf's usual estimate);
    /// the raw count when the counter ran the whole time; nil when unavailable or never scheduled.
    public var scaledValue: Double? {
        guard case .value(let v, let enabled, let running) = self else { return nil }
        if running == 0 { return v == 0 && enabled == 0 ? 0 : nil }
        if running >= enabled { return Double(v) }
        return Double(v) * Double(enabled) / Double(running)
    }

    /// True when the kernel multiplexed the counter (it ran for less time than it was enabled).
    public var isMultiplexed: Bool {
        if case .value(_, let enabled, let running) = self { return running < enabled }
        return false
    }

    /// The reason, when unavailable.
    public var unavailableReason: String? {
        if case .unavailable(let reason) = self { return reason }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case value
        case timeEnabled = "time_enabled"
        case timeRunning = "time_running"
        case unavailable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let reason = try c.decodeIfPresent(String.self, forKey: .unavailable) {
            self = .unavailable(reason)
        } else {
            self = .value(try c.decode(UInt64.self, forKey: .value),
                          enabled: try c.decode(UInt64.self, forKey: .timeEnabled),
                          running: try c.decode(UInt64.self, forKey: .timeRunning))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .value(let v, let enabled, let running):
            try c.encode(v, forKey: .value)
            try c.encode(enabled, forKey: .timeEnabled)
            try c.encode(running, forKey: .timeRunning)
        case .unavailable(let reason):
            try c.encode(reason, forKey: .unavailable)
        }
    }
}

/// The readings of one measurement, by event name as requested (e.g. "perf::CYCLES", "kvm.vm.exits").
public struct CounterReadings: Sendable, Equatable, Codable {
    public var readings: [String: CounterReading]

    public init(_ readings: [String: CounterReading] = [:]) {
        self.readings = readings
    }

    public subscript(name: String) -> CounterReading? {
        get { readings[name] }
        set { readings[name] = newValue }
    }

    /// Event names in a stable (sorted) order.
    public var names: [String] { readings.keys.sorted() }

    /// The readings that have a value.
    public var available: [String: CounterReading] { readings.filter { $0.value.rawValue != nil } }

    /// The readings that could not be counted, with their reasons.
    public var unavailable: [String: String] { readings.compactMapValues(\.unavailableReason) }

    /// Adds `other`'s readings, replacing any of the same name.
    public mutating func merge(_ other: CounterReadings) {
        readings.merge(other.readings) { _, new in new }
    }

    public init(from decoder: any Decoder) throws {
        readings = try decoder.singleValueContainer().decode([String: CounterReading].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(readings)
    }
}

/// Something that counts events between `start()` and `stop()`: perf counters on a local process
/// (`PerfCounterGroup`), the probe on a remote host (`RemoteProbeCounterSource` in Probe), or recorded
/// readings in tests (`RecordedCounterSource`).
public protocol CounterSource: AnyObject, Sendable {
    /// Starts counting. Throws if the source cannot count at all (events it cannot count are
    /// reported as unavailable by `stop()` instead).
    func start() throws
    /// Stops counting and returns every requested event, each with a value or a reason.
    func stop() throws -> CounterReadings
}

/// Runs `body` between `source.start()` and `source.stop()`. If `body` throws (or is cancelled),
/// the source is still stopped, and `body`'s error is rethrown.
public func withCounters<T>(
    _ source: any CounterSource, _ body: () async throws -> T
) async throws -> (result: T, readings: CounterReadings) {
    try source.start()
    let result: T
    do {
        result = try await body()
    } catch {
        _ = try? source.stop()
        throw error
    }
    return (result, try source.stop())
}

/// A test double that returns recorded readings, one set per `stop()`, in order.
public final class RecordedCounterSource: CounterSource, @unchecked Sendable {
    // @unchecked Sendable: all mutable state is guarded by `lock`.
    private let lock = NSLockShim()
    private var pending: [CounterReadings]
    private var running = false
    private var starts = 0

    /// - Parameter readings: returned by successive `stop()` calls; the last one repeats.
    public init(_ readings: [CounterReadings]) {
        precondition(!readings.isEmpty, "RecordedCounterSource needs at least one set of readings")
        pending = readings
    }

    public convenience init(_ readings: CounterReadings) {
        self.init([readings])
    }

    /// How many times `start()` was called.
    public var startCount: Int { lock.withLock { starts } }

    /// True between `start()` and `stop()`.
    public var isRunning: Bool { lock.withLock { running } }

    public func start() throws {
        try lock.withLock {
            if running { throw RVBenchError(.internal, "counter source started twice; call stop() first") }
            running = true
            starts += 1
        }
    }

    public func stop() throws -> CounterReadings {
        try lock.withLock {
            guard running else { throw RVBenchError(.internal, "counter source stopped before it was started") }
            running = false
            return pending.count > 1 ? pending.removeFirst() : pending[0]
        }
    }
}
