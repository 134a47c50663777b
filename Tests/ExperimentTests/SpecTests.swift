// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote
import RVBenchCore

@Suite struct SpecParsingTests {
    static let minimal = """
        name: mini
        seed: 7
        host: lab
        variants:
          - {name: native, kind: native}
          - {name: virtio, kind: virtio}
        workloads: [x264-320]

        """

    @Test func deterministicFlagIsATypedOverrideThatTheManifestKeeps() throws {
        let spec = try ExperimentSpec.parse(yaml: Self.minimal, file: "m.yaml", catalogue: Fixtures.catalogue)
        let det = try spec.withDeterministicMode(catalogue: Fixtures.catalogue)
        #expect(det.host == .lab(LabOptions(qemu: .trixie, deterministic: true)))
        // The text stays as written; the override travels next to it, so resume and reproduce apply it again.
        #expect(det.source?.yaml == Self.minimal)
        #expect(det.overrides == SpecOverrides(deterministic: true))
        let record = SpecRecord(path: "m.yaml", yaml: det.source!.yaml, overrides: det.overrides)
        let decoded = try JSONDecoder().decode(SpecRecord.self, from: try JSONEncoder().encode(record))
        #expect(decoded.overrides.deterministic)
        let again = try ExperimentSpec.parse(yaml: decoded.yaml, file: "m.yaml", catalogue: Fixtures.catalogue)
            .applying(decoded.overrides)
        #expect(again.host == det.host && again.overrides == det.overrides)
        // A spec without overrides records none (manifests of plain runs are unchanged).
        let plain = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(SpecRecord(yaml: Self.minimal))) as? [String: Any]
        #expect(plain?["overrides"] == nil)
        let pinned = try ExperimentSpec.parse(yaml: Self.minimal + "qemu: debian12\n", file: "m.yaml", catalogue: Fixtures.catalogue)
        #expect(throws: RVBenchError.self) { try pinned.withDeterministicMode(catalogue: Fixtures.catalogue) }
        let off = try ExperimentSpec.parse(yaml: Self.minimal + "deterministic: false\n", file: "m.yaml", catalogue: Fixtures.catalogue)
        #expect(throws: RVBenchError.self) { try off.withDeterministicMode(catalogue: Fixtures.catalogue) }
    }

    func diagnostics(_ yaml: String, file: String = "analysis/x.yaml") -> [String] {
        switch ExperimentSpec.validate(yaml: yaml, file: file, catalogue: Fixtures.catalogue) {
        case .success: return []
        case .failure(let error): return error.diagnostics.map(\.description)
        }
    }

    @Test func minimalSpecGetsTheDocumentedDefaults() throws {
        let spec = try ExperimentSpec.parse(yaml: Self.minimal, file: "mini.yaml", catalogue: Fixtures.catalogue)
        #expect(spec.name == "mini")
        #expect(spec.seed == 7)
        #expect(spec.host == .lab(LabOptions(qemu: .debian12, deterministic: false)))
        #expect(spec.baseline.name == "native")
        #expect(spec.variants[1] == VariantSpec(name: "virtio", kind: .virtio, vcpus: 1, memoryMiB: 512,
                                                cpu: "host-passthrough", aia: .none, machine: "virt"))
        #expect(spec.workloads == [WorkloadSpec(name: "x264-320", kind: .video, metric: "fps", direction: .higherIsBetter)])
        #expect(spec.repetitions == RepetitionPolicy(minBoots: 5, maxBoots: 5, iterations: 5, warmup: 1,
                                                     targetCIHalfWidth: 0.02))
        #expect(!spec.repetitions.isAdaptive)
        #expect(spec.counters.isEmpty)
        #expect(spec.timeouts == Timeouts(bootSeconds: 300, workloadSeconds: 600, experimentSeconds: nil))
        #expect(spec.retries.boot == 1)
        #expect(spec.stats == StatsSettings(threshold: 0.01, alpha: 0.05, resamples: 10_000))
        #expect(spec.source?.path == "mini.yaml")
        #expect(spec.source?.sha256 == SHA256.hex(of: Self.minimal))
    }

    @Test func everyKeyIsRead() throws {
        let spec = try ExperimentSpec.parse(yaml: try Fixtures.text("full.yaml"), file: "full.yaml",
                                            catalogue: Fixtures.catalogue)
        #expect(spec.host == .remote(RemoteHost(uri: "qemu+ssh://root@board/system",
                                                ssh: SSHTarget(user: "root", host: "board", port: 2222),
                                                identity: "~/.ssh/id_ed25519")))
        // measure_counter_overhead adds an uncounted twin of every variant, after them.
        let names = ["native", "virtio", "vfio-nvme", "vfio-by-id", "vdpa-blk"]
        #expect(spec.variants.map(\.name) == names + names.map { $0 + "@no-counters" })
        #expect(spec.variants.map(\.counted) == Array(repeating: true, count: 5) + Array(repeating: false, count: 5))
        #expect(spec.variants[1].vcpus == 2 && spec.variants[1].memoryMiB == 1024 && spec.variants[1].aia == .aplicIMSIC)
        #expect(spec.variants[2].device == .address(PCIAddress(domain: 0, bus: 1, slot: 0, function: 0)!))
        #expect(spec.variants[5 + 2].countedName == "vfio-nvme")
        #expect(spec.variants[3].device == .id(vendor: "1af4", device: "1042", index: 1))
        #expect(spec.variants[4].kind == .vdpa)
        #expect(spec.baseline.name == "native")
        #expect(spec.workloads[0].params == ["resolution": .integer(160), "threads": .integer(1)])
        #expect(spec.workloads[0].metric == "wall_ns" && spec.workloads[0].direction == .lowerIsBetter)
        #expect(spec.workloads[1].params == ["preset": .string("ultrafast"), "frames": .integer(50)])
        // A metric named in the spec gets that metric's direction, not the kind's.
        #expect(spec.workloads[1].metric == "wall_ns" && spec.workloads[1].direction == .lowerIsBetter)
        #expect(spec.workloads[2] == WorkloadSpec(name: "dav1d-decode", kind: .video, metric: "fps",
                                                  direction: .higherIsBetter))
        #expect(spec.repetitions == RepetitionPolicy(minBoots: 3, maxBoots: 10, iterations: 4, warmup: 2,
                                                     targetCIHalfWidth: 0.03))
        #expect(spec.repetitions.isAdaptive)
        #expect(spec.counters == ["perf::CYCLES", "perf::INSTRUCTIONS"])
        #expect(spec.measureCounterOverhead)
        #expect(spec.timeouts == Timeouts(bootSeconds: 120, workloadSeconds: 60.5, experimentSeconds: 3600))
        #expect(spec.retries.boot == 2)
        #expect(spec.stats == StatsSettings(threshold: 0.02, alpha: 0.01, resamples: 2000))
    }

    @Test func theIssueExampleMessage() {
        let yaml = """
            name: x
            seed: 1
            host: lab
            variants: [{name: native, kind: native}, {name: virtio, kind: virtio}]
            workloads: [x264-320]
            repetitions:
                boots: three

            """
        #expect(diagnostics(yaml) == [#"analysis/x.yaml:7:12: expected an integer for repetitions.boots, found "three""#])
    }

    @Test func everyErrorIsCollectedInFileOrder() throws {
        let found = diagnostics(try Fixtures.text("many-errors.yaml"), file: "many-errors.yaml")
        let expected = [
            #"many-errors.yaml:1:7: expected a name of letters, digits, '.', '_' and '-' (starting with a letter or digit, at most 64 characters) for name, found "bad spec""#,
            #"many-errors.yaml:2:7: expected a non-negative integer for seed, found "-3""#,
            #"many-errors.yaml:4:7: unknown value "debian13" for qemu; expected one of debian12, trixie; did you mean "debian12"?"#,
            #"many-errors.yaml:8:5: vcpus does not apply to the native variant "native"; remove it"#,
            #"many-errors.yaml:10:11: unknown value "virtoi" for variants[1].kind; expected one of native, virtio, passthrough, vdpa; did you mean "virtio"?"#,
            #"many-errors.yaml:11:15: expected true or false for variants[1].baseline, found "yes""#,
            #"many-errors.yaml:12:11: duplicate variant name "virtio" (first at line 9); give each variant its own name"#,
            #"many-errors.yaml:15:11: unknown workload "x246-320" for workloads[0].name; did you mean "x264-320"? (the catalogue has: dav1d-decode, onnx-mobilenet, sbi-call, x264-320)"#,
            #"many-errors.yaml:17:14: unknown parameter "resolutoin" for workload "onnx-mobilenet" in workloads[1].params; did you mean "resolution"?"#,
            #"many-errors.yaml:19:10: expected an integer for repetitions.boots, found "three""#,
            #"many-errors.yaml:20:3: unknown key "iteratons" in repetitions; did you mean "iterations"?"#,
            #"many-errors.yaml:22:11: timeouts.boot_s must be greater than 0, found 0"#,
            #"many-errors.yaml:23:16: stats.alpha must be at most 0.5, found 2"#,
        ]
        #expect(found == expected)
    }

    @Test func theThrownErrorCarriesEveryDiagnostic() throws {
        #expect {
            try ExperimentSpec.parse(yaml: try Fixtures.text("many-errors.yaml"), file: "m.yaml",
                                     catalogue: Fixtures.catalogue)
        } throws: { error in
            guard let error = error as? RVBenchError, error.code == .badInput,
                  let cause = error.cause as? SpecValidationError else { return false }
            return cause.diagnostics.count == 13 && error.message.split(separator: "\n").count == 13
                && error.message.hasPrefix("m.yaml:1:7: ")
        }
    }

    @Test func missingKeysAreNamedAtTheMapping() {
        let found = diagnostics("""
            name: x
            variants:
              - name: a
            workloads: []

            """)
        #expect(found == [
            #"analysis/x.yaml:1:1: missing key "seed" at the top level"#,
            #"analysis/x.yaml:1:1: missing key "host" at the top level"#,
            #"analysis/x.yaml:3:5: missing key "kind" in variants[0]"#,
            #"analysis/x.yaml:4:12: workloads is empty; list at least one workload from the catalogue (dav1d-decode, onnx-mobilenet, sbi-call, x264-320)"#,
        ])
    }

    @Test func unknownTopLevelKeysSuggestOrList() {
        let found = diagnostics(Self.minimal + "seeed: 3\nfrobnicate: 1\n")
        #expect(found == [
            #"analysis/x.yaml:8:1: unknown key "seeed" at the top level; did you mean "seed"?"#,
            #"analysis/x.yaml:9:1: unknown key "frobnicate" at the top level; expected one of name, seed, host, qemu, deterministic, variants, workloads, repetitions, counters, measure_counter_overhead, timeouts, retries, stats"#,
        ])
    }

    @Test func duplicateKeysAreErrors() {
        let found = diagnostics(Self.minimal + "repetitions:\n  boots: 2\n  boots: 3\n")
        #expect(found == [#"analysis/x.yaml:10:3: duplicate key "boots" in repetitions (first at line 9)"#])
    }

    @Test func exactlyOneBaseline() {
        let two = """
            name: x
            seed: 1
            host: lab
            variants:
              - {name: a, kind: virtio, baseline: true}
              - {name: b, kind: virtio, baseline: true}
            workloads: [sbi-call]

            """
        #expect(diagnostics(two) == [
            #"analysis/x.yaml:6:39: more than one baseline ("a", "b"); mark exactly one variant baseline: true"#,
        ])
        let none = two.replacingOccurrences(of: ", baseline: true", with: "")
        #expect(diagnostics(none) == [
            "analysis/x.yaml:5:3: no baseline variant and there is no native variant to default to; "
                + "mark one variant baseline: true",
        ])
        let explicit = two.replacingOccurrences(of: "{name: a, kind: virtio, baseline: true}", with: "{name: a, kind: native}")
        let spec = try? ExperimentSpec.parse(yaml: explicit, file: "x", catalogue: Fixtures.catalogue)
        #expect(spec?.baseline.name == "b")
        #expect(spec?.variants.filter(\.baseline).count == 1)
    }

    @Test func duplicateWorkloadsAndCounters() {
        let yaml = Self.minimal.replacingOccurrences(of: "workloads: [x264-320]", with: "workloads: [x264-320, x264-320]")
            + "counters: [perf::CYCLES, perf::CYCLES]\n"
        #expect(diagnostics(yaml) == [
            #"analysis/x.yaml:7:23: duplicate workload "x264-320" (first at line 7); list each workload once"#,
            #"analysis/x.yaml:8:26: duplicate counter "perf::CYCLES"; list each event once"#,
        ])
    }

    /// A spec with the native baseline and one more variant, written on line 6 as `variant`.
    static func withSecondVariant(_ variant: String) -> String {
        """
        name: x
        seed: 1
        host: lab
        variants:
          - {name: native, kind: native}
          - \(variant)
        workloads: [sbi-call]

        """
    }

    @Test func passthroughDevices() {
        let base = Self.withSecondVariant("{name: p, kind: passthrough, device: DEVICE}")
        func spec(_ device: String) -> [String] { diagnostics(base.replacingOccurrences(of: "DEVICE", with: device)) }
        #expect(spec("0000:01:00.0").isEmpty)
        #expect(spec("{vendor: 1af4, device: \"1042\"}").isEmpty)
        #expect(spec("0000:01:20.0") == [
            #"analysis/x.yaml:6:42: expected a PCI address such as 0000:01:00.0, or {vendor, device, index}, for variants[1].device, found "0000:01:20.0""#,
        ])
        #expect(spec("{vendor: 1af4, device: 0x1042, index: -1}") == [
            #"analysis/x.yaml:6:65: expected 4 hex digits such as 1af4 for variants[1].device.device, found "0x1042""#,
            #"analysis/x.yaml:6:80: variants[1].device.index must be at least 0, found -1"#,
        ])
        let missing = base.replacingOccurrences(of: ", device: DEVICE", with: "")
        #expect(diagnostics(missing) == [
            #"analysis/x.yaml:6:5: missing key "device" in variants[1]; a passthrough variant needs the PCI device to assign, e.g. device: 0000:01:00.0"#,
        ])
        let onVirtio = base.replacingOccurrences(of: "kind: passthrough, device: DEVICE", with: "kind: virtio, device: 0000:01:00.0")
        #expect(diagnostics(onVirtio) == [
            #"analysis/x.yaml:6:29: device applies only to passthrough variants; remove it from "p""#,
        ])
    }

    /// `vdpa_source` picks a vdpa variant's vDPA device: the simulator by default, or a vp_vdpa PCI device.
    @Test func vdpaSourceAppliesOnlyToVdpaVariants() throws {
        let base = Self.withSecondVariant("{name: v, kind: KIND}")
        func parse(_ kind: String) throws -> ExperimentSpec {
            try ExperimentSpec.parse(yaml: base.replacingOccurrences(of: "KIND", with: kind), file: "x.yaml",
                                     catalogue: Fixtures.catalogue)
        }
        #expect(try parse("vdpa").variants[1].vdpaSource == .simulator)
        #expect(try parse("vdpa, vdpa_source: pci").variants[1].vdpaSource == .pci)
        #expect(diagnostics(base.replacingOccurrences(of: "KIND", with: "vdpa, vdpa_source: vp")) == [
            #"analysis/x.yaml:6:40: unknown value "vp" for variants[1].vdpa_source; expected one of simulator, pci"#,
        ])
        #expect(diagnostics(base.replacingOccurrences(of: "KIND", with: "virtio, vdpa_source: pci")) == [
            #"analysis/x.yaml:6:29: vdpa_source applies only to vdpa variants; remove it from "v""#,
        ])
    }

    @Test func remoteHosts() {
        func host(_ text: String, extra: String = "") -> [String] {
            diagnostics(Self.minimal.replacingOccurrences(of: "host: lab", with: "host: \(text)") + extra)
        }
        #expect(host("{uri: \"qemu+ssh://root@board/system\", ssh: \"root@board\"}").isEmpty)
        #expect(host("{uri: \"qemu+ssh://root@board/system\"}") == [
            #"analysis/x.yaml:3:7: host.ssh is needed to run the native variant "native" on a remote host; add ssh: user@board:22"#,
        ])
        #expect(host("{uri: board, ssh: \"root@board:99999\"}") == [
            #"analysis/x.yaml:3:13: expected a libvirt URI such as qemu+ssh://root@board/system for host.uri, found "board""#,
            #"analysis/x.yaml:3:25: expected [user@]host[:port] such as root@board:22 for host.ssh, found "root@board:99999""#,
        ])
        #expect(host("{uri: \"qemu:///system\", ssh: root@localhost}", extra: "deterministic: true\n") == [
            "analysis/x.yaml:8:1: deterministic applies only to host: lab; remove it for a remote host",
        ])
        #expect(host("labb") == [#"analysis/x.yaml:3:7: expected lab or a mapping with uri and ssh for host, found "labb"; did you mean "lab"?"#])
    }

    @Test func labOptions() throws {
        let spec = try ExperimentSpec.parse(yaml: Self.minimal + "qemu: trixie\ndeterministic: true\n", file: "x",
                                            catalogue: Fixtures.catalogue)
        #expect(spec.host == .lab(LabOptions(qemu: .trixie, deterministic: true)))
    }

    @Test func repetitionRules() throws {
        func reps(_ text: String) -> Result<ExperimentSpec, SpecValidationError> {
            ExperimentSpec.validate(yaml: Self.minimal + "repetitions: \(text)\n", file: "x", catalogue: Fixtures.catalogue)
        }
        #expect(try reps("{boots: 3}").get().repetitions.maxBoots == 3)
        #expect(try reps("{min_boots: 2, max_boots: 8}").get().repetitions == RepetitionPolicy(minBoots: 2, maxBoots: 8))
        #expect(throws: SpecValidationError.self) { try reps("{boots: 3, min_boots: 2}").get() }
        let tooFew = reps("{boots: 4, max_boots: 2}")
        if case .failure(let error) = tooFew {
            #expect(error.diagnostics.map(\.message) == ["repetitions.max_boots must be at least 4 (the minimum boots), found 2"])
        } else {
            Issue.record("max_boots below boots was accepted")
        }
        #expect(throws: SpecValidationError.self) { try reps("{target_ci_half_width: 0}").get() }
        #expect(throws: SpecValidationError.self) { try reps("{warmup: -1}").get() }
    }

    @Test func countersAndTheirOverhead() throws {
        let none = try ExperimentSpec.parse(yaml: Self.minimal + "counters: none\n", file: "x", catalogue: Fixtures.catalogue)
        #expect(none.counters.isEmpty)
        #expect(diagnostics(Self.minimal + "counters: cycles\n") == [
            #"analysis/x.yaml:8:11: expected a list of event names or none for counters, found "cycles""#,
        ])
        #expect(diagnostics(Self.minimal + "measure_counter_overhead: true\n") == [
            "analysis/x.yaml:8:27: measure_counter_overhead needs counters; list the events under counters or set it to false",
        ])
    }

    @Test func yamlSyntaxErrorsHavePositions() throws {
        let found = diagnostics(try Fixtures.text("syntax-error.yaml"), file: "s.yaml")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("s.yaml:6:4: invalid YAML: ") == true)
        #expect(diagnostics("", file: "e.yaml") == [
            "e.yaml:1:1: the spec is empty; expected a mapping with name, seed, host, variants and workloads",
        ])
        #expect(diagnostics("- a\n- b\n", file: "l.yaml") == [
            #"l.yaml:1:1: expected a mapping with name, seed, host, variants and workloads for the spec, found a list"#,
        ])
        #expect(diagnostics("a: [1, 2\n", file: "u.yaml").first?.hasPrefix("u.yaml:2:1: invalid YAML: ") == true)
    }

    @Test func workloadShapes() throws {
        let yaml = Self.minimal.replacingOccurrences(
            of: "workloads: [x264-320]",
            with: "workloads:\n  - {name: sbi-call, params: {n: 1000}}\n  - {name: onnx-mobilenet, metric: tokens_per_s}")
        // The direction of a metric comes from the manifest's metric_kinds, never from the metric's name.
        var described = Fixtures.catalogue
        let onnx = try #require(described.entries.firstIndex { $0.name == "onnx-mobilenet" })
        described.entries[onnx].metricKinds["tokens_per_s"] = .init(kind: .secondary, unit: "tokens/s",
                                                                    direction: .higherIsBetter)
        let spec = try ExperimentSpec.parse(yaml: yaml, file: "x", catalogue: described)
        #expect(spec.workloads[0].metric == "ns_per_op" && spec.workloads[0].direction == .lowerIsBetter)
        #expect(spec.workloads[0].params == ["n": .integer(1000)]) // the manifest lists no parameters: any is accepted
        #expect(spec.workloads[1].metric == "tokens_per_s" && spec.workloads[1].direction == .higherIsBetter)
        #expect(spec.workloads[1].metricKinds["tokens_per_s"]?.unit == "tokens/s")
        // A metric the manifest says nothing of is lower-is-better unless the spec gives its direction.
        let undescribed = try ExperimentSpec.parse(yaml: yaml, file: "x", catalogue: Fixtures.catalogue)
        #expect(undescribed.workloads[1].direction == .lowerIsBetter)
        let given = try ExperimentSpec.parse(
            yaml: yaml.replacingOccurrences(of: "metric: tokens_per_s", with: "metric: tokens_per_s, direction: higher-is-better"),
            file: "x", catalogue: Fixtures.catalogue)
        #expect(given.workloads[1].direction == .higherIsBetter)
        let direction = yaml.replacingOccurrences(of: "metric: tokens_per_s", with: "direction: up")
        #expect(diagnostics(direction) == [
            #"analysis/x.yaml:9:39: unknown value "up" for workloads[1].direction; expected one of lower-is-better, higher-is-better"#,
        ])
    }
}

