// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Logging
import Report
import RVBenchCore

/// Options shared by `run`, `resume` and `reproduce`.
public struct RunOutputOptions: ParsableArguments, Sendable {
    @Flag(name: .long, help: "Print progress as JSON lines on standard output.")
    public var json = false

    @Flag(name: .shortAndLong, help: "Print only the results directory and errors.")
    public var quiet = false

    @Flag(name: .shortAndLong, help: "Log libvirt, console and SSH details.")
    public var verbose = false

    public init() {}

    func logger() -> Logger {
        var logger = Logger(label: "rvbench.run") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : (quiet || json ? .error : .warning)
        return logger
    }

    func progressSink() -> any ProgressSink {
        ProgressMode.from(json: json, quiet: quiet).makeSink()
    }

    func labProgress() -> @Sendable (String) -> Void {
        let silent = quiet || json
        return { line in
            if !silent { FileHandle.standardError.write(Data("lab: \(line)\n".utf8)) }
        }
    }

    func say(_ text: String) {
        if !json { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }
}

/// Runs `body` as a task that SIGINT and SIGTERM cancel; the run loop then tears down its domains.
func withSignalCancellation<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
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
    return try await task.value
}

/// Maps errors of a run onto messages and exit codes.
func exitForRunError(_ error: any Error, directory: URL?) -> ExitCode {
    if error is CancellationError {
        let hint = directory.map { "; continue with `rvbench resume \($0.path)`" } ?? ""
        FileHandle.standardError.write(Data("rvbench: interrupted\(hint)\n".utf8))
        return ExitCode(130)
    }
    if let e = error as? RVBenchError {
        FileHandle.standardError.write(Data("rvbench: \(e.message)\n".utf8))
        switch e.code {
        case .badInput: return ExitCode(ExitStatus.usage.rawValue)
        case .notFound, .unsupported: return ExitCode(ExitStatus.runFailed.rawValue)
        default: return ExitCode(ExitStatus.runFailed.rawValue)
        }
    }
    FileHandle.standardError.write(Data("rvbench: \(error)\n".utf8))
    return ExitCode(ExitStatus.failure.rawValue)
}

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
    if options.quiet {
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

/// `rvbench run SPEC`: the whole experiment, from spec to report.
public struct RunCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment spec end to end and write its results and reports.",
        discussion: """
        Validates SPEC (file:line:column errors, exit 64), brings up the lab when the spec says `host: lab` \
        (and brings it down again if this command started it), runs the variants' boots in a seeded \
        interleaved order, journals every sample (fsync'd), then writes results.json, every report format \
        and manifest.json into results/<UTC time>-<name>/. SIGINT or SIGTERM stops the run and destroys its \
        domains; `rvbench resume DIR` continues it.

        \(ExitStatus.helpText)
          130 interrupted (resume with `rvbench resume DIR`)
        """
    )

    @Argument(help: "The experiment spec (YAML), e.g. analysis/quickstart.yaml.")
    public var spec: String

    @Option(name: .shortAndLong, help: "Results directory (default: results/<UTC time>-<name>).")
    public var output: String?

    @Flag(name: .long, help: "Validate the spec and print the schedule, then stop.")
    public var dryRun = false

    @Flag(name: .long, help: ArgumentHelp(
        "Lab only: run L0 (QEMU 10) with -icount shift=0,sleep=off and one hart, as `deterministic: true, qemu: trixie`.",
        discussion: "Guest time then counts instructions: repeats agree closely, but memory-system costs vanish."))
    public var deterministic = false

    @OptionGroup public var options: RunOutputOptions

    public init() {}

    public func run() async throws {
        let spec: ExperimentSpec
        do {
            let catalogue = try RunSession.catalogue()
            let loaded = try ExperimentSpec.load(from: URL(fileURLWithPath: self.spec), displayPath: self.spec, catalogue: catalogue)
            spec = deterministic ? try loaded.withDeterministicMode(catalogue: catalogue) : loaded
        } catch {
            throw exitForRunError(error, directory: nil)
        }
        if dryRun {
            options.say("spec ok: \(spec.name), seed \(spec.seed), \(spec.variants.count) variants, \(spec.workloads.count) workloads")
            for boot in Schedule(spec: spec).round(0) + Schedule(spec: spec).round(1) {
                options.say("  round \(boot.round): \(boot.variant.name) boot \(boot.boot): "
                    + boot.workloads.map(\.label).joined(separator: ", "))
            }
            return
        }
        let directory = output.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? RunSession.newDirectory(base: URL(fileURLWithPath: "results", isDirectory: true), name: spec.name)
        let options = self.options
        options.say("results directory: \(directory.path)")
        let outcome: RunOutcome
        do {
            outcome = try await withSignalCancellation {
                try await RunSession.run(spec: spec, directory: directory, progress: options.progressSink(),
                                         logger: options.logger(), commandLine: CommandLine.arguments,
                                         labProgress: options.labProgress())
            }
        } catch {
            throw exitForRunError(error, directory: directory)
        }
        printOutcome(outcome, options: options)
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}

/// `rvbench resume DIR`: finish an interrupted experiment.
public struct ResumeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue an interrupted experiment from its journal.",
        discussion: """
        Replays DIR/journal.jsonl: committed samples are kept, a boot that never ended is re-run from \
        scratch (its partial samples are dropped, so nothing is duplicated), stale domains of the run are \
        destroyed, and the schedule continues. The spec is the one stored in DIR/manifest.json.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "A results directory written by `rvbench run`.")
    public var directory: String

    @OptionGroup public var options: RunOutputOptions

    public init() {}

    public func run() async throws {
        let dir = URL(fileURLWithPath: directory, isDirectory: true)
        let options = self.options
        let outcome: RunOutcome
        do {
            outcome = try await withSignalCancellation {
                try await RunSession.resume(directory: dir, progress: options.progressSink(), logger: options.logger(),
                                            commandLine: CommandLine.arguments, labProgress: options.labProgress())
            }
        } catch {
            throw exitForRunError(error, directory: dir)
        }
        printOutcome(outcome, options: options)
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}
