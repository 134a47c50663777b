// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment
import Host
import Hypervisor

/// VFIO passthrough on the real path, in the lab with its own L1 kernel: fio-randread natively in L1 (L1's nvme
/// driver on L0's NVMe, whose image is the data disk), in a virtio guest (a virtio-blk disk backed by that NVMe)
/// and in a passthrough guest (the NVMe assigned through VFIO, `<hostdev managed='yes'>`, INTx), each reading
/// back and checking the same 64 MiB.
///
/// Runs only where the own-kernel lab is already built (RVBENCH_CACHE pointing at its cache): its L1 kernel takes
/// about 47 min to build on 2 cores, which CI does not do yet.
@Suite(.tags(.lab), .serialized,
       .enabled(if: OwnKernelLab.isBuilt,
                "needs the lab built with its own L1 kernel (rvbench lab build --l1-kernel own --qemu trixie) in RVBENCH_CACHE; CI does not build that kernel (about 47 min on 2 cores)"))
struct PassthroughLabRunTests {

    static let spec = """
        name: labvfio
        seed: 17
        host: lab
        qemu: trixie
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 512
          - name: passthrough
            kind: passthrough
            device: "0000:00:10.0"
            vcpus: 1
            memory_mib: 512
        workloads:
          - name: fio-randread
        repetitions:
          boots: 1
          iterations: 2
          warmup: 0
        counters: none
        timeouts:
          boot_s: 300
          workload_s: 900
        retries:
          boot: 0
        """

    @Test func randomReadsAreMeasuredAndVerifiedThroughTheAssignedNVMe() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let logger = Logger(label: "rvbench.labvfio.test")
        let env = ProcessInfo.processInfo.environment
        let out = URL(fileURLWithPath: env["RVBENCH_WORKLOADS"]
            ?? LabTestSupport.source.appendingPathComponent("workloads/build/out").path)
        try #require(FileManager.default.fileExists(atPath: out.appendingPathComponent("bin/rvbench-runner").path),
                     "build the workloads first: make -C workloads")
        // The own kernel, so that the build reuses the cached L1 kernel rather than building Debian's lab over it.
        _ = try await LabBuilder(paths: LabPaths.fromEnvironment(), source: LabTestSupport.source, workloadsOut: out,
                                 l1Kernel: .own, logger: logger, progress: { FileHandle.standardError.write(Data("labvfio: \($0)\n".utf8)) })
            .build()
        let catalogue = try WorkloadCatalogue.load(from: LabTestSupport.source.appendingPathComponent("workloads"))
        let spec = try ExperimentSpec.parse(yaml: Self.spec, file: "labvfio.yaml", catalogue: catalogue)
        let dir = LabTestSupport.temporaryDirectory("labvfio")
        defer { try? FileManager.default.removeItem(at: dir) }

        let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(), logger: logger,
                                               commandLine: ["test"], labProgress: { _ in })

        #expect(outcome.summary.bootsOK == 3, "failures: \(outcome.summary.failures.map(\.reason))")
        #expect(outcome.summary.notRun.isEmpty, "\(outcome.summary.notRun)")
        for variant in ["native", "virtio", "passthrough"] {
            func values(_ metric: String) -> [Double] {
                outcome.summary.samples.filter { $0.variant == variant && $0.workload == "fio-randread" && $0.metric == metric }
                    .map(\.value)
            }
            #expect(values("iops").count == 2 && values("iops").allSatisfy { $0 > 0 }, "\(variant): iops \(values("iops"))")
            #expect(values("verified_bytes") == [67_108_864, 67_108_864], "\(variant)")
            FileHandle.standardError.write(Data("labvfio: \(variant) iops \(values("iops")) clat_p99_ns \(values("clat_p99_ns"))\n".utf8))
        }
        let manifest = try ResultsDirectory(url: dir).readManifest()
        let plan = try #require(manifest.plans["passthrough"])
        let address = try #require(plan.hostdev)
        #expect(address.description == LabDevices.nvme.pciAddress)
        #expect(plan.iommuGroup != nil)
        #expect(plan.dataDisk == .assignedDevice(address))
        #expect(plan.interrupts?.mode == "INTx" && plan.interrupts?.msiIsolation == false)
        let xml = try #require(manifest.domains["passthrough"])
        #expect(xml.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"), "\(xml)")
        #expect(DomainXML.hostdevAddresses(in: xml) == [address])
        #expect(xml.contains("pci=nomsi"))
        // Which driver held the NVMe in each boot: nvme for native and virtio, vfio-pci for passthrough.
        let drivers = Dictionary(grouping: manifest.deviceBindings.values, by: \.variant).mapValues { $0.map(\.driver) }
        #expect(drivers["native"] == ["nvme"] && drivers["virtio"] == ["nvme"] && drivers["passthrough"] == ["vfio-pci"],
                "\(manifest.deviceBindings)")
        #expect(outcome.results.notes.contains { $0.contains("INTx") && $0.contains("allow_unsafe_interrupts=1") })
    }
}

enum OwnKernelLab {
    /// True when RVBENCH_CACHE names a cache whose lab was built with the own L1 kernel.
    static var isBuilt: Bool {
        guard ProcessInfo.processInfo.environment["RVBENCH_CACHE"] != nil,
              let manifest = try? LabManifest.load(from: LabPaths.fromEnvironment().manifest) else { return false }
        return manifest.l1KernelChoice == .own
    }
}
