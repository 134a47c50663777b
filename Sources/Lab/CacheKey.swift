// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// The content hash that names a cached artifact: SHA-256 over a canonical JSON object of
/// the artifact's kind and every input that can change its bytes.
public struct CacheKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 64 hex digits.
    public var hex: String
    /// The inputs the key was computed from, for the manifest.
    public var inputs: [String: String]

    public init(kind: String, inputs: [String: String]) {
        var all = inputs
        all["kind"] = kind
        all["scheme"] = "rvbench-lab-cache-v1"
        self.inputs = inputs
        self.hex = SHA256.hex(of: Self.canonical(all))
    }

    /// The first 16 hex digits, used as the directory name.
    public var short: String { String(hex.prefix(16)) }

    public var description: String { short }

    /// `{"a":"1","b":"2"}` with sorted keys and JSON string escaping: the same inputs always
    /// give the same bytes.
    static func canonical(_ dict: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(dict)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A content hash of a directory tree: relative paths, file modes, file contents and symlink
/// targets, in sorted order. Timestamps and owners do not count.
public enum TreeHash {
    public static func hex(of directory: URL) async throws -> String {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw RVBenchError(.notFound, "\(directory.path) is not a directory")
        }
        guard let walker = fm.enumerator(atPath: directory.path) else {
            throw RVBenchError(.library, "cannot list \(directory.path)")
        }
        var entries: [String] = []
        while let rel = walker.nextObject() as? String { entries.append(rel) }
        entries.sort()
        var kinds: [String: (FileAttributeType?, String)] = [:]
        var files: [String] = []
        for rel in entries {
            let attrs = try fm.attributesOfItem(atPath: directory.appendingPathComponent(rel).path)
            let type = attrs[.type] as? FileAttributeType
            let mode = (attrs[.posixPermissions] as? Int).map { String($0, radix: 8) } ?? "?"
            kinds[rel] = (type, mode)
            if type == .typeRegular { files.append(rel) }
        }
        // One sha256sum run for every file: fast for clips and models of any size.
        var sums: [String: String] = [:]
        if !files.isEmpty {
            let input = Data(files.map { $0 + "\u{0}" }.joined().utf8)
            let out = try await Subprocess.check(["sh", "-c", "xargs -0 sha256sum -b --"], directory: directory.path,
                                                 input: input, timeout: 600)
            for line in out.split(separator: "\n") {
                guard line.count > 66 else { continue }
                let hash = String(line.prefix(64))
                let name = String(line.dropFirst(66))
                sums[name] = hash
            }
        }
        var lines = ""
        for rel in entries {
            let (type, mode) = kinds[rel]!
            switch type {
            case .typeSymbolicLink?:
                lines += "l \(rel) -> \(try fm.destinationOfSymbolicLink(atPath: directory.appendingPathComponent(rel).path))\n"
            case .typeDirectory?:
                lines += "d \(rel) \(mode)\n"
            case .typeRegular?:
                guard let sum = sums[rel] else {
                    throw RVBenchError(.process, "sha256sum gave no hash for \(rel) in \(directory.path)")
                }
                lines += "f \(rel) \(mode) \(sum)\n"
            default:
                lines += "o \(rel)\n"
            }
        }
        return SHA256.hex(of: lines)
    }
}
