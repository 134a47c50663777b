// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import RVBenchCore
import Testing
@testable import Report

/// What every format must show, and escaping of hostile strings.
@Suite struct ContentTests {
    static func text(_ format: ReportFormat, _ input: ReportInput = ReportFixtures.hostileInput) throws -> String {
        String(decoding: try Report.render(format, input), as: UTF8.self)
    }

    @Test(arguments: [ReportFormat.md, .html, .csv, .junit])
    func emulatedSentenceComesFirst(format: ReportFormat) throws {
        let text = try Self.text(format)
        let sentence = try #require(text.range(of: "emulated RISC-V host (QEMU TCG): timings show relative behaviour, not silicon speed"))
        // Within the first part of the output, before any per-workload detail.
        let firstWorkload = text.range(of: "wall") ?? text.range(of: "sample")
        #expect(sentence.lowerBound < (firstWorkload?.lowerBound ?? text.endIndex))
        let start = text.range(of: "<body>")?.upperBound ?? text.startIndex
        #expect(text.distance(from: start, to: sentence.lowerBound) < 400)
    }

    @Test(arguments: [ReportFormat.md, .html, .csv, .junit])
    func noEmulatedSentenceForARealBoard(format: ReportFormat) throws {
        var results = ReportFixtures.hostileResults
        results.emulated = false
        results.hostKind = "riscv64 board"
        let text = try Self.text(format, ReportInput(results: results))
        #expect(!text.contains("not silicon speed"))
        #expect(text.contains("riscv64 board"))
    }

    @Test(arguments: [ReportFormat.md, .html, .csv, .junit])
    func modelledAndNotRunAreListed(format: ReportFormat) throws {
        let text = try Self.text(format)
        #expect(text.contains("modelled"))
        #expect(text.contains("per inference (modelled from cycle counts)"))
        #expect(text.contains("not run") || text.contains("not-run"))
        #expect(text.contains("no VFIO type1 for riscv"))
    }

    @Test func junitSkipsNotRunAndFailsRegressions() throws {
        let text = try Self.text(.junit)
        #expect(text.contains("<skipped message=\"not run: no VFIO type1 for riscv; x&quot; onload=&quot;alert(2)\"/>"))
        #expect(text.contains("<failure type=\"regression\" message=\"regression: ratio on boot means 1.048 (90% CI 1.031–1.066"))
        // The counter's regression is reported, not failed: counters never decide.
        #expect(text.contains("tests=\"6\" failures=\"1\" errors=\"0\" skipped=\"2\""))
        #expect(text.contains("within-boot, descriptive"))
        #expect(text.contains("classname=\"&lt;script&gt;alert(1)&lt;/script&gt;\" name=\"x&quot; onload=&quot;alert(2) vs native: wall_ns\""))
    }

    @Test func junitIsWellFormedXML() throws {
        let data = try Report.render(.junit, ReportFixtures.hostileInput)
        let delegate = XMLCollector()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        #expect(parser.parse(), "junit.xml does not parse: \(String(describing: parser.parserError))")
        #expect(delegate.elements.filter { $0 == "testcase" }.count == 6)
        #expect(delegate.attributes.contains(ReportFixtures.attribute + " vs native: wall_ns"))
        #expect(delegate.attributes.contains(ReportFixtures.script))
    }

    @Test func htmlEscapesEverythingFromData() throws {
        let text = try Self.text(.html)
        #expect(!text.contains("<script"))
        #expect(!text.contains("alert(1)</script>"))
        #expect(!text.contains("\" onload=\""))
        #expect(!text.contains("\"onload="))
        #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(text.contains("x&quot; onload=&quot;alert(2)"))
        #expect(text.contains("&#39;") || !text.contains("'") == false)
    }

    @Test func htmlIsSelfContained() throws {
        let example = String(decoding: try Data(contentsOf: ExampleFixture.exampleDirectory
            .appendingPathComponent("report.html")), as: UTF8.self).lowercased()
        #expect(!example.contains("http:"))
        #expect(!example.contains("https:"))
        #expect(!example.contains("<script"))
        // The hostile document mentions a URL only as escaped text, never as a reference.
        let text = try Self.text(.html).lowercased()
        #expect(!text.contains("href="))
        #expect(!text.contains("src="))
        #expect(!text.contains("<link"))
        #expect(!text.contains("@import"))
        #expect(!text.contains("url("))
        #expect(text.contains("content-security-policy"))
        #expect(text.contains("<svg"))
    }

    @Test func htmlHasADistributionAndAForestPlotPerMetric() throws {
        let text = try Self.text(.html)
        let plots = text.components(separatedBy: "<svg ").count - 1
        // One forest plot of the primary answer, a distribution per primary or secondary metric (three),
        // and a forest plot for the secondary metric; counters are a table.
        #expect(plots == 5)
        #expect(text.contains("class=\"band\""))
        #expect(text.contains("class=\"one\""))
        #expect(text.contains("class=\"pt\""), "sample points from the journal")
    }

    @Test func markdownNeutralisesHTMLAndTablePipes() throws {
        let text = try Self.text(.md)
        #expect(!text.contains("<script"))
        #expect(text.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt;") || text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(text.contains("x264 \\| 320x240"))
        // Every table row has as many unescaped pipes as its header.
        for line in text.split(separator: "\n") where line.hasPrefix("| variant | n |") {
            #expect(line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count == 9)
        }
    }

