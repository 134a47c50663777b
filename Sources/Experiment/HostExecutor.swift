// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import Hypervisor
import Lab
import Logging
import Probe
import RVBenchCore

/// Where the guest-side files live on the riscv64 host. The lab builds exactly this layout; a board
/// gets it by installing the lab's workload disk and guest kernel (see docs/spec.md).
public struct HostLayout: Sendable, Codable, Equatable {
    /// The L2 guest kernel, on the host.
    public var guestKernel: String
    /// The L2 initramfs whose `/init` is the workload runner.
    public var guestInitramfs: String
    /// Where the workload root (ffmpeg, ONNX Runtime, models, clips) is mounted read-only on the host.
    public var workloadRoot: String

    public init(guestKernel: String, guestInitramfs: String, workloadRoot: String) {
        self.guestKernel = guestKernel; self.guestInitramfs = guestInitramfs; self.workloadRoot = workloadRoot
    }

    /// The layout of the emulated lab's L1.
    public static let lab = HostLayout(
        guestKernel: LabBuilder.l1GuestDirectory + "/Image",
        guestInitramfs: LabBuilder.l1GuestDirectory + "/initramfs.cpio",
        workloadRoot: "/opt/rvbench-root")

    /// The runner inside the workload root.
    public var runner: String { workloadRoot + "/opt/rvbench/bin/rvbench-runner" }
}

/// What `HostExecutor.prepare` learned about the host; recorded in the manifest.
public struct HostFactsRecord: Sendable, Codable {
    public var uri: String
    public var ssh: String
    public var emulated: Bool
    public var kind: String
    public var versions: HypervisorVersions?
    public var kernel: String?
    public var isa: String?
    public var workloadDevice: String?
    public var labBuildID: String?
    /// The lab's L0 (e.g. "QEMU 10.0.13, process, -icount shift=0,sleep=off"); nil for a board.
    public var emulator: String?
}

/// Faults the workload runner injects on purpose, for rvbench's own fault tests on the real path:
/// `hang` stops after the first measured result; `garbage` prints malformed and hostile lines after it.
public struct FaultPlan: Sendable, Equatable {
    public enum Kind: String, Sendable { case hang, garbage }

    public struct Entry: Sendable, Equatable {
        public var kind: Kind
        public var variant: String
        public var boot: Int
        /// The attempt (1-based) that misbehaves; the retry runs clean.
        public var attempt: Int

        public init(kind: Kind, variant: String, boot: Int, attempt: Int = 1) {
            self.kind = kind; self.variant = variant; self.boot = boot; self.attempt = attempt
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    func fault(variant: String, boot: Int, attempt: Int) -> Kind? {
        entries.first { $0.variant == variant && $0.boot == boot && $0.attempt == attempt }?.kind
    }
}

/// The real executor: boots guests through libvirt (local or remote URI) and runs the `native`
/// variant over SSH, on the emulated lab or on a riscv64 board.
///
/// `@unchecked Sendable`: all mutable state is guarded by `lock`; libvirt handles are thread-safe.
public final class HostExecutor: VariantExecutor, @unchecked Sendable {
    /// Label of the per-boot host counters (KVM exit statistics), which belong to no single workload.
    public static let bootLabel = "boot"

    private let lock = NSLock()
    private let logger: Logger
    private let layout: HostLayout
    private let labProgress: @Sendable (String) -> Void
    private let faults: FaultPlan
    private var hypervisor: LibvirtHypervisor?
    private var lab: Lab?
    private var startedLab = false
    private var sshTarget: Probe.SSHTarget?
    private var probe: RemoteHostFacts?
    private var workloadDevice: String?
    private var kvmAvailable = false
    private var facts: HostFactsRecord?
    private var domainXML: [String: String] = [:]
    private var remoteProbe: String?
    /// Native boot attempts whose runner exited by itself (no clean-up round trip needed).
    private var cleanNativeBoots = Set<String>()

