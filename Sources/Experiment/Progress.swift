// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import RVBenchCore

/// Where a boot stands in the run.
public struct BootProgress: Sendable, Equatable {
    public var variant: String
    public var boot: Int
    /// 1-based.
    public var attempt: Int
    public var round: Int
    /// 1-based position of this boot among the boots of the experiment (done ones included).
    public var index: Int
    /// Boots the experiment is known to need so far; grows when the stopping rule asks for a round.
    public var total: Int

    public init(variant: String, boot: Int, attempt: Int, round: Int, index: Int, total: Int) {
        self.variant = variant; self.boot = boot; self.attempt = attempt; self.round = round
        self.index = index; self.total = total
    }
}

/// Something a progress display may show.
public enum ProgressEvent: Sendable, Equatable {
    /// `doneBoots` were finished by earlier sessions.
    case experimentStarted(experiment: String, runID: String, session: Int, totalBoots: Int, doneBoots: Int)
    case notRun(variant: String, reason: String)
    case bootStarted(BootProgress)
    case workloadStarted(BootProgress, workload: String)
    case sampleRecorded(BootProgress, sample: BootSample)
    /// `failure` is nil for a boot that ended ok; `willRetry` says whether another attempt follows.
    case bootFinished(BootProgress, failure: String?, willRetry: Bool, seconds: Double)
    case stoppingDecision(rounds: Int, continueRunning: Bool, reason: String)
    case experimentFinished(status: RunSummary.Status, bootsOK: Int, bootsFailed: Int, seconds: Double)
}

/// Receives progress. Implementations must be cheap: they are called from the run loop.
public protocol ProgressSink: Sendable {
    func report(_ event: ProgressEvent)
}

