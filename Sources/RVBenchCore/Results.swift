// SPDX-License-Identifier: GPL-3.0-or-later

/// The versions of the results-directory format (`manifest.json`, `samples.jsonl`, `results.json`).
/// Readers accept any minor version of a known major and reject other majors.
public enum SchemaVersion {
    public static let major = 1
    public static let minor = 0
    public static var string: String { "\(major).\(minor)" }

    /// Parses "MAJOR.MINOR" (or a bare "MAJOR"); nil when it is not of that form.
    public static func parse(_ version: String) -> (major: Int, minor: Int)? {
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard (1 ... 2).contains(parts.count), let major = Int(parts[0]), major >= 0 else { return nil }
        if parts.count == 1 { return (major, 0) }
        guard let minor = Int(parts[1]), minor >= 0 else { return nil }
        return (major, minor)
    }

    /// Throws a `.format` error unless `version` has this rvbench's major version.
    /// `file` names the file in the message, e.g. "results.json".
    public static func check(_ version: String, in file: String) throws {
        guard let parsed = parse(version) else {
            throw RVBenchError(.format, "\(file) has an unreadable schema version \"\(version)\"; "
                + "expected MAJOR.MINOR such as \(string); is this an rvbench results directory?")
        }
        guard parsed.major == major else {
            let advice = parsed.major > major ? "upgrade rvbench" : "regenerate it with a newer rvbench"
            throw RVBenchError(.format, "\(file) has schema version \(version); this rvbench reads \(major).x; \(advice)")
        }
    }
}

/// Quantiles reported for every distribution.
public struct Quantiles: Codable, Sendable, Equatable {
    public var p0, p5, p25, p50, p75, p95, p100: Double
    public init(p0: Double, p5: Double, p25: Double, p50: Double, p75: Double, p95: Double, p100: Double) {
        (self.p0, self.p5, self.p25, self.p50, self.p75, self.p95, self.p100) = (p0, p5, p25, p50, p75, p95, p100)
    }
}

/// Descriptive statistics of one sample set.
public struct Descriptive: Codable, Sendable, Equatable {
    public var n: Int
    public var mean: Double
    /// Sample standard deviation (n − 1 denominator).
    public var stddev: Double
    public var median: Double
    /// Median absolute deviation, unscaled.
    public var mad: Double
    /// Coefficient of variation: stddev / mean.
    public var cv: Double
    public var quantiles: Quantiles

    enum CodingKeys: String, CodingKey {
        case n, mean, stddev, median, mad, cv, quantiles
    }

    public init(n: Int, mean: Double, stddev: Double, median: Double, mad: Double, cv: Double, quantiles: Quantiles) {
        self.n = n; self.mean = mean; self.stddev = stddev; self.median = median
        self.mad = mad; self.cv = cv; self.quantiles = quantiles
    }
}

/// A confidence interval.
public struct Interval: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    /// Confidence level, e.g. 0.95.
    public var level: Double
    public init(low: Double, high: Double, level: Double) {
        self.low = low; self.high = high; self.level = level
    }
    public func contains(_ x: Double) -> Bool { low <= x && x <= high }
}

/// The outcome of comparing a candidate with its baseline.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case regression
    case improvement
    case noChange = "no-change"
}

