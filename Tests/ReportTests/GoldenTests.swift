// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Testing
@testable import Report

/// Every format against its expected file. Regenerate with RVBENCH_UPDATE_GOLDEN=1.
@Suite(.tags(.golden)) struct GoldenTests {
    @Test(arguments: ReportFormat.allCases)
    func hostileDocument(format: ReportFormat) throws {
        let data = try Report.render(format, ReportFixtures.hostileInput)
        try Golden.check(data, against: Golden.fixtures.appendingPathComponent("hostile/\(format.defaultFileName)"))
    }

    /// With only results.json at hand (no manifest, no journal) the reports still render.
    @Test(arguments: [ReportFormat.md, .csv, .junit])
    func resultsOnly(format: ReportFormat) throws {
        let data = try Report.render(format, ReportFixtures.bareInput)
        try Golden.check(data, against: Golden.fixtures.appendingPathComponent("results-only/\(format.defaultFileName)"))
    }

    @Test func renderingIsDeterministic() throws {
        for format in ReportFormat.allCases {
            #expect(try Report.render(format, ReportFixtures.hostileInput) == Report.render(format, ReportFixtures.hostileInput))
        }
    }
}

/// The committed example directory: fixture samples → Statistics.analyze → results.json → reports.
@Suite(.tags(.golden)) struct ExampleTests {
    static let files = ["manifest.json", "samples.jsonl", "results.json"] + ReportFormat.allCases.map(\.defaultFileName)

    /// Generates everything in memory and compares it with the expected files and the committed example.
    @Test func exampleIsUpToDate() throws {
        let samples = ExampleFixture.samples()
        let results = try ExampleFixture.results(from: samples)
        let journal = JournalContents(samples: samples)
        let input = ReportInput(results: results, manifest: ExampleFixture.manifest, journal: journal)
        var outputs: [String: Data] = [
            "manifest.json": try ResultsJSON.prettyData(ExampleFixture.manifest),
            "samples.jsonl": try ExampleFixture.journalData(samples),
        ]
        for format in ReportFormat.allCases {
            outputs[format.defaultFileName] = try Report.render(format, input)
        }
        for name in Self.files {
            let data = try #require(outputs[name])
            try Golden.check(data, against: ExampleFixture.fixtureDirectory.appendingPathComponent(name))
            try Golden.check(data, against: ExampleFixture.exampleDirectory.appendingPathComponent(name))
        }
    }

    /// Reading the committed example back the way `rvbench report` does gives the committed reports.
    @Test func exampleReadsBack() throws {
        let directory = ResultsDirectory(url: ExampleFixture.exampleDirectory)
        let input = try ReportInput.load(from: directory)
        #expect(input.journal?.problems == [])
        #expect(input.journal?.samples == ExampleFixture.samples())
        #expect(input.manifest?.notes.contains(ExampleFixture.label) == true)
        #expect(input.results.notes.contains(ExampleFixture.label))
        for format in ReportFormat.allCases {
            let committed = try Data(contentsOf: directory.url.appendingPathComponent(format.defaultFileName))
            #expect(try Report.render(format, input) == committed, "\(format.defaultFileName) is stale")
        }
    }

    /// The example says what it is in every human-readable format.
    @Test(arguments: [ReportFormat.md, .html, .csv, .junit])
    func exampleIsLabelled(format: ReportFormat) throws {
        let text = String(decoding: try Data(contentsOf: ExampleFixture.exampleDirectory
            .appendingPathComponent(format.defaultFileName)), as: UTF8.self)
        #expect(text.contains(ExampleFixture.label))
        #expect(text.contains(ResultsDocument.emulatedHostWarning))
    }

    /// The statistics engine found what the fixture built in: virtio is slower than native.
    @Test func exampleHasTheBuiltInEffects() throws {
        let results = try ExampleFixture.results(from: ExampleFixture.samples())
        let x264 = try #require(results.workloads.first { $0.workload == "x264-320x240" && $0.metric == "wall_ns" })
        let virtio = try #require(x264.comparison(for: "virtio"))
        #expect(virtio.verdict == .regression)
        #expect(virtio.headlineCI.contains(1.118))
        #expect(virtio.bootLevel?.family == .primary && virtio.bootLevel?.underpowered == false)
        let passthrough = try #require(x264.variants.first { $0.variant == "passthrough" })
        #expect(passthrough.status == .notRun(reason: ExampleFixture.notRun["passthrough"]!))
    }
}

@Suite struct WriteAllTests {
    @Test func writesEveryReportNextToTheResults() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = ResultsDirectory(url: url)
        try directory.create()
        try directory.writeResults(ReportFixtures.hostileResults)
        let written = try Report.writeAll(ReportInput.load(from: directory), to: directory)
        #expect(written.map(\.lastPathComponent) == ["report.md", "report.html", "samples.csv", "junit.xml"])
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
        #expect(names == ["junit.xml", "report.html", "report.md", "results.json", "samples.csv"])
        #expect(try Data(contentsOf: url.appendingPathComponent("report.md"))
            == Report.render(.md, ReportInput(results: ReportFixtures.hostileResults)))
    }
}
