// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Locale-independent number formatting shared by the human-readable reports.
enum Num {
    /// `x` with `digits` significant digits; integers from 1,000 up are shown whole,
    /// and very large or small magnitudes in exponent form ("1.503e9").
    static func sig(_ x: Double, _ digits: Int = 4) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        let magnitude = abs(x)
        if magnitude >= 1e7 || magnitude < 1e-3 {
            return exponent(x, digits)
        }
        if magnitude >= pow(10, Double(digits - 1)) {
            return String(format: "%.0f", x)
        }
        let decimals = digits - 1 - Int(floor(log10(magnitude)))
        let text = String(format: "%.\(max(0, decimals))f", x)
        // Rounding can carry into a new digit (9.9996 → "10.000"); one fewer decimal then.
        if decimals > 0, let rounded = Double(text), abs(rounded) >= pow(10, floor(log10(magnitude)) + 1) {
            return String(format: "%.\(decimals - 1)f", x)
        }
        return text
    }

    /// Exponent form without a plus sign or leading zeros in the exponent: "1.503e9", "2.1e-6".
    static func exponent(_ x: Double, _ digits: Int) -> String {
        let text = String(format: "%.\(max(0, digits - 1))e", x)
        guard let e = text.firstIndex(of: "e") else { return text }
        let mantissa = text[..<e]
        var exponent = text[text.index(after: e)...]
        var sign = ""
        if exponent.hasPrefix("-") { sign = "-" }
        exponent = exponent.drop(while: { $0 == "+" || $0 == "-" })
        exponent = exponent.drop(while: { $0 == "0" })
        return "\(mantissa)e\(sign)\(exponent.isEmpty ? "0" : exponent)"
    }

    /// A ratio with three decimals ("1.050"); extreme ratios in significant digits.
    static func ratio(_ x: Double) -> String {
        guard x.isFinite else { return sig(x) }
        if abs(x) >= 0.01 && abs(x) < 1000 { return String(format: "%.3f", x) }
        return sig(x, 3)
    }

    /// A ratio's change as a signed percentage: 1.05 → "+5.0%".
    static func change(_ ratio: Double) -> String {
        guard ratio.isFinite else { return sig(ratio) }
        let percent = (ratio - 1) * 100
        let text = String(format: "%+.1f%%", percent)
        return text == "-0.0%" ? "+0.0%" : text
    }

    /// A p-value: three decimals, or exponent form below 0.001.
    static func p(_ p: Double) -> String {
        guard p.isFinite else { return sig(p) }
        if p >= 0.001 { return String(format: "%.3f", p) }
        if p == 0 { return "0" }
        return exponent(p, 2)
    }

    /// A fraction as a percentage with one decimal: 0.0667 → "6.7%".
    static func percent(_ f: Double) -> String {
        guard f.isFinite else { return sig(f) }
        return String(format: "%.1f%%", f * 100)
    }

    /// A lossless value for machine-readable output: integers without a fraction,
    /// everything else in Swift's shortest round-tripping form.
    static func exact(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    /// A 95% interval "[1.020, 1.080]".
    static func interval(_ interval: Interval) -> String {
        "[\(ratio(interval.low)), \(ratio(interval.high))]"
    }
}

/// A unit to show a metric in, chosen once per table so all its rows share it.
struct DisplayUnit: Equatable {
    var label: String
    /// Values are divided by this to display them.
    var divisor: Double

    /// Time units are scaled to s, ms, µs or ns by the magnitude of a typical value; other units are kept.
    static func choose(unit: String, typical: Double) -> DisplayUnit {
        // Powers of ten of a second.
        let source: Int
        switch unit {
        case "ns": source = -9
        case "us", "µs": source = -6
        case "ms": source = -3
        case "s": source = 0
        default: return DisplayUnit(label: unit, divisor: 1)
        }
        let value = abs(typical) * pow(10, Double(source))
        let (label, target): (String, Int) =
            value >= 1 ? ("s", 0) : value >= 1e-3 ? ("ms", -3) : value >= 1e-6 ? ("µs", -6) : ("ns", -9)
        return DisplayUnit(label: label, divisor: pow(10, Double(target - source)))
    }

    func format(_ value: Double) -> String {
        Num.sig(value / divisor)
    }
}

/// Escaping for text that came from data: workload, variant and metric names, reasons, notes.
/// Guest-provided strings are hostile, so every renderer passes them through one of these.
enum Escape {
    /// Characters XML 1.0 cannot carry even escaped (C0 controls except tab, LF, CR) become U+FFFD.
    static func xmlSafe(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            let value = scalar.value
            let allowed = value == 0x09 || value == 0x0a || value == 0x0d
                || (value >= 0x20 && value != 0xfffe && value != 0xffff && !(0x7f ... 0x9f).contains(value))
            return allowed ? scalar : "\u{fffd}"
        }))
    }

    /// Text for HTML and XML element content and quoted attribute values: & < > " ' are escaped.
    static func markup(_ text: String) -> String {
        xmlSafe(text).replacingScalars { MarkupText.entity($0, apostrophe: "&#39;") }
    }

    /// Text for a Markdown table cell or line: Markdown punctuation is backslash-escaped, HTML
    /// is neutralised as entities (GitHub renders inline HTML), and line breaks become spaces.
    /// An underscore inside a word ("wall_ns") is left alone, as GitHub does not treat it as emphasis.
    static func markdown(_ text: String) -> String {
        var out = ""
        let characters = Array(xmlSafe(text))
        for (index, character) in characters.enumerated() {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\n", "\r", "\t", "\r\n": out += " "
            case "_":
                let inWord = index > 0 && index + 1 < characters.count
                    && isWordCharacter(characters[index - 1]) && isWordCharacter(characters[index + 1])
                out += inWord ? "_" : "\\_"
            case "\\", "`", "*", "[", "]", "|", "~":
                out += "\\" + String(character)
            default: out.append(character)
            }
        }
        return out
    }

    private static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber
    }
}
