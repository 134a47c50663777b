// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// One value a boot reports for a measured iteration.
public struct BootSample: Sendable, Equatable {
    /// The scheduled workload's label (`ScheduledWorkload.label`).
    public var workload: String
    /// 0-based measured iteration (warm-up iterations are not reported).
    public var iteration: Int
    /// e.g. `wall_ns`, `fps`, `counter.perf::CYCLES`.
    public var metric: String
    public var value: Double
    /// The unit when the producer defines it (the runner's times, counters); nil: the workload manifest
    /// gives it.
    public var unit: String?
    /// Seconds since the Unix epoch when the value was taken; nil: when the runner received it.
    public var timestamp: Double?
    /// `.counter` for the counters the executor reads; nil: the workload manifest says what the metric is.
    public var kind: MetricKind?

    public init(workload: String, iteration: Int, metric: String, value: Double, unit: String?, timestamp: Double? = nil,
                kind: MetricKind? = nil) {
        self.workload = workload; self.iteration = iteration; self.metric = metric; self.value = value
        self.unit = unit; self.timestamp = timestamp; self.kind = kind
    }

    /// A value of a metric whose kind and unit the producer knows (a counter).
    public init(workload: String, iteration: Int, metric: MetricID, value: Double, timestamp: Double? = nil) {
        self.init(workload: workload, iteration: iteration, metric: metric.name, value: value, unit: metric.unit,
                  timestamp: timestamp, kind: metric.kind)
    }
}

/// What an executor reports while a boot runs.
///
/// The expected order is `booted`, then for each workload `workloadStarted`, its samples and
/// `workloadFinished`, and then the stream ends once the guest is gone. `booted` may be left out (the
/// first other event implies it), and so may the workload markers; the timeouts are then coarser.
public enum BootEvent: Sendable, Equatable {
    /// The guest (or, for `native`, the runner on the host) is up. Ends the boot timeout.
    case booted
    /// A workload begins (its label). Restarts the workload timeout.
    case workloadStarted(String)
    /// A measured value.
    case sample(BootSample)
    /// A workload is done (its label). Restarts the workload timeout for whatever comes next.
    case workloadFinished(String)
    /// The executor saw the boot fail: a crash, a QEMU death, a runner error line, a checksum mismatch.
    case failed(reason: String, workload: String?, iteration: Int?)
    /// A line for the debug log (e.g. console output); not recorded.
    case log(String)
}

extension BootSample {
    /// The workload label of per-boot host samples (perf counters, KVM exit statistics), which belong to
    /// no single workload.
    public static let bootLabel = "boot"
}

/// Turns the runner's output (console or SSH) into boot events, strictly and with bounded memory.
///
/// `@unchecked Sendable`: fed from one reader thread at a time; state guarded by `lock`.
public final class GuestLineTranslator: @unchecked Sendable {
    /// More rejected lines than this in one boot ends it: the guest is printing garbage.
    static let maxRejected = 200

    private let lock = NSLock()
    private var splitter = LineSplitter(maxLineBytes: GuestProtocol.maxLineBytes)
    private var parser = GuestProtocolParser()
    private let continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation
    private var booted = false
    private var current: String?
    private var sawEndFlag = false
    /// Result lines accepted so far (warm-up and measured), to check against the done line's count.
    private var resultLines = 0
    /// Workloads in the order their first result arrived, and the warm-up and measured results of each,
    /// to check against the done line's workloads, warm-up and iterations.
    private var arrived: [(workload: String, warmup: Int, measured: Int)] = []

    private var summaryValue: GuestSummary?

    /// The runner's `done` line, once it arrived (the first one; nothing after it is read).
    public var summary: GuestSummary? {
        lock.lock(); defer { lock.unlock() }
        return summaryValue
    }

    /// True once the runner's last line (done, error, or a failure that ends the boot) has arrived.
    public var sawEnd: Bool {
        lock.lock(); defer { lock.unlock() }
        return sawEndFlag
    }

    /// Where the raw output is also written, when a run records its consoles; nil for none.
    private let recording: FileHandle?

    public init(continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation, recording: FileHandle? = nil) {
        self.continuation = continuation
        self.recording = recording
    }

    public var rejectionSummary: String? {
        lock.lock(); defer { lock.unlock() }
        let c = parser.counts
        guard c.rejected > 0 else { return nil }
        return "malformed \(c.malformed), oversized \(c.oversized), unknown version \(c.unknownVersion)"
    }

    /// Feeds a chunk of a byte stream (SSH output).
    public func feed(_ chunk: Data) {
        lock.lock(); defer { lock.unlock() }
        recording?.write(chunk)
        for line in splitter.feed(chunk) { handle(parser.parse(line)) }
    }

