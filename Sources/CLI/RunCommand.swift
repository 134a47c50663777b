// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Logging
import Host
import RVBenchCore

/// `rvbench run SPEC`: the whole experiment, from spec to report.
public struct RunCommand: AsyncParsableCommand, RunOutputCommand {
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
        let catalogue = try RunSession.catalogue()
        let loaded = try ExperimentSpec.load(from: URL(fileURLWithPath: self.spec), displayPath: self.spec, catalogue: catalogue)
        let spec = deterministic ? try loaded.withDeterministicMode(catalogue: catalogue) : loaded
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
        let outcome = try await withSignalCancellation(resuming: directory) {
            try await RunSession.run(spec: spec, directory: directory, progress: options.progressSink(),
                                     logger: options.logger(), commandLine: CommandLine.arguments,
                                     labProgress: options.labProgress())
        }
        printOutcome(outcome, options: options)
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}
