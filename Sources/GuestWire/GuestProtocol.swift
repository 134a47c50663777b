// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// The guest result-line protocol, version 1, as printed by `rvbench-runner`
/// (workloads/src/runner.c) on a guest's console or a host's stdout:
///
///     @@rvbench v1 {json}          one result
///     @@rvbench v1 done {json}     the run's summary
///     @@rvbench v1 error {json}    the run failed
///
/// A line is at most ``GuestProtocol/maxLineBytes`` bytes (line terminator
/// excluded), valid UTF-8, and carries one JSON object. Everything else on the
/// console is noise and is ignored.
public enum GuestProtocol {
    /// The exact prefix of every version-1 line.
    public static let prefix = "@@rvbench v1 "
    /// The marker that makes a line a protocol line of some version.
    public static let marker = "@@rvbench"
    /// The largest protocol line, in bytes, without its terminator.
    public static let maxLineBytes = 4096
    /// The deepest nesting of JSON arrays and objects a line may have.
    public static let maxDepth = 8
}

/// When a result was taken.
public enum GuestPhase: String, Sendable, Codable, CaseIterable {
    case warmup
    case measure
}

/// One `@@rvbench v1 {json}` line: a single run of one workload. Only ``GuestProtocolParser`` makes one.
public struct GuestResult: Sendable, Equatable {
    public var workload: String
    public var iteration: Int
    public var phase: GuestPhase
    /// Wall time from the `clock_gettime` system call (CLOCK_MONOTONIC).
    public var wallNanoseconds: UInt64
    /// User and system CPU time of the workload process (wait4 rusage).
    public var userNanoseconds: UInt64
    public var systemNanoseconds: UInt64
    /// The workload's own metrics (fps, tokens_per_s, ns_per_op, ...). All finite.
    public var metrics: [String: Double]
    /// Free-text facts the workload reported (e.g. the method a micro-benchmark used), verbatim.
    public var info: [String: String]
    public var checksum: String
    public var checksumOK: Bool
    /// Why the checksum was not accepted, when it was not.
    public var verifyProblem: String?
    /// Guest PMU counters that were read. A counter that could not be read is absent, never 0.
    public var counters: [String: UInt64]
    /// Why some or all counters are absent.
    public var countersUnavailable: String?
    /// True when the kernel multiplexed the counters and the values were scaled.
    public var countersScaled: Bool
    public var maxRSSKilobytes: UInt64?
}

/// The `@@rvbench v1 done {json}` line that ends a successful run. Only ``GuestProtocolParser`` makes one.
public struct GuestSummary: Sendable, Equatable {
    public var results: Int
    public var checksumFailures: Int
    public var iterations: Int
    public var warmup: Int
    public var elapsedNanoseconds: UInt64
    public var workloads: [String]
    public var seed: String?
    /// `uname -r` and `uname -m` where the runner ran.
    public var kernel: String?
    public var machine: String?
    /// True when the runner was the guest's init.
    public var pid1: Bool?
}

/// The `@@rvbench v1 error {json}` line of a failed run. Only ``GuestProtocolParser`` makes one.
public struct GuestError: Sendable, Equatable {
    public var reason: String
    public var workload: String?
    public var phase: GuestPhase?
    public var iteration: Int?
    /// The last bytes the failing workload wrote to stderr, verbatim.
    public var stderrTail: String?
}

/// What one console line is.
public enum GuestLine: Sendable, Equatable {
    case result(GuestResult)
    case done(GuestSummary)
    case error(GuestError)
    /// Not a protocol line: console noise, ignored.
    case other
}

/// Why a protocol line was refused.
public struct GuestLineRejection: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// A protocol line that is not valid UTF-8, not valid JSON, or lacks a required, well-typed field.
        case malformed
        /// A protocol line longer than ``GuestProtocol/maxLineBytes``.
        case oversized
        /// `@@rvbench vN ...` with N other than 1.
        case unknownVersion
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }
}

/// The result of parsing one line.
public enum ParseOutcome: Sendable, Equatable {
    case line(GuestLine)
    case rejected(GuestLineRejection)
}

/// How many lines of each sort a parser has seen.
public struct GuestProtocolCounts: Sendable, Equatable {
    public var results = 0
    public var done = 0
    public var errors = 0
    public var other = 0
    public var malformed = 0
    public var oversized = 0
    public var unknownVersion = 0

    public init() {}

    /// Protocol lines that were refused.
    public var rejected: Int { malformed + oversized + unknownVersion }
}

