// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import GuestWire
@testable import Host
import Hypervisor
import Logging
import Probe
import Remote
import RVBenchCore
import Testing

enum HostFixtures {
    /// The probe's facts of a host that can assign 0000:00:03.0 (1b36:0010, IOMMU group 2) through VFIO,
    /// recorded from the sysfs tree workloads/probe/fixtures/sysfs/host-can.
    static func hostCan(ssaia: Bool = true) throws -> ProbeFacts {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ProbeTests/Fixtures/facts/host-can.json")
        var f = try ProbeFacts.decode(try Data(contentsOf: url))
        f.cpu.ssaia = ssaia
        return f
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func request(_ plan: VariantPlan, variant: VariantSetup, directory: URL, fault: FaultPlan.Kind? = nil,
                        name: String = "d") -> BootRequest {
        BootRequest(plan: plan, variant: variant, boot: 0, attempt: 1, domainName: name,
                    runner: RunnerArguments(workloads: ["micro-timer"], iterations: 2, warmup: 0, seed: 1,
                                            workloadTimeout: 30, fault: fault),
                    counters: [], directory: directory, logger: Logger(label: "test"))
    }
}

/// The executor's counter bookkeeping and fault plumbing, without a host.
@Suite struct HostCounterTests {
    @Test func probeExecReportIsTheLastReportLineOnStandardError() throws {
        let stderr = """
            some workload noise
            rvbench-probe-report {"schema":1,"pid":9,"all_threads":false,"threads":1,"threads_late":0,"truncated":false,\
            "seconds":1.5,"events":[{"name":"task-clock","ok":true,"value":1500,"time_enabled":10,"time_running":5,\
            "scaled":3000,"threads":1,"failed_threads":0,"user_only":false},{"name":"cycles","ok":false,"errno":2,\
            "error":"No such file or directory"}]}
            """
        let report = try HostCounters.probeExecReport(stderr: stderr)
        #expect(report.readings["task-clock"]?.scaledValue == 3000)
        #expect(report.readings["cycles"]?.unavailableReason == "perf_event_open on the host: No such file or directory (errno 2)")
        #expect(throws: RVBenchError.self) { try HostCounters.probeExecReport(stderr: "rvbench-runner: oops\n") }
    }