/// Candidate-versus-baseline statistics for one metric.
public struct Comparison: Codable, Sendable, Equatable {
    public var baseline: String
    public var candidate: String
    public var metric: String
    public var direction: Direction
    public var nBaseline: Int
    public var nCandidate: Int
    /// mean(candidate) / mean(baseline).
    public var ratioOfMeans: Double
    /// Percentile bootstrap CI of the ratio of means.
    public var ratioOfMeansCI: Interval
    /// BCa bootstrap CI of the ratio of means.
    public var ratioOfMeansBCa: Interval
    /// median(candidate) / median(baseline).
    public var ratioOfMedians: Double
    public var ratioOfMediansCI: Interval
    public var ratioOfMediansBCa: Interval
    public var welchT: Double
    public var welchDF: Double
    public var welchP: Double
    /// U statistic of the candidate, ties counted as one half.
    public var mannWhitneyU: Double
    public var mannWhitneyP: Double
    /// Median of all pairwise differences, candidate − baseline.
    public var hodgesLehmann: Double
    public var cliffsDelta: Double
    /// Holm-corrected p-value within the comparison family (Welch's p when the family has one member).
    public var adjustedP: Double
    public var threshold: Double
    public var alpha: Double
    public var verdict: Verdict
    public var resamples: Int
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case baseline, candidate, metric, direction
        case nBaseline = "n_baseline"
        case nCandidate = "n_candidate"
        case ratioOfMeans = "ratio_of_means"
        case ratioOfMeansCI = "ratio_of_means_ci"
        case ratioOfMeansBCa = "ratio_of_means_bca"
        case ratioOfMedians = "ratio_of_medians"
        case ratioOfMediansCI = "ratio_of_medians_ci"
        case ratioOfMediansBCa = "ratio_of_medians_bca"
        case welchT = "welch_t"
        case welchDF = "welch_df"
        case welchP = "welch_p"
        case mannWhitneyU = "mann_whitney_u"
        case mannWhitneyP = "mann_whitney_p"
        case hodgesLehmann = "hodges_lehmann"
        case cliffsDelta = "cliffs_delta"
        case adjustedP = "adjusted_p"
        case threshold, alpha, verdict, resamples, seed
    }

    public init(baseline: String, candidate: String, metric: String, direction: Direction,
                nBaseline: Int, nCandidate: Int,
                ratioOfMeans: Double, ratioOfMeansCI: Interval, ratioOfMeansBCa: Interval,
                ratioOfMedians: Double, ratioOfMediansCI: Interval, ratioOfMediansBCa: Interval,
                welchT: Double, welchDF: Double, welchP: Double,
                mannWhitneyU: Double, mannWhitneyP: Double,
                hodgesLehmann: Double, cliffsDelta: Double,
                adjustedP: Double, threshold: Double, alpha: Double, verdict: Verdict,
                resamples: Int, seed: UInt64) {
        self.baseline = baseline; self.candidate = candidate; self.metric = metric; self.direction = direction
        self.nBaseline = nBaseline; self.nCandidate = nCandidate
        self.ratioOfMeans = ratioOfMeans; self.ratioOfMeansCI = ratioOfMeansCI; self.ratioOfMeansBCa = ratioOfMeansBCa
        self.ratioOfMedians = ratioOfMedians; self.ratioOfMediansCI = ratioOfMediansCI; self.ratioOfMediansBCa = ratioOfMediansBCa
        self.welchT = welchT; self.welchDF = welchDF; self.welchP = welchP
        self.mannWhitneyU = mannWhitneyU; self.mannWhitneyP = mannWhitneyP
        self.hodgesLehmann = hodgesLehmann; self.cliffsDelta = cliffsDelta
        self.adjustedP = adjustedP; self.threshold = threshold; self.alpha = alpha; self.verdict = verdict
        self.resamples = resamples; self.seed = seed
    }
}

/// Whether a variant produced samples.
///
/// JSON: `{"state": "run"}` or `{"state": "not-run", "reason": "..."}`.
public enum VariantStatus: Codable, Sendable, Equatable {
    case run
    /// The variant was not run; the reason says why (e.g. preflight failed).
    case notRun(reason: String)

    /// The reason when the variant was not run, else nil.
    public var notRunReason: String? {
        if case .notRun(let reason) = self { return reason }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case state, reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let state = try container.decode(String.self, forKey: .state)
        switch state {
        case "run":
            self = .run
        case "not-run":
            self = .notRun(reason: try container.decodeIfPresent(String.self, forKey: .reason) ?? "no reason recorded")
        default:
            throw DecodingError.dataCorruptedError(forKey: .state, in: container,
                                                   debugDescription: "expected \"run\" or \"not-run\", found \"\(state)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .run:
            try container.encode("run", forKey: .state)
        case .notRun(let reason):
            try container.encode("not-run", forKey: .state)
            try container.encode(reason, forKey: .reason)
        }
    }
}

/// One variant of one workload and metric.
public struct VariantResult: Codable, Sendable, Equatable {
    public var variant: String
    public var status: VariantStatus
    /// Nil when the variant was not run.
    public var descriptive: Descriptive?
    /// Failed boots or iterations, with reasons.
    public var failures: [String]
    public init(variant: String, status: VariantStatus, descriptive: Descriptive?, failures: [String] = []) {
        self.variant = variant; self.status = status; self.descriptive = descriptive; self.failures = failures
    }

