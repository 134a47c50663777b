// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import GuestWire
import Hypervisor
import Logging
import Probe
import Remote
import RVBenchCore

/// Runs a guest variant: builds its domain from the variant's plan, checks that the domain really has the
/// variant's device, boots it paused with `withDomain`, reads the runner's lines from its console, and
/// collects host counters and KVM exit statistics before the domain goes.
struct GuestRunner: Sendable {
    let hypervisor: any Hypervisor
    let libvirt: LibvirtQueue
    let target: SSHTarget
    let layout: HostLayout
    let probe: any HostFactsSource
    /// The probe's path on the host, when counters are asked for.
    let remoteProbe: String?
    let logger: Logger
    /// Records which driver held the assigned device once the paused domain exists (passthrough boots).
    var recordBinding: (@Sendable (DeviceBinding) -> Void)? = nil

    /// The domain of one boot attempt. Refuses a plan that lacks its variant's device: a `passthrough`
    /// guest without a resolved `<hostdev>` would measure a plain virtio guest under the wrong label.
    static func domainSpec(_ request: BootRequest, layout: HostLayout) throws -> GuestDomainSpec {
        let plan = request.plan
        guard let device = plan.workloadDevice else {
            throw RVBenchError(.notFound, "no workload device on the host for \(request.variant.name); rebuild the lab "
                + "or mount the workload root at \(layout.workloadRoot)")
        }
        let runner = request.runner
        var cmdline = [
            "console=ttyS0", "panic=1", "quiet", "loglevel=3",
            "rvbench.workloads=\(runner.workloads.joined(separator: ","))",
            "rvbench.iterations=\(runner.iterations)", "rvbench.warmup=\(runner.warmup)",
            "rvbench.seed=\(runner.seed)", "rvbench.timeout=\(runner.workloadTimeout)",
            "rvbench.device=/dev/vda", "rvbench.linger=60",
        ]
        if let fault = runner.fault { cmdline.append("rvbench.fault=\(fault.rawValue)") }
        let variant = request.variant
        var spec = GuestDomainSpec(name: request.domainName, kernel: layout.guestKernel, initrd: layout.guestInitramfs,
                                   cmdline: cmdline.joined(separator: " "))
        spec.vcpus = variant.vcpus
        spec.memoryMiB = variant.memoryMiB
        spec.machine = variant.machine
        spec.aia = plan.aia == .none ? nil : plan.aia.rawValue
        spec.cpuMode = variant.cpu == "host-passthrough" ? .hostPassthrough : .named(variant.cpu)
        spec.disks = [DiskSpec(source: device, target: "vda", type: .block, readOnly: true)]
        if runner.dataDisk {
            switch plan.dataDisk {
            case .virtioBlock(let hostDevice):
                // cache='none': the host's page cache must not serve the guest's reads, which the native variant
                // makes with direct I/O on the same device.
                spec.disks.append(DiskSpec(source: hostDevice, target: DataDisk.guestTarget, type: .block, readOnly: true,
                                           cache: "none", serial: DataDisk.serial))
            case .vhostVDPA(let device) where plan.kind == .vdpa && device == plan.vdpaDevice:
                break // the vDPA disk below is the data disk
            case .assignedDevice(let address):
                // The assigned device is the data disk: the guest finds it by its pattern, with no disk of its own.
                guard plan.kind == .passthrough, plan.hostdev == address else {
                    throw RVBenchError(.internal, "variant \(variant.name)'s data disk is the assigned device \(address), "
                        + "but its plan assigns \(plan.hostdev.map(\.description) ?? "none"); report this as a bug")
                }
            case .host, .vhostVDPA, nil:
                throw RVBenchError(.internal, "variant \(variant.name) runs I/O workloads, but its plan gives a guest no "
                    + "data disk: preflight must refuse it; report this as a bug")
            }
        }
        switch plan.kind {
        case .passthrough:
            guard let hostdev = plan.hostdev else {
                throw RVBenchError(.internal, "variant \(variant.name) is passthrough, but its plan has no PCI device: "
                    + "preflight must resolve one before a boot; report this as a bug")
            }
            spec.hostdevs = [hostdev]
            if plan.interrupts?.mode == "INTx" {
                // MSIs of the assigned device fault in the RISC-V IOMMU: the guest uses INTx.
                spec.cmdline += " pci=nomsi"
            }
        case .vdpa:
            guard let vdpa = plan.vdpaDevice else {
                throw RVBenchError(.internal, "variant \(variant.name) is vdpa, but its plan has no vhost-vdpa device: "
                    + "preflight must resolve one before a boot; report this as a bug")
            }
            // Every vdpa guest gets the data disk through vhost-vdpa, as vdb (the first free target after vda).
            spec.vdpaDevices = [VDPADiskSpec(device: vdpa, readOnly: true, serial: DataDisk.serial)]
        case .native, .virtio:
            break
        }
        return spec
    }

