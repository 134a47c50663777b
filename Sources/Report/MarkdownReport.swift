// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// Markdown for CI job summaries (GitHub `$GITHUB_STEP_SUMMARY`, GitLab) and terminals.
///
/// Layout: title, the emulated-host sentence, run facts, notes, modelled labels, variants not
/// run, unavailable metrics, a verdict summary, then per workload one table per metric and,
/// when there are counters, a side-by-side counter table.
public enum MarkdownReport {
    public static func render(_ input: ReportInput) -> String {
        let header = ReportHeader(input)
        let e = Escape.markdown
        var out: [String] = []

        out.append("# rvbench report: \(e(header.experiment))")
        out.append("")
        if let warning = header.emulatedWarning {
            out.append("> **\(e(warning))**")
            out.append("")
        }
        out.append("| | |")
        out.append("|---|---|")
        for fact in header.facts {
            out.append("| \(e(fact.label)) | \(e(fact.value)) |")
        }
        out.append("")

        if !header.notes.isEmpty {
            out.append("**Notes**")
            out.append("")
            out += header.notes.map { "- \(e($0))" }
            out.append("")
        }
        if !header.modelled.isEmpty {
            out.append("**Modelled, not measured**")
            out.append("")
            out += header.modelled.map { "- modelled: \(e($0))" }
            out.append("")
        }
        if !header.notRun.isEmpty {
            out.append("**Not run**")
            out.append("")
            out.append("| variant | workloads | reason |")
            out.append("|---|---|---|")
            for group in header.notRun {
                let workloads = group.workloads.isEmpty ? "all" : group.workloads.map(e).joined(separator: ", ")
                out.append("| \(e(group.variant)) | \(workloads) | not run: \(e(group.reason)) |")
            }
            out.append("")
        }
        if !header.unavailable.isEmpty {
            out.append("**Unavailable metrics** (not measured; never reported as 0)")
            out.append("")
            out.append("| metric | variant | reason |")
            out.append("|---|---|---|")
            for item in header.unavailable {
                out.append("| \(e(item.metric)) | \(item.variant.map(e) ?? "all") | \(e(item.reason)) |")
            }
            out.append("")
        }

        out += summary(input)

        for group in input.workloadGroups {
            out.append("## \(e(group.workload))")
            out.append("")
            for result in group.results {
                out += metricTable(result)
            }
            let counters = group.results.filter(\.isCounter)
            if !counters.isEmpty {
                out += counterTable(counters)
            }
        }
        return out.joined(separator: "\n")
    }

    /// One line per comparison: the verdicts at a glance.
    static func summary(_ input: ReportInput) -> [String] {
        let e = Escape.markdown
        var rows: [String] = []
        for result in input.results.workloads {
            for comparison in result.comparisons {
                let verdict = comparison.verdict == .noChange ? comparison.verdict.label : "**\(comparison.verdict.label)**"
                rows.append("| \(e(result.workload)) | \(e(result.metric)) | \(e(comparison.candidate)) vs \(e(comparison.baseline)) "
                    + "| \(Num.ratio(comparison.ratioOfMeans)) \(Num.interval(comparison.ratioOfMeansCI)) "
                    + "| \(Num.p(comparison.adjustedP)) | \(verdict) |")
            }
        }
        guard !rows.isEmpty else { return ["No comparisons.", ""] }
        let regressions = input.results.workloads.flatMap(\.comparisons).filter { $0.verdict == .regression }.count
        let improvements = input.results.workloads.flatMap(\.comparisons).filter { $0.verdict == .improvement }.count
        return ["## Summary", "",
                "\(rows.count) comparison\(rows.count == 1 ? "" : "s"): \(regressions) regression\(regressions == 1 ? "" : "s"), "
                    + "\(improvements) improvement\(improvements == 1 ? "" : "s"). "
                    + "Ratio is mean(variant) / mean(baseline) with a 95% bootstrap CI; p is Welch's, Holm-corrected.",
                "",
                "| workload | metric | comparison | ratio [95% CI] | p (Holm) | verdict |",
                "|---|---|---|---:|---:|---|"] + rows + [""]
    }

    /// The table of variants for one workload and metric.
    static func metricTable(_ result: WorkloadResult) -> [String] {
        let e = Escape.markdown
        let unit = DisplayUnit.choose(unit: result.unit, typical: result.typicalValue)
        let threshold = result.comparisons.first.map { ", noise threshold ±\(Num.percent($0.threshold))" } ?? ""
        var out = ["### \(e(result.metric)) (\(e(unit.label)), \(result.direction.label)\(threshold))", ""]
        out.append("| variant | n | mean (\(e(unit.label))) | median (\(e(unit.label))) | CV | ratio vs \(e(result.baseline)) [95% CI] | p (Holm) | verdict |")
        out.append("|---|---:|---:|---:|---:|---|---:|---|")
        for variant in result.variants {
            let name = variant.variant == result.baseline ? "\(e(variant.variant)) (baseline)" : e(variant.variant)
            if let reason = variant.status.notRunReason {
                out.append("| \(name) | — | — | — | — | not run: \(e(reason)) | — | — |")
                continue
            }
            guard let d = variant.descriptive else {
                out.append("| \(name) | 0 | — | — | — | no samples | — | — |")
                continue
            }
            var ratio = "—", p = "—", verdict = "—"
            if let c = result.comparison(for: variant.variant) {
                ratio = "\(Num.ratio(c.ratioOfMeans)) \(Num.interval(c.ratioOfMeansCI)) (\(Num.change(c.ratioOfMeans)))"
                p = Num.p(c.adjustedP)
                verdict = c.verdict == .noChange ? c.verdict.label : "**\(c.verdict.label)**"
            } else if variant.variant != result.baseline {
                ratio = e(result.noComparisonReason(for: variant.variant))
            }
            out.append("| \(name) | \(d.n) | \(unit.format(d.mean)) | \(unit.format(d.median)) | \(Num.percent(d.cv)) | \(ratio) | \(p) | \(verdict) |")
        }
        let failures = result.variants.flatMap { v in v.failures.map { (v.variant, $0) } }
        if !failures.isEmpty {
            out.append("")
            out.append("Failures:")
            out += failures.map { "- \(e($0.0)): \(e($0.1))" }
        }
        out.append("")
        return out
    }

    /// Counter means side by side: one row per variant, one column per counter.
    static func counterTable(_ counters: [WorkloadResult]) -> [String] {
        let e = Escape.markdown
        var variants: [String] = []
        for result in counters {
            for variant in result.variants where !variants.contains(variant.variant) { variants.append(variant.variant) }
        }
        var out = ["### counters side by side (mean per iteration)", ""]
        out.append("| variant | " + counters.map { "\(e($0.metric)) (\(e($0.unit)))" }.joined(separator: " | ") + " |")
        out.append("|---|" + String(repeating: "---:|", count: counters.count))
        for name in variants {
            let cells = counters.map { result -> String in
                guard let variant = result.variants.first(where: { $0.variant == name }) else { return "—" }
                if variant.status.notRunReason != nil { return "not run" }
                guard let d = variant.descriptive else { return "—" }
                if let c = result.comparison(for: name) { return "\(Num.sig(d.mean)) (×\(Num.ratio(c.ratioOfMeans)))" }
                return Num.sig(d.mean)
            }
            out.append("| \(e(name)) | " + cells.joined(separator: " | ") + " |")
        }
        out.append("")
        return out
    }
}