@Suite struct SuggestionTests {
    @Test(arguments: [
        ("iteratons", "iterations", 1), ("boots", "boots", 0), ("bots", "boots", 1), ("tiemouts", "timeouts", 1),
        ("ab", "ba", 1), ("kitten", "sitting", 3), ("", "abc", 3), ("Seed", "seed", 0),
    ])
    func distance(_ a: String, _ b: String, _ expected: Int) {
        #expect(Suggestion.distance(a, b) == expected)
    }

    @Test func closestStaysClose() {
        #expect(Suggestion.closest(to: "iteratons", among: ["boots", "iterations", "warmup"]) == "iterations")
        #expect(Suggestion.closest(to: "zzz", among: ["boots", "iterations"]) == nil)
        #expect(Suggestion.closest(to: "virtoi", among: VariantKind.allCases.map(\.rawValue)) == "virtio")
    }
}

@Suite struct SpecSSHTargetTests {
    /// host.ssh is read with Remote's one SSHTarget parser: the user defaults to root.
    @Test func parses() {
        #expect(SSHTarget(string: "root@board:22") == SSHTarget(user: "root", host: "board", port: 22))
        #expect(SSHTarget(string: "board") == SSHTarget(user: "root", host: "board", port: 22))
        #expect(SSHTarget(string: "me@[::1]:2222") == SSHTarget(user: "me", host: "::1", port: 2222))
        #expect(SSHTarget(string: "me@[::1]:2222")?.description == "me@[::1]:2222")
        for bad in ["", "@board", "board:0", "board:x", "a b", "root@board:70000"] {
            #expect(SSHTarget(string: bad) == nil, "\(bad) was accepted")
        }
    }
}