    /// Checks the generated XML against the plan before the boot starts: exactly the planned `<hostdev>`, exactly
    /// the planned vhost-vdpa disk (as the data disk, with shared memfd memory), and the planned data disk when
    /// the boot's workloads read it.
    static func verify(xml: String, plan: VariantPlan, dataDisk: Bool = false) throws {
        let vdpaDisks = DomainXML.vdpaDisks(in: xml).map { "\($0.target)=\($0.source)" }
        let expectedVDPA = plan.vdpaDevice.map { ["\(DataDisk.guestTarget)=\($0)"] } ?? []
        if vdpaDisks != expectedVDPA {
            throw RVBenchError(.internal, "the domain XML of variant \(plan.variant) has "
                + (vdpaDisks.isEmpty ? "no vhost-vdpa disk" : "vhost-vdpa disks " + vdpaDisks.joined(separator: ", "))
                + ", but its plan says " + (expectedVDPA.first ?? "none")
                + "; a boot would run under the wrong label, so none is started")
        }
        if !expectedVDPA.isEmpty, !DomainXML.hasSharedMemfdMemory(in: xml) {
            throw RVBenchError(.internal, "the domain XML of variant \(plan.variant) has a vhost-vdpa disk but no shared "
                + "memfd memory, which libvirt requires; no boot is started")
        }
        if dataDisk, case .virtioBlock(let hostDevice) = plan.dataDisk {
            let disk = DomainXML.disks(in: xml).first { $0.target == DataDisk.guestTarget }
            if disk?.source != hostDevice {
                throw RVBenchError(.internal, "the domain XML of variant \(plan.variant) gives the guest "
                    + (disk.map { "\($0.source) as its data disk" } ?? "no data disk")
                    + ", but its plan says \(hostDevice); no boot is started")
            }
        }
        let hostdevs = DomainXML.hostdevAddresses(in: xml)
        let expected = plan.hostdev.map { [$0] } ?? []
        if hostdevs != expected {
            throw RVBenchError(.internal, "the domain XML of variant \(plan.variant) assigns "
                + (hostdevs.isEmpty ? "no PCI device" : hostdevs.map(\.description).joined(separator: ", "))
                + ", but its plan says " + (expected.isEmpty ? "none" : expected[0].description)
                + "; a boot would run under the wrong label, so none is started")
        }
    }

    /// The checked domain XML of one boot, also saved under the results directory's `domains/`.
    func domainXML(_ request: BootRequest) throws -> String {
        let xml = DomainXML.guest(try Self.domainSpec(request, layout: layout))
        try Self.verify(xml: xml, plan: request.plan, dataDisk: request.runner.dataDisk)
        try Self.saveDomainXML(xml, name: request.domainName, in: request.directory)
        return xml
    }

