// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// One row per sample, for spreadsheets, pandas and R (RFC 4180: CRLF line ends, fields with
/// commas, quotes or line breaks quoted, quotes doubled).
///
/// Columns: experiment, variant, workload, boot, iteration, metric, value, unit, timestamp
/// (ISO-8601 UTC), status, detail. `status` is `sample` for measured values; other rows carry
/// no value and say what they are in `detail`: `host` (the host type), `emulated` (the emulated-host sentence), `note`,
/// `modelled`, `unavailable`, `not-run` and `failed`. Filter on `status == "sample"` for the data.
///
/// Spreadsheet formula injection is defused: a text cell that starts with `=`, `+`, `-`, `@`,
/// tab or carriage return gets a leading `'`, so a hostile workload name cannot run as a formula.
/// Numeric columns (boot, iteration, value) are never altered.
public enum CSVReport {
    public static let columns = ["experiment", "variant", "workload", "boot", "iteration", "metric", "value",
                                 "unit", "timestamp", "status", "detail"]

    public static func render(_ input: ReportInput) -> String {
        let header = ReportHeader(input)
        let experiment = input.results.experiment
        var rows: [[Cell]] = [columns.map { .text($0) }]

        func info(_ status: String, _ detail: String, variant: String = "", workload: String = "",
                  metric: String = "") {
            rows.append([.text(experiment), .text(variant), .text(workload), .empty, .empty, .text(metric), .empty,
                         .empty, .empty, .text(status), .text(detail)])
        }
        info("host", header.hostKind)
        if let warning = header.emulatedWarning { info("emulated", warning) }
        for note in header.notes { info("note", note) }
        for label in header.modelled { info("modelled", label) }
        for item in header.unavailable { info("unavailable", item.reason, variant: item.variant ?? "", metric: item.metric) }
        for group in header.notRun {
            if group.workloads.isEmpty {
                info("not-run", group.reason, variant: group.variant)
            }
            for workload in group.workloads {
                info("not-run", group.reason, variant: group.variant, workload: workload)
            }
        }
        for sample in input.journal?.samples ?? [] {
            rows.append([.text(sample.experiment), .text(sample.variant), .text(sample.workload),
                         .number(String(sample.boot)), .number(String(sample.iteration)), .text(sample.metric),
                         .number(Num.exact(sample.value)), .text(sample.unit),
                         .text(ISO8601Time.string(fromEpochSeconds: sample.timestamp)), .text("sample"), .empty])
        }
        for failure in input.journal?.failures ?? [] {
            rows.append([.text(failure.experiment), .text(failure.variant), .text(failure.workload ?? ""),
                         failure.boot.map { .number(String($0)) } ?? .empty,
                         failure.iteration.map { .number(String($0)) } ?? .empty,
                         .empty, .empty, .empty, .text(ISO8601Time.string(fromEpochSeconds: failure.timestamp)),
                         .text("failed"), .text(failure.reason)])
        }
        return rows.map { $0.map(\.field).joined(separator: ",") + "\r\n" }.joined()
    }

    enum Cell {
        case text(String)
        case number(String)
        case empty

        /// The cell as an RFC 4180 field.
        var field: String {
            switch self {
            case .empty: return ""
            case .number(let text): return CSVReport.quoted(text)
            case .text(let text): return CSVReport.quoted(CSVReport.defused(text))
            }
        }
    }

    /// Prefixes `'` to text a spreadsheet would run as a formula.
    static func defused(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return text }
        return ["=", "+", "-", "@", "\t", "\r"].contains(first) ? "'" + text : text
    }

    /// Quotes a field when it holds a comma, quote, CR or LF (or leading/trailing space), doubling quotes.
    static func quoted(_ text: String) -> String {
        let needsQuotes = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || text.first == " " || text.last == " "
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
