// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

/// Vectors from FIPS 180-4's examples and NIST's SHA-256 test set.
@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func knownVectors(input: String, expected: String) {
        #expect(SHA256.hex(of: Data(input.utf8)) == expected)
        #expect(SHA256.hex(of: input) == expected)
    }

    @Test func oneMillionA() {
        let data = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(SHA256.hex(of: data) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the same bytes in odd-sized pieces must give the one-shot digest.
    @Test(arguments: [1, 7, 63, 64, 65, 1000])
    func incrementalMatchesOneShot(chunk: Int) {
        let bytes = (0 ..< 3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = SHA256()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            hasher.update(Array(bytes[offset ..< end]))
            offset = end
        }
        #expect(hasher.finalizeHex() == SHA256.hex(of: Data(bytes)))
    }

    /// Lengths around the padding boundary (55, 56, 64 bytes) exercise the one- and two-block tails.
    @Test(arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    ])
    func paddingBoundaries(count: Int, expected: String) {
        #expect(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: count)) == expected)
    }

    @Test func streamsAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-sha-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let data = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        try data.write(to: url)
        #expect(try SHA256.hex(ofFile: url) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func missingFileIsNotFound() {
        let url = URL(fileURLWithPath: "/nonexistent/rvbench/file")
        #expect { try SHA256.hex(ofFile: url) } throws: { error in
            (error as? RVBenchError)?.code == .notFound
        }
    }
}
