// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Host
import Hypervisor
import Probe
import RVBenchCore
import Testing

/// The vdpa variant: preflight plans the vhost-vdpa device that serves the data disk, and the guest's domain has
/// exactly that disk, as its data disk, with shared memory.
@Suite struct VDPAPlanTests {
    static let ready = VDPADataDiskState.ready(name: "vdpa-blk0", device: "/dev/vhost-vdpa-0")

    /// The recorded host (vhost-vdpa-0, KVM), with the lab's workload and data disks.
    static func offer(_ state: VDPADataDiskState?, pci: VDPADataDiskState? = nil) throws -> HostOffer {
        var disks: [VDPASource: VDPADataDiskState] = [:]
        disks[.simulator] = state
        disks[.pci] = pci
        return HostOffer(facts: try HostFixtures.hostCan(), workloadDevice: "/dev/vda", layout: .lab,
                         dataDevice: "/dev/vdb", vdpaDataDisks: disks)
    }

    static let plan: VariantPlan = {
        var plan = VariantPlan(variant: "vdpa", kind: .vdpa, workloadDevice: "/dev/vda",
                               vdpaDevice: "/dev/vhost-vdpa-0", dataDisk: .vhostVDPA(device: "/dev/vhost-vdpa-0"))
        plan.vdpaSource = .simulator
        return plan
    }()

    @Test func aFilledVhostVDPADeviceMakesTheVariantRunnable() throws {
        let variant = VariantSetup(name: "vdpa", kind: .vdpa)
        #expect(Preflight.plan(variant, on: try Self.offer(Self.ready), dataDisk: true) == .runnable(Self.plan))
        // Without I/O workloads the guest still has the vDPA disk: the same plan.
        #expect(Preflight.plan(variant, on: try Self.offer(Self.ready), dataDisk: false) == .runnable(Self.plan))
    }

