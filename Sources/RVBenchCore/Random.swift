// SPDX-License-Identifier: GPL-3.0-or-later

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit generator used here only to expand a seed.
///
/// `state += 0x9E3779B97F4A7C15`, then the output is the state mixed with
/// `(z ^ (z >> 30)) * 0xBF58476D1CE4E5B9`, `(z ^ (z >> 27)) * 0x94D049BB133111EB`, `z ^ (z >> 31)`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman & Vigna 2018): the generator behind every seeded choice in a schedule
/// and behind the flat bootstraps of the statistics engine.
///
/// It is written out here, rather than taken from the standard library, so that a schedule and a
/// bootstrap interval are the same on every platform and every Swift version. The four state words
/// are the first four outputs of `SplitMix64(seed: seed ^ (stream &* 0xD1B54A32D192ED03))`, so one
/// experiment seed gives independent streams for different purposes (see `stream(_:)`; the bootstrap
/// gives each resample its own stream). `next()` is `@inlinable` so that the statistics engine's
/// resampling loops keep the state in registers.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    @usableFromInline var s: (UInt64, UInt64, UInt64, UInt64)

    @inlinable
    public init(seed: UInt64, stream: UInt64 = 0) {
        var expander = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        s = (expander.next(), expander.next(), expander.next(), expander.next())
        if s == (0, 0, 0, 0) { s.0 = 1 } // the all-zero state is the one fixed point
    }

    /// A generator with this exact state (for checking against the reference implementation).
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        s = state
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// A uniform integer in `0 ..< bound` by rejection: draws below `2^64 mod bound` are thrown away,
    /// then the draw is reduced modulo `bound`. `bound` must be positive. Schedules depend on its
    /// exact outputs; `index(below:)` is the faster way to the same distribution.
    public mutating func nextBelow(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        let threshold = (0 &- bound) % bound
        while true {
            let draw = next()
            if draw >= threshold { return draw % bound }
        }
    }

    /// A uniform integer in `0 ..< bound` by Lemire's nearly divisionless method ("Fast random integer
    /// generation in an interval", ACM TOMS 2019): the high half of the 128-bit product draw × bound,
    /// rejecting draws whose low half falls below `2^64 mod bound`. The division runs only when the
    /// low half is below `bound`, with probability bound / 2^64. `bound` must be positive.
    @inlinable @inline(__always)
    public mutating func index(below bound: UInt64) -> Int {
        var (high, low) = next().multipliedFullWidth(by: bound)
        if low < bound {
            let threshold = (0 &- bound) % bound
            while low < threshold {
                (high, low) = next().multipliedFullWidth(by: bound)
            }
        }
        return Int(truncatingIfNeeded: high)
    }

    /// Fisher-Yates from the last position down: for `i` from `count - 1` to 1,
    /// swap element `i` with element `nextBelow(i + 1)`.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        var i = array.count - 1
        while i > 0 {
            let j = Int(nextBelow(UInt64(i + 1)))
            if i != j { array.swapAt(i, j) }
            i -= 1
        }
    }

    /// Stream identifiers: FNV-1a (64-bit) of a purpose string such as "round-pair/3" or
    /// "workload-order/virtio/2". Stable across platforms, unlike `Hasher`.
    public static func stream(_ purpose: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in purpose.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
