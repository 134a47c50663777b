// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
@testable import Stats
import Testing

@Suite struct DescribeTests {
    @Test func smallKnownSample() throws {
        let d = try Statistics.describe([4, 1, 3, 2, 10])
        #expect(d.n == 5)
        #expect(d.mean == 4)
        #expect(close(d.stddev, (50.0 / 4).squareRoot()))
        #expect(d.median == 3)
        #expect(d.mad == 1)             // |x − 3| = 1, 2, 0, 1, 7 → median 1
        #expect(d.quantiles.p25 == 2 && d.quantiles.p75 == 4)
        #expect(close(d.quantiles.p95, 8.8))  // type 7: 4 + 0.8·(10 − 4)
        #expect(d.quantiles.p0 == 1 && d.quantiles.p100 == 10)
        #expect(close(d.cv, d.stddev / 4))
    }

    @Test(arguments: [[Double](), [1.0], [1.0, .nan, 2.0], [1.0, .infinity]])
    func rejectsUnusableInput(_ xs: [Double]) {
        #expect(throws: RVBenchError.self) { try Statistics.describe(xs) }
    }

    @Test func errorMessagesSayWhatToDo() {
        do {
            _ = try Statistics.describe([1])
            Issue.record("expected an error")
        } catch let e as RVBenchError {
            #expect(e.code == .badInput)
            #expect(e.message.contains("at least 2"))
        } catch { Issue.record("unexpected \(error)") }
    }
}

