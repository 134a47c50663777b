// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Whether to take another sample.
public enum StopDecision: Sendable, Equatable {
    case continueRunning(reason: String)
    case stop(reason: String)

    public var shouldStop: Bool {
        if case .stop = self { return true }
        return false
    }

    public var reason: String {
        switch self {
        case .continueRunning(let reason), .stop(let reason): return reason
        }
    }
}

/// Adaptive run count. The verdict rests on the boot-level ratio, so `decide(baselineBootMeans:candidateBootMeans:)`
/// stops once the log-ratio Welch interval of the ratio is narrow enough; `decide(_:)` does the same for one
/// mean, for runs with a single variant. Never before `minimum` boots, always at `maximum`.
public struct StoppingRule: Sendable, Equatable {
    /// Target half-width of the CI of the mean, relative to |mean| (0.02 = ±2%).
    public var targetRelativeHalfWidth: Double
    /// Samples always taken (at least 2).
    public var minimum: Int
    /// Samples never exceeded.
    public var maximum: Int
    /// Confidence level of the t-interval.
    public var level: Double

    public init(targetRelativeHalfWidth: Double = 0.02, minimum: Int = 5, maximum: Int = 100, level: Double = 0.95) {
        self.targetRelativeHalfWidth = targetRelativeHalfWidth
        self.minimum = max(2, minimum)
        self.maximum = max(self.minimum, maximum)
        self.level = level
    }

    /// Half-width of the t-interval of the mean, t_{(1+level)/2, n−1}·s/√n, divided by |mean|.
    /// Nil for fewer than 2 samples, a mean of 0 or non-finite values.
    public func relativeHalfWidth(_ samples: [Double]) -> Double? {
        let n = samples.count
        guard n >= 2, samples.allSatisfy(\.isFinite) else { return nil }
        let mean = samples.reduce(0, +) / Double(n)
        guard mean != 0 else { return nil }
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        let t = GSL.tPinv((1 + level) / 2, df: Double(n - 1))
        return t * (variance / Double(n)).squareRoot() / abs(mean)
    }

    /// Decides from the samples so far.
    public func decide(_ samples: [Double]) -> StopDecision {
        let n = samples.count
        if n >= maximum {
            return .stop(reason: "reached the maximum of \(maximum) samples")
        }
        if let i = samples.firstIndex(where: { !$0.isFinite }) {
            return .stop(reason: "sample \(i) is \(samples[i]); fix the measurement before taking more")
        }
        if n < minimum {
            return .continueRunning(reason: "\(n) of at least \(minimum) samples")
        }
        guard let rel = relativeHalfWidth(samples) else {
            return .continueRunning(reason: "the mean is 0, so the relative half-width is undefined")
        }
        let shown = percent(rel), target = percent(targetRelativeHalfWidth)
        if rel <= targetRelativeHalfWidth {
            return .stop(reason: "relative CI half-width \(shown) is within the target \(target) after \(n) samples")
        }
        return .continueRunning(reason: "relative CI half-width \(shown) is above the target \(target) after \(n) samples")
    }

    /// Relative half-width of the boot-level ratio interval at `level`: exp(t_{(1+level)/2, df}·se) − 1 for the
    /// log-ratio Welch interval on boot means (the upper half, the wider one on the ratio scale). Nil when a
    /// side has fewer than 2 boots or a boot mean ≤ 0.
    public func ratioRelativeHalfWidth(baselineBootMeans b: [Double], candidateBootMeans c: [Double]) -> Double? {
        guard let w = try? Statistics.logRatioWelch(baselineBootMeans: b, candidateBootMeans: c) else { return nil }
        guard w.se > 0 else { return 0 }
        return expm1(GSL.tPinv((1 + level) / 2, df: w.df) * w.se)
    }

    /// Decides from the boot means of a candidate and its baseline so far.
    public func decide(baselineBootMeans b: [Double], candidateBootMeans c: [Double]) -> StopDecision {
        let n = min(b.count, c.count)
        if n >= maximum {
            return .stop(reason: "reached the maximum of \(maximum) boots")
        }
        if let bad = (b + c).first(where: { !$0.isFinite }) {
            return .stop(reason: "a boot mean is \(bad); fix the measurement before taking more")
        }
        if n < minimum {
            return .continueRunning(reason: "\(n) of at least \(minimum) boots")
        }
        guard let rel = ratioRelativeHalfWidth(baselineBootMeans: b, candidateBootMeans: c) else {
            return .continueRunning(reason: "the ratio is undefined (a boot mean ≤ 0)")
        }
        let shown = percent(rel), target = percent(targetRelativeHalfWidth)
        if rel <= targetRelativeHalfWidth {
            return .stop(reason: "ratio CI half-width \(shown) on boot means is within the target \(target) after \(n) boots")
        }
        return .continueRunning(reason: "ratio CI half-width \(shown) on boot means is above the target \(target) after \(n) boots")
    }

    /// The fewest boots per variant before an adaptive run may stop: below this a design is underpowered.
    public static let adaptiveMinimumBoots = BootLevel.adequateBoots

    private func percent(_ x: Double) -> String {
        let scaled = (x * 1000).rounded() / 10
        return "\(scaled)%"
    }
}
