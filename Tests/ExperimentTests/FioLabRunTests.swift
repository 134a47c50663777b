// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment
import Host

/// The I/O workload on the real path: fio-randread natively in L1 (reading L1's data disk), in an L2 KVM
/// guest through virtio (a virtio-blk disk that L1's QEMU serves from that disk), and in an L2 KVM guest
/// through vhost-vdpa (QEMU's virtio-blk-pci with libblkio's virtio-blk-vhost-vdpa driver on
/// /dev/vhost-vdpa-0, whose vdpa_sim_blk simulator L1 filled from that disk), each reading back and checking
/// the same 64 MiB. L0 is QEMU 10: under QEMU 7.2, fio in the L2 guest was killed by SIGILL (user-mode clock
/// CSR reads fault there). One boot per variant, two iterations: 127 s on 2 cores with a built lab for native
/// and virtio alone (2026-12-01), the lab's boot included; with vdpa, 434 s to 582 s on the same, but
/// heavily loaded, machine (the vDPA fill and a third boot added).
@Suite(.tags(.lab), .serialized) struct FioLabRunTests {
    static let spec = """
        name: labfio
        seed: 13
        host: lab
        qemu: trixie
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 512
          - name: vdpa
            kind: vdpa
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
          workload_s: 600
        retries:
          boot: 0
        """

    @Test func randomReadsAreMeasuredAndVerifiedNativelyThroughVirtioAndThroughVDPA() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let logger = Logger(label: "rvbench.labfio.test")
        let spec = try await LabTestSupport.prepare(Self.spec, file: "labfio.yaml") {
            FileHandle.standardError.write(Data("labfio: \($0)\n".utf8))
        }
        let dir = LabTestSupport.temporaryDirectory("labfio")
        defer { try? FileManager.default.removeItem(at: dir) }

        let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(), logger: logger,
                                               commandLine: ["test"], labProgress: { _ in })

        // A boot whose check failed (bytes other than the pattern, or not the manifest's SHA-256) is a failed boot.
        #expect(outcome.summary.bootsOK == 3, "failures: \(outcome.summary.failures.map(\.reason))")
        #expect(outcome.summary.notRun.isEmpty, "\(outcome.summary.notRun)")
        for variant in ["native", "virtio", "vdpa"] {
            func values(_ metric: String) -> [Double] {
                outcome.summary.samples.filter { $0.variant == variant && $0.workload == "fio-randread" && $0.metric == metric }
                    .map(\.value)
            }
            FileHandle.standardError.write(Data("labfio: \(variant) iops \(values("iops"))\n".utf8))
            #expect(values("iops").count == 2 && values("iops").allSatisfy { $0 > 0 }, "\(variant): iops \(values("iops"))")
            #expect(values("clat_p99_ns").count == 2 && values("clat_p99_ns").allSatisfy { $0 > 0 }, "\(variant)")
            #expect(values("ios") == [1024, 1024], "\(variant)")
            #expect(values("verified_bytes") == [67_108_864, 67_108_864], "\(variant)")
        }
        let manifest = try ResultsDirectory(url: dir).readManifest()
        let xml = try #require(manifest.domains["virtio"])
        #expect(xml.contains("<serial>rvbench-data</serial>") && xml.contains("cache='none'"), "\(xml)")
        #expect(manifest.artifacts.keys.contains("lab/data-disk"))
        let device = try #require(manifest.plans["native"]?.dataDisk?.hostDevice)
        #expect(manifest.plans["native"]?.dataDisk == .host(device: device))
        #expect(manifest.plans["virtio"]?.dataDisk == .virtioBlock(hostDevice: device))
        // The vdpa boot had the vhost-vdpa disk as its data disk, and no virtio data disk.
        let vdpaPlan = try #require(manifest.plans["vdpa"])
        let vhost = try #require(vdpaPlan.vdpaDevice)
        #expect(vdpaPlan.dataDisk == .vhostVDPA(device: vhost))
        let vdpaXML = try #require(manifest.domains["vdpa"])
        #expect(vdpaXML.contains("<disk type='vhostvdpa' device='disk'>") && vdpaXML.contains("<source dev='\(vhost)'/>"),
                "\(vdpaXML)")
        #expect(vdpaXML.contains("<access mode='shared'/>") && vdpaXML.contains("<serial>rvbench-data</serial>"))
        #expect(!vdpaXML.contains("<source dev='\(device)'/>"), "\(vdpaXML)")
        #expect(manifest.notes.contains(VDPADatapath.note(variant: "vdpa", device: vhost)), "\(manifest.notes)")
    }
}