@Suite struct CompareTests {
    static let base = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9, 10.3, 10.0, 10.4, 9.7]

    @Test func sameSeedSameResultAnyThreadCount() throws {
        let b = try SyntheticData.lognormal(count: 300, mu: 0, sigma: 0.3, seed: 11)
        let c = try SyntheticData.lognormal(count: 250, mu: 0.05, sigma: 0.3, seed: 12)
        let one = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 2000, seed: 5, threads: 1))
        let two = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 2000, seed: 5, threads: 2))
        let three = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 2000, seed: 5, threads: 3))
        #expect(one == two)
        #expect(one == three)
        let other = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 2000, seed: 6))
        #expect(other.ratioOfMeansCI != one.ratioOfMeansCI)
        #expect(other.ratioOfMeans == one.ratioOfMeans)
    }

    @Test func rejectsBadSamples() {
        let ok = Self.base
        for bad in [[], [1.0], [1.0, .nan], [1.0, -2.0], [0.0, 1.0]] {
            #expect(throws: RVBenchError.self) { try Statistics.compare(baseline: bad, candidate: ok, options: CompareOptions()) }
            #expect(throws: RVBenchError.self) { try Statistics.compare(baseline: ok, candidate: bad, options: CompareOptions()) }
        }
        #expect(throws: RVBenchError.self) {
            try Statistics.compare(baseline: ok, candidate: ok, options: CompareOptions(resamples: 10))
        }
    }

    @Test func clearRegressionAndImprovement() throws {
        let slower = Self.base.map { $0 * 1.2 }
        let options = CompareOptions(resamples: 2000)
        let r = try Statistics.compare(baseline: Self.base, candidate: slower, options: options)
        #expect(r.verdict == .regression)
        #expect(r.ratioOfMeansCI.low > 1.1)
        #expect(r.cliffsDelta == 1)
        let i = try Statistics.compare(baseline: slower, candidate: Self.base, options: options)
        #expect(i.verdict == .improvement)
        var higher = options
        higher.direction = .higherIsBetter
        let h = try Statistics.compare(baseline: Self.base, candidate: slower, options: higher)
        #expect(h.verdict == .improvement)
    }

    @Test func identicalSamplesAreNotARegression() throws {
        let r = try Statistics.compare(baseline: Self.base, candidate: Self.base, options: CompareOptions(resamples: 1000))
        #expect(r.verdict == .inconclusive || r.verdict == .equivalent)
        #expect(r.ratioOfMeans == 1 && r.hodgesLehmann == 0 && r.cliffsDelta == 0)
        #expect(r.welchT == 0 && r.welchP == 1)
        #expect(r.ratioOfMeansCI.contains(1))
    }

    @Test func constantSamplesDoNotProduceNaN() throws {
        let r = try Statistics.compare(baseline: [2, 2, 2], candidate: [3, 3, 3], options: CompareOptions(resamples: 200))
        #expect(r.welchP == 0 && r.welchT == .infinity)
        #expect(r.mannWhitneyP.isFinite && r.ratioOfMeansBCa.low.isFinite)
        #expect(r.ratioOfMeansCI.low == 1.5 && r.ratioOfMeansCI.high == 1.5)
    }

    /// The exact selection agrees with sorting all n·m differences.
    @Test(arguments: [(1, 1), (2, 3), (7, 7), (40, 33), (301, 250)])
    func hodgesLehmannMatchesBruteForce(_ sizes: (Int, Int)) throws {
        let b = try SyntheticData.normal(count: sizes.0, mean: 5, sd: 2, seed: UInt64(sizes.0))
        var c = try SyntheticData.normal(count: sizes.1, mean: 6, sd: 1, seed: UInt64(sizes.1 + 1000))
        if sizes.1 > 3 { c[1] = c[0]; c[2] = b[0] }   // ties inside and across samples
        var all: [Double] = []
        for x in c { for y in b { all.append(x - y) } }
        all.sort()
        let n = all.count
        let brute = n % 2 == 1 ? all[n / 2] : (all[n / 2 - 1] + all[n / 2]) / 2
        #expect(try Statistics.hodgesLehmann(baseline: b, candidate: c) == brute)
        var greater = 0, less = 0
        for x in c { for y in b { if x > y { greater += 1 } else if x < y { less += 1 } } }
        #expect(close(try Statistics.cliffsDelta(baseline: b, candidate: c), Double(greater - less) / Double(n), rel: 1e-15))
    }

    @Test func cliffsDeltaAgreesWithU() throws {
        let b = [1.0, 2, 2, 3, 5, 8], c = [2.0, 3, 3, 4, 9]
        let mw = try Statistics.mannWhitney(baseline: b, candidate: c)
        let delta = try Statistics.cliffsDelta(baseline: b, candidate: c)
        #expect(close(delta, 2 * mw.u / Double(b.count * c.count) - 1, rel: 1e-15))
    }

    @Test func medianJackknifeMatchesDirectComputation() {
        for n in [2, 3, 4, 7, 10] {
            let x = (0..<n).map { Double($0 * $0) }
            let fast = Bootstrap.jackknifeMedians(sorted: x)
            for i in 0..<n {
                var rest = x
                rest.remove(at: i)
                let m = rest.count
                let direct = m % 2 == 1 ? rest[m / 2] : (rest[m / 2 - 1] + rest[m / 2]) / 2
                #expect(fast[i] == direct)
            }
        }
    }

    @Test func resampleCountsGiveTheResampleMedian() throws {
        // Check the count-vector median against sorting the drawn values, with the same draws.
        let x = (0..<10).map { Double($0) * 1.5 }
        let n = x.count
        let counts = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        counts.initialize(repeating: 0, count: n)
        defer { counts.deallocate() }
        var rng = Xoshiro256StarStar(seed: 9)
        var mirror = Xoshiro256StarStar(seed: 9)
        for _ in 0..<200 {
            let got = x.withUnsafeBufferPointer { Bootstrap.resample($0, counts, &rng) }
            let mirrorCounts = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
            mirrorCounts.initialize(repeating: 0, count: n)
            Bootstrap.drawCounts(n, mirrorCounts, &mirror)
            var drawn: [Double] = []
            for i in 0..<n { drawn += Array(repeating: x[i], count: Int(mirrorCounts[i])) }
            mirrorCounts.deallocate()
            #expect(drawn.count == n)
            let sorted = drawn.sorted()
            #expect(got.median == (sorted[4] + sorted[5]) / 2)
            #expect(close(got.mean, drawn.reduce(0, +) / Double(n), rel: 1e-14))
            #expect((0..<n).allSatisfy { counts[$0] == 0 })
        }
    }

    @Test func batchedDrawsCoverTheRangeUniformly() throws {
        let n = 7
        let counts = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        counts.initialize(repeating: 0, count: n)
        defer { counts.deallocate() }
        var rng = Xoshiro256StarStar(seed: 4)
        for _ in 0..<10_000 { Bootstrap.drawCounts(n, counts, &rng) }
        let expected = 10_000.0
        var chi2 = 0.0
        for i in 0..<n { chi2 += pow(Double(counts[i]) - expected, 2) / expected }
        #expect(chi2 < 22.46)   // chi-square(6) at p = 0.001
        #expect(Bootstrap.BatchedBound(100_000).k == 3)
        #expect(Bootstrap.BatchedBound(65_536).k == 3)
        #expect(Bootstrap.BatchedBound(65_535).k == 4)
    }

    /// The ratio-of-means engine sums the values it draws; `compare` counts them first. Both draw the
    /// same indices from the same generator state, whatever the number of indices per random word.
    @Test(arguments: [7, 300, 100_000, 3_000_000])
    func summedDrawsMatchCountedDraws(n: Int) throws {
        let k = Bootstrap.BatchedBound(UInt64(n)).k
        #expect(k == (n < 65_536 ? 4 : n <= 2_642_245 ? 3 : 2))
        let x = (0..<n).map { Double($0 % 1009) + 0.5 }
        let counts = UnsafeMutablePointer<UInt32>.allocate(capacity: n)
        counts.initialize(repeating: 0, count: n)
        defer { counts.deallocate() }
        for seed: UInt64 in [1, 2] {
            var summing = Xoshiro256StarStar(seed: seed, stream: 5)
            var counting = summing
            let mean = x.withUnsafeBufferPointer { Bootstrap.resampledMean($0, &summing) }
            Bootstrap.drawCounts(n, counts, &counting)
            var total = 0.0
            for i in 0..<n { total += Double(counts[i]) * x[i] }
            counts.update(repeating: 0, count: n)
            #expect(close(mean, total / Double(n), rel: 1e-12), "n \(n) seed \(seed): \(mean) vs \(total / Double(n))")
            #expect(summing.next() == counting.next())
        }
    }

    /// Resample r always draws from stream r of the seed, so how resamples are cut into chunks and
    /// spread over threads changes nothing, bit for bit.
    @Test(arguments: [(1, 1), (1, 2), (7, 3), (64, 1), (64, 2), (64, 5), (999, 2), (2000, 4)])
    func bootstrapIsTheSameForAnyChunkingAndThreadCount(chunkSize: Int, threads: Int) throws {
        let b = try SyntheticData.lognormal(count: 300, mu: 0, sigma: 0.3, seed: 21)
        let c = try SyntheticData.lognormal(count: 250, mu: 0.05, sigma: 0.3, seed: 22)
        let resamples = 1000
        let oneChunk = Bootstrap.meanRatios(baseline: b, candidate: c, resamples: resamples, seed: 8,
                                            threads: 1, chunkSize: resamples)
        let chunked = Bootstrap.meanRatios(baseline: b, candidate: c, resamples: resamples, seed: 8,
                                           threads: threads, chunkSize: chunkSize)
        #expect(chunked == oneChunk)
        let sb = b.sorted(), sc = c.sorted()
        let whole = Bootstrap.ratios(sortedBaseline: sb, sortedCandidate: sc, resamples: resamples, seed: 8,
                                     threads: 1, chunkSize: resamples)
        let split = Bootstrap.ratios(sortedBaseline: sb, sortedCandidate: sc, resamples: resamples, seed: 8,
                                     threads: threads, chunkSize: chunkSize)
        #expect(split.ratioOfMeans == whole.ratioOfMeans)
        #expect(split.ratioOfMedians == whole.ratioOfMedians)
        // Another seed gives another distribution.
        let other = Bootstrap.meanRatios(baseline: b, candidate: c, resamples: resamples, seed: 9,
                                         threads: threads, chunkSize: chunkSize)
        #expect(other != oneChunk)
        let interval = try Statistics.bootstrapRatioOfMeans(baseline: b, candidate: c, resamples: resamples, seed: 8,
                                                            threads: threads)
        #expect(interval == Bootstrap.percentile(sortedDistribution: oneChunk.sorted(), level: 0.95))
    }

    /// Over 500 seeded experiments with a known ratio of means, the 95% percentile CI covers it in
    /// about 95% of them. Lognormal data, n = 30 per side, 1,000 resamples per experiment.
    @Test(.tags(.simulation)) func percentileIntervalCoverage() throws {
        let sigma = 0.3, shift = 0.1
        // E[exp(N(mu, s²))] = exp(mu + s²/2), so the true ratio of means is exp(shift).
        let truth = exp(shift)
        var covered = 0, bcaCovered = 0
        let experiments = 500
        for e in 0..<experiments {
            let b = try SyntheticData.lognormal(count: 30, mu: 0, sigma: sigma, seed: UInt64(2 * e + 1))
            let c = try SyntheticData.lognormal(count: 30, mu: shift, sigma: sigma, seed: UInt64(2 * e + 2))
            let r = try Statistics.compare(baseline: b, candidate: c, options: CompareOptions(resamples: 1000, seed: UInt64(e)))
            if r.ratioOfMeansCI.contains(truth) { covered += 1 }
            if r.ratioOfMeansBCa.contains(truth) { bcaCovered += 1 }
        }
        let rate = Double(covered) / Double(experiments)
        let bcaRate = Double(bcaCovered) / Double(experiments)
        #expect(rate >= 0.92 && rate <= 0.98, "percentile coverage \(rate)")
        #expect(bcaRate >= 0.92 && bcaRate <= 0.98, "BCa coverage \(bcaRate)")
    }
}

