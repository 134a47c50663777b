// SPDX-License-Identifier: GPL-3.0-or-later

/// The versions of the results-directory format (`manifest.json`, `samples.jsonl`, `results.json`).
/// Readers accept any minor version of a known major and reject other majors.
public enum SchemaVersion {
    public static let major = 1
    public static let minor = 0
    public static var string: String { "\(major).\(minor)" }
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
public enum VariantStatus: Codable, Sendable, Equatable {
    case run
    /// The variant was not run; the reason says why (e.g. preflight failed).
    case notRun(reason: String)
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
    public var createdAt: String
    public var workloads: [WorkloadResult]
    public init(schemaVersion: String = SchemaVersion.string, experiment: String, hostKind: String,
                emulated: Bool, modelled: [String] = [], createdAt: String, workloads: [WorkloadResult]) {
        self.schemaVersion = schemaVersion; self.experiment = experiment; self.hostKind = hostKind
        self.emulated = emulated; self.modelled = modelled; self.createdAt = createdAt; self.workloads = workloads
    }
}