    @Test func unavailableCountersAreRecordedWithReasonsNeverAsZero() throws {
        let dir = try HostFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var readings = CounterReadings()
        readings["task-clock"] = .value(100, enabled: 10, running: 10)
        readings["cycles"] = .unavailable("perf_event_open on the host: Operation not supported (errno 95)")
        let samples = try HostCounters.samples(readings, variant: "virtio", directory: dir)
        #expect(samples == [BootSample(workload: "boot", iteration: 0, metric: "host.perf.task-clock", value: 100, unit: "events", kind: .counter)])
        var more = CounterReadings()
        more["instructions"] = .unavailable("not counted")
        _ = try HostCounters.samples(more, variant: "native", directory: dir)
        let recorded = try HostCounters.readUnavailable(in: dir)
        #expect(recorded == [
            UnavailableMetric(metric: "host.perf.cycles", variant: "virtio",
                              reason: "perf_event_open on the host: Operation not supported (errno 95)"),
            UnavailableMetric(metric: "host.perf.instructions", variant: "native", reason: "not counted"),
        ])
    }

    @Test func aBrokenUnavailableFileIsAnErrorNotAnEmptyList() throws {
        let dir = try HostFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{not json".utf8).write(to: HostCounters.unavailableFile(in: dir))
        let error = try #require(throws: RVBenchError.self) { _ = try HostCounters.readUnavailable(in: dir) }
        #expect(error.code == .format && error.message.contains("delete it"))
        var readings = CounterReadings()
        readings["cycles"] = .unavailable("x")
        #expect(throws: RVBenchError.self) { _ = try HostCounters.samples(readings, variant: "v", directory: dir) }
    }

    @Test func faultsReachTheGuestCommandLineOnlyForTheirAttempt() throws {
        let plan = FaultPlan([.init(kind: .hang, variant: "virtio", boot: 1)])
        #expect(plan.fault(variant: "virtio", boot: 1, attempt: 1) == .hang)
        #expect(plan.fault(variant: "virtio", boot: 1, attempt: 2) == nil)
        #expect(plan.fault(variant: "virtio", boot: 0, attempt: 1) == nil)
        let variant = VariantSetup(name: "virtio", kind: .virtio)
        let vplan = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vdb")
        let dir = URL(fileURLWithPath: "/nonexistent")
        let spec = try GuestRunner.domainSpec(HostFixtures.request(vplan, variant: variant, directory: dir, fault: .garbage),
                                              layout: .lab)
        #expect(spec.cmdline.hasSuffix(" rvbench.fault=garbage"))
        let clean = try GuestRunner.domainSpec(HostFixtures.request(vplan, variant: variant, directory: dir), layout: .lab)
        #expect(!clean.cmdline.contains("rvbench.fault"))
        #expect(clean.hostdevs.isEmpty)
    }

    @Test func theNativeCommandLineQuotesAndCountsFromTheFirstInstruction() {
        let runner = NativeRunner(target: SSHTarget(host: "board"), layout: .lab, remoteProbe: "/tmp/rvbench-probe")
        let command = runner.command(RunnerArguments(workloads: ["a", "b"], iterations: 3, warmup: 1, seed: 9, workloadTimeout: 60),
                                     counters: ["cycles", "instructions"])
        #expect(command.hasPrefix("exec /tmp/rvbench-probe perf --exec --events cycles,instructions -- "))
        #expect(command.hasSuffix("--workloads a,b --iterations 3 --warmup 1 --seed 9 --timeout 60"))
        let odd = NativeRunner(target: SSHTarget(host: "board"), layout: .lab, remoteProbe: nil)
            .command(RunnerArguments(workloads: ["a b"], iterations: 1, warmup: 0, seed: 1, workloadTimeout: 5), counters: ["x"])
        #expect(odd.contains("--workloads 'a b'") && !odd.contains("perf --exec"))
        #expect(!runner.command(RunnerArguments(workloads: ["a"], iterations: 1, warmup: 0, seed: 1, workloadTimeout: 5),
                                counters: []).contains("perf --exec"))
    }
}

/// AIA guests are reported as not run where they could not boot, instead of hanging until the boot timeout.
@Suite struct AIAPreflightTests {
    @Test func needsSsaiaOnTheHostAndAnAIAGuestKernel() throws {
        let withAIA = try HostFixtures.hostCan(ssaia: true)
        #expect(Preflight.aiaProblem(facts: withAIA, guestKernelVersion: nil, mode: .aplicIMSIC) == nil)
        #expect(Preflight.aiaProblem(facts: withAIA, guestKernelVersion: "6.12.57-1", mode: .aplicIMSIC) == nil)
        let old = try #require(Preflight.aiaProblem(facts: withAIA, guestKernelVersion: "6.1.192-2", mode: .aplicIMSIC))
        #expect(old.contains("Linux 6.10 or later") && old.contains("Linux 6.1.192-2"))
        let none = try #require(Preflight.aiaProblem(facts: try HostFixtures.hostCan(ssaia: false), guestKernelVersion: nil,
                                                     mode: .aplic))
        #expect(none.hasPrefix("aia: aplic needs Ssaia on the host") && none.contains("qemu: trixie"))
    }
}

/// A passthrough variant is planned with the device preflight resolved, and no guest boots without it.
@Suite struct PassthroughPlanTests {
    static let address = PCIAddress(domain: 0, bus: 0, slot: 3, function: 0)!

