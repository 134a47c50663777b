// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Stats
import Yams

/// Compares two results directories: the same variants and workloads measured twice, e.g. on a
/// baseline kernel and on a patched one. This is the check an upstream reviewer runs in CI.
public enum CompareRuns {
    /// Statistics settings given on the command line; nil: not given.
    public struct Overrides: Sendable, Equatable {
        public var threshold: Double?
        public var alpha: Double?
        public var resamples: Int?
        public var seed: UInt64?

        public init(threshold: Double? = nil, alpha: Double? = nil, resamples: Int? = nil, seed: UInt64? = nil) {
            self.threshold = threshold; self.alpha = alpha; self.resamples = resamples; self.seed = seed
        }
    }

    /// The settings a comparison used, and where each came from.
    public struct Settings: Sendable, Equatable {
        public var options: CompareOptions
        /// One entry per setting: name, value as shown, and its source ("flag", "baseline spec" or "default").
        public var applied: [(name: String, value: String, source: String)]

        public static func == (a: Settings, b: Settings) -> Bool {
            a.options == b.options && a.applied.map { "\($0.name)=\($0.value)@\($0.source)" }
                == b.applied.map { "\($0.name)=\($0.value)@\($0.source)" }
        }

        /// Flags override the baseline spec's `stats` block, which overrides the defaults. The seed
        /// comes from the flag, else the baseline spec's seed.
        public static func resolve(spec: ExperimentSpec?, overrides: Overrides) -> Settings {
            let defaults = StatsSettings()
            // Which keys the spec's own text gives in its stats block; the others are the spec defaults.
            var given: Set<String> = []
            if let text = spec?.source?.yaml, let root = (try? Yams.compose(yaml: text)) ?? nil,
               let stats = root.mapping?["stats"]?.mapping {
                given = Set(stats.keys.compactMap(\.string))
            }
            func pick<T>(_ flag: T?, _ key: String, _ fromSpec: T?, _ fallback: T) -> (T, String) {
                if let flag { return (flag, "flag") }
                if let fromSpec { return (fromSpec, given.contains(key) ? "baseline spec" : "default") }
                return (fallback, "default")
            }
            let threshold = pick(overrides.threshold, "threshold", spec?.stats.threshold, defaults.threshold)
            let alpha = pick(overrides.alpha, "alpha", spec?.stats.alpha, defaults.alpha)
            let resamples = pick(overrides.resamples, "resamples", spec?.stats.resamples, defaults.resamples)
            let seed: (UInt64, String) = overrides.seed.map { ($0, "flag") } ?? spec.map { ($0.seed, "baseline spec") } ?? (1, "default")
            return Settings(options: CompareOptions(threshold: threshold.0, alpha: alpha.0, resamples: resamples.0, seed: seed.0),
                            applied: [("threshold", "\(threshold.0)", threshold.1), ("alpha", "\(alpha.0)", alpha.1),
                                      ("resamples", "\(resamples.0)", resamples.1), ("seed", "\(seed.0)", seed.1)])
        }

        public var line: String {
            applied.map { "\($0.name) \($0.value) (\($0.source))" }.joined(separator: ", ")
        }
    }

    public struct Row: Sendable, Equatable {
        public var workload: String
        public var variant: String
        public var metric: MetricID
        public var family: ComparisonFamily
        public var outcome: SeriesOutcome

        /// The comparison, when the row could be analysed.
        public var comparison: Comparison? { outcome.comparison }
    }

    public struct Outcome: Sendable {
        public var rows: [Row]
        /// Series the baseline has and the candidate lacks or failed: each names its workload and variant.
        public var missing: [String]
        /// Series present only in the candidate run.
        public var unmatched: [String]
        /// Verification metrics (checksums, counts), checked rather than compared: one line each saying
        /// whether the candidate run gave the baseline run's values. They never decide the exit status.
        public var checks: [String] = []
        public var settings: Settings

        /// The rows that decide the exit code: primary metrics of counted variants.
        public var deciding: [Row] { rows.filter { $0.family == .primary } }

        /// 3 when a candidate series is missing or failed; else 2 on any primary regression; else 6 when a
        /// primary comparison is inconclusive or allowed no test, or no primary row could be analysed; else 4
        /// on any improvement; else 0 (every primary comparison equivalent). Unanalysable rows are reported
        /// and do not decide unless no row could be analysed.
        public var exitStatus: ExitStatus {
            if !missing.isEmpty { return .runFailed }
            let verdicts = deciding.compactMap { $0.comparison?.verdict }
            if verdicts.contains(.regression) { return .regression }
            if verdicts.isEmpty || verdicts.contains(.inconclusive) || verdicts.contains(.noTest) { return .inconclusive }
            if verdicts.contains(.improvement) { return .improvementOnly }
            return .success
        }
    }