@Suite struct VerdictTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var logRatio, se: Double
        var direction: Direction
        var expected: Verdict
        var testDescription: String { "d=\(logRatio) se=\(se) \(direction.rawValue) → \(expected.rawValue)" }
    }

    // Boot means of 10 boots per side (df ≈ 18), threshold 1%, alpha 0.05, a family of one.
    static let cases: [Case] = [
        Case(logRatio: log(1.05), se: 0.005, direction: .lowerIsBetter, expected: .regression),
        Case(logRatio: log(1.05), se: 0.05, direction: .lowerIsBetter, expected: .inconclusive),
        Case(logRatio: log(1.012), se: 0.0005, direction: .lowerIsBetter, expected: .regression),   // small but sure
        Case(logRatio: log(1.01), se: 0.001, direction: .lowerIsBetter, expected: .inconclusive),   // on the threshold
        Case(logRatio: log(0.95), se: 0.005, direction: .lowerIsBetter, expected: .improvement),
        Case(logRatio: 0, se: 0.002, direction: .lowerIsBetter, expected: .equivalent),
        Case(logRatio: 0, se: 0.02, direction: .lowerIsBetter, expected: .inconclusive),
        Case(logRatio: log(1.05), se: 0.005, direction: .higherIsBetter, expected: .improvement),
        Case(logRatio: log(0.95), se: 0.005, direction: .higherIsBetter, expected: .regression),
        Case(logRatio: log(1.05), se: 0, direction: .lowerIsBetter, expected: .noTest),
    ]

    @Test(arguments: VerdictTests.cases)
    func truthTable(_ c: Case) {
        let w = LogRatioWelch(logRatio: c.logRatio, se: c.se, df: 18, bootsBaseline: 10, bootsCandidate: 10)
        let d = Statistics.decideFamily([.init(welch: w, direction: c.direction, family: .primary)], threshold: 0.01, alpha: 0.05)[0]
        #expect(d.verdict == c.expected)
        // The reported interval agrees with the verdict.
        let ci = d.bootLevel.ci
        switch d.verdict {
        case .regression where c.direction == .lowerIsBetter, .improvement where c.direction == .higherIsBetter:
            #expect(ci.low > 1.01)
        case .improvement, .regression:
            #expect(ci.high < 0.99)
        case .equivalent:
            #expect(ci.low > 0.99 && ci.high < 1.01)
        case .inconclusive:
            #expect(!(ci.low > 1.01) && !(ci.high < 0.99) && !(ci.low > 0.99 && ci.high < 1.01))
        case .noTest:
            #expect(d.bootLevel.noTestReason != nil && d.adjustedP == 1)
        }
    }

    @Test func holmLevelsMatchHolmDecisions() {
        let p = [0.001, 0.04, 0.012, 0.3, 0.0049]
        let adjusted = Statistics.holm(p)
        let levels = Statistics.holmLevels(p, alpha: 0.05)
        for i in p.indices {
            #expect((adjusted[i] < 0.05) == (p[i] < levels[i]))
        }
        #expect(levels[0] == 0.01 && levels[4] == 0.0125 && levels[2] == 0.05 / 3)
    }

    @Test func holmEdgeCases() {
        #expect(Statistics.holm([]) == [])
        #expect(Statistics.holm([0.03]) == [0.03])
        #expect(Statistics.holm([0.01, 0.02]) == [0.02, 0.02])
        #expect(Statistics.holm([0.6, 0.5]) == [1, 1])
    }

    @Test func applyHolmCorrectsEachFamilyOnItsOwn() throws {
        let w = LogRatioWelch(logRatio: log(1.05), se: 0.016, df: 8, bootsBaseline: 5, bootsCandidate: 5)
        let alone = Statistics.decideFamily([.init(welch: w, direction: .lowerIsBetter, family: .primary)],
                                            threshold: 0.01, alpha: 0.05)
        #expect(alone[0].verdict == .regression)
        let twelve = Statistics.decideFamily(Array(repeating: .init(welch: w, direction: .lowerIsBetter, family: .primary), count: 12),
                                             threshold: 0.01, alpha: 0.05)
        #expect(twelve.allSatisfy { $0.verdict == .inconclusive && $0.bootLevel.familySize == 12 })
        #expect(twelve[0].bootLevel.ci.level > alone[0].bootLevel.ci.level)

        // Counters in their own family do not change the primary verdict.
        let base = [[10.0, 10.1], [10.2, 10.3], [9.9, 10.0], [10.1, 10.0], [10.0, 10.2]]
        let slow = base.map { $0.map { $0 * 1.2 } }
        func pair(_ metric: String, _ kind: MetricKind, _ family: ComparisonFamily) -> SeriesPair {
            SeriesPair(workload: "w", metric: MetricID(name: metric, kind: kind, unit: "s"), direction: .lowerIsBetter,
                       baselineName: "a", candidateName: "b", baseline: base, candidate: slow, family: family)
        }
        let options = CompareOptions(resamples: 200)
        let primaryOnly = try Statistics.compareSeries([pair("t", .primary, .primary)], options: options)
        let withCounters = try Statistics.compareSeries([pair("t", .primary, .primary)]
            + (0..<20).map { pair("c\($0)", .counter, .counter) }, options: options)
        #expect(primaryOnly[0].comparison?.adjustedP == withCounters[0].comparison?.adjustedP)
        #expect(withCounters[1].comparison?.bootLevel?.familySize == 20)
    }
}

