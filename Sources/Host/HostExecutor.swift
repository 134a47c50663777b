// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import GuestWire
import Hypervisor
import Lab
import Logging
import Probe
import Remote
import RVBenchCore

/// What `HostExecutor.prepare` needs from the experiment.
public struct HostPreparation: Sendable {
    public var host: HostSpec
    public var variants: [VariantSetup]
    /// Host perf events the boots count; empty for none.
    public var counters: [String]
    /// 0 for `run`, then 1, 2, … for each `resume`.
    public var session: Int
    /// Every domain of this run starts with it; stale ones are destroyed.
    public var domainPrefix: String
    /// The results directory (the lab's owner record names it).
    public var directory: URL
    /// True when some workload reads the data disk (preflight then needs one for every variant).
    public var dataDisk: Bool

    public init(host: HostSpec, variants: [VariantSetup], counters: [String], session: Int, domainPrefix: String,
                directory: URL, dataDisk: Bool = false) {
        self.host = host; self.variants = variants; self.counters = counters; self.session = session
        self.domainPrefix = domainPrefix; self.directory = directory; self.dataDisk = dataDisk
    }
}

/// A host that is already reached: what `prepare` otherwise opens from the spec (the lab or a board).
/// Tests attach libvirt's `test:///default` driver and recorded probe facts this way.
public struct AttachedHost: Sendable {
    public var hypervisor: any Hypervisor
    public var target: SSHTarget
    public var probe: any HostFactsSource
    public var facts: HostFacts
    public var offer: HostOffer

    public init(hypervisor: any Hypervisor, target: SSHTarget, probe: any HostFactsSource, facts: HostFacts, offer: HostOffer) {
        self.hypervisor = hypervisor; self.target = target; self.probe = probe; self.facts = facts; self.offer = offer
    }
}

/// Runs boots of variants on a riscv64 host, the emulated lab or a board: opens the host (`HostOpener`),
/// plans each variant (`Preflight`), and hands each boot to `NativeRunner` or `GuestRunner`.
///
/// `@unchecked Sendable`: all mutable state is guarded by `lock`; libvirt handles are thread-safe.
public final class HostExecutor: @unchecked Sendable {
    private let lock = NSLock()
    private let logger: Logger
    private let layout: HostLayout
    private let labProgress: @Sendable (String) -> Void
    private let faults: FaultPlan
    private let libvirt = LibvirtQueue()
    private var attached: AttachedHost?
    private var opened: HostOpener.Opened?
    private var remoteProbe: String?
    /// The manifest's host facts; kept after `finish` closed the connection.
    private var facts: HostFacts?
    private var domainXML: [String: String] = [:]
    private var plans: [String: VariantPlan] = [:]
    private var bindings: [String: DeviceBinding] = [:]
    /// Native boot attempts whose runner exited by itself (no clean-up round trip needed).
    private var cleanNativeBoots = Set<String>()

    public init(layout: HostLayout = .lab, logger: Logger, labProgress: @escaping @Sendable (String) -> Void = { _ in },
                faults: FaultPlan = FaultPlan()) {
        self.faults = faults
        self.layout = layout
        self.logger = logger
        self.labProgress = labProgress
    }

