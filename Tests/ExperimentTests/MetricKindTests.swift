// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Experiment
import GuestWire
import Lab
import RVBenchCore
import Stats
import Testing

/// Metric kinds, units and units of work come from the workload manifests, through the catalogue.
@Suite struct MetricKindTests {
    static func catalogue() throws -> WorkloadCatalogue {
        try WorkloadCatalogue.load(from: try SourceTree.locate().appendingPathComponent("workloads"))
    }

    @Test func everyManifestDescribesItsPrimaryMetricAndItsWork() throws {
        let catalogue = try Self.catalogue()
        #expect(catalogue.entries.count >= 12)
        for entry in catalogue.entries {
            let primary = try #require(entry.metricKinds[entry.defaultMetric], "\(entry.name) has no metric_kinds for its metric")
            #expect(primary.kind == .primary, "\(entry.name)")
            #expect(!primary.unit.isEmpty, "\(entry.name)")
            let work = try #require(entry.work, "\(entry.name) has no work")
            #expect(entry.metricKinds[work.metric]?.kind == .verification, "\(entry.name)")
        }
        let x264 = try #require(catalogue.entry(named: "x264-320"))
        #expect(x264.metricKinds["frames"]?.kind == .verification)
        #expect(x264.metricKinds["fps"]?.description != x264.metricKinds["codec_fps"]?.description)
        let onnx = try #require(catalogue.entry(named: "onnx-mobilenet"))
        #expect(onnx.metricKinds["logits_sum"]?.kind == .verification)
        #expect(onnx.work == WorkUnit(metric: "inferences", unit: "inference"))
    }