    /// Runs one boot of a domain made by `domainXML`.
    func run(_ request: BootRequest, xml: String, translator: GuestLineTranslator,
             continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation) async throws {
        let counters = request.counters
        let yieldCounters = CounterYield(variant: request.variant.name, directory: request.directory,
                                         continuation: continuation)
        let logger = request.logger
        try await libvirt.withDomain(on: hypervisor, xml: xml, paused: true, logger: logger) { domain in
            logger.info("guest created", metadata: ["vm.name": "\(request.domainName)"])
            let console = try await libvirt.run { try domain.openConsole() }
            defer { console.close() }
            if request.plan.kind == .passthrough, let address = request.plan.hostdev, let recordBinding {
                // libvirt (managed='yes') moved the device to vfio-pci when it created the domain.
                let driver = (try? await LabPassthrough.driver(of: address, on: target)) ?? "unknown"
                recordBinding(DeviceBinding(variant: request.variant.name, device: address, driver: driver))
                logger.info("assigned device", metadata: ["vm.name": "\(request.domainName)", "pci.device": "\(address)",
                                                         "pci.driver": "\(driver)"])
            }
            // Host counters on every thread of the guest's QEMU, from before it runs.
            var counterSource: (any CounterSource)?
            var counterProblem: String?
            if !counters.isEmpty {
                do {
                    let source = try await makeCounterSource(domain: domain, events: counters)
                    try await libvirt.run { try source.start() }
                    counterSource = source
                } catch {
                    counterProblem = "could not start counting on the guest's QEMU: \(error)"
                }
            }
            try await libvirt.run { try domain.resume() }
            for try await line in console.lines(maxLineBytes: GuestProtocol.maxLineBytes) {
                translator.feedLine(line)
                if translator.sawEnd { break }
            }
            guard translator.sawEnd else {
                continuation.yield(.failed(reason: "the guest console closed before the runner's done line "
                    + "(the VM died or powered off early)", workload: nil, iteration: nil))
                return
            }
            if !counters.isEmpty {
                if let counterSource {
                    let readings: CounterReadings
                    do {
                        readings = try await libvirt.run { try counterSource.stop() }
                    } catch {
                        readings = HostCounters.allUnavailable(counters, reason: "reading the counters failed: \(error)")
                    }
                    try yieldCounters(readings)
                } else {
                    try yieldCounters(HostCounters.allUnavailable(counters, reason: counterProblem ?? "not counted"))
                }
            }
            // The runner lingers after its last line, so the VM's KVM statistics still exist.
            do {
                for sample in HostCounters.kvmSamples(try await probe.kvmStatsSnapshot()) {
                    continuation.yield(.sample(sample))
                }
            } catch {
                logger.warning("no KVM statistics for this boot", metadata: ["vm.name": "\(request.domainName)",
                                                                            "error": "\(error)"])
            }
        }
    }

    /// Counts on the guest's QEMU process: with perf_event_open here when libvirt is the local
    /// `qemu:///system` (the domain then knows its QEMU's pid), else through the probe over SSH.
    func makeCounterSource(domain: any DomainHandle, events: [String]) async throws -> any CounterSource {
        if let pid = try await libvirt.run({ try domain.qemuPID() }) {
            return PerfCounterGroup(events: events, pid: pid, threads: true, logger: logger)
        }
        guard let remoteProbe else { throw RVBenchError(.internal, "the probe is not installed on the host") }
        let pidFile = "/run/libvirt/qemu/\(domain.name).pid"
        let text = try await target.shell("cat \(shellQuote(pidFile))", timeout: 60)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RVBenchError(.format, "\(pidFile) on the host holds no process id")
        }
        return RemoteProbeCounterSource(target: target, remoteProbe: remoteProbe, pid: pid, events: events,
                                        threads: true, includeKVMStats: false)
    }

    static func saveDomainXML(_ xml: String, name: String, in directory: URL) throws {
        let dir = directory.appendingPathComponent("domains", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(xml.utf8).write(to: dir.appendingPathComponent("\(name).xml"), options: .atomic)
    }
}
