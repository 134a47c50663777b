// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// SHA-256 (FIPS 180-4), used to fingerprint specs and artifacts in the manifest.
///
/// Feed bytes with `update(_:)` as many times as needed, then call `finalize()`.
/// The one-shot helpers `hex(of:)` and `hex(ofFile:)` cover the common cases;
/// `hex(ofFile:)` streams the file in chunks, so kernels and initramfs images
/// of any size hash in constant memory.
public struct SHA256: Sendable {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
    )
    /// Bytes not yet forming a whole 64-byte block.
    private var buffer: [UInt8] = []
    /// Total message length in bytes.
    private var length: UInt64 = 0

    public init() {
        buffer.reserveCapacity(64)
    }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Adds bytes to the message.
    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            update(raw)
        }
    }

    /// Adds raw bytes to the message.
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        length &+= UInt64(raw.count)
        var offset = 0
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, raw.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0 ..< take]))
            offset = take
            if buffer.count < 64 { return }
            compress(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        while raw.count - offset >= 64 {
            compress(UnsafeRawBufferPointer(start: raw.baseAddress! + offset, count: 64))
            offset += 64
        }
        if offset < raw.count {
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset...]))
        }
    }

    /// Pads the message and returns the 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail = buffer
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        for start in stride(from: 0, to: tail.count, by: 64) {
            compress(tail[start ..< start + 64])
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    /// Pads the message and returns the digest as 64 lowercase hex digits.
    public consuming func finalizeHex() -> String {
        Self.hexString(finalize())
    }

    /// The SHA-256 of `data`, as 64 lowercase hex digits.
    public static func hex(of data: Data) -> String {
        var hasher = SHA256()
        hasher.update(data)
        return hasher.finalizeHex()
    }

    /// The SHA-256 of a string's UTF-8 bytes, as 64 lowercase hex digits.
    public static func hex(of string: String) -> String {
        hex(of: Data(string.utf8))
    }

    /// The SHA-256 of a file's contents, read in 1 MiB chunks, as 64 lowercase hex digits.
    public static func hex(ofFile url: URL) throws -> String {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw RVBenchError(.notFound, "cannot open \(url.path) to hash it; check that the file exists and is readable",
                               cause: error)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 20)
            } catch {
                throw RVBenchError(.library, "reading \(url.path) failed while hashing it", cause: error)
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(chunk)
        }
        return hasher.finalizeHex()
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func compress(_ block: [UInt8]) {
        block.withUnsafeBytes { compress(UnsafeRawBufferPointer(rebasing: $0[0 ..< 64])) }
    }

    private mutating func compress(_ block: ArraySlice<UInt8>) {
        block.withUnsafeBytes { compress($0) }
    }

    /// Compresses one 64-byte block. Written on raw pointers so that it stays fast in debug builds,
    /// where kernels and initramfs images of hundreds of megabytes are hashed too.
    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            Self.k.withUnsafeBufferPointer { k in
                let bytes = block.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let w = w.baseAddress!
                let k = k.baseAddress!
                for t in 0 ..< 16 {
                    let p = bytes + 4 &* t
                    w[t] = UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
                }
                for t in 16 ..< 64 {
                    let x = w[t &- 15], y = w[t &- 2]
                    let s0 = (x >> 7 | x << 25) ^ (x >> 18 | x << 14) ^ (x >> 3)
                    let s1 = (y >> 17 | y << 15) ^ (y >> 19 | y << 13) ^ (y >> 10)
                    w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = state
                for t in 0 ..< 64 {
                    let s1 = (e >> 6 | e << 26) ^ (e >> 11 | e << 21) ^ (e >> 25 | e << 7)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[t] &+ w[t]
                    let s0 = (a >> 2 | a << 30) ^ (a >> 13 | a << 19) ^ (a >> 22 | a << 10)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ s0 &+ maj
                }
                state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                         state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
            }
        }
    }
}