@Suite struct CatalogueTests {
    @Test func readsManifests() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for (folder, json) in [
            ("x264", #"{"name": "x264-320", "kind": "video", "params": {"frames": 50, "preset": "ultrafast"}}"#),
            ("tiny", #"{"kind": "ai", "metric": "tokens_per_s", "direction": "higher-is-better", "parameters": [{"name": "tokens"}]}"#),
        ] {
            try fm.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
            try Data(json.utf8).write(to: dir.appendingPathComponent(folder).appendingPathComponent("workload.json"))
        }
        try fm.createDirectory(at: dir.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        let catalogue = try WorkloadCatalogue.load(from: dir)
        #expect(catalogue.names == ["tiny", "x264-320"])
        var x264 = WorkloadCatalogue.Entry(name: "x264-320", kind: .video, parameters: ["frames", "preset"],
                                           parameterTypes: ["frames": .integer, "preset": .string])
        x264.parameterDefaults = ["frames": "50", "preset": "ultrafast"]
        #expect(catalogue.entry(named: "x264-320") == x264)
        #expect(catalogue.entry(named: "tiny") == .init(name: "tiny", kind: .ai, metric: "tokens_per_s",
                                                        direction: .higherIsBetter, parameters: ["tokens"]))
        try Data(#"{"kind": "gpu"}"#.utf8).write(to: dir.appendingPathComponent("tiny").appendingPathComponent("workload.json"))
        #expect { try WorkloadCatalogue.load(from: dir) } throws: { error in
            (error as? RVBenchError)?.message == "tiny/workload.json has kind \"gpu\"; expected one of ai, video, micro, io"
        }
    }

