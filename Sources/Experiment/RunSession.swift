// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import Host
import Logging
import Report
import RVBenchCore
import Stats

/// What `rvbench run`, `resume` and `reproduce` produce.
public struct RunOutcome: Sendable {
    public var directory: URL
    public var summary: RunSummary
    public var results: ResultsDocument
    /// Report files written, by format.
    public var reports: [ReportFormat: URL]
    /// Each workload's primary metric, from the spec.
    public var primaryMetrics: [String: String] = [:]

    /// The exit status a CLI should return: run failed when nothing was measured.
    public var exitStatus: ExitStatus {
        Self.exitStatus(anyDescriptive: results.workloads.contains { w in w.variants.contains { $0.descriptive != nil } },
                        samples: summary.samples)
    }

    /// Success when a variant has statistics or any workload gave a finite value: a run of one boot and one
    /// iteration per variant (no statistics from a single value) measured something. Boot-level counters
    /// alone are not a measurement of a workload.
    static func exitStatus(anyDescriptive: Bool, samples: [Sample]) -> ExitStatus {
        anyDescriptive || samples.contains { $0.workload != BootSample.bootLabel && $0.value.isFinite } ? .success : .runFailed
    }
}

/// Ties a spec to the executor, the run loop, the journal, the statistics and the reports.
public enum RunSession {
    /// The sentence every report from an emulated host carries on its first page.
    public static let emulatedNotice = "emulated RISC-V host (QEMU TCG): timings show relative behaviour, not silicon speed"

    /// What every report of a deterministic-mode run says.
    public static let deterministicNotice = "deterministic mode: L0 ran with -icount shift=0,sleep=off, so guest time "
        + "counts instructions executed. Memory-system costs (TLB misses, two-stage page walks, cache behaviour) cost "
        + "no guest instructions and vanish: these results show instruction-path overhead, not memory-system overhead."

