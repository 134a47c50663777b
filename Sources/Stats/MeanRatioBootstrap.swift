// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// What the workers of one ratio-of-means bootstrap share.
///
/// `@unchecked Sendable` is safe here because the input buffers are only read while the workers run,
/// each chunk writes only its own index range of `ratios`, and the owner reads `ratios` only after
/// every worker has finished.
struct MeanRatioShared: @unchecked Sendable {
    let baseline: UnsafeBufferPointer<Double>
    let candidate: UnsafeBufferPointer<Double>
    let ratios: UnsafeMutablePointer<Double>
}

extension Statistics {
    /// The percentile bootstrap interval of mean(candidate) / mean(baseline): each replicate resamples both
    /// samples independently, with replacement and at their own sizes (SciPy's `bootstrap` with
    /// `paired=False` and `method='percentile'` computes the same statistic and interval).
    ///
    /// The engine behind `compare`'s bootstrap, specialised to the one statistic: each replicate sums the
    /// drawn values directly, three indices per 64-bit random word for samples of up to 2,642,245
    /// values, with no per-resample allocation. Like `compare`, replicate r draws from its own
    /// xoshiro256** stream (stream r of `seed`), so the interval does not depend on `threads`.
    public static func bootstrapRatioOfMeans(baseline: [Double], candidate: [Double], resamples: Int = 10_000,
                                             seed: UInt64 = 1, level: Double = 0.95, threads: Int? = nil) throws -> Interval {
        try validate(baseline, name: "baseline")
        try validate(candidate, name: "candidate")
        try CompareOptions(resamples: resamples, seed: seed, level: level, threads: threads).validate()
        var ratios = Bootstrap.meanRatios(baseline: baseline, candidate: candidate, resamples: resamples, seed: seed,
                                          threads: threads ?? Bootstrap.defaultThreads())
        GSL.sort(&ratios)
        return Bootstrap.percentile(sortedDistribution: ratios, level: level)
    }
}

extension Bootstrap {
    /// The bootstrap distribution of mean(candidate) / mean(baseline), replicate r in element r, split into
    /// chunks of `chunkSize` replicates over `threads` workers. The output depends only on the data,
    /// `resamples` and `seed`.
    static func meanRatios(baseline: [Double], candidate: [Double], resamples: Int, seed: UInt64,
                           threads: Int, chunkSize: Int = chunkSize) -> [Double] {
        var ratios = [Double](repeating: 0, count: resamples)
        ratios.withUnsafeMutableBufferPointer { out in
            baseline.withUnsafeBufferPointer { b in
                candidate.withUnsafeBufferPointer { c in
                    let shared = MeanRatioShared(baseline: b, candidate: c, ratios: out.baseAddress!)
                    forEachChunk(resamples, chunkSize: chunkSize, threads: threads) { range in
                        for r in range {
                            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(r))
                            let mb = resampledMean(shared.baseline, &rng)
                            let mc = resampledMean(shared.candidate, &rng)
                            shared.ratios[r] = mc / mb
                        }
                    }
                }
            }
        }
        return ratios
    }

    /// The mean of one resample of `x` (n draws with replacement), summed as drawn. Draws the same
    /// indices, in the same order, as `drawCounts` with the same generator state.
    @inline(__always)
    static func resampledMean(_ x: UnsafeBufferPointer<Double>, _ rng: inout Xoshiro256StarStar) -> Double {
        let n = x.count
        let batch = BatchedBound(UInt64(n))
        let k = batch.k
        let bound = UInt64(n)
        var s0 = 0.0, s1 = 0.0, s2 = 0.0
        var remaining = n
        if k == 3 {
            // The common case (n from 65,536 to 2,642,245): three indices per accepted word, in
            // straight-line code.
            while remaining >= 3 {
                let (d0, r0) = rng.next().multipliedFullWidth(by: bound)
                let (d1, r1) = r0.multipliedFullWidth(by: bound)
                let (d2, r2) = r1.multipliedFullWidth(by: bound)
                if r2 < batch.threshold { continue }
                s0 += x[Int(truncatingIfNeeded: d0)]
                s1 += x[Int(truncatingIfNeeded: d1)]
                s2 += x[Int(truncatingIfNeeded: d2)]
                remaining -= 3
            }
        } else if k > 1 {
            while remaining >= k {
                var r = rng.next()
                var digits = SIMD4<UInt64>()
                for i in 0..<k {
                    let (high, low) = r.multipliedFullWidth(by: bound)
                    digits[i] = high
                    r = low
                }
                if r < batch.threshold { continue }
                for i in 0..<k {
                    if i & 1 == 0 { s0 += x[Int(truncatingIfNeeded: digits[i])] } else { s1 += x[Int(truncatingIfNeeded: digits[i])] }
                }
                remaining -= k
            }
        }
        while remaining > 0 {
            s0 += x[rng.index(below: bound)]
            remaining -= 1
        }
        return (s0 + s1 + s2) / Double(n)
    }
}