    @Test func preflightResolvesTheDeviceIntoThePlan() throws {
        let offer = HostOffer(facts: try HostFixtures.hostCan(), workloadDevice: "/dev/vdb", layout: .lab)
        let variants = [
            VariantSetup(name: "native", kind: .native),
            VariantSetup(name: "pt", kind: .passthrough, device: PCIDeviceSelector(string: "1b36:0010")),
            VariantSetup(name: "pt-missing", kind: .passthrough, device: PCIDeviceSelector(string: "1b36:0010#1")),
            VariantSetup(name: "pt-unnamed", kind: .passthrough),
        ]
        let verdicts = Preflight.plan(variants, on: offer)
        #expect(verdicts[0] == .runnable(VariantPlan(variant: "native", kind: .native, workloadDevice: "/dev/vdb")))
        var pt = VariantPlan(variant: "pt", kind: .passthrough, workloadDevice: "/dev/vdb", hostdev: Self.address,
                             iommuGroup: "2")
        pt.interrupts = Preflight.passthroughInterrupts(facts: offer.facts, group: "2", aia: .none)
        #expect(verdicts[1] == .runnable(pt))
        guard case .notRun(_, let missing) = verdicts[2] else { Issue.record("a missing device was planned"); return }
        #expect(missing.hasPrefix("no PCI device 1b36:0010#1 on the host"))
        #expect(verdicts[3] == .notRun(variant: "pt-unnamed", reason: "no device named in the spec (variants[].device)"))
    }

    @Test func theDomainOfAPassthroughPlanHasItsHostdev() throws {
        let plan = VariantPlan(variant: "pt", kind: .passthrough, workloadDevice: "/dev/vdb", hostdev: Self.address)
        let request = HostFixtures.request(plan, variant: VariantSetup(name: "pt", kind: .passthrough), directory: URL(fileURLWithPath: "/x"))
        let xml = DomainXML.guest(try GuestRunner.domainSpec(request, layout: .lab))
        #expect(DomainXML.hostdevAddresses(in: xml) == [Self.address])
        #expect(xml.contains("<address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"))
        try GuestRunner.verify(xml: xml, plan: plan)
    }

    @Test func aPassthroughGuestWithoutAResolvedDeviceIsRefused() throws {
        let plan = VariantPlan(variant: "pt", kind: .passthrough, workloadDevice: "/dev/vdb")
        let request = HostFixtures.request(plan, variant: VariantSetup(name: "pt", kind: .passthrough), directory: URL(fileURLWithPath: "/x"))
        let error = try #require(throws: RVBenchError.self) { _ = try GuestRunner.domainSpec(request, layout: .lab) }
        #expect(error.message.contains("passthrough, but its plan has no PCI device"))
    }

    @Test func generatedXMLThatLacksOrAddsADeviceIsRefusedBeforeTheBoot() throws {
        let virtio = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vdb")
        let request = HostFixtures.request(virtio, variant: VariantSetup(name: "virtio", kind: .virtio), directory: URL(fileURLWithPath: "/x"))
        var spec = try GuestRunner.domainSpec(request, layout: .lab)
        try GuestRunner.verify(xml: DomainXML.guest(spec), plan: virtio)
        spec.hostdevs = [Self.address]
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: virtio) }
        let passthrough = VariantPlan(variant: "pt", kind: .passthrough, workloadDevice: "/dev/vdb", hostdev: Self.address)
        spec.hostdevs = []
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: passthrough) }
    }
}

/// The I/O workloads' data disk: preflight plans how each variant reaches it, and a guest gets exactly that.
@Suite struct DataDiskPlanTests {
    static func offer(dataDevice: String?) throws -> HostOffer {
        HostOffer(facts: try HostFixtures.hostCan(), workloadDevice: "/dev/vda", layout: .lab, dataDevice: dataDevice)
    }

    static func ioRequest(_ plan: VariantPlan, kind: VariantKind) -> BootRequest {
        var request = HostFixtures.request(plan, variant: VariantSetup(name: plan.variant, kind: kind),
                                           directory: URL(fileURLWithPath: "/x"))
        request.runner.workloads = ["fio-randread"]
        request.runner.dataDisk = true
        return request
    }

