// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing

extension Tag {
    @Tag static var reference: Self
    @Tag static var simulation: Self
}

/// Loads a fixture written by analysis/reference/make_stats_fixtures.py.
func fixture(_ name: String) throws -> [String: Any] {
    let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                           "missing fixture \(name).json; run analysis/reference/make_stats_fixtures.py")
    let data = try Data(contentsOf: url)
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// |a − b| ≤ rel·max(|a|, |b|) + abs.
func close(_ a: Double, _ b: Double, rel: Double = 1e-9, abs absTol: Double = 0) -> Bool {
    if a == b { return true }
    return Swift.abs(a - b) <= rel * max(Swift.abs(a), Swift.abs(b)) + absTol
}

func doubles(_ any: Any?) -> [Double] {
    (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue }
}

func number(_ any: Any?) -> Double {
    (any as? NSNumber)?.doubleValue ?? .nan
}
