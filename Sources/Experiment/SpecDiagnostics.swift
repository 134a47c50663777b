// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// One problem in a spec, with its position: `file:line:column: message`.
public struct SpecDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based, counted in Unicode scalars.
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file; self.line = line; self.column = column; self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem found in a spec. `RVBenchError.cause` of a rejected spec.
public struct SpecValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// In file order (line, then column).
    public var diagnostics: [SpecDiagnostic]

    public init(diagnostics: [SpecDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }

    /// The error that `ExperimentSpec.parse` throws: code `.badInput`, the diagnostics as the message.
    public var rvbenchError: RVBenchError {
        RVBenchError(.badInput, description, cause: self)
    }
}

/// "Did you mean" suggestions.
public enum Suggestion {
    /// The optimal-string-alignment (restricted Damerau-Levenshtein) distance, case-insensitive:
    /// insertions, deletions, substitutions and transpositions of adjacent characters each cost 1.
    public static func distance(_ a: String, _ b: String) -> Int {
        let s = Array(a.lowercased().unicodeScalars), t = Array(b.lowercased().unicodeScalars)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
        for i in 0 ... s.count { d[i][0] = i }
        for j in 0 ... t.count { d[0][j] = j }
        for i in 1 ... s.count {
            for j in 1 ... t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[s.count][t.count]
    }

    /// The closest candidate within `max(1, word.count / 3)` edits (ties: the earlier candidate), or nil.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(word, candidate)
            if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// `; did you mean "x"?` or the empty string.
    static func clause(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { "; did you mean \"\($0)\"?" } ?? ""
    }
}
