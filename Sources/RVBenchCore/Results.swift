// SPDX-License-Identifier: GPL-3.0-or-later

/// The versions of the results-directory format (`manifest.json`, `samples.jsonl`, `results.json`).
/// Readers accept any minor version of a known major and reject other majors.
public enum SchemaVersion {
    public static let major = 1
    public static let minor = 1
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

/// The outcome of comparing a candidate with its baseline, decided on boot means (see `BootLevel`).
public enum Verdict: String, Codable, Sendable, CaseIterable {
    /// The one-sided minimum-effect test shows the ratio beyond 1 ± threshold in the bad direction.
    case regression
    /// The mirror image: beyond 1 ± threshold in the good direction.
    case improvement
    /// TOST shows the ratio within 1 ± threshold.
    case equivalent
    /// Neither test rejected: the data cannot tell. Not the same as "no change".
    case inconclusive
    /// No test was possible: both sides have zero variance between boots.
    case noTest = "no-test"

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if let verdict = Verdict(rawValue: text) {
            self = verdict
        } else if text == "no-change" {
            // Schema 1.0 said "no-change" for everything that was not a regression or an improvement.
            self = .inconclusive
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "unknown verdict \"\(text)\"; expected one of \(Verdict.allCases.map(\.rawValue))"))
        }
    }
}

