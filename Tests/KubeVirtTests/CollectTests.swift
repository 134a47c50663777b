// SPDX-License-Identifier: GPL-3.0-or-later
@testable import Experiment
import Foundation
import GuestWire
import Host
import KubeVirt
import Report
import RVBenchCore
import Stats
import Testing

/// Console output of one boot as the runner prints it, for the collect tests. The line shapes are
/// those of a lab L2 recording (see Tests/CoreTests/GuestProtocolTests.swift); the values are made
/// up, deterministic, and about 10% higher in guests. Kernel noise and CRLF line ends surround the
/// protocol lines, as on a serial console.
enum SyntheticConsole {
    struct Result: Hashable {
        var workload: String
        var iteration: Int
        var metric: String
        var value: Double
    }

    static func value(_ workload: String, _ iteration: Int, boot: Int, guest: Bool) -> Double {
        let base = Double(workload.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 97 + 50)
        return (base + Double(iteration) * 0.5 + Double(boot) * 0.25) * (guest ? 1.1 : 1.0)
    }

    /// The log and the measured results it carries.
    static func log(_ object: BundleManifest.Object, spec: ExperimentSpec) throws -> (text: String, results: [Result]) {
        let boot = try #require(Schedule(spec: spec).maximal.first { $0.sequence == object.sequence })
        let plan = RunnerPlan(boot: boot, spec: spec)
        let guest = object.kind == .virtualMachineInstance
        var lines: [String] = []
        var results: [Result] = []
        if guest {
            lines += ["OpenSBI v1.2", "[    0.000000] Linux version 6.1.0 (rvbench@lab) #1 SMP",
                      "[    0.412345] virtio_blk virtio0: [vda] 2097152 512-byte logical blocks"]
        }
        for name in plan.workloads {
            let metric = try #require(spec.workloads.first { $0.name == name }).metric
            for (phase, count) in [("warmup", plan.warmup), ("measure", plan.iterations)] {
                for i in 0 ..< count {
                    let v = value(name, i, boot: object.boot, guest: guest)
                    let wall = Int(v * 1e7)
                    var metrics = "\"\(metric)\":\(v)"
                    if ["wall_ns", "user_ns", "sys_ns"].contains(metric) { metrics = "" }
                    lines.append(#"@@rvbench v1 {"workload":"\#(name)","iteration":\#(i),"phase":"\#(phase)","wall_ns":\#(wall),"user_ns":\#(wall / 2),"sys_ns":\#(wall / 20),"max_rss_kb":85820,"metrics":{\#(metrics)},"checksum":"argmax=309","checksum_ok":true,"counters":{},"counters_unavailable":"perf_event_open(cycles): Function not implemented"}"#)
                    if phase == "measure" {
                        results.append(Result(workload: name, iteration: i, metric: "wall_ns", value: Double(wall)))
                        results.append(Result(workload: name, iteration: i, metric: "user_ns", value: Double(wall / 2)))
                        results.append(Result(workload: name, iteration: i, metric: "sys_ns", value: Double(wall / 20)))
                        if !metrics.isEmpty { results.append(Result(workload: name, iteration: i, metric: metric, value: v)) }
                    }
                }
            }
        }
        let count = plan.workloads.count * (plan.warmup + plan.iterations)
        lines.append(#"@@rvbench v1 done {"results":\#(count),"checksum_failures":0,"iterations":\#(plan.iterations),"warmup":\#(plan.warmup),"elapsed_ns":123456789,"workloads":[\#(plan.workloads.map { "\"\($0)\"" }.joined(separator: ","))],"seed":"\#(plan.seed)","kernel":"6.1.0","machine":"riscv64","pid1":\#(guest)}"#)
        if guest { lines.append("[   21.000000] reboot: Power down") }
        let end = guest ? "\r\n" : "\n"
        return (lines.joined(separator: end) + end, results)
    }
}

@Suite(.serialized, .tags(.externalTools))
struct CollectTests {
    struct Fixture {
        var bundle: URL
        var manifest: BundleManifest
        var spec: ExperimentSpec
        var logs: URL
        var expected: [BootKey: [SyntheticConsole.Result]]
    }

    /// A quickstart bundle with a log for every object.
    static func fixture(_ name: String) async throws -> Fixture {
        let spec = try KubeFixtures.spec("analysis/quickstart.yaml")
        let (bundle, manifest) = try await KubeFixtures.export(spec, name: name)
        let logs = bundle.appendingPathComponent("logs", isDirectory: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var expected: [BootKey: [SyntheticConsole.Result]] = [:]
        for object in manifest.objects {
            let (text, results) = try SyntheticConsole.log(object, spec: spec)
            try Data(text.utf8).write(to: logs.appendingPathComponent("\(object.name).log"))
            expected[BootKey(variant: object.variant, boot: object.boot)] = results
        }
        return Fixture(bundle: bundle, manifest: manifest, spec: spec, logs: logs, expected: expected)
    }

    static func collect(_ f: Fixture, logs: [URL]? = nil) async throws -> (RunOutcome, URL) {
        let out = KubeFixtures.temporary("results")
        let request = CollectRequest(bundle: f.bundle, logs: logs ?? [f.logs], output: out, catalogue: KubeFixtures.catalogue,
                                     commandLine: ["rvbench", "kubevirt", "collect"])
        return (try await Collector.collect(request), out)
    }

    static func sampleSet(_ samples: [Sample]) -> Set<SyntheticConsole.Result> {
        Set(samples.map { SyntheticConsole.Result(workload: $0.workload, iteration: $0.iteration, metric: $0.metric, value: $0.value) })
    }

    @Test func collectWritesAResultsDirectoryThatReportAndCompareRead() async throws {
        let f = try await Self.fixture("collect")
        defer { try? FileManager.default.removeItem(at: f.bundle) }
        let (outcome, dir) = try await Self.collect(f)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(outcome.summary.bootsOK == 4 && outcome.summary.bootsFailed == 0, "\(outcome.summary.failures)")
        #expect(outcome.summary.samples.count == f.expected.values.map(\.count).reduce(0, +))
        for (key, results) in f.expected {
            let mine = outcome.summary.samples.filter { $0.variant == key.variant && $0.boot == key.boot }
            #expect(Self.sampleSet(mine) == Set(results), "\(key)")
        }
        // The same journal rules: replaying the journal gives the committed samples.
        #expect(try Journal.replay(dir).samples == outcome.summary.samples)
        let results = ResultsDirectory(url: dir)
        let manifest = try results.readManifest()
        #expect(manifest.host.kind == Collector.hostKind)
        #expect(manifest.host.arch == "riscv64" && !manifest.host.emulated)
        #expect(manifest.spec.sha256 == f.manifest.spec.sha256 && manifest.seed == f.spec.seed)
        #expect(manifest.artifacts["kubevirt/image/guest-boot"]?.sha256 == f.manifest.images["guest-boot"]?.archiveSHA256)
        #expect(manifest.artifacts.keys.filter { $0.hasPrefix("kubevirt/log/") }.count == 4)
        let document = try results.readResults()
        #expect(document.hostKind == Collector.hostKind)
        #expect(document.unavailable.map(\.metric).sorted() == f.spec.counters.map { "host.perf.\($0)" }.sorted())
        let primary = document.workloads.filter { w in f.spec.workloads.contains { $0.name == w.workload && $0.metric == w.metric } }
        #expect(primary.count == 2 && primary.allSatisfy { $0.comparisons.count == 1 })
        // Guests are 10% slower in the synthetic logs; the ratio says so.
        for w in primary { #expect(abs(w.comparisons[0].ratioOfMeans - 1.1) < 0.01, "\(w.workload)") }
        // report: every format renders; reproduce: the stored spec parses again; compare: two collections compare.
        let input = try ReportInput.load(from: results)
        #expect(String(decoding: try Report.render(.md, input), as: UTF8.self).contains(Collector.hostKind))
        for file in ["report.md", "report.html", "samples.csv", "junit.xml", "kubevirt/bundle.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
        #expect(try RunSession.specOfRun(dir).seed == f.spec.seed)
        let compared = try CompareRuns.compare(baseline: dir, candidate: dir)
        #expect(!compared.rows.isEmpty && compared.missing.isEmpty)
        #expect(compared.exitStatus != .regression && compared.exitStatus != .improvementOnly)
        #expect(try RunSession.verifyArtifacts(of: dir).isEmpty)
    }

    /// What a hostile or broken log does to its boot; the other boots are untouched.
    enum Hostility: String, CaseIterable {
        case truncated, interleaved, interleavedBoots, forgedDuplicate, forgedWorkload, forgedIteration, garbage, otherBootsLog, missing, empty
    }

    @Test(arguments: Hostility.allCases) func hostileLogFailsOnlyItsBoot(_ hostility: Hostility) async throws {
        let f = try await Self.fixture("hostile-\(hostility.rawValue)")
        defer { try? FileManager.default.removeItem(at: f.bundle) }
        let victim = try #require(f.manifest.objects.first { $0.variant == "virtio" && $0.boot == 0 })
        let file = f.logs.appendingPathComponent("\(victim.name).log")
        let text = try String(contentsOf: file, encoding: .utf8)
        var lines = text.components(separatedBy: "\r\n")
        let firstMeasure = try #require(lines.firstIndex { $0.contains(#""phase":"measure""#) })
        let expectedReason: String
        switch hostility {
        case .truncated:
            let done = try #require(text.range(of: "@@rvbench v1 done"))
            try Data(text[..<done.lowerBound].dropLast(40).utf8).write(to: file)
            expectedReason = "ends before the runner's done line"
        case .interleaved:
            let line = lines[firstMeasure]
            let middle = line.index(line.startIndex, offsetBy: line.count / 2)
            lines[firstMeasure] = String(line[..<middle]) + "\r\n[   12.345678] rcu: INFO: rcu_sched self-detected stall on CPU\r\n"
                + String(line[middle...])
            try Data(lines.joined(separator: "\r\n").utf8).write(to: file)
            // The split result line is rejected; the done line's count then shows the loss.
            expectedReason = "output was lost"
        case .interleavedBoots:
            // Two consoles mixed line by line, as a shared log file would hold them.
            let other = try #require(f.manifest.objects.first { $0.variant == "virtio" && $0.boot == 1 })
            let otherLines = try String(contentsOf: f.logs.appendingPathComponent("\(other.name).log"), encoding: .utf8)
                .components(separatedBy: "\r\n")
            var mixed: [String] = []
            for i in 0 ..< max(lines.count, otherLines.count) {
                if i < otherLines.count { mixed.append(otherLines[i]) }
                if i < lines.count { mixed.append(lines[i]) }
            }
            try Data(mixed.joined(separator: "\r\n").utf8).write(to: file)
            expectedReason = "started twice"
        case .forgedDuplicate:
            lines.insert(lines[firstMeasure].replacingOccurrences(of: #""wall_ns":"#, with: #""wall_ns":1"#), at: firstMeasure + 1)
            try Data(lines.joined(separator: "\r\n").utf8).write(to: file)
            expectedReason = "reported twice"
        case .forgedWorkload:
            lines.insert(lines[firstMeasure].replacingOccurrences(of: #"{"workload":""#, with: #"{"workload":"evil<b>"#),
                         at: firstMeasure + 1)
            try Data(lines.joined(separator: "\r\n").utf8).write(to: file)
            expectedReason = "is not scheduled in this boot"
        case .forgedIteration:
            lines.insert(lines[firstMeasure].replacingOccurrences(of: #""iteration":0"#, with: #""iteration":7"#), at: firstMeasure + 1)
            try Data(lines.joined(separator: "\r\n").utf8).write(to: file)
            expectedReason = "outside 0..<3"
        case .garbage:
            // What rvbench-runner --fault garbage prints: markup, invalid UTF-8, a 12 KiB line, other versions.
            var junk: [UInt8] = []
            for i in 0 ..< 260 {
                switch i % 5 {
                case 0: junk += Array(#"@@rvbench v1 {"workload":"<script>alert(\#(i))</script>"}"#.utf8) + [0x0A]
                case 1: junk += Array(#"@@rvbench v1 result {"wall_ns": -1, "x": "#.utf8) + [0xFF, 0xFE, 0x7D, 0x0A]
                case 2: junk += [0x1B, 0x5B, 0x32, 0x4A, 0x00, 0x01, 0x02] + Array(" garbage ".utf8) + [0xC3, 0x28, 0x0A]
                case 3: junk += Array("@@rvbench v9 done {}\n".utf8)
                default: junk += Array("@@rvbench v1 \n".utf8)
                }
                if i == 100 { junk += Array(repeating: UInt8(ascii: "A"), count: 4096 * 3) + [0x0A] }
            }
            var bytes = Array(lines[...firstMeasure].joined(separator: "\r\n").utf8) + [0x0D, 0x0A]
            bytes += junk + Array(lines[(firstMeasure + 1)...].joined(separator: "\r\n").utf8)
            try Data(bytes).write(to: file)
            expectedReason = "malformed protocol lines"
        case .otherBootsLog:
            let other = try #require(f.manifest.objects.first { $0.variant == "virtio" && $0.boot == 1 })
            try FileManager.default.removeItem(at: file)
            try FileManager.default.copyItem(at: f.logs.appendingPathComponent("\(other.name).log"), to: file)
            expectedReason = "is of another boot"
        case .missing:
            try FileManager.default.removeItem(at: file)
            expectedReason = "no log for \(victim.name)"
        case .empty:
            try Data().write(to: file)
            expectedReason = "ends before the runner's done line"
        }
        let (outcome, dir) = try await Self.collect(f)
        defer { try? FileManager.default.removeItem(at: dir) }
        let failures = outcome.summary.failures
        #expect(failures.count == 2, "the boot and its retry fail: \(failures.map(\.reason))")
        #expect(failures.allSatisfy { $0.variant == "virtio" && $0.boot == 0 })
        #expect(failures.first?.reason.contains(expectedReason) == true, "\(failures.map(\.reason))")
        #expect(failures.last?.reason.contains("a cluster runs each boot once") == true)
        #expect(outcome.summary.bootsOK == 3 && outcome.summary.bootsFailed == 1)
        // Nothing of the hostile boot was kept, and nothing forged reached a report.
        #expect(!outcome.summary.samples.contains { $0.variant == "virtio" && $0.boot == 0 })
        for (key, results) in f.expected where key != BootKey(variant: "virtio", boot: 0) {
            let mine = outcome.summary.samples.filter { $0.variant == key.variant && $0.boot == key.boot }
            #expect(Self.sampleSet(mine) == Set(results), "\(key)")
        }
        #expect(!outcome.summary.samples.contains { $0.workload.contains("<") || $0.workload.contains("evil") || $0.value < 0 })
        for report in ["report.html", "report.md", "results.json", "samples.csv", "junit.xml"] {
            let body = try String(contentsOf: dir.appendingPathComponent(report), encoding: .utf8)
            #expect(!body.contains("<script>"), "\(report) carries guest markup")
            // The failure reason quotes the forged name: data files keep it verbatim, markup formats escape it.
            if ["report.html", "report.md", "junit.xml"].contains(report) { #expect(!body.contains("<b>"), "\(report) carries guest markup") }
        }
    }

    @Test func refusesLogsOfOtherObjectsAndEditedBundles() async throws {
        let f = try await Self.fixture("refuse")
        defer { try? FileManager.default.removeItem(at: f.bundle) }
        let stray = f.bundle.appendingPathComponent("rvbench-ffffffff-virtio-b0.log")
        try Data("x\n".utf8).write(to: stray)
        await #expect { _ = try await Self.collect(f, logs: [f.logs, stray]) } throws: { "\($0)".contains("does not belong to this bundle") }

        let manifestFile = f.bundle.appendingPathComponent(BundleManifest.fileName)
        let original = try String(contentsOf: manifestFile, encoding: .utf8)
        try Data(original.replacingOccurrences(of: "boots: 2", with: "boots: 9").utf8).write(to: manifestFile)
        await #expect { _ = try await Self.collect(f) } throws: { "\($0)".contains("does not match its SHA-256") }
        try Data(original.replacingOccurrences(of: #""sequence" : 1"#, with: #""sequence" : 2"#).utf8).write(to: manifestFile)
        await #expect { _ = try await Self.collect(f) } throws: { "\($0)".contains("does not match the spec's schedule") }
    }
}

/// Output of the real runner: the Job logs of a native-only spec, recorded under user-mode emulation.
struct RealRunnerLogTests {
    @Test func collectOfRealRunnerOutputGivesTheSamplesADirectRunMakes() async throws {
        let spec = try KubeFixtures.spec("Tests/KubeVirtTests/Fixtures/specs/kubevirt-native.yaml")
        let (bundle, manifest) = try await KubeFixtures.export(spec, name: "real-runner")
        defer { try? FileManager.default.removeItem(at: bundle) }
        let logs = KubeFixtures.directory.appendingPathComponent("runner-logs")
        #expect(Set(manifest.objects.map { "\($0.name).log" }) == Set(try FileManager.default.contentsOfDirectory(atPath: logs.path)))
        let out = KubeFixtures.temporary("real-runner-results")
        defer { try? FileManager.default.removeItem(at: out) }
        let outcome = try await Collector.collect(CollectRequest(bundle: bundle, logs: [logs], output: out,
                                                                 catalogue: KubeFixtures.catalogue, commandLine: ["test"]))
        #expect(outcome.summary.bootsOK == 2 && outcome.summary.failures.isEmpty, "\(outcome.summary.failures.map(\.reason))")

        // What the direct run's translation makes of the same bytes: every measured result line.
        for object in manifest.objects {
            var parser = GuestProtocolParser()
            let bytes = try Data(contentsOf: logs.appendingPathComponent("\(object.name).log"))
            let outcomes = parser.parseAll(bytes)
            #expect(parser.counts.rejected == 0 && parser.counts.done == 1)
            var expected = Set<SyntheticConsole.Result>()
            for case .line(.result(let r)) in outcomes where r.phase == .measure {
                for s in GuestLineTranslator.samples(of: r) {
                    expected.insert(.init(workload: s.workload, iteration: s.iteration, metric: s.metric, value: s.value))
                }
            }
            let times: Set<String> = ["wall_ns", "user_ns", "sys_ns"]
            let timeSamples = expected.filter { times.contains($0.metric) }.count
            #expect(timeSamples == 2 * 2 * 3, "two workloads, two measured iterations, three times each")
            let mine = outcome.summary.samples.filter { $0.variant == object.variant && $0.boot == object.boot }
            #expect(CollectTests.sampleSet(mine) == expected, "\(object.name)")
            #expect(mine.contains { $0.metric == "ns_per_op" && $0.workload == "micro-timer" })
        }
    }
}
