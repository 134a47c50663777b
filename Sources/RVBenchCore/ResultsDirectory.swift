// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// MARK: - JSON conventions

/// The JSON conventions of every rvbench file: snake_case keys (spelled out in each type's
/// `CodingKeys`), sorted keys, and non-finite numbers as the strings "nan", "inf" and "-inf".
public enum ResultsJSON {
    /// An encoder for `manifest.json` and `results.json` (`pretty: true`) or journal lines (`pretty: false`).
    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            : [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// A decoder that accepts what `encoder(pretty:)` writes.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Pretty, sorted JSON ending in a newline.
    public static func prettyData<T: Encodable>(_ value: T) throws -> Data {
        var data = try encoder(pretty: true).encode(value)
        data.append(0x0a)
        return data
    }

    /// A short, lowercase description of a decoding error: what was wrong and where.
    public static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let joined = keys.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return joined.isEmpty ? "top level" : String(joined.drop(while: { $0 == "." }))
        }
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key \"\(key.stringValue)\" at \(path(context.codingPath))"
        case .typeMismatch(let type, let context):
            return "expected \(type) at \(path(context.codingPath))"
        case .valueNotFound(let type, let context):
            return "expected \(type) but found null at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            var message = context.debugDescription
            while message.hasSuffix(".") { message.removeLast() }
            if message.lowercased().contains("not valid json") { message = "not valid JSON" }
            if let first = message.first, message.count > 1, message.dropFirst().first?.isLowercase == true {
                message = first.lowercased() + message.dropFirst()
            }
            return context.codingPath.isEmpty ? message : "\(message) at \(path(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }
}

// MARK: - Timestamps

/// ISO-8601 formatting of epoch seconds, independent of locale and time zone.
public enum ISO8601Time {
    /// Formats seconds since the Unix epoch as UTC, e.g. "2026-11-26T15:00:00.250Z".
    /// `fractionDigits` 0 omits the fraction.
    public static func string(fromEpochSeconds seconds: Double, fractionDigits: Int = 3) -> String {
        guard seconds.isFinite else { return "" }
        let scale = pow(10.0, Double(max(0, min(fractionDigits, 9))))
        let totalUnits = (seconds * scale).rounded()
        let unitsPerSecond = Int64(scale)
        let units = Int64(totalUnits)
        var whole = units / unitsPerSecond
        var fraction = units % unitsPerSecond
        if fraction < 0 { fraction += unitsPerSecond; whole -= 1 }
        var days = whole / 86_400
        var secondOfDay = whole % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = civil(fromDays: days)
        var out = String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                         year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        if fractionDigits > 0 {
            let digits = String(fraction)
            out += "." + String(repeating: "0", count: max(0, fractionDigits - digits.count)) + digits
        }
        return out + "Z"
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - Journal records (samples.jsonl)

/// A boot or iteration that failed: recorded in the journal instead of a sample.
public struct FailureRecord: Codable, Sendable, Equatable {
    public var experiment: String
    public var variant: String
    /// Nil when the failure happened before any workload ran (e.g. the boot failed).
    public var workload: String?
    public var boot: Int?
    public var iteration: Int?
    /// What happened, e.g. "timeout after 120 s", "qemu exited with signal 9", "malformed result line".
    public var reason: String
    /// Seconds since the Unix epoch.
    public var timestamp: Double
    /// The error code when the executor itself threw (e.g. `library` for a libvirt failure); nil when the
    /// guest's own output or a timeout ended the boot.
    public var errorCode: RVBenchError.Code?

    public init(experiment: String, variant: String, workload: String? = nil, boot: Int? = nil,
                iteration: Int? = nil, reason: String, timestamp: Double, errorCode: RVBenchError.Code? = nil) {
        self.experiment = experiment; self.variant = variant; self.workload = workload
        self.boot = boot; self.iteration = iteration; self.reason = reason; self.timestamp = timestamp
        self.errorCode = errorCode
    }

    enum CodingKeys: String, CodingKey {
        case experiment, variant, workload, boot, iteration, reason, timestamp
        case errorCode = "error_code"
    }
}

/// A variant (or one workload of it) that will not run, e.g. because preflight failed.
public struct NotRunRecord: Codable, Sendable, Equatable {
    public var experiment: String
    public var variant: String
    /// Nil when no workload of the variant runs.
    public var workload: String?
    /// Why, naming what is missing, e.g. "no VFIO type1 for riscv in this kernel".
    public var reason: String
    /// Seconds since the Unix epoch.
    public var timestamp: Double

    public init(experiment: String, variant: String, workload: String? = nil, reason: String, timestamp: Double) {
        self.experiment = experiment; self.variant = variant; self.workload = workload
        self.reason = reason; self.timestamp = timestamp
    }
}

/// One line of `samples.jsonl`.
///
/// A sample is written as a bare `Sample` object, so every sample line is exactly the
/// documented sample shape. Other records carry a `"record"` key naming their kind
/// (`"failure"`, `"not-run"`); a line without `"record"` (or with `"record": "sample"`) is a sample.
public enum JournalRecord: Codable, Sendable, Equatable {
    case sample(Sample)
    case failure(FailureRecord)
    case notRun(NotRunRecord)

    /// The value of a line's `"record"` key.
    public enum Kind: String, Sendable, CaseIterable {
        case sample
        case failure
        case notRun = "not-run"
    }

    enum CodingKeys: String, CodingKey {
        case record
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decodeIfPresent(String.self, forKey: .record) ?? Kind.sample.rawValue
        switch Kind(rawValue: kind) {
        case .sample: self = .sample(try Sample(from: decoder))
        case .failure: self = .failure(try FailureRecord(from: decoder))
        case .notRun: self = .notRun(try NotRunRecord(from: decoder))
        case nil:
            throw DecodingError.dataCorruptedError(
                forKey: .record, in: container,
                debugDescription: "unknown record kind \"\(kind)\" (written by a newer rvbench?)")
        }
    }

    /// The record's own keys, and for a failure or not-run record the `"record"` key naming its kind.
    public func encode(to encoder: any Encoder) throws {
        let kind: Kind
        switch self {
        case .sample(let sample): try sample.encode(to: encoder); return
        case .failure(let failure): try failure.encode(to: encoder); kind = .failure
        case .notRun(let notRun): try notRun.encode(to: encoder); kind = .notRun
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind.rawValue, forKey: .record)
    }

    /// The record as one compact JSON line with sorted keys, ending in "\n", ready to append.
    public func line() throws -> Data {
        var data = try ResultsJSON.encoder(pretty: false).encode(self)
        data.append(0x0a)
        return data
    }
}

/// A line of `samples.jsonl` that could not be read.
public struct JournalProblem: Sendable, Equatable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line; self.message = message
    }