@Suite struct OutlierTests {
    @Test func flagsPlantedValues() {
        let xs = [10.0, 10.2, 9.9, 10.1, 10.0, 30.0, 9.8, 10.3, -5.0]
        #expect(Statistics.tukeyOutliers(xs) == [5, 8])
        #expect(Statistics.madOutliers(xs) == [5, 8])
        #expect(Statistics.tukeyOutliers([1, 2, 3, 4, 5]) == [])
    }

    @Test func zeroMADFallsBackToMeanAbsoluteDeviation() {
        let xs = [5.0, 5, 5, 5, 5, 5, 5.1, 50]
        #expect(Statistics.madOutliers(xs) == [7])
        #expect(Statistics.madOutliers([3, 3, 3, 3]) == [])
    }
}

@Suite struct NestedTests {
    @Test func varianceComponentsByHand() throws {
        let s = try Statistics.nested(groups: [[1, 2, 3], [4, 5, 6]], seed: 1, resamples: 500)
        #expect(s.boots == 2 && s.iterationsPerBoot == 3)
        #expect(s.mean == 3.5)
        #expect(close(s.withinBootVariance, 1))
        #expect(close(s.bootMeansVariance, 4.5))
        #expect(close(s.betweenBootVariance, 4.5 - 1.0 / 3))
        // √((1/1)·1/4.1667) = 0.49 → 1 iteration per boot.
        #expect(s.optimalIterationsPerBoot == 1)
        #expect(s.meanCI.low >= 1 && s.meanCI.high <= 6)
    }

