// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment

/// Faults on the real path: the guest's QEMU is killed in L1 while a workload runs. The attempt is
/// recorded as failed with its reason, the retry completes the boot, every sample is present once,
/// and nothing is left running.
@Suite(.tags(.lab), .serialized) struct LabFaultTests {
    static let spec = """
        name: labfault
        seed: 5
        host: lab
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 768
        workloads:
          - name: x264-320
        repetitions:
          boots: 1
          iterations: 2
          warmup: 0
        counters: none
        timeouts:
          boot_s: 300
          workload_s: 400
        retries:
          boot: 1
        """

    @Test func guestQEMUKilledMidRunIsRecordedAndRetried() async throws {
        let lock = try LabTestLock()
        defer { lock.release() }
        let logger = Logger(label: "rvbench.labfault.test")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let env = ProcessInfo.processInfo.environment
        let out = URL(fileURLWithPath: env["RVBENCH_WORKLOADS"] ?? source.appendingPathComponent("workloads/build/out").path)
        try #require(FileManager.default.fileExists(atPath: out.appendingPathComponent("bin/rvbench-runner").path),
                     "build the workloads first: make -C workloads")
        let paths = LabPaths.fromEnvironment()
        _ = try await LabBuilder(paths: paths, source: source, workloadsOut: out, logger: logger) { _ in }.build()
        let catalogue = try WorkloadCatalogue.load(from: source.appendingPathComponent("workloads"))
        let spec = try ExperimentSpec.parse(yaml: Self.spec, file: "labfault.yaml", catalogue: catalogue)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-labfault-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }

        // Kills the first attempt's QEMU in L1 a few seconds after it appears.
        let killer = Task { () -> Bool in
            let lab = Lab(paths: paths, logger: logger)
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline, !Task.isCancelled {
                if let state = LabStateStore(url: paths.stateFile).load().state,
                   let found = try? await lab.ssh(state, "pgrep -f 'guest=rvbench-[0-9a-f]*-virtio-b0-a1' || true", timeout: 30),
                   !found.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    try? await Task.sleep(nanoseconds: 4_000_000_000)
                    _ = try? await lab.ssh(state, "pkill -KILL -f 'guest=rvbench-[0-9a-f]*-virtio-b0-a1'", timeout: 30)
                    return true
                }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
            return false
        }
        let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(), logger: logger,
                                               commandLine: ["test"], labProgress: { _ in })
        killer.cancel()
        #expect(await killer.value, "the guest's QEMU was never seen in L1")

        // The killed attempt is a recorded failure; the retry completed the boot.
        let failures = outcome.summary.failures.filter { $0.variant == "virtio" }
        #expect(failures.count == 1, "\(outcome.summary.failures.map(\.reason))")
        #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0)
        // Samples complete and unique.
        var seen = Set<String>()
        for s in outcome.summary.samples {
            #expect(seen.insert("\(s.variant)/\(s.workload)/\(s.boot)/\(s.iteration)/\(s.metric)").inserted, "duplicate \(s)")
        }
        for variant in ["native", "virtio"] {
            #expect(outcome.summary.samples.filter { $0.variant == variant && $0.metric == "wall_ns" }.count == 2)
        }
        // The journal on disk agrees with the summary.
        let replayed = try ResultsDirectory(url: dir).readSamples().samples
        #expect(replayed.count == outcome.summary.samples.count)
        // Nothing left running: the run started the lab and brought it down.
        let pgrep = try await Subprocess.run(["pgrep", "-f", "guest=rvbench-lab(,| |$)"], timeout: 10)
        #expect(pgrep.status == 1, "the lab's QEMU survived the run: \(pgrep.stdoutString)")
    }
}