/// Where a sink writes text.
public struct TextOutput: Sendable {
    public let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// The process's standard error, unbuffered.
    public static let standardError = TextOutput { text in
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The process's standard output.
    public static let standardOutput = TextOutput { text in
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Short durations for progress lines.
public enum DurationText {
    /// `42s`, `3m05s`, `1h02m`; `?` for a negative or non-finite value.
    public static func short(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + String(format: "%02ds", s % 60) }
        return "\(s / 3600)h" + String(format: "%02dm", s / 60 % 60)
    }
}

/// Nothing at all (`--quiet`).
public struct SilentProgress: ProgressSink {
    public init() {}
    public func report(_ event: ProgressEvent) {}
}

/// Boot counts and the mean boot duration of this session, for ETAs.
struct ProgressTally {
    var finished = 0
    var seconds = 0.0
    var total = 0
    var done = 0

    mutating func record(_ event: ProgressEvent) {
        switch event {
        case .experimentStarted(_, _, _, let totalBoots, let doneBoots):
            total = totalBoots; done = doneBoots
        case .bootStarted(let p), .workloadStarted(let p, _), .sampleRecorded(let p, _):
            total = max(total, p.total)
        case .bootFinished(let p, _, let willRetry, let duration):
            total = max(total, p.total)
            finished += 1
            seconds += duration
            if !willRetry { done += 1 }
        default:
            break
        }
    }

    /// Mean seconds per attempt × boots left, or nil before the first boot finished.
    var eta: Double? {
        guard finished > 0 else { return nil }
        return seconds / Double(finished) * Double(max(0, total - done))
    }
}

/// One line per boot start, boot end and decision (standard error when it is not a terminal).
public final class PlainProgress: ProgressSink, @unchecked Sendable {
    // @unchecked Sendable: `tally` is only touched while holding `lock`.
    private let output: TextOutput
    private let lock = NSLock()
    private var tally = ProgressTally()

    public init(output: TextOutput = .standardError) {
        self.output = output
    }

    public func report(_ event: ProgressEvent) {
        lock.lock()
        tally.record(event)
        let eta = tally.eta
        lock.unlock()
        func position(_ p: BootProgress) -> String { "[\(p.index)/\(p.total)] \(p.variant) boot \(p.boot)" }
        switch event {
        case .experimentStarted(let name, let runID, let session, let total, let done):
            let resumed = session > 0 ? ", resumed (session \(session)), \(done) already done" : ""
            output.write("experiment \(name): \(total) boots planned, run \(runID)\(resumed)\n")
        case .notRun(let variant, let reason):
            output.write("variant \(variant) not run: \(reason)\n")
        case .bootStarted(let p):
            output.write("\(position(p)) attempt \(p.attempt) started\n")
        case .workloadStarted(let p, let workload):
            output.write("\(position(p)) \(workload)\n")
        case .sampleRecorded:
            break
        case .bootFinished(let p, let failure, let willRetry, let seconds):
            let etaText = eta.map { ", ETA \(DurationText.short($0))" } ?? ""
            if let failure {
                output.write("\(position(p)) attempt \(p.attempt) failed after \(DurationText.short(seconds)): \(failure)"
                    + (willRetry ? "; retrying" : "; giving up on this boot") + "\(etaText)\n")
            } else {
                output.write("\(position(p)) ok in \(DurationText.short(seconds))\(etaText)\n")
            }
        case .stoppingDecision(let rounds, let more, let reason):
            output.write("after \(rounds) rounds: \(more ? "another round" : "stopping") (\(reason))\n")
        case .experimentFinished(let status, let ok, let failed, let seconds):
            output.write("experiment \(status.rawValue): \(ok) boots ok, \(failed) failed, \(DurationText.short(seconds))\n")
        }
    }
}

/// A progress bar with an ETA, redrawn in place on a terminal; failures and the end stay on screen.
public final class TerminalProgress: ProgressSink, @unchecked Sendable {
    // @unchecked Sendable: `tally` and `current` are only touched while holding `lock`.
    private let output: TextOutput
    private let width: Int
    private let lock = NSLock()
    private var tally = ProgressTally()
    private var current = ""

    public init(output: TextOutput = .standardError, width: Int = 24) {
        self.output = output
        self.width = max(4, width)
    }

    /// Whether standard error is a terminal (then the CLI picks this sink).
    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }

    static let clearLine = "\r\u{1B}[2K"

    public func report(_ event: ProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        tally.record(event)
        var permanent: String?
        switch event {
        case .experimentStarted(let name, let runID, _, _, _):
            permanent = "\(name) (run \(runID))"
        case .notRun(let variant, let reason):
            permanent = "\(variant): not run: \(reason)"
        case .bootStarted(let p):
            current = "\(p.variant) boot \(p.boot)" + (p.attempt > 1 ? " (attempt \(p.attempt))" : "")
        case .workloadStarted(let p, let workload):
            current = "\(p.variant) boot \(p.boot) \(workload)"
        case .sampleRecorded:
            break
        case .bootFinished(let p, let failure, let willRetry, _):
            if let failure {
                permanent = "\(p.variant) boot \(p.boot) attempt \(p.attempt) failed: \(failure)"
                    + (willRetry ? " (retrying)" : " (giving up)")
            }
        case .stoppingDecision(let rounds, let more, _):
            if more { current = "round \(rounds + 1): the CI is still too wide" }
        case .experimentFinished(let status, let ok, let failed, let seconds):
            output.write(Self.clearLine + "\(status.rawValue): \(ok) boots ok, \(failed) failed in \(DurationText.short(seconds))\n")
            return
        }
        var text = Self.clearLine
        if let permanent { text += permanent + "\n" }
        text += bar()
        output.write(text)
    }

    private func bar() -> String {
        let total = max(tally.total, 1)
        let done = min(tally.done, total)
        let filled = done * width / total
        let eta = tally.eta.map { "ETA \(DurationText.short($0))" } ?? "ETA --"
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(done)/\(total) boots  \(eta)" + (current.isEmpty ? "" : "  \(current)")
    }
}

/// One JSON object per line (`--json`): `{"event": "boot-finished", ...}` with snake_case keys.
public struct JSONProgress: ProgressSink {
    private let output: TextOutput

    public init(output: TextOutput = .standardOutput) {
        self.output = output
    }