    public var description: String { "samples.jsonl:\(line): \(message)" }
}

/// What a tolerant read of `samples.jsonl` found.
public struct JournalContents: Sendable, Equatable {
    public var samples: [Sample] = []
    public var failures: [FailureRecord] = []
    public var notRun: [NotRunRecord] = []
    /// Lines that were skipped, with their line numbers; empty for a healthy journal.
    public var problems: [JournalProblem] = []

    public init(samples: [Sample] = [], failures: [FailureRecord] = [], notRun: [NotRunRecord] = [],
                problems: [JournalProblem] = []) {
        self.samples = samples; self.failures = failures; self.notRun = notRun; self.problems = problems
    }

    /// Reads journal bytes. Never throws: blank lines are skipped, and malformed, unknown or
    /// truncated lines are listed in `problems` with their line numbers.
    public static func parse(_ data: Data) -> JournalContents {
        var contents = JournalContents()
        let decoder = ResultsJSON.decoder()
        for line in AppendOnlyFile.lines(in: data) where !line.isBlank {
            do {
                switch try decoder.decode(JournalRecord.self, from: Data(line.bytes)) {
                case .sample(let sample): contents.samples.append(sample)
                case .failure(let failure): contents.failures.append(failure)
                case .notRun(let notRun): contents.notRun.append(notRun)
                }
            } catch {
                let what = line.terminated ? "" : "truncated last line (the writer stopped mid-line): "
                contents.problems.append(JournalProblem(line: line.number, message: what + ResultsJSON.describe(error)))
            }
        }
        return contents
    }
}

// MARK: - The results directory

/// A results directory: `manifest.json`, `samples.jsonl` and `results.json`.
/// See docs/results-format.md.
public struct ResultsDirectory: Sendable {
    public static let manifestName = "manifest.json"
    public static let samplesName = "samples.jsonl"
    public static let resultsName = "results.json"

    public let url: URL

    public init(url: URL) {
        self.url = url
    }

