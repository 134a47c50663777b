// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

@Suite struct JournalTests {
    static let sample = Sample(experiment: "e", variant: "virtio", workload: "w", boot: 1, iteration: 2,
                               metric: "wall_ns", value: 1.5e9, unit: "ns", timestamp: 1_795_532_400.5)

    @Test func sampleLineIsABareSample() throws {
        let line = String(decoding: try JournalRecord.sample(Self.sample).line(), as: UTF8.self)
        #expect(line == #"{"boot":1,"experiment":"e","iteration":2,"metric":"wall_ns","timestamp":1795532400.5,"unit":"ns","value":1500000000,"variant":"virtio","workload":"w"}"# + "\n")
        // Plain Sample decoding reads it too.
        let plain = try ResultsJSON.decoder().decode(Sample.self, from: Data(line.utf8))
        #expect(plain == Self.sample)
    }

    @Test func otherRecordsCarryTheirKind() throws {
        let failure = FailureRecord(experiment: "e", variant: "virtio", workload: "w", boot: 0, reason: "timeout after 120 s",
                                    timestamp: 10)
        let notRun = NotRunRecord(experiment: "e", variant: "passthrough", reason: "no iommu", timestamp: 11)
        let failureLine = String(decoding: try JournalRecord.failure(failure).line(), as: UTF8.self)
        let notRunLine = String(decoding: try JournalRecord.notRun(notRun).line(), as: UTF8.self)
        #expect(failureLine.contains(#""record":"failure""#))
        #expect(notRunLine.contains(#""record":"not-run""#))
        let parsed = JournalContents.parse(Data((failureLine + notRunLine).utf8))
        #expect(parsed.failures == [failure])
        #expect(parsed.notRun == [notRun])
        #expect(parsed.problems.isEmpty)
    }

    @Test func tolerantReaderReportsLineNumbers() throws {
        let good = String(decoding: try JournalRecord.sample(Self.sample).line(), as: UTF8.self)
        let text = good                                    // 1
            + "\n"                                         // 2 blank: skipped silently
            + "not json\n"                                 // 3
            + #"{"record":"sample","experiment":"e"}"# + "\n" // 4 missing keys
            + #"{"record":"checkpoint","at":3}"# + "\n"    // 5 unknown kind
            + good                                         // 6
            + #"{"experiment":"e","variant":"v""#          // 7 truncated, no newline
        let parsed = JournalContents.parse(Data(text.utf8))
        #expect(parsed.samples.count == 2)
        #expect(parsed.problems.map(\.line) == [3, 4, 5, 7])
        #expect(parsed.problems[1].message.contains("missing key"))
        #expect(parsed.problems[2].message.contains("unknown record kind \"checkpoint\""))
        #expect(parsed.problems[3].message.hasPrefix("truncated last line"))
        #expect(parsed.problems[0].description.hasPrefix("samples.jsonl:3: "))
    }

    @Test func invalidUTF8IsAProblemNotACrash() {
        var data = Data(#"{"experiment":""#.utf8)
        data.append(contentsOf: [0xff, 0xfe])
        data.append(contentsOf: Data(#"","variant":"v","workload":"w","boot":0,"iteration":0,"metric":"m","value":1,"unit":"s","timestamp":0}"#.utf8))
        data.append(0x0a)
        let parsed = JournalContents.parse(data)
        #expect(parsed.samples.isEmpty)
        #expect(parsed.problems.map(\.line) == [1])
    }
}

@Suite struct ResultsDirectoryTests {
    @Test func writesAndReadsBack() throws {
        let url = try CoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = ResultsDirectory(url: url)
        try directory.writeManifest(CoreFixtures.manifest)
        try directory.writeResults(CoreFixtures.results)
        try Data(try JournalRecord.sample(JournalTests.sample).line()).write(to: directory.samplesURL)
        #expect(try directory.readManifest() == CoreFixtures.manifest)
        #expect(try directory.readResults() == CoreFixtures.results)
        #expect(try directory.readSamples().samples == [JournalTests.sample])
        // No temporary files are left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
        #expect(names == ["manifest.json", "results.json", "samples.jsonl"])
    }

    @Test func rewriteReplacesTheFile() throws {
        let url = try CoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = ResultsDirectory(url: url)
        try directory.writeResults(CoreFixtures.results)
        var changed = CoreFixtures.results
        changed.experiment = "second"
        try directory.writeResults(changed)
        #expect(try directory.readResults().experiment == "second")
    }

    @Test func unknownMajorVersionIsRejected() throws {
        let url = try CoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        // A version-2 file whose shape this rvbench does not know.
        try Data(#"{"schema_version": "2.0", "comparisons": {"new": "shape"}}"#.utf8)
            .write(to: url.appendingPathComponent("results.json"))
        try Data(#"{"schema_version": "3.1"}"#.utf8).write(to: url.appendingPathComponent("manifest.json"))
        let directory = ResultsDirectory(url: url)
        #expect { try directory.readResults() } throws: { error in
            let error = error as? RVBenchError
            return error?.code == .format
                && error?.message == "results.json has schema version 2.0; this rvbench reads 1.x; upgrade rvbench"
        }
        #expect { try directory.readManifest() } throws: { error in
            (error as? RVBenchError)?.message == "manifest.json has schema version 3.1; this rvbench reads 1.x; upgrade rvbench"
        }
    }

    @Test func missingDirectoryAndFiles() throws {
        let missing = ResultsDirectory(url: URL(fileURLWithPath: "/nonexistent/rvbench-results"))
        #expect { try missing.readResults() } throws: { error in
            let error = error as? RVBenchError
            return error?.code == .notFound && error?.message.hasPrefix("no results directory at /nonexistent/rvbench-results") == true
        }
        let url = try CoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        let empty = ResultsDirectory(url: url)
        #expect { try empty.readResults() } throws: { error in
            let error = error as? RVBenchError
            return error?.code == .notFound && error?.message.contains("has no results.json; run `rvbench resume") == true
        }
        #expect { try empty.readSamples() } throws: { error in (error as? RVBenchError)?.code == .notFound }
    }

    @Test func damagedFilesAreFormatErrors() throws {
        let url = try CoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = ResultsDirectory(url: url)
        try Data("{not json".utf8).write(to: directory.resultsURL)
        #expect { try directory.readResults() } throws: { error in
            (error as? RVBenchError)?.code == .format
                && (error as? RVBenchError)?.message.contains("is not an rvbench results.json") == true
        }
        try Data(#"{"schema_version": "1.0", "experiment": 3}"#.utf8).write(to: directory.resultsURL)
        #expect { try directory.readResults() } throws: { error in
            let message = (error as? RVBenchError)?.message ?? ""
            return (error as? RVBenchError)?.code == .format && message.contains("damaged") && message.contains("experiment")
        }
    }
}
