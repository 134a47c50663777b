// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RVBenchCore

/// One line of `journal.jsonl`: the experiment's event log, next to `samples.jsonl`.
///
/// Every entry carries `samples_bytes`, the length of `samples.jsonl` when it was written. That is how
/// the journal says which bytes of `samples.jsonl` are committed: everything up to the `samples_bytes`
/// of the last entry, unless a boot is open (a `boot-start` without its `boot-end`), in which case only
/// up to the `samples_bytes` of that `boot-start`. docs/spec.md ("Journal and resume") has the full
/// protocol. Fields that do not apply to a kind are omitted from the line.
public struct JournalEntry: Codable, Sendable, Equatable {
    /// The value of the `record` key.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Written when `run` or `resume` starts: spec hash, seed, run ID, session number.
        case experimentStart = "experiment-start"
        /// A boot attempt begins.
        case bootStart = "boot-start"
        /// A boot attempt ended: `status` ok or failed (with `reason` and `retry`).
        case bootEnd = "boot-end"
        /// Why a boot attempt failed: variant, workload, boot, iteration (where known) and reason.
        case failure
        /// A variant (or a workload of it) that will not run, with the reason.
        case notRun = "not-run"
        /// The adaptive stopping rule's answer after `rounds` rounds: `decision` continue or stop.
        case stopping
        /// `run` or `resume` finished: `status` complete or timed-out.
        case experimentEnd = "experiment-end"
    }

    public var record: Kind
    /// Seconds since the Unix epoch.
    public var timestamp: Double
    /// Length of `samples.jsonl` in bytes after this entry's own sample-file writes.
    public var samplesBytes: Int64
    public var experiment: String?
    public var specSHA256: String?
    public var seed: UInt64?
    /// Stable across resumes; names the run's domains (`rvbench-RUNID-…`).
    public var runID: String?
    /// 0 for `run`, then 1, 2, … for each `resume`.
    public var session: Int?
    public var variant: String?
    public var boot: Int?
    public var round: Int?
    public var sequence: Int?
    /// 1-based attempt of a boot.
    public var attempt: Int?
    /// boot-end: `ok` or `failed`; experiment-end: `complete` or `timed-out`.
    public var status: String?
    /// boot-end failed: whether another attempt follows.
    public var retry: Bool?
    public var workload: String?
    public var iteration: Int?
    public var reason: String?
    /// stopping: rounds completed when the rule was asked.
    public var rounds: Int?
    /// stopping: `continue` or `stop`.
    public var decision: String?

    public init(record: Kind, timestamp: Double, samplesBytes: Int64) {
        self.record = record; self.timestamp = timestamp; self.samplesBytes = samplesBytes
    }

    enum CodingKeys: String, CodingKey {
        case record, timestamp, experiment, seed, session, variant, boot, round, sequence, attempt, status, retry
        case workload, iteration, reason, rounds, decision
        case samplesBytes = "samples_bytes"
        case specSHA256 = "spec_sha256"
        case runID = "run_id"
    }

    /// The boot this entry is about, for boot-start, boot-end and boot failures.
    public var bootKey: BootKey? {
        guard let variant, let boot else { return nil }
        return BootKey(variant: variant, boot: boot)
    }

    /// One compact JSON line with sorted keys, ending in "\n".
    public func line() throws -> Data {
        var data = try ResultsJSON.encoder(pretty: false).encode(self)
        data.append(0x0a)
        return data
    }
}

/// The (variant, boot, workload, iteration) of a measured iteration.
public struct IterationKey: Hashable, Sendable, CustomStringConvertible {
    public var variant: String
    public var boot: Int
    public var workload: String
    public var iteration: Int

    public init(variant: String, boot: Int, workload: String, iteration: Int) {
        self.variant = variant; self.boot = boot; self.workload = workload; self.iteration = iteration
    }

    public init(_ sample: Sample) {
        self.init(variant: sample.variant, boot: sample.boot, workload: sample.workload, iteration: sample.iteration)
    }