    @Test func nativeReadsTheHostsDeviceAndVirtioGetsItAsAVirtioDisk() throws {
        let variants = [VariantSetup(name: "native", kind: .native), VariantSetup(name: "virtio", kind: .virtio),
                        VariantSetup(name: "pt", kind: .passthrough, device: PCIDeviceSelector(string: "1b36:0010"))]
        let verdicts = Preflight.plan(variants, on: try Self.offer(dataDevice: "/dev/vdb"), dataDisk: true)
        #expect(verdicts[0] == .runnable(VariantPlan(variant: "native", kind: .native, workloadDevice: "/dev/vda",
                                                     dataDisk: .host(device: "/dev/vdb"))))
        #expect(verdicts[1] == .runnable(VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda",
                                                     dataDisk: .virtioBlock(hostDevice: "/dev/vdb"))))
        // The assigned device does not carry the data disk here: not run, rather than read through virtio.
        guard case .notRun(_, let reason) = verdicts[2] else { Issue.record("passthrough ran I/O workloads"); return }
        #expect(reason.contains("a passthrough guest cannot reach it") && reason.contains("--l1-kernel own"))
        // Without I/O workloads, passthrough is planned as before.
        guard case .runnable(let plan) = Preflight.plan(variants[2], on: try Self.offer(dataDevice: "/dev/vdb")) else {
            Issue.record("passthrough refused without I/O workloads"); return
        }
        #expect(plan.dataDisk == nil)
    }

    @Test func guestsOfALabWithQEMU7RunNoIOWorkloads() throws {
        var offer = try Self.offer(dataDevice: "/dev/vdb")
        offer.guestUserTimeCSRFaults = true
        let variants = [VariantSetup(name: "native", kind: .native), VariantSetup(name: "virtio", kind: .virtio)]
        let verdicts = Preflight.plan(variants, on: offer, dataDisk: true)
        // Natively fio runs; in a guest it would die of SIGILL, so the variant is not run, with the fix.
        #expect(verdicts[0] == .runnable(VariantPlan(variant: "native", kind: .native, workloadDevice: "/dev/vda",
                                                     dataDisk: .host(device: "/dev/vdb"))))
        guard case .notRun(_, let reason) = verdicts[1] else { Issue.record("a virtio guest was planned for fio"); return }
        #expect(reason.contains("SIGILL") && reason.contains("qemu: trixie"))
        // Workloads that do not read the data disk still run in guests there.
        guard case .runnable = Preflight.plan(variants[1], on: offer, dataDisk: false) else {
            Issue.record("a virtio guest was refused without I/O workloads"); return
        }
    }

    @Test func aHostWithoutTheDataDiskRunsNoIOWorkloads() throws {
        let offer = try Self.offer(dataDevice: nil)
        let verdict = Preflight.plan(VariantSetup(name: "native", kind: .native), on: offer, dataDisk: true)
        guard case .notRun(_, let reason) = verdict else { Issue.record("planned without a data disk"); return }
        #expect(reason.contains("no block device with serial rvbench-data") && reason.contains("rvbench lab build"))
        #expect(Preflight.plan(VariantSetup(name: "native", kind: .native), on: offer, dataDisk: false)
            == .runnable(VariantPlan(variant: "native", kind: .native, workloadDevice: "/dev/vda")))
    }

    @Test func theGuestGetsTheDataDiskOnlyWhenItsWorkloadsReadIt() throws {
        let plan = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda",
                               dataDisk: .virtioBlock(hostDevice: "/dev/vdb"))
        let spec = try GuestRunner.domainSpec(Self.ioRequest(plan, kind: .virtio), layout: .lab)
        #expect(spec.disks == [
            DiskSpec(source: "/dev/vda", target: "vda", type: .block, readOnly: true),
            DiskSpec(source: "/dev/vdb", target: "vdb", type: .block, readOnly: true, cache: "none", serial: "rvbench-data"),
        ])
        let xml = DomainXML.guest(spec)
        try GuestRunner.verify(xml: xml, plan: plan, dataDisk: true)
        var plain = HostFixtures.request(plan, variant: VariantSetup(name: "virtio", kind: .virtio),
                                         directory: URL(fileURLWithPath: "/x"))
        plain.runner.dataDisk = false
        #expect(try GuestRunner.domainSpec(plain, layout: .lab).disks.count == 1)
    }

    @Test func aGuestWithoutItsPlannedDataDiskIsRefusedBeforeTheBoot() throws {
        let plan = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda",
                               dataDisk: .virtioBlock(hostDevice: "/dev/vdb"))
        var spec = try GuestRunner.domainSpec(Self.ioRequest(plan, kind: .virtio), layout: .lab)
        spec.disks.removeLast()
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: plan, dataDisk: true) }
        spec.disks.append(DiskSpec(source: "/dev/vdc", target: "vdb", type: .block, readOnly: true))
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(spec), plan: plan, dataDisk: true) }
        let unplanned = VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda")
        let error = try #require(throws: RVBenchError.self) {
            _ = try GuestRunner.domainSpec(Self.ioRequest(unplanned, kind: .virtio), layout: .lab)
        }
        #expect(error.message.contains("gives a guest no data disk"))
    }

    @Test(arguments: [
        ("/dev/vdb\n", "/dev/vdb"), ("", nil), ("/dev/vdb\n/dev/nvme0n1\n", nil), ("  /dev/vdc  \n", "/dev/vdc"),
        ("garbage\n", nil),
    ] as [(String, String?)])
    func theHostLookupTakesExactlyOneDevice(_ output: String, _ expected: String?) {
        #expect(DataDiskLookup.device(fromOutput: output) == expected)
    }

    @Test func theHostLookupUsesShellBuiltinsAndTheSerial() {
        #expect(DataDiskLookup.command.contains("= rvbench-data ]"))
        #expect(DataDiskLookup.command.contains("$d/device/serial"))
        #expect(!DataDiskLookup.command.contains("cat "))
    }
}