    /// `results/<UTC timestamp>-<name>/`.
    public static func newDirectory(base: URL, name: String, now: Date = Date()) -> URL {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(64))
        return base.appendingPathComponent("\(f.string(from: now))-\(safe)", isDirectory: true)
    }

    /// The workload catalogue of the source tree.
    public static func catalogue() throws -> WorkloadCatalogue {
        try WorkloadCatalogue.load(from: try SourceTree.locate().appendingPathComponent("workloads", isDirectory: true))
    }

    /// Starts a new experiment from a spec file.
    public static func run(spec: ExperimentSpec, directory: URL, progress: any ProgressSink, logger: Logger,
                           commandLine: [String], labProgress: @escaping @Sendable (String) -> Void,
                           faults: FaultPlan = FaultPlan()) async throws -> RunOutcome {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeManifest(spec: spec, directory: directory, host: nil, commandLine: commandLine)
        let host = HostExecutor(logger: logger, labProgress: labProgress, faults: faults)
        return try await run(spec: spec, directory: directory, executor: HostBackedExecutor(host: host), progress: progress,
                             logger: logger, commandLine: commandLine)
    }

    /// Starts a new experiment on any executor (a fake host in tests); writes the manifest, the journal,
    /// the samples and every report.
    public static func run(spec: ExperimentSpec, directory: URL, executor: some ManifestedExecutor, progress: any ProgressSink,
                           logger: Logger, commandLine: [String]) async throws -> RunOutcome {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let runner = ExperimentRunner(spec: spec, directory: directory, executor: executor, progress: progress, logger: logger)
        let summary = try await runner.run()
        try writeManifest(spec: spec, directory: directory, host: executor.manifestHost, commandLine: commandLine)
        return try finalize(spec: spec, directory: directory, summary: summary, emulated: spec.host.isLab)
    }

    /// Continues an interrupted experiment: its spec comes from the directory's manifest.
    public static func resume(directory: URL, progress: any ProgressSink, logger: Logger, commandLine: [String],
                              labProgress: @escaping @Sendable (String) -> Void) async throws -> RunOutcome {
        let spec = try specOfRun(directory)
        let executor = HostBackedExecutor(host: HostExecutor(logger: logger, labProgress: labProgress))
        let runner = ExperimentRunner(spec: spec, directory: directory, executor: executor, progress: progress, logger: logger)
        let summary = try await runner.resume()
        if let host = executor.manifestHost {
            try writeManifest(spec: spec, directory: directory, host: host, commandLine: commandLine)
        }
        return try finalize(spec: spec, directory: directory, summary: summary, emulated: spec.host.isLab)
    }

    /// The spec recorded in a results directory's manifest, validated again.
    public static func specOfRun(_ directory: URL) throws -> ExperimentSpec {
        let dir = ResultsDirectory(url: directory)
        try dir.checkExists()
        let manifest = try dir.readManifest()
        return try ExperimentSpec.parse(yaml: manifest.spec.yaml, file: manifest.spec.path ?? "manifest.json:spec",
                                        catalogue: try catalogue())
            .applying(manifest.spec.overrides)
    }

    /// Analyses the journal, writes `results.json` and every report format.
    public static func finalize(spec: ExperimentSpec, directory: URL, summary: RunSummary, emulated: Bool) throws -> RunOutcome {
        let dir = ResultsDirectory(url: directory)
        var notRun: [String: String] = [:]
        for record in summary.notRun { notRun[record.variant] = record.reason }
        let options = CompareOptions(threshold: spec.stats.threshold, alpha: spec.stats.alpha,
                                     resamples: spec.stats.resamples, seed: spec.seed)
        let known = try? catalogue()
        let workloads = try Statistics.analyze(samples: summary.samples, baseline: spec.baseline.name,
                                               metrics: spec.metricInfo(catalogue: known),
                                               twins: spec.uncountedTwins, notRun: notRun, options: options,
                                               bootCosts: measuredBootCosts(directory: directory, samples: summary.samples),
                                               work: spec.workUnits(catalogue: known), bootLabel: BootSample.bootLabel)
        var notes: [String] = []
        var hostKind = emulated ? "emulated RISC-V host (QEMU TCG)" : "riscv64 host"
        if case .lab(let options) = spec.host, options.deterministic {
            hostKind += ", deterministic mode (-icount shift=0,sleep=off)"
            notes.append(deterministicNotice)
        }
        notes += counterOverheadNotes(spec: spec, samples: summary.samples, options: options)
        notes += passthroughNotes((try? dir.readManifest())?.plans ?? [:])
        let results = ResultsDocument(
            experiment: spec.name,
            hostKind: hostKind,
            emulated: emulated,
            createdAt: ISO8601Time.string(fromEpochSeconds: Date().timeIntervalSince1970),
            workloads: attachFailures(workloads, summary: summary),
            notes: notes,
            unavailable: try HostCounters.readUnavailable(in: directory))
        try dir.writeResults(results)
        let input = try ReportInput.load(from: dir)
        let formats: [ReportFormat] = [.md, .html, .csv, .junit]
        let urls = try Report.writeAll(input, to: dir, formats: formats)
        var written = Dictionary(uniqueKeysWithValues: zip(formats, urls))
        written[.json] = dir.resultsURL
        var outcome = RunOutcome(directory: directory, summary: summary, results: results, reports: written)
        outcome.primaryMetrics = Dictionary(spec.workloads.map { ($0.name, $0.metric) }, uniquingKeysWith: { a, _ in a })
        return outcome
    }

    /// What counting cost, per counted variant and workload: the primary metric of the variant against its
    /// uncounted twin (`measure_counter_overhead`), as a boot-level ratio with its interval and verdict.
    static func counterOverheadNotes(spec: ExperimentSpec, samples: [Sample], options: CompareOptions) -> [String] {
        var notes: [String] = []
        for twin in spec.variants {
            guard let counted = twin.countedName else { continue }
            for w in spec.workloads {
                func boots(_ variant: String) -> [[Double]] {
                    Statistics.groupByBoot(samples.filter { $0.variant == variant && $0.workload == w.name && $0.metric == w.metric }
                        .map { ($0.boot, $0.value) })
                }
                let without = boots(twin.name), with = boots(counted)
                let pair = SeriesPair(workload: w.name, metric: MetricID(name: w.metric, kind: .primary, unit: ""),
                                      direction: w.direction, baselineName: twin.name, candidateName: counted,
                                      baseline: without, candidate: with, family: .twin)
                guard let outcome = try? Statistics.compareSeries([pair], options: options).first,
                      let c = outcome.comparison, let bl = c.bootLevel
                else {
                    notes.append("counter overhead of \(counted) on \(w.name): not enough boots to compare "
                        + "(\(with.count) counted, \(without.count) uncounted)")
                    continue
                }
                func f(_ x: Double) -> String { String(format: "%.4f", x) }
                notes.append("counter overhead (measured) of \(counted) on \(w.name), \(w.metric): counted/uncounted = "
                    + "\(f(bl.ratio)) (\(Int((bl.ci.level * 100).rounded()))% CI \(f(bl.ci.low)) to \(f(bl.ci.high)) on boot means, "
                    + "\(c.verdict.rawValue); \(with.count) vs \(without.count) boots)")
            }
        }
        return notes
    }

    /// Seconds each variant's boot costs beyond its measured iterations: the mean over boots of the time
    /// from `boot-start` to `boot-end` in journal.jsonl minus the `wall_ns` of the boot's samples. Empty
    /// when the journal has no complete boots.
    static func measuredBootCosts(directory: URL, samples: [Sample]) -> [String: Double] {
        guard let entries = try? Journal.replay(directory).entries else { return [:] }
        var start: [BootKey: Double] = [:], spans: [BootKey: Double] = [:]
        for entry in entries {
            switch entry.event {
            case .bootStart(let boot):
                start[boot.key] = entry.timestamp
            case .bootEnd(let end) where end.outcome == .ok:
                if let begun = start[end.key] { spans[end.key] = entry.timestamp - begun }
            default:
                break
            }
        }
        var measured: [BootKey: Double] = [:]
        for s in samples where s.metric == "wall_ns" && s.value.isFinite {
            measured[BootKey(variant: s.variant, boot: s.boot), default: 0] += s.value / 1e9
        }
        var perVariant: [String: [Double]] = [:]
        for (key, span) in spans {
            perVariant[key.variant, default: []].append(max(0, span - (measured[key] ?? 0)))
        }
        return perVariant.compactMapValues { costs in
            let mean = costs.reduce(0, +) / Double(costs.count)
            return mean > 0 ? mean : nil
        }
    }

    /// Adds each variant's failed boots to its result rows, so reports show them.
    static func attachFailures(_ workloads: [WorkloadResult], summary: RunSummary) -> [WorkloadResult] {
        workloads.map { w in
            var w = w
            w.variants = w.variants.map { v in
                var v = v
                let mine = summary.failures.filter { $0.variant == v.variant && ($0.workload == nil || $0.workload == w.workload) }
                v.failures += mine.map { f in
                    "boot \(f.boot.map(String.init) ?? "?")"
                        + (f.iteration.map { " iteration \($0)" } ?? "") + ": \(f.reason)"
                }
                return v
            }
            return w
        }
    }

    /// One note per passthrough variant that ran: its interrupt mode and whether MSIs were isolated.
    static func passthroughNotes(_ plans: [String: VariantPlan]) -> [String] {
        plans.keys.sorted().compactMap { name in
            guard let interrupts = plans[name]?.interrupts else { return nil }
            return "\(name): \(interrupts.note)"
        }
    }

    /// Writes `manifest.json`: the spec, its seed and overrides, artifact hashes, host facts, versions, the
    /// variants' plans and domain XML.
    static func writeManifest(spec: ExperimentSpec, directory: URL, host: ManifestHost?, commandLine: [String]) throws {
        let dir = ResultsDirectory(url: directory)
        var artifacts: [String: Artifact] = [:]
        var tools: [String: String] = ["rvbench": RVBenchVersion.string]
        var notes: [String] = []
        if spec.host.isLab {
            let lab = LabRecords.read()
            artifacts.merge(lab.artifacts) { a, _ in a }
            tools.merge(lab.tools) { a, _ in a }
            notes += lab.notes
        }
        if let tree = try? SourceTree.locate() {
            let catalogue = tree.appendingPathComponent("workloads/build/out/workloads.json")
            if let sha = try? SHA256.hex(ofFile: catalogue),
               let size = (try? FileManager.default.attributesOfItem(atPath: catalogue.path))?[.size] as? NSNumber {
                artifacts["workloads/workloads.json"] = Artifact(path: catalogue.path, sha256: sha, bytes: size.int64Value)
            }
        }
        if let l0 = host?.facts.emulator { tools["lab/l0-qemu"] = l0 }
        for (name, plan) in (host?.plans ?? [:]).sorted(by: { $0.key < $1.key }) where plan.kind == .vdpa {
            if let device = plan.vdpaDevice {
                notes.append(VDPADatapath.note(variant: name, device: device, source: plan.vdpaSource ?? .simulator))
            }
        }
        // Before the host was probed, only what the spec says is known; the AIA mode is the host's, never a guest's.
        let facts = host?.facts ?? HostFacts(kind: spec.host.isLab ? "emulated RISC-V host (QEMU TCG)" : "riscv64 host",
                                             emulated: spec.host.isLab, arch: "riscv64")
        let spec0 = SpecRecord(path: spec.source?.path, yaml: spec.source?.yaml ?? "", overrides: spec.overrides)
        let manifest = Manifest(experiment: spec.name, spec: spec0, seed: spec.seed, artifacts: artifacts, host: facts,
                                tools: tools, domains: host?.domains ?? [:], plans: host?.plans ?? [:],
                                deviceBindings: host?.deviceBindings ?? [:], createdAt: ISO8601Time.string(fromEpochSeconds: Date().timeIntervalSince1970),
                                commandLine: commandLine, notes: notes)
        try dir.writeManifest(manifest)
    }

    /// Checks that every artifact in a run's manifest still has its recorded hash.
    /// Returns the mismatches ("name: expected …, found …").
    public static func verifyArtifacts(of directory: URL) throws -> [String] {
        let manifest = try ResultsDirectory(url: directory).readManifest()
        var problems: [String] = []
        for (name, a) in manifest.artifacts.sorted(by: { $0.key < $1.key }) {
            guard FileManager.default.fileExists(atPath: a.path) else {
                problems.append("\(name): \(a.path) is missing")
                continue
            }
            let sha = try SHA256.hex(ofFile: URL(fileURLWithPath: a.path))
            if sha != a.sha256 { problems.append("\(name): expected sha256 \(a.sha256.prefix(16)), found \(sha.prefix(16))") }
        }
        return problems
    }
}