    @Test func withoutAFilledDeviceTheVariantIsNotRunWithTheHostsReason() throws {
        let variant = VariantSetup(name: "vdpa", kind: .vdpa)
        let failed = VDPADataDiskState.unavailable(reason: "modprobe virtio_vdpa: module not found")
        #expect(Preflight.plan(variant, on: try Self.offer(failed), dataDisk: true)
            == .notRun(variant: "vdpa", reason: "no vhost-vdpa device (vdpa_source: simulator) serves the data disk: "
                + "modprobe virtio_vdpa: module not found"))
        var offer = try Self.offer(nil)
        offer.facts.vdpa.vhostVDPADevices = []
        guard case .notRun(_, let reason) = Preflight.plan(variant, on: offer) else { Issue.record("planned"); return }
        #expect(reason.hasPrefix("no vhost-vdpa device on the host"))
    }

    @Test func theDomainHasTheVhostVDPADiskAsTheDataDiskWithSharedMemory() throws {
        let request = DataDiskPlanTests.ioRequest(Self.plan, kind: .vdpa)
        let spec = try GuestRunner.domainSpec(request, layout: .lab)
        #expect(spec.disks == [DiskSpec(source: "/dev/vda", target: "vda", type: .block, readOnly: true)])
        #expect(spec.vdpaDevices == [VDPADiskSpec(device: "/dev/vhost-vdpa-0", readOnly: true, serial: "rvbench-data")])
        let xml = DomainXML.guest(spec)
        #expect(DomainXML.vdpaDisks(in: xml).map { "\($0.target)=\($0.source)" } == ["vdb=/dev/vhost-vdpa-0"])
        #expect(DomainXML.hasSharedMemfdMemory(in: xml))
        try GuestRunner.verify(xml: xml, plan: Self.plan, dataDisk: true)
    }

    @Test func generatedXMLWithoutThePlannedVDPADiskIsRefusedBeforeTheBoot() throws {
        var spec = try GuestRunner.domainSpec(DataDiskPlanTests.ioRequest(Self.plan, kind: .vdpa), layout: .lab)
        spec.vdpaDevices = []
        let error = try #require(throws: RVBenchError.self) {
            try GuestRunner.verify(xml: DomainXML.guest(spec), plan: Self.plan, dataDisk: true)
        }
        #expect(error.message.contains("no vhost-vdpa disk") && error.message.contains("vdb=/dev/vhost-vdpa-0"))
        spec.vdpaDevices = ["/dev/vhost-vdpa-1"]
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: Self.plan) }
        // A virtio plan whose XML gained a vDPA disk is refused too.
        let virtio = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda")
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: virtio) }
        var noDevice = Self.plan
        noDevice.vdpaDevice = nil
        let refused = try #require(throws: RVBenchError.self) {
            _ = try GuestRunner.domainSpec(HostFixtures.request(noDevice, variant: VariantSetup(name: "vdpa", kind: .vdpa),
                                                                directory: URL(fileURLWithPath: "/x")), layout: .lab)
        }
        #expect(refused.message.contains("vdpa, but its plan has no vhost-vdpa device"))
    }

    @Test(arguments: [
        ("copying\nrvbench-vdpa-data ready vdpa-blk0 /dev/vhost-vdpa-0\n", ready),
        ("rvbench-vdpa-data failed: dd from /dev/vdb to /dev/vdc: I/O error\n",
         .unavailable(reason: "dd from /dev/vdb to /dev/vdc: I/O error")),
        ("", .unavailable(reason: "filling the vDPA device printed no result")),
        ("rvbench-vdpa-data ready vdpa-blk0 /dev/sda\n",
         .unavailable(reason: "filling the vDPA device printed an unexpected line: rvbench-vdpa-data ready vdpa-blk0 /dev/sda")),
    ] as [(String, VDPADataDiskState)])
    func theFillCommandsResultIsParsed(_ output: String, _ expected: VDPADataDiskState) {
        #expect(VDPADataDiskLookup.state(fromOutput: output) == expected)
    }

    @Test func theFillCommandChecksTheDataDisksHashAndWritesOnlyASimulator() {
        let command = VDPADataDiskLookup.command(.simulator)
        #expect(command.contains(DataDisk.sha256) && command.contains("mgmtdev vdpasim_blk"))
        #expect(command.contains("count=64 iflag=direct oflag=direct"))
        #expect(command.contains("/sys/bus/vdpa/drivers/$1/bind"))
        // A vp_vdpa device is looked up by its pci/ mgmtdev, checked by hash, and never written.
        let pci = VDPADataDiskLookup.command(.pci)
        #expect(pci.contains(DataDisk.sha256) && pci.contains("mgmtdev pci\\/") && !pci.contains("vdpasim_blk"))
        #expect(!pci.contains("oflag=") && !pci.contains("of="))
        #expect(pci.contains("m=/run/rvbench/vdpa-data-pci") && command.contains("m=/run/rvbench/vdpa-data\n"))
        #expect(pci.contains("\"\"|vhost_vdpa) ;;") && pci.contains("so the host uses it"))
    }

    /// Each vdpa variant gets the device of its own source; a source the host lacks is not run with its reason.
    @Test func aVariantGetsTheDeviceOfItsSource() throws {
        let pciReady = VDPADataDiskState.ready(name: "vdpa-pci0", device: "/dev/vhost-vdpa-1")
        let offer = try Self.offer(Self.ready, pci: pciReady)
        let variant = VariantSetup(name: "vdpa-pci", kind: .vdpa, vdpaSource: .pci)
        guard case .runnable(let plan) = Preflight.plan(variant, on: offer, dataDisk: true) else {
            Issue.record("the pci source was not planned"); return
        }
        #expect(plan.vdpaDevice == "/dev/vhost-vdpa-1" && plan.vdpaSource == .pci)
        #expect(plan.dataDisk == .vhostVDPA(device: "/dev/vhost-vdpa-1"))
        let simulatorOnly = try Self.offer(Self.ready)
        guard case .notRun(_, let reason) = Preflight.plan(variant, on: simulatorOnly, dataDisk: true) else {
            Issue.record("a pci variant ran on the simulator's device"); return
        }
        #expect(reason.hasPrefix("the host has vhost-vdpa-0, but was not asked"))
        #expect(VDPADatapath.note(variant: "vdpa-pci", device: "/dev/vhost-vdpa-1", source: .pci).contains("vp_vdpa"))
    }
}
