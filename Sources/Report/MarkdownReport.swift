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
            out.append(row([e(fact.label), e(fact.value)]))
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
            out += ["**Not run**", ""] + table(ReportHeader.notRunColumns, header.notRunRows(e))
        }
        if !header.unavailable.isEmpty {
            out += ["**Unavailable metrics** (not measured; never reported as 0)", ""]
                + table(ReportHeader.unavailableColumns, header.unavailableRows(e))
        }

        out += summary(input)

        for group in input.workloadGroups {
            out.append("## \(e(group.workload))")
            out.append("")
            for result in group.results where result.kind == .primary || result.kind == .secondary {
                out += metricTable(result)
                if result.kind == .primary { out += designTable(result) }
            }
            let checks = group.results.filter { $0.kind == .verification }
            if !checks.isEmpty {
                out.append("### verification (checked, not compared)")
                out.append("")
                out += checks.flatMap(checkLine)
                out.append("")
            }
            let counters = group.results.filter(\.isCounter)
            if !counters.isEmpty {
                out += counterTable(counters)
            }
            if let cost = input.datapathCost(for: group.workload) {
                out += ["### what the datapath costs, per MB read", ""]
                    + table((["variant"] + DatapathCostTable.columns.map(\.title)).map(e), cost.rows.map { $0.map(e) })
                out += cost.notes.map { "- \(e($0))" } + [""]
            }
        }
        return out.joined(separator: "\n")
    }

    /// One line of a table: cells that are already escaped, between pipes.
    static func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    /// A table of left-aligned columns whose cells are already escaped, and the blank line after it.
    static func table(_ columns: [String], _ rows: [[String]]) -> [String] {
        [row(columns), "|" + String(repeating: "---|", count: columns.count)] + rows.map(row) + [""]
    }

    /// The answer first: each workload's primary metric per candidate variant, on boot means.
    static func summary(_ input: ReportInput) -> [String] {
        let e = Escape.markdown
        let primary = input.primaryRows
        guard !primary.isEmpty else { return ["No comparisons of primary metrics.", ""] }
        var rows: [String] = []
        for (result, c) in primary {
            let verdict = c.isNotable ? "**\(c.verdictText)**" : c.verdictText
            let boots = c.bootLevel.map { "\($0.bootsBaseline) / \($0.bootsCandidate)" } ?? "—"
            rows.append(row([e(result.workload), e(result.metric), "\(e(c.candidate)) vs \(e(c.baseline))", boots,
                             "\(Num.ratio(c.headlineRatio)) \(Num.interval(c.headlineCI)) \(c.levelLabel)",
                             Num.p(c.adjustedP), verdict]))
        }
        let verdicts = primary.map(\.comparison.verdict)
        let counts = Verdict.allCases.compactMap { v -> String? in
            let n = verdicts.filter { $0 == v }.count
            return n == 0 ? nil : "\(n) \(v.label)"
        }.joined(separator: ", ")
        let threshold = primary.first.map { Num.percent($0.comparison.threshold) } ?? "—"
        return ["## Answer", "",
                "\(primary.count) primary comparison\(primary.count == 1 ? "" : "s"): \(counts). "
                    + "Ratio is candidate / baseline over per-boot means (the boot is the unit), with a log-ratio Welch t "
                    + "interval at the level that matches its Holm-corrected decision; p is the Holm-corrected p of the "
                    + "deciding test against 1 ± \(threshold) (TOST for equivalent).",
                "",
                "| workload | metric | comparison | boots | ratio [CI] | p (Holm) | verdict |",
                "|---|---|---|---:|---:|---:|---|"] + rows + [""]
    }

    /// Kalibera & Jones advice for a primary metric: variance components and a cheaper design.
    static func designTable(_ result: WorkloadResult) -> [String] {
        guard let design = DesignRows(result) else { return [] }
        let e = Escape.markdown
        var out = [design.caption, "",
                   row(DesignRows.header),
                   "|---|" + String(repeating: "---:|", count: DesignRows.header.count - 1)]
        out += design.rows.map { row($0.map(e)) }
        out.append("")
        return out
    }

    /// A verification metric: checked, not compared.
    static func checkLine(_ result: WorkloadResult) -> [String] {
        guard let check = result.checkText else { return [] }
        let e = Escape.markdown
        let verdict = check.consistent ? e(check.text) : "**\(e(check.text))**"
        return ["- \(e(result.metric)) (\(e(result.unit.isEmpty ? "no unit" : result.unit))): \(verdict)"]
    }

    /// The table of variants for one workload and metric.
    static func metricTable(_ result: WorkloadResult) -> [String] {
        let e = Escape.markdown
        let unit = DisplayUnit.choose(unit: result.unit, typical: result.typicalValue)
        let threshold = result.comparisons.first.map { ", noise threshold ±\(Num.percent($0.threshold))" } ?? ""
        var out = ["### \(e(result.metric)) (\(result.kind.rawValue), \(e(unit.label)), \(result.direction.label)\(threshold))", ""]
        if let text = result.description {
            out.append("\(e(text)).")
            out.append("")
        }
        out.append(row(["variant", "boots", "n", "mean (\(e(unit.label)))", "median (\(e(unit.label)))", "CV",
                        "ratio vs \(e(result.baseline)) on boot means [CI]", "p (Holm)", "verdict"]))
        out.append("|---|---:|---:|---:|---:|---:|---|---:|---|")
        for variant in result.variants {
            let name = variant.variant == result.baseline ? "\(e(variant.variant)) (baseline)" : e(variant.variant)
            if let reason = variant.status.notRunReason {
                out.append(row([name, "—", "—", "—", "—", "—", "not run: \(e(reason))", "—", "—"]))
                continue
            }
            guard let d = variant.descriptive else {
                out.append(row([name, "—", "0", "—", "—", "—", "no samples", "—", "—"]))
                continue
            }
            var ratio = "—", p = "—", verdict = "—", boots = "—"
            if let c = result.comparison(for: variant.variant) {
                ratio = "\(Num.ratio(c.headlineRatio)) \(Num.interval(c.headlineCI)) \(c.levelLabel) (\(Num.change(c.headlineRatio)))"
                p = Num.p(c.adjustedP)
                verdict = c.isNotable ? "**\(c.verdictText)**" : c.verdictText
                boots = c.bootLevel.map { String($0.bootsCandidate) } ?? "—"
            } else if variant.variant != result.baseline {
                ratio = e(result.noComparisonReason(for: variant.variant))
            } else if let c = result.comparisons.first {
                boots = c.bootLevel.map { String($0.bootsBaseline) } ?? "—"
            }
            out.append(row([name, boots, "\(d.n)", unit.format(d.mean), unit.format(d.median), Num.percent(d.cv), ratio, p,
                            verdict]))
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
        var out = ["### counters side by side (mean per iteration; × boot-level ratio vs baseline; never decide a verdict)", ""]
        out.append(row(["variant"] + counters.map { "\(e($0.metric)) (\(e($0.unit)))" }))
        out.append("|---|" + String(repeating: "---:|", count: counters.count))
        for name in variants {
            let cells = counters.map { result -> String in
                guard let variant = result.variants.first(where: { $0.variant == name }) else { return "—" }
                if variant.status.notRunReason != nil { return "not run" }
                guard let d = variant.descriptive else { return "—" }
                var cell = Num.sig(d.mean)
                if let c = result.comparison(for: name) { cell += " (×\(Num.ratio(c.headlineRatio)))" }
                if let per = result.perUnit, let value = per.value(for: name) { cell += "; \(Num.sig(value)) per \(e(per.unit))" }
                return cell
            }
            out.append(row([e(name)] + cells))
        }
        let bases = Set(counters.compactMap { $0.perUnit.map { "per \($0.unit): \($0.basis)" } }).sorted()
        if !bases.isEmpty {
            out.append("")
            out += bases.map { "- \(e($0))" }
        }
        out.append("")
        return out
    }
}