    @Test func recoversKnownVarianceComponents() throws {
        // 200 boots × 50 iterations: boot effect N(0, 2²), iteration noise N(0, 1).
        let effects = try SyntheticData.normal(count: 200, mean: 0, sd: 2, seed: 77)
        let groups = try effects.enumerated().map { i, e in
            try SyntheticData.normal(count: 50, mean: 100 + e, sd: 1, seed: UInt64(1000 + i))
        }
        let s = try Statistics.nested(groups: groups, seed: 3, resamples: 1000, bootCost: 100, iterationCost: 1)
        #expect(abs(s.withinBootVariance - 1) < 0.06, "within \(s.withinBootVariance)")
        #expect(abs(s.betweenBootVariance - 4) < 1.0, "between \(s.betweenBootVariance)")
        // K&J: √(100 · 1/4) = 5 iterations per boot.
        let r = try #require(s.optimalIterationsPerBoot)
        #expect((4...7).contains(r))
        #expect(s.meanCI.contains(s.mean))
        #expect(s.meanCI.high - s.meanCI.low < 1.2)
        #expect(s.bootsForTarget >= 2)
    }

    @Test func noBootVarianceMeansNoOptimum() throws {
        let g = [[1.0, 3.0], [1.0, 3.0], [1.0, 3.0]]
        let s = try Statistics.nested(groups: g, resamples: 200)
        #expect(s.betweenBootVariance < 0)
        #expect(s.optimalIterationsPerBoot == nil)
    }

    @Test func rejectsUnusableGroups() {
        #expect(throws: RVBenchError.self) { try Statistics.nested(groups: [[1, 2]]) }
        #expect(throws: RVBenchError.self) { try Statistics.nested(groups: [[1, 2], []]) }
        #expect(throws: RVBenchError.self) { try Statistics.nested(groups: [[1], [2]]) }
        #expect(throws: RVBenchError.self) { try Statistics.nested(groups: [[1, .nan], [2, 3]]) }
    }

