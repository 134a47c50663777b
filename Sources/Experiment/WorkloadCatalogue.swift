// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Stats

/// The kind of a workload, as its manifest says.
public enum WorkloadKind: String, Sendable, CaseIterable {
    /// AI inference (ONNX Runtime, the C transformer).
    case ai
    /// Video encode or decode.
    case video
    /// A micro-benchmark of one virtualization cost.
    case micro
    /// Storage I/O through the variant's datapath (fio on the data disk).
    case io

    /// The primary metric when neither the spec nor the manifest names one.
    public var defaultMetric: String {
        switch self {
        case .ai: return "wall_ns"
        case .video: return "fps"
        case .micro: return "ns_per_op"
        case .io: return "iops"
        }
    }

    /// The direction of `defaultMetric`: frames and I/Os per second are better higher, times lower.
    public var defaultDirection: Direction {
        switch self {
        case .ai, .micro: return .lowerIsBetter
        case .video, .io: return .higherIsBetter
        }
    }
}

/// The workloads a spec may name: read from `workloads/*/workload.json`, or built in code by tests.
public struct WorkloadCatalogue: Sendable, Equatable {
    /// What the catalogue knows of one workload.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var kind: WorkloadKind
        /// The manifest's primary metric, if it names one.
        public var metric: String?
        /// The manifest's direction for that metric, if it gives one.
        public var direction: Direction?
        /// Parameter names the workload accepts; nil when the manifest does not list them (any is accepted).
        public var parameters: [String]?
        /// The type of each parameter whose manifest default shows one.
        public var parameterTypes: [String: ParameterType]
        /// Each parameter's default in the manifest, as text (what the built workload runs with).
        public var parameterDefaults: [String: String] = [:]
        /// Metrics the workload reports besides the runner's own (`wall_ns`, `user_ns`, `sys_ns`);
        /// nil when the manifest does not list them (any metric is accepted).
        public var metrics: [String]?
        /// Kind, unit and (where given) direction of each metric the manifest describes in `metric_kinds`.
        public var metricKinds: [String: MetricDescription] = [:]
        /// The metric that counts the workload's work and its unit's name (`work` in the manifest).
        public var work: WorkUnit?
        /// True when the workload reads the data disk (`data_disk` in the manifest): every variant that runs it
        /// must reach that disk.
        public var readsDataDisk = false

        public init(name: String, kind: WorkloadKind, metric: String? = nil, direction: Direction? = nil,
                    parameters: [String]? = nil, parameterTypes: [String: ParameterType] = [:],
                    metrics: [String]? = nil) {
            self.name = name; self.kind = kind; self.metric = metric; self.direction = direction
            self.parameters = parameters; self.parameterTypes = parameterTypes; self.metrics = metrics
        }

        /// Every metric a spec may name as primary, or nil when any is accepted.
        public var knownMetrics: [String]? {
            metrics.map { list in list + WorkloadCatalogue.runnerMetrics.filter { !list.contains($0) } }
        }

        /// The metric used when the spec names none: the manifest's, else the kind's default.
        public var defaultMetric: String { metric ?? kind.defaultMetric }