    enum CodingKeys: String, CodingKey {
        case variant, status, descriptive, failures
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        variant = try container.decode(String.self, forKey: .variant)
        status = try container.decode(VariantStatus.self, forKey: .status)
        descriptive = try container.decodeIfPresent(Descriptive.self, forKey: .descriptive)
        failures = try container.decodeIfPresent([String].self, forKey: .failures) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(variant, forKey: .variant)
        try container.encode(status, forKey: .status)
        // Written as null rather than omitted, so every variant object has the same keys.
        try container.encode(descriptive, forKey: .descriptive)
        try container.encode(failures, forKey: .failures)
    }
}

/// All variants of one workload for one metric, and their comparisons with the baseline.
public struct WorkloadResult: Codable, Sendable, Equatable {
    public var workload: String
    public var metric: String
    public var unit: String
    public var direction: Direction
    public var baseline: String
    public var variants: [VariantResult]
    public var comparisons: [Comparison]

    enum CodingKeys: String, CodingKey {
        case workload, metric, unit, direction, baseline, variants, comparisons
    }

    public init(workload: String, metric: String, unit: String, direction: Direction, baseline: String,
                variants: [VariantResult], comparisons: [Comparison]) {
        self.workload = workload; self.metric = metric; self.unit = unit; self.direction = direction
        self.baseline = baseline; self.variants = variants; self.comparisons = comparisons
    }
}

/// `results.json`: everything the reports show.
public struct ResultsDocument: Codable, Sendable, Equatable {
    public var schemaVersion: String
    public var experiment: String
    /// Human-readable host type, e.g. "emulated RISC-V host (QEMU TCG)" or "riscv64 board".
    public var hostKind: String
    /// True when timings come from an emulator; reports then say so on their first page.
    public var emulated: Bool
    /// Labels for anything modelled rather than measured; shown in every output.
    public var modelled: [String]
    /// ISO-8601 UTC time the document was produced, e.g. "2026-11-26T15:00:00Z".
    public var createdAt: String
    public var workloads: [WorkloadResult]
    /// Free-text remarks every report shows near its top, e.g. "example generated from fixture samples,
    /// not a measurement" or "deterministic mode: memory-system costs vanish". Added in 1.0; may be empty.
    public var notes: [String]
    /// Metrics (typically counters) that could not be measured, with the reason; never reported as 0.
    public var unavailable: [UnavailableMetric]

    public init(schemaVersion: String = SchemaVersion.string, experiment: String, hostKind: String,
                emulated: Bool, modelled: [String] = [], createdAt: String, workloads: [WorkloadResult],
                notes: [String] = [], unavailable: [UnavailableMetric] = []) {
        self.schemaVersion = schemaVersion; self.experiment = experiment; self.hostKind = hostKind
        self.emulated = emulated; self.modelled = modelled; self.createdAt = createdAt; self.workloads = workloads
        self.notes = notes; self.unavailable = unavailable
    }

    /// The sentence every report from an emulated host shows on its first page.
    public static let emulatedHostWarning =
        "emulated RISC-V host (QEMU TCG): timings show relative behaviour, not silicon speed"

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case experiment
        case hostKind = "host_kind"
        case emulated, modelled
        case createdAt = "created_at"
        case workloads, notes, unavailable
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try container.decode(String.self, forKey: .schemaVersion)
        try SchemaVersion.check(schemaVersion, in: "results.json")
        experiment = try container.decode(String.self, forKey: .experiment)
        hostKind = try container.decode(String.self, forKey: .hostKind)
        emulated = try container.decode(Bool.self, forKey: .emulated)
        modelled = try container.decodeIfPresent([String].self, forKey: .modelled) ?? []
        createdAt = try container.decode(String.self, forKey: .createdAt)
        workloads = try container.decode([WorkloadResult].self, forKey: .workloads)
        notes = try container.decodeIfPresent([String].self, forKey: .notes) ?? []
        unavailable = try container.decodeIfPresent([UnavailableMetric].self, forKey: .unavailable) ?? []
    }
}

/// A metric that was asked for but could not be measured, e.g. a perf event the host does not support.
public struct UnavailableMetric: Codable, Sendable, Equatable {
    public var metric: String
    /// The variant it applies to, or nil for all variants.
    public var variant: String?
    public var reason: String

    public init(metric: String, variant: String? = nil, reason: String) {
        self.metric = metric; self.variant = variant; self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case metric, variant, reason
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metric, forKey: .metric)
        try container.encode(variant, forKey: .variant)
        try container.encode(reason, forKey: .reason)
    }
}
