// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// The output formats of `rvbench report`.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// Markdown, for GitHub and GitLab CI job summaries, merge-request comments and terminals.
    case md
    /// Self-contained HTML with inline SVG plots, for web browsers; needs no network and no JavaScript.
    case html
    /// `results.json` exactly as written, for scripts, `jq` and other rvbench commands.
    case json
    /// One row per sample, for spreadsheets, pandas and R.
    case csv
    /// JUnit XML, for CI test reporters (Jenkins, GitLab, GitHub test-report actions).
    case junit

    /// The file name `rvbench run` writes this format to inside a results directory.
    public var defaultFileName: String {
        switch self {
        case .md: "report.md"
        case .html: "report.html"
        case .json: "results.json"
        case .csv: "samples.csv"
        case .junit: "junit.xml"
        }
    }
}

/// Everything a report may show: the results, and where available the manifest and the journal.
public struct ReportInput: Sendable {
    public var results: ResultsDocument
    /// The run's manifest; nil when only results.json is at hand.
    public var manifest: Manifest?
    /// The contents of samples.jsonl; nil when it is not at hand. Needed by CSV; HTML plots its points.
    public var journal: JournalContents?

    public init(results: ResultsDocument, manifest: Manifest? = nil, journal: JournalContents? = nil) {
        self.results = results; self.manifest = manifest; self.journal = journal
    }

    /// Reads what a results directory holds: results.json is required; manifest.json and
    /// samples.jsonl are read when present.
    public static func load(from directory: ResultsDirectory) throws -> ReportInput {
        let results = try directory.readResults()
        let manifest = FileManager.default.fileExists(atPath: directory.manifestURL.path)
            ? try directory.readManifest() : nil
        let journal = FileManager.default.fileExists(atPath: directory.samplesURL.path)
            ? try directory.readSamples() : nil
        return ReportInput(results: results, manifest: manifest, journal: journal)
    }
}

/// Renders reports. Every renderer is a pure function of its input: no clock, no environment,
/// no file system, so the same results always give the same bytes.
public enum Report {
    /// The report in `format`, as bytes ready to write.
    public static func render(_ format: ReportFormat, _ input: ReportInput) throws -> Data {
        switch format {
        case .md: Data(MarkdownReport.render(input).utf8)
        case .html: Data(HTMLReport.render(input).utf8)
        case .json: try JSONReport.render(input)
        case .csv: Data(CSVReport.render(input).utf8)
        case .junit: Data(JUnitReport.render(input).utf8)
        }
    }

    /// Writes each format to its `defaultFileName` inside `directory`, atomically, and returns the
    /// files written. JSON is left out by default: it is `results.json` itself.
    @discardableResult
    public static func writeAll(_ input: ReportInput, to directory: ResultsDirectory,
                                formats: [ReportFormat] = [.md, .html, .csv, .junit]) throws -> [URL] {
        try formats.map { format in
            let url = directory.url.appendingPathComponent(format.defaultFileName)
            try ResultsDirectory.writeAtomically(try render(format, input), to: url)
            return url
        }
    }
}
