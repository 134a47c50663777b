// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// A Kubernetes object as a tree of values whose mappings keep their key order, so that the YAML
/// rvbench writes is stable byte for byte and reads in the order people expect (apiVersion, kind,
/// metadata, spec).
public indirect enum KubeValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([KubeValue])
    case map([(String, KubeValue)])

    public static func == (a: KubeValue, b: KubeValue) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of a mapping, or nil.
    public subscript(key: String) -> KubeValue? {
        guard case .map(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The value at a path of mapping keys, e.g. `["spec", "domain", "firmware"]`.
    public func at(_ path: [String]) -> KubeValue? {
        var node: KubeValue? = self
        for key in path { node = node?[key] }
        return node
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var listValue: [KubeValue]? {
        if case .list(let l) = self { return l }
        return nil
    }

    public var mapValue: [(String, KubeValue)]? {
        if case .map(let m) = self { return m }
        return nil
    }
}

// MARK: - YAML

extension KubeValue {
    /// The value as a YAML document (block style, two-space indent, ending in a newline). Every
    /// string is written as a double-quoted JSON string, so no string is ever read back as a number,
    /// a boolean or null, and the file is also what a JSON-minded reader expects.
    public func yaml() -> String {
        var out = ""
        emit(into: &out, indent: 0, inList: false)
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    private func emit(into out: inout String, indent: Int, inList: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .map(let members) where !members.isEmpty:
            for (n, (key, value)) in members.enumerated() {
                // The first key of a list item follows its "- " directly.
                if !(inList && n == 0) { out += pad }
                out += Self.key(key) + ":"
                value.emitAfterKey(into: &out, indent: indent)
            }
        case .list(let items) where !items.isEmpty:
            for item in items {
                out += pad + "- "
                switch item {
                case .map(let m) where !m.isEmpty:
                    item.emit(into: &out, indent: indent + 2, inList: true)
                case .list(let l) where !l.isEmpty:
                    out += "\n"
                    item.emit(into: &out, indent: indent + 2, inList: false)
                default:
                    out += item.scalar() + "\n"
                }
            }
        default:
            out += pad + scalar() + "\n"
        }
    }

    private func emitAfterKey(into out: inout String, indent: Int) {
        switch self {
        case .map(let m) where !m.isEmpty:
            out += "\n"
            emit(into: &out, indent: indent + 2, inList: false)
        case .list(let l) where !l.isEmpty:
            out += "\n"
            emit(into: &out, indent: indent, inList: false)
        default:
            out += " " + scalar() + "\n"
        }
    }

    private func scalar() -> String {
        switch self {
        case .string(let s): return JSONText.quoted(s)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .list: return "[]"
        case .map: return "{}"
        }
    }

    /// Keys are written plain when they are made of letters, digits and `. _ / -`, else quoted.
    private static func key(_ k: String) -> String {
        let plain = !k.isEmpty && k.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0" ... "9").contains($0))) || "._/-".unicodeScalars.contains($0)
        } && k.first.map { $0.isLetter } == true
        return plain ? k : JSONText.quoted(k)
    }
}

extension KubeValue {
    /// A copy with the value at a path of mapping keys replaced, added (missing mappings are created)
    /// or, with nil, removed.
    public func setting(_ path: [String], to value: KubeValue?) -> KubeValue {
        guard let key = path.first else { return value ?? self }
        var members = mapValue ?? []
        let index = members.firstIndex { $0.0 == key }
        let child = index.map { members[$0].1 } ?? .map([])
        let replaced: KubeValue? = path.count == 1 ? value : child.setting(Array(path.dropFirst()), to: value)
        switch (index, replaced) {
        case let (i?, v?): members[i].1 = v
        case let (i?, nil): members.remove(at: i)
        case let (nil, v?): members.append((key, v))
        case (nil, nil): break
        }
        return .map(members)
    }
}
