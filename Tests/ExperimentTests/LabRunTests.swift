// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Lab
import Logging
import Report
import RVBenchCore
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote

/// The real path of `rvbench run`: the lab (built if needed), an AI and a video workload natively in
/// L1 over SSH and in an L2 KVM guest through L1's libvirt, then statistics, reports, and nothing
/// left running. Takes a few minutes on 2 cores with a built lab.
@Suite(.tags(.lab), .serialized) struct LabRunTests {
    static let spec = """
        name: labrun
        seed: 11
        host: lab
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 768
        workloads:
          - name: c-tinyllama
          - name: x264-320
        repetitions:
          boots: 1
          iterations: 2
          warmup: 0
        counters: [task-clock, context-switches]
        timeouts:
          boot_s: 300
          workload_s: 400
        retries:
          boot: 1
        """

    @Test func aiAndVideoRunNativelyAndInAKVMGuest() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let logger = Logger(label: "rvbench.labrun.test")
        let spec = try await LabTestSupport.prepare(Self.spec, file: "labrun.yaml") {
            FileHandle.standardError.write(Data("labrun: \($0)\n".utf8))
        }
        let dir = LabTestSupport.temporaryDirectory("labrun")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wasUp = LabStateStore(url: LabPaths.fromEnvironment().stateFile).load().state != nil

        let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(), logger: logger,
                                               commandLine: ["test"], labProgress: { _ in })

        #expect(outcome.summary.bootsOK == 2, "failures: \(outcome.summary.failures.map(\.reason))")
        #expect(outcome.summary.notRun.isEmpty)
        for variant in ["native", "virtio"] {
            for workload in ["c-tinyllama", "x264-320"] {
                let walls = outcome.summary.samples.filter {
                    $0.variant == variant && $0.workload == workload && $0.metric == "wall_ns"
                }
                #expect(walls.count == 2, "\(variant)/\(workload) has \(walls.count) wall_ns samples")
                #expect(walls.allSatisfy { $0.value > 0 })
            }
        }
        // KVM ran the guest: L1's exit counters for the guest boot.
        let exits = outcome.summary.samples.first { $0.variant == "virtio" && $0.metric == "host.kvm.exits" }
        #expect((exits?.value ?? 0) > 0, "no KVM exits recorded for the guest")
        #expect(outcome.summary.samples.contains { $0.variant == "native" && $0.metric == "host.kvm.exits" } == false)
        // Host counters: the guest's QEMU threads for virtio, the runner and its children for native.
        for variant in ["native", "virtio"] {
            let clock = outcome.summary.samples.first { $0.variant == variant && $0.metric == "host.perf.task-clock" }
            #expect((clock?.value ?? 0) > 1e8, "\(variant): task-clock \(clock?.value ?? 0) ns for a boot of AI and video work")
        }
        #expect(outcome.results.unavailable.isEmpty, "\(outcome.results.unavailable)")

        let md = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(md.contains("emulated RISC-V host (QEMU TCG): timings show relative behaviour, not silicon speed"))
        for name in ["results.json", "report.html", "samples.csv", "junit.xml", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) missing")
        }
        let manifest = try ResultsDirectory(url: dir).readManifest()
        #expect(manifest.domains["virtio"]?.contains("<domain type='kvm'") == true)
        #expect(manifest.artifacts.keys.contains("lab/guest-kernel"))

        // Whoever started the lab, the run left nothing of its own: no domain with its run ID in L1.
        let runID = try Journal.replay(dir).runID
        if let state = LabStateStore(url: LabPaths.fromEnvironment().stateFile).load().state {
            #expect(wasUp, "the run started the lab and left it up")
            let l1 = try LibvirtHypervisor(uri: state.libvirtURI, logger: logger)
            defer { l1.close() }
            let left = try l1.domainNames(includeInactive: true).filter { $0.hasPrefix("rvbench-\(runID)-") }
            #expect(left.isEmpty, "domains of the run left in L1: \(left)")
        } else {
            #expect(!wasUp, "the run stopped a lab it did not start")
        }
        if !wasUp {
            // The run started the lab, so it must have brought it down again.
            let pgrep = try await Subprocess.run(["pgrep", "-f", "guest=rvbench-lab(,| |$)"], timeout: 10)
            #expect(pgrep.status == 1, "the lab's QEMU survived the run: \(pgrep.stdoutString)")
            let hv = try LibvirtHypervisor(uri: "qemu:///system", logger: logger)
            defer { hv.close() }
            #expect(try hv.lookup(name: "rvbench-lab") == nil)
        }
    }
}

/// What the lab-tagged tests share: the source tree, a built lab, a parsed spec, a scratch directory.
enum LabTestSupport {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Builds the lab if needed (reusing the cache) and parses `yaml` against the real catalogue.
    static func prepare(_ yaml: String, file: String,
                        progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> ExperimentSpec {
        let env = ProcessInfo.processInfo.environment
        let out = URL(fileURLWithPath: env["RVBENCH_WORKLOADS"] ?? source.appendingPathComponent("workloads/build/out").path)
        try #require(FileManager.default.fileExists(atPath: out.appendingPathComponent("bin/rvbench-runner").path),
                     "build the workloads first: make -C workloads")
        _ = try await LabBuilder(paths: LabPaths.fromEnvironment(), source: source, workloadsOut: out,
                                 logger: Logger(label: "rvbench.lab.test"), progress: progress).build()
        let catalogue = try WorkloadCatalogue.load(from: source.appendingPathComponent("workloads"))
        return try ExperimentSpec.parse(yaml: yaml, file: file, catalogue: catalogue)
    }

    static func temporaryDirectory(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-\(name)-\(getpid())")
    }
}

/// Serializes the tests that boot an emulated lab (two L0 machines at once would starve 2 cores).
/// Waits without blocking a thread: the cooperative pool has as few threads as cores, and a
/// blocking `flock()` in each waiting test would starve it.
struct LabTestLock {
    let fd: Int32

    static let path = "/tmp/rvbench-lab-tests.lock"

    static func acquire() async throws -> LabTestLock {
        let fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw RVBenchError(.internal, "cannot open \(path)") }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                close(fd)
                throw RVBenchError(.internal, "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        return LabTestLock(fd: fd)
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
