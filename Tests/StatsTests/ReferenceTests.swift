// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
@testable import Stats
import Testing

/// Checks against values computed with numpy/SciPy (analysis/reference/make_stats_fixtures.py).
@Suite(.tags(.reference))
struct ReferenceTests {
    struct Dataset: CustomTestStringConvertible, Sendable {
        var name: String
        var baseline: [Double]
        var candidate: [Double]
        var raw: [String: Double]
        var describeBaseline: [String: Double]
        var describeCandidate: [String: Double]
        var testDescription: String { name }
    }

    static func datasets() throws -> [Dataset] {
        let root = try fixture("two_sample")
        return (root["datasets"] as? [[String: Any]] ?? []).map { d in
            func flat(_ any: Any?) -> [String: Double] {
                var out: [String: Double] = [:]
                for (k, v) in any as? [String: Any] ?? [:] {
                    if let n = v as? NSNumber { out[k] = n.doubleValue }
                    if let q = v as? [String: Any] { for (qk, qv) in q { out[qk] = number(qv) } }
                }
                return out
            }
            return Dataset(name: d["name"] as? String ?? "?", baseline: doubles(d["baseline"]),
                           candidate: doubles(d["candidate"]), raw: flat(d),
                           describeBaseline: flat(d["describe_baseline"]),
                           describeCandidate: flat(d["describe_candidate"]))
        }
    }

    @Test func fixturesArePresent() throws {
        let sets = try Self.datasets()
        #expect(sets.count == 6)
        #expect(sets.allSatisfy { $0.baseline.count >= 3 && $0.candidate.count >= 3 })
    }

    @Test(arguments: try ReferenceTests.datasets())
    func describeMatchesNumpy(_ d: Dataset) throws {
        for (values, expected) in [(d.baseline, d.describeBaseline), (d.candidate, d.describeCandidate)] {
            let s = try Statistics.describe(values)
            #expect(Double(s.n) == expected["n"])
            let pairs: [(String, Double)] = [
                ("mean", s.mean), ("stddev", s.stddev), ("median", s.median), ("mad", s.mad), ("cv", s.cv),
                ("p0", s.quantiles.p0), ("p5", s.quantiles.p5), ("p25", s.quantiles.p25), ("p50", s.quantiles.p50),
                ("p75", s.quantiles.p75), ("p95", s.quantiles.p95), ("p100", s.quantiles.p100),
            ]
            for (key, value) in pairs {
                let want = try #require(expected[key], "fixture lacks \(key)")
                #expect(close(value, want, rel: 1e-9, abs: 1e-12), "\(d.name) \(key): \(value) vs numpy \(want)")
            }
        }
    }

    @Test(arguments: try ReferenceTests.datasets())
    func welchMatchesScipy(_ d: Dataset) throws {
        let w = try Statistics.welch(baseline: d.baseline, candidate: d.candidate)
        #expect(close(w.t, d.raw["welch_t"]!), "t \(w.t) vs \(d.raw["welch_t"]!)")
        #expect(close(w.df, d.raw["welch_df"]!), "df \(w.df) vs \(d.raw["welch_df"]!)")
        #expect(close(w.p, d.raw["welch_p"]!, rel: 1e-9), "p \(w.p) vs \(d.raw["welch_p"]!)")
    }

    @Test(arguments: try ReferenceTests.datasets())
    func mannWhitneyMatchesScipy(_ d: Dataset) throws {
        let mw = try Statistics.mannWhitney(baseline: d.baseline, candidate: d.candidate)
        #expect(mw.u == d.raw["mann_whitney_u"]!, "U \(mw.u) vs \(d.raw["mann_whitney_u"]!)")
        #expect(close(mw.p, d.raw["mann_whitney_p"]!, rel: 1e-9), "p \(mw.p) vs \(d.raw["mann_whitney_p"]!)")
    }