    @Test func csvDefusesFormulasButNotNumbers() throws {
        let text = try Self.text(.csv)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines[0] == "experiment,variant,workload,boot,iteration,metric,value,unit,timestamp,status,detail")
        #expect(!text.contains(",=HYPERLINK"))
        #expect(!text.contains(",\"=HYPERLINK"))
        #expect(text.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\","))
        // A negative number stays a number.
        #expect(text.contains(",-43.9,frames/s,"))
        #expect(text.contains(",\"x264 | 320x240\",") == false)
        #expect(text.contains(",x264 | 320x240,"))
    }

    @Test func csvHasOneRowPerSample() throws {
        let text = try Self.text(.csv)
        let sampleRows = text.components(separatedBy: "\r\n").filter { $0.hasSuffix(",sample,") }
        #expect(sampleRows.count == ReportFixtures.hostileJournal.samples.count)
        #expect(text.contains(",2026-11-26T12:00:01.250Z,sample,"))
        #expect(text.contains(",not-run,no VFIO type1 for riscv; \"x\"\" onload=\"\"alert(2)\"\r\n")
            || text.contains(",not-run,\"no VFIO type1 for riscv; x\"\" onload=\"\"alert(2)\"\r\n"))
    }

    @Test func csvRoundTripsThroughAnRFC4180Reader() throws {
        let text = try Self.text(.csv)
        let rows = parseCSV(text)
        #expect(rows.allSatisfy { $0.count == CSVReport.columns.count })
        let variants = Set(rows.dropFirst().map { $0[1] })
        #expect(variants.contains(ReportFixtures.attribute))
        #expect(variants.contains("'" + ReportFixtures.formula))
    }

    @Test func jsonIsResultsJSONAsWritten() throws {
        let data = try Report.render(.json, ReportFixtures.hostileInput)
        #expect(data == (try ResultsJSON.prettyData(ReportFixtures.hostileResults)))
        #expect(try ResultsJSON.decoder().decode(ResultsDocument.self, from: data) == ReportFixtures.hostileResults)
    }

    @Test func journalProblemsAreMentioned() throws {
        for format in [ReportFormat.md, .html] {
            #expect(try Self.text(format).contains("samples.jsonl has 1 unreadable line"))
        }
    }

    /// A minimal RFC 4180 parser, enough to check the CSV's structure.
    func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { field.unicodeScalars.append("\""); characters.removeFirst() } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\r" { continue }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.unicodeScalars.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// Collects element names and attribute values from an XML document.
final class XMLCollector: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var attributes: [String] = []
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        elements.append(elementName)
        attributes += attributeDict.values
    }
}

/// Each hostile string, put into every data field, must come out inert in every markup format.
@Suite struct HostileStringTests {
    static let hostile = [
        "<script>alert(1)</script>",
        "\"onload=alert(3)",
        "' onmouseover='alert(4)",
        "</td></tr></table><img src=x onerror=alert(5)>",
        "]]><!--",
        "a\u{0}b\u{1b}[31mc",
    ]

    static func document(_ s: String) -> ReportInput {
        var results = ReportFixtures.hostileResults
        results.experiment = s
        results.hostKind = s
        results.modelled = [s]
        results.notes = [s]
        results.unavailable = [UnavailableMetric(metric: s, variant: s, reason: s)]
        for i in results.workloads.indices {
            results.workloads[i].workload = s
            results.workloads[i].metric = s
            results.workloads[i].unit = s
            for j in results.workloads[i].variants.indices where results.workloads[i].variants[j].variant != "native" {
                results.workloads[i].variants[j].variant = s
                results.workloads[i].variants[j].failures = [s]
                if results.workloads[i].variants[j].status != .run {
                    results.workloads[i].variants[j].status = .notRun(reason: s)
                }
            }
            for k in results.workloads[i].comparisons.indices {
                results.workloads[i].comparisons[k].candidate = s
            }
        }
        let samples = (0 ..< 4).map { i in
            Sample(experiment: s, variant: s, workload: s, boot: 0, iteration: i, metric: s, value: Double(i), unit: s,
                   timestamp: 0)
        }
        return ReportInput(results: results, journal: JournalContents(samples: samples))
    }

    @Test(arguments: hostile)
    func markupFormatsStayInert(string: String) throws {
        let input = Self.document(string)
        for format in [ReportFormat.html, .junit, .md] {
            let text = String(decoding: try Report.render(format, input), as: UTF8.self)
            #expect(!text.contains("<script"), "\(format)")
            #expect(!text.contains("<img"), "\(format)")
            if format != .md {
                // Quotes only matter inside markup attributes; Markdown text has no attributes once < is escaped.
                #expect(!text.contains("\"onload="), "\(format)")
                #expect(!text.contains("' onmouseover='"), "\(format)")
            }
            #expect(!text.contains("</td></tr></table><img"), "\(format)")
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\r" && $0 != "\t" }, "\(format)")
        }
        let junit = try Report.render(.junit, input)
        let parser = XMLParser(data: junit)
        #expect(parser.parse(), "junit.xml must stay well-formed")
    }

    @Test(arguments: hostile)
    func csvStaysRectangular(string: String) throws {
        let text = String(decoding: try Report.render(.csv, Self.document(string)), as: UTF8.self)
        let rows = ContentTests().parseCSV(text)
        #expect(rows.count > 5)
        #expect(rows.allSatisfy { $0.count == CSVReport.columns.count })
    }
}