/// The lab's own-kernel NVMe: it carries the data disk, libvirt takes it from nvme for passthrough boots
/// (managed='yes'), and the passthrough guest reads the data disk through it, with INTx.
@Suite struct AssignedDataDiskTests {
    static let address = PCIAddress(domain: 0, bus: 0, slot: 3, function: 0)!

    /// The host-can facts as the lab's L1 shows them: the NVMe on nvme, no KVM VFIO device, type1 unsafe.
    static func labFacts(unsafe: String? = "Y") throws -> ProbeFacts {
        var f = try HostFixtures.hostCan()
        for i in f.pci.indices where f.pci[i].name == address.description { f.pci[i].driver = "nvme" }
        f.vfio.kvmVFIODevice = .no
        f.vfio.kvmVFIODetail = "KVM_CREATE_DEVICE_TEST: ENODEV"
        f.vfio.unsafeInterrupts = unsafe
        // The upstream riscv IOMMU driver: no msi reserved region, so the guest uses INTx.
        for i in f.iommu.groups.indices { f.iommu.groups[i].msiRegion = false }
        return f
    }

    static func offer(_ facts: ProbeFacts, managed: Bool = true) -> HostOffer {
        HostOffer(facts: facts, workloadDevice: "/dev/vda", layout: .lab, dataDevice: "/dev/nvme0n1",
                  dataDeviceAddress: address, managedDevice: managed ? address : nil)
    }

    static let variants = [
        VariantSetup(name: "native", kind: .native), VariantSetup(name: "virtio", kind: .virtio),
        VariantSetup(name: "pt", kind: .passthrough, device: PCIDeviceSelector(string: "1b36:0010")),
    ]

