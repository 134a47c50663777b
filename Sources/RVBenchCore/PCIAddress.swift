// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// A PCI address on the host, as `lspci -D` and sysfs write it: `0000:01:00.0`.
public struct PCIAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// PCI segment (domain), 0...0xffff.
    public var domain: UInt16
    /// Bus number, 0...0xff.
    public var bus: UInt8
    /// Device (slot) number, 0...0x1f.
    public var slot: UInt8
    /// Function number, 0...7.
    public var function: UInt8

    /// Fails (returns nil) when a part is out of range.
    public init?(domain: UInt16 = 0, bus: UInt8, slot: UInt8, function: UInt8) {
        guard slot <= 0x1f, function <= 7 else { return nil }
        self.domain = domain
        self.bus = bus
        self.slot = slot
        self.function = function
    }

    /// Parses `DDDD:BB:SS.F` (hexadecimal, as in sysfs) or the short `BB:SS.F` (segment 0).
    /// Returns nil for anything else, including out-of-range slots (> 0x1f) and functions (> 7).
    public init?(string: String) {
        let s = string.trimmingCharacters(in: .whitespacesAndNewlines)
        let dotParts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard dotParts.count == 2 else { return nil }
        let colonParts = dotParts[0].split(separator: ":", omittingEmptySubsequences: false)
        let domainText: Substring
        let busText: Substring
        let slotText: Substring
        switch colonParts.count {
        case 3: (domainText, busText, slotText) = (colonParts[0], colonParts[1], colonParts[2])
        case 2: (domainText, busText, slotText) = ("0", colonParts[0], colonParts[1])
        default: return nil
        }
        func hex<T: FixedWidthInteger>(_ text: Substring, maxDigits: Int, as: T.Type) -> T? {
            guard !text.isEmpty, text.count <= maxDigits, text.allSatisfy(\.isHexDigit) else { return nil }
            return T(text, radix: 16)
        }
        guard let d = hex(domainText, maxDigits: 4, as: UInt16.self),
              let b = hex(busText, maxDigits: 2, as: UInt8.self),
              let sl = hex(slotText, maxDigits: 2, as: UInt8.self),
              let f = hex(dotParts[1], maxDigits: 1, as: UInt8.self)
        else { return nil }
        self.init(domain: d, bus: b, slot: sl, function: f)
    }

    /// `0000:01:00.0`
    public var description: String {
        "\(Self.hex(domain, 4)):\(Self.hex(bus, 2)):\(Self.hex(slot, 2)).\(Self.hex(function, 1))"
    }

    public static func hex<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Encoded as its string form, so specs can write `"0000:01:00.0"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = PCIAddress(string: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a PCI address; expected DDDD:BB:SS.F, e.g. 0000:01:00.0")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The PCI device a `passthrough` variant assigns, as a spec or a command line names it.
public enum PCIDeviceSelector: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A full PCI address.
    case address(PCIAddress)
    /// The `index`-th device (0-based, in address order) with this vendor and device ID
    /// (4 lowercase hex digits each, without "0x").
    case id(vendor: String, device: String, index: Int)

    /// Parses "0000:03:00.0" or "03:00.0" (segment 0), "1b36:0010", or "1b36:0010#1" (the second such
    /// device). Nil for anything else.
    public init?(string: String) {
        let s = string.lowercased()
        if s.contains(".") {
            guard let address = PCIAddress(string: s), Self.isCanonical(s) else { return nil }
            self = .address(address)
            return
        }
        var body = Substring(s)
        var index = 0
        if let hash = s.firstIndex(of: "#") {
            guard let i = Int(s[s.index(after: hash)...]), i >= 0 else { return nil }
            index = i
            body = s[..<hash]
        }
        let ids = body.split(separator: ":", omittingEmptySubsequences: false)
        guard ids.count == 2, ids.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }) else { return nil }
        self = .id(vendor: String(ids[0]), device: String(ids[1]), index: index)
    }

    /// Whether `text` is written with every digit of its parts (`dddd:bb:ss.f` or `bb:ss.f`).
    static func isCanonical(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let widths = parts.count == 3 ? [4, 2] : [2]
        guard parts.count == widths.count + 1 else { return false }
        let slotFunction = parts[parts.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        return zip(parts, widths).allSatisfy { $0.count == $1 }
            && slotFunction.count == 2 && slotFunction[0].count == 2 && slotFunction[1].count == 1
    }

    public var description: String {
        switch self {
        case .address(let a): return a.description
        case .id(let v, let d, let i): return i == 0 ? "\(v):\(d)" : "\(v):\(d)#\(i)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = PCIDeviceSelector(string: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "\"\(text)\" is not a device: give a PCI address such as 0000:03:00.0 or vendor:device such as 1b36:0010"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
