// SPDX-License-Identifier: GPL-3.0-or-later

/// An optional value that is always written, as `null` when it is nil, and must be present
/// (possibly as `null`) when read.
///
/// Synthesized `Codable` omits a nil optional and accepts a missing key. Documents that list
/// every key, such as `rvbench-probe facts`, mark their optional properties with this wrapper
/// instead of writing `encode(to:)` and `init(from:)` by hand.
@propertyWrapper
public struct Nullable<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }
}

extension Nullable: Sendable where Value: Sendable {}
extension Nullable: Equatable where Value: Equatable {}
extension Nullable: Hashable where Value: Hashable {}

extension Nullable: Encodable where Value: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue {
            try container.encode(value)
        } else {
            try container.encodeNil()
        }
    }
}

extension Nullable: Decodable where Value: Decodable {
    /// Decoded through `KeyedDecodingContainer.decode`, so a missing key is an error; `null` is nil.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }
}