/// A strict parser of guest protocol lines. It never traps on any input, and
/// its memory is bounded: a line is examined only up to its size limit, and at
/// most ``maxKeptRejections`` rejection reasons are kept.
public struct GuestProtocolParser: Sendable {
    /// How many rejection reasons ``rejections`` keeps (the counts go on).
    public static let maxKeptRejections = 100

    public private(set) var counts = GuestProtocolCounts()
    /// The first rejection reasons, in order.
    public private(set) var rejections: [GuestLineRejection] = []

    public init() {}

    /// Parses one line. A trailing `\n` or `\r\n` is removed first.
    public mutating func parse(_ line: String) -> ParseOutcome {
        parse(Array(line.utf8))
    }

    /// Parses one line of raw console bytes. A trailing `\n` or `\r\n` is removed first.
    public mutating func parse(_ bytes: [UInt8]) -> ParseOutcome {
        var end = bytes.count
        if end > 0, bytes[end - 1] == 0x0A { end -= 1 }
        if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
        let outcome = Self.classify(bytes[0 ..< end], totalLength: end)
        record(outcome)
        return outcome
    }

    /// Parses a line of which a bounded reader kept only the first bytes (`head`,
    /// without its terminator); `totalLength` is the line's real length, so a cut
    /// protocol line is counted as oversized.
    public mutating func parse(head: ArraySlice<UInt8>, totalLength: Int) -> ParseOutcome {
        let outcome = Self.classify(head, totalLength: totalLength)
        record(outcome)
        return outcome
    }

    /// Parses a line from a `LineSplitter` whose bound is at least ``GuestProtocol/maxLineBytes``.
    public mutating func parse(_ line: LineSplitter.Line) -> ParseOutcome {
        parse(head: line.bytes[...], totalLength: line.length)
    }

    /// Splits a whole recorded output (a runner's standard output, a log) into lines and parses each.
    public mutating func parseAll(_ bytes: some Collection<UInt8>) -> [ParseOutcome] {
        var splitter = LineSplitter(maxLineBytes: GuestProtocol.maxLineBytes)
        var lines = splitter.feed(bytes)
        if let last = splitter.finish() { lines.append(last) }
        return lines.map { parse($0) }
    }

    private mutating func record(_ outcome: ParseOutcome) {
        switch outcome {
        case .line(.result): counts.results += 1
        case .line(.done): counts.done += 1
        case .line(.error): counts.errors += 1
        case .line(.other): counts.other += 1
        case .rejected(let r):
            switch r.kind {
            case .malformed: counts.malformed += 1
            case .oversized: counts.oversized += 1
            case .unknownVersion: counts.unknownVersion += 1
            }
            if rejections.count < Self.maxKeptRejections { rejections.append(r) }
        }
    }

    private static let markerBytes = Array(GuestProtocol.marker.utf8)
    private static let prefixBytes = Array(GuestProtocol.prefix.utf8)

    static func classify(_ line: ArraySlice<UInt8>, totalLength: Int) -> ParseOutcome {
        guard line.starts(with: markerBytes) else { return .line(.other) }
        if totalLength > GuestProtocol.maxLineBytes {
            return .rejected(.init(.oversized, "line of \(totalLength) bytes exceeds \(GuestProtocol.maxLineBytes)"))
        }
        guard line.starts(with: prefixBytes) else {
            let rest = line.dropFirst(markerBytes.count)
            if rest.first == 0x20, rest.dropFirst().first == UInt8(ascii: "v"),
               let digit = rest.dropFirst(2).first, digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") {
                let version = rest.dropFirst(2).prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                if version.elementsEqual("1".utf8) {
                    return .rejected(.init(.malformed, "starts with \(GuestProtocol.marker) v1 but not with '\(GuestProtocol.prefix)'"))
                }
                return .rejected(.init(.unknownVersion, "protocol version \(String(decoding: version.prefix(9), as: UTF8.self)) is not supported (this rvbench reads v1)"))
            }
            return .rejected(.init(.malformed, "starts with \(GuestProtocol.marker) but not with '\(GuestProtocol.prefix)'"))
        }
        guard isValidUTF8(line) else { return .rejected(.init(.malformed, "not valid UTF-8")) }
        var body = line.dropFirst(prefixBytes.count)
        var kind = "result"
        for word in ["done", "error"] {
            let w = Array(word.utf8) + [0x20]
            if body.starts(with: w) {
                kind = word
                body = body.dropFirst(w.count)
                break
            }
        }
        do {
            var parser = GuestJSONParser(body)
            let value = try parser.parseDocument()
            guard case .object(let object) = value else { throw GuestProtocolFieldError("the payload is not a JSON object") }
            let fields = Fields(object)
            switch kind {
            case "done": return .line(.done(try fields.summary()))
            case "error": return .line(.error(try fields.error()))
            default: return .line(.result(try fields.result()))
            }
        } catch let e as GuestProtocolFieldError {
            return .rejected(.init(.malformed, "\(kind): \(e.message)"))
        } catch {
            return .rejected(.init(.malformed, "\(kind): \(error)"))
        }
    }

    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