    public var description: String { "\(variant) boot \(boot) \(workload) iteration \(iteration)" }
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
    public var openBoot: JournalEntry?
    /// Stopping decisions by rounds completed.
    public var stoppingDecisions: [Int: Bool] = [:]
    /// The last experiment-end, if the last session finished.
    public var lastEnd: JournalEntry?
    /// Byte length of `journal.jsonl` up to the last whole entry, and its actual length.
    public var journalValidBytes: Int64 = 0
    public var journalBytes: Int64 = 0
    /// Committed byte length of `samples.jsonl`, and its actual length.
    public var samplesCommittedBytes: Int64 = 0
    public var samplesBytes: Int64 = 0

    public init() {}

    /// The first experiment-start.
    public var start: JournalEntry? { entries.first { $0.record == .experimentStart } }
    /// Sessions so far (`run` plus each `resume`).
    public var sessions: Int { entries.filter { $0.record == .experimentStart }.count }
    public var runID: String? { start?.runID }
    public var specSHA256: String? { start?.specSHA256 }
    /// Whether the last session ended with status complete.
    public var isComplete: Bool { lastEnd?.status == "complete" }
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
/// Every record is one `write(2)` of one whole line to a file opened with `O_APPEND`, followed by
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
    private var journalFD: Int32
    private var samplesFD: Int32
    /// Current length of `samples.jsonl`.
    public private(set) var samplesBytes: Int64
    /// `samples_bytes` of the open boot's boot-start, or nil between boots.
    public private(set) var openBootSamplesBytes: Int64?
    private let now: @Sendable () -> Double
    /// Observes every write; set by tests only.
    var observer: (@Sendable (Operation) -> Void)?

    private init(directory: URL, journalFD: Int32, samplesFD: Int32, samplesBytes: Int64,
                 now: @escaping @Sendable () -> Double) {
        self.directory = directory; self.journalFD = journalFD; self.samplesFD = samplesFD
        self.samplesBytes = samplesBytes; self.now = now
    }

    deinit {
        close()
    }