    /// The I/O workloads: fio's figures with their units, the reads as the unit of work, and the data disk.
    @Test func theIOWorkloadsDescribeFiosFiguresAndReadTheDataDisk() throws {
        let catalogue = try Self.catalogue()
        let randread = try #require(catalogue.entry(named: "fio-randread"))
        #expect(randread.kind == .io && randread.readsDataDisk)
        #expect(randread.defaultMetric == "iops" && randread.direction == .higherIsBetter)
        #expect(randread.metricKinds["iops"] == WorkloadCatalogue.MetricDescription(
            kind: .primary, unit: "IO/s", direction: .higherIsBetter,
            description: "reads per second, from fio's JSON (jobs[0].read.iops)"))
        for latency in ["clat_mean_ns", "clat_p99_ns"] {
            #expect(randread.metricKinds[latency]?.kind == .secondary && randread.metricKinds[latency]?.unit == "ns")
            #expect(randread.metricKinds[latency]?.direction == .lowerIsBetter)
        }
        #expect(randread.work == WorkUnit(metric: "data_mb", unit: "MB"))
        let seqread = try #require(catalogue.entry(named: "fio-seqread"))
        #expect(seqread.defaultMetric == "bw_mib_s" && seqread.metricKinds["bw_mib_s"]?.unit == "MiB/s")
        #expect(catalogue.entries.filter(\.readsDataDisk).map(\.name) == ["fio-randread", "fio-seqread"])

        let spec = try ExperimentSpec.parse(yaml: """
            name: io
            seed: 1
            host: lab
            variants: [{name: native, kind: native}, {name: virtio, kind: virtio}]
            workloads: [{name: fio-randread}, {name: micro-timer}]
            """, file: "io.yaml", catalogue: catalogue)
        #expect(spec.workloads.map(\.readsDataDisk) == [true, false])
    }

    @Test func aDataDiskOtherThanTheLabsIsRejected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-io-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("io-x"), withIntermediateDirectories: true)
        try Data(#"{"name": "io-x", "kind": "io", "data_disk": {"bytes": 4096, "pattern": "rvbench-data-v1"}}"#.utf8)
            .write(to: dir.appendingPathComponent("io-x/workload.json"))
        let error = try #require(throws: RVBenchError.self) { _ = try WorkloadCatalogue.load(from: dir) }
        #expect(error.message.contains("\"data_disk\" must be {\"bytes\": 67108864"))
    }

    @Test func theSpecsMetricIsPrimaryAndTheManifestsOtherPrimaryIsSecondary() throws {
        let catalogue = try Self.catalogue()
        let yaml = """
            name: kinds
            seed: 1
            host: lab
            variants:
              - {name: native, kind: native, baseline: true}
              - {name: virtio, kind: virtio}
            workloads:
              - name: x264-320
                metric: fps
            """
        let spec = try ExperimentSpec.parse(yaml: yaml, file: "kinds.yaml", catalogue: catalogue)
        let info = spec.metricInfo(catalogue: catalogue)
        #expect(info[MetricKey(workload: "x264-320", metric: "fps")]?.kind == .primary)
        #expect(info[MetricKey(workload: "x264-320", metric: "codec_fps")]?.kind == .secondary)
        #expect(info[MetricKey(workload: "x264-320", metric: "frames")]?.unit == "frames")
        #expect(info[MetricKey(workload: "x264-320", metric: "wall_ns")]?.kind == .secondary)
        #expect(spec.workUnits(catalogue: catalogue)["x264-320"]?.unit == "frame")
    }

    /// The guest runner's wire gives no unit for a workload's own metrics: the run loop takes it from the
    /// manifest, and keeps the units the producer defines (times, counters).
    @Test func samplesTakeTheirUnitsFromTheManifest() async throws {
        let entry = try #require(try Self.catalogue().entry(named: "micro-timer"))
        let spec = ExperimentSpec(
            name: "units", seed: 1, host: .lab(LabOptions()),
            variants: [VariantSpec(name: "native", kind: .native, baseline: true)],
            workloads: [WorkloadSpec(name: "micro-timer", kind: .micro, metric: "ns_per_op", direction: .lowerIsBetter,
                                     metricKinds: entry.metricKinds)],
            repetitions: RepetitionPolicy(minBoots: 1, iterations: 1, warmup: 0))
        func sample(_ metric: String, unit: String?) -> BootEvent {
            .sample(BootSample(workload: "micro-timer", iteration: 0, metric: metric, value: 3, unit: unit))
        }
        let events: [BootEvent] = [
            .booted, sample("ns_per_op", unit: nil), sample("ops", unit: nil), sample("wall_ns", unit: "ns"),
            sample("not_in_the_manifest", unit: nil),
            .sample(BootSample(workload: "micro-timer", iteration: 0, metric: .counter(.guest, "cycles"), value: 9)),
        ]
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = try await ExperimentRunner(spec: spec, directory: dir,
                                                 executor: FakeExecutor(recorder: Recorder()) { _, _ in .events(events) }).run()
        let units = Dictionary(uniqueKeysWithValues: summary.samples.map { ($0.metric, $0.unit) })
        #expect(units == ["ns_per_op": "ns", "ops": "operations", "wall_ns": "ns", "not_in_the_manifest": "",
                          "guest.cycles": "events"])
        #expect(summary.samples.first { $0.metric == "guest.cycles" }?.kind == .counter)
    }

    @Test func aManifestWithABadKindIsRejectedWithItsName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-kinds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("w"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"name": "w", "kind": "micro", "metric_kinds": {"ns_per_op": {"kind": "headline"}}}"#.utf8)
            .write(to: dir.appendingPathComponent("w/workload.json"))
        #expect { try WorkloadCatalogue.load(from: dir) } throws: { error in
            (error as? RVBenchError)?.message.contains("w/workload.json: metric_kinds.ns_per_op needs a \"kind\"") == true
        }
    }

    @Test func theStoppingPolicyLooksAtTheRatioAgainstTheBaseline() async throws {
        let spec = Fixtures.spec(boots: 2, maxBoots: 10)
        func samples(_ variant: String, _ means: [Double]) -> [Sample] {
            means.enumerated().map { boot, mean in
                Sample(experiment: "unit", variant: variant, workload: "onnx-mobilenet", boot: boot, iteration: 0,
                       metric: "wall_ns", value: mean, unit: "ns", timestamp: 0)
            }
        }
        let policy = StoppingRulePolicy(spec: spec)
        #expect(policy.rule.minimum == 5, "an adaptive run never stops before 5 boots")
        // Each mean is tight but the two are offset: the ratio's interval decides, and it is narrow.
        let narrow = StoppingQuery(spec: spec, roundsCompleted: 5,
                                   samples: samples("native", [100, 100.2, 99.8, 100.1, 99.9])
                                       + samples("virtio", [110, 110.2, 109.8, 110.1, 109.9]),
                                   variants: ["native", "virtio"])
        let stop = await policy.decide(narrow)
        #expect(stop.shouldStop && stop.reason.contains("ratio CI half-width"))
        let wide = StoppingQuery(spec: spec, roundsCompleted: 5,
                                 samples: samples("native", [100, 100.2, 99.8, 100.1, 99.9])
                                     + samples("virtio", [100, 130, 90, 120, 95]),
                                 variants: ["native", "virtio"])
        let go = await policy.decide(wide)
        #expect(!go.shouldStop && go.reason.hasPrefix("virtio/native onnx-mobilenet"))
    }
}
