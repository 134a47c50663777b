// SPDX-License-Identifier: GPL-3.0-or-later

extension String {
    /// This string with each Unicode scalar for which `replacement` returns text written as that text;
    /// the others are kept. The one loop behind rvbench's JSON, XML and HTML escaping.
    public func replacingScalars(_ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            if let text = replacement(scalar) {
                out += text
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// String literals of JSON that rvbench writes by hand (where key order or layout matters).
public enum JSONText {
    /// A JSON string literal: `"`, `\` and control characters escaped, and also DEL, the C1 controls,
    /// U+2028, U+2029 and U+FEFF, so the literal is a valid YAML double-quoted scalar as well.
    /// Everything else is written verbatim.
    public static func quoted(_ s: String) -> String {
        "\"" + s.replacingScalars { scalar in
            switch scalar {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            default:
                let v = scalar.value
                guard v < 0x20 || v == 0x7F || (0x80 ... 0x9F).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xFEFF
                else { return nil }
                let hex = String(v, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        } + "\""
    }
}

/// Entities for the characters that markup (XML, HTML) gives meaning to.
public enum MarkupText {
    /// The entity for `&`, `<`, `>`, `"` or `'`, else nil. `apostrophe` is the form the caller's format
    /// wants for `'` (`&apos;` in XML, `&#39;` in HTML, which has no `&apos;` before HTML5).
    public static func entity(_ scalar: Unicode.Scalar, apostrophe: String) -> String? {
        switch scalar {
        case "&": return "&amp;"
        case "<": return "&lt;"
        case ">": return "&gt;"
        case "\"": return "&quot;"
        case "'": return apostrophe
        default: return nil
        }
    }
}