    @Test func nestedRatioIsWiderThanFlatWhenBootsDiffer() throws {
        // Boots shift the level; iterations within a boot barely vary.
        func boots(_ level: Double, _ seed: UInt64) throws -> [[Double]] {
            let shifts = try SyntheticData.normal(count: 6, mean: 0, sd: 0.05, seed: seed)
            return try shifts.enumerated().map { i, s in
                try SyntheticData.normal(count: 20, mean: level * (1 + s), sd: 0.002, seed: seed * 100 + UInt64(i))
            }
        }
        let b = try boots(1.0, 1), c = try boots(1.0, 2)
        let nested = try Statistics.nestedRatio(baseline: b, candidate: c, seed: 1, resamples: 2000, level: 0.95)
        let flat = try Statistics.compare(baseline: Array(b.joined()), candidate: Array(c.joined()), options: CompareOptions(resamples: 2000))
        #expect(nested.ci.contains(nested.estimate))
        #expect(close(nested.estimate, flat.ratioOfMeans, rel: 1e-12))
        #expect(nested.ci.high - nested.ci.low > 2 * (flat.ratioOfMeansCI.high - flat.ratioOfMeansCI.low))
        let again = try Statistics.nestedRatio(baseline: b, candidate: c, seed: 1, resamples: 2000, level: 0.95)
        #expect(again.ci == nested.ci)
    }
}

@Suite struct StoppingTests {
    let rule = StoppingRule(targetRelativeHalfWidth: 0.02, minimum: 5, maximum: 30)

    @Test func continuesBelowMinimum() {
        let d = rule.decide([100, 100, 100])
        #expect(!d.shouldStop)
        #expect(d.reason.contains("at least 5"))
    }

    @Test func stopsWhenNarrow() {
        let d = rule.decide([100, 100.1, 99.9, 100, 100.05])
        #expect(d.shouldStop)
        #expect(d.reason.contains("within the target"))
    }

    @Test func continuesWhenWide() {
        let d = rule.decide([50, 150, 80, 120, 100])
        guard case .continueRunning(let reason) = d else { Issue.record("expected continue"); return }
        #expect(reason.contains("above the target"))
    }

    @Test func stopsAtMaximum() {
        let noisy = (0..<30).map { Double($0 % 2 == 0 ? 50 : 150) }
        #expect(rule.decide(noisy) == .stop(reason: "reached the maximum of 30 samples"))
    }

    @Test func halfWidthFormula() throws {
        // n = 4, mean 10, s = √(10/3); t(0.975, 3) = 3.182446305284263.
        let xs = [8.0, 9, 11, 12]
        let rel = try #require(rule.relativeHalfWidth(xs))
        #expect(close(rel, 3.182446305284263 * (10.0 / 3).squareRoot() / 2 / 10, rel: 1e-9))
    }
}

@Suite struct AnalyzeTests {
    func samples(_ variant: String, _ workload: String, _ values: [Double], boots: Int = 1, metric: String = "seconds") -> [Sample] {
        values.enumerated().map { i, v in
            Sample(experiment: "e", variant: variant, workload: workload, boot: i % boots, iteration: i / boots,
                   metric: metric, value: v, unit: "s", timestamp: 0)
        }
    }

    @Test func groupsComparesAndReportsNotRun() throws {
        let base = CompareTests.base
        var all = samples("virtio", "zstd", base.map { $0 * 1.3 }, boots: 4)
        all += samples("native", "zstd", base, boots: 4)
        all += samples("native", "ffmpeg", base, boots: 4)
        all += samples("virtio", "ffmpeg", base, boots: 4)
        all += samples("native", "ffmpeg", [100, 101, 102], boots: 3, metric: "fps")
        all += samples("virtio", "ffmpeg", [80, 81, 82], boots: 3, metric: "fps")
        let results = try Statistics.analyze(samples: all, baseline: "native",
                                             metrics: [MetricKey(workload: "ffmpeg", metric: "fps"):
                                                        MetricInfo(kind: .secondary, direction: .higherIsBetter)],
                                             notRun: ["passthrough": "no riscv IOMMU on this host"],
                                             options: CompareOptions(resamples: 1000))
        #expect(results.map { "\($0.workload)/\($0.metric)" } == ["ffmpeg/fps", "ffmpeg/seconds", "zstd/seconds"])
        let zstd = results[2]
        #expect(zstd.variants.map(\.variant) == ["native", "virtio", "passthrough"])
        #expect(zstd.variants[2].status == .notRun(reason: "no riscv IOMMU on this host"))
        #expect(zstd.variants[2].descriptive == nil)
        #expect(zstd.comparisons.count == 1)
        #expect(zstd.comparisons[0].verdict == .regression)
        #expect(results[0].direction == .higherIsBetter)
        #expect(results[0].comparisons[0].direction == .higherIsBetter)
        #expect(results[1].comparisons[0].verdict != .regression)
        // Holm across the family of three comparisons (all secondary here), on the directional p-values.
        let raw = results.flatMap(\.comparisons).map { min($0.bootLevel!.pAbove, $0.bootLevel!.pBelow) }
        #expect(results.flatMap(\.comparisons).map { $0.bootLevel!.adjustedPDirectional } == Statistics.holm(raw))
        #expect(results.flatMap(\.comparisons).allSatisfy { $0.bootLevel?.family == .secondary && $0.bootLevel?.familySize == 3 })
    }

