// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// How a kernel configuration provides one option.
public enum KernelOptionState: String, Sendable, Codable, Equatable {
    /// Built in (`=y`).
    case builtIn = "y"
    /// Built as a module (`=m`).
    case module = "m"
    /// Set to a value other than y/m (a number or a string).
    case value
    /// Present as `# CONFIG_X is not set`, or absent from the file.
    case missing
}

/// One required option and what a configuration says about it.
public struct KernelOptionCheck: Sendable, Codable, Equatable {
    /// The option without its `CONFIG_` prefix, e.g. `KVM`.
    public var option: String
    public var state: KernelOptionState
    /// The raw value for `.value`, otherwise nil.
    public var value: String?
    /// Why the lab needs it (the comment after the name in the requirements file).
    public var reason: String?

    public init(option: String, state: KernelOptionState, value: String? = nil, reason: String? = nil) {
        self.option = option
        self.state = state
        self.value = value
        self.reason = reason
    }
}

/// A parsed Kconfig `.config` file.
public struct KernelConfig: Sendable, Equatable {
    /// Option (without `CONFIG_`) to raw value; options that are "not set" are absent.
    public var values: [String: String]

    public init(values: [String: String]) {
        self.values = values
    }

    /// Parses `CONFIG_X=y|m|value` lines; comments, `# CONFIG_X is not set` and blank lines are skipped.
    public init(parsing text: String) {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("CONFIG_"), let eq = line.firstIndex(of: "=") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: 7) ..< eq])
            values[name] = String(line[line.index(after: eq)...])
        }
        self.values = values
    }

    /// What this configuration says about `option` (with or without the `CONFIG_` prefix).
    public func state(of option: String) -> (KernelOptionState, String?) {
        let name = option.hasPrefix("CONFIG_") ? String(option.dropFirst(7)) : option
        switch values[name] {
        case nil, "n": return (.missing, nil)
        case "y": return (.builtIn, nil)
        case "m": return (.module, nil)
        case let v?: return (.value, v)
        }
    }

    /// The options a fragment sets (`CONFIG_X=value`) that `final` does not have with that value,
    /// sorted: what kconfig dropped when it merged the fragment.
    public static func dropped(fragment: String, final: String) -> [String] {
        let wanted = KernelConfig(parsing: fragment).values
        let have = KernelConfig(parsing: final).values
        return wanted.keys.filter { have[$0] != wanted[$0] }.sorted()
    }

    /// Checks every requirement; the result keeps the requirements' order.
    public func check(_ requirements: [KernelRequirement]) -> [KernelOptionCheck] {
        requirements.map { req in
            let (state, value) = state(of: req.option)
            return KernelOptionCheck(option: req.option, state: state, value: value, reason: req.reason)
        }
    }
}

/// One line of a requirements file such as `workloads/lab/host-kernel.require`.
public struct KernelRequirement: Sendable, Equatable {
    /// The option without its `CONFIG_` prefix.
    public var option: String
    /// Free text after `#` on the same line.
    public var reason: String?

    public init(option: String, reason: String? = nil) {
        self.option = option
        self.reason = reason
    }

    /// Parses one option per line: `CONFIG_KVM  # run L2 guests`. Blank and comment-only
    /// lines are skipped.
    public static func parse(_ text: String) throws -> [KernelRequirement] {
        var out: [KernelRequirement] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            var reason: String?
            if let hash = line.firstIndex(of: "#") {
                let comment = line[line.index(after: hash)...].trimmingCharacters(in: .whitespaces)
                reason = comment.isEmpty ? nil : comment
                line = line[..<hash]
            }
            let name = line.trimmingCharacters(in: .whitespaces)
            if name.isEmpty { continue }
            let option = name.hasPrefix("CONFIG_") ? String(name.dropFirst(7)) : name
            guard option.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw RVBenchError(.badInput, "line \(number + 1) of the kernel requirements is not an option name: '\(name)'; write one CONFIG_NAME per line")
            }
            out.append(KernelRequirement(option: option, reason: reason))
        }
        return out
    }
}