// MARK: - Field extraction

struct GuestProtocolFieldError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Typed access to a JSON object's members.
private struct Fields {
    var members: [String: GuestJSONValue]

    init(_ pairs: [(String, GuestJSONValue)]) {
        var m: [String: GuestJSONValue] = [:]
        for (k, v) in pairs { m[k] = v }
        members = m
    }

    func string(_ key: String, max: Int = 4096) throws -> String {
        guard let v = members[key] else { throw GuestProtocolFieldError("missing \(key)") }
        guard case .string(let s) = v else { throw GuestProtocolFieldError("\(key) is not a string") }
        guard s.utf8.count <= max else { throw GuestProtocolFieldError("\(key) is longer than \(max) bytes") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        members[key] == nil ? nil : try string(key)
    }

    func bool(_ key: String) throws -> Bool {
        guard let v = members[key] else { throw GuestProtocolFieldError("missing \(key)") }
        guard case .bool(let b) = v else { throw GuestProtocolFieldError("\(key) is not a boolean") }
        return b
    }

    func optionalBool(_ key: String) throws -> Bool? {
        members[key] == nil ? nil : try bool(key)
    }

    /// A non-negative integer written without fraction or exponent.
    func count(_ key: String) throws -> UInt64 {
        guard let v = members[key] else { throw GuestProtocolFieldError("missing \(key)") }
        return try Self.count(v, key)
    }

    static func count(_ v: GuestJSONValue, _ key: String) throws -> UInt64 {
        guard case .number(let n) = v else { throw GuestProtocolFieldError("\(key) is not a number") }
        guard let u = n.unsignedInteger else {
            throw GuestProtocolFieldError(n.isNegative ? "\(key) is negative" : "\(key) is not a non-negative integer in range")
        }
        return u
    }

    func int(_ key: String) throws -> Int {
        let u = try count(key)
        guard u <= UInt64(Int.max) else { throw GuestProtocolFieldError("\(key) is out of range") }
        return Int(u)
    }

    func optionalInt(_ key: String) throws -> Int? {
        members[key] == nil ? nil : try int(key)
    }

    func phase(_ key: String) throws -> GuestPhase {
        let s = try string(key)
        guard let p = GuestPhase(rawValue: s) else { throw GuestProtocolFieldError("\(key) must be warmup or measure") }
        return p
    }

    func object(_ key: String) throws -> [(String, GuestJSONValue)] {
        guard let v = members[key] else { throw GuestProtocolFieldError("missing \(key)") }
        guard case .object(let o) = v else { throw GuestProtocolFieldError("\(key) is not an object") }
        return o
    }

    func result() throws -> GuestResult {
        let workload = try string("workload", max: 64)
        guard !workload.isEmpty else { throw GuestProtocolFieldError("workload is empty") }
        var metrics: [String: Double] = [:]
        for (k, v) in try object("metrics") {
            guard case .number(let n) = v, let d = n.double else { throw GuestProtocolFieldError("metric \(k) is not a finite number") }
            metrics[k] = d
        }
        var counters: [String: UInt64] = [:]
        for (k, v) in try object("counters") { counters[k] = try Self.count(v, "counter \(k)") }
        var info: [String: String] = [:]
        if members["info"] != nil {
            for (k, v) in try object("info") {
                guard case .string(let s) = v else { throw GuestProtocolFieldError("info \(k) is not a string") }
                info[k] = s
            }
        }
        let unavailable = try optionalString("counters_unavailable")
        if counters.isEmpty, unavailable == nil {
            throw GuestProtocolFieldError("counters is empty and counters_unavailable gives no reason")
        }
        return GuestResult(
            workload: workload, iteration: try int("iteration"), phase: try phase("phase"),
            wallNanoseconds: try count("wall_ns"), userNanoseconds: try count("user_ns"),
            systemNanoseconds: try count("sys_ns"), metrics: metrics, info: info,
            checksum: try string("checksum"), checksumOK: try bool("checksum_ok"),
            verifyProblem: try optionalString("verify_problem"), counters: counters,
            countersUnavailable: unavailable, countersScaled: try optionalBool("counters_scaled") ?? false,
            maxRSSKilobytes: members["max_rss_kb"] == nil ? nil : try count("max_rss_kb"))
    }

    func summary() throws -> GuestSummary {
        guard let w = members["workloads"] else { throw GuestProtocolFieldError("missing workloads") }
        guard case .array(let items) = w else { throw GuestProtocolFieldError("workloads is not an array") }
        let names = try items.map { item -> String in
            guard case .string(let s) = item else { throw GuestProtocolFieldError("workloads holds a non-string") }
            return s
        }
        return GuestSummary(
            results: try int("results"), checksumFailures: try int("checksum_failures"),
            iterations: try int("iterations"), warmup: try int("warmup"), elapsedNanoseconds: try count("elapsed_ns"),
            workloads: names, seed: try optionalString("seed"), kernel: try optionalString("kernel"),
            machine: try optionalString("machine"), pid1: try optionalBool("pid1"))
    }

    func error() throws -> GuestError {
        GuestError(reason: try string("reason"), workload: try optionalString("workload"),
                   phase: members["phase"] == nil ? nil : try phase("phase"),
                   iteration: try optionalInt("iteration"), stderrTail: try optionalString("stderr_tail"))
    }
}

// MARK: - A small strict JSON reader

/// A JSON number kept as its literal text, converted on demand.
struct GuestJSONNumber: Sendable, Equatable {
    var text: String
    var isInteger: Bool
    var isNegative: Bool { text.hasPrefix("-") }

