// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
@testable import CLI
import Foundation
import RVBenchCore
import Testing

@Suite struct StatsCommandTests {
    static let base = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9, 10.3, 10.0, 10.4, 9.7]

    /// Writes `files` into a fresh temporary directory and returns their paths.
    func write(_ files: [String: String]) throws -> [String: String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-stats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var paths: [String: String] = [:]
        for (name, text) in files {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            paths[name] = url.path
        }
        return paths
    }

    func lines(_ xs: [Double]) -> String { "# samples\n" + xs.map { "\($0)" }.joined(separator: "\n") + "\n" }

    func run(_ arguments: [String]) throws -> PrintedOutcome<String> {
        let parsed = try RVBenchCommand.parseAsRoot(arguments)
        let command = try #require(parsed as? StatsCompare)
        return command.execute()
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let p = try write(["b.txt": lines(Self.base), "c.txt": lines(Self.base.map { $0 * 1.001 })])
        let out = try run(["stats", "compare", p["b.txt"]!, p["c.txt"]!, "--json", "--resamples", "500"])
        // Ten values with a 2.5% spread cannot show a 0.1% change is within ±1%: inconclusive, exit 6.
        #expect(out.status == .inconclusive)
        #expect(out.standardError.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(out.standardOutput.utf8)) as? [String: Any])
        let keys = ["n_baseline", "n_candidate", "mean_baseline", "mean_candidate", "median_baseline",
                    "median_candidate", "ratio_of_means", "ratio_ci_low", "ratio_ci_high", "welch_t", "welch_df",
                    "welch_p", "mann_whitney_u", "mann_whitney_p", "hodges_lehmann", "cliffs_delta", "verdict"]
        for key in keys { #expect(object[key] != nil, "missing \(key)") }
        #expect(object["verdict"] as? String == "inconclusive")
        #expect((object["n_baseline"] as? NSNumber)?.intValue == 10)
        #expect(!out.standardOutput.contains("\n"))
    }

    @Test func regressionExitsWithTwo() throws {
        let p = try write(["b.txt": lines(Self.base), "c.txt": lines(Self.base.map { $0 * 1.2 })])
        let out = try run(["stats", "compare", p["b.txt"]!, p["c.txt"]!, "--resamples", "500"])
        #expect(out.status == .regression)
        #expect(out.status.rawValue == 2)
        #expect(out.standardOutput.contains("verdict: regression"))
        #expect(out.standardOutput.contains("ratio of means"))
    }

    @Test func improvementExitsWithFour() throws {
        let p = try write(["b.txt": lines(Self.base), "c.txt": lines(Self.base.map { $0 * 0.8 })])
        let out = try run(["stats", "compare", p["b.txt"]!, p["c.txt"]!, "--json", "--resamples", "500"])
        #expect(out.status.rawValue == 4)
        let higher = try run(["stats", "compare", p["b.txt"]!, p["c.txt"]!, "--resamples", "500",
                              "--direction", "higher-is-better"])
        #expect(higher.status.rawValue == 2)
    }

    @Test func thresholdAbsorbsSmallChanges() throws {
        let p = try write(["b.txt": lines(Self.base), "c.txt": lines(Self.base.map { $0 * 1.2 })])
        let out = try run(["stats", "compare", p["b.txt"]!, p["c.txt"]!, "--resamples", "500", "--threshold", "0.5"])
        #expect(out.status == .success)
    }

    @Test func badInputExitsWith64AndNamesFileAndLine() throws {
        let p = try write(["b.txt": lines(Self.base), "bad.txt": "1.0\n2.0\nfast\n", "one.txt": "3.5\n",
                           "empty.txt": "", "nan.txt": "1\nNaN\n"])
        let cases: [(String, String)] = [
            (p["bad.txt"]!, "\(p["bad.txt"]!):3: expected a number, found \"fast\""),
            (p["one.txt"]!, "\(p["one.txt"]!): found 1 number; expected at least 2"),
            (p["empty.txt"]!, "\(p["empty.txt"]!): no numbers found"),
            (p["nan.txt"]!, "\(p["nan.txt"]!):2: expected a finite number, found \"NaN\""),
            ("/nonexistent/c.txt", "/nonexistent/c.txt: no such file"),
        ]
        for (candidate, message) in cases {
            let out = try run(["stats", "compare", p["b.txt"]!, candidate])
            #expect(out.status.rawValue == 64)
            #expect(out.standardError.contains(message), "\(out.standardError)")
            #expect(out.standardOutput.isEmpty)
        }
    }

    @Test func badOptionsAreUsageErrors() throws {
        for arguments in [["stats", "compare", "a"], ["stats", "compare", "a", "b", "--alpha", "2"],
                          ["stats", "compare", "a", "b", "--direction", "sideways"],
                          ["stats", "compare", "a", "b", "--resamples", "5"]] {
            do {
                _ = try RVBenchCommand.parseAsRoot(arguments)
                Issue.record("expected a parse error for \(arguments)")
            } catch {
                #expect(RVBenchCommand.exitCode(for: error).rawValue == 64)
            }
        }
    }

    @Test func helpDocumentsExitCodes() {
        let help = RVBenchCommand.helpMessage(for: StatsCompare.self)
        #expect(help.contains("2   regression"))
        #expect(help.contains("64  bad usage or bad input"))
        #expect(help.contains("--direction"))
    }

    @Test func benchStatsParses() throws {
        let parsed = try RVBenchCommand.parseAsRoot(["bench", "stats", "--n", "1000", "--resamples", "200"])
        let bench = try #require(parsed as? BenchStats)
        #expect(bench.n == 1000 && bench.resamples == 200 && bench.seed == 1)
    }
}