    /// Ends a byte stream fed with `feed(_:)`: parses its unterminated last line, if any.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if let line = splitter.finish() { handle(parser.parse(line)) }
    }

    /// Feeds one line that the console stream already split (with a bound of at least
    /// ``GuestProtocol/maxLineBytes``). An oversized line is recorded by its head only.
    public func feedLine(_ line: LineSplitter.Line) {
        lock.lock(); defer { lock.unlock() }
        recording?.write(Data(line.bytes) + Data([0x0A]))
        handle(parser.parse(line))
    }

    private func handle(_ outcome: ParseOutcome) {
        if sawEndFlag { return }
        if !booted {
            booted = true
            continuation.yield(.booted)
        }
        switch outcome {
        case .rejected(let rejection):
            continuation.yield(.log("rejected guest line: \(rejection)"))
            if parser.counts.rejected > Self.maxRejected {
                sawEndFlag = true
                continuation.yield(.failed(reason: "the guest printed more than \(Self.maxRejected) malformed protocol lines",
                                           workload: current, iteration: nil))
            }
        case .line(.other):
            break
        case .line(.result(let r)):
            resultLines += 1
            if arrived.last?.workload != r.workload { arrived.append((r.workload, 0, 0)) }
            if r.phase == .measure { arrived[arrived.count - 1].measured += 1 } else { arrived[arrived.count - 1].warmup += 1 }
            if current != r.workload {
                if let current { continuation.yield(.workloadFinished(current)) }
                current = r.workload
                continuation.yield(.workloadStarted(r.workload))
            }
            guard r.phase == .measure else { return }
            if !r.checksumOK {
                sawEndFlag = true
                continuation.yield(.failed(reason: "output check failed: \(r.verifyProblem ?? "checksum \(r.checksum) does not match")",
                                           workload: r.workload, iteration: r.iteration))
                return
            }
            for sample in Self.samples(of: r) { continuation.yield(.sample(sample)) }
        case .line(.done(let summary)):
            summaryValue = summary
            if let current { continuation.yield(.workloadFinished(current)) }
            current = nil
            sawEndFlag = true
            if let mismatch = Self.mismatch(summary, resultLines: resultLines, arrived: arrived) {
                // The runner counts every result line it printed; a difference means lines were lost or forged.
                continuation.yield(.failed(reason: "the runner's done line \(mismatch): output was lost on the way; "
                    + "check the console or SSH link", workload: nil, iteration: nil))
            }
        case .line(.error(let e)):
            sawEndFlag = true
            continuation.yield(.failed(reason: "runner error: \(e.reason)", workload: e.workload ?? current, iteration: e.iteration))
        }
    }

    /// How the done line disagrees with the results that arrived, or nil when it agrees: the count of
    /// result lines, the workloads in the order they ran, and each one's warm-up and measured iterations.
    static func mismatch(_ summary: GuestSummary, resultLines: Int,
                         arrived: [(workload: String, warmup: Int, measured: Int)]) -> String? {
        if summary.results != resultLines {
            return "counts \(summary.results) result lines, but \(resultLines) arrived"
        }
        let names = arrived.map(\.workload)
        if summary.workloads != names {
            return "names workloads \(summary.workloads.joined(separator: ",")), but results of "
                + "\(names.isEmpty ? "none" : names.joined(separator: ",")) arrived"
        }
        for a in arrived where a.warmup != summary.warmup || a.measured != summary.iterations {
            return "says \(summary.warmup) warm-up and \(summary.iterations) measured iterations per workload, but "
                + "\(a.workload) has \(a.warmup) and \(a.measured)"
        }
        return nil
    }

    /// The samples of one measured result: times, the workload's own metrics, and guest counters.
    ///
    /// The protocol defines the units of the times (ns) and of the counters (events). A workload's own
    /// metrics get no unit here: their workload manifest gives it (`metric_kinds`).
    public static func samples(of r: GuestResult) -> [BootSample] {
        var out = [
            BootSample(workload: r.workload, iteration: r.iteration, metric: "wall_ns", value: Double(r.wallNanoseconds), unit: "ns"),
            BootSample(workload: r.workload, iteration: r.iteration, metric: "user_ns", value: Double(r.userNanoseconds), unit: "ns"),
            BootSample(workload: r.workload, iteration: r.iteration, metric: "sys_ns", value: Double(r.systemNanoseconds), unit: "ns"),
        ]
        for (name, value) in r.metrics.sorted(by: { $0.key < $1.key }) where value.isFinite {
            out.append(BootSample(workload: r.workload, iteration: r.iteration, metric: name, value: value, unit: nil))
        }
        for (name, value) in r.counters.sorted(by: { $0.key < $1.key }) {
            out.append(BootSample(workload: r.workload, iteration: r.iteration, metric: .counter(.guest, name),
                                  value: Double(value)))
        }
        return out
    }
}

