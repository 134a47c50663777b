// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

extension Tag {
    /// Runs riscv64 guest code on the controller under qemu-riscv64-static (user-mode emulation).
    @Tag static var userEmulation: Self
}

/// The workloads tree built by `make -C workloads`, if it is there.
private enum BuiltWorkloads {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let out = repo.appendingPathComponent("workloads/build/out")
    static let sysrootFile = repo.appendingPathComponent("workloads/build/sysroot.path")

    static var sysroot: String? {
        guard let text = try? String(contentsOf: sysrootFile, encoding: .utf8) else { return nil }
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.fileExists(atPath: path + "/.complete") ? path : nil
    }

    static var available: Bool {
        FileManager.default.fileExists(atPath: out.path + "/workloads.conf")
            && FileManager.default.fileExists(atPath: out.path + "/bin/rvbench-runner")
            && sysroot != nil && Subprocess.which("qemu-riscv64-static") != nil && getuid() == 0
    }

    /// Workload names in workloads.json, in order.
    static func names() throws -> [String] {
        let data = try Data(contentsOf: out.appendingPathComponent("workloads.json"))
        let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let list = doc?["workloads"] as? [[String: Any]] ?? []
        return list.compactMap { $0["name"] as? String }
    }
}

/// Runs every workload once through rvbench-runner under qemu-riscv64-static,
/// chrooted into the Debian 13 riscv64 root, and reads its console output with
/// the controller's strict parser. Enabled when `make -C workloads` has run.
@Suite(.tags(.userEmulation), .enabled(if: BuiltWorkloads.available, "needs make -C workloads, qemu-user-static and root"))
struct WorkloadsUserModeTests {
    @Test func everyWorkloadPassesUnderUserModeEmulation() async throws {
        let sysroot = try #require(BuiltWorkloads.sysroot)
        let out = BuiltWorkloads.out.path
        try await Subprocess.check([BuiltWorkloads.repo.path + "/workloads/scripts/usertest.sh", "--install-only", sysroot, out],
                                   timeout: 300)
        let run = try await Subprocess.run(
            ["qemu-riscv64-static", out + "/bin/rvbench-runner", "--root", sysroot,
             "--wrapper", "/usr/bin/qemu-riscv64-static", "--iterations", "1", "--warmup", "0"],
            timeout: 1800)
        #expect(!run.timedOut)
        #expect(run.status == 0, "runner stderr: \(run.stderrString.suffix(2000))")

        var parser = GuestProtocolParser()
        var splitter = GuestLineSplitter()
        var outcomes = splitter.feed(run.stdout, into: &parser)
        if let last = splitter.finish(into: &parser) { outcomes.append(last) }
        #expect(parser.counts.rejected == 0, "\(parser.rejections)")
        #expect(parser.counts.errors == 0)

        var results: [String: GuestResult] = [:]
        var summary: GuestSummary?
        for o in outcomes {
            switch o {
            case .line(.result(let r)): results[r.workload] = r
            case .line(.done(let s)): summary = s
            default: break
            }
        }
        let names = try BuiltWorkloads.names()
        #expect(names.count >= 12)
        for name in names {
            let r = try #require(results[name], "no result for \(name)")
            #expect(r.checksumOK, "\(name): \(r.verifyProblem ?? "") (checksum \(r.checksum))")
            #expect(r.phase == .measure)
            #expect(r.wallNanoseconds > 0)
            // Under user-mode emulation perf_event_open is not available: counters must be absent with a reason, not 0.
            #expect(!r.counters.values.contains(0))
            #expect(!r.counters.isEmpty || r.countersUnavailable != nil)
        }
        #expect(results["onnx-tinyllama"]?.checksum == results["c-tinyllama"]?.checksum)
        #expect(results["x264-320"]?.metrics["frames"] == 24)
        let s = try #require(summary)
        #expect(s.results == names.count)
        #expect(s.checksumFailures == 0)
        #expect(s.workloads == names)
    }
}
