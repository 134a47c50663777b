// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

/// Small documents used by the format tests.
enum CoreFixtures {
    static let interval = Interval(low: 1.02, high: 1.08, level: 0.95)

    static let descriptive = Descriptive(
        n: 10, mean: 1.5, stddev: 0.1, median: 1.49, mad: 0.05, cv: 0.0667,
        quantiles: Quantiles(p0: 1.3, p5: 1.35, p25: 1.42, p50: 1.49, p75: 1.57, p95: 1.66, p100: 1.7))

    static let comparison = Comparison(
        baseline: "native", candidate: "virtio", metric: "wall_ns", direction: .lowerIsBetter,
        nBaseline: 10, nCandidate: 10, ratioOfMeans: 1.05, ratioOfMeansCI: interval,
        ratioOfMeansBCa: Interval(low: 1.021, high: 1.081, level: 0.95),
        ratioOfMedians: 1.04, ratioOfMediansCI: Interval(low: 1.0, high: 1.09, level: 0.95),
        ratioOfMediansBCa: Interval(low: 1.001, high: 1.091, level: 0.95),
        welchT: 3.2, welchDF: 17.5, welchP: 0.005, mannWhitneyU: 80, mannWhitneyP: 0.02,
        hodgesLehmann: 0.07, cliffsDelta: 0.6, adjustedP: 0.01, threshold: 0.01, alpha: 0.05,
        verdict: .regression, resamples: 10_000, seed: 42)

    static let results = ResultsDocument(
        experiment: "quickstart", hostKind: "emulated RISC-V host (QEMU TCG)", emulated: true,
        modelled: ["energy per inference (modelled from cycle counts)"],
        createdAt: "2026-11-26T15:00:00Z",
        workloads: [WorkloadResult(
            workload: "mobilenet", metric: "wall_ns", unit: "ns", direction: .lowerIsBetter, baseline: "native",
            variants: [
                VariantResult(variant: "native", status: .run, descriptive: descriptive),
                VariantResult(variant: "virtio", status: .run, descriptive: descriptive, failures: ["boot 2: timeout"]),
                VariantResult(variant: "passthrough", status: .notRun(reason: "no VFIO type1 for riscv"), descriptive: nil),
            ],
            comparisons: [comparison])],
        notes: ["a note"],
        unavailable: [UnavailableMetric(metric: "counter.cycles", variant: "virtio", reason: "<not supported>")])

    static let manifest = Manifest(
        experiment: "quickstart", spec: SpecRecord(path: "analysis/quickstart.yaml", yaml: "name: quickstart\n"),
        seed: 42,
        artifacts: ["guest-kernel": Artifact(path: "/cache/Image", sha256: String(repeating: "0", count: 64), bytes: 123)],
        host: HostFacts(kind: "emulated RISC-V host (QEMU TCG)", emulated: true, arch: "riscv64",
                        kernel: "6.12.48-riscv64", isa: "rv64imafdch_sscofpmf", aiaMode: "aplic-imsic",
                        qemuVersion: "10.0.2", libvirtVersion: "11.3.0", cpuCount: 2),
        tools: ["swift": "6.3.1"], domains: ["virtio": "<domain type='kvm'/>"],
        createdAt: "2026-11-26T15:00:00Z", commandLine: ["rvbench", "run", "analysis/quickstart.yaml"])

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

@Suite struct SchemaVersionTests {
    @Test(arguments: ["1.0", "1.7", "1"])
    func acceptsMajorOne(version: String) throws {
        try SchemaVersion.check(version, in: "results.json")
    }

    @Test func rejectsNewerMajorWithAClearMessage() {
        #expect { try SchemaVersion.check("2.0", in: "results.json") } throws: { error in
            guard let error = error as? RVBenchError else { return false }
            return error.code == .format
                && error.message == "results.json has schema version 2.0; this rvbench reads 1.x; upgrade rvbench"
        }
    }

    @Test(arguments: ["", "one", "1.x", "-1.0", "1.0.0"])
    func rejectsGarbage(version: String) {
        #expect { try SchemaVersion.check(version, in: "manifest.json") } throws: { error in
            (error as? RVBenchError)?.code == .format
                && (error as? RVBenchError)?.message.contains("unreadable schema version") == true
        }
    }
}

@Suite struct RoundTripTests {
    @Test func resultsDocumentRoundTrips() throws {
        let data = try ResultsJSON.prettyData(CoreFixtures.results)
        let decoded = try ResultsJSON.decoder().decode(ResultsDocument.self, from: data)
        #expect(decoded == CoreFixtures.results)
    }

    @Test func manifestRoundTrips() throws {
        let data = try ResultsJSON.prettyData(CoreFixtures.manifest)
        let decoded = try ResultsJSON.decoder().decode(Manifest.self, from: data)
        #expect(decoded == CoreFixtures.manifest)
        #expect(decoded.spec.sha256 == SHA256.hex(of: "name: quickstart\n"))
    }

    @Test func keysAreSnakeCaseAndSorted() throws {
        let text = String(decoding: try ResultsJSON.prettyData(CoreFixtures.results), as: UTF8.self)
        for key in ["\"schema_version\"", "\"host_kind\"", "\"created_at\"", "\"ratio_of_means_ci\"",
                    "\"ratio_of_means_bca\"", "\"welch_df\"", "\"n_baseline\"", "\"adjusted_p\"",
                    "\"cliffs_delta\"", "\"mann_whitney_u\""] {
            #expect(text.contains(key), "missing \(key)")
        }
        #expect(!text.contains("ratioOfMeans"))
        #expect(!text.contains("schemaVersion"))
        // Sorted: "created_at" precedes "emulated", which precedes "experiment".
        let created = try #require(text.range(of: "\"created_at\""))
        let emulated = try #require(text.range(of: "\"emulated\""))
        let experiment = try #require(text.range(of: "\"experiment\""))
        #expect(created.lowerBound < emulated.lowerBound && emulated.lowerBound < experiment.lowerBound)
        #expect(text.hasSuffix("}\n"))
    }