    @Test func manifestTypesAndMetricsAreChecked() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("x264"), withIntermediateDirectories: true)
        try Data(#"{"name": "x264-320", "kind": "video", "parameters": {"size": "320x240", "frames": 24, "crf": 23.5, "fast": false}, "metrics": ["fps", "frames"]}"#.utf8)
            .write(to: dir.appendingPathComponent("x264/workload.json"))
        let catalogue = try WorkloadCatalogue.load(from: dir)
        let entry = try #require(catalogue.entry(named: "x264-320"))
        #expect(entry.parameterTypes == ["size": .string, "frames": .integer, "crf": .number, "fast": .bool])
        #expect(entry.defaultMetric == "fps" && entry.knownMetrics == ["fps", "frames", "wall_ns", "user_ns", "sys_ns"])
        let base = SpecParsingTests.minimal.replacingOccurrences(of: "workloads: [x264-320]", with: "workloads:\n  - name: x264-320\n    PLACE")
        func check(_ text: String) -> Result<ExperimentSpec, SpecValidationError> {
            ExperimentSpec.validate(yaml: base.replacingOccurrences(of: "PLACE", with: text), file: "t.yaml", catalogue: catalogue)
        }
        #expect(entry.parameterDefaults == ["size": "320x240", "frames": "24", "crf": "23.5", "fast": "false"])
        // The built values may be repeated (in any spelling of the same value)...
        let good = try check("params: {size: 320x240, frames: 24, crf: 23.50, fast: false}").get()
        #expect(good.workloads[0].params == ["size": .string("320x240"), "frames": .integer(24), "crf": .number(23.5),
                                             "fast": .bool(false)])
        // ...but not changed: the workload disk and its expected outputs were built with them.
        guard case .failure(let changed) = check("params: {size: 640x360, frames: 12}") else {
            Issue.record("a parameter other than the built one was accepted")
            return
        }
        #expect(changed.diagnostics.map(\.description) == [
            "t.yaml:9:14: workloads[0].params.size is 640x360, but workloads run with the parameters they were built with "
                + "(size: 320x240); change it in workloads/x264-320/workload.json and rebuild the lab, or drop it from the spec",
            "t.yaml:9:29: workloads[0].params.frames is 12, but workloads run with the parameters they were built with "
                + "(frames: 24); change it in workloads/x264-320/workload.json and rebuild the lab, or drop it from the spec",
        ])
        #expect(try check("metric: wall_ns").get().workloads[0].direction == .lowerIsBetter)
        guard case .failure(let bad) = check("params: {frames: many, crf: x, fast: 1}") else {
            Issue.record("bad parameter types were accepted")
            return
        }
        #expect(bad.diagnostics.map(\.message) == [
            #"expected an integer (like the manifest's default) for workloads[0].params.frames, found "many""#,
            #"expected a number (like the manifest's default) for workloads[0].params.crf, found "x""#,
            #"expected true or false for workloads[0].params.fast, found "1""#,
        ])
        guard case .failure(let metric) = check("metric: fsp") else {
            Issue.record("an unknown metric was accepted")
            return
        }
        #expect(metric.diagnostics.map(\.description) == [
            #"t.yaml:9:13: unknown metric "fsp" for workloads[0].metric; did you mean "fps"? (x264-320 reports fps, frames, wall_ns, user_ns, sys_ns)"#,
        ])
    }

    /// The example specs in analysis/ must stay valid: against the real catalogue once workloads/ has
    /// manifests, else against the names the examples are written for.
    @Test(arguments: ["quickstart.yaml", "regression-check.yaml", "passthrough.yaml"])
    func exampleSpecsAreValid(_ name: String) throws {
        let real = (try? WorkloadCatalogue.load(from: Fixtures.repository.appendingPathComponent("workloads")))
        let catalogue = (real?.entries.isEmpty ?? true) ? Fixtures.catalogue : real!
        let url = Fixtures.repository.appendingPathComponent("analysis").appendingPathComponent(name)
        let spec = try ExperimentSpec.load(from: url, displayPath: "analysis/\(name)", catalogue: catalogue)
        #expect(spec.variants.filter(\.baseline).count == 1)
        if name == "quickstart.yaml" {
            #expect(spec.host.isLab)
            #expect(Set(spec.variants.map(\.kind)) == [.native, .virtio])
            #expect(Set(spec.workloads.map(\.kind)) == [.ai, .video])
            #expect(spec.repetitions.minBoots * spec.repetitions.iterations <= 6)
        }
    }
}
