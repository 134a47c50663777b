// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Lab
import Logging
import RVBenchCore
import Testing

@Suite struct LabBuilderCacheTests {
    func builder(_ dir: URL, lines: LineSink) -> LabBuilder {
        LabBuilder(paths: LabPaths(cacheRoot: dir), source: dir, workloadsOut: nil, logger: Logger(label: "test")) {
            lines.append($0)
        }
    }

    @Test func buildsOnceThenReuses() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = LineSink()
        let b = builder(dir, lines: lines)
        let key = CacheKey(kind: "thing", inputs: ["x": "1"])
        let target = b.paths.artifact("thing", key: key)
        let first = try await b.cached(target, what: "thing", key: key) { out in
            try Data("payload".utf8).write(to: out.appendingPathComponent("file"))
        }
        #expect(first == false)
        #expect(FileManager.default.contents(atPath: target.appendingPathComponent("file").path) == Data("payload".utf8))
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("inputs.json").path))
        let second = try await b.cached(target, what: "thing", key: key) { _ in
            Issue.record("a cached artifact must not be rebuilt")
        }
        #expect(second == true)
        #expect(lines.all.contains { $0.hasPrefix("reuse thing") })
    }

    @Test func aFailedBuildLeavesNothingBehind() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = builder(dir, lines: LineSink())
        let key = CacheKey(kind: "thing", inputs: ["x": "2"])
        let target = b.paths.artifact("thing", key: key)
        await #expect(throws: RVBenchError.self) {
            _ = try await b.cached(target, what: "thing", key: key) { out in
                try Data("half".utf8).write(to: out.appendingPathComponent("file"))
                throw RVBenchError(.process, "boom")
            }
        }
        let siblings = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        #expect(siblings.isEmpty)
    }

    @Test func progressReporterTurnsMmdebstrapPhasesIntoLines() {
        let lines = LineSink()
        let r = ProgressReporter(label: "root", marker: nil) { lines.append($0) }
        r.feed(Data("I: running apt-get update...\nW: noise\nI: extr".utf8))
        r.feed(Data("acting archives...\n".utf8))
        #expect(lines.all.count == 2)
        #expect(lines.all[0].hasPrefix("root: running apt-get update..."))
        #expect(lines.all[1].hasPrefix("root: extracting archives..."))
    }
}

/// Collects progress lines from any thread. `@unchecked Sendable`: guarded by `lock`.
final class LineSink: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

@Suite struct LabManifestTests {
    static let sample = LabManifest(
        schema: LabManifest.schemaString, id: "0123456789abcdef", builtAt: Date(timeIntervalSince1970: 1_800_000_000),
        archive: ArchiveRelease(suite: "trixie", date: "Sat, 21 Nov 2026 09:15:44 UTC", version: "13.8", sha256: String(repeating: "a", count: 64)),
        tools: ["mmdebstrap": "mmdebstrap 1.3.5"],
        guestKernel: GuestKernelRecord(key: "k", sourcePackage: "linux-source-6.1", sourceVersion: "6.1.192-2",
                                       sourceSHA256: "s", fragmentSHA256: "f", compiler: "gcc", configSHA256: "c",
                                       droppedOptions: [], image: Artifact(path: "/x/Image", sha256: "i", bytes: 1)),
        hostRoot: RootRecord(key: "h", requested: ["kmod"], packages: [PackageVersion(name: "kmod", version: "34-1", architecture: "riscv64")], fixupSHA256: "x"),
        workloadRoot: RootRecord(key: "w", requested: [], packages: [], fixupSHA256: "x"),
        hostKernelRelease: "6.12.117+deb13-riscv64", hostKernelConfigSHA256: "cfg",
        hostKernelOptions: [KernelOptionCheck(option: "VDPA_SIM_BLK", state: .missing, reason: "vdpa")],
        workloadsTreeSHA256: nil, artifacts: ["guest-kernel": Artifact(path: "/x/Image", sha256: "i", bytes: 1)],
        l1GuestKernelPath: "/var/lib/rvbench/guest/Image", l1GuestInitramfsPath: "/var/lib/rvbench/guest/initramfs.cpio",
        steps: [LabBuildStep(name: "guest-kernel", key: "k", reused: true, seconds: 0.1)])

    @Test func roundTripsThroughJSON() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("manifest.json")
        try Self.sample.encoded().write(to: url)
        #expect(try LabManifest.load(from: url) == Self.sample)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"state\" : \"missing\""))
    }

    @Test func aMissingManifestNamesTheFix() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect {
            _ = try LabManifest.load(from: dir.appendingPathComponent("manifest.json"))
        } throws: { error in
            (error as? RVBenchError)?.message.contains("rvbench lab build") == true
        }
    }
}