    @Test func everyVariantReadsTheNVMeAndPassthroughGetsItAssigned() throws {
        let verdicts = Preflight.plan(Self.variants, on: Self.offer(try Self.labFacts()), dataDisk: true)
        #expect(verdicts[0] == .runnable(VariantPlan(variant: "native", kind: .native, workloadDevice: "/dev/vda",
                                                     dataDisk: .host(device: "/dev/nvme0n1"))))
        #expect(verdicts[1] == .runnable(VariantPlan(variant: "virtio", kind: .virtio, workloadDevice: "/dev/vda",
                                                     dataDisk: .virtioBlock(hostDevice: "/dev/nvme0n1"))))
        guard case .runnable(let plan) = verdicts[2] else { Issue.record("passthrough not planned: \(verdicts[2])"); return }
        #expect(plan.hostdev == Self.address && plan.iommuGroup == "2")
        #expect(plan.dataDisk == .assignedDevice(Self.address))
        #expect(plan.interrupts?.mode == "INTx" && plan.interrupts?.msiIsolation == false)
        #expect(plan.interrupts?.note.contains("allow_unsafe_interrupts=1") == true)

        var request = DataDiskPlanTests.ioRequest(plan, kind: .passthrough)
        request.variant = Self.variants[2]
        let spec = try GuestRunner.domainSpec(request, layout: .lab)
        #expect(spec.disks.count == 1, "the assigned NVMe is the data disk; the guest gets no second disk")
        #expect(spec.cmdline.hasSuffix(" pci=nomsi"))
        let xml = DomainXML.guest(spec)
        #expect(xml.contains("<hostdev mode='subsystem' type='pci' managed='yes'>"))
        try GuestRunner.verify(xml: xml, plan: plan, dataDisk: true)
        var without = spec
        without.hostdevs = []
        #expect(throws: RVBenchError.self) { try GuestRunner.verify(xml: DomainXML.guest(without), plan: plan, dataDisk: true) }
    }

    /// With an `msi` reserved region in the NVMe's group (the lab kernel maps the IMSIC files into VFIO's
    /// domain), the guest keeps MSIs: no pci=nomsi, and the plan says MSI without isolation.
    @Test func anMSIRegionInTheGroupKeepsTheGuestOnMSIs() throws {
        var facts = try Self.labFacts()
        let g = try #require(facts.iommu.groups.firstIndex { $0.id == "2" })
        facts.iommu.groups[g].msiRegion = true
        var variant = Self.variants[2]
        variant.aia = .aplicIMSIC
        guard case .runnable(let plan) = Preflight.plan(variant, on: Self.offer(facts), dataDisk: true) else {
            Issue.record("passthrough not planned"); return
        }
        #expect(plan.interrupts?.mode == "MSI" && plan.interrupts?.msiIsolation == false)
        #expect(plan.interrupts?.note.contains("group 2 reports an msi reserved region") == true)
        var request = DataDiskPlanTests.ioRequest(plan, kind: .passthrough)
        request.variant = variant
        let spec = try GuestRunner.domainSpec(request, layout: .lab)
        #expect(!spec.cmdline.contains("pci=nomsi"))
        // A guest without an IMSIC has no MSI controller: INTx, whatever the host maps.
        let noIMSIC = Preflight.passthroughInterrupts(facts: facts, group: "2", aia: .none)
        #expect(noIMSIC.mode == "INTx" && noIMSIC.note.contains("the guest has no IMSIC (aia: none)"))
        // No region (or an older probe that did not read reserved_regions): INTx.
        facts.iommu.groups[g].msiRegion = nil
        #expect(Preflight.passthroughInterrupts(facts: facts, group: "2", aia: .aplicIMSIC).mode == "INTx")
    }

    @Test func aDeviceOnAHostDriverIsTakenOnlyWhenManaged() throws {
        let selector = try #require(PCIDeviceSelector(string: "1b36:0010"))
        let facts = try Self.labFacts()
        #expect(PassthroughPreflight.check(facts: facts, device: selector, managed: Self.address)
            == .runnable(device: Self.address, iommuGroup: "2"))
        let unmanaged = PassthroughPreflight.check(facts: facts, device: selector).reasons
        #expect(unmanaged.contains { $0.contains("bound to nvme, not vfio-pci") })
        // Without KVM's VFIO device, QEMU's legacy container path only warns: not a reason while type1 has a container.
        #expect(!unmanaged.contains { $0.hasPrefix("KVM has no VFIO device") })
        var noContainer = facts
        noContainer.vfio.container = false
        #expect(PassthroughPreflight.check(facts: noContainer, device: selector, managed: Self.address).reasons
            .contains { $0.hasPrefix("KVM has no VFIO device") })
        let safe = PassthroughPreflight.check(facts: try Self.labFacts(unsafe: "N"), device: selector, managed: Self.address)
        #expect(safe.reasons.count == 1 && safe.reasons[0].contains("allow_unsafe_interrupts=N"))
    }

    @Test func aPassthroughGuestWhoseDeviceIsNotTheDataDiskRunsNoIOWorkloads() throws {
        var offer = Self.offer(try Self.labFacts())
        offer.dataDeviceAddress = PCIAddress(domain: 0, bus: 0, slot: 4, function: 0)
        guard case .notRun(_, let reason) = Preflight.plan(Self.variants[2], on: offer, dataDisk: true) else {
            Issue.record("planned without the data disk"); return
        }
        #expect(reason.contains("a passthrough guest cannot reach it"))
    }
}
