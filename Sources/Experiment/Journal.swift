// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// One line of `journal.jsonl`: the experiment's event log, next to `samples.jsonl`.
///
/// Every entry carries `samples_bytes`, the length of `samples.jsonl` when it was written. That is how
/// the journal says which bytes of `samples.jsonl` are committed: everything up to the `samples_bytes`
/// of the last entry, unless a boot is open (a `boot-start` without its `boot-end`), in which case only
/// up to the `samples_bytes` of that `boot-start`. docs/spec.md ("Journal and resume") has the full
/// protocol.
///
/// On disk an entry is one flat JSON object: `record` names the event, `timestamp` and `samples_bytes`
/// come with every one, and each event adds its own keys (fields that do not apply are omitted).
public struct JournalEntry: Sendable, Equatable {
    /// Seconds since the Unix epoch.
    public var timestamp: Double
    /// Length of `samples.jsonl` in bytes after this entry's own sample-file writes.
    public var samplesBytes: Int64
    public var event: JournalEvent

    public init(_ event: JournalEvent, timestamp: Double, samplesBytes: Int64) {
        self.event = event; self.timestamp = timestamp; self.samplesBytes = samplesBytes
    }

    /// The event's kind: the value of the `record` key.
    public var record: JournalEvent.Kind { event.kind }

    /// One compact JSON line with sorted keys, ending in "\n".
    public func line() throws -> Data {
        var data = try ResultsJSON.encoder(pretty: false).encode(self)
        data.append(0x0a)
        return data
    }
}

/// What a journal entry records.
public enum JournalEvent: Sendable, Equatable {
    /// `run` or `resume` starts.
    case experimentStart(SessionStart)
    /// A boot attempt begins.
    case bootStart(BootStart)
    /// A boot attempt ended, ok or failed.
    case bootEnd(BootEnd)
    /// Why a boot attempt failed (written just before its failed `boot-end`).
    case failure(BootFailure)
    /// A variant (or a workload of it) that will not run, with the reason.
    case notRun(NotRun)
    /// The adaptive stopping rule's answer after some rounds.
    case stopping(Stopping)
    /// `run` or `resume` finished.
    case experimentEnd(SessionEnd)

