// SPDX-License-Identifier: GPL-3.0-or-later

/// An optional property that is always written, as `null` when it is nil.
///
/// Synthesized `Codable` omits a nil optional. Documents that keep the same keys in every object
/// (probe facts, manifests, results) mark their optional properties with `@Nullable` or
/// `@NullableOrMissing` instead of writing `encode(to:)` by hand. The two differ only in reading.
public protocol NullWrittenOptional: Codable {
    associatedtype Value: Codable
    var wrappedValue: Value? { get }
    init(wrappedValue: Value?)
}

extension NullWrittenOptional {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = wrappedValue {
            try container.encode(value)
        } else {
            try container.encodeNil()
        }
    }

    /// `null` reads as nil.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(wrappedValue: container.decodeNil() ? nil : try container.decode(Value.self))
    }
}

/// Written as `null` when nil; the key must be there when read (it may hold `null`).
/// For output rvbench reads strictly, such as `rvbench-probe facts`.
@propertyWrapper
public struct Nullable<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }
}

/// Written as `null` when nil; a missing key reads as nil, as with a plain optional.
/// For documents whose older versions may lack the key.
@propertyWrapper
public struct NullableOrMissing<Value> {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }
}

extension Nullable: NullWrittenOptional, Encodable, Decodable where Value: Codable {}
extension Nullable: Sendable where Value: Sendable {}
extension Nullable: Equatable where Value: Equatable {}
extension Nullable: Hashable where Value: Hashable {}

extension NullableOrMissing: NullWrittenOptional, Encodable, Decodable where Value: Codable {}
extension NullableOrMissing: Sendable where Value: Sendable {}
extension NullableOrMissing: Equatable where Value: Equatable {}
extension NullableOrMissing: Hashable where Value: Hashable {}

extension KeyedDecodingContainer {
    /// What synthesized `init(from:)` calls for a `@NullableOrMissing` property: a missing key is nil.
    public func decode<T: Codable>(_ type: NullableOrMissing<T>.Type, forKey key: Key) throws -> NullableOrMissing<T> {
        NullableOrMissing(wrappedValue: try decodeIfPresent(T.self, forKey: key))
    }
}

/// A value that can be empty, such as a dictionary.
public protocol EmptyCheckable {
    var isEmpty: Bool { get }
}

extension Dictionary: EmptyCheckable {}
extension Array: EmptyCheckable {}

/// A property whose key is left out when its value is empty, so documents of runs that do not
/// use it read as before (a manifest's `plans`, a spec record's `overrides`).
@propertyWrapper
public struct OmittedWhenEmpty<Value: EmptyCheckable> {
    public var wrappedValue: Value

    public init(wrappedValue: Value) {
        self.wrappedValue = wrappedValue
    }
}

extension OmittedWhenEmpty: Sendable where Value: Sendable {}
extension OmittedWhenEmpty: Equatable where Value: Equatable {}

extension OmittedWhenEmpty: Encodable where Value: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}

extension OmittedWhenEmpty: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        wrappedValue = try decoder.singleValueContainer().decode(Value.self)
    }
}

extension KeyedEncodingContainer {
    /// What synthesized `encode(to:)` calls for an `@OmittedWhenEmpty` property: nothing when it is empty.
    public mutating func encode<T: Encodable>(_ value: OmittedWhenEmpty<T>, forKey key: Key) throws {
        if !value.wrappedValue.isEmpty { try encode(value.wrappedValue, forKey: key) }
    }
}
