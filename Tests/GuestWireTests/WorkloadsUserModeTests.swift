// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import GuestWire
import RVBenchCore

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
    /// workloads.conf for user-mode emulation, written by `usertest.sh --install-only`: the I/O workloads read the
    /// data disk's image from a file in the root, with POSIX AIO, and start fio through the emulator.
    static let userModeConfig = repo.appendingPathComponent("workloads/build/usermode.conf")

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
@Suite(.serialized, .tags(.userEmulation), .enabled(if: BuiltWorkloads.available, "needs make -C workloads, qemu-user-static and root"))
struct WorkloadsUserModeTests {
    @Test func everyWorkloadPassesUnderUserModeEmulation() async throws {
        let sysroot = try #require(BuiltWorkloads.sysroot)
        let out = BuiltWorkloads.out.path
        try await Subprocess.check([BuiltWorkloads.repo.path + "/workloads/scripts/usertest.sh", "--install-only", sysroot, out],
                                   timeout: 300)
        let run = try await Subprocess.run(
            ["qemu-riscv64-static", out + "/bin/rvbench-runner", "--root", sysroot,
             "--config", BuiltWorkloads.userModeConfig.path,
             "--wrapper", "/usr/bin/qemu-riscv64-static", "--iterations", "1", "--warmup", "0"],
            timeout: 1800)
        #expect(!run.timedOut)
        #expect(run.status == 0, "runner stderr: \(run.stderrString.suffix(2000))")

        var parser = GuestProtocolParser()
        let outcomes = parser.parseAll(run.stdout)
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
            #expect(r.counters.isEmpty, "\(name): \(r.counters)")
            #expect(r.countersUnavailable?.hasPrefix("perf_event_open(") == true, "\(name): \(r.countersUnavailable ?? "no reason")")
        }
        #expect(results["onnx-tinyllama"]?.checksum == results["c-tinyllama"]?.checksum)
        #expect(results["x264-320"]?.metrics["frames"] == 8)
        // fio's figures from its JSON, and the data disk's bytes, identical for both I/O workloads.
        for name in ["fio-randread", "fio-seqread"] {
            let r = try #require(results[name])
            #expect(r.checksum == "b98ea1719e1cdfbe1c8db411ae4ceb90ec4f786bc8bf2aba0c4ef15ad50c333e", "\(name)")
            #expect(r.metrics["verified_bytes"] == 67_108_864)
            #expect((r.metrics["iops"] ?? 0) > 0 && (r.metrics["clat_mean_ns"] ?? 0) > 0, "\(name): \(r.metrics)")
            #expect((r.metrics["clat_p99_ns"] ?? 0) >= (r.metrics["clat_mean_ns"] ?? .infinity) / 2, "\(name): \(r.metrics)")
            #expect(r.info["fio_version"]?.hasPrefix("fio-3.") == true, "\(name): \(r.info)")
        }
        #expect(results["fio-randread"]?.metrics["ios"] == 1024)
        #expect(results["fio-seqread"]?.metrics["io_bytes"] == 67_108_864)
        // The per-MB denominator: fio's bytes plus the read-back's, in 10^6 bytes; and an interrupt count.
        #expect(results["fio-randread"]?.metrics["data_mb"] == Double(4_194_304 + 67_108_864) / 1e6)
        #expect(results["fio-seqread"]?.metrics["data_mb"] == Double(67_108_864 + 67_108_864) / 1e6)
        #expect(results["fio-randread"]?.metrics["interrupts"].map { $0 >= 0 } == true)
        let s = try #require(summary)
        #expect(s.results == names.count)
        #expect(s.checksumFailures == 0)
        #expect(s.workloads == names)
    }

    /// A workload whose stderr carries markup, quotes, a control character and
    /// non-ASCII text fails; the runner's error line must be valid protocol
    /// and carry that text verbatim.
    @Test func hostileWorkloadOutputSurvivesEscaping() async throws {
        let sysroot = try #require(BuiltWorkloads.sysroot)
        let out = BuiltWorkloads.out.path
        try await Subprocess.check([BuiltWorkloads.repo.path + "/workloads/scripts/usertest.sh", "--install-only", sysroot, out],
                                   timeout: 300)
        let hostile = "/nonexistent/<script>alert(\"x\")</script>\\\u{01}\tsnow☃"
        let config = """
            rvbench-workloads 1
            workload hostile
            mode report
            expect none
            timeout 120
            arg /usr/bin/ffmpeg
            arg -hide_banner
            arg -nostdin
            arg -i
            arg \(hostile)
            end

            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-hostile-\(UUID().uuidString).conf")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(config.utf8).write(to: url)
        let run = try await Subprocess.run(
            ["qemu-riscv64-static", out + "/bin/rvbench-runner", "--root", sysroot, "--config", url.path,
             "--wrapper", "/usr/bin/qemu-riscv64-static", "--iterations", "1", "--warmup", "0"],
            timeout: 600)
        #expect(run.status == 1)
        #expect(run.stdout.split(separator: 0x0A).allSatisfy { $0.count <= GuestProtocol.maxLineBytes })
        var parser = GuestProtocolParser()
        let outcomes = parser.parseAll(run.stdout)
        #expect(parser.counts.rejected == 0, "\(parser.rejections)")
        let errors = outcomes.compactMap { o -> GuestError? in
            if case .line(.error(let e)) = o { return e }
            return nil
        }
        let e = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(e.workload == "hostile")
        #expect(e.reason.hasPrefix("workload exited with status "))
        // ffmpeg itself prints the control character as '?'; everything else must arrive verbatim.
        let tail = try #require(e.stderrTail)
        #expect(tail.contains("/nonexistent/<script>alert(\"x\")</script>\\"), "\(tail)")
        #expect(tail.contains("\tsnow☃"), "\(tail)")
    }
}
