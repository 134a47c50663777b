// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
@testable import CLI
import Foundation
import RVBenchCore
import Testing

/// Seeded nested data: value = exp(log mean + boot effect + iteration noise), both normal.
struct NestedGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func normal() -> Double {
        let u = (Double(next() >> 11) + 0.5) / Double(UInt64(1) << 53)
        let v = (Double(next() >> 11) + 0.5) / Double(UInt64(1) << 53)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// `boots` × `iterations` values around `mean` with between-boot and within-boot SD `sd` (log scale).
    mutating func series(mean: Double, boots: Int, iterations: Int, sd: Double) -> [[Double]] {
        (0..<boots).map { _ in
            let b = sd * normal()
            return (0..<iterations).map { _ in mean * exp(b + sd * normal()) }
        }
    }
}

/// Results directories written in the documented format, and `rvbench compare` run on them in-process.
@Suite(.tags(.simulation)) struct CompareGateTests {
    /// The catalogue's twelve workloads with each one's primary metric from its manifest.
    static let workloads: [(name: String, metric: String)] = [
        ("c-tinyllama", "tokens_per_s"), ("dav1d-decode", "codec_fps"), ("h264-decode", "codec_fps"),
        ("micro-mmio", "ns_per_op"), ("micro-pagetouch", "ns_per_op"), ("micro-rfence", "ns_per_op"),
        ("micro-timer", "ns_per_op"), ("onnx-mobilenet", "ms_per_inference"), ("onnx-tinyllama", "tokens_per_s"),
        ("x264-320", "codec_fps"), ("x264-640", "codec_fps"), ("x265-320", "codec_fps"),
    ]

    static func spec(workloads: [String], stats: String = "") -> String {
        """
        name: gate
        seed: 7
        host: lab
        variants:
          - name: native
            kind: native
            baseline: true
          - name: virtio
            kind: virtio
        workloads:
        \(workloads.map { "  - name: \($0)" }.joined(separator: "\n"))
        repetitions: {boots: 5, iterations: 5}
        \(stats)
        """
    }

    struct Series {
        var workload: String
        var variant: String
        var metric: String
        var boots: [[Double]]
        var kind: MetricKind? = nil
    }

    /// Writes manifest.json and samples.jsonl into a fresh directory.
    static func writeRun(_ root: URL, _ name: String, spec: String, series: [Series]) throws -> String {
        let dir = ResultsDirectory(url: root.appendingPathComponent(name, isDirectory: true))
        try dir.create()
        try dir.writeManifest(Manifest(experiment: "gate", spec: SpecRecord(path: "gate.yaml", yaml: spec), seed: 7,
                                       host: HostFacts(kind: "simulated", emulated: false, arch: "x86_64"),
                                       createdAt: "2026-12-01T00:00:00Z", commandLine: []))
        var data = Data()
        for s in series {
            for (boot, values) in s.boots.enumerated() {
                for (iteration, value) in values.enumerated() {
                    let sample = Sample(experiment: "gate", variant: s.variant, workload: s.workload, boot: boot,
                                        iteration: iteration, metric: s.metric, value: value, unit: "", timestamp: 0,
                                        kind: s.kind)
                    data.append(try JournalRecord.sample(sample).line())
                }
            }
        }
        try data.write(to: dir.samplesURL)
        return dir.url.path
    }

    static func compare(_ base: String, _ cand: String, _ flags: [String] = []) throws -> (RVBenchCore.ExitStatus, String) {
        let parsed = try RVBenchCommand.parseAsRoot(["compare", base, cand] + flags)
        let command = try #require(parsed as? CompareCommand)
        var out = "", err = ""
        let status = try command.execute(output: { out += $0 }, errors: { err += $0 })
        return (status, out + err)
    }

    /// `count`, or RVBENCH_SIMULATION_RUNS when set (for longer runs by hand).
    static func runs(_ count: Int) -> Int {
        ProcessInfo.processInfo.environment["RVBENCH_SIMULATION_RUNS"].flatMap(Int.init) ?? count
    }

    /// Prints a measured figure when RVBENCH_PRINT_FIGURES is set.
    static func report(_ line: String) {
        if ProcessInfo.processInfo.environment["RVBENCH_PRINT_FIGURES"] != nil { print("figure: \(line)") }
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// 24 series (12 workloads × native and virtio), no true change, 5 boots × 5 iterations, between- and
    /// within-boot SD 2%, threshold 1%: exit 2 in at most 5% of runs.
    @Test func falseAlarmsStayBelowFivePercent() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: Self.workloads.map(\.name), stats: "stats: {threshold: 0.01, resamples: 100}")
        var random = NestedGenerator(state: 2026)
        let runs = Self.runs(100)
        var regressions = 0, inconclusive = 0
        for run in 0..<runs {
            func series() -> [Series] {
                Self.workloads.flatMap { w in
                    ["native", "virtio"].map { v in
                        Series(workload: w.name, variant: v, metric: w.metric,
                               boots: random.series(mean: 100, boots: 5, iterations: 5, sd: 0.02))
                    }
                }
            }
            let base = try Self.writeRun(root, "b\(run)", spec: spec, series: series())
            let cand = try Self.writeRun(root, "c\(run)", spec: spec, series: series())
            let (status, text) = try Self.compare(base, cand)
            if run == 0 { #expect(text.contains("family") && text.contains("primary (24)")) }
            if status == .regression { regressions += 1 }
            if status == .inconclusive { inconclusive += 1 }
            #expect(status != .runFailed && status != .usage)
        }
        let rate = Double(regressions) / Double(runs)
        Self.report("false alarms: exit 2 in \(regressions) of \(runs) runs, exit 6 in \(inconclusive)")
        #expect(rate <= 0.05, "false alarm rate \(rate)")
        // With SD 2% and 5 boots, equivalence within ±1% cannot be shown: the gate says so instead of passing.
        #expect(inconclusive > runs / 2)
    }

    /// A true 5% regression in one series: exit 2 in ≥ 75% of runs at 5 boots × 5 iterations, ≥ 90% at 8 boots.
    @Test(arguments: [(5, 0.75), (8, 0.90)])
    func powerAgainstAFivePercentRegression(boots: Int, goal: Double) throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: ["micro-timer"], stats: "stats: {threshold: 0.01, resamples: 100}")
        var random = NestedGenerator(state: UInt64(boots) * 7919)
        let runs = Self.runs(200)
        var regressions = 0
        for run in 0..<runs {
            let before = random.series(mean: 1000, boots: boots, iterations: 5, sd: 0.02)
            let after = random.series(mean: 1050, boots: boots, iterations: 5, sd: 0.02)
            let base = try Self.writeRun(root, "b\(run)", spec: spec,
                                         series: [Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op", boots: before)])
            let cand = try Self.writeRun(root, "c\(run)", spec: spec,
                                         series: [Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op", boots: after)])
            if try Self.compare(base, cand).0 == .regression { regressions += 1 }
        }
        let power = Double(regressions) / Double(runs)
        Self.report("power at \(boots) boots x 5 iterations: exit 2 in \(regressions) of \(runs) runs")
        #expect(power >= goal, "power \(power) at \(boots) boots")
    }

    @Test func aMissingCandidateSeriesFailsTheGateNamingTheWorkload() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: ["micro-timer", "micro-mmio"])
        var random = NestedGenerator(state: 1)
        let timer = { Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op",
                             boots: random.series(mean: 100, boots: 5, iterations: 5, sd: 0.001)) }
        let mmio = Series(workload: "micro-mmio", variant: "virtio", metric: "ns_per_op",
                          boots: random.series(mean: 100, boots: 5, iterations: 5, sd: 0.001))
        let base = try Self.writeRun(root, "b", spec: spec, series: [timer(), mmio])
        let cand = try Self.writeRun(root, "c", spec: spec, series: [timer()])
        let (status, text) = try Self.compare(base, cand)
        #expect(status == .runFailed)
        #expect(status.rawValue == 3)
        #expect(text.contains("workload micro-mmio, variant virtio"))
    }

    @Test func aZeroCounterIsReportedAndTheOthersStillDecide() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: ["micro-timer"])
        var random = NestedGenerator(state: 3)
        let zero = Series(workload: "boot", variant: "virtio", metric: "host.kvm.mmio_exit_kernel",
                          boots: Array(repeating: [0], count: 5), kind: .counter)
        let ops = Series(workload: "micro-timer", variant: "virtio", metric: "ops", boots: Array(repeating: [1000, 1000], count: 6))
        let base = try Self.writeRun(root, "b", spec: spec, series: [
            Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op",
                   boots: random.series(mean: 100, boots: 6, iterations: 5, sd: 0.005)), zero, ops])
        let cand = try Self.writeRun(root, "c", spec: spec, series: [
            Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op",
                   boots: random.series(mean: 120, boots: 6, iterations: 5, sd: 0.005)), zero, ops])
        let (status, text) = try Self.compare(base, cand, ["--all-metrics"])
        #expect(status == .regression)
        #expect(text.contains("micro-timer/virtio/ops: consistent (1000.0)"))
        #expect(text.contains("host.kvm.mmio_exit_kernel"))
        #expect(text.contains("not analysed"))
        #expect(text.contains("a value of 0.0; a ratio needs finite values"))
    }

    @Test func theBaselineSpecsSettingsApplyAndFlagsOverrideThem() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: ["micro-timer"], stats: "stats: {threshold: 0.05, resamples: 300}")
        var random = NestedGenerator(state: 5)
        let base = try Self.writeRun(root, "b", spec: spec, series: [Series(
            workload: "micro-timer", variant: "virtio", metric: "ns_per_op",
            boots: random.series(mean: 100, boots: 8, iterations: 5, sd: 0.002))])
        let cand = try Self.writeRun(root, "c", spec: spec, series: [Series(
            workload: "micro-timer", variant: "virtio", metric: "ns_per_op",
            boots: random.series(mean: 103, boots: 8, iterations: 5, sd: 0.002))])
        // A clear 3% slowdown is within the spec's ±5% threshold: equivalent, exit 0.
        let (fromSpec, text) = try Self.compare(base, cand)
        #expect(fromSpec == .success)
        #expect(text.contains("threshold 0.05 (baseline spec)"))
        #expect(text.contains("resamples 300 (baseline spec)"))
        #expect(text.contains("seed 7 (baseline spec)"))
        #expect(text.contains("alpha 0.05 (default)"))
        // The flag overrides it: beyond ±1% it is a regression.
        let (fromFlag, flagText) = try Self.compare(base, cand, ["--threshold", "0.01"])
        #expect(fromFlag == .regression)
        #expect(flagText.contains("threshold 0.01 (flag)"))
    }

    @Test func constantSeriesAllowNoTestAndThatIsInconclusive() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let spec = Self.spec(workloads: ["micro-timer"])
        let flat = Array(repeating: [100.0, 100.0], count: 5)
        let base = try Self.writeRun(root, "b", spec: spec,
                                     series: [Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op", boots: flat)])
        let cand = try Self.writeRun(root, "c", spec: spec,
                                     series: [Series(workload: "micro-timer", variant: "virtio", metric: "ns_per_op", boots: flat)])
        let (status, text) = try Self.compare(base, cand)
        #expect(status == .inconclusive)
        #expect(status.rawValue == 6)
        #expect(text.contains("no-test"))
        #expect(!text.contains("| 0 |"))
    }

    @Test func helpSaysHowToGateInCI() throws {
        let help = CompareCommand.helpMessage()
        #expect(help.contains("test $? -ne 2"))
        #expect(help.contains("6   inconclusive"))
    }
}

extension Tag {
    @Tag static var simulation: Self
}