    @Test func manifestKeysAreSnakeCase() throws {
        let text = String(decoding: try ResultsJSON.prettyData(CoreFixtures.manifest), as: UTF8.self)
        for key in ["\"rvbench_version\"", "\"command_line\"", "\"aia_mode\"", "\"qemu_version\"",
                    "\"libvirt_version\"", "\"cpu_count\"", "\"memory_bytes\" : null"] {
            #expect(text.contains(key), "missing \(key)")
        }
    }

    @Test func variantStatusEncoding() throws {
        let encoder = ResultsJSON.encoder(pretty: false)
        #expect(String(decoding: try encoder.encode(VariantStatus.run), as: UTF8.self) == #"{"state":"run"}"#)
        #expect(String(decoding: try encoder.encode(VariantStatus.notRun(reason: "no iommu")), as: UTF8.self)
            == #"{"reason":"no iommu","state":"not-run"}"#)
        let bad = Data(#"{"state":"maybe"}"#.utf8)
        #expect(throws: DecodingError.self) { try ResultsJSON.decoder().decode(VariantStatus.self, from: bad) }
    }

    @Test func nonFiniteNumbersSurvive() throws {
        var doc = CoreFixtures.results
        doc.workloads[0].comparisons[0].welchP = .nan
        doc.workloads[0].comparisons[0].welchT = .infinity
        let data = try ResultsJSON.prettyData(doc)
        #expect(String(decoding: data, as: UTF8.self).contains("\"welch_p\" : \"nan\""))
        let decoded = try ResultsJSON.decoder().decode(ResultsDocument.self, from: data)
        #expect(decoded.workloads[0].comparisons[0].welchP.isNaN)
        #expect(decoded.workloads[0].comparisons[0].welchT == .infinity)
    }

    /// A minimal 1.0 document, without the optional keys, still reads.
    @Test func readsMinimalDocument() throws {
        let json = #"""
        {"schema_version": "1.3", "experiment": "x", "host_kind": "riscv64 board", "emulated": false,
         "created_at": "2026-01-01T00:00:00Z", "workloads": [], "some_future_key": 1}
        """#
        let doc = try ResultsJSON.decoder().decode(ResultsDocument.self, from: Data(json.utf8))
        #expect(doc.modelled.isEmpty && doc.notes.isEmpty && doc.unavailable.isEmpty)
        #expect(doc.schemaVersion == "1.3")
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (0.0, 0, "1970-01-01T00:00:00Z"),
        (1_795_705_200.25, 3, "2026-11-26T15:00:00.250Z"),
        (951_782_400.0, 0, "2000-02-29T00:00:00Z"),
        (-1.5, 1, "1969-12-31T23:59:58.5Z"),
        (4_102_444_799.9996, 3, "2100-01-01T00:00:00.000Z"),
    ])
    func formats(seconds: Double, digits: Int, expected: String) {
        #expect(ISO8601Time.string(fromEpochSeconds: seconds, fractionDigits: digits) == expected)
    }
}

@Suite struct SchemaOnePointOneTests {
    /// A 1.0 document still reads: "no-change" is inconclusive, a missing kind is secondary.
    @Test func readsSchemaOnePointZeroVerdictsAndKinds() throws {
        var object = try #require(try JSONSerialization.jsonObject(
            with: try ResultsJSON.prettyData(CoreFixtures.results)) as? [String: Any])
        object["schema_version"] = "1.0"
        var workloads = try #require(object["workloads"] as? [[String: Any]])
        workloads[0].removeValue(forKey: "kind")
        var comparisons = try #require(workloads[0]["comparisons"] as? [[String: Any]])
        comparisons[0]["verdict"] = "no-change"
        comparisons[0].removeValue(forKey: "boot_level")
        workloads[0]["comparisons"] = comparisons
        object["workloads"] = workloads
        let data = try JSONSerialization.data(withJSONObject: object)
        let read = try ResultsJSON.decoder().decode(ResultsDocument.self, from: data)
        #expect(read.workloads[0].kind == .secondary)
        #expect(read.workloads[0].comparisons[0].verdict == .inconclusive)
        #expect(read.workloads[0].comparisons[0].bootLevel == nil)
        #expect(read.workloads[0].comparisons[0].headlineCI == CoreFixtures.comparison.ratioOfMeansCI)
    }

    @Test func anUnknownVerdictIsRejected() throws {
        let data = Data(#""maybe""#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Verdict.self, from: data) }
        #expect(try JSONDecoder().decode(Verdict.self, from: Data(#""no-test""#.utf8)) == .noTest)
    }

    @Test func samplesCarryTheirKindOnlyWhenKnown() throws {
        let plain = Sample(experiment: "e", variant: "v", workload: "w", boot: 0, iteration: 0, metric: "m",
                           value: 1, unit: "ns", timestamp: 0)
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("kind"))
        var counter = plain
        counter.kind = .counter
        let text = String(decoding: try JSONEncoder().encode(counter), as: UTF8.self)
        #expect(text.contains(#""kind":"counter""#))
        #expect(try JSONDecoder().decode(Sample.self, from: Data(text.utf8)) == counter)
    }
}