    @Test func theBootIsTheUnit() throws {
        let base = CompareTests.base + CompareTests.base.map { $0 + 0.05 }
        let all = samples("native", "w", base, boots: 4) + samples("virtio", "w", base.map { $0 * 1.1 }, boots: 4)
        let options = CompareOptions(resamples: 1000)
        let r = try Statistics.analyze(samples: all, baseline: "native", options: options)
        let c = try #require(r.first?.comparisons.first)
        let bl = try #require(c.bootLevel)
        #expect(bl.bootsBaseline == 4 && bl.bootsCandidate == 4)
        #expect(bl.underpowered)
        let means = { (v: String) in Statistics.bootMeans(Statistics.groupByBoot(all.filter { $0.variant == v }.map { ($0.boot, $0.value) })) }
        let w = try Statistics.logRatioWelch(baselineBootMeans: means("native"), candidateBootMeans: means("virtio"))
        #expect(close(bl.ratio, w.ratio) && close(bl.df, w.df))
        #expect(bl.ci.contains(bl.ratio))
        #expect(bl.twoStageCI == nil)
    }

    @Test func tooFewValuesIsAFailureNotACrash() throws {
        let all = samples("native", "w", [1, 2, 3], boots: 3) + samples("virtio", "w", [2]) + samples("vdpa", "w", [1, .nan, 2], boots: 3)
        let r = try Statistics.analyze(samples: all, baseline: "native", options: CompareOptions(resamples: 200))
        let rows = try #require(r.first?.variants)
        #expect(rows[1].descriptive == nil && rows[1].failures.first?.contains("need at least 2") == true)
        #expect(rows[2].failures.contains("1 non-finite value dropped"))
        #expect(r[0].comparisons.map(\.candidate) == ["vdpa"])
    }
}

@Suite struct NumberListTests {
    @Test func parsesCommentsAndBlankLines() throws {
        let text = "# seconds\n1.5\n\n  2.25  # warm\n3e0\n"
        #expect(try NumberList.parse(text, source: "a.txt") == [1.5, 2.25, 3])
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var text: String
        var message: String
        var testDescription: String { message }
    }