    @Test(arguments: try ReferenceTests.datasets())
    func effectSizesMatchNumpy(_ d: Dataset) throws {
        let hl = try Statistics.hodgesLehmann(baseline: d.baseline, candidate: d.candidate)
        #expect(close(hl, d.raw["hodges_lehmann"]!, rel: 1e-12, abs: 1e-15), "HL \(hl) vs \(d.raw["hodges_lehmann"]!)")
        let delta = try Statistics.cliffsDelta(baseline: d.baseline, candidate: d.candidate)
        #expect(close(delta, d.raw["cliffs_delta"]!, rel: 1e-12), "delta \(delta) vs \(d.raw["cliffs_delta"]!)")
    }

    @Test(arguments: try ReferenceTests.datasets())
    func compareFillsTheSameValues(_ d: Dataset) throws {
        let c = try Statistics.compare(baseline: d.baseline, candidate: d.candidate,
                                       options: CompareOptions(resamples: 1000, seed: 7))
        #expect(close(c.ratioOfMeans, d.raw["ratio_of_means"]!, rel: 1e-12))
        #expect(close(c.ratioOfMedians, d.raw["ratio_of_medians"]!, rel: 1e-12))
        #expect(close(c.welchP, d.raw["welch_p"]!))
        #expect(c.mannWhitneyU == d.raw["mann_whitney_u"]!)
        #expect(close(c.hodgesLehmann, d.raw["hodges_lehmann"]!, rel: 1e-12, abs: 1e-15))
        // The verdict is decided on the values as independent units (log-ratio Welch), a family of one.
        let bl = try #require(c.bootLevel)
        #expect(bl.bootsBaseline == d.baseline.count && bl.familySize == 1)
        #expect(c.adjustedP == min(bl.pAbove, bl.pBelow) || c.adjustedP == bl.pEquivalence)
        #expect(c.nBaseline == d.baseline.count && c.nCandidate == d.candidate.count)
        #expect(c.ratioOfMeansCI.low <= c.ratioOfMeans && c.ratioOfMeans <= c.ratioOfMeansCI.high)
    }

