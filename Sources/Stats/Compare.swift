// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

extension Statistics {
    /// Compares a candidate with its baseline.
    ///
    /// - Ratio of means and ratio of medians (candidate / baseline), each with a percentile and a BCa
    ///   bootstrap CI. Each replicate resamples the baseline and the candidate independently, with
    ///   replacement and at their own sizes; means and medians are taken from the same replicates.
    ///   The BCa acceleration comes from O(n) jackknives (leave-one-out sums for means, sorted data
    ///   for medians).
    /// - Welch's t (candidate − baseline), Mann–Whitney U of the candidate, the Hodges–Lehmann shift
    ///   (candidate − baseline) and Cliff's delta (positive when the candidate tends to be larger).
    /// - The verdict comes from `bootLevel`: here each value counts as one independent unit (a boot),
    ///   so the log-ratio Welch test runs on the values themselves, as a family of one. `compareSeries`
    ///   does the same on per-boot means for nested data, and `applyHolm` corrects whole families.
    ///
    /// Throws `badInput` for fewer than 2 values, non-finite values, or values ≤ 0 (the ratios need
    /// positive data), and for invalid options.
    public static func compare(baseline: [Double], candidate: [Double], options: CompareOptions,
                               baselineName: String = "baseline", candidateName: String = "candidate",
                               metric: String = "value", decide: Bool = true) throws -> Comparison {
        try options.validate()
        try validatePositive(baseline, name: baselineName)
        try validatePositive(candidate, name: candidateName)

        let b = GSL.sorted(baseline), c = GSL.sorted(candidate)
        let meanB = b.withUnsafeBufferPointer(GSL.mean), meanC = c.withUnsafeBufferPointer(GSL.mean)
        let medianB = GSL.quantile(sorted: b, 0.5), medianC = GSL.quantile(sorted: c, 0.5)
        let ratioOfMeans = meanC / meanB
        let ratioOfMedians = medianC / medianB

        let boot = Bootstrap.ratios(sortedBaseline: b, sortedCandidate: c, resamples: options.resamples,
                                        seed: options.seed, threads: options.threads ?? Bootstrap.defaultThreads())
        let meansDist = GSL.sorted(boot.ratioOfMeans)
        let mediansDist = GSL.sorted(boot.ratioOfMedians)

        let meanJack = [Bootstrap.jackknifeMeans(b).map { meanC / $0 },
                        Bootstrap.jackknifeMeans(c).map { $0 / meanB }]
        let medianJack = [Bootstrap.jackknifeMedians(sorted: b).map { medianC / $0 },
                          Bootstrap.jackknifeMedians(sorted: c).map { $0 / medianB }]

        let welch = welchUnchecked(baseline: b, candidate: c)
        let mw = mannWhitneyUnchecked(baseline: b, candidate: c)
        let hl = hodgesLehmann(sortedBaseline: b, sortedCandidate: c)
        let delta = cliffsDelta(sortedBaseline: b, sortedCandidate: c)

        let meansCI = Bootstrap.percentile(sortedDistribution: meansDist, level: options.level)
        var comparison = Comparison(
            baseline: baselineName, candidate: candidateName, metric: metric, direction: options.direction,
            nBaseline: b.count, nCandidate: c.count,
            ratioOfMeans: ratioOfMeans,
            ratioOfMeansCI: meansCI,
            ratioOfMeansBCa: Bootstrap.bca(sortedDistribution: meansDist, estimate: ratioOfMeans,
                                           jackknife: meanJack, level: options.level),
            ratioOfMedians: ratioOfMedians,
            ratioOfMediansCI: Bootstrap.percentile(sortedDistribution: mediansDist, level: options.level),
            ratioOfMediansBCa: Bootstrap.bca(sortedDistribution: mediansDist, estimate: ratioOfMedians,
                                             jackknife: medianJack, level: options.level),
            welchT: welch.t, welchDF: welch.df, welchP: welch.p,
            mannWhitneyU: mw.u, mannWhitneyP: mw.p,
            hodgesLehmann: hl, cliffsDelta: delta,
            adjustedP: 1, threshold: options.threshold, alpha: options.alpha,
            verdict: .inconclusive,
            resamples: options.resamples, seed: options.seed)
        if decide {
            let units = try logRatioWelch(baselineBootMeans: baseline, candidateBootMeans: candidate)
            let decided = decideFamily([BootLevelInput(welch: units, direction: options.direction, family: .primary)],
                                       threshold: options.threshold, alpha: options.alpha)[0]
            comparison.bootLevel = decided.bootLevel
            comparison.verdict = decided.verdict
            comparison.adjustedP = decided.adjustedP
        }
        return comparison
    }

    static func validatePositive(_ xs: [Double], name: String) throws {
        try validate(xs, name: name)
        if let i = xs.firstIndex(where: { $0 <= 0 }) {
            throw RVBenchError(.badInput, "\(name) value \(i) is \(xs[i]); ratios of means and medians need positive values")
        }
    }
}
