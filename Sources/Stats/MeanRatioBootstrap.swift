// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// What the workers of one ratio-of-means bootstrap share.
///
/// `@unchecked Sendable` is safe here because the input buffers are only read while the workers run,
/// each chunk writes only its own index range of `ratios`, each generator is used by its own chunk
/// only, and the owner reads `ratios` only after every worker has finished.
struct MeanRatioShared: @unchecked Sendable {
    let baseline: UnsafeBufferPointer<Double>
    let candidate: UnsafeBufferPointer<Double>
    let ratios: UnsafeMutablePointer<Double>
    let generators: [GSL.Random]
}

extension Statistics {
    /// The percentile bootstrap interval of mean(candidate) / mean(baseline): each replicate resamples both
    /// samples independently, with replacement and at their own sizes (SciPy's `bootstrap` with
    /// `paired=False` and `method='percentile'` computes the same statistic and interval).
    ///
    /// The engine behind `compare`'s bootstrap, specialised to the one statistic: each replicate sums the
    /// drawn values directly, several indices per 64-bit random word, with no per-resample allocation.
    /// Seeded per chunk of resamples like `compare`, so the interval does not depend on `threads`.
    public static func bootstrapRatioOfMeans(baseline: [Double], candidate: [Double], resamples: Int = 10_000,
                                             seed: UInt64 = 1, level: Double = 0.95, threads: Int? = nil) throws -> Interval {
        try validate(baseline, name: "baseline")
        try validate(candidate, name: "candidate")
        try CompareOptions(resamples: resamples, seed: seed, level: level, threads: threads).validate()
        let chunks = (resamples + Bootstrap.chunkSize - 1) / Bootstrap.chunkSize
        var generators: [GSL.Random] = []
        generators.reserveCapacity(chunks)
        for c in 0..<chunks { generators.append(try GSL.Random(seed: Bootstrap.chunkSeed(seed, c))) }
        var ratios = [Double](repeating: 0, count: resamples)
        ratios.withUnsafeMutableBufferPointer { out in
            baseline.withUnsafeBufferPointer { b in
                candidate.withUnsafeBufferPointer { c in
                    let shared = MeanRatioShared(baseline: b, candidate: c, ratios: out.baseAddress!, generators: generators)
                    Bootstrap.forEachChunk(chunks, threads: threads ?? Bootstrap.defaultThreads()) { chunk in
                        let rng = shared.generators[chunk]
                        let end = min(resamples, (chunk + 1) * Bootstrap.chunkSize)
                        for r in (chunk * Bootstrap.chunkSize)..<end {
                            let mb = Bootstrap.resampledMean(shared.baseline, rng)
                            let mc = Bootstrap.resampledMean(shared.candidate, rng)
                            shared.ratios[r] = mc / mb
                        }
                    }
                }
            }
        }
        GSL.sort(&ratios)
        return Bootstrap.percentile(sortedDistribution: ratios, level: level)
    }
}

extension Bootstrap {
    /// The mean of one resample of `x` (n draws with replacement), summed as drawn.
    @inline(__always)
    static func resampledMean(_ x: UnsafeBufferPointer<Double>, _ rng: GSL.Random) -> Double {
        let n = x.count
        let batch = BatchedBound(UInt64(n))
        let k = batch.k
        var s0 = 0.0, s1 = 0.0, s2 = 0.0
        var remaining = n
        if k == 3 {
            // The common case (n up to 2,642,245): three indices per accepted word, in straight-line code.
            let bound = UInt64(n)
            while remaining >= 3 {
                let (d0, r0) = rng.next64().multipliedFullWidth(by: bound)
                let (d1, r1) = r0.multipliedFullWidth(by: bound)
                let (d2, r2) = r1.multipliedFullWidth(by: bound)
                if r2 < batch.threshold { continue }
                s0 += x[Int(truncatingIfNeeded: d0)]
                s1 += x[Int(truncatingIfNeeded: d1)]
                s2 += x[Int(truncatingIfNeeded: d2)]
                remaining -= 3
            }
        } else if k > 1 {
            let bound = UInt64(n)
            while remaining >= k {
                var r = rng.next64()
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
        let un = UInt32(n)
        while remaining > 0 {
            s0 += x[rng.index(un)]
            remaining -= 1
        }
        return (s0 + s1 + s2) / Double(n)
    }
}