    struct Line: Encodable {
        var event: String
        var experiment: String?
        var runID: String?
        var session: Int?
        var totalBoots: Int?
        var doneBoots: Int?
        var variant: String?
        var boot: Int?
        var attempt: Int?
        var round: Int?
        var index: Int?
        var total: Int?
        var workload: String?
        var iteration: Int?
        var metric: String?
        var value: Double?
        var unit: String?
        var ok: Bool?
        var reason: String?
        var willRetry: Bool?
        var seconds: Double?
        var rounds: Int?
        var continueRunning: Bool?
        var status: String?
        var bootsOK: Int?
        var bootsFailed: Int?

        init(event: String) { self.event = event }

        enum CodingKeys: String, CodingKey {
            case event, experiment, session, variant, boot, attempt, round, index, total, workload, iteration, metric
            case value, unit, ok, reason, seconds, rounds, status
            case runID = "run_id", totalBoots = "total_boots", doneBoots = "done_boots", willRetry = "will_retry"
            case continueRunning = "continue", bootsOK = "boots_ok", bootsFailed = "boots_failed"
        }

        mutating func set(_ p: BootProgress) {
            variant = p.variant; boot = p.boot; attempt = p.attempt; round = p.round; index = p.index; total = p.total
        }
    }

    static func line(for event: ProgressEvent) -> Line {
        switch event {
        case .experimentStarted(let name, let runID, let session, let total, let done):
            var l = Line(event: "experiment-started")
            l.experiment = name; l.runID = runID; l.session = session; l.totalBoots = total; l.doneBoots = done
            return l
        case .notRun(let variant, let reason):
            var l = Line(event: "not-run")
            l.variant = variant; l.reason = reason
            return l
        case .bootStarted(let p):
            var l = Line(event: "boot-started")
            l.set(p)
            return l
        case .workloadStarted(let p, let workload):
            var l = Line(event: "workload-started")
            l.set(p); l.workload = workload
            return l
        case .sampleRecorded(let p, let s):
            var l = Line(event: "sample")
            l.set(p); l.workload = s.workload; l.iteration = s.iteration; l.metric = s.metric; l.value = s.value
            l.unit = s.unit
            return l
        case .bootFinished(let p, let failure, let willRetry, let seconds):
            var l = Line(event: "boot-finished")
            l.set(p); l.ok = failure == nil; l.reason = failure; l.willRetry = willRetry; l.seconds = seconds
            return l
        case .stoppingDecision(let rounds, let more, let reason):
            var l = Line(event: "stopping")
            l.rounds = rounds; l.continueRunning = more; l.reason = reason
            return l
        case .experimentFinished(let status, let ok, let failed, let seconds):
            var l = Line(event: "experiment-finished")
            l.status = status.rawValue; l.bootsOK = ok; l.bootsFailed = failed; l.seconds = seconds
            return l
        }
    }

    public func report(_ event: ProgressEvent) {
        guard let data = try? ResultsJSON.encoder(pretty: false).encode(Self.line(for: event)) else { return }
        output.write(String(decoding: data, as: UTF8.self) + "\n")
    }
}

/// Which progress display a command uses; the CLI maps `--json` and `--quiet` onto it.
public enum ProgressMode: String, Sendable, CaseIterable {
    /// A progress bar on a terminal, plain lines otherwise.
    case auto
    /// The redrawn progress bar with an ETA (`TerminalProgress`, standard error).
    case terminal
    /// One line per event (`PlainProgress`, standard error), for logs and CI.
    case plain
    /// JSON lines on standard output (`JSONProgress`), read by scripts and CI jobs.
    case json
    /// Nothing.
    case quiet

    /// The mode for the usual flags: `--quiet` wins over `--json`, and otherwise the display follows
    /// whether standard error is a terminal.
    public static func from(json: Bool, quiet: Bool) -> ProgressMode {
        quiet ? .quiet : json ? .json : .auto
    }

    /// A sink for this mode; `isTerminal` decides `auto` (default: whether standard error is a terminal).
    public func makeSink(isTerminal: Bool = TerminalProgress.standardErrorIsTerminal) -> any ProgressSink {
        switch self {
        case .auto: return isTerminal ? TerminalProgress() : PlainProgress()
        case .terminal: return TerminalProgress()
        case .plain: return PlainProgress()
        case .json: return JSONProgress()
        case .quiet: return SilentProgress()
        }
    }
}
