// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
@testable import Stats
import Testing

/// Coverage of the boot-level ratio interval on simulated nested data with between-boot SD equal to
/// within-boot SD (2%), seeded.
@Suite(.tags(.simulation)) struct CoverageTests {
    /// `boots` × `iterations` lognormal values around `mean`.
    static func series(_ rng: GSL.Random, mean: Double, boots: Int, iterations: Int, sd: Double) -> [[Double]] {
        (0..<boots).map { _ in
            let b = rng.gaussian(sigma: sd)
            return (0..<iterations).map { _ in mean * exp(b + rng.gaussian(sigma: sd)) }
        }
    }

    static func coverage(boots: Int, replicates: Int, seed: UInt64) throws -> (covered: Int, underpowered: Int) {
        let rng = try GSL.Random(seed: seed)
        let trueRatio = 1.03
        var covered = 0, underpowered = 0
        for _ in 0..<replicates {
            let b = Statistics.bootMeans(series(rng, mean: 100, boots: boots, iterations: 5, sd: 0.02))
            let c = Statistics.bootMeans(series(rng, mean: 100 * trueRatio, boots: boots, iterations: 5, sd: 0.02))
            let w = try Statistics.logRatioWelch(baselineBootMeans: b, candidateBootMeans: c)
            if w.interval(level: 0.95).contains(trueRatio) { covered += 1 }
            let d = Statistics.decideFamily([.init(welch: w, direction: .lowerIsBetter, family: .primary)],
                                            threshold: 0.01, alpha: 0.05)[0]
            if d.bootLevel.underpowered { underpowered += 1 }
        }
        return (covered, underpowered)
    }

    @Test func ninetyFivePercentIntervalCoversAtFiveBoots() throws {
        let replicates = 2000
        let r = try Self.coverage(boots: 5, replicates: replicates, seed: 12)
        let rate = Double(r.covered) / Double(replicates)
        if ProcessInfo.processInfo.environment["RVBENCH_PRINT_FIGURES"] != nil {
            print("figure: coverage at 5 boots x 5 iterations: \(r.covered) of \(replicates)")
        }
        #expect(rate >= 0.93, "coverage \(rate)")
        #expect(rate <= 0.97, "coverage \(rate) is far above nominal: the interval is too wide")
        #expect(r.underpowered == 0)
    }

    @Test func twoBootsAreMarkedUnderpowered() throws {
        let r = try Self.coverage(boots: 2, replicates: 200, seed: 13)
        #expect(r.underpowered == 200)
    }

    /// The flat interval over pooled iterations, which the boot-level one replaces, covers far less.
    @Test func thePooledIntervalUndercovers() throws {
        let rng = try GSL.Random(seed: 14)
        var covered = 0
        let replicates = 200
        for _ in 0..<replicates {
            let b = Array(Self.series(rng, mean: 100, boots: 5, iterations: 5, sd: 0.02).joined())
            let c = Array(Self.series(rng, mean: 103, boots: 5, iterations: 5, sd: 0.02).joined())
            let w = try Statistics.logRatioWelch(baselineBootMeans: b, candidateBootMeans: c)
            if w.interval(level: 0.95).contains(1.03) { covered += 1 }
        }
        #expect(Double(covered) / Double(replicates) < 0.85)
    }
}
