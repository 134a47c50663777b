// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import KubeVirt
import RVBenchCore

/// `rvbench kubevirt collect BUNDLE LOGS... -o RESULTS`: a results directory from a cluster's logs.
public struct KubeVirtCollect: AsyncParsableCommand, RunOutputCommand {
    public static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Read a bundle's console and Job logs into a results directory.",
        discussion: """
        Each log is named after its object (NAME.log, as run-in-order.sh saves them; a directory stands \
        for the .log and .txt files in it). The boots are replayed in schedule order through the same \
        strict line parser and journal rules as `rvbench run`: a missing, truncated or malformed log \
        fails its boot with the reason. RESULTS gets manifest.json (host: a KubeVirt cluster), \
        samples.jsonl, journal.jsonl, results.json and every report, which `report`, `compare` and \
        `reproduce` read.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "The bundle directory `rvbench kubevirt export` wrote.")
    public var bundle: String

    @Argument(help: "Log files (or directories of them), one per VMI or Job.")
    public var logs: [String]

    @Option(name: .shortAndLong, help: "The results directory to write (new or empty).")
    public var output: String

    @Flag(name: .long, help: "The cluster's nodes are emulated (e.g. the lab): reports then say timings are not silicon speed.")
    public var emulatedNodes = false

    @OptionGroup public var options: RunOutputOptions

    public init() {}

    public func run() async throws {
        let options = self.options
        let outcome: RunOutcome
        do {
            let request = CollectRequest(bundle: URL(fileURLWithPath: bundle, isDirectory: true),
                                         logs: logs.map { URL(fileURLWithPath: $0) },
                                         output: URL(fileURLWithPath: output, isDirectory: true),
                                         emulatedNodes: emulatedNodes, catalogue: try RunSession.catalogue(),
                                         commandLine: CommandLine.arguments)
            outcome = try await Collector.collect(request, progress: options.progressSink(), logger: options.logger())
        } catch {
            throw error
        }
        printOutcome(outcome, options: options)
        if outcome.exitStatus != .success { throw ExitCode(outcome.exitStatus.rawValue) }
    }
}
