// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Stats

/// A comparison together with each side's descriptive statistics, rendered as JSON or a table.
public struct CompareReport: Sendable {
    public var baseline: Descriptive
    public var candidate: Descriptive
    public var comparison: Comparison

    public init(baseline: [Double], candidate: [Double], options: CompareOptions) throws {
        self.baseline = try Statistics.describe(baseline)
        self.candidate = try Statistics.describe(candidate)
        self.comparison = try Statistics.compare(baseline: baseline, candidate: candidate, options: options)
    }

    /// One JSON object; the first seventeen keys are the documented interface, the rest are extras.
    public func json() -> String {
        let c = comparison
        let fields: [(String, JSONValue)] = [
            ("n_baseline", .int(c.nBaseline)),
            ("n_candidate", .int(c.nCandidate)),
            ("mean_baseline", .number(baseline.mean)),
            ("mean_candidate", .number(candidate.mean)),
            ("median_baseline", .number(baseline.median)),
            ("median_candidate", .number(candidate.median)),
            ("ratio_of_means", .number(c.ratioOfMeans)),
            ("ratio_ci_low", .number(c.ratioOfMeansCI.low)),
            ("ratio_ci_high", .number(c.ratioOfMeansCI.high)),
            ("welch_t", .number(c.welchT)),
            ("welch_df", .number(c.welchDF)),
            ("welch_p", .number(c.welchP)),
            ("mann_whitney_u", .number(c.mannWhitneyU)),
            ("mann_whitney_p", .number(c.mannWhitneyP)),
            ("hodges_lehmann", .number(c.hodgesLehmann)),
            ("cliffs_delta", .number(c.cliffsDelta)),
            ("verdict", .string(c.verdict.rawValue)),
            ("ratio_ci_method", .string("percentile")),
            ("ratio_bca_low", .number(c.ratioOfMeansBCa.low)),
            ("ratio_bca_high", .number(c.ratioOfMeansBCa.high)),
            ("ratio_of_medians", .number(c.ratioOfMedians)),
            ("median_ratio_ci_low", .number(c.ratioOfMediansCI.low)),
            ("median_ratio_ci_high", .number(c.ratioOfMediansCI.high)),
            ("median_ratio_bca_low", .number(c.ratioOfMediansBCa.low)),
            ("median_ratio_bca_high", .number(c.ratioOfMediansBCa.high)),
            ("adjusted_p", .number(c.adjustedP)),
            ("level", .number(c.ratioOfMeansCI.level)),
            ("direction", .string(c.direction.rawValue)),
            ("threshold", .number(c.threshold)),
            ("alpha", .number(c.alpha)),
            ("resamples", .int(c.resamples)),
            ("seed", .raw(String(c.seed))),
            ("log_ratio_ratio", .number(c.bootLevel?.ratio ?? .nan)),
            ("log_ratio_ci_low", .number(c.bootLevel?.ci.low ?? .nan)),
            ("log_ratio_ci_high", .number(c.bootLevel?.ci.high ?? .nan)),
            ("log_ratio_ci_level", .number(c.bootLevel?.ci.level ?? .nan)),
            ("p_above", .number(c.bootLevel?.pAbove ?? .nan)),
            ("p_below", .number(c.bootLevel?.pBelow ?? .nan)),
            ("p_equivalence", .number(c.bootLevel?.pEquivalence ?? .nan)),
        ]
        return "{" + fields.map { "\(JSONValue.string($0.0).text): \($0.1.text)" }.joined(separator: ", ") + "}"
    }

    /// A readable table.
    public func table(baselineName: String, candidateName: String) -> String {
        let c = comparison
        func f(_ x: Double) -> String { format(x) }
        func ci(_ i: Interval) -> String { "[\(f(i.low)), \(f(i.high))]" }
        let pct = Int((c.ratioOfMeansCI.level * 100).rounded())
        var lines: [String] = []
        lines.append(row("", "baseline", "candidate"))
        lines.append(row("file", baselineName, candidateName))
        lines.append(row("n", String(baseline.n), String(candidate.n)))
        lines.append(row("mean", f(baseline.mean), f(candidate.mean)))
        lines.append(row("median", f(baseline.median), f(candidate.median)))
        lines.append(row("stddev", f(baseline.stddev), f(candidate.stddev)))
        lines.append(row("cv", f(baseline.cv), f(candidate.cv)))
        lines.append(row("p5 .. p95", "\(f(baseline.quantiles.p5)) .. \(f(baseline.quantiles.p95))",
                         "\(f(candidate.quantiles.p5)) .. \(f(candidate.quantiles.p95))"))
        lines.append("")
        lines.append("ratio of means     \(f(c.ratioOfMeans))  \(pct)% CI \(ci(c.ratioOfMeansCI)) percentile, \(ci(c.ratioOfMeansBCa)) BCa")
        lines.append("ratio of medians   \(f(c.ratioOfMedians))  \(pct)% CI \(ci(c.ratioOfMediansCI)) percentile, \(ci(c.ratioOfMediansBCa)) BCa")
        lines.append("welch t            \(f(c.welchT))  df \(f(c.welchDF))  p \(f(c.welchP))")
        lines.append("mann-whitney U     \(f(c.mannWhitneyU))  p \(f(c.mannWhitneyP))")
        lines.append("hodges-lehmann     \(f(c.hodgesLehmann))  (candidate − baseline)")
        lines.append("cliff's delta      \(f(c.cliffsDelta))")
        if let bl = c.bootLevel {
            let level = String(format: "%g", bl.ci.level * 100)
            lines.append("")
            lines.append("log-ratio welch    \(f(bl.ratio))  \(level)% CI \(ci(bl.ci))  df \(f(bl.df))  (decides the verdict)")
            lines.append("tests vs 1 ± \(f(c.threshold))  p above \(f(bl.pAbove)), p below \(f(bl.pBelow)), TOST p \(f(bl.pEquivalence))")
        }
        lines.append("")
        lines.append("verdict: \(c.verdict.rawValue) (\(c.direction.rawValue), threshold \(f(c.threshold)), alpha \(f(c.alpha)), \(c.resamples) resamples, seed \(c.seed))")
        return lines.joined(separator: "\n")
    }

    private func row(_ a: String, _ b: String, _ c: String) -> String {
        a.padding(toLength: 12, withPad: " ", startingAt: 0)
            + " " + b.padding(toLength: max(24, b.count), withPad: " ", startingAt: 0)
            + " " + c
    }

    private func format(_ x: Double) -> String {
        if x == 0 || (abs(x) >= 1e-4 && abs(x) < 1e7) {
            return String(format: "%.6g", x)
        }
        return String(format: "%.4e", x)
    }
}

/// A minimal JSON value writer that keeps key order.
enum JSONValue {
    case int(Int)
    case number(Double)
    case string(String)
    /// Already valid JSON text, e.g. an unsigned 64-bit integer.
    case raw(String)

    var text: String {
        switch self {
        case .raw(let s): return s
        case .int(let i): return String(i)
        case .number(let x): return x.isFinite ? "\(x)" : "null"
        case .string(let s): return JSONText.quoted(s)
        }
    }
}
