// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment
import Host
import GuestWire
import Hypervisor

/// The I/O workload on the real path, with every datapath the lab has: fio-randread natively in L1 (L1's nvme
/// driver on L0's NVMe, whose image is the data disk), in an L2 KVM guest through virtio (a virtio-blk disk that
/// L1's QEMU serves from that NVMe), through vhost-vdpa (libblkio's virtio-blk-vhost-vdpa driver on the
/// vdpa_sim_blk device that L1 filled from the data disk, and on L0's virtio-blk-pci through vp_vdpa, whose DMA
/// goes through the IOMMU in vhost-vdpa's domain) and through VFIO passthrough (the NVMe itself,
/// `<hostdev managed='yes'>`, with MSIs: the lab kernel maps the IMSIC files into VFIO's domain), each reading
/// back and checking the same 64 MiB.
///
/// L0 is QEMU 10 (under QEMU 7.2, fio in the L2 guest dies of SIGILL: user-mode clock CSR reads fault there)
/// and L1 boots the lab's own kernel (the RISC-V IOMMU and VFIO type1). The guests have AIA (`aia: aplic-imsic`),
/// so KVM in L1 emulates their interrupt controller and interrupts do not go through QEMU's user space.
/// One boot per variant, two iterations.
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
            aia: aplic-imsic
          - name: vdpa
            kind: vdpa
            vcpus: 1
            memory_mib: 512
            aia: aplic-imsic
          - name: vdpa-pci
            kind: vdpa
            vdpa_source: pci
            vcpus: 1
            memory_mib: 512
            aia: aplic-imsic
          - name: passthrough
            kind: passthrough
            device: "0000:00:10.0"
            vcpus: 1
            memory_mib: 512
            aia: aplic-imsic
        workloads:
          - name: fio-randread
        repetitions:
          boots: 1
          iterations: 2
          warmup: 0
        counters: [task-clock]
        timeouts:
          boot_s: 300
          workload_s: 900
        retries:
          boot: 0
        """

    @Test func randomReadsAreMeasuredAndVerifiedThroughEveryDatapath() async throws {
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
        #expect(outcome.summary.bootsOK == 5, "failures: \(outcome.summary.failures.map(\.reason))")
        #expect(outcome.summary.notRun.isEmpty, "\(outcome.summary.notRun)")
        func values(_ variant: String, _ metric: String, workload: String = "fio-randread") -> [Double] {
            outcome.summary.samples.filter { $0.variant == variant && $0.workload == workload && $0.metric == metric }
                .map(\.value)
        }
        /// A host counter of the variant's boot over the megabytes its iterations read from the data disk.
        func perMB(_ variant: String, _ counter: String) -> Double? {
            let mb = values(variant, "data_mb").reduce(0, +)
            guard let total = values(variant, counter, workload: BootSample.bootLabel).first, mb > 0 else { return nil }
            return total / mb
        }
        let variants = ["native", "virtio", "vdpa", "vdpa-pci", "passthrough"]
        for variant in variants {
            FileHandle.standardError.write(Data(("labfio: \(variant) iops \(values(variant, "iops")) clat_p99_ns "
                + "\(values(variant, "clat_p99_ns")) interrupts \(values(variant, "interrupts")) per MB: mmio_exit_user "
                + "\(perMB(variant, "host.kvm.mmio_exit_user") ?? .nan) exits \(perMB(variant, "host.kvm.exits") ?? .nan) "
                + "task-clock \(perMB(variant, "host.perf.task-clock") ?? .nan)\n").utf8))
            #expect(values(variant, "iops").count == 2 && values(variant, "iops").allSatisfy { $0 > 0 }, "\(variant)")
            #expect(values(variant, "clat_p99_ns").count == 2 && values(variant, "clat_p99_ns").allSatisfy { $0 > 0 }, "\(variant)")
            #expect(values(variant, "ios") == [1024, 1024], "\(variant)")
            #expect(values(variant, "verified_bytes") == [67_108_864, 67_108_864], "\(variant)")
            #expect(values(variant, "data_mb") == [71.303168, 71.303168], "\(variant)")
            #expect(values(variant, "interrupts").count == 2, "\(variant)")
        }
        // What the datapaths cost: every guest's KVM exits (user-space MMIO ones among them) and its QEMU's CPU
        // time, per MB read; the native runner's CPU time too. With AIA, virtio's kicks (ioeventfd) and interrupts
        // (irqfd) stay in L1's kernel, so its datapath takes no user-space MMIO exit: what every guest shows is
        // the boot's own (console, workload disk), about 24 per MB on 2026-12-02. So vdpa (QEMU's virtio-blk in
        // front of libblkio) cannot take fewer than virtio; that is not asserted. Passthrough with MSIs stays at
        // that level too, where with INTx QEMU trapped the NVMe's BARs after every interrupt (1,483 per MB on
        // 2026-12-01): the assertion below fails if the assigned device's MSIs stop working.
        for variant in ["virtio", "vdpa", "vdpa-pci", "passthrough"] {
            for counter in ["host.kvm.exits", "host.kvm.mmio_exit_user", "host.perf.task-clock"] {
                #expect(perMB(variant, counter).map { $0 > 0 } == true, "\(variant): \(counter)")
            }
        }
        let virtioUser = try #require(perMB("virtio", "host.kvm.mmio_exit_user"))
        let passthroughUser = try #require(perMB("passthrough", "host.kvm.mmio_exit_user"))
        #expect(passthroughUser <= virtioUser * 1.5, "passthrough \(passthroughUser), virtio \(virtioUser) per MB")
        #expect(perMB("native", "host.perf.task-clock").map { $0 > 0 } == true)
        #expect(perMB("native", "host.kvm.exits") == nil, "a native boot has no VM, so no KVM exits")

        let manifest = try ResultsDirectory(url: dir).readManifest()
        #expect(manifest.artifacts.keys.contains("lab/data-disk"))
        // native and virtio read L1's NVMe through L1's nvme driver.
        let device = try #require(manifest.plans["native"]?.dataDisk?.hostDevice)
        #expect(manifest.plans["native"]?.dataDisk == .host(device: device))
        #expect(manifest.plans["virtio"]?.dataDisk == .virtioBlock(hostDevice: device))
        let xml = try #require(manifest.domains["virtio"])
        #expect(xml.contains("<serial>rvbench-data</serial>") && xml.contains("cache='none'"), "\(xml)")
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
        // The vdpa-pci boot had the vp_vdpa device's vhost-vdpa disk: another device than the simulator's.
        let pciPlan = try #require(manifest.plans["vdpa-pci"])
        let pciVhost = try #require(pciPlan.vdpaDevice)
        #expect(pciPlan.vdpaSource == .pci && vdpaPlan.vdpaSource == .simulator && pciVhost != vhost)
        let pciXML = try #require(manifest.domains["vdpa-pci"])
        #expect(pciXML.contains("<disk type='vhostvdpa' device='disk'>") && pciXML.contains("<source dev='\(pciVhost)'/>"),
                "\(pciXML)")
        #expect(manifest.notes.contains(VDPADatapath.note(variant: "vdpa-pci", device: pciVhost, source: .pci)),
                "\(manifest.notes)")
        // The passthrough boot had the NVMe as a <hostdev>, with MSIs (IOMMU group with an msi region).
        let plan = try #require(manifest.plans["passthrough"])
        let address = try #require(plan.hostdev)
        #expect(address.description == LabDevices.nvme.pciAddress)
        #expect(plan.iommuGroup != nil)
        #expect(plan.dataDisk == .assignedDevice(address))
        #expect(plan.interrupts?.mode == "MSI" && plan.interrupts?.msiIsolation == false, "\(String(describing: plan.interrupts))")
        let passXML = try #require(manifest.domains["passthrough"])
        #expect(passXML.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"), "\(passXML)")
        #expect(DomainXML.hostdevAddresses(in: passXML) == [address])
        #expect(!passXML.contains("pci=nomsi"))
        #expect(DomainXML.hostdevAddresses(in: xml).isEmpty && DomainXML.hostdevAddresses(in: vdpaXML).isEmpty)
        // Which driver held the NVMe in each boot: nvme for native, virtio and vdpa, vfio-pci for passthrough.
        let drivers = Dictionary(grouping: manifest.deviceBindings.values, by: \.variant).mapValues { $0.map(\.driver) }
        #expect(drivers["native"] == ["nvme"] && drivers["virtio"] == ["nvme"] && drivers["passthrough"] == ["vfio-pci"],
                "\(manifest.deviceBindings)")
        #expect(outcome.results.notes.contains { $0.contains("interrupts the guest with MSIs") && $0.contains("allow_unsafe_interrupts=1") })
    }
}