    var unsignedInteger: UInt64? {
        isInteger && !isNegative ? UInt64(text) : nil
    }

    /// The value as a finite Double (nil when it overflows to infinity).
    var double: Double? {
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }
}

indirect enum GuestJSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(GuestJSONNumber)
    case string(String)
    case array([GuestJSONValue])
    /// Members in order; duplicate keys are rejected while parsing.
    case object([(String, GuestJSONValue)])

    static func == (a: GuestJSONValue, b: GuestJSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// RFC 8259 JSON over bytes that were already checked to be UTF-8, with a
/// depth limit and duplicate-key rejection. Recursion is bounded by the depth
/// limit, and input by the line limit.
struct GuestJSONParser {
    private let bytes: [UInt8]
    private var i = 0
    private let maxDepth: Int

    init(_ bytes: ArraySlice<UInt8>, maxDepth: Int = GuestProtocol.maxDepth) {
        self.bytes = Array(bytes)
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws -> GuestJSONValue {
        let v = try value(depth: 0)
        skipSpace()
        guard i == bytes.count else { throw GuestProtocolFieldError("trailing bytes after the JSON value at offset \(i)") }
        return v
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    private func fail(_ what: String) -> GuestProtocolFieldError {
        GuestProtocolFieldError("invalid JSON at offset \(i): \(what)")
    }

    private mutating func value(depth: Int) throws -> GuestJSONValue {
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end (truncated line?)") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard bytes.count - i >= w.count, Array(bytes[i ..< i + w.count]) == w else { throw fail("bad literal") }
        i += w.count
    }

    private mutating func object(depth: Int) throws -> GuestJSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        i += 1
        var members: [(String, GuestJSONValue)] = []
        var seen = Set<String>()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try string()
            guard seen.insert(key).inserted else { throw GuestProtocolFieldError("duplicate key \(key)") }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            members.append((key, try value(depth: depth)))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end (truncated line?)") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws -> GuestJSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        i += 1
        var items: [GuestJSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end (truncated line?)") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0 ..< 4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func string() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string (truncated line?)") }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c < 0x20 { throw fail("control character in a string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800, scalar <= 0xDBFF {
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone high surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00, low <= 0xDFFF else { throw fail("bad low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                    throw fail("lone low surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad code point") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
    }

    private mutating func number() throws -> GuestJSONNumber {
        let start = i
        var isInteger = true
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw fail("bad number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, isDigit(bytes[i]) { throw fail("leading zero") }
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            isInteger = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("bad fraction") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            isInteger = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw fail("bad exponent") }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        return GuestJSONNumber(text: String(decoding: bytes[start ..< i], as: UTF8.self), isInteger: isInteger)
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