    @Test(arguments: [
        Bad(text: "1\nabc\n2\n", message: "a.txt:2: expected a number, found \"abc\""),
        Bad(text: "1\n2\nnan\n", message: "a.txt:3: expected a finite number, found \"nan\""),
        Bad(text: "inf\n1\n", message: "a.txt:1: expected a finite number, found \"inf\""),
        Bad(text: "", message: "a.txt: no numbers found; expected one number per line (blank lines and # comments are allowed)"),
        Bad(text: "# only a comment\n\n", message: "a.txt: no numbers found; expected one number per line (blank lines and # comments are allowed)"),
        Bad(text: "4.2\n", message: "a.txt: found 1 number; expected at least 2"),
        Bad(text: "1\n-2\n", message: "a.txt:2: expected a positive number (ratios need values > 0), found \"-2\""),
        Bad(text: "1 2\n3\n", message: "a.txt:1: expected a number, found \"1 2\""),
    ])
    func badInputNamesFileAndLine(_ bad: Bad) {
        do {
            _ = try NumberList.parse(bad.text, source: "a.txt", requirePositive: true)
            Issue.record("expected an error")
        } catch let e as RVBenchError {
            #expect(e.code == .badInput)
            #expect(e.message == bad.message)
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func missingFile() {
        do {
            _ = try NumberList.read(path: "/nonexistent/rvbench/base.txt")
            Issue.record("expected an error")
        } catch let e as RVBenchError {
            #expect(e.message == "/nonexistent/rvbench/base.txt: no such file; expected a file with one number per line")
        } catch { Issue.record("unexpected \(error)") }
    }
}

@Suite struct RatioStoppingTests {
    let rule = StoppingRule(targetRelativeHalfWidth: 0.02, minimum: 5, maximum: 12)

    @Test func stopsOnTheRatioIntervalNotOnEachMean() {
        // Each side's mean is known to ±0.5%, but the ratio of two such means is not within ±0.1%.
        let b = [100.0, 101, 99, 100.5, 99.5], c = [102.0, 103, 101, 102.5, 101.5]
        let tight = StoppingRule(targetRelativeHalfWidth: 0.001, minimum: 5, maximum: 12)
        #expect(!tight.decide(baselineBootMeans: b, candidateBootMeans: c).shouldStop)
        #expect(rule.decide(baselineBootMeans: b, candidateBootMeans: c).shouldStop)
        let w = try! Statistics.logRatioWelch(baselineBootMeans: b, candidateBootMeans: c)
        let hw = rule.ratioRelativeHalfWidth(baselineBootMeans: b, candidateBootMeans: c)!
        #expect(close(hw, w.interval(level: 0.95).high / w.ratio - 1, rel: 1e-9))
    }

    @Test func neverBeforeTheMinimumAndAlwaysAtTheMaximum() {
        let b = [100.0, 100.1, 99.9], c = [100.0, 100.1, 99.9]
        #expect(rule.decide(baselineBootMeans: b, candidateBootMeans: c) == .continueRunning(reason: "3 of at least 5 boots"))
        let wide = (0..<12).map { Double($0 % 2 == 0 ? 50 : 150) }
        #expect(rule.decide(baselineBootMeans: wide, candidateBootMeans: wide).shouldStop)
        #expect(StoppingRule.adaptiveMinimumBoots >= 5)
    }
}

@Suite struct KindsTests {
    func sample(_ variant: String, _ workload: String, _ boot: Int, _ iteration: Int, _ metric: String, _ value: Double,
                kind: MetricKind? = nil) -> Sample {
        Sample(experiment: "e", variant: variant, workload: workload, boot: boot, iteration: iteration, metric: metric,
               value: value, unit: "", timestamp: 0, kind: kind)
    }

    @Test func verificationIsCheckedCountersAreNormalisedPerUnitOfWork() throws {
        var all: [Sample] = []
        for v in ["native", "virtio"] {
            for boot in 0..<3 {
                for it in 0..<2 {
                    all.append(sample(v, "x264", boot, it, "codec_fps", v == "native" ? 30 + Double(boot) : 27 + Double(it)))
                    all.append(sample(v, "x264", boot, it, "frames", 8))
                    all.append(sample(v, "x264", boot, it, "guest.exits", v == "native" ? 80 : 800, kind: .counter))
                }
                all.append(sample(v, "boot", boot, 0, "host.perf.cycles", v == "native" ? 1600 : 3200, kind: .counter))
            }
        }
        let metrics: [MetricKey: MetricInfo] = [
            MetricKey(workload: "x264", metric: "codec_fps"): MetricInfo(kind: .primary, unit: "frames/s", direction: .higherIsBetter),
            MetricKey(workload: "x264", metric: "frames"): MetricInfo(kind: .verification, unit: "frames", direction: .lowerIsBetter),
        ]
        let r = try Statistics.analyze(samples: all, baseline: "native", metrics: metrics, options: CompareOptions(resamples: 200),
                                       work: ["x264": WorkUnit(metric: "frames", unit: "frame")])
        #expect(r.map(\.kind) == [.counter, .primary, .verification, .counter])
        let frames = try #require(r.first { $0.metric == "frames" })
        #expect(frames.comparisons.isEmpty && frames.check == VerificationCheck(consistent: true, values: [8], distinct: 1))
        let guest = try #require(r.first { $0.metric == "guest.exits" })
        #expect(guest.perUnit?.value(for: "virtio") == 100 && guest.perUnit?.unit == "frame")
        #expect(guest.comparisons.first?.bootLevel?.family == .counter)
        let host = try #require(r.first { $0.metric == "host.perf.cycles" })
        // 3200 cycles per boot over 2 iterations × 8 frames.
        #expect(host.perUnit?.value(for: "virtio") == 200)
        let primary = try #require(r.first { $0.kind == .primary }?.comparisons.first?.bootLevel)
        #expect(primary.family == .primary && primary.familySize == 1)
        #expect(r.first { $0.kind == .primary }?.design.count == 2)
    }
}
