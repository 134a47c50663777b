// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// A self-contained HTML page for web browsers: inline CSS and inline SVG plots, no scripts,
/// no external URLs. A Content-Security-Policy forbids scripts and remote loads, as a second
/// line of defence behind escaping every string that came from data.
public enum HTMLReport {
    public static func render(_ input: ReportInput) -> String {
        let header = ReportHeader(input)
        let h = Escape.markup
        var out: [String] = [
            "<!DOCTYPE html>",
            "<html lang=\"en\">",
            "<head>",
            "<meta charset=\"utf-8\">",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>rvbench report: \(h(header.experiment))</title>",
            "<style>\n\(style)</style>",
            "</head>",
            "<body>",
            "<h1>rvbench report: \(h(header.experiment))</h1>",
        ]
        if let warning = header.emulatedWarning {
            out.append("<p class=\"warning\">\(h(warning))</p>")
        }
        out.append("<table class=\"facts\">")
        for fact in header.facts {
            out.append("<tr><th>\(h(fact.label))</th><td>\(h(fact.value))</td></tr>")
        }
        out.append("</table>")

        if !header.notes.isEmpty {
            out.append("<h2>Notes</h2>")
            out.append("<ul>" + header.notes.map { "<li>\(h($0))</li>" }.joined() + "</ul>")
        }
        if !header.modelled.isEmpty {
            out.append("<h2>Modelled, not measured</h2>")
            out.append("<ul>" + header.modelled.map { "<li>modelled: \(h($0))</li>" }.joined() + "</ul>")
        }
        if !header.notRun.isEmpty {
            out.append("<h2>Not run</h2>")
            out += table(ReportHeader.notRunColumns, header.notRunRows(h), lastCellClass: "notrun")
        }
        if !header.unavailable.isEmpty {
            out.append("<h2>Unavailable metrics</h2>")
            out.append("<p>Not measured, and never reported as 0.</p>")
            out += table(ReportHeader.unavailableColumns, header.unavailableRows(h))
        }

        out += summary(input)

        for group in input.workloadGroups {
            out.append("<section>")
            out.append("<h2>\(h(group.workload))</h2>")
            for result in group.results where result.kind == .primary || result.kind == .secondary {
                out += metricSection(result, input: input)
            }
            let checks = group.results.filter { $0.kind == .verification }
            if !checks.isEmpty {
                out.append("<h3>Verification <span class=\"muted\">(checked, not compared)</span></h3>")
                out.append("<ul>" + checks.compactMap { result -> String? in
                    guard let check = result.checkText else { return nil }
                    let unit = result.unit.isEmpty ? "no unit" : result.unit
                    let text = check.consistent ? h(check.text) : "<strong>\(h(check.text))</strong>"
                    return "<li>\(h(result.metric)) (\(h(unit))): \(text)</li>"
                }.joined() + "</ul>")
            }
            let counters = group.results.filter(\.isCounter)
            if !counters.isEmpty { out += counterTable(counters) }
            if let cost = input.datapathCost(for: group.workload) {
                let h = Escape.markup
                out.append("<h3>What the datapath costs, per MB read</h3>")
                out += table((["variant"] + DatapathCostTable.columns.map(\.title)).map(h), cost.rows.map { $0.map(h) })
                out.append("<ul>" + cost.notes.map { "<li>\(h($0))</li>" }.joined() + "</ul>")
            }
            out.append("</section>")
        }
        out.append("<footer>The boot is the unit: ratios are candidate / baseline over per-boot means with log-ratio Welch t "
            + "intervals; a regression needs a one-sided test against 1 ± threshold to reject after Holm's correction "
            + "across the primary metric × workload × variant family; equivalent needs TOST; anything else is inconclusive. "
            + "Secondary metrics and counters are corrected separately and never decide.</footer>")
        out.append("</body>")
        out.append("</html>")
        return out.joined(separator: "\n") + "\n"
    }

    static func verdictCell(_ verdict: Verdict) -> String {
        let cls = switch verdict {
        case .regression: "regression"
        case .improvement: "improvement"
        case .equivalent, .inconclusive, .noTest: "no-change"
        }
        return "<td class=\"\(cls)\">\(verdict.label)</td>"
    }

    static func verdictCell(_ c: Comparison) -> String {
        verdictCell(c.verdict).replacingOccurrences(of: ">\(c.verdict.label)<", with: ">\(Escape.markup(c.verdictText))<")
    }

