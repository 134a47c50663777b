// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Testing

@Suite("@Nullable and @NullableOrMissing")
struct NullableTests {
    struct Strict: Codable, Equatable {
        var name: String
        @Nullable var note: String?
    }

    struct Lenient: Codable, Equatable {
        var name: String
        @NullableOrMissing var note: String?
    }

    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("nil is written as null, a value as itself")
    func writes() throws {
        #expect(try json(Strict(name: "a", note: nil)) == #"{"name":"a","note":null}"#)
        #expect(try json(Lenient(name: "a", note: nil)) == #"{"name":"a","note":null}"#)
        #expect(try json(Lenient(name: "a", note: "x")) == #"{"name":"a","note":"x"}"#)
    }

    @Test("null reads as nil with either wrapper")
    func readsNull() throws {
        let data = Data(#"{"name":"a","note":null}"#.utf8)
        #expect(try JSONDecoder().decode(Strict.self, from: data) == Strict(name: "a", note: nil))
        #expect(try JSONDecoder().decode(Lenient.self, from: data) == Lenient(name: "a", note: nil))
        let value = Data(#"{"name":"a","note":"x"}"#.utf8)
        #expect(try JSONDecoder().decode(Strict.self, from: value).note == "x")
    }

    @Test("a missing key is an error for @Nullable and nil for @NullableOrMissing")
    func missingKey() throws {
        let data = Data(#"{"name":"a"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Strict.self, from: data) }
        #expect(try JSONDecoder().decode(Lenient.self, from: data) == Lenient(name: "a", note: nil))
    }
}
