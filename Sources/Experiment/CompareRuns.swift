// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Stats

/// Compares two results directories: the same variants and workloads measured twice, e.g. on a
/// baseline kernel and on a patched one. This is the check an upstream reviewer runs in CI.
public enum CompareRuns {
    public struct Row: Sendable, Equatable {
        public var workload: String
        public var variant: String
        public var comparison: Comparison
    }

    public struct Outcome: Sendable {
        public var rows: [Row]
        /// Series present in only one of the two runs.
        public var unmatched: [String]

        /// 2 on any regression, else 4 on any improvement, else 0.
        public var exitStatus: ExitStatus {
            if rows.contains(where: { $0.comparison.verdict == .regression }) { return .regression }
            if rows.contains(where: { $0.comparison.verdict == .improvement }) { return .improvementOnly }
            return .success
        }
    }

    /// Compares every (workload, variant, metric) series found in both runs. With `allMetrics` false
    /// only each workload's primary metric (from the baseline run's spec) is compared. Holm's
    /// correction runs across the whole family.
    public static func compare(baseline: URL, candidate: URL, primaryMetrics: [String: String]?,
                               directions: [String: Direction], options: CompareOptions) throws -> Outcome {
        let base = try readSamples(baseline, role: .baseline)
        let cand = try readSamples(candidate, role: .candidate)
        struct Key: Hashable, Comparable {
            var workload, variant, metric: String
            static func < (a: Key, b: Key) -> Bool { (a.workload, a.variant, a.metric) < (b.workload, b.variant, b.metric) }
        }
        func group(_ samples: [Sample]) -> [Key: [Double]] {
            var out: [Key: [Double]] = [:]
            for s in samples {
                if let primary = primaryMetrics, primary[s.workload] != s.metric { continue }
                out[Key(workload: s.workload, variant: s.variant, metric: s.metric), default: []].append(s.value)
            }
            return out
        }
        let a = group(base), b = group(cand)
        var rows: [Row] = []
        for key in Set(a.keys).intersection(b.keys).sorted() {
            var o = options
            o.direction = directions[key.metric] ?? WorkloadCatalogue.defaultDirection(forMetric: key.metric)
            guard let xs = a[key], let ys = b[key], xs.count >= 2, ys.count >= 2 else { continue }
            let c = try Statistics.compare(baseline: xs, candidate: ys, options: o, baselineName: "baseline run",
                                           candidateName: "candidate run", metric: key.metric)
            rows.append(Row(workload: key.workload, variant: key.variant, comparison: c))
        }
        let corrected = Statistics.applyHolm(rows.map(\.comparison))
        for i in rows.indices { rows[i].comparison = corrected[i] }
        let unmatched = Set(a.keys).symmetricDifference(b.keys).sorted()
            .map { "\($0.workload)/\($0.variant)/\($0.metric) only in the \(a[$0] == nil ? "candidate" : "baseline") run" }
        return Outcome(rows: rows, unmatched: unmatched)
    }

    /// Which side of a comparison a run is.
    enum Role: String {
        case baseline, candidate

        /// A missing baseline has an exit code of its own; a missing candidate is bad input.
        var missingCode: RVBenchError.Code { self == .baseline ? .baselineMissing : .notFound }
    }

    static func readSamples(_ url: URL, role: Role) throws -> [Sample] {
        let dir = ResultsDirectory(url: url)
        let missing = role.missingCode
        do { try dir.checkExists() } catch {
            throw RVBenchError(missing, "the \(role.rawValue) results directory \(url.path) is missing or incomplete", cause: error)
        }
        let contents: JournalContents
        do { contents = try dir.readSamples() } catch let error as RVBenchError where role == .baseline {
            throw RVBenchError(missing, "the baseline run \(url.path) cannot be read", cause: error)
        }
        if contents.samples.isEmpty {
            throw RVBenchError(missing, "the \(role.rawValue) run \(url.path) has no samples")
        }
        return contents.samples
    }

    /// A Markdown summary for a CI job page.
    public static func markdown(_ outcome: Outcome, baseline: String, candidate: String) -> String {
        var md = "## rvbench compare\n\nBaseline `\(baseline)` against candidate `\(candidate)`; "
            + "ratio = candidate / baseline, 95% bootstrap CI, Holm-corrected p.\n\n"
        md += "| workload | variant | metric | ratio | 95% CI | p (Holm) | verdict |\n|---|---|---|---|---|---|---|\n"
        for r in outcome.rows {
            let c = r.comparison
            let mark = c.verdict == .regression ? "**regression**" : c.verdict.rawValue
            md += "| \(cell(r.workload)) | \(cell(r.variant)) | \(cell(c.metric)) | "
                + String(format: "%.4f | [%.4f, %.4f] | %.3g | ", c.ratioOfMeans, c.ratioOfMeansCI.low, c.ratioOfMeansCI.high, c.adjustedP)
                + "\(mark) |\n"
        }
        if !outcome.unmatched.isEmpty {
            md += "\nNot compared (present in one run only):\n\n" + outcome.unmatched.map { "- \(cell($0))\n" }.joined()
        }
        return md
    }

    /// Escapes a table cell: pipes, markup and newlines from data.
    static func cell(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.append(ch)
            }
        }
        return out
    }

    /// For `reproduce`: whether each comparison's ratio CI in the new run overlaps the original's.
    public static func agreement(original: ResultsDocument, again: ResultsDocument) -> [(String, Bool?)] {
        var out: [(String, Bool?)] = []
        for w in original.workloads {
            let other = again.workloads.first { $0.workload == w.workload && $0.metric == w.metric }
            for c in w.comparisons {
                let name = "\(w.workload) \(w.metric) \(c.candidate) vs \(c.baseline)"
                guard let d = other?.comparisons.first(where: { $0.candidate == c.candidate && $0.baseline == c.baseline }) else {
                    out.append((name, nil))
                    continue
                }
                out.append((name, c.ratioOfMeansCI.low <= d.ratioOfMeansCI.high && d.ratioOfMeansCI.low <= c.ratioOfMeansCI.high))
            }
        }
        return out
    }
}