    public var journalURL: URL { directory.appendingPathComponent(Self.journalName) }
    public var samplesURL: URL { directory.appendingPathComponent(Self.samplesName) }

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
            if let size = fileSize(url), size > 0 {
                throw RVBenchError(.badInput, "\(directory.path) already holds an experiment (\(name) is not empty); "
                    + "use `rvbench resume \(directory.path)` or choose a new results directory")
            }
        }
        let journalFD = try openAppend(directory.appendingPathComponent(journalName))
        let samplesFD: Int32
        do {
            try lock(journalFD, directory: directory)
            samplesFD = try openAppend(directory.appendingPathComponent(samplesName))
        } catch {
            _ = Glibc_close(journalFD)
            throw error
        }
        syncDirectory(directory)
        return Journal(directory: directory, journalFD: journalFD, samplesFD: samplesFD, samplesBytes: 0, now: now)
    }

    /// Reopens an existing journal to continue it. First repairs what a crash left: a torn last line of
    /// `journal.jsonl` is cut off, and `samples.jsonl` is truncated to its committed length (dropping the
    /// samples of a boot that never ended and any torn line).
    public static func reopen(in directory: URL, state: JournalState,
                              now: @escaping @Sendable () -> Double = Journal.wallClock) throws -> Journal {
        let journalURL = directory.appendingPathComponent(journalName)
        let samplesURL = directory.appendingPathComponent(samplesName)
        let journalFD = try openAppend(journalURL)
        let samplesFD: Int32
        do {
            try lock(journalFD, directory: directory)
            samplesFD = try openAppend(samplesURL)
        } catch {
            _ = Glibc_close(journalFD)
            throw error
        }
        let journal = Journal(directory: directory, journalFD: journalFD, samplesFD: samplesFD,
                              samplesBytes: state.samplesCommittedBytes, now: now)
        if (fileSize(journalURL) ?? 0) != state.journalValidBytes {
            try journal.truncate(journalFD, name: journalName, to: state.journalValidBytes)
        }
        if (fileSize(samplesURL) ?? 0) != state.samplesCommittedBytes {
            try journal.truncate(samplesFD, name: samplesName, to: state.samplesCommittedBytes)
        }
        return journal
    }

    /// Closes both files. Further writes throw.
    public func close() {
        if journalFD >= 0 { _ = Glibc_close(journalFD); journalFD = -1 }
        if samplesFD >= 0 { _ = Glibc_close(samplesFD); samplesFD = -1 }
    }

    public static let wallClock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    // MARK: Records

    /// Appends an event entry; `timestamp` and `samples_bytes` are filled in.
    public func append(_ entry: JournalEntry) throws {
        var entry = entry
        entry.timestamp = now()
        entry.samplesBytes = samplesBytes
        try write(try entry.line(), to: journalFD, name: Self.journalName)
    }

    func entry(_ kind: JournalEntry.Kind) -> JournalEntry {
        JournalEntry(record: kind, timestamp: 0, samplesBytes: 0)
    }

    /// experiment-start.
    public func beginSession(experiment: String, specSHA256: String?, seed: UInt64, runID: String,
                             session: Int) throws {
        var e = entry(.experimentStart)
        e.experiment = experiment; e.specSHA256 = specSHA256; e.seed = seed; e.runID = runID; e.session = session
        try append(e)
    }

    /// boot-start. Samples appended until the matching `endBoot…` belong to this attempt.
    public func beginBoot(_ boot: ScheduledBoot, attempt: Int) throws {
        precondition(openBootSamplesBytes == nil, "a boot is already open")
        var e = entry(.bootStart)
        e.variant = boot.variant.name; e.boot = boot.boot; e.round = boot.round; e.sequence = boot.sequence
        e.attempt = attempt
        try append(e)
        openBootSamplesBytes = samplesBytes
    }

    /// Appends a sample of the open boot to `samples.jsonl` (a bare `Sample` line).
    public func recordSample(_ sample: Sample) throws {
        precondition(openBootSamplesBytes != nil, "samples belong to a boot")
        try write(try JournalRecord.sample(sample).line(), to: samplesFD, name: Self.samplesName)
    }

    /// boot-end ok: commits the boot's samples.
    public func endBootOK(_ boot: ScheduledBoot, attempt: Int) throws {
        precondition(openBootSamplesBytes != nil, "no boot is open")
        var e = entry(.bootEnd)
        e.variant = boot.variant.name; e.boot = boot.boot; e.attempt = attempt; e.status = "ok"
        try append(e)
        openBootSamplesBytes = nil
    }

    /// A failed attempt: rolls back its samples, then records the failure in `samples.jsonl` (a failure
    /// record) and in the journal (failure, then boot-end failed).
    public func endBootFailed(_ boot: ScheduledBoot, attempt: Int, failure: FailureRecord, retry: Bool) throws {
        try rollbackOpenBoot()
        try write(try JournalRecord.failure(failure).line(), to: samplesFD, name: Self.samplesName)
        var f = entry(.failure)
        f.variant = boot.variant.name; f.boot = boot.boot; f.attempt = attempt; f.workload = failure.workload
        f.iteration = failure.iteration; f.reason = failure.reason
        try append(f)
        var e = entry(.bootEnd)
        e.variant = boot.variant.name; e.boot = boot.boot; e.attempt = attempt; e.status = "failed"
        e.reason = failure.reason; e.retry = retry
        try append(e)
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
        if samplesBytes != start { try truncate(samplesFD, name: Self.samplesName, to: start) }
    }

    /// not-run: in `samples.jsonl` (a not-run record) and in the journal.
    public func recordNotRun(_ record: NotRunRecord) throws {
        precondition(openBootSamplesBytes == nil, "not-run records are written between boots")
        try write(try JournalRecord.notRun(record).line(), to: samplesFD, name: Self.samplesName)
        var e = entry(.notRun)
        e.variant = record.variant; e.workload = record.workload; e.reason = record.reason
        try append(e)
    }

    /// stopping: the rule's answer after `rounds` rounds.
    public func recordStopping(rounds: Int, continueRunning: Bool, reason: String) throws {
        var e = entry(.stopping)
        e.rounds = rounds; e.decision = continueRunning ? "continue" : "stop"; e.reason = reason
        try append(e)
    }

    /// experiment-end.
    public func endSession(status: String, reason: String?) throws {
        var e = entry(.experimentEnd)
        e.status = status; e.reason = reason
        try append(e)
    }

    // MARK: File operations

    private func write(_ line: Data, to fd: Int32, name: String) throws {
        guard fd >= 0 else { throw RVBenchError(.internal, "the journal is closed") }
        observer?(.append(file: name, bytes: line))
        var failure: Int32 = 0
        line.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            // One write(2) per line; the loop only continues after a short write or EINTR.
            while offset < raw.count {
                let n = Glibc_write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        guard failure == 0 else {
            throw RVBenchError(.library, "writing \(name) in \(directory.path) failed (\(String(cString: strerror(failure)))); "
                + "free some space, then `rvbench resume \(directory.path)`")
        }
        if fd == samplesFD { samplesBytes += Int64(line.count) }
    }

    private func truncate(_ fd: Int32, name: String, to length: Int64) throws {
        observer?(.truncate(file: name, length: length))
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw RVBenchError(.library, "truncating \(name) in \(directory.path) failed "
                + "(\(String(cString: strerror(errno)))); check the file system")
        }
        if fd == samplesFD { samplesBytes = length }
    }

    static func openAppend(_ url: URL) throws -> Int32 {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RVBenchError(.badInput, "cannot open \(url.path) for appending (\(String(cString: strerror(errno)))); "
                + "check the results directory's permissions")
        }
        return fd
    }

    /// An exclusive `flock` on `journal.jsonl` for as long as the journal is open, so that two
    /// processes never write one experiment. The kernel drops it when the process dies.
    static func lock(_ fd: Int32, directory: URL) throws {
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another rvbench is running this experiment"
                : String(cString: strerror(errno))
            throw RVBenchError(.badInput, "cannot lock \(journalName) in \(directory.path) (\(reason)); "
                + "wait for it to finish or stop it first")
        }
    }

    static func fileSize(_ url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = Glibc_close(fd)
        }
    }
}