    public init(layout: HostLayout = .lab, logger: Logger, labProgress: @escaping @Sendable (String) -> Void = { _ in },
                faults: FaultPlan = FaultPlan()) {
        self.faults = faults
        self.layout = layout
        self.logger = logger
        self.labProgress = labProgress
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// Host facts gathered by `prepare`.
    public var hostFacts: HostFactsRecord? { locked { facts } }
    /// One generated domain XML per guest variant (the first boot's, with its domain name).
    public var generatedDomainXML: [String: String] { locked { domainXML } }
    /// True when this executor started the lab (and `finish` will stop it).
    public var labStartedHere: Bool { locked { startedLab } }

    // MARK: - prepare

    public func prepare(_ context: ExperimentContext) async throws -> [VariantUnavailable] {
        let spec = context.spec
        var uri: String
        var target: Probe.SSHTarget
        var emulated = false
        var kind: String
        var buildID: String?
        var emulator: String?
        switch spec.host {
        case .lab(let options):
            let lab = Lab(paths: LabPaths.fromEnvironment(), logger: logger, progress: labProgress)
            let me = LabOwner(directory: context.directory.standardizedFileURL.resolvingSymlinksInPath().path, pid: getpid())
            let up = try await lab.up(qemu: options.qemu == .trixie ? .trixie : .system,
                                      deterministic: options.deterministic, owner: me)
            // A lab that an earlier, killed session of this same run started is ours to stop.
            var adopted = false
            if up.reused, let owner = up.state.owner, owner.directory == me.directory, !owner.isAlive {
                try lab.adopt(up.state, owner: me)
                adopted = true
                logger.notice("taking over the lab started by an earlier session of this run",
                              metadata: ["lab.pid": "\(owner.pid)"])
            }
            locked {
                self.lab = lab
                self.startedLab = !up.reused || adopted
            }
            uri = up.state.libvirtURI
            target = Probe.SSHTarget(user: "root", host: "127.0.0.1", port: up.state.sshPort,
                                     identityFile: lab.paths.sshKey.path, knownHostsFile: "/dev/null")
            emulated = true
            kind = "emulated RISC-V host (QEMU TCG)"
            buildID = up.state.buildID
            var l0 = up.state.qemuVersion.map { "\($0), run as a process" } ?? "Debian 12 QEMU (libvirt domain)"
            if up.state.deterministic { l0 += ", -icount shift=0,sleep=off, 1 hart" }
            emulator = l0
        case .remote(let remote):
            uri = remote.uri
            guard let ssh = remote.ssh else {
                throw RVBenchError(.badInput, "host.ssh is required for a remote host: the native variant and the probe run over SSH")
            }
            target = Probe.SSHTarget(user: ssh.user ?? "root", host: ssh.host, port: ssh.port,
                                     identityFile: remote.identity.map { NSString(string: $0).expandingTildeInPath })
            kind = "riscv64 host \(ssh.host)"
        }
        let hv = try LibvirtHypervisor(uri: uri, logger: logger)
        let probe = RemoteHostFacts(sshTarget: target)
        locked {
            self.hypervisor = hv
            self.sshTarget = target
            self.probe = probe
        }

        // Domains that an earlier, killed session of this run may have left behind.
        let stale = try await Task.detached { try hv.domainNames(includeInactive: true) }.value
            .filter { $0.hasPrefix(context.domainPrefix) }
        for name in stale {
            logger.notice("destroying a stale domain of this run", metadata: ["vm.name": "\(name)"])
            if let dom = try hv.lookup(name: name) {
                try? dom.destroy()
                try? dom.undefine()
            }
        }

        if context.session > 0, spec.variants.contains(where: { $0.kind == .native }) {
            // A native runner of the killed session may still run on the host (its SSH client died).
            _ = try? await Subprocess.run(target.sshArguments() + ["pkill -KILL -x rvbench-runner || true"], timeout: 30)
        }

        // Independent round trips to the host, in parallel (each SSH session costs a handshake).
        async let versionsTask = Task.detached { try? hv.versions() }.value
        let mountsArgv = target.sshArguments() + ["awk '$2==\"\(layout.workloadRoot)\"{print $1}' /proc/mounts"]
        async let mountsTask = Subprocess.check(mountsArgv, timeout: 60)
        let hostFacts = try await probe.facts()
        let versions = await versionsTask
        let device = try await mountsTask.trimmingCharacters(in: .whitespacesAndNewlines)
        if !spec.counters.isEmpty {
            // Native boots count through `rvbench-probe perf --exec`, remote guests through the probe on
            // QEMU's threads; a local hypervisor's guests through perf_event_open here (libpfm4 names).
            let installed = try await probe.installProbe()
            locked { remoteProbe = installed }
        }
        let record = HostFactsRecord(uri: uri, ssh: target.description, emulated: emulated, kind: kind, versions: versions,
                                     kernel: hostFacts.kernel, isa: hostFacts.cpu.isa,
                                     workloadDevice: device.isEmpty ? nil : device, labBuildID: buildID, emulator: emulator)
        let kvm = hostFacts.kvm.openable
        locked {
            self.facts = record
            self.workloadDevice = device.isEmpty ? nil : device
            self.kvmAvailable = kvm
        }

        var unavailable: [VariantUnavailable] = []
        // The lab's L2 kernel, when it is the lab's: its version decides whether AIA guests can boot.
        let labGuestKernel: String? = spec.host.isLab
            ? (try? LabManifest.load(from: LabPaths.fromEnvironment().manifest))?.guestKernel.sourceVersion : nil
        for variant in spec.variants {
            if variant.kind != .native, variant.aia != .none,
               let reason = AIAGate.reason(facts: hostFacts, guestKernelVersion: labGuestKernel, mode: variant.aia) {
                unavailable.append(.init(variant: variant.name, reason: reason))
                continue
            }
            switch variant.kind {
            case .native:
                if device.isEmpty {
                    unavailable.append(.init(variant: variant.name, reason:
                        "the workload root is not mounted at \(layout.workloadRoot) on the host; rebuild the lab (rvbench lab build)"))
                }
            case .virtio:
                if !kvm {
                    unavailable.append(.init(variant: variant.name, reason: "no usable /dev/kvm on the host: KVM guests cannot run"))
                } else if device.isEmpty {
                    unavailable.append(.init(variant: variant.name, reason:
                        "no workload disk on the host (nothing mounted at \(layout.workloadRoot)); rebuild the lab"))
                }
            case .passthrough:
                let reasons = PassthroughGate.reasons(facts: hostFacts, device: variant.device)
                if !reasons.isEmpty {
                    unavailable.append(.init(variant: variant.name, reason: reasons.joined(separator: "; ")))
                }
            case .vdpa:
                let reasons = VDPAGate.reasons(facts: hostFacts)
                if !reasons.isEmpty {
                    unavailable.append(.init(variant: variant.name, reason: reasons.joined(separator: "; ")))
                }
            }
        }
        return unavailable
    }

    // MARK: - boots

    public func runBoot(_ boot: ScheduledBoot, context: BootContext) async throws -> AsyncThrowingStream<BootEvent, any Error> {
        let (hv, target, probe, device, layout) = try locked { () throws -> (LibvirtHypervisor, Probe.SSHTarget, RemoteHostFacts, String?, HostLayout) in
            guard let hv = self.hypervisor, let target = self.sshTarget, let probe = self.probe else {
                throw RVBenchError(.internal, "runBoot before prepare")
            }
            return (hv, target, probe, workloadDevice, self.layout)
        }
        let logger = context.logger
        let names = Self.runnerWorkloads(boot)
        let iterations = boot.workloads.map(\.iterations).max() ?? 1
        let warmup = boot.workloads.map(\.warmup).max() ?? 0
        let seed = context.experiment.spec.seed &+ UInt64(boot.sequence)
        let workloadTimeout = Int(context.timeouts.workloadSeconds)
        let counters = boot.workloads.first?.counters ?? []
        let remoteProbe = locked { self.remoteProbe }
        let fault = faults.fault(variant: boot.variant.name, boot: boot.boot, attempt: context.attempt)
        if let fault { logger.notice("injecting a fault for a fault test", metadata: ["run.fault": "\(fault.rawValue)"]) }

        return AsyncThrowingStream { continuation in
            let translator = RunnerOutputTranslator(boot: boot, continuation: continuation)
            // Host counters of a boot that ended with its done line become samples (or unavailable entries).
            let yieldCounters = { (readings: CounterReadings) in
                for sample in self.counterSamples(readings, variant: boot.variant.name, directory: context.experiment.directory) {
                    continuation.yield(.sample(sample))
                }
            }
            let recording = Self.consoleRecording(name: context.domainName)
            let task = Task {
                defer { try? recording?.close() }
                do {
                    switch boot.variant.kind {
                    case .native:
                        var command = "exec "
                        if !counters.isEmpty, let remoteProbe {
                            // Counts the runner and every process it starts, from its first instruction.
                            command += "\(shellQuote(remoteProbe)) perf --exec --events "
                                + "\(shellQuote(counters.joined(separator: ","))) -- "
                        }
                        command += "\(shellQuote(layout.runner)) --root \(shellQuote(layout.workloadRoot))"
                            + " --workloads \(shellQuote(names.joined(separator: ",")))"
                            + " --iterations \(iterations) --warmup \(warmup) --seed \(seed) --timeout \(workloadTimeout)"
                            + (fault.map { " --fault \($0.rawValue)" } ?? "")
                        continuation.yield(.booted)
                        let r = try await Subprocess.run(target.sshArguments() + [command], outputLimit: 1 << 20,
                                                         onOutput: { isStderr, chunk in
                            if !isStderr {
                                recording?.write(chunk)
                                translator.feed(chunk)
                            }
                        })
                        translator.finish()
                        if !counters.isEmpty, translator.sawEnd {
                            do {
                                yieldCounters(try Self.probeExecReport(stderr: r.stderrString).readings)
                            } catch {
                                yieldCounters(Self.allUnavailable(counters, reason: "rvbench-probe perf --exec gave no report: \(error)"))
                            }
                        }
                        if translator.sawEnd, r.status == 0 || r.status == 2 {
                            // The runner exited by itself: nothing of this boot is left on the host.
                            self.locked { _ = self.cleanNativeBoots.insert(context.domainName) }
                        }
                        if !translator.sawEnd {
                            let tail = r.stderrString.split(separator: "\n").suffix(3).joined(separator: " | ")
                            continuation.yield(.failed(reason: "the runner on the host ended without a done line "
                                + "(ssh status \(r.status)): \(tail)", workload: nil, iteration: nil))
                        }
                    case .virtio, .vdpa, .passthrough:
                        guard let device else { throw RVBenchError(.notFound, "no workload device on the host") }
                        let spec = Self.domainSpec(boot: boot, name: context.domainName, layout: layout, device: device,
                                                   names: names, iterations: iterations, warmup: warmup, seed: seed,
                                                   workloadTimeout: workloadTimeout, fault: fault)
                        let xml = DomainXML.guest(spec)
                        self.locked { if self.domainXML[boot.variant.name] == nil { self.domainXML[boot.variant.name] = xml } }
                        try Self.saveDomainXML(xml, name: context.domainName, in: context.experiment.directory)
                        let domain = try await Task.detached { try hv.create(xml: xml, paused: true) }.value
                        logger.info("guest created", metadata: ["vm.name": "\(context.domainName)"])
                        let console = try domain.openConsole()
                        // Host counters on every thread of the guest's QEMU, from before it runs.
                        var counterSource: (any CounterSource)?
                        var counterProblem: String?
                        if !counters.isEmpty {
                            do {
                                let source = try await self.guestCounterSource(domain: domain, events: counters, target: target)
                                try await Task.detached { try source.start() }.value
                                counterSource = source
                            } catch {
                                counterProblem = "could not start counting on the guest's QEMU: \(error)"
                            }
                        }
                        try domain.resume()
                        for try await line in console.lines(maxLineBytes: GuestProtocol.maxLineBytes) {
                            recording?.write(Data(line.bytes) + (line.oversized ? Data() : Data([0x0A])))
                            translator.feedLine(line.bytes, oversized: line.oversized)
                            if translator.sawEnd { break }
                        }
                        console.close()
                        if !counters.isEmpty, translator.sawEnd {
                            if let counterSource {
                                do {
                                    yieldCounters(try await Task.detached { try counterSource.stop() }.value)
                                } catch {
                                    yieldCounters(Self.allUnavailable(counters, reason: "reading the counters failed: \(error)"))
                                }
                            } else {
                                yieldCounters(Self.allUnavailable(counters, reason: counterProblem ?? "not counted"))
                            }
                        }
                        // The runner lingers after its last line, so the VM's KVM statistics still exist.
                        if translator.sawEnd, let snapshot = try? await probe.kvmStatsSnapshot() {
                            for sample in Self.kvmSamples(snapshot) { continuation.yield(.sample(sample)) }
                        }
                        await Task.detached {
                            try? domain.destroy()
                            try? domain.undefine()
                        }.value
                        if !translator.sawEnd {
                            continuation.yield(.failed(reason: "the guest console closed before the runner's done line "
                                + "(the VM died or powered off early)", workload: nil, iteration: nil))
                        }
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

    public func cleanUpBoot(_ boot: ScheduledBoot, context: BootContext) async {
        let (hv, target) = locked { (hypervisor, sshTarget) }
        if boot.variant.kind == .native {
            // A runner whose SSH session was cut may still run on the host: end it.
            let clean = locked { cleanNativeBoots.remove(context.domainName) != nil }
            if !clean, let target {
                _ = try? await Subprocess.run(target.sshArguments() + ["pkill -KILL -x rvbench-runner || true"], timeout: 30)
            }
            return
        }
        guard let hv else { return }
        let name = context.domainName
        await Task.detached {
            if let dom = try? hv.lookup(name: name) {
                try? dom.destroy()
                try? dom.undefine()
            }
        }.value
    }

    public func finish(_ context: ExperimentContext) async {
        let (hv, lab, started) = locked { (hypervisor, self.lab, startedLab) }
        if let hv {
            let prefix = context.domainPrefix
            await Task.detached {
                for name in (try? hv.domainNames(includeInactive: true)) ?? [] where name.hasPrefix(prefix) {
                    if let dom = try? hv.lookup(name: name) { try? dom.destroy(); try? dom.undefine() }
                }
                hv.close()
            }.value
        }
        locked { hypervisor = nil }
        if started, let lab {
            do { _ = try await lab.down() } catch {
                logger.error("could not bring the lab down", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: - counters

    /// The file the executor keeps counters that could not be counted in, next to the journal, so that a
    /// resumed run and the reports see them.
    public static func unavailableFile(in directory: URL) -> URL {
        directory.appendingPathComponent("counters-unavailable.json")
    }

    /// Reads what `unavailableFile` holds (empty when there is none).
    public static func readUnavailable(in directory: URL) -> [UnavailableMetric] {
        guard let data = FileManager.default.contents(atPath: unavailableFile(in: directory).path) else { return [] }
        return (try? JSONDecoder().decode([UnavailableMetric].self, from: data)) ?? []
    }

    /// Samples of the counters that have values (label `boot`, metric `host.perf.EVENT`); the others are
    /// recorded as unavailable with their reason, never as 0.
    func counterSamples(_ readings: CounterReadings, variant: String, directory: URL) -> [BootSample] {
        var samples: [BootSample] = []
        var missing: [UnavailableMetric] = []
        for name in readings.names {
            let metric = "host.perf.\(name)"
            if let value = readings[name]?.scaledValue {
                samples.append(BootSample(workload: Self.bootLabel, iteration: 0, metric: metric, value: value, unit: "events"))
            } else {
                missing.append(UnavailableMetric(metric: metric, variant: variant,
                                                 reason: readings[name]?.unavailableReason ?? "not counted"))
            }
        }
        if !missing.isEmpty {
            func key(_ m: UnavailableMetric) -> String { "\(m.variant ?? "")/\(m.metric)" }
            let all: [UnavailableMetric] = locked {
                var merged = Dictionary(uniqueKeysWithValues: Self.readUnavailable(in: directory).map { (key($0), $0) })
                for m in missing { merged[key(m)] = m }
                return merged.values.sorted { ($0.metric, $0.variant ?? "") < ($1.metric, $1.variant ?? "") }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if let data = try? encoder.encode(all) {
                try? data.write(to: Self.unavailableFile(in: directory), options: .atomic)
            }
        }
        return samples
    }

    static func allUnavailable(_ events: [String], reason: String) -> CounterReadings {
        var out = CounterReadings()
        for e in events { out[e] = .unavailable(reason) }
        return out
    }

    /// The report line `rvbench-probe perf --exec` leaves on standard error.
    static func probeExecReport(stderr: String) throws -> ProbePerfReport {
        let prefix = "rvbench-probe-report "
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else {
            throw RVBenchError(.process, "no \"\(prefix.trimmingCharacters(in: .whitespaces))\" line")
        }
        return try ProbePerfReport.decode(Data(line.dropFirst(prefix.count).utf8))
    }

    /// Counts on the guest's QEMU process: with perf_event_open here when libvirt is the local
    /// `qemu:///system` (the domain then knows its QEMU's pid), else through the probe over SSH.
    func guestCounterSource(domain: any DomainHandle, events: [String], target: Probe.SSHTarget) async throws -> any CounterSource {
        if let pid = try domain.qemuPID() {
            return PerfCounterGroup(events: events, pid: pid, threads: true, logger: logger)
        }
        let probePath = locked { remoteProbe }
        let pidFile = "/run/libvirt/qemu/\(domain.name).pid"
        guard let probePath else { throw RVBenchError(.internal, "the probe is not installed on the host") }
        let text = try await remoteShell(target, "cat \(shellQuote(pidFile))", timeout: 60)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RVBenchError(.format, "\(pidFile) on the host holds no process id")
        }
        return RemoteProbeCounterSource(target: target, remoteProbe: probePath, pid: pid, events: events,
                                        threads: true, includeKVMStats: false)
    }

    // MARK: - helpers

    /// The runner's workload names for a boot, in the boot's order, each once.
    static func runnerWorkloads(_ boot: ScheduledBoot) -> [String] {
        var seen = Set<String>(), names: [String] = []
        for w in boot.workloads where seen.insert(w.workload.name).inserted { names.append(w.workload.name) }
        return names
    }

    static func domainSpec(boot: ScheduledBoot, name: String, layout: HostLayout, device: String, names: [String],
                           iterations: Int, warmup: Int, seed: UInt64, workloadTimeout: Int,
                           fault: FaultPlan.Kind? = nil) -> GuestDomainSpec {
        var cmdline = [
            "console=ttyS0", "panic=1", "quiet", "loglevel=3",
            "rvbench.workloads=\(names.joined(separator: ","))",
            "rvbench.iterations=\(iterations)", "rvbench.warmup=\(warmup)",
            "rvbench.seed=\(seed)", "rvbench.timeout=\(workloadTimeout)",
            "rvbench.device=/dev/vda", "rvbench.linger=60",
        ]
        if let fault { cmdline.append("rvbench.fault=\(fault.rawValue)") }
        let variant = boot.variant
        var spec = GuestDomainSpec(name: name, kernel: layout.guestKernel, initrd: layout.guestInitramfs,
                                   cmdline: cmdline.joined(separator: " "))
        spec.vcpus = variant.vcpus
        spec.memoryMiB = variant.memoryMiB
        spec.machine = variant.machine
        spec.aia = variant.aia == .none ? nil : variant.aia.rawValue
        spec.cpuMode = variant.cpu == "host-passthrough" ? .hostPassthrough : .named(variant.cpu)
        spec.disks = [DiskSpec(source: device, target: "vda", type: .block, readOnly: true)]
        return spec
    }

    /// The environment variable that names a directory for raw console output: when it is set, every
    /// boot attempt's console (a guest's serial lines, a native runner's standard output) is also
    /// written to `DIR/DOMAIN-NAME.log`. The KubeVirt lab test records real boots this way.
    public static let recordConsolesVariable = "RVBENCH_RECORD_CONSOLES"

    static func consoleRecording(name: String) -> FileHandle? {
        guard let dir = ProcessInfo.processInfo.environment[recordConsolesVariable], !dir.isEmpty else { return nil }
        let url = URL(fileURLWithPath: dir, isDirectory: true).appendingPathComponent("\(name).log")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { return nil }
        return try? FileHandle(forWritingTo: url)
    }

    static func saveDomainXML(_ xml: String, name: String, in directory: URL) throws {
        let dir = directory.appendingPathComponent("domains", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(xml.utf8).write(to: dir.appendingPathComponent("\(name).xml"), options: .atomic)
    }

    /// Host KVM exit statistics of one guest over its life, as samples of the boot label: the VM's own
    /// debugfs directory when it is the only VM, else the global counters, which only count VMs that
    /// still exist (one guest runs at a time during a run).
    static func kvmSamples(_ snapshot: KVMStatsSnapshot) -> [BootSample] {
        guard snapshot.available else { return [] }
        let stats = snapshot.vms.count == 1 ? snapshot.vms[0].stats : snapshot.global
        return stats.keys.sorted().map { key in
            BootSample(workload: bootLabel, iteration: 0, metric: "host.kvm.\(key)", value: Double(stats[key]!), unit: "events")
        }
    }

    private func remoteShell(_ target: Probe.SSHTarget, _ command: String, timeout: Double) async throws -> String {
        try await Subprocess.check(target.sshArguments() + [command], timeout: timeout)
    }
}

/// Turns the runner's output (console or SSH) into boot events, strictly and with bounded memory.
///
/// `@unchecked Sendable`: fed from one reader thread at a time; state guarded by `lock`.
public final class RunnerOutputTranslator: @unchecked Sendable {
    /// More rejected lines than this in one boot ends it: the guest is printing garbage.
    static let maxRejected = 200

    private let lock = NSLock()
    private var splitter = GuestLineSplitter()
    private var parser = GuestProtocolParser()
    private let boot: ScheduledBoot
    private let continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation
    private var booted = false
    private var current: String?
    /// True once the runner's done or error line arrived (or the guest printed too much garbage).
    public private(set) var sawEnd = false

    public init(boot: ScheduledBoot, continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation) {
        self.boot = boot
        self.continuation = continuation
    }

    /// How many protocol lines were rejected, by kind; nil when none were.
    public var rejectionSummary: String? {
        lock.lock(); defer { lock.unlock() }
        let c = parser.counts
        guard c.rejected > 0 else { return nil }
        return "malformed \(c.malformed), oversized \(c.oversized), unknown version \(c.unknownVersion)"
    }

    /// Feeds a chunk of a byte stream (SSH output).
    public func feed(_ chunk: Data) {
        lock.lock(); defer { lock.unlock() }
        for outcome in splitter.feed(chunk, into: &parser) { handle(outcome) }
    }

    /// Parses what is left after the stream ended without a final newline.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        if let outcome = splitter.finish(into: &parser) { handle(outcome) }
    }

    /// Feeds one line already split by the console stream; `oversized` marks a piece of a longer line.
    func feedLine(_ bytes: [UInt8], oversized: Bool) {
        lock.lock(); defer { lock.unlock() }
        let total = oversized ? GuestProtocol.maxLineBytes + 1 : bytes.count
        handle(parser.parse(head: bytes[...], totalLength: total))
    }

    private func handle(_ outcome: ParseOutcome) {
        if sawEnd { return }
        if !booted {
            booted = true
            continuation.yield(.booted)
        }
        switch outcome {
        case .rejected(let rejection):
            continuation.yield(.log("rejected guest line: \(rejection)"))
            if parser.counts.rejected > Self.maxRejected {
                sawEnd = true
                continuation.yield(.failed(reason: "the guest printed more than \(Self.maxRejected) malformed protocol lines",
                                           workload: current, iteration: nil))
            }
        case .line(.other):
            break
        case .line(.result(let r)):
            if current != r.workload {
                if let current { continuation.yield(.workloadFinished(current)) }
                current = r.workload
                continuation.yield(.workloadStarted(r.workload))
            }
            guard r.phase == .measure else { return }
            if !r.checksumOK {
                sawEnd = true
                continuation.yield(.failed(reason: "output check failed: \(r.verifyProblem ?? "checksum \(r.checksum) does not match")",
                                           workload: r.workload, iteration: r.iteration))
                return
            }
            for sample in Self.samples(of: r) { continuation.yield(.sample(sample)) }
        case .line(.done):
            if let current { continuation.yield(.workloadFinished(current)) }
            current = nil
            sawEnd = true
        case .line(.error(let e)):
            sawEnd = true
            continuation.yield(.failed(reason: "runner error: \(e.reason)", workload: e.workload ?? current, iteration: e.iteration))
        }
    }

    /// The samples of one measured result: times, the workload's own metrics, and guest counters.
    static func samples(of r: GuestResult) -> [BootSample] {
        var out = [
            BootSample(workload: r.workload, iteration: r.iteration, metric: "wall_ns", value: Double(r.wallNanoseconds), unit: "ns"),
            BootSample(workload: r.workload, iteration: r.iteration, metric: "user_ns", value: Double(r.userNanoseconds), unit: "ns"),
            BootSample(workload: r.workload, iteration: r.iteration, metric: "sys_ns", value: Double(r.systemNanoseconds), unit: "ns"),
        ]
        for (name, value) in r.metrics.sorted(by: { $0.key < $1.key }) where value.isFinite {
            out.append(BootSample(workload: r.workload, iteration: r.iteration, metric: name, value: value, unit: unit(of: name)))
        }
        for (name, value) in r.counters.sorted(by: { $0.key < $1.key }) {
            out.append(BootSample(workload: r.workload, iteration: r.iteration, metric: "guest.\(name)", value: Double(value), unit: "events"))
        }
        return out
    }

    static func unit(of metric: String) -> String {
        if metric == "fps" || metric.hasSuffix("_fps") { return "frames/s" }
        if metric.hasSuffix("_per_s") { return "1/s" }
        if metric.hasSuffix("_ms") { return "ms" }
        if metric.hasSuffix("_ns") || metric.hasPrefix("ns_per") { return "ns" }
        if metric.hasSuffix("_s") { return "s" }
        return ""
    }
}

/// Why a passthrough variant cannot run, from the host's facts (empty when it can).
enum PassthroughGate {
    static func reasons(facts: ProbeFacts, device: PCIDeviceSelector?) -> [String] {
        guard let device else { return ["no device named in the spec (variants[].device)"] }
        guard let selector = DeviceSelector(string: device.description) else {
            return ["device \(device) is not a PCI address or vendor:device#index"]
        }
        switch PassthroughPreflight.check(facts: facts, device: selector) {
        case .runnable: return []
        case .notRun(let reasons): return reasons
        }
    }
}

/// Why a guest variant with an AIA interrupt controller cannot run here, or nil.
enum AIAGate {
    static func reason(facts: ProbeFacts, guestKernelVersion: String?, mode: AIAMode) -> String? {
        if !facts.cpu.ssaia {
            return "aia: \(mode.rawValue) needs Ssaia on the host, and its ISA string has none "
                + "(on the lab: qemu: trixie, whose QEMU 10 gives L1 AIA)"
        }
        if let version = guestKernelVersion, let (major, minor) = majorMinor(version), (major, minor) < (6, 10) {
            return "aia: \(mode.rawValue) needs APLIC/IMSIC drivers in the guest kernel (Linux 6.10 or later), "
                + "and the lab's L2 kernel is Linux \(version): the guest would print nothing"
        }
        return nil
    }

    static func majorMinor(_ version: String) -> (Int, Int)? {
        let parts = version.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}

/// Why a vdpa variant cannot run (empty when it can).
enum VDPAGate {
    static func reasons(facts: ProbeFacts) -> [String] {
        facts.vdpa.vhostVDPADevices.isEmpty
            ? ["no vhost-vdpa device on the host (needs the vhost_vdpa module and a vDPA device such as vdpa_sim_blk; "
               + "Debian's riscv64 kernel has no VDPA_SIM_BLK, which the lab builds out of tree)"]
            : ["the host has \(facts.vdpa.vhostVDPADevices.joined(separator: ", ")), but `rvbench run` does not yet give a guest "
               + "a vhost-vdpa disk: Debian's QEMU serves <disk type='vhostvdpa'> only with qemu-block-extra (libblkio), "
               + "which the lab does not install, and the workloads read no data disk yet"]
    }
}