    /// An executor on a host that is already reached (no lab, no SSH set-up, no probe installation).
    public convenience init(attached host: AttachedHost, logger: Logger) {
        self.init(layout: host.offer.layout, logger: logger)
        attached = host
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// The manifest's host facts, from the probe (nil before `prepare`).
    public var hostFacts: HostFacts? { locked { facts } }
    /// One generated domain XML per guest variant (the first boot's, with its domain name).
    public var generatedDomainXML: [String: String] { locked { domainXML } }
    /// What preflight resolved for each variant that can run.
    public var variantPlans: [String: VariantPlan] { locked { plans } }
    /// Which driver held the host's assignable device (the lab's NVMe) in each boot attempt, by domain name.
    public var deviceBindings: [String: DeviceBinding] { locked { bindings } }

    /// Before a native or virtio boot that reads the data disk from the host's managed device (the lab's NVMe):
    /// gives the device back to its host driver if a passthrough boot or a failed run left it elsewhere, checks
    /// that the planned block device is back, and records the driver.
    private func bindDataDeviceToHost(_ request: BootRequest, host: AttachedHost) async throws {
        let device: String
        switch request.plan.dataDisk {
        case .host(let d), .virtioBlock(let d): device = d
        case .vhostVDPA, .assignedDevice, nil: return
        }
        guard request.runner.dataDisk, let managed = host.offer.managedDevice, host.offer.dataDeviceAddress == managed
        else { return }
        let driver = try await LabPassthrough.restore(managed, driver: "nvme", blockDevice: device, on: host.target)
        let binding = DeviceBinding(variant: request.variant.name, device: managed, driver: driver)
        locked { bindings[request.domainName] = binding }
        guard driver == "nvme" else {
            throw RVBenchError(.guest, "the data disk's NVMe \(managed) is bound to \(driver), not nvme, before a "
                + "\(request.variant.name) boot; check dmesg in the lab (rvbench lab ssh dmesg)")
        }
        let found = DataDiskLookup.device(fromOutput: try await host.target.shell(DataDiskLookup.command, timeout: 60))
        guard found == device else {
            throw RVBenchError(.guest, "the data disk is \(found ?? "missing") after the NVMe \(managed) went back to nvme, "
                + "but the plan of \(request.variant.name) reads \(device); no boot is started")
        }
    }
    /// True when this executor started the lab (and `finish` will stop it).
    public var labStartedHere: Bool { locked { opened?.startedLab ?? false } }

    /// The fault the runner injects in this attempt (fault tests only).
    public func fault(variant: String, boot: Int, attempt: Int) -> FaultPlan.Kind? {
        faults.fault(variant: variant, boot: boot, attempt: attempt)
    }

    // MARK: - prepare

    /// Opens the host (boots the lab if needed), destroys stale domains of this run, probes the host and
    /// plans every variant.
    public func prepare(_ request: HostPreparation) async throws -> [PreflightVerdict] {
        var host: AttachedHost
        if let attached = locked({ attached }) {
            host = attached
        } else {
            let opened = try await HostOpener(layout: layout, logger: logger, labProgress: labProgress)
                .open(request.host, directory: request.directory)
            locked { self.opened = opened }
            host = try await opened.attach(layout: layout, logger: logger)
            locked { attached = host }
        }
        // Domains that an earlier, killed session of this run may have left behind.
        for name in try await libvirt.removeDomains(on: host.hypervisor, prefix: request.domainPrefix, logger: logger) {
            logger.notice("destroyed a stale domain of this run", metadata: ["vm.name": "\(name)"])
        }
        if locked({ opened }) != nil {
            if request.session > 0, request.variants.contains(where: { $0.kind == .native }) {
                // A native runner of the killed session may still run on the host (its SSH client died).
                await host.target.killAll(named: "rvbench-runner")
            }
            if !request.counters.isEmpty, let remote = host.probe as? RemoteHostFacts {
                // Native boots count through `rvbench-probe perf --exec`, remote guests through the probe on
                // QEMU's threads; a local hypervisor's guests through perf_event_open here (libpfm4 names).
                let installed = try await remote.installProbe()
                locked { remoteProbe = installed }
            }
        }
        let sources = Set(request.variants.filter { $0.kind == .vdpa }.map(\.vdpaSource))
        for source in VDPASource.allCases where sources.contains(source) && host.offer.vdpaDataDisks[source] == nil {
            host.offer.vdpaDataDisks[source] = await Self.vdpaDataDisk(source, on: host.target, logger: logger)
            locked { attached = host }
        }
        let verdicts = Preflight.plan(request.variants, on: host.offer, dataDisk: request.dataDisk)
        locked {
            facts = host.facts
            for case .runnable(let plan) in verdicts { plans[plan.variant] = plan }
        }
        return verdicts
    }

    /// Finds the vhost-vdpa device of `source` that serves the data disk: the simulator's is filled with it
    /// first, a PCI device's is only checked.
    static func vdpaDataDisk(_ source: VDPASource, on target: SSHTarget, logger: Logger) async -> VDPADataDiskState {
        let state: VDPADataDiskState
        do {
            let command = VDPADataDiskLookup.command(source)
            state = VDPADataDiskLookup.state(fromOutput: try await target.shell(command, timeout: 900))
        } catch {
            state = .unavailable(reason: "the command that fills the vDPA device failed: \(error)")
        }
        switch state {
        case .ready(let name, let device):
            logger.info("vDPA device serves the data disk",
                        metadata: ["vdpa.source": "\(source.rawValue)", "vdpa.name": "\(name)", "vdpa.device": "\(device)"])
        case .unavailable(let reason):
            logger.warning("no vDPA device serves the data disk",
                           metadata: ["vdpa.source": "\(source.rawValue)", "reason": "\(reason)"])
        }
        return state
    }

    /// The host with a live libvirt connection: one broken by a restart of the host's libvirtd is opened
    /// again (libvirtd keeps its running guests across a restart, so their domains can still be removed).
    private func liveHost() async throws -> AttachedHost {
        guard var host = locked({ attached }) else { throw RVBenchError(.internal, "runBoot before prepare") }
        guard !host.hypervisor.isAlive(), let opened = locked({ self.opened }) else { return host }
        logger.notice("the libvirt connection to the host broke; opening it again", metadata: ["libvirt.uri": "\(opened.uri)"])
        let uri = opened.uri, logger = self.logger
        // A restarting daemon takes a few seconds to listen again: try for up to a minute.
        let deadline = ContinuousClock.now + .seconds(60)
        var fresh: LibvirtHypervisor
        while true {
            do {
                fresh = try await libvirt.run { try LibvirtHypervisor(uri: uri, logger: logger) }
                break
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw RVBenchError(.library, "the host's libvirt at \(uri) did not answer again within 60 s; "
                        + "check that libvirtd runs on the host", cause: error)
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
        let old = opened.hypervisor
        await libvirt.run { old.close() }
        host.hypervisor = fresh
        locked {
            self.opened?.hypervisor = fresh
            attached = host
        }
        return host
    }

    // MARK: - boots

    /// Starts one boot attempt and returns its events; the stream's end tears the boot down.
    public func runBoot(_ request: BootRequest) async throws -> AsyncThrowingStream<BootEvent, any Error> {
        // Only guests need libvirt; a native boot runs over SSH even while the host's libvirtd is away.
        guard let attachedHost = locked({ attached }) else { throw RVBenchError(.internal, "runBoot before prepare") }
        let host = request.variant.kind.isGuest ? try await liveHost() : attachedHost
        let remoteProbe = locked { self.remoteProbe }
        let logger = request.logger
        if let fault = request.runner.fault {
            logger.notice("injecting a fault for a fault test", metadata: ["run.fault": "\(fault.rawValue)"])
        }
        return AsyncThrowingStream { continuation in
            let recording = Self.consoleRecording(name: request.domainName)
            let translator = GuestLineTranslator(continuation: continuation, recording: recording)
            let task = Task {
                defer { try? recording?.close() }
                do {
                    if request.variant.kind != .passthrough {
                        try await self.bindDataDeviceToHost(request, host: host)
                    }
                    switch request.variant.kind {
                    case .native:
                        let runner = NativeRunner(target: host.target, layout: self.layout, remoteProbe: remoteProbe)
                        if try await runner.run(request, translator: translator, continuation: continuation) {
                            // The runner exited by itself: nothing of this boot is left on the host.
                            self.locked { _ = self.cleanNativeBoots.insert(request.domainName) }
                        }
                    case .virtio, .vdpa, .passthrough:
                        let runner = GuestRunner(hypervisor: host.hypervisor, libvirt: self.libvirt, target: host.target,
                                                 layout: self.layout, probe: host.probe, remoteProbe: remoteProbe,
                                                 logger: logger, recordBinding: { binding in
                            self.locked { self.bindings[request.domainName] = binding }
                        })
                        let xml = try runner.domainXML(request)
                        self.locked { if self.domainXML[request.variant.name] == nil { self.domainXML[request.variant.name] = xml } }
                        try await runner.run(request, xml: xml, translator: translator, continuation: continuation)
                    }
                    if let summary = translator.rejectionSummary {
                        logger.warning("guest lines rejected", metadata: ["run.rejected": "\(summary)"])
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The environment variable that names a directory for raw console output: when it is set, every
    /// boot attempt's console (a guest's serial lines, a native runner's standard output) is also
    /// written to `DIR/DOMAIN-NAME.log`. The KubeVirt lab test records real boots this way.
    public static let recordConsolesVariable = "RVBENCH_RECORD_CONSOLES"

    public static func consoleRecording(name: String) -> FileHandle? {
        guard let dir = ProcessInfo.processInfo.environment[recordConsolesVariable], !dir.isEmpty else { return nil }
        let url = URL(fileURLWithPath: dir, isDirectory: true).appendingPathComponent("\(name).log")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { return nil }
        return try? FileHandle(forWritingTo: url)
    }

    /// Removes whatever the attempt left: the domain of a guest, or a runner whose SSH session was cut.
    /// Idempotent.
    public func cleanUpBoot(kind: VariantKind, domainName: String) async {
        if kind == .native {
            guard let host = locked({ attached }) else { return }
            let clean = locked { cleanNativeBoots.remove(domainName) != nil }
            if !clean { await host.target.killAll(named: "rvbench-runner") }
            return
        }
        let host: AttachedHost
        do { host = try await liveHost() } catch {
            logger.error("cannot reach the host's libvirt to remove a domain; check with virsh list --all",
                         metadata: ["vm.name": "\(domainName)", "error": "\(error)"])
            return
        }
        await libvirt.removeDomain(named: domainName, on: host.hypervisor, logger: logger)
    }

    /// Destroys every domain of this run, closes the connection, and stops the lab if this executor started it.
    public func finish(domainPrefix: String) async {
        let host = try? await liveHost()
        let opened = locked { self.opened }
        if let host {
            do {
                try await libvirt.removeDomains(on: host.hypervisor, prefix: domainPrefix, logger: logger)
            } catch {
                logger.error("could not list this run's domains to remove them; check with virsh list --all",
                             metadata: ["error": "\(error)"])
            }
        }
        if let opened {
            await opened.close(libvirt: libvirt, logger: logger)
            locked { attached = nil }
        }
    }
}
