// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Inline SVG plots for the HTML report. Output is deterministic: coordinates are printed with
/// one decimal and sample jitter comes from a fixed hash, not a random source.
enum SVGPlots {
    static let width = 760.0
    static let labelWidth = 150.0
    static let valueWidth = 250.0
    static let rowHeight = 34.0
    static let top = 12.0
    static let axisHeight = 38.0
    /// Room under the axis for a legend line.
    static let legendHeight = 16.0
    /// At most this many points are drawn per variant; larger sets are thinned evenly.
    static let maxPoints = 1500

    static let colors: [Verdict: String] = [.regression: "#c62828", .improvement: "#2e7d32", .equivalent: "#546e7a",
                                            .inconclusive: "#546e7a", .noTest: "#546e7a"]

    /// Box plots of one metric, one row per variant: box p25–p75, median bar, whiskers p5–p95,
    /// mean as a diamond, and the samples as jittered points when the journal is at hand.
    static func distribution(_ result: WorkloadResult, input: ReportInput) -> String {
        let unit = DisplayUnit.choose(unit: result.unit, typical: result.typicalValue)
        let rows = result.variants
        var low = Double.infinity, high = -Double.infinity
        var pointsByVariant: [String: [Double]] = [:]
        for variant in rows {
            guard let d = variant.descriptive else { continue }
            low = min(low, d.quantiles.p5, d.quantiles.p25, d.mean)
            high = max(high, d.quantiles.p95, d.quantiles.p75, d.mean)
            let values = input.samples(workload: result.workload, metric: result.metric, variant: variant.variant)
                .map(\.value).filter(\.isFinite)
            pointsByVariant[variant.variant] = values
            for value in values {
                low = min(low, value); high = max(high, value)
            }
        }
        let title = "\(result.workload): \(result.metric) by variant"
        let plotRight = width - 20
        let height = top + Double(max(rows.count, 1)) * rowHeight + axisHeight + legendHeight
        let bottom = height - axisHeight - legendHeight
        var svg = open(title: title, height: height)
        guard low.isFinite, high.isFinite else {
            svg.append(text(x: labelWidth, y: top + rowHeight / 2, "no samples to plot", anchor: "start", cls: "muted"))
            svg.append("</svg>")
            return svg.joined(separator: "\n")
        }
        let scale = Scale(low: low / unit.divisor, high: high / unit.divisor, left: labelWidth, right: plotRight,
                          includeZero: false)
        svg += grid(scale, top: top, bottom: bottom, label: "\(result.metric) (\(unit.label))")

        for (index, variant) in rows.enumerated() {
            let y = top + (Double(index) + 0.5) * rowHeight
            let name = variant.variant == result.baseline ? "\(variant.variant) (baseline)" : variant.variant
            svg.append(text(x: labelWidth - 8, y: y + 4, clipped(name, 22), anchor: "end"))
            if let reason = variant.status.notRunReason {
                svg.append(text(x: labelWidth + 4, y: y + 4, clipped("not run: \(reason)", 90), anchor: "start", cls: "muted"))
                continue
            }
            guard let d = variant.descriptive else {
                svg.append(text(x: labelWidth + 4, y: y + 4, "no samples", anchor: "start", cls: "muted"))
                continue
            }
            let q = d.quantiles
            let x = { (value: Double) in scale.x(value / unit.divisor) }
            let half = rowHeight * 0.28
            svg.append(line(x1: x(q.p5), y1: y, x2: x(q.p25), y2: y, cls: "whisker"))
            svg.append(line(x1: x(q.p75), y1: y, x2: x(q.p95), y2: y, cls: "whisker"))
            svg.append(line(x1: x(q.p5), y1: y - half / 2, x2: x(q.p5), y2: y + half / 2, cls: "whisker"))
            svg.append(line(x1: x(q.p95), y1: y - half / 2, x2: x(q.p95), y2: y + half / 2, cls: "whisker"))
            svg.append("<rect class=\"box\" x=\"\(f(x(q.p25)))\" y=\"\(f(y - half))\" width=\"\(f(max(1, x(q.p75) - x(q.p25))))\" height=\"\(f(2 * half))\"/>")
            svg.append(line(x1: x(q.p50), y1: y - half, x2: x(q.p50), y2: y + half, cls: "median"))
            let points = thinned(pointsByVariant[variant.variant] ?? [])
            for (pointIndex, value) in points.enumerated() {
                let jitter = (unitHash(pointIndex, salt: index) - 0.5) * 2 * half * 0.9
                svg.append("<circle class=\"pt\" cx=\"\(f(x(value)))\" cy=\"\(f(y + jitter))\" r=\"1.8\"/>")
            }
            let mx = x(d.mean)
            svg.append("<path class=\"mean\" d=\"M\(f(mx)) \(f(y - 5))L\(f(mx + 5)) \(f(y))L\(f(mx)) \(f(y + 5))L\(f(mx - 5)) \(f(y))Z\"/>")
        }
        svg.append(text(x: labelWidth, y: height - 4,
                        "box p25–p75, bar median, whiskers p5–p95, ◆ mean" + (pointsByVariant.values.contains { !$0.isEmpty } ? ", dots samples" : ""),
                        anchor: "start", cls: "muted small"))
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// The ratio of each variant against the baseline for one metric (boot level).
    static func forest(_ result: WorkloadResult) -> String {
        let rows: [(label: String, status: String?, comparison: Comparison?)] = result.variants
            .filter { $0.variant != result.baseline }
            .map { v in
                if let reason = v.status.notRunReason { return (v.variant, "not run: \(reason)", nil) }
                return (v.variant, result.comparison(for: v.variant) == nil ? "no comparison" : nil, result.comparison(for: v.variant))
            }
        return forest(rows: rows, threshold: result.comparisons.first?.threshold ?? 0.01,
                      title: "\(result.workload): \(result.metric) ratio vs \(result.baseline)",
                      axis: "ratio vs \(result.baseline) on boot means (\(result.direction.label)")
    }

    /// The answer as one plot: every workload's primary metric per candidate variant.
    static func forest(primary: [(result: WorkloadResult, comparison: Comparison)]) -> String {
        forest(rows: primary.map { ("\($0.result.workload) \($0.comparison.candidate)", nil, $0.comparison) },
               threshold: primary.first?.comparison.threshold ?? 0.01,
               title: "primary metrics: ratio candidate / baseline on boot means", axis: "ratio on boot means (")
    }

    /// Point and interval whiskers per row, a dashed line at 1.0, and the noise band ±threshold shaded.
    static func forest(rows: [(label: String, status: String?, comparison: Comparison?)], threshold: Double,
                       title: String, axis: String) -> String {
        var low = 1 - threshold, high = 1 + threshold
        for c in rows.compactMap(\.comparison) {
            for value in [c.headlineRatio, c.headlineCI.low, c.headlineCI.high] where value.isFinite {
                low = min(low, value); high = max(high, value)
            }
        }
        let plotRight = width - valueWidth
        let height = top + Double(max(rows.count, 1)) * rowHeight + axisHeight
        var svg = open(title: title, height: height)
        let scale = Scale(low: low, high: high, left: labelWidth, right: plotRight, includeZero: false)
        let bandLeft = scale.x(1 - threshold), bandRight = scale.x(1 + threshold)
        svg.append("<rect class=\"band\" x=\"\(f(bandLeft))\" y=\"\(f(top))\" width=\"\(f(bandRight - bandLeft))\" height=\"\(f(height - axisHeight - top))\"/>")
        svg += grid(scale, top: top, bottom: height - axisHeight,
                    label: "\(axis); band ±\(Num.percent(threshold)) noise)")
        svg.append(line(x1: scale.x(1), y1: top, x2: scale.x(1), y2: height - axisHeight, cls: "one"))
        if rows.isEmpty {
            svg.append(text(x: labelWidth + 4, y: top + rowHeight / 2, "no variant to compare", anchor: "start", cls: "muted"))
        }
        for (index, row) in rows.enumerated() {
            let y = top + (Double(index) + 0.5) * rowHeight
            svg.append(text(x: labelWidth - 8, y: y + 4, clipped(row.label, 22), anchor: "end"))
            guard let c = row.comparison else {
                svg.append(text(x: plotRight + 10, y: y + 4, clipped(row.status ?? "no comparison", 38), anchor: "start", cls: "muted small"))
                continue
            }
            let color = colors[c.verdict] ?? "#000"
            let ci = c.headlineCI
            if ci.low.isFinite && ci.high.isFinite {
                svg.append("<line x1=\"\(f(scale.x(ci.low)))\" y1=\"\(f(y))\" x2=\"\(f(scale.x(ci.high)))\" y2=\"\(f(y))\" stroke=\"\(color)\" stroke-width=\"2\"/>")
                for end in [ci.low, ci.high] {
                    svg.append("<line x1=\"\(f(scale.x(end)))\" y1=\"\(f(y - 6))\" x2=\"\(f(scale.x(end)))\" y2=\"\(f(y + 6))\" stroke=\"\(color)\" stroke-width=\"2\"/>")
                }
            }
            if c.headlineRatio.isFinite {
                svg.append("<circle cx=\"\(f(scale.x(c.headlineRatio)))\" cy=\"\(f(y))\" r=\"5\" fill=\"\(color)\"/>")
            }
            let cls = c.isNotable ? c.verdict.rawValue : "no-change"
            svg.append(text(x: plotRight + 10, y: y + 4,
                            clipped("\(Num.ratio(c.headlineRatio)) \(Num.interval(ci)) \(c.levelLabel) \(c.verdictText)", 44),
                            anchor: "start", cls: "v-\(cls) small"))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    // MARK: - Pieces

    /// A linear scale with "nice" ticks (1, 2 or 5 × 10^k).
    struct Scale {
        var low: Double
        var high: Double
        var left: Double
        var right: Double
        var ticks: [Double]

        init(low rawLow: Double, high rawHigh: Double, left: Double, right: Double, includeZero: Bool) {
            var low = includeZero ? min(0, rawLow) : rawLow
            var high = rawHigh
            if high - low <= abs(high) * 1e-9 || high - low == 0 {
                let pad = abs(high) > 0 ? abs(high) * 0.05 : 1
                low -= pad; high += pad
            }
            let pad = (high - low) * 0.06
            low -= pad; high += pad
            let step = Scale.niceStep((high - low) / 6)
            var ticks: [Double] = []
            var tick = (low / step).rounded(.up) * step
            while tick <= high + step * 1e-9, ticks.count < 20 {
                ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
                tick += step
            }
            self.low = low; self.high = high; self.left = left; self.right = right; self.ticks = ticks
        }

        /// A tick label with as many decimals as the tick step needs.
        func label(_ tick: Double) -> String {
            guard ticks.count >= 2 else { return Num.sig(tick) }
            let step = ticks[1] - ticks[0]
            let magnitude = max(abs(ticks.first!), abs(ticks.last!))
            if magnitude >= 1e7 || magnitude < 1e-3 { return Num.exponent(tick, 3) }
            let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
            let text = String(format: "%.\(decimals)f", tick)
            return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
        }

        func x(_ value: Double) -> Double {
            left + (value - low) / (high - low) * (right - left)
        }

        static func niceStep(_ raw: Double) -> Double {
            let power = pow(10, floor(log10(raw)))
            let fraction = raw / power
            let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
            return nice * power
        }
    }

    static func open(title: String, height: Double) -> [String] {
        ["<svg role=\"img\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\">",
         "<title>\(Escape.markup(title))</title>"]
    }

    static func grid(_ scale: Scale, top: Double, bottom: Double, label: String) -> [String] {
        var out: [String] = []
        for tick in scale.ticks {
            let x = scale.x(tick)
            out.append(line(x1: x, y1: top, x2: x, y2: bottom, cls: "grid"))
            out.append(text(x: x, y: bottom + 14, scale.label(tick), anchor: "middle", cls: "small"))
        }
        out.append(line(x1: scale.left, y1: bottom, x2: scale.right, y2: bottom, cls: "axis"))
        out.append(text(x: (scale.left + scale.right) / 2, y: bottom + 30, label, anchor: "middle", cls: "small"))
        return out
    }

    static func line(x1: Double, y1: Double, x2: Double, y2: Double, cls: String) -> String {
        "<line class=\"\(cls)\" x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\"/>"
    }

    static func text(x: Double, y: Double, _ content: String, anchor: String, cls: String? = nil) -> String {
        let cls = cls.map { " class=\"\($0)\"" } ?? ""
        return "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\"\(cls)>\(Escape.markup(content))</text>"
    }

    /// Shortens long labels with an ellipsis; the full text is in the tables.
    static func clipped(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// One decimal, locale-independent.
    static func f(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let text = String(format: "%.1f", value)
        return text == "-0.0" ? "0.0" : text
    }

    /// Evenly spaced subset of at most `maxPoints` values.
    static func thinned(_ values: [Double]) -> [Double] {
        guard values.count > maxPoints else { return values }
        return (0 ..< maxPoints).map { values[$0 * values.count / maxPoints] }
    }

    /// A fixed pseudo-random number in [0, 1) from an index (SplitMix64), for jitter.
    static func unitHash(_ index: Int, salt: Int) -> Double {
        var z = UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: salt) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
