// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
@testable import CLI
import Foundation
import Logging
import RVBenchCore
import Testing

/// The conventions every command follows: help text, exit codes, logging, one command per file.
@Suite struct ConventionsTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Every command of the tree, as `--experimental-dump-help` describes it.
    static func commands() throws -> [[String: Any]] {
        let dump = try #require(try JSONSerialization.jsonObject(with: Data(RVBenchCommand._dumpHelp().utf8)) as? [String: Any])
        var out: [[String: Any]] = []
        func walk(_ command: [String: Any]) {
            // The argument parser's own `help` subcommand is not rvbench's to document.
            if command["commandName"] as? String == "help" { return }
            out.append(command)
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub) }
        }
        walk(try #require(dump["command"] as? [String: Any]))
        return out
    }

    /// One sentence: ends with a period and has no sentence break inside.
    static func isOneSentence(_ text: String) -> Bool {
        guard text.hasSuffix("."), !text.contains("\n") else { return false }
        return text.range(of: #"[.!?] [A-Z]"#, options: .regularExpression) == nil
    }

    @Test func helpStringsAreOneSentenceEndingWithAPeriod() throws {
        let commands = try Self.commands()
        #expect(commands.count >= 19)
        var bad: [String] = []
        for command in commands {
            let name = command["commandName"] as? String ?? "?"
            if !Self.isOneSentence(command["abstract"] as? String ?? "") { bad.append("\(name): \(command["abstract"] ?? "no abstract")") }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let help = argument["abstract"] as? String ?? ""
                if !Self.isOneSentence(help) { bad.append("\(name) \(argument["valueName"] ?? "?"): \(help)") }
            }
        }
        #expect(bad.isEmpty, "\(bad.joined(separator: "\n"))")
    }

    @Test func everyCommandDocumentsTheExitCodes() throws {
        let leaves = try Self.commands().filter { ($0["subcommands"] as? [Any] ?? []).isEmpty }
        #expect(leaves.count >= 15)
        for leaf in leaves {
            let discussion = leaf["discussion"] as? String ?? ""
            #expect(discussion.contains(RVBenchCore.ExitStatus.helpText), "\(leaf["commandName"] ?? "?") --help lists no exit codes")
        }
        for status in RVBenchCore.ExitStatus.allCases {
            #expect(RVBenchCore.ExitStatus.helpText.contains("\n  \(status.rawValue)"), "\(status) is not in the help text")
        }
    }

    @Test("each error code has one exit status", arguments: [
        (RVBenchError.Code.badInput, RVBenchCore.ExitStatus.usage), (.notFound, .usage), (.format, .usage),
        (.baselineMissing, .baselineMissing), (.unsupported, .runFailed), (.library, .runFailed),
        (.process, .runFailed), (.guest, .runFailed), (.interrupted, .interrupted), (.internal, .failure),
    ])
    func exitStatusOfEachCode(code: RVBenchError.Code, status: RVBenchCore.ExitStatus) {
        #expect(RVBenchCore.ExitStatus(for: RVBenchError(code, "x")) == status)
        #expect(code.exitStatus == status)
    }

    @Test func errorsThatAreNotRVBenchErrors() {
        #expect(RVBenchCore.ExitStatus(for: CancellationError()) == .interrupted)
        #expect(RVBenchCore.ExitStatus(for: CocoaError(.fileNoSuchFile)) == .failure)
        #expect(RVBenchCore.ExitStatus.usage.rawValue == 64 && RVBenchCore.ExitStatus.baselineMissing.rawValue == 5 && RVBenchCore.ExitStatus.interrupted.rawValue == 130)
    }

    @Test func aFailedCommandPrintsOneLineAndTheMappedCode() throws {
        let error = RVBenchError(.baselineMissing, "the baseline run /b cannot be read",
                                 cause: RVBenchError(.notFound, "no samples.jsonl at /b/samples.jsonl"))
        #expect(CommandFailure.message(for: error) == "rvbench: the baseline run /b cannot be read (no samples.jsonl at /b/samples.jsonl)")
        let exit = try #require(CommandFailure.exitError(for: error) as? ExitCode)
        #expect(exit.rawValue == 5)
        // The argument parser's own errors go back to it unchanged.
        #expect(CommandFailure.exitError(for: ValidationError("v")) is ValidationError)
    }

    @Test func aMissingBaselineExitsWithFive() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        for baseline in ["/nonexistent/rvbench-baseline", empty.path] {
            let command = try #require(try RVBenchCommand.parseAsRoot(["compare", baseline, "/nonexistent/candidate"]) as? CompareCommand)
            var message = ""
            let status = try command.execute(output: { _ in }, errors: { message += $0 })
            #expect(status == .baselineMissing, "\(message)")
            #expect(message.contains(baseline))
            #expect(message.hasPrefix("rvbench: "))
        }
    }

    /// A spec with 5,000 nested flow mappings: it once overflowed the YAML parser's stack.
    static func deepSpec() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-deep-\(UUID().uuidString).yaml")
        let yaml = "name: deep\nseed: 1\nhost: lab\nvariants: " + String(repeating: "{a: ", count: 5000) + "1"
            + String(repeating: "}", count: 5000) + "\nworkloads: [x264-320]\n"
        try Data(yaml.utf8).write(to: url)
        return url
    }

    @Test func deeplyNestedSpecIsBadInputThroughRunDryRun() async throws {
        let spec = try Self.deepSpec()
        defer { try? FileManager.default.removeItem(at: spec) }
        let command = try #require(try RVBenchCommand.parseAsRoot(["run", "--dry-run", spec.path]) as? RunCommand)
        let error = try await #require(throws: RVBenchError.self) { try await command.run() }
        #expect(RVBenchCore.ExitStatus(for: error) == .usage)
        #expect(CommandFailure.message(for: error).hasPrefix("rvbench: \(spec.path):4:263: the spec nests collections more than 64 levels deep"))
    }

    static let binary = packageRoot.appendingPathComponent(".build/debug/rvbench")

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary.path), "needs `swift build`"))
    func deeplyNestedSpecExitsWith64FromTheProcess() async throws {
        let spec = try Self.deepSpec()
        defer { try? FileManager.default.removeItem(at: spec) }
        let r = try await Subprocess.run([Self.binary.path, "run", "--dry-run", spec.path], directory: Self.packageRoot.path, timeout: 120)
        #expect(r.status == 64, "\(r.stderrString)")
        #expect(r.stderrString == "rvbench: \(spec.path):4:263: the spec nests collections more than 64 levels deep; "
            + "flatten it (a spec needs fewer than ten levels)\n")
    }

    @Test("--verbose and --quiet choose the log level", arguments: [
        (["run", "s.yaml"], Logger.Level.warning), (["run", "s.yaml", "-v"], .debug), (["run", "s.yaml", "--quiet"], .error),
        (["run", "s.yaml", "--json"], .error), (["run", "s.yaml", "--json", "--verbose"], .debug),
        (["resume", "d", "-q"], .error), (["reproduce", "d", "-v"], .debug),
        (["lab", "up", "-v"], .debug), (["lab", "down"], .warning), (["lab", "build", "-q"], .error),
        (["lab", "status", "--verbose"], .debug), (["lab", "ssh", "-v"], .debug),
        (["bench", "lab", "-q"], .error), (["bench", "overhead", "-v"], .debug),
    ])
    func logLevels(arguments: [String], level: Logger.Level) throws {
        let command = try #require(try RVBenchCommand.parseAsRoot(arguments) as? any LoggingCommand)
        #expect(command.logLevel == level)
    }

    @Test func badOptionsAreRefusedWhileParsing() {
        for arguments in [["lab", "status", "-v", "-q"], ["run", "s.yaml", "--verbose", "--quiet"],
                          ["bench", "overhead", "--pairs", "0"], ["compare", "a", "b", "--threshold", "1.5"]] {
            do {
                _ = try RVBenchCommand.parseAsRoot(arguments)
                Issue.record("expected a usage error for \(arguments)")
            } catch {
                #expect(RVBenchCommand.exitCode(for: error).rawValue == 64)
            }
        }
    }

    static func cliSources() throws -> [(name: String, text: String)] {
        let dir = packageRoot.appendingPathComponent("Sources/CLI")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }.sorted()
            .map { ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test func oneSubcommandPerFile() throws {
        let sources = try Self.cliSources()
        var commands = 0
        for (name, text) in sources {
            let count = text.matches(of: /struct \w+: (Async)?ParsableCommand\b/).count
            #expect(count <= 1, "\(name) declares \(count) commands")
            commands += count
        }
        #expect(commands == (try Self.commands().count))
    }

    @Test func loggingIsBootstrappedOnceInTheRootCommand() throws {
        let sources = try Self.cliSources()
        let bootstraps = sources.filter { $0.text.contains("LoggingSystem.bootstrap") }.map(\.name)
        #expect(bootstraps == ["RVBenchCommand.swift"])
        #expect(sources.first { $0.name == "RVBenchCommand.swift" }?.text.components(separatedBy: "LoggingSystem.bootstrap").count == 2)
        // No command builds a log handler of its own.
        #expect(sources.allSatisfy { !$0.text.contains("StreamLogHandler") || $0.name == "RVBenchCommand.swift" })
    }
}