    public var manifestURL: URL { url.appendingPathComponent(Self.manifestName) }
    public var samplesURL: URL { url.appendingPathComponent(Self.samplesName) }
    public var resultsURL: URL { url.appendingPathComponent(Self.resultsName) }

    /// Throws `.notFound` unless the directory exists.
    public func checkExists() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw RVBenchError(.notFound, "no results directory at \(url.path); pass a directory written by `rvbench run`")
        }
        guard isDirectory.boolValue else {
            throw RVBenchError(.badInput, "\(url.path) is a file, not a results directory; pass the directory that holds results.json")
        }
    }

    /// Reads and checks `manifest.json`.
    public func readManifest() throws -> Manifest {
        try read(Manifest.self, from: manifestURL, hint: "it is written when `rvbench run` starts")
    }

    /// Reads and checks `results.json`.
    public func readResults() throws -> ResultsDocument {
        try read(ResultsDocument.self, from: resultsURL,
                 hint: "run `rvbench resume \(url.path)` to finish the experiment and write it")
    }

    /// Reads `samples.jsonl` tolerantly; see `JournalContents.parse`.
    public func readSamples() throws -> JournalContents {
        try Self.readSamples(at: samplesURL)
    }

    /// Reads a `samples.jsonl` file tolerantly: malformed lines are reported with their line numbers
    /// in `problems`, not thrown. Throws only when the file cannot be read.
    public static func readSamples(at url: URL) throws -> JournalContents {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RVBenchError(.notFound, "no \(url.lastPathComponent) at \(url.path); pass a results directory written by `rvbench run`")
        }
        do {
            return JournalContents.parse(try Data(contentsOf: url))
        } catch {
            throw RVBenchError(.notFound, "cannot read \(url.path); check its permissions", cause: error)
        }
    }

    /// Writes `manifest.json` atomically.
    public func writeManifest(_ manifest: Manifest) throws {
        try Self.writeAtomically(try ResultsJSON.prettyData(manifest), to: manifestURL)
    }

    /// Writes `results.json` atomically.
    public func writeResults(_ results: ResultsDocument) throws {
        try Self.writeAtomically(try ResultsJSON.prettyData(results), to: resultsURL)
    }

    /// Creates the directory (and parents) if needed.
    public func create() throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw RVBenchError(.badInput, "cannot create results directory \(url.path); choose a writable location",
                               cause: error)
        }
    }

    /// Reads the schema version first, so an unknown major version gets a clear error even
    /// when the rest of the file has a shape this rvbench does not know.
    private func read<T: Decodable>(_ type: T.Type, from file: URL, hint: String) throws -> T {
        try checkExists()
        let name = file.lastPathComponent
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw RVBenchError(.notFound, "\(url.path) has no \(name); \(hint)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw RVBenchError(.notFound, "cannot read \(file.path); check its permissions", cause: error)
        }
        let decoder = ResultsJSON.decoder()
        let probe: VersionProbe
        do {
            probe = try decoder.decode(VersionProbe.self, from: data)
        } catch {
            throw RVBenchError(.format, "\(name) in \(url.path) is not an rvbench \(name): \(ResultsJSON.describe(error))")
        }
        try SchemaVersion.check(probe.schemaVersion, in: name)
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as RVBenchError {
            throw error
        } catch {
            throw RVBenchError(.format, "\(name) in \(url.path) is damaged: \(ResultsJSON.describe(error)); "
                + "regenerate it or restore it from the run's journal")
        }
    }

    private struct VersionProbe: Decodable {
        var schemaVersion: String
        enum CodingKeys: String, CodingKey { case schemaVersion = "schema_version" }
    }

    /// Writes `data` to a temporary file next to `url`, fsyncs it and renames it over `url`,
    /// so readers see either the old file or the new one, never a partial one.
    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RVBenchError(.badInput, "cannot write in \(directory.path) (\(String(cString: strerror(errno)))); "
                + "choose a writable directory")
        }
        let writeFailure = AppendOnlyFile.writeAll(data, to: fd)
        var failure = writeFailure == 0 ? nil : String(cString: strerror(writeFailure))
        close(fd)
        if failure == nil, rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw RVBenchError(.badInput, "writing \(url.path) failed (\(failure)); check free space and permissions")
        }
        // Make the rename itself durable.
        AppendOnlyFile.syncDirectory(directory)
    }
}