    /// A table whose cells are already escaped: the header row on the table's line, then a line per row.
    static func table(_ columns: [String], _ rows: [[String]], lastCellClass: String? = nil) -> [String] {
        let lastOpen = lastCellClass.map { "<td class=\"\($0)\">" } ?? "<td>"
        return ["<table><tr>" + columns.map { "<th>\($0)</th>" }.joined() + "</tr>"]
            + rows.map { cells in
                "<tr>" + cells.enumerated().map { index, cell in
                    (index == cells.count - 1 ? lastOpen : "<td>") + cell + "</td>"
                }.joined() + "</tr>"
            }
            + ["</table>"]
    }

    static func summary(_ input: ReportInput) -> [String] {
        let h = Escape.markup
        let primary = input.primaryRows
        guard !primary.isEmpty else { return ["<p>No comparisons of primary metrics.</p>"] }
        let rows = primary.map { result, c in
            "<tr><td>\(h(result.workload))</td><td>\(h(result.metric))</td><td>\(h(c.candidate)) vs \(h(c.baseline))</td>"
                + "<td class=\"num\">\(c.bootLevel.map { "\($0.bootsBaseline) / \($0.bootsCandidate)" } ?? "—")</td>"
                + "<td class=\"num\">\(Num.ratio(c.headlineRatio)) \(Num.interval(c.headlineCI)) \(c.levelLabel)</td>"
                + "<td class=\"num\">\(Num.p(c.adjustedP))</td>\(verdictCell(c))</tr>"
        }
        return ["<h2>Answer</h2>",
                "<p>Each workload's primary metric per candidate variant: ratio candidate / baseline over per-boot means, "
                    + "with a log-ratio Welch t interval at the level that matches its Holm-corrected decision.</p>",
                "<table><tr><th>workload</th><th>metric</th><th>comparison</th><th>boots</th><th>ratio [CI]</th><th>p (Holm)</th><th>verdict</th></tr>"]
            + rows + ["</table>", "<figure>", SVGPlots.forest(primary: primary),
                      "<figcaption>Primary metric ratios with their boot-level intervals; the shaded band is the noise threshold.</figcaption>",
                      "</figure>"]
    }

    static func metricSection(_ result: WorkloadResult, input: ReportInput) -> [String] {
        let h = Escape.markup
        let unit = DisplayUnit.choose(unit: result.unit, typical: result.typicalValue)
        let threshold = result.comparisons.first.map { ", noise threshold ±\(Num.percent($0.threshold))" } ?? ""
        var out = ["<h3>\(h(result.metric)) <span class=\"muted\">(\(result.kind.rawValue), \(h(unit.label)), \(result.direction.label)\(threshold))</span></h3>"]
        if let text = result.description { out.append("<p class=\"muted\">\(h(text)).</p>") }
        out.append("<table><tr><th>variant</th><th>n</th><th>mean (\(h(unit.label)))</th><th>median (\(h(unit.label)))</th>"
            + "<th>p5–p95 (\(h(unit.label)))</th><th>CV</th><th>ratio vs \(h(result.baseline)) on boot means [CI]</th><th>p (Holm)</th><th>verdict</th></tr>")
        for variant in result.variants {
            let name = h(variant.variant) + (variant.variant == result.baseline ? " <span class=\"muted\">(baseline)</span>" : "")
            if let reason = variant.status.notRunReason {
                out.append("<tr><td>\(name)</td><td colspan=\"8\" class=\"notrun\">not run: \(h(reason))</td></tr>")
                continue
            }
            guard let d = variant.descriptive else {
                out.append("<tr><td>\(name)</td><td colspan=\"8\" class=\"notrun\">no samples</td></tr>")
                continue
            }
            var cells = "<td class=\"num\">\(d.n)</td><td class=\"num\">\(unit.format(d.mean))</td>"
                + "<td class=\"num\">\(unit.format(d.median))</td>"
                + "<td class=\"num\">\(unit.format(d.quantiles.p5))–\(unit.format(d.quantiles.p95))</td>"
                + "<td class=\"num\">\(Num.percent(d.cv))</td>"
            if let c = result.comparison(for: variant.variant) {
                cells += "<td class=\"num\">\(Num.ratio(c.headlineRatio)) \(Num.interval(c.headlineCI)) \(c.levelLabel) (\(Num.change(c.headlineRatio)))</td>"
                    + "<td class=\"num\">\(Num.p(c.adjustedP))</td>\(verdictCell(c))"
            } else if variant.variant == result.baseline {
                cells += "<td>—</td><td>—</td><td>—</td>"
            } else {
                cells += "<td colspan=\"3\" class=\"notrun\">\(h(result.noComparisonReason(for: variant.variant)))</td>"
            }
            out.append("<tr><td>\(name)</td>\(cells)</tr>")
        }
        out.append("</table>")
        let failures = result.variants.flatMap { v in v.failures.map { (v.variant, $0) } }
        if !failures.isEmpty {
            out.append("<p>Failures:</p><ul>" + failures.map { "<li>\(h($0.0)): \(h($0.1))</li>" }.joined() + "</ul>")
        }
        if result.kind == .primary {
            if let design = DesignRows(result) {
                out.append("<p>\(h(design.caption))</p>")
                out.append("<table><tr>" + DesignRows.header.map { "<th>\(h($0))</th>" }.joined() + "</tr>")
                for row in design.rows {
                    out.append("<tr>" + row.map { "<td>\(h($0))</td>" }.joined() + "</tr>")
                }
                out.append("</table>")
            }
        }
        if !result.isConstant {
            out.append("<figure>")
            out.append(SVGPlots.distribution(result, input: input))
            out.append("<figcaption>Distribution of \(h(result.metric)) per variant.</figcaption>")
            out.append("</figure>")
        }
        if !result.comparisons.isEmpty && result.kind != .primary {
            out.append("<figure>")
            out.append(SVGPlots.forest(result))
            out.append("<figcaption>Ratio against \(h(result.baseline)) on boot means with its interval; the shaded band is the noise threshold.</figcaption>")
            out.append("</figure>")
        }
        return out
    }

