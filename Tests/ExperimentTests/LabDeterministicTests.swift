// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote

/// Deterministic mode on the real path: L0 is QEMU 10 with `-icount shift=0,sleep=off`, and two
/// complete runs (each booting the lab) give the same per-variant mean wall time within 0.1%.
@Suite(.tags(.lab), .serialized) struct LabDeterministicTests {
    static let spec = """
        name: labdeterministic
        seed: 4
        host: lab
        qemu: trixie
        deterministic: true
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 768
        workloads:
          - name: c-tinyllama
        repetitions:
          boots: 1
          iterations: 2
          warmup: 1
        counters: none
        timeouts:
          boot_s: 600
          workload_s: 900
        """

    @Test func twoRunsAgreeWithinATenthOfAPercent() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let logger = Logger(label: "rvbench.labdeterministic.test")
        let paths = LabPaths.fromEnvironment()
        // The runs start (and stop) a lab of their own mode.
        _ = try await Lab(paths: paths, logger: logger).down()
        let spec = try await LabTestSupport.prepare(Self.spec, file: "labdeterministic.yaml")
        var means: [[String: Double]] = []
        for run in 0..<2 {
            let dir = LabTestSupport.temporaryDirectory("labdeterministic-\(run)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(), logger: logger,
                                                   commandLine: ["test"], labProgress: { _ in })
            #expect(outcome.summary.bootsOK == 2, "\(outcome.summary.failures.map(\.reason))")
            var m: [String: Double] = [:]
            for variant in ["native", "virtio"] {
                let walls = outcome.summary.samples.filter { $0.variant == variant && $0.metric == "wall_ns" }.map(\.value)
                #expect(walls.count == 2)
                m[variant] = walls.reduce(0, +) / Double(max(1, walls.count))
            }
            means.append(m)
            let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
            #expect(md.lowercased().contains("memory-system costs") && md.contains("instruction-path overhead"), "the report must say what deterministic mode hides")
            #expect(outcome.results.hostKind.contains("-icount shift=0,sleep=off"))
            let manifest = try ResultsDirectory(url: dir).readManifest()
            #expect(manifest.tools["lab/l0-qemu"]?.contains("10.") == true, "\(manifest.tools)")
        }
        for variant in ["native", "virtio"] {
            let a = try #require(means[0][variant]), b = try #require(means[1][variant])
            #expect(abs(a - b) / a < 0.001, "\(variant): \(a) ns then \(b) ns differ by \(abs(a - b) / a * 100)%")
        }
        let pgrep = try await Subprocess.run(["pgrep", "-f", "guest=rvbench-lab,"], timeout: 10)
        #expect(pgrep.status == 1, "the lab's QEMU 10 survived the runs: \(pgrep.stdoutString)")
    }
}
