// SPDX-License-Identifier: GPL-3.0-or-later
import Dispatch
import Foundation
import RVBenchCore

/// The bootstrap distributions of the ratio of means and the ratio of medians (candidate / baseline).
struct RatioBootstrap {
    var ratioOfMeans: [Double]
    var ratioOfMedians: [Double]
}

/// What the workers of one bootstrap run share.
///
/// `@unchecked Sendable` is safe here because the input buffers are only read while the workers
/// run, each chunk writes only its own index range of the outputs, and the owner reads the outputs
/// only after every worker has finished.
struct BootstrapShared: @unchecked Sendable {
    let baseline: UnsafeBufferPointer<Double>
    let candidate: UnsafeBufferPointer<Double>
    let means: UnsafeMutablePointer<Double>
    let medians: UnsafeMutablePointer<Double>
}

/// Hands out chunk indices to workers, one at a time, so a worker that the scheduler starves
/// takes fewer chunks instead of holding the others up.
///
/// `@unchecked Sendable` is safe here because `next` is only read and written under `lock`.
final class ChunkDispenser: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    /// The next chunk nobody has taken yet, or nil when all are taken.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}

enum Bootstrap {
    /// Resamples per chunk, the unit of work a thread takes at a time. Resample r draws from its own
    /// generator, `Xoshiro256StarStar(seed: seed, stream: r)`, so the result depends on neither this
    /// size nor the threads.
    static let chunkSize = 64