/// What a metric is, from the workload manifest (or, for counters, from where it was read).
public enum MetricKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// The workload's headline metric: the one that decides verdicts and exit codes.
    case primary
    /// Other performance figures of the workload (other times, rates, the runner's user/sys times).
    case secondary
    /// Outputs and counts that check the work was done (checksums, frames, inferences): checked, not compared.
    case verification
    /// Hardware, hypervisor and guest event counts: they explain the headline, never decide it.
    case counter

    public static func < (a: MetricKind, b: MetricKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A metric's identity: its name with the kind and unit the workload manifest gives it.
public struct MetricID: Hashable, Codable, Sendable {
    public var name: String
    public var kind: MetricKind
    public var unit: String

    public init(name: String, kind: MetricKind, unit: String) {
        self.name = name; self.kind = kind; self.unit = unit
    }

    /// A counter of `family`: named `FAMILY.EVENT`, of kind `counter`, counted in events.
    public static func counter(_ family: CounterFamily, _ event: String) -> MetricID {
        MetricID(name: "\(family.rawValue).\(event)", kind: .counter, unit: "events")
    }
}

/// Where a counter is read. The family is the first part of the counter's metric name, which is only ever
/// written (by `MetricID.counter`), never parsed: samples carry their kind.
public enum CounterFamily: String, Sendable, CaseIterable {
    /// A perf event on the host, counted on the guest's QEMU threads or on the native runner.
    case hostPerf = "host.perf"
    /// A KVM exit statistic of the host.
    case hostKVM = "host.kvm"
    /// A counter the guest runner read inside the guest.
    case guest
}

/// The Holm family a comparison belongs to. Each family is corrected on its own; only `primary`
/// decides exit codes.
public enum ComparisonFamily: String, Codable, Sendable, CaseIterable {
    /// Each workload's primary metric × candidate variant.
    case primary
    /// Secondary metrics.
    case secondary
    /// Counters.
    case counter
    /// Primary metrics of uncounted twins (`@no-counters`), which measure what counting costs.
    case twin
}

/// The boot-level analysis of one comparison: the boot is the experimental unit.
///
/// Each boot contributes one number, the mean of its iterations. The ratio is exp(mean(log c) −
/// mean(log b)) over the boot means; its interval is a Welch t interval on the log boot means with
/// Welch–Satterthwaite degrees of freedom, transformed back.
public struct BootLevel: Codable, Sendable, Equatable {
    public var bootsBaseline: Int
    public var bootsCandidate: Int
    /// Ratio of the geometric means of the boot means (candidate / baseline).
    public var ratio: Double
    /// Standard error of the log ratio; 0 when neither side varies between boots.
    public var logRatioSE: Double
    /// Welch–Satterthwaite degrees of freedom.
    public var df: Double
    /// Two-sided interval of the ratio at `ci.level` = 1 − 2·(the Holm level this row was decided at),
    /// so that it agrees with the verdict: a regression's interval lies wholly above 1 + threshold.
    public var ci: Interval
    /// One-sided minimum-effect p-values: H0 ratio ≤ 1 + threshold (`pAbove`), H0 ratio ≥ 1 − threshold (`pBelow`).
    public var pAbove: Double
    public var pBelow: Double
    /// TOST p-value: the larger of the two one-sided p-values against ratio ≤ 1 − threshold and ratio ≥ 1 + threshold.
    public var pEquivalence: Double
    /// Holm-adjusted p of the directional test (the smaller of pAbove, pBelow) within the family.
    public var adjustedPDirectional: Double
    /// Holm-adjusted TOST p within the family.
    public var adjustedPEquivalence: Double
    public var family: ComparisonFamily
    public var familySize: Int
    /// Fewer than 5 boots on either side: the verdict stands but its power is low.
    public var underpowered: Bool
    /// Why no test was made (both sides constant between boots), else nil.
    @NullableOrMissing public var noTestReason: String?
    /// Percentile interval from a two-stage (boot → iteration) bootstrap at `ci.level`, when each side has ≥ 8 boots.
    @NullableOrMissing public var twoStageCI: Interval?

    /// Below this many boots on either side a design is underpowered.
    public static let adequateBoots = 5
    /// From this many boots on each side a two-stage bootstrap interval is reported as well.
    public static let twoStageMinimumBoots = 8

    enum CodingKeys: String, CodingKey {
        case bootsBaseline = "boots_baseline"
        case bootsCandidate = "boots_candidate"
        case ratio
        case logRatioSE = "log_ratio_se"
        case df, ci
        case pAbove = "p_above"
        case pBelow = "p_below"
        case pEquivalence = "p_equivalence"
        case adjustedPDirectional = "adjusted_p_directional"
        case adjustedPEquivalence = "adjusted_p_equivalence"
        case family
        case familySize = "family_size"
        case underpowered
        case noTestReason = "no_test_reason"
        case twoStageCI = "two_stage_ci"
    }

    public init(bootsBaseline: Int, bootsCandidate: Int, ratio: Double, logRatioSE: Double, df: Double, ci: Interval,
                pAbove: Double, pBelow: Double, pEquivalence: Double, adjustedPDirectional: Double,
                adjustedPEquivalence: Double, family: ComparisonFamily, familySize: Int, underpowered: Bool,
                noTestReason: String? = nil, twoStageCI: Interval? = nil) {
        self.bootsBaseline = bootsBaseline; self.bootsCandidate = bootsCandidate; self.ratio = ratio
        self.logRatioSE = logRatioSE; self.df = df; self.ci = ci
        self.pAbove = pAbove; self.pBelow = pBelow; self.pEquivalence = pEquivalence
        self.adjustedPDirectional = adjustedPDirectional; self.adjustedPEquivalence = adjustedPEquivalence
        self.family = family; self.familySize = familySize; self.underpowered = underpowered
        self.noTestReason = noTestReason; self.twoStageCI = twoStageCI
    }
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
    /// Within-boot, descriptive: percentile bootstrap CI of the ratio of means over pooled iterations.
    /// It treats iterations as independent and so is too narrow for inference; `bootLevel.ci` is the headline.
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
    /// The Holm-corrected p-value of the test that decided the verdict (the directional minimum-effect test,
    /// or TOST for `equivalent`), within the comparison's family; 1 when no test was made.
    public var adjustedP: Double
    public var threshold: Double
    public var alpha: Double
    public var verdict: Verdict
    public var resamples: Int
    public var seed: UInt64
    /// The boot-level analysis that decides the verdict; nil in documents of schema 1.0.
    public var bootLevel: BootLevel?

    enum CodingKeys: String, CodingKey {
        case bootLevel = "boot_level"
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

    /// The headline ratio: the boot-level one when there is one, else the pooled ratio of means.
    public var headlineRatio: Double { bootLevel?.ratio ?? ratioOfMeans }
    /// The headline interval: the boot-level one when there is one, else the pooled percentile interval.
    public var headlineCI: Interval { bootLevel?.ci ?? ratioOfMeansCI }
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
    /// Nil when the variant was not run; written as null rather than omitted, so every variant
    /// object has the same keys.
    @NullableOrMissing public var descriptive: Descriptive?
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
}

/// All variants of one workload for one metric, and their comparisons with the baseline.
public struct WorkloadResult: Codable, Sendable, Equatable {
    public var workload: String
    public var metric: String
    /// What the metric is (from the workload manifest); `secondary` in documents of schema 1.0.
    public var kind: MetricKind
    public var unit: String
    public var direction: Direction
    public var baseline: String
    public var variants: [VariantResult]
    public var comparisons: [Comparison]
    /// For verification metrics: whether every variant produced the same values. Nil for other kinds.
    public var check: VerificationCheck?
    /// Kalibera & Jones design advice per variant (primary metrics only).
    public var design: [DesignAdvice]
    /// Counters only: the counter per unit of the workload's work (per frame, per inference), per variant.
    public var perUnit: PerUnitOfWork?
    /// What the metric measures, from the workload manifest; nil when it does not say.
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case workload, metric, kind, unit, direction, baseline, variants, comparisons, check, design, description
        case perUnit = "per_unit"
    }

    public init(workload: String, metric: String, kind: MetricKind = .secondary, unit: String, direction: Direction,
                baseline: String, variants: [VariantResult], comparisons: [Comparison],
                check: VerificationCheck? = nil, design: [DesignAdvice] = []) {
        self.workload = workload; self.metric = metric; self.kind = kind; self.unit = unit; self.direction = direction
        self.baseline = baseline; self.variants = variants; self.comparisons = comparisons
        self.check = check; self.design = design
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workload = try c.decode(String.self, forKey: .workload)
        metric = try c.decode(String.self, forKey: .metric)
        kind = try c.decodeIfPresent(MetricKind.self, forKey: .kind) ?? .secondary
        unit = try c.decode(String.self, forKey: .unit)
        direction = try c.decode(Direction.self, forKey: .direction)
        baseline = try c.decode(String.self, forKey: .baseline)
        variants = try c.decode([VariantResult].self, forKey: .variants)
        comparisons = try c.decode([Comparison].self, forKey: .comparisons)
        check = try c.decodeIfPresent(VerificationCheck.self, forKey: .check)
        design = try c.decodeIfPresent([DesignAdvice].self, forKey: .design) ?? []
        perUnit = try c.decodeIfPresent(PerUnitOfWork.self, forKey: .perUnit)
        description = try c.decodeIfPresent(String.self, forKey: .description)
    }

    /// The metric's typed identity.
    public var id: MetricID { MetricID(name: metric, kind: kind, unit: unit) }
}

/// A counter normalised by the work it paid for: its mean per unit of the workload's work metric.
public struct PerUnitOfWork: Codable, Sendable, Equatable {
    /// The unit of work, e.g. "frame" or "inference".
    public var unit: String
    /// The work metric it divides by, e.g. "frames".
    public var workMetric: String
    /// How it was normalised: per iteration (the counter and the work of the same iteration), or per
    /// boot (a boot's counter over the work of its measured iterations; the counter also covers the boot
    /// itself and the warm-up iterations).
    public var basis: String
    public var values: [Value]

    public struct Value: Codable, Sendable, Equatable {
        public var variant: String
        public var value: Double
        public init(variant: String, value: Double) { self.variant = variant; self.value = value }
    }

    enum CodingKeys: String, CodingKey {
        case unit
        case workMetric = "work_metric"
        case basis, values
    }

    public init(unit: String, workMetric: String, basis: String, values: [Value]) {
        self.unit = unit; self.workMetric = workMetric; self.basis = basis; self.values = values
    }

    public func value(for variant: String) -> Double? { values.first { $0.variant == variant }?.value }
}

/// The check of a verification metric (a checksum or a count): every value of every variant should be the
/// same. Such metrics are checked, not compared.
public struct VerificationCheck: Codable, Sendable, Equatable {
    /// True when every value of every run variant is the same number.
    public var consistent: Bool
    /// The distinct values seen, in ascending order (at most 5 listed).
    public var values: [Double]
    /// How many distinct values there were.
    public var distinct: Int

    public init(consistent: Bool, values: [Double], distinct: Int) {
        self.consistent = consistent; self.values = values; self.distinct = distinct
    }
}

/// Kalibera & Jones (2013) design advice for one variant of one workload's primary metric.
public struct DesignAdvice: Codable, Sendable, Equatable {
    public var variant: String
    public var boots: Int
    public var iterationsPerBoot: Double
    /// S₁²: variance of iterations within a boot.
    public var withinBootVariance: Double
    /// T₂² = S₂² − S₁²/n: the variance boots add beyond iteration noise (≤ 0: none detected).
    public var betweenBootVariance: Double
    /// Measured cost of one boot beyond its iterations, and of one iteration, in seconds; nil when not measured.
    @NullableOrMissing public var bootCostSeconds: Double?
    @NullableOrMissing public var iterationCostSeconds: Double?
    /// Cost-optimal iterations per boot; nil when no between-boot variance was detected or costs are unknown.
    @NullableOrMissing public var optimalIterationsPerBoot: Int?
    /// Boots per side for a boot-level ratio CI of ±`targetRelativeHalfWidth` at that design.
    public var bootsForTarget: Int
    public var targetRelativeHalfWidth: Double

    enum CodingKeys: String, CodingKey {
        case variant, boots
        case iterationsPerBoot = "iterations_per_boot"
        case withinBootVariance = "within_boot_variance"
        case betweenBootVariance = "between_boot_variance"
        case bootCostSeconds = "boot_cost_s"
        case iterationCostSeconds = "iteration_cost_s"
        case optimalIterationsPerBoot = "optimal_iterations_per_boot"
        case bootsForTarget = "boots_for_target"
        case targetRelativeHalfWidth = "target_relative_half_width"
    }

    public init(variant: String, boots: Int, iterationsPerBoot: Double, withinBootVariance: Double,
                betweenBootVariance: Double, bootCostSeconds: Double?, iterationCostSeconds: Double?,
                optimalIterationsPerBoot: Int?, bootsForTarget: Int, targetRelativeHalfWidth: Double) {
        self.variant = variant; self.boots = boots; self.iterationsPerBoot = iterationsPerBoot
        self.withinBootVariance = withinBootVariance; self.betweenBootVariance = betweenBootVariance
        self.bootCostSeconds = bootCostSeconds; self.iterationCostSeconds = iterationCostSeconds
        self.optimalIterationsPerBoot = optimalIterationsPerBoot; self.bootsForTarget = bootsForTarget
        self.targetRelativeHalfWidth = targetRelativeHalfWidth
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
    @NullableOrMissing public var variant: String?
    public var reason: String

    public init(metric: String, variant: String? = nil, reason: String) {
        self.metric = metric; self.variant = variant; self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case metric, variant, reason
    }
}
