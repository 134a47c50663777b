// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Logging
import Report
import RVBenchCore

/// A command that runs an experiment (`run`, `resume`, `reproduce`): it logs at the level its
/// `RunOutputOptions` choose.
protocol RunOutputCommand: LoggingCommand {
    var options: RunOutputOptions { get }
}

extension RunOutputCommand {
    var logLevel: Logger.Level { options.logLevel }
}

/// Options shared by `run`, `resume` and `reproduce`.
public struct RunOutputOptions: ParsableArguments, Sendable {
    @Flag(name: .long, help: "Print progress as JSON lines on standard output.")
    public var json = false

    @OptionGroup public var verbosity: VerbosityOptions

    public init() {}

    /// --json keeps standard error to errors unless --verbose asks for more.
    var logLevel: Logger.Level { json && !verbosity.verbose ? .error : verbosity.logLevel }

    var silent: Bool { verbosity.quiet || json }

    func logger() -> Logger {
        var logger = Logger(label: "rvbench.run")
        logger.logLevel = logLevel
        return logger
    }

    func progressSink() -> any ProgressSink {
        ProgressMode.from(json: json, quiet: verbosity.quiet).makeSink()
    }

    func labProgress() -> @Sendable (String) -> Void {
        let silent = self.silent
        return { line in
            if !silent { FileHandle.standardError.write(Data("lab: \(line)\n".utf8)) }
        }
    }

    func say(_ text: String) {
        if !json { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }
}

/// Runs `body` as a task that SIGINT and SIGTERM cancel; the run loop then tears down its domains.
/// A cancelled run of `directory` ends with an `.interrupted` error that says how to resume it.
func withSignalCancellation<T: Sendable>(resuming directory: URL?,
                                         _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let task = Task { try await body() }
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    let sources = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data("rvbench: signal \(sig): stopping and cleaning up\n".utf8))
            task.cancel()
        }
        source.resume()
        return source
    }
    defer { sources.forEach { $0.cancel() } }
    do {
        return try await task.value
    } catch is CancellationError {
        let hint = directory.map { "; continue with `rvbench resume \($0.path)`" } ?? ""
        throw RVBenchError(.interrupted, "interrupted\(hint)")
    }
}

/// The summary of a finished run, as text or one JSON object.
func printOutcome(_ outcome: RunOutcome, options: RunOutputOptions) {
    if options.json {
        let obj: [String: Any] = [
            "event": "finished", "directory": outcome.directory.path,
            "status": outcome.summary.status.rawValue, "boots_ok": outcome.summary.bootsOK,
            "boots_failed": outcome.summary.bootsFailed, "samples": outcome.summary.samples.count,
            "report_html": outcome.reports[.html]?.path ?? "",
        ]
        if let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]) {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
        return
    }
    if options.verbosity.quiet {
        options.say(outcome.directory.path)
        return
    }
    let s = outcome.summary
    options.say("run \(s.status.rawValue): \(s.bootsOK) boots ok, \(s.bootsFailed) failed, \(s.samples.count) samples, "
        + "\(s.notRun.count) variant(s) not run")
    for n in s.notRun { options.say("  not run: \(n.variant): \(n.reason)") }
    for w in outcome.results.workloads where w.kind == .primary {
        for c in w.comparisons {
            let boots = c.bootLevel.map { " (\($0.bootsBaseline)/\($0.bootsCandidate) boots\($0.underpowered ? ", underpowered" : ""))" } ?? ""
            options.say(String(format: "  %@ %@: %@/%@ = %.3f [%.3f, %.3f] %.0f%%%@ %@", w.workload, w.metric, c.candidate,
                               c.baseline, c.headlineRatio, c.headlineCI.low, c.headlineCI.high, c.headlineCI.level * 100,
                               boots, c.verdict.rawValue))
        }
    }
    options.say("results: \(outcome.directory.path)")
    if let html = outcome.reports[.html] { options.say("report:  \(html.path)") }
}