    static func defaultThreads() -> Int {
        max(1, min(64, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Runs `body(range)` over 0..<count split into consecutive ranges of `chunkSize`, on `threads`
    /// workers that each take the next untaken range until none is left. `body` must write only to
    /// locations owned by its range.
    static func forEachChunk(_ count: Int, chunkSize: Int = chunkSize, threads: Int,
                             _ body: @Sendable (Range<Int>) -> Void) {
        let size = max(1, chunkSize)
        let chunks = (count + size - 1) / size
        @Sendable func range(_ chunk: Int) -> Range<Int> { (chunk * size)..<min(count, (chunk + 1) * size) }
        let workers = max(1, min(threads, chunks))
        if workers == 1 {
            for c in 0..<chunks { body(range(c)) }
            return
        }
        let dispenser = ChunkDispenser(count: chunks)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let c = dispenser.take() { body(range(c)) }
        }
    }

    /// Two independent bootstrap resamplings per replicate (baseline and candidate, each with
    /// replacement and its own size); from each resample both the mean and the median are taken.
    ///
    /// Implementation: indices are drawn into a reused count vector (`counts[i]` = how often sorted
    /// value i was drawn) while the drawn values are summed, so nothing is allocated per resample.
    /// The median is then read off the count vector by a prefix walk over the sorted data, which
    /// replaces a selection step. Replicate r draws from its own xoshiro256** stream (stream r of
    /// `seed`), so the distributions are the same for any `threads` and `chunkSize`.
    static func ratios(sortedBaseline: [Double], sortedCandidate: [Double], resamples: Int,
                       seed: UInt64, threads: Int, chunkSize: Int = chunkSize) -> RatioBootstrap {
        precondition(sortedBaseline.count <= Int(UInt32.max) && sortedCandidate.count <= Int(UInt32.max))
        var means = [Double](repeating: 0, count: resamples)
        var medians = [Double](repeating: 0, count: resamples)
        means.withUnsafeMutableBufferPointer { meanBuffer in
            medians.withUnsafeMutableBufferPointer { medianBuffer in
                sortedBaseline.withUnsafeBufferPointer { b in
                    sortedCandidate.withUnsafeBufferPointer { c in
                        let shared = BootstrapShared(baseline: b, candidate: c, means: meanBuffer.baseAddress!,
                                                     medians: medianBuffer.baseAddress!)
                        forEachChunk(resamples, chunkSize: chunkSize, threads: threads) { range in
                            runChunk(range, seed: seed, shared)
                        }
                    }
                }
            }
        }
        return RatioBootstrap(ratioOfMeans: means, ratioOfMedians: medians)
    }

    static func runChunk(_ range: Range<Int>, seed: UInt64, _ shared: BootstrapShared) {
        let b = shared.baseline, c = shared.candidate
        let countsB = UnsafeMutablePointer<UInt32>.allocate(capacity: b.count)
        let countsC = UnsafeMutablePointer<UInt32>.allocate(capacity: c.count)
        countsB.initialize(repeating: 0, count: b.count)
        countsC.initialize(repeating: 0, count: c.count)
        defer { countsB.deallocate(); countsC.deallocate() }
        for r in range {
            var rng = Xoshiro256StarStar(seed: seed, stream: UInt64(r))
            let sb = resample(b, countsB, &rng)
            let sc = resample(c, countsC, &rng)
            shared.means[r] = sc.mean / sb.mean
            shared.medians[r] = sc.median / sb.median
        }
    }

    /// One resample of sorted `x`: its mean and median. `counts` must be all zero on entry and is
    /// all zero again on return.
    @inline(__always)
    static func resample(_ x: UnsafeBufferPointer<Double>, _ counts: UnsafeMutablePointer<UInt32>,
                         _ rng: inout Xoshiro256StarStar) -> (mean: Double, median: Double) {
        let n = x.count
        drawCounts(n, counts, &rng)

        // The resample's order statistic of rank k (0-based) is x[j] for the first j whose
        // cumulative count exceeds k.
        let k = (n - 1) / 2
        var cumulative = 0
        var j = 0
        while cumulative + Int(counts[j]) <= k {
            cumulative += Int(counts[j])
            j += 1
        }
        let median: Double
        if n & 1 == 1 || cumulative + Int(counts[j]) > k + 1 {
            median = x[j]
        } else {
            var j2 = j + 1
            while counts[j2] == 0 { j2 += 1 }
            median = (x[j] + x[j2]) / 2
        }
        // The sum of the resample is Σ counts[i]·x[i], one sequential pass; four partial sums break
        // the floating-point add dependency chain.
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        while i + 4 <= n {
            s0 += Double(counts[i]) * x[i]
            s1 += Double(counts[i + 1]) * x[i + 1]
            s2 += Double(counts[i + 2]) * x[i + 2]
            s3 += Double(counts[i + 3]) * x[i + 3]
            i += 4
        }
        while i < n {
            s0 += Double(counts[i]) * x[i]
            i += 1
        }
        let mean = ((s0 + s1) + (s2 + s3)) / Double(n)
        counts.update(repeating: 0, count: n)
        return (mean, median)
    }

    /// Adds n uniform draws from 0..<n to `counts`.
    ///
    /// Several indices come from each 64-bit random word (batched bounded integers, Brackett-Bello &
    /// Lemire 2024): with P = nᵏ ≤ 2⁶⁴, successive full-width products r·n yield k independent
    /// digits of a uniform number in 0..<P, and rejecting words whose final low part is below
    /// 2⁶⁴ mod P keeps them exactly uniform. For n = 100,000 that is 3 indices per generator
    /// output instead of 1.
    @inline(__always)
    static func drawCounts(_ n: Int, _ counts: UnsafeMutablePointer<UInt32>, _ rng: inout Xoshiro256StarStar) {
        let batch = BatchedBound(UInt64(n))
        let k = batch.k
        var remaining = n
        if k > 1 {
            let bound = UInt64(n)
            while remaining >= k {
                var digits = SIMD4<UInt64>()
                while true {
                    var r = rng.next()
                    for i in 0..<k {
                        let (high, low) = r.multipliedFullWidth(by: bound)
                        digits[i] = high
                        r = low
                    }
                    if r >= batch.threshold { break }
                }
                for i in 0..<k { counts[Int(truncatingIfNeeded: digits[i])] &+= 1 }
                remaining -= k
            }
        }
        let bound = UInt64(n)
        while remaining > 0 {
            counts[rng.index(below: bound)] &+= 1
            remaining -= 1
        }
    }

    /// How many draws below `n` one 64-bit word can carry (at most 4), and the rejection threshold.
    struct BatchedBound {
        let k: Int
        let threshold: UInt64

        init(_ n: UInt64) {
            var k = 1
            var product = n
            while k < 4 {
                let (next, overflow) = product.multipliedReportingOverflow(by: n)
                if overflow { break }
                product = next
                k += 1
            }
            self.k = k
            self.threshold = (0 &- product) % product
        }
    }

    // MARK: Intervals

    /// The percentile interval: type 7 quantiles (1 − level)/2 and (1 + level)/2 of the sorted
    /// bootstrap distribution (SciPy's `method='percentile'`).
    static func percentile(sortedDistribution d: [Double], level: Double) -> Interval {
        let a = (1 - level) / 2
        return Interval(low: GSL.quantile(sorted: d, a), high: GSL.quantile(sorted: d, 1 - a), level: level)
    }

    /// The bias-corrected and accelerated interval (Efron & Tibshirani 1993, §14.3, eq. 14.14–14.15),
    /// with the multi-sample acceleration of SciPy's `bootstrap(method='BCa')`.
    ///
    /// - z0 = Φ⁻¹(p) with p = (#{θ* < θ̂} + #{θ* ≤ θ̂}) / 2B, clamped to [1/2B, 1 − 1/2B] so it stays finite;
    /// - the acceleration sums, over the samples j, the jackknife terms
    ///   U_ji = (n_j − 1)(θ̄_j − θ_ji): a = Σ_j ΣU³/n_j³ / (6 (Σ_j ΣU²/n_j²)^{3/2}), taken as 0 when the
    ///   jackknife values do not vary;
    /// - the ends are type 7 quantiles at Φ(z0 + (z0 ± z)/(1 − a(z0 ± z))).
    static func bca(sortedDistribution d: [Double], estimate: Double, jackknife: [[Double]], level: Double) -> Interval {
        let bCount = d.count
        let below = lowerBound(d, estimate)
        let atMost = upperBound(d, estimate)
        var p = Double(below + atMost) / Double(2 * bCount)
        let clamp = 1 / Double(2 * bCount)
        p = min(max(p, clamp), 1 - clamp)
        let z0 = GSL.normalPinv(p)

        let a = acceleration(jackknife: jackknife)

        let zAlpha = GSL.normalPinv((1 - level) / 2)
        func adjusted(_ z: Double) -> Double {
            let s = z0 + z
            let q = GSL.normalP(z0 + s / (1 - a * s))
            return q.isFinite ? min(max(q, 0), 1) : 0.5
        }
        let lowQ = adjusted(zAlpha), highQ = adjusted(-zAlpha)
        return Interval(low: GSL.quantile(sorted: d, lowQ), high: GSL.quantile(sorted: d, highQ), level: level)
    }

    /// The BCa acceleration from per-sample jackknife values (see `bca`).
    static func acceleration(jackknife: [[Double]]) -> Double {
        var num = 0.0, den = 0.0
        for values in jackknife where !values.isEmpty {
            let n = Double(values.count)
            let mean = values.reduce(0, +) / n
            var s2 = 0.0, s3 = 0.0
            for v in values {
                let u = (n - 1) * (mean - v)
                s2 += u * u
                s3 += u * u * u
            }
            num += s3 / (n * n * n)
            den += s2 / (n * n)
        }
        let a = den > 0 ? num / (6 * den * den.squareRoot()) : 0
        return a.isFinite ? a : 0
    }

    static func lowerBound(_ d: [Double], _ x: Double) -> Int {
        var lo = 0, hi = d.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if d[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    static func upperBound(_ d: [Double], _ x: Double) -> Int {
        var lo = 0, hi = d.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if d[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    // MARK: Jackknife

    /// Leave-one-out means of `x`, O(n) from the total.
    static func jackknifeMeans(_ x: [Double]) -> [Double] {
        let n = Double(x.count)
        let total = x.reduce(0, +)
        return x.map { (total - $0) / (n - 1) }
    }

    /// Leave-one-out medians of sorted `x`, O(n): without element i, the remaining order statistic of
    /// rank h is x[h] when h < i and x[h + 1] otherwise.
    static func jackknifeMedians(sorted x: [Double]) -> [Double] {
        let m = x.count - 1
        guard m > 0 else { return [] }
        return (0..<x.count).map { i in
            func at(_ h: Int) -> Double { h < i ? x[h] : x[h + 1] }
            if m % 2 == 1 { return at(m / 2) }
            return (at(m / 2 - 1) + at(m / 2)) / 2
        }
    }
}