    /// Compares the two runs series by series: the same workload, variant and metric, by boot.
    ///
    /// Each workload's primary metric comes from the baseline run's spec, and the kinds and units of
    /// the others from the workload manifests. Without `allMetrics` only primary metrics are compared.
    /// Families (primary, secondary, counter, uncounted twin) are corrected separately; only the primary
    /// family decides the exit status.
    public static func compare(baseline: URL, candidate: URL, allMetrics: Bool = false,
                               overrides: Overrides = Overrides(),
                               catalogue: WorkloadCatalogue? = nil) throws -> Outcome {
        let base = try readSamples(baseline, role: .baseline)
        let cand = try readSamples(candidate, role: .candidate)
        let spec = try? RunSession.specOfRun(baseline)
        let settings = Settings.resolve(spec: spec, overrides: overrides)
        let known = catalogue ?? (try? RunSession.catalogue())
        let info = spec?.metricInfo(catalogue: known) ?? [:]
        let twins = spec?.uncountedTwins ?? []

        struct Key: Hashable, Comparable {
            var workload, variant, metric: String
            static func < (a: Key, b: Key) -> Bool { (a.workload, a.variant, a.metric) < (b.workload, b.variant, b.metric) }
        }
        var kinds: [MetricKey: MetricKind] = [:]
        func group(_ samples: [Sample]) -> [Key: [(boot: Int, value: Double)]] {
            var out: [Key: [(boot: Int, value: Double)]] = [:]
            for s in samples {
                let mk = MetricKey(workload: s.workload, metric: s.metric)
                if let kind = s.kind, info[mk] == nil { kinds[mk] = kind }
                out[Key(workload: s.workload, variant: s.variant, metric: s.metric), default: []].append((s.boot, s.value))
            }
            return out
        }
        let a = group(base.samples), b = group(cand.samples)
        func metricInfo(_ key: Key) -> MetricInfo {
            let mk = MetricKey(workload: key.workload, metric: key.metric)
            // Not in the spec's table (counters, or a run without its spec): what the workload's manifest says.
            return info[mk] ?? MetricInfo(kind: kinds[mk] ?? .secondary,
                                          direction: known?.entry(named: key.workload)?.direction(of: key.metric)
                                              ?? .lowerIsBetter)
        }
        func included(_ key: Key) -> Bool { allMetrics || metricInfo(key).kind == .primary }

        var pairs: [SeriesPair] = []
        var places: [(Key, MetricInfo)] = []
        var missing: [String] = []
        var checks: [String] = []
        for key in a.keys.sorted() where included(key) {
            let m = metricInfo(key)
            guard let candidateValues = b[key] else {
                if m.kind == .primary {
                    let failures = cand.failures.filter { $0.variant == key.variant && ($0.workload == nil || $0.workload == key.workload) }
                    let notRun = cand.notRun.filter { $0.variant == key.variant && ($0.workload == nil || $0.workload == key.workload) }
                    let why = failures.first.map { "it failed: \($0.reason)" }
                        ?? notRun.first.map { "it was not run: \($0.reason)" } ?? "it has no samples"
                    missing.append("workload \(key.workload), variant \(key.variant), \(key.metric): the baseline run has this series "
                        + "and the candidate run does not (\(why))")
                }
                continue
            }
            let family: ComparisonFamily
            switch m.kind {
            case .primary: family = twins.contains(key.variant) ? .twin : .primary
            case .secondary, .verification: family = .secondary
            case .counter: family = .counter
            }
            if m.kind == .verification {
                let before = Set(a[key]!.map(\.value)), after = Set(candidateValues.map(\.value))
                let shown = { (values: Set<Double>) in values.sorted().prefix(3).map { "\($0)" }.joined(separator: ", ") }
                checks.append(before == after
                    ? "\(key.workload)/\(key.variant)/\(key.metric): consistent (\(shown(before)))"
                    : "\(key.workload)/\(key.variant)/\(key.metric): differs: baseline run \(shown(before)), candidate run \(shown(after))")
                continue
            }
            let id = MetricID(name: key.metric, kind: m.kind, unit: m.unit ?? "")
            pairs.append(SeriesPair(workload: key.workload, metric: id, direction: m.direction,
                                    baselineName: "baseline run", candidateName: "candidate run",
                                    baseline: Statistics.groupByBoot(a[key]!.filter { $0.value.isFinite }),
                                    candidate: Statistics.groupByBoot(candidateValues.filter { $0.value.isFinite }),
                                    family: family))
            places.append((key, m))
        }
        let outcomes = try Statistics.compareSeries(pairs, options: settings.options)
        var rows: [Row] = []
        for ((key, _), (pair, outcome)) in zip(places, zip(pairs, outcomes)) {
            rows.append(Row(workload: key.workload, variant: key.variant, metric: pair.metric, family: pair.family, outcome: outcome))
        }
        let unmatched = Set(b.keys).subtracting(a.keys).filter(included).sorted()
            .map { "\($0.workload)/\($0.variant)/\($0.metric) only in the candidate run" }
        return Outcome(rows: rows, missing: missing, unmatched: unmatched, checks: checks, settings: settings)
    }

