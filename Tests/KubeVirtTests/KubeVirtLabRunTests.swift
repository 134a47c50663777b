// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#endif
@testable import Experiment
import Foundation
import GuestWire
import Host
import KubeVirt
import Lab
import Logging
import RVBenchCore
import Testing

/// `collect` on console output recorded from real lab boots (L2 guests under KVM in L1, and the native
/// runner in L1) gives the samples the direct run of those same boots gave. Needs the lab and the
/// workloads (`make -C workloads`); skipped with the other lab tests.
@Suite(.serialized, .tags(.externalTools))
struct KubeVirtLabRunTests {
    static let yaml = """
    name: kubevirt-lab
    seed: 314
    host: lab
    variants:
      - name: native
        kind: native
      - name: virtio
        kind: virtio
        vcpus: 1
        memory_mib: 512
    workloads:
      - name: micro-timer
    repetitions:
      boots: 2
      iterations: 2
      warmup: 1
    timeouts:
      boot_s: 300
      workload_s: 600
    retries:
      boot: 0
    """

    @Test func collectOfRecordedLabBootsMatchesTheDirectRun() async throws {
        let lock = try await LabLock.acquire()
        defer { lock.release() }
        let source = KubeFixtures.repository
        let env = ProcessInfo.processInfo.environment
        let workloads = URL(fileURLWithPath: env["RVBENCH_WORKLOADS"] ?? source.appendingPathComponent("workloads/build/out").path)
        try #require(FileManager.default.fileExists(atPath: workloads.appendingPathComponent("bin/rvbench-runner").path),
                     "build the workloads first: make -C workloads")
        let logger = Logger(label: "rvbench.kubevirt.labtest")
        _ = try await LabBuilder(paths: LabPaths.fromEnvironment(), source: source, workloadsOut: workloads,
                                 logger: logger, progress: { _ in }).build()
        let spec = try ExperimentSpec.parse(yaml: Self.yaml, file: "kubevirt-lab.yaml", catalogue: KubeFixtures.catalogue)

        // The direct run, with every boot's raw console kept.
        let consoles = KubeFixtures.temporary("consoles")
        let direct = KubeFixtures.temporary("direct")
        defer {
            try? FileManager.default.removeItem(at: consoles)
            try? FileManager.default.removeItem(at: direct)
        }
        setenv(HostExecutor.recordConsolesVariable, consoles.path, 1)
        defer { unsetenv(HostExecutor.recordConsolesVariable) }
        let outcome = try await RunSession.run(spec: spec, directory: direct, progress: SilentProgress(), logger: logger,
                                               commandLine: ["test"], labProgress: { _ in })
        unsetenv(HostExecutor.recordConsolesVariable)
        #expect(outcome.summary.bootsOK == 4, "\(outcome.summary.failures.map(\.reason))")

        // The same spec as a bundle; each object gets the recording of its boot in the direct run.
        let (bundle, manifest) = try await KubeFixtures.export(spec, name: "lab")
        defer { try? FileManager.default.removeItem(at: bundle) }
        let recorded = try FileManager.default.contentsOfDirectory(atPath: consoles.path)
        let logs = bundle.appendingPathComponent("logs", isDirectory: true)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        for object in manifest.objects {
            let suffix = "-\(object.variant)-b\(object.boot)-a1.log"
            let file = try #require(recorded.first { $0.hasSuffix(suffix) }, "no recording for \(object.name) in \(recorded)")
            try FileManager.default.copyItem(at: consoles.appendingPathComponent(file),
                                             to: logs.appendingPathComponent("\(object.name).log"))
        }
        // Keep the recordings as fixtures when asked to.
        if env["RVBENCH_KEEP_LAB_CONSOLES"] == "1" {
            let keep = KubeFixtures.directory.appendingPathComponent("lab-consoles", isDirectory: true)
            try? FileManager.default.removeItem(at: keep)
            try FileManager.default.copyItem(at: logs, to: keep)
        }
        let results = KubeFixtures.temporary("collected")
        defer { try? FileManager.default.removeItem(at: results) }
        let collected = try await Collector.collect(CollectRequest(
            bundle: bundle, logs: [logs], output: results, emulatedNodes: true, catalogue: KubeFixtures.catalogue,
            commandLine: ["test"]))
        #expect(collected.summary.bootsOK == 4, "\(collected.summary.failures.map(\.reason))")

        // Everything the guest or the runner reported is the same; host counters and KVM statistics
        // (metric host.*, workload "boot") are read by the direct run only.
        struct Key: Hashable { var variant, workload: String; var boot, iteration: Int; var metric: String; var value: Double; var unit: String }
        func keys(_ samples: [Sample]) -> Set<Key> {
            Set(samples.filter { $0.workload != BootSample.bootLabel && !$0.metric.hasPrefix("host.") }.map {
                Key(variant: $0.variant, workload: $0.workload, boot: $0.boot, iteration: $0.iteration, metric: $0.metric,
                    value: $0.value, unit: $0.unit)
            })
        }
        let mine = keys(collected.summary.samples), theirs = keys(outcome.summary.samples)
        #expect(!theirs.isEmpty)
        #expect(mine == theirs, "only collected: \(mine.subtracting(theirs).count), only direct: \(theirs.subtracting(mine).count)")
    }
}

/// The lock the lab tests share (Tests/ExperimentTests/LabRunTests.swift): one emulated lab at a time.
struct LabLock {
    let fd: Int32

    static func acquire() async throws -> LabLock {
        let path = "/tmp/rvbench-lab-tests.lock"
        let fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw RVBenchError(.internal, "cannot open \(path)") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw RVBenchError(.internal, "cannot lock \(path)")
            }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        return LabLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// The recording the lab test relies on: a file per boot attempt, only when the variable is set.
struct ConsoleRecordingTests {
    @Test func recordsOnlyWhenTheVariableNamesADirectory() throws {
        let dir = KubeFixtures.temporary("record")
        defer { try? FileManager.default.removeItem(at: dir) }
        unsetenv(HostExecutor.recordConsolesVariable)
        #expect(HostExecutor.consoleRecording(name: "rvbench-x-virtio-b0-a1") == nil)
        setenv(HostExecutor.recordConsolesVariable, dir.path, 1)
        defer { unsetenv(HostExecutor.recordConsolesVariable) }
        let handle = try #require(HostExecutor.consoleRecording(name: "rvbench-x-virtio-b0-a1"))
        handle.write(Data("@@rvbench v1 done {}\n".utf8))
        try handle.close()
        let text = try String(contentsOf: dir.appendingPathComponent("rvbench-x-virtio-b0-a1.log"), encoding: .utf8)
        #expect(text == "@@rvbench v1 done {}\n")
    }
}