// The C functions under names that do not clash with the methods above.
@inline(__always) private func Glibc_close(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
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
        let bytes = [UInt8](journalData)
        var start = 0
        var lineNumber = 0
        var badLine: (Int, String)?
        while start < bytes.count {
            lineNumber += 1
            guard let newline = bytes[start...].firstIndex(of: 0x0a) else { break } // torn: no newline
            let line = bytes[start ..< newline]
            let next = newline + 1
            do {
                let entry = try decoder.decode(JournalEntry.self, from: Data(line))
                if let (number, message) = badLine {
                    throw RVBenchError(.format, "\(journalName):\(number) in \(directory.path) is unreadable "
                        + "(\(message)) but later entries are fine; the journal was damaged, not cut short")
                }
                state.entries.append(entry)
                state.journalValidBytes = Int64(next)
            } catch let error as RVBenchError {
                throw error
            } catch {
                if badLine == nil { badLine = (lineNumber, ResultsJSON.describe(error)) }
            }
            start = next
        }
        apply(&state)
        state.samplesBytes = fileSize(samplesURL) ?? 0
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
        var open: JournalEntry?
        for entry in state.entries {
            switch entry.record {
            case .experimentStart:
                open = nil // a new session starts between boots
                state.lastEnd = nil
            case .bootStart:
                open = entry
            case .bootEnd:
                guard let key = entry.bootKey else { continue }
                state.endedAttempts[key, default: 0] += 1
                if entry.status == "ok" {
                    state.completedBoots[key] = entry.attempt ?? state.endedAttempts[key]
                    state.failedBoots.remove(key)
                } else if entry.retry == false {
                    state.failedBoots.insert(key)
                }
                open = nil
            case .stopping:
                if let rounds = entry.rounds { state.stoppingDecisions[rounds] = entry.decision == "continue" }
            case .experimentEnd:
                state.lastEnd = entry
            case .failure, .notRun:
                break
            }
        }
        state.openBoot = open
        state.samplesCommittedBytes = open?.samplesBytes ?? state.entries.last?.samplesBytes ?? 0
    }
}