    static func counterTable(_ counters: [WorkloadResult]) -> [String] {
        let h = Escape.markup
        var variants: [String] = []
        for result in counters {
            for variant in result.variants where !variants.contains(variant.variant) { variants.append(variant.variant) }
        }
        var out = ["<h3>Counters side by side <span class=\"muted\">(mean per iteration; × ratio vs baseline)</span></h3>",
                   "<table><tr><th>variant</th>" + counters.map { "<th>\(h($0.metric)) (\(h($0.unit)))</th>" }.joined() + "</tr>"]
        for name in variants {
            let cells = counters.map { result -> String in
                guard let variant = result.variants.first(where: { $0.variant == name }) else { return "<td>—</td>" }
                if variant.status.notRunReason != nil { return "<td class=\"notrun\">not run</td>" }
                guard let d = variant.descriptive else { return "<td>—</td>" }
                var cell = Num.sig(d.mean)
                if let c = result.comparison(for: name) { cell += " (×\(Num.ratio(c.headlineRatio)))" }
                if let per = result.perUnit, let value = per.value(for: name) { cell += "; \(Num.sig(value)) per \(h(per.unit))" }
                return "<td class=\"num\">\(cell)</td>"
            }
            out.append("<tr><td>\(h(name))</td>" + cells.joined() + "</tr>")
        }
        out.append("</table>")
        return out
    }

    static let style = """
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 1040px; padding: 0 1rem; }
        h1 { font-size: 1.6rem; margin-bottom: .6rem; }
        h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .2rem; }
        h3 { font-size: 1.05rem; margin-top: 1.4rem; }
        .warning { border-left: 5px solid #b35900; background: #fff4e5; padding: .6rem 1rem; font-weight: 600; }
        table { border-collapse: collapse; margin: .4rem 0 1rem; display: block; overflow-x: auto; max-width: 100%; }
        th, td { border-bottom: 1px solid #d8dee4; padding: .25rem .7rem; text-align: left; vertical-align: top; }
        th { background: #f6f8fa; font-weight: 600; }
        table.facts th { background: none; font-weight: 500; color: #57606a; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.regression { color: #c62828; font-weight: 700; }
        td.improvement { color: #2e7d32; font-weight: 700; }
        td.no-change { color: #546e7a; }
        .notrun, .muted { color: #57606a; }
        .notrun { font-style: italic; }
        figure { margin: .5rem 0 1.2rem; }
        figcaption { color: #57606a; font-size: .9em; }
        footer { margin-top: 2.5rem; color: #57606a; font-size: .9em; }
        svg { max-width: 100%; height: auto; }
        svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1b1f24; }
        svg text.muted { fill: #57606a; font-style: italic; }
        svg text.small { font-size: 11px; }
        svg text.v-regression { fill: #c62828; font-weight: 700; }
        svg text.v-improvement { fill: #2e7d32; font-weight: 700; }
        svg text.v-no-change { fill: #546e7a; }
        svg .grid { stroke: #eaeef2; }
        svg .axis { stroke: #8c959f; }
        svg .box { fill: #bbdefb; stroke: #1565c0; stroke-width: 1.2; }
        svg .median { stroke: #0d47a1; stroke-width: 2.5; }
        svg .whisker { stroke: #1565c0; stroke-width: 1.2; }
        svg .pt { fill: #37474f; fill-opacity: .45; }
        svg .mean { fill: #ff8f00; stroke: #5d4037; stroke-width: .8; }
        svg .band { fill: #9e9e9e; fill-opacity: .18; }
        svg .one { stroke: #424242; stroke-dasharray: 4 3; stroke-width: 1.2; }

        """
}