    @Test func holmMatchesTextbookProcedure() throws {
        let root = try fixture("holm")
        let cases = root["cases"] as? [[String: Any]] ?? []
        #expect(cases.count == 5)
        for c in cases {
            let got = Statistics.holm(doubles(c["p"]))
            let want = doubles(c["adjusted"])
            #expect(got.count == want.count)
            for (g, w) in zip(got, want) { #expect(close(g, w, rel: 1e-12), "\(got) vs \(want)") }
        }
    }

    @Test func outliersMatchReference() throws {
        let root = try fixture("outliers")
        let xs = doubles(root["values"])
        let tukey = (root["tukey"] as? [Int]) ?? []
        let mad = (root["mad"] as? [Int]) ?? []
        #expect(!tukey.isEmpty)
        #expect(Statistics.tukeyOutliers(xs, k: 1.5) == tukey)
        #expect(Statistics.madOutliers(xs, cutoff: 3.5) == mad)
    }

    /// SciPy's BCa and percentile intervals come from another generator, so the check is loose: each
    /// end within 10% of the interval's width (Monte Carlo error at 10,000 resamples is ~2–3%).
    @Test func bootstrapIntervalsAgreeWithScipy() throws {
        let root = try fixture("bootstrap")
        let b = doubles(root["baseline"]), c = doubles(root["candidate"])
        let cmp = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 10_000, seed: 3))
        let checks: [(String, Interval)] = [
            ("means_percentile", cmp.ratioOfMeansCI), ("means_bca", cmp.ratioOfMeansBCa),
            ("medians_percentile", cmp.ratioOfMediansCI), ("medians_bca", cmp.ratioOfMediansBCa),
        ]
        for (key, ours) in checks {
            let theirs = doubles(root[key])
            try #require(theirs.count == 2)
            let width = theirs[1] - theirs[0]
            #expect(abs(ours.low - theirs[0]) <= 0.1 * width, "\(key) low \(ours.low) vs SciPy \(theirs[0])")
            #expect(abs(ours.high - theirs[1]) <= 0.1 * width, "\(key) high \(ours.high) vs SciPy \(theirs[1])")
        }
        // The ratio-of-means engine that `bench stats` times against SciPy gives the same interval.
        let engine = try Statistics.bootstrapRatioOfMeans(baseline: b, candidate: c, resamples: 10_000, seed: 3)
        let theirs = doubles(root["means_percentile"])
        #expect(abs(engine.low - theirs[0]) <= 0.1 * (theirs[1] - theirs[0]), "engine low \(engine.low) vs SciPy \(theirs[0])")
        #expect(abs(engine.high - theirs[1]) <= 0.1 * (theirs[1] - theirs[0]), "engine high \(engine.high) vs SciPy \(theirs[1])")
        let oneThread = try Statistics.bootstrapRatioOfMeans(baseline: b, candidate: c, resamples: 10_000, seed: 3, threads: 1)
        #expect(oneThread == engine)
        // The acceleration is deterministic, so it must match the direct leave-one-out jackknife.
        let mb = b.reduce(0, +) / Double(b.count), mc = c.reduce(0, +) / Double(c.count)
        let aMeans = Bootstrap.acceleration(jackknife: [Bootstrap.jackknifeMeans(b).map { mc / $0 },
                                                        Bootstrap.jackknifeMeans(c).map { $0 / mb }])
        #expect(close(aMeans, number(root["means_acceleration"]), rel: 1e-9), "a \(aMeans) vs \(number(root["means_acceleration"]))")
        let sb = b.sorted(), sc = c.sorted()
        let medB = try Statistics.describe(b).median, medC = try Statistics.describe(c).median
        let aMedians = Bootstrap.acceleration(jackknife: [Bootstrap.jackknifeMedians(sorted: sb).map { medC / $0 },
                                                          Bootstrap.jackknifeMedians(sorted: sc).map { $0 / medB }])
        #expect(close(aMedians, number(root["medians_acceleration"]), rel: 1e-9, abs: 1e-12), "a \(aMedians) vs \(number(root["medians_acceleration"]))")
        // BCa shifts the interval the same way SciPy's does (both move up for this right-skewed ratio).
        let scipyShift = doubles(root["means_bca"])[0] - doubles(root["means_percentile"])[0]
        let ourShift = cmp.ratioOfMeansBCa.low - cmp.ratioOfMeansCI.low
        #expect(scipyShift.sign == ourShift.sign)
    }
}

/// Boot-level statistics against SciPy (Tests/StatsTests/Fixtures/boot_level.json, written by
/// analysis/reference/make_boot_level_fixture.py).
@Suite(.tags(.reference)) struct BootLevelReferenceTests {
    @Test func logRatioWelchMinimumEffectAndTOSTMatchSciPy() throws {
        let cases = try #require(try fixture("boot_level")["cases"] as? [[String: Any]])
        #expect(cases.count == 5)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let theta = number(c["threshold"])
            let w = try Statistics.logRatioWelch(baselineBootMeans: doubles(c["baseline"]),
                                                 candidateBootMeans: doubles(c["candidate"]))
            #expect(close(w.ratio, number(c["ratio"]), rel: 1e-12), "\(name) ratio")
            #expect(close(w.logRatio / w.se, number(c["t"]), rel: 1e-10), "\(name) t")
            #expect(close(w.df, number(c["df"]), rel: 1e-10), "\(name) df")
            let ci = w.interval(level: 0.90)
            #expect(close(ci.low, number(c["ci90_low"]), rel: 1e-9), "\(name) CI low")
            #expect(close(ci.high, number(c["ci90_high"]), rel: 1e-9), "\(name) CI high")
            let p = try #require(w.pValues(threshold: theta))
            #expect(close(p.above, number(c["p_above"]), rel: 1e-7, abs: 1e-15), "\(name) p above")
            #expect(close(p.below, number(c["p_below"]), rel: 1e-7, abs: 1e-15), "\(name) p below")
            #expect(close(p.equivalence, number(c["p_equivalence"]), rel: 1e-7, abs: 1e-15), "\(name) TOST p")
        }
    }
}
