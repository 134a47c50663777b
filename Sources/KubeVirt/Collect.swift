// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import Foundation
import Logging
import Report
import RVBenchCore

/// What `rvbench kubevirt collect` is asked to do.
public struct CollectRequest: Sendable {
    /// The directory `rvbench kubevirt export` wrote.
    public var bundle: URL
    /// Console logs of VMIs and logs of Jobs, each named after its object (`NAME.log` or `NAME.txt`).
    public var logs: [URL]
    /// The results directory to write; must not exist or be empty.
    public var output: URL
    /// True when the cluster's nodes are themselves emulated, so timings are not silicon speed.
    public var emulatedNodes: Bool
    public var catalogue: WorkloadCatalogue
    public var commandLine: [String]

    public init(bundle: URL, logs: [URL], output: URL, emulatedNodes: Bool = false, catalogue: WorkloadCatalogue,
                commandLine: [String]) {
        self.bundle = bundle; self.logs = logs; self.output = output; self.emulatedNodes = emulatedNodes
        self.catalogue = catalogue; self.commandLine = commandLine
    }
}

/// Turns a bundle's logs into a results directory, through the same run loop, journal and line
/// parser as `rvbench run`: the boots are "run" again in schedule order by an executor that reads
/// each boot's log instead of booting a guest.
public enum Collector {
    /// The host kind the manifest and every report name.
    public static let hostKind = "KubeVirt cluster (riscv64 nodes)"
    /// The largest log read for one boot.
    public static let maxLogBytes = 256 << 20