    /// Which side of a comparison a run is.
    enum Role: String {
        case baseline, candidate

        /// A missing baseline has an exit code of its own; a missing candidate is bad input.
        var missingCode: RVBenchError.Code { self == .baseline ? .baselineMissing : .notFound }
    }

    static func readSamples(_ url: URL, role: Role) throws -> JournalContents {
        let dir = ResultsDirectory(url: url)
        let missing = role.missingCode
        do { try dir.checkExists() } catch {
            throw RVBenchError(missing, "the \(role.rawValue) results directory \(url.path) is missing or incomplete", cause: error)
        }
        let contents: JournalContents
        do { contents = try dir.readSamples() } catch let error as RVBenchError where role == .baseline {
            throw RVBenchError(missing, "the baseline run \(url.path) cannot be read", cause: error)
        }
        if contents.samples.isEmpty {
            throw RVBenchError(missing, "the \(role.rawValue) run \(url.path) has no samples")
        }
        return contents
    }

    /// A Markdown summary for a CI job page: the deciding (primary) rows first, then the others.
    public static func markdown(_ outcome: Outcome, baseline: String, candidate: String) -> String {
        var md = "## rvbench compare\n\nBaseline `\(cell(baseline))` against candidate `\(cell(candidate))`. "
            + "Ratio = candidate / baseline on boot means (geometric mean of per-boot means); the interval is a log-ratio "
            + "Welch t interval at the level that matches the Holm-corrected decision; p is the Holm-corrected p of the "
            + "deciding test (one-sided against 1 ± threshold, or TOST for equivalent).\n\n"
        md += "Settings: \(cell(outcome.settings.line)).\n\n"
        if !outcome.missing.isEmpty {
            md += "**Missing or failed in the candidate run (exit 3):**\n\n" + outcome.missing.map { "- \(cell($0))\n" }.joined() + "\n"
        }
        for (title, rows) in [("Primary metrics (decide the exit code)", outcome.deciding),
                              ("Other metrics (reported, never decide)", outcome.rows.filter { $0.family != .primary })] where !rows.isEmpty {
            md += "### \(title)\n\n"
            md += "| workload | variant | metric | boots | ratio | CI | p (Holm) | family | verdict |\n|---|---|---|---|---|---|---|---|---|\n"
            for r in rows {
                switch r.outcome {
                case .compared(let c):
                    let bl = c.bootLevel!
                    var verdict = c.verdict == .regression ? "**regression**" : c.verdict.rawValue
                    if bl.underpowered { verdict += " (underpowered: fewer than \(BootLevel.adequateBoots) boots per side)" }
                    if let reason = bl.noTestReason { verdict += " (\(reason))" }
                    let level = String(format: "%.1f%%", bl.ci.level * 100)
                    md += "| \(cell(r.workload)) | \(cell(r.variant)) | \(cell(r.metric.name)) | \(bl.bootsBaseline) vs \(bl.bootsCandidate) | "
                        + String(format: "%.4f | %@ [%.4f, %.4f] | %.3g | ", bl.ratio, level, bl.ci.low, bl.ci.high, c.adjustedP)
                        + "\(r.family.rawValue) (\(bl.familySize)) | \(verdict) |\n"
                case .unanalysable(let reason):
                    md += "| \(cell(r.workload)) | \(cell(r.variant)) | \(cell(r.metric.name)) | — | — | — | — | \(r.family.rawValue) | "
                        + "not analysed: \(cell(reason)) |\n"
                }
            }
            md += "\n"
        }
        if !outcome.checks.isEmpty {
            md += "### Verification (checked, not compared; never decide)\n\n" + outcome.checks.map { "- \(cell($0))\n" }.joined() + "\n"
        }
        if !outcome.unmatched.isEmpty {
            md += "Not compared (present in the candidate run only):\n\n" + outcome.unmatched.map { "- \(cell($0))\n" }.joined()
        }
        md += "\nExit status: \(outcome.exitStatus.rawValue) (\(outcome.exitStatus)).\n"
        return md
    }

    /// Escapes a table cell: pipes, markup and newlines from data.
    static func cell(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n", "\r": out += " "
            default: out.append(ch)
            }
        }
        return out
    }

    /// For `reproduce`: whether each comparison's boot-level ratio CI in the new run overlaps the original's.
    public static func agreement(original: ResultsDocument, again: ResultsDocument) -> [(String, Bool?)] {
        var out: [(String, Bool?)] = []
        for w in original.workloads {
            let other = again.workloads.first { $0.workload == w.workload && $0.metric == w.metric }
            for c in w.comparisons {
                let name = "\(w.workload) \(w.metric) \(c.candidate) vs \(c.baseline)"
                guard let d = other?.comparisons.first(where: { $0.candidate == c.candidate && $0.baseline == c.baseline }) else {
                    out.append((name, nil))
                    continue
                }
                let x = c.headlineCI, y = d.headlineCI
                out.append((name, x.low <= y.high && y.low <= x.high))
            }
        }
        return out
    }
}
