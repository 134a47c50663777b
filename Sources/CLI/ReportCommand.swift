// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Report
import RVBenchCore

extension ReportFormat: ExpressibleByArgument {}

/// `rvbench report DIR`: render a results directory as Markdown, HTML, JSON, CSV or JUnit XML.
public struct ReportCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a results directory as Markdown, HTML, JSON, CSV or JUnit XML.",
        discussion: """
        Reads DIR/results.json, and DIR/manifest.json and DIR/samples.jsonl when present.
        Formats: md (CI job summaries), html (browsers; self-contained, no network), json (results.json \
        as written, for scripts and jq), csv (one row per sample, for spreadsheets and pandas), junit \
        (CI test reporters). The format is described in docs/results-format.md.

        This command exits with 0 when the report was written, or 64 when DIR is missing, lacks \
        results.json, holds a damaged file or one with an unknown schema major version, or when -o \
        cannot be written. Unreadable lines in samples.jsonl are skipped with a warning.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "Results directory, as written by `rvbench run`.")
    public var directory: String

    @Option(name: .shortAndLong, help: "Output format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    public var format: ReportFormat = .md

    @Option(name: .shortAndLong, help: "Write the report to this file instead of standard output.")
    public var output: String?

    public init() {}

    public func run() throws {
        try execute().deliver()
    }

    /// Renders the report without touching the process's streams (standard output, which holds the report
    /// unless it goes to a file, and standard error are returned).
    public func execute() -> PrintedOutcome<Data> {
        do {
            let input = try ReportInput.load(from: ResultsDirectory(url: URL(fileURLWithPath: directory)))
            let warnings = (input.journal?.problems ?? []).prefix(5).map { "warning: skipped \($0)" }
                + ((input.journal?.problems.count ?? 0) > 5
                    ? ["warning: \(input.journal!.problems.count - 5) more unreadable lines in samples.jsonl"] : [])
            let bytes = try Report.render(format, input)
            if let output {
                try ResultsDirectory.writeAtomically(bytes, to: URL(fileURLWithPath: output))
                return PrintedOutcome(standardOutput: Data(), standardError: warnings.joined(separator: "\n"), status: .success)
            }
            return PrintedOutcome(standardOutput: bytes, standardError: warnings.joined(separator: "\n"), status: .success)
        } catch {
            return PrintedOutcome(standardOutput: Data(), standardError: CommandFailure.message(for: error), status: ExitStatus(for: error))
        }
    }
}