        /// The direction of one of the workload's metrics, from what the manifest says of it: its
        /// `metric_kinds` entry, else the manifest's `direction` when it is the manifest's primary metric.
        /// A metric the manifest says nothing about is lower-is-better (the runner's times, counts), except
        /// the kind's default metric (`fps` of a video workload is higher-is-better).
        public func direction(of name: String) -> Direction {
            if let described = metricKinds[name]?.direction { return described }
            if name == defaultMetric, let direction { return direction }
            if name == kind.defaultMetric { return kind.defaultDirection }
            return .lowerIsBetter
        }
    }

    /// What a manifest's `metric_kinds` says of one metric.
    public struct MetricDescription: Sendable, Equatable {
        public var kind: MetricKind
        public var unit: String
        public var direction: Direction?
        /// What the metric measures, in a sentence, when the manifest says.
        public var description: String?

        public init(kind: MetricKind, unit: String, direction: Direction? = nil, description: String? = nil) {
            self.kind = kind; self.unit = unit; self.direction = direction; self.description = description
        }
    }

    /// The type of a workload parameter, from its default in the manifest.
    public enum ParameterType: String, Sendable, Equatable {
        case integer
        /// An integer or a decimal.
        case number
        case bool
        /// Any scalar, taken as text.
        case string
    }

    /// Metrics the guest runner reports for every workload.
    public static let runnerMetrics = ["wall_ns", "user_ns", "sys_ns"]

    public var entries: [Entry]

    public init(_ entries: [Entry]) {
        self.entries = entries.sorted { $0.name < $1.name }
    }

    public var names: [String] { entries.map(\.name) }

    public func entry(named name: String) -> Entry? {
        entries.first { $0.name == name }
    }

    /// Reads every `DIR/*/workload.json`.
    ///
    /// Keys read (others are ignored): `name` (defaults to the folder's name), `kind` (`ai`, `video`,
    /// `micro` or `io`; required), `data_disk` (optional: an object when the workload reads the data disk), `metric` or `primary_metric` or else the first of `metrics` (optional),
    /// `metrics` (optional: what the workload reports), `direction` (optional), and
    /// `params` or `parameters` (optional: an object whose keys are the parameter names, or a list of
    /// names or of objects with a `name`; an object's default values give the parameters' types). A
    /// folder without `workload.json` is skipped.
    public static func load(from directory: URL) throws -> WorkloadCatalogue {
        let fm = FileManager.default
        guard let children = try? fm.contentsOfDirectory(atPath: directory.path) else {
            throw RVBenchError(.notFound, "no workload catalogue at \(directory.path); run from the rvbench checkout "
                + "or pass the workloads directory")
        }
        var entries: [Entry] = []
        for child in children.sorted() {
            let manifest = directory.appendingPathComponent(child).appendingPathComponent("workload.json")
            guard fm.fileExists(atPath: manifest.path) else { continue }
            entries.append(try entry(fromManifest: manifest, folder: child))
        }
        return WorkloadCatalogue(entries)
    }

    static func entry(fromManifest url: URL, folder: String) throws -> Entry {
        let shown = "\(url.deletingLastPathComponent().lastPathComponent)/workload.json"
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RVBenchError(.notFound, "cannot read \(shown); check its permissions", cause: error)
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw RVBenchError(.badInput, "\(shown) is not a JSON object; fix the workload manifest")
        }
        let name = object["name"] as? String ?? folder
        guard let kindText = object["kind"] as? String else {
            throw RVBenchError(.badInput, "\(shown) has no \"kind\"; add one of "
                + WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let kind = WorkloadKind(rawValue: kindText) else {
            throw RVBenchError(.badInput, "\(shown) has kind \"\(kindText)\"; expected one of "
                + WorkloadKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let metric = (object["metric"] ?? object["primary_metric"]) as? String
            ?? (object["metrics"] as? [Any])?.first as? String
        var direction: Direction?
        if let text = object["direction"] as? String {
            guard let parsed = Direction(rawValue: text) else {
                throw RVBenchError(.badInput, "\(shown) has direction \"\(text)\"; expected lower-is-better or higher-is-better")
            }
            direction = parsed
        }
        var parameters: [String]?
        var types: [String: ParameterType] = [:]
        switch object["params"] ?? object["parameters"] {
        case let dictionary as [String: Any]:
            parameters = dictionary.keys.sorted()
            types = parameterTypes(in: data)
        case let list as [Any]:
            parameters = list.compactMap { item in
                (item as? String) ?? ((item as? [String: Any])?["name"] as? String)
            }.sorted()
        default:
            parameters = nil
        }
        let metrics = (object["metrics"] as? [Any])?.compactMap { $0 as? String }
        var entry = Entry(name: name, kind: kind, metric: metric, direction: direction, parameters: parameters,
                          parameterTypes: types, metrics: metrics)
        if let described = object["work"] {
            guard let fields = described as? [String: Any], let metricName = fields["metric"] as? String,
                  let unitName = fields["unit"] as? String else {
                throw RVBenchError(.badInput, "\(shown): \"work\" must be {\"metric\": NAME, \"unit\": NAME}, "
                    + "e.g. {\"metric\": \"frames\", \"unit\": \"frame\"}")
            }
            entry.work = WorkUnit(metric: metricName, unit: unitName)
        }
        if let described = object["data_disk"] {
            guard let fields = described as? [String: Any], fields["pattern"] as? String == DataDisk.pattern,
                  (fields["bytes"] as? NSNumber)?.int64Value == DataDisk.bytes else {
                throw RVBenchError(.badInput, "\(shown): \"data_disk\" must be {\"bytes\": \(DataDisk.bytes), "
                    + "\"pattern\": \"\(DataDisk.pattern)\"}, the data disk the lab builds")
            }
            entry.readsDataDisk = true
        }
        if let described = object["metric_kinds"] {
            guard let table = described as? [String: Any] else {
                throw RVBenchError(.badInput, "\(shown): \"metric_kinds\" must be an object of metric name to "
                    + "{\"kind\": ..., \"unit\": ...}")
            }
            for (metricName, value) in table {
                guard let fields = value as? [String: Any], let kindText = fields["kind"] as? String,
                      let metricKind = MetricKind(rawValue: kindText) else {
                    throw RVBenchError(.badInput, "\(shown): metric_kinds.\(metricName) needs a \"kind\", one of "
                        + MetricKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                var metricDirection: Direction? = nil
                if let text = fields["direction"] as? String {
                    guard let parsed = Direction(rawValue: text) else {
                        throw RVBenchError(.badInput, "\(shown): metric_kinds.\(metricName) has direction \"\(text)\"; "
                            + "expected lower-is-better or higher-is-better")
                    }
                    metricDirection = parsed
                }
                entry.metricKinds[metricName] = MetricDescription(kind: metricKind, unit: fields["unit"] as? String ?? "",
                                                                  direction: metricDirection,
                                                                  description: fields["description"] as? String)
            }
        }
        if let dictionary = (object["params"] ?? object["parameters"]) as? [String: Any] {
            for (key, value) in dictionary {
                if let text = value as? String {
                    entry.parameterDefaults[key] = text
                } else if let n = value as? NSNumber {
                    entry.parameterDefaults[key] = types[key] == .bool ? (n.boolValue ? "true" : "false") : n.stringValue
                } else if let text = value as? String {
                    entry.parameterDefaults[key] = text
                }
            }
        }
        return entry
    }

    /// The types of the defaults in a manifest's `params` or `parameters` object.
    static func parameterTypes(in data: Data) -> [String: ParameterType] {
        struct Probe: Decodable {
            var types: [String: ParameterType] = [:]
            enum CodingKeys: String, CodingKey { case params, parameters }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                let values = (try? container.decode([String: Scalar].self, forKey: .params))
                    ?? (try? container.decode([String: Scalar].self, forKey: .parameters)) ?? [:]
                types = values.compactMapValues(\.type)
            }
        }
        struct Scalar: Decodable {
            var type: ParameterType?
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if (try? c.decode(Bool.self)) != nil {
                    type = .bool
                } else if (try? c.decode(Int.self)) != nil {
                    type = .integer
                } else if (try? c.decode(Double.self)) != nil {
                    type = .number
                } else if (try? c.decode(String.self)) != nil {
                    type = .string
                }
            }
        }
        return (try? JSONDecoder().decode(Probe.self, from: data))?.types ?? [:]
    }
}

extension ExperimentSpec {
    /// Kind, unit and direction of every metric the spec's workloads report, for the analysis: the
    /// spec's primary metric of each workload is `primary`; the manifest's `metric_kinds` describe the
    /// others (a manifest's primary that the spec does not choose counts as secondary); the runner's own
    /// times are secondary. Counters are not listed: their samples carry their kind.
    public func metricInfo(catalogue: WorkloadCatalogue?) -> [MetricKey: MetricInfo] {
        var out: [MetricKey: MetricInfo] = [:]
        for w in workloads {
            let entry = catalogue?.entry(named: w.name)
            for runnerMetric in WorkloadCatalogue.runnerMetrics {
                out[MetricKey(workload: w.name, metric: runnerMetric)] =
                    MetricInfo(kind: .secondary, unit: "ns", direction: .lowerIsBetter)
            }
            for (name, d) in entry?.metricKinds ?? [:] {
                let kind: MetricKind = d.kind == .primary ? .secondary : d.kind
                out[MetricKey(workload: w.name, metric: name)] = MetricInfo(
                    kind: kind, unit: d.unit, direction: entry?.direction(of: name) ?? .lowerIsBetter,
                    description: d.description)
            }
            let primary = entry?.metricKinds[w.metric]
            out[MetricKey(workload: w.name, metric: w.metric)] = MetricInfo(kind: .primary, unit: primary?.unit,
                                                                             direction: w.direction,
                                                                             description: primary?.description)
        }
        return out
    }

    /// Each workload's unit of work, from the catalogue.
    public func workUnits(catalogue: WorkloadCatalogue?) -> [String: WorkUnit] {
        var out: [String: WorkUnit] = [:]
        for w in workloads {
            if let unit = catalogue?.entry(named: w.name)?.work { out[w.name] = unit }
        }
        return out
    }

    /// The uncounted twins (`measure_counter_overhead`).
    public var uncountedTwins: Set<String> {
        Set(variants.filter { $0.countedName != nil }.map(\.name))
    }
}
