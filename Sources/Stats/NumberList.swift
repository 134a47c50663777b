// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Text files with one number per line, as `rvbench stats compare` reads them.
///
/// Blank lines are skipped and `#` starts a comment that runs to the end of the line. Every error
/// names the file and, where there is one, the 1-based line.
public enum NumberList {
    /// Parses `text`; `source` names it in messages (usually the path).
    ///
    /// - Parameters:
    ///   - minimum: the fewest numbers accepted.
    ///   - requirePositive: reject zero and negative numbers (ratios need positive values).
    public static func parse(_ text: String, source: String, minimum: Int = 2,
                             requirePositive: Bool = false) throws -> [Double] {
        var values: [Double] = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let token = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { continue }
            guard let value = Double(token) else {
                throw RVBenchError(.badInput, "\(source):\(lineNumber): expected a number, found \"\(shorten(token))\"")
            }
            guard value.isFinite else {
                throw RVBenchError(.badInput, "\(source):\(lineNumber): expected a finite number, found \"\(shorten(token))\"")
            }
            if requirePositive && value <= 0 {
                throw RVBenchError(.badInput, "\(source):\(lineNumber): expected a positive number (ratios need values > 0), found \"\(shorten(token))\"")
            }
            values.append(value)
        }
        if values.isEmpty {
            throw RVBenchError(.badInput, "\(source): no numbers found; expected one number per line (blank lines and # comments are allowed)")
        }
        if values.count < minimum {
            throw RVBenchError(.badInput, "\(source): found \(values.count) number\(values.count == 1 ? "" : "s"); expected at least \(minimum)")
        }
        return values
    }

    /// Reads and parses the file at `path`.
    public static func read(path: String, minimum: Int = 2, requirePositive: Bool = false) throws -> [Double] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RVBenchError(.badInput, "\(path): no such file; expected a file with one number per line")
        }
        if isDirectory.boolValue {
            throw RVBenchError(.badInput, "\(path): is a directory; expected a file with one number per line")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RVBenchError(.badInput, "\(path): cannot be read; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RVBenchError(.badInput, "\(path): is not UTF-8 text; expected one number per line")
        }
        return try parse(text, source: path, minimum: minimum, requirePositive: requirePositive)
    }

    private static func shorten(_ s: String) -> String {
        s.count > 40 ? String(s.prefix(40)) + "…" : s
    }
}

/// Seeded synthetic data for benchmarks and examples (GSL's taus2 generator and its samplers).
public enum SyntheticData {
    /// `count` lognormal values exp(N(mu, sigma²)). Wraps `gsl_ran_lognormal`.
    public static func lognormal(count: Int, mu: Double, sigma: Double, seed: UInt64) throws -> [Double] {
        let rng = try GSL.Random(seed: seed)
        return (0..<count).map { _ in rng.lognormal(mu: mu, sigma: sigma) }
    }

    /// `count` normal values N(mean, sd²). Wraps `gsl_ran_gaussian_ziggurat`.
    public static func normal(count: Int, mean: Double, sd: Double, seed: UInt64) throws -> [Double] {
        let rng = try GSL.Random(seed: seed)
        return (0..<count).map { _ in mean + rng.gaussian(sigma: sd) }
    }
}