    public static func collect(_ request: CollectRequest, progress: any ProgressSink = SilentProgress(),
                               logger: Logger = Logger(label: "rvbench.kubevirt")) async throws -> RunOutcome {
        let bundle = try BundleManifest.load(from: request.bundle)
        guard SHA256.hex(of: bundle.spec.yaml) == bundle.spec.sha256 else {
            throw RVBenchError(.format, "\(BundleManifest.fileName): the spec's text does not match its SHA-256; "
                + "the bundle was edited after export")
        }
        let spec = try ExperimentSpec.parse(yaml: bundle.spec.yaml, file: bundle.spec.path ?? "bundle.json:spec",
                                            catalogue: request.catalogue)
        let objects = try checkObjects(bundle, spec: spec)
        let logs = try matchLogs(request.logs, objects: objects)

        let fm = FileManager.default
        let out = request.output
        if fm.fileExists(atPath: out.path), !((try? fm.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty {
            throw RVBenchError(.badInput, "\(out.path) exists and is not empty; give a new directory with -o")
        }
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        try writeManifest(bundle: bundle, request: request, spec: spec, logs: logs)
        try copyObjects(bundle: bundle, from: request.bundle, to: out)
        if !spec.counters.isEmpty {
            let unavailable = spec.counters.map {
                UnavailableMetric(metric: MetricID.counter(.hostPerf, $0).name, reason: "host counters are not read on a KubeVirt cluster")
            }
            try ResultsJSON.prettyData(unavailable).write(to: HostCounters.unavailableFile(in: out), options: .atomic)
        }

        let executor = LogReplayExecutor(objects: objects, logs: logs,
                                         notRun: bundle.notRun.map { PreflightVerdict.notRun(variant: $0.variant, reason: $0.reason) })
        let runner = ExperimentRunner(spec: spec, directory: out, executor: executor, progress: progress, logger: logger)
        let summary = try await runner.run()
        var outcome = try RunSession.finalize(spec: spec, directory: out, summary: summary, emulated: request.emulatedNodes)
        // The results name the cluster as the host; the reports are rendered again from them.
        let dir = ResultsDirectory(url: out)
        outcome.results.hostKind = hostKind
        outcome.results.notes.append(clusterNote(bundle))
        try dir.writeResults(outcome.results)
        _ = try Report.writeAll(try ReportInput.load(from: dir), to: dir, formats: [.md, .html, .csv, .junit])
        return outcome
    }

    static func clusterNote(_ bundle: BundleManifest) -> String {
        "ran on a KubeVirt cluster from bundle run \(bundle.runID); results read back from console and Job logs "
            + "by rvbench kubevirt collect; host counters and KVM statistics are not read there"
    }

    /// The bundle's objects by boot, checked against the spec's schedule (a bundle edited by hand
    /// must not put a log under the wrong boot).
    static func checkObjects(_ bundle: BundleManifest, spec: ExperimentSpec) throws -> [BootKey: BundleManifest.Object] {
        let schedule = Dictionary(Schedule(spec: spec).maximal.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [BootKey: BundleManifest.Object] = [:]
        for object in bundle.objects {
            let key = BootKey(variant: object.variant, boot: object.boot)
            guard let boot = schedule[key],
                  object.name == KubeNames.objectName(runID: bundle.runID, variant: object.variant, boot: object.boot),
                  object.sequence == boot.sequence,
                  (object.kind == .job) == (boot.variant.kind == .native) else {
                throw RVBenchError(.format, "\(BundleManifest.fileName): object \(object.name) does not match the "
                    + "spec's schedule; export the bundle again")
            }
            guard out.updateValue(object, forKey: key) == nil else {
                throw RVBenchError(.format, "\(BundleManifest.fileName): two objects for \(key)")
            }
        }
        return out
    }

    /// Each log file by the object it belongs to: its name without `.log` or `.txt`.
    static func matchLogs(_ urls: [URL], objects: [BootKey: BundleManifest.Object]) throws -> [String: URL] {
        let known = Set(objects.values.map(\.name))
        var files: [URL] = []
        for url in urls {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw RVBenchError(.notFound, "\(url.path) does not exist")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
                files += names.filter { $0.hasSuffix(".log") || $0.hasSuffix(".txt") }.map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        var out: [String: URL] = [:]
        for file in files {
            var name = file.lastPathComponent
            for ext in [".log", ".txt"] where name.hasSuffix(ext) { name = String(name.dropLast(ext.count)) }
            guard known.contains(name) else {
                throw RVBenchError(.badInput, "\(file.path) does not belong to this bundle: name each log after its "
                    + "VMI or Job (NAME.log, NAME from schedule.txt)")
            }
            if let other = out[name], other.standardizedFileURL != file.standardizedFileURL {
                throw RVBenchError(.badInput, "two logs for \(name): \(other.path) and \(file.path)")
            }
            out[name] = file
        }
        return out
    }

    static func writeManifest(bundle: BundleManifest, request: CollectRequest, spec: ExperimentSpec,
                              logs: [String: URL]) throws {
        var artifacts = bundle.artifacts
        for (name, image) in bundle.images {
            artifacts["kubevirt/image/\(name)"] = Artifact(
                path: request.bundle.appendingPathComponent(image.archive).standardizedFileURL.path,
                sha256: image.archiveSHA256, bytes: image.archiveBytes)
        }
        let bundleFile = request.bundle.appendingPathComponent(BundleManifest.fileName)
        artifacts["kubevirt/bundle.json"] = Artifact(path: bundleFile.standardizedFileURL.path,
                                                     sha256: try SHA256.hex(ofFile: bundleFile),
                                                     bytes: Int64((try Data(contentsOf: bundleFile)).count))
        for (name, url) in logs.sorted(by: { $0.key < $1.key }) {
            let bytes = ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
            artifacts["kubevirt/log/\(name)"] = Artifact(path: url.standardizedFileURL.path,
                                                         sha256: try SHA256.hex(ofFile: url), bytes: bytes)
        }
        var tools = ["rvbench": RVBenchVersion.string, "kubevirt/bundle-rvbench": bundle.rvbenchVersion,
                     "kubevirt/run-id": bundle.runID, "kubevirt/namespace": bundle.namespace]
        for (name, ref) in bundle.imageReferences { tools["kubevirt/image/\(name)"] = ref }
        let host = HostFacts(kind: hostKind, emulated: request.emulatedNodes, arch: "riscv64")
        let manifest = Manifest(experiment: spec.name, spec: bundle.spec, seed: spec.seed, artifacts: artifacts,
                                host: host, tools: tools,
                                createdAt: ISO8601Time.string(fromEpochSeconds: Date().timeIntervalSince1970),
                                commandLine: request.commandLine, notes: [clusterNote(bundle)])
        try ResultsDirectory(url: request.output).writeManifest(manifest)
    }

    /// Keeps the objects the results came from next to them, under `kubevirt/`.
    static func copyObjects(bundle: BundleManifest, from source: URL, to out: URL) throws {
        let fm = FileManager.default
        let dir = out.appendingPathComponent("kubevirt", isDirectory: true)
        for file in [BundleManifest.fileName] + bundle.objects.map(\.file) {
            let target = dir.appendingPathComponent(file)
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fm.copyItem(at: source.appendingPathComponent(file), to: target)
        }
    }
}

/// An executor whose boots already ran on a cluster: each boot's events come from its recorded log,
/// through the same `RunnerOutputTranslator` as a live console.
public struct LogReplayExecutor: VariantExecutor {
    public var objects: [BootKey: BundleManifest.Object]
    /// Log file by object name.
    public var logs: [String: URL]
    public var notRun: [PreflightVerdict]

    public init(objects: [BootKey: BundleManifest.Object], logs: [String: URL], notRun: [PreflightVerdict]) {
        self.objects = objects; self.logs = logs; self.notRun = notRun
    }

    public func prepare(_ context: ExperimentContext) async throws -> [PreflightVerdict] { notRun }

    public func runBoot(_ boot: ScheduledBoot, context: BootContext) async throws -> AsyncThrowingStream<BootEvent, any Error> {
        let object = objects[boot.key]
        let log = object.flatMap { logs[$0.name] }
        let attempt = context.attempt
        let plan = RunnerPlan(boot: boot, spec: context.experiment.spec)
        return AsyncThrowingStream { continuation in
            // A log may be large: it is read off the caller's task, and the stream returns at once.
            let task = Task.detached {
                Self.replay(boot: boot, object: object, log: log, attempt: attempt, plan: plan, continuation: continuation)
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Turns one boot's log into its events.
    static func replay(boot: ScheduledBoot, object: BundleManifest.Object?, log: URL?, attempt: Int, plan: RunnerPlan,
                       continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation) {
        guard let object else {
            continuation.yield(.failed(reason: "the bundle has no object for \(boot.key)", workload: nil, iteration: nil))
            continuation.finish()
            return
        }
        guard attempt == 1 else {
            continuation.yield(.failed(reason: "a cluster runs each boot once: attempt \(attempt) of \(object.name) "
                + "has no log", workload: nil, iteration: nil))
            continuation.finish()
            return
        }
        guard let log else {
            continuation.yield(.failed(reason: "no log for \(object.name) (the \(object.kind.rawValue) never ran, or "
                + "its log was not given to collect)", workload: nil, iteration: nil))
            continuation.finish()
            return
        }
        let translator = GuestLineTranslator(continuation: continuation)
        // The done line names the seed and workloads the runner ran with: a log of another boot
        // (a renamed file, a re-used name) is refused instead of being counted under this boot.
        do {
            let handle = try FileHandle(forReadingFrom: log)
            defer { try? handle.close() }
            var read = 0
            while !translator.sawEnd, !Task.isCancelled {
                guard let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty else { break }
                read += chunk.count
                if read > Collector.maxLogBytes {
                    continuation.yield(.failed(reason: "the log of \(object.name) is larger than "
                        + "\(Collector.maxLogBytes >> 20) MiB before the runner's done line", workload: nil, iteration: nil))
                    continuation.finish()
                    return
                }
                translator.feed(chunk)
            }
            translator.finish()
        } catch {
            continuation.yield(.failed(reason: "cannot read \(log.path): \(error)", workload: nil, iteration: nil))
            continuation.finish()
            return
        }
        if let summary = translator.summary, summary.seed != String(plan.seed) || summary.workloads != plan.workloads {
            continuation.yield(.failed(reason: "the log given for \(object.name) is of another boot: its done line "
                + "has seed \(summary.seed.map { RunnerOutputTranslatorClip.clip($0) } ?? "none") and workloads "
                + "\(RunnerOutputTranslatorClip.clip(summary.workloads.joined(separator: ","))), this boot ran seed \(plan.seed) "
                + "with \(plan.workloads.joined(separator: ","))", workload: nil, iteration: nil))
        }
        if !translator.sawEnd {
            continuation.yield(.failed(reason: "the log of \(object.name) ends before the runner's done line "
                + "(a truncated log, or the guest died)", workload: nil, iteration: nil))
        }
        continuation.finish()
    }

    public func cleanUpBoot(_ boot: ScheduledBoot, context: BootContext) async {}
}

/// Guest text in a failure reason: control characters replaced, at most 64 characters.
enum RunnerOutputTranslatorClip {
    static func clip(_ text: String) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return cleaned.count > 64 ? String(cleaned.prefix(64)) + "..." : cleaned
    }
}