    /// The value of the `record` key.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case experimentStart = "experiment-start"
        case bootStart = "boot-start"
        case bootEnd = "boot-end"
        case failure
        case notRun = "not-run"
        case stopping
        case experimentEnd = "experiment-end"
    }

    public var kind: Kind {
        switch self {
        case .experimentStart: return .experimentStart
        case .bootStart: return .bootStart
        case .bootEnd: return .bootEnd
        case .failure: return .failure
        case .notRun: return .notRun
        case .stopping: return .stopping
        case .experimentEnd: return .experimentEnd
        }
    }

    /// experiment-start: spec hash, seed, run ID and session number.
    public struct SessionStart: Sendable, Equatable {
        public var experiment: String
        /// Nil for a spec built in code (no text to hash).
        public var specSHA256: String?
        public var seed: UInt64
        /// Stable across resumes; names the run's domains (`rvbench-RUNID-…`).
        public var runID: String
        /// 0 for `run`, then 1, 2, … for each `resume`.
        public var session: Int

        public init(experiment: String, specSHA256: String?, seed: UInt64, runID: String, session: Int) {
            self.experiment = experiment; self.specSHA256 = specSHA256; self.seed = seed; self.runID = runID
            self.session = session
        }
    }

    /// boot-start: which boot of the schedule, and which attempt at it.
    public struct BootStart: Sendable, Equatable {
        public var variant: String
        public var boot: Int
        public var round: Int
        public var sequence: Int
        /// 1-based attempt of the boot.
        public var attempt: Int

        public init(variant: String, boot: Int, round: Int, sequence: Int, attempt: Int) {
            self.variant = variant; self.boot = boot; self.round = round; self.sequence = sequence
            self.attempt = attempt
        }

        public var key: BootKey { BootKey(variant: variant, boot: boot) }
    }

    /// boot-end: how the attempt ended.
    public struct BootEnd: Sendable, Equatable {
        public var variant: String
        public var boot: Int
        /// 1-based attempt of the boot.
        public var attempt: Int
        public var outcome: Outcome

        public enum Outcome: Sendable, Equatable {
            /// The boot's samples are committed.
            case ok
            /// The attempt failed; `retry` says whether another attempt follows.
            case failed(reason: String, retry: Bool)
        }

        /// The value of the `status` key.
        public enum Status: String, Codable, Sendable, CaseIterable {
            case ok
            case failed
        }

        public init(variant: String, boot: Int, attempt: Int, outcome: Outcome) {
            self.variant = variant; self.boot = boot; self.attempt = attempt; self.outcome = outcome
        }

        public var key: BootKey { BootKey(variant: variant, boot: boot) }

        public var status: Status {
            if case .ok = outcome { return .ok }
            return .failed
        }
    }

    /// failure: what failed in an attempt, where known.
    public struct BootFailure: Sendable, Equatable {
        public var variant: String
        public var boot: Int
        public var attempt: Int
        public var workload: String?
        public var iteration: Int?
        public var reason: String

        public init(variant: String, boot: Int, attempt: Int, workload: String? = nil, iteration: Int? = nil,
                    reason: String) {
            self.variant = variant; self.boot = boot; self.attempt = attempt; self.workload = workload
            self.iteration = iteration; self.reason = reason
        }
    }

    /// not-run: a variant (or one workload of it) that will not run.
    public struct NotRun: Sendable, Equatable {
        public var variant: String
        public var workload: String?
        public var reason: String

        public init(variant: String, workload: String? = nil, reason: String) {
            self.variant = variant; self.workload = workload; self.reason = reason
        }
    }

    /// stopping: the rule's answer when `rounds` rounds were complete.
    public struct Stopping: Sendable, Equatable {
        public var rounds: Int
        public var decision: Decision
        public var reason: String

        /// The value of the `decision` key.
        public enum Decision: String, Codable, Sendable, CaseIterable {
            case `continue`
            case stop
        }

        public init(rounds: Int, decision: Decision, reason: String) {
            self.rounds = rounds; self.decision = decision; self.reason = reason
        }
    }

    /// experiment-end: how the session ended.
    public struct SessionEnd: Sendable, Equatable {
        public var status: RunSummary.Status
        public var reason: String?

        public init(status: RunSummary.Status, reason: String? = nil) {
            self.status = status; self.reason = reason
        }
    }
}

extension RunSummary.Status: Codable {}

extension JournalEntry: Codable {
    enum CodingKeys: String, CodingKey {
        case record, timestamp
        case samplesBytes = "samples_bytes"
    }

    /// The event's own keys sit next to `record`, `timestamp` and `samples_bytes` in the one object.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timestamp = try c.decode(Double.self, forKey: .timestamp)
        samplesBytes = try c.decode(Int64.self, forKey: .samplesBytes)
        let kindText = try c.decode(String.self, forKey: .record)
        guard let kind = JournalEvent.Kind(rawValue: kindText) else {
            throw DecodingError.dataCorruptedError(forKey: .record, in: c, debugDescription:
                "unknown journal record \"\(kindText)\" (written by a newer rvbench?)")
        }
        switch kind {
        case .experimentStart: event = .experimentStart(try .init(from: decoder))
        case .bootStart: event = .bootStart(try .init(from: decoder))
        case .bootEnd: event = .bootEnd(try .init(from: decoder))
        case .failure: event = .failure(try .init(from: decoder))
        case .notRun: event = .notRun(try .init(from: decoder))
        case .stopping: event = .stopping(try .init(from: decoder))
        case .experimentEnd: event = .experimentEnd(try .init(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(record, forKey: .record)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(samplesBytes, forKey: .samplesBytes)
        switch event {
        case .experimentStart(let e): try e.encode(to: encoder)
        case .bootStart(let e): try e.encode(to: encoder)
        case .bootEnd(let e): try e.encode(to: encoder)
        case .failure(let e): try e.encode(to: encoder)
        case .notRun(let e): try e.encode(to: encoder)
        case .stopping(let e): try e.encode(to: encoder)
        case .experimentEnd(let e): try e.encode(to: encoder)
        }
    }
}

// Each event adds its own keys to the journal line: its properties by name, with the two renames below, and
// BootEnd's outcome spelled out as `status`, `reason` and `retry`.
extension JournalEvent.BootStart: Codable {}
extension JournalEvent.BootFailure: Codable {}
extension JournalEvent.NotRun: Codable {}
extension JournalEvent.Stopping: Codable {}
extension JournalEvent.SessionEnd: Codable {}

extension JournalEvent.SessionStart: Codable {
    enum CodingKeys: String, CodingKey {
        case experiment, seed, session
        case specSHA256 = "spec_sha256"
        case runID = "run_id"
    }
}

/// On disk the outcome is `status`, and for a failed attempt `reason` and `retry`.
extension JournalEvent.BootEnd: Codable {
    enum CodingKeys: String, CodingKey {
        case variant, boot, attempt, status, reason, retry
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let outcome: Outcome
        switch try c.decode(Status.self, forKey: .status) {
        case .ok: outcome = .ok
        case .failed: outcome = .failed(reason: try c.decode(String.self, forKey: .reason),
                                        retry: try c.decode(Bool.self, forKey: .retry))
        }
        self.init(variant: try c.decode(String.self, forKey: .variant), boot: try c.decode(Int.self, forKey: .boot),
                  attempt: try c.decode(Int.self, forKey: .attempt), outcome: outcome)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(variant, forKey: .variant)
        try c.encode(boot, forKey: .boot)
        try c.encode(attempt, forKey: .attempt)
        try c.encode(status, forKey: .status)
        if case .failed(let reason, let retry) = outcome {
            try c.encode(reason, forKey: .reason)
            try c.encode(retry, forKey: .retry)
        }
    }
}

/// The (variant, boot, workload, iteration) of a measured iteration.
public struct IterationKey: Hashable, Sendable, CustomStringConvertible {
    public var variant: String
    public var boot: Int
    public var workload: String
    public var iteration: Int

    public var description: String { "\(variant) boot \(boot) \(workload) iteration \(iteration)" }
}

extension IterationKey {
    /// The iteration `sample` was taken in.
    public init(_ sample: Sample) {
        self.init(variant: sample.variant, boot: sample.boot, workload: sample.workload, iteration: sample.iteration)
    }
}

/// What a results directory's journal says has happened. Made by `Journal.replay(_:)`.
public struct JournalState: Sendable, Equatable {
    /// Every whole entry of `journal.jsonl`, in order.
    public var entries: [JournalEntry] = []
    /// Samples of boots that ended ok (the committed part of `samples.jsonl`), in file order.
    public var samples: [Sample] = []
    /// Committed failure records of `samples.jsonl`.
    public var failures: [FailureRecord] = []
    /// Committed not-run records of `samples.jsonl`.
    public var notRun: [NotRunRecord] = []
    /// Boots that ended ok, with the attempt that did.
    public var completedBoots: [BootKey: Int] = [:]
    /// Boots whose last attempt failed with no retry to follow: they are not run again.
    public var failedBoots: Set<BootKey> = []
    /// Ended attempts (ok or failed) per boot. An attempt cut short by a crash or an interrupt is not counted.
    public var endedAttempts: [BootKey: Int] = [:]
    /// The boot-start of an attempt that never ended (the controller died or was interrupted). Its samples
    /// are not committed; resume runs the boot again from scratch.
    public var openBoot: JournalEvent.BootStart?
    /// Stopping decisions by rounds completed: true to continue.
    public var stoppingDecisions: [Int: Bool] = [:]
    /// The last experiment-end, if the last session finished.
    public var lastEnd: JournalEvent.SessionEnd?
    /// Byte length of `journal.jsonl` up to the last whole entry, and its actual length.
    public var journalValidBytes: Int64 = 0
    public var journalBytes: Int64 = 0
    /// Committed byte length of `samples.jsonl`, and its actual length.
    public var samplesCommittedBytes: Int64 = 0
    public var samplesBytes: Int64 = 0

    public init() {}

    /// The first experiment-start.
    public var start: JournalEvent.SessionStart? {
        for entry in entries { if case .experimentStart(let start) = entry.event { return start } }
        return nil
    }
    /// Sessions so far (`run` plus each `resume`).
    public var sessions: Int { entries.filter { $0.record == .experimentStart }.count }
    public var runID: String? { start?.runID }
    public var specSHA256: String? { start?.specSHA256 }
    /// Whether the last session ended with status complete.
    public var isComplete: Bool { lastEnd?.status == .complete }
    /// Whether a resume must truncate a torn journal line or uncommitted samples before appending.
    public var needsRepair: Bool { journalValidBytes != journalBytes || samplesCommittedBytes != samplesBytes }

    /// Whether the boot needs no further attempt (ended ok, or failed for good).
    public func isDone(_ key: BootKey) -> Bool {
        completedBoots[key] != nil || failedBoots.contains(key)
    }

    /// Measured iterations with at least one committed sample.
    public var completedIterations: Set<IterationKey> { Set(samples.map(IterationKey.init)) }
}

/// The append-only journal of a results directory: `journal.jsonl` (events) and `samples.jsonl` (samples).
///
/// Both files are `AppendOnlyFile`s: every record is one `write(2)` of one whole line, followed by
/// `fsync`. Samples go to `samples.jsonl` as they arrive; a boot's samples become committed when its
/// `boot-end ok` entry reaches `journal.jsonl`. A boot that fails has its samples rolled back (the file is
/// truncated to the length at its `boot-start`) before its failure is recorded; a boot cut short by a
/// crash is rolled back the same way by `reopen`. So `samples.jsonl` only ever keeps the samples of boots
/// that ended ok, each once. An open journal holds an exclusive `flock` on `journal.jsonl`.
public final class Journal {
    public static let journalName = "journal.jsonl"
    public static let samplesName = ResultsDirectory.samplesName

    /// A write the journal made, for crash-simulation tests.
    enum Operation: Equatable, Sendable {
        case append(file: String, bytes: Data)
        case truncate(file: String, length: Int64)
    }

    public let directory: URL
    private let journal: AppendOnlyFile
    private let samples: AppendOnlyFile
    /// Current length of `samples.jsonl`.
    public var samplesBytes: Int64 { samples.length }
    /// `samples_bytes` of the open boot's boot-start, or nil between boots.
    public private(set) var openBootSamplesBytes: Int64?
    private let now: @Sendable () -> Double

    private init(directory: URL, journal: AppendOnlyFile, samples: AppendOnlyFile,
                 now: @escaping @Sendable () -> Double) {
        self.directory = directory; self.journal = journal; self.samples = samples; self.now = now
    }

    deinit {
        close()
    }

    /// Observes every write; set by tests only.
    var observer: (@Sendable (Operation) -> Void)? {
        didSet {
            for file in [journal, samples] {
                guard let observer else { file.observer = nil; continue }
                let name = file.name
                file.observer = { op in
                    switch op {
                    case .append(let bytes): observer(.append(file: name, bytes: bytes))
                    case .truncate(let length): observer(.truncate(file: name, length: length))
                    }
                }
            }
        }
    }

    public var journalURL: URL { directory.appendingPathComponent(Self.journalName) }
    public var samplesURL: URL { directory.appendingPathComponent(Self.samplesName) }

    /// The journal file's lock: one rvbench per experiment.
    private static let busyReason = "another rvbench is running this experiment"

    /// Starts a new journal in `directory` (created if missing). Refuses a directory that already has a
    /// non-empty `journal.jsonl` or `samples.jsonl`.
    public static func create(in directory: URL, now: @escaping @Sendable () -> Double = Journal.wallClock) throws -> Journal {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RVBenchError(.badInput, "cannot create the results directory \(directory.path); "
                + "choose a writable location", cause: error)
        }
        for name in [journalName, samplesName] {
            let url = directory.appendingPathComponent(name)
            if let size = AppendOnlyFile.size(of: url), size > 0 {
                throw RVBenchError(.badInput, "\(directory.path) already holds an experiment (\(name) is not empty); "
                    + "use `rvbench resume \(directory.path)` or choose a new results directory")
            }
        }
        let journal = try AppendOnlyFile.open(directory.appendingPathComponent(journalName), lock: true,
                                              busyReason: busyReason)
        let samples = try AppendOnlyFile.open(directory.appendingPathComponent(samplesName))
        AppendOnlyFile.syncDirectory(directory)
        return Journal(directory: directory, journal: journal, samples: samples, now: now)
    }

    /// Reopens an existing journal to continue it. First repairs what a crash left: a torn last line of
    /// `journal.jsonl` is cut off, and `samples.jsonl` is truncated to its committed length (dropping the
    /// samples of a boot that never ended and any torn line).
    public static func reopen(in directory: URL, state: JournalState,
                              now: @escaping @Sendable () -> Double = Journal.wallClock) throws -> Journal {
        let journal = try AppendOnlyFile.open(directory.appendingPathComponent(journalName),
                                              keeping: state.journalValidBytes, lock: true, busyReason: busyReason)
        let samples = try AppendOnlyFile.open(directory.appendingPathComponent(samplesName),
                                              keeping: state.samplesCommittedBytes)
        return Journal(directory: directory, journal: journal, samples: samples, now: now)
    }

    /// Closes both files. Further writes throw.
    public func close() {
        journal.close()
        samples.close()
    }

    public static let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    // MARK: Records

    /// Appends an event entry, stamped with the time and the current length of `samples.jsonl`.
    public func append(_ event: JournalEvent) throws {
        let entry = JournalEntry(event, timestamp: now(), samplesBytes: samplesBytes)
        try journal.append(try entry.line())
    }

    /// experiment-start.
    public func beginSession(experiment: String, specSHA256: String?, seed: UInt64, runID: String,
                             session: Int) throws {
        try append(.experimentStart(.init(experiment: experiment, specSHA256: specSHA256, seed: seed, runID: runID,
                                          session: session)))
    }

    /// boot-start. Samples appended until the matching `endBoot…` belong to this attempt.
    public func beginBoot(_ boot: ScheduledBoot, attempt: Int) throws {
        precondition(openBootSamplesBytes == nil, "a boot is already open")
        try append(.bootStart(.init(variant: boot.variant.name, boot: boot.boot, round: boot.round,
                                    sequence: boot.sequence, attempt: attempt)))
        openBootSamplesBytes = samplesBytes
    }

    /// Appends a sample of the open boot to `samples.jsonl` (a bare `Sample` line).
    public func recordSample(_ sample: Sample) throws {
        precondition(openBootSamplesBytes != nil, "samples belong to a boot")
        try samples.append(try JournalRecord.sample(sample).line())
    }

    /// boot-end ok: commits the boot's samples.
    public func endBootOK(_ boot: ScheduledBoot, attempt: Int) throws {
        precondition(openBootSamplesBytes != nil, "no boot is open")
        try append(.bootEnd(.init(variant: boot.variant.name, boot: boot.boot, attempt: attempt, outcome: .ok)))
        openBootSamplesBytes = nil
    }

    /// A failed attempt: rolls back its samples, then records the failure in `samples.jsonl` (a failure
    /// record) and in the journal (failure, then boot-end failed).
    public func endBootFailed(_ boot: ScheduledBoot, attempt: Int, failure: FailureRecord, retry: Bool) throws {
        try rollbackOpenBoot()
        try samples.append(try JournalRecord.failure(failure).line())
        try append(.failure(.init(variant: boot.variant.name, boot: boot.boot, attempt: attempt,
                                  workload: failure.workload, iteration: failure.iteration, reason: failure.reason)))
        try append(.bootEnd(.init(variant: boot.variant.name, boot: boot.boot, attempt: attempt,
                                  outcome: .failed(reason: failure.reason, retry: retry))))
        openBootSamplesBytes = nil
    }

    /// Drops the open boot's samples without recording anything (on interrupt): the journal is left as
    /// a crash would leave it, and resume runs the boot again.
    public func abandonOpenBoot() throws {
        try rollbackOpenBoot()
        openBootSamplesBytes = nil
    }

    private func rollbackOpenBoot() throws {
        guard let start = openBootSamplesBytes else { return }
        if samplesBytes != start { try samples.truncate(to: start) }
    }

    /// not-run: in `samples.jsonl` (a not-run record) and in the journal.
    public func recordNotRun(_ record: NotRunRecord) throws {
        precondition(openBootSamplesBytes == nil, "not-run records are written between boots")
        try samples.append(try JournalRecord.notRun(record).line())
        try append(.notRun(.init(variant: record.variant, workload: record.workload, reason: record.reason)))
    }

    /// stopping: the rule's answer after `rounds` rounds.
    public func recordStopping(rounds: Int, continueRunning: Bool, reason: String) throws {
        try append(.stopping(.init(rounds: rounds, decision: continueRunning ? .continue : .stop, reason: reason)))
    }

    /// experiment-end.
    public func endSession(status: RunSummary.Status, reason: String?) throws {
        try append(.experimentEnd(.init(status: status, reason: reason)))
    }
}

// MARK: - Replay

extension Journal {
    /// Reads `journal.jsonl` and the committed part of `samples.jsonl`.
    ///
    /// A torn last line of the journal (no final newline, or unreadable and followed by nothing readable)
    /// is ignored. An unreadable line followed by good ones, or a `samples.jsonl` shorter than the journal
    /// says, means the directory was damaged by something other than a crash: `.format` error.
    public static func replay(_ directory: URL) throws -> JournalState {
        let journalURL = directory.appendingPathComponent(journalName)
        let samplesURL = directory.appendingPathComponent(samplesName)
        guard let journalData = FileManager.default.contents(atPath: journalURL.path) else {
            throw RVBenchError(.notFound, "\(directory.path) has no \(journalName); pass a directory written by "
                + "`rvbench run`")
        }
        var state = JournalState()
        state.journalBytes = Int64(journalData.count)
        let decoder = ResultsJSON.decoder()
        var badLine: (Int, String)?
        for line in AppendOnlyFile.lines(in: journalData) {
            guard line.terminated else { break } // torn: no newline
            do {
                let entry = try decoder.decode(JournalEntry.self, from: Data(line.bytes))
                if let (number, message) = badLine {
                    throw RVBenchError(.format, "\(journalName):\(number) in \(directory.path) is unreadable "
                        + "(\(message)) but later entries are fine; the journal was damaged, not cut short")
                }
                state.entries.append(entry)
                state.journalValidBytes = Int64(line.end)
            } catch let error as RVBenchError {
                throw error
            } catch {
                if badLine == nil { badLine = (line.number, ResultsJSON.describe(error)) }
            }
        }
        apply(&state)
        state.samplesBytes = AppendOnlyFile.size(of: samplesURL) ?? 0
        guard state.samplesBytes >= state.samplesCommittedBytes else {
            throw RVBenchError(.format, "\(samplesName) in \(directory.path) has \(state.samplesBytes) bytes but the "
                + "journal committed \(state.samplesCommittedBytes); samples were lost outside rvbench")
        }
        if state.samplesCommittedBytes > 0 {
            guard let handle = FileHandle(forReadingAtPath: samplesURL.path) else {
                throw RVBenchError(.notFound, "cannot read \(samplesName) in \(directory.path); check its permissions")
            }
            defer { try? handle.close() }
            let data = handle.readData(ofLength: Int(state.samplesCommittedBytes))
            let contents = JournalContents.parse(data)
            if let problem = contents.problems.first {
                throw RVBenchError(.format, "\(problem) in \(directory.path) is damaged inside its committed part")
            }
            state.samples = contents.samples
            state.failures = contents.failures
            state.notRun = contents.notRun
        }
        return state
    }

    /// Folds the entries into boot states and the committed sample length.
    static func apply(_ state: inout JournalState) {
        var open: (start: JournalEvent.BootStart, samplesBytes: Int64)?
        for entry in state.entries {
            switch entry.event {
            case .experimentStart:
                open = nil // a new session starts between boots
                state.lastEnd = nil
            case .bootStart(let start):
                open = (start, entry.samplesBytes)
            case .bootEnd(let end):
                let key = end.key
                state.endedAttempts[key, default: 0] += 1
                switch end.outcome {
                case .ok:
                    state.completedBoots[key] = end.attempt
                    state.failedBoots.remove(key)
                case .failed(_, let retry):
                    if !retry { state.failedBoots.insert(key) }
                }
                open = nil
            case .stopping(let stopping):
                state.stoppingDecisions[stopping.rounds] = stopping.decision == .continue
            case .experimentEnd(let end):
                state.lastEnd = end
            case .failure, .notRun:
                break
            }
        }
        state.openBoot = open?.start
        state.samplesCommittedBytes = open?.samplesBytes ?? state.entries.last?.samplesBytes ?? 0
    }
}
