// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Logging
import Remote
import RVBenchCore

/// The emulated riscv64 KVM host: L0 (QEMU TCG as a domain of the controller's libvirt)
/// running L1 (Debian 13 riscv64 with KVM, libvirtd and an SSH server).
public struct Lab: Sendable {
    public var paths: LabPaths
    /// The controller's libvirt that runs L0.
    public var localURI: String
    /// The L0 domain's name.
    public var domainName: String
    /// How long L1 may take from L0's start to its readiness line.
    public var bootTimeout: Double
    /// How long L1's libvirtd may take to answer after that.
    public var libvirtTimeout: Double
    public var logger: Logger
    public var progress: @Sendable (String) -> Void

    public init(paths: LabPaths, localURI: String = "qemu:///system", domainName: String = "rvbench-lab",
                bootTimeout: Double = 300, libvirtTimeout: Double = 240, logger: Logger,
                progress: @escaping @Sendable (String) -> Void = { _ in }) {
        var paths = paths
        paths.instance = domainName
        self.paths = paths
        self.localURI = localURI
        self.domainName = domainName
        self.bootTimeout = bootTimeout
        self.libvirtTimeout = libvirtTimeout
        self.logger = logger
        self.progress = progress
    }

    /// The console line L1's `/init` prints once every service runs.
    public static let readyMarker = "rvbench-lab: ready"

    /// What `up()` did.
    public struct UpResult: Sendable {
        public var state: LabState
        /// True when a running lab was found and kept.
        public var reused: Bool
        /// From L0's creation to L1's readiness line (nil when reused).
        public var bootSeconds: Double?
        /// From L0's creation until L1's libvirtd answered (nil when reused).
        public var libvirtReadySeconds: Double?
        public var versions: HypervisorVersions?
    }

    // MARK: - up

    /// Starts L0 from the last `lab build` and returns once L1's libvirtd answers. Idempotent:
    /// a running, answering lab is kept; a stale state file or a leftover domain is cleaned up.
    ///
    /// - Parameters:
    ///   - deterministic: run L0 with `-icount shift=0,sleep=off`, so that guest time is a function of
    ///     the instructions executed. A running lab in the other mode is an error, not restarted.
    ///   - owner: the run that starts the lab (recorded so that its `resume` can take the lab over).
    public func up(qemu: QEMUFlavour = .debian12, deterministic: Bool = false, owner: LabOwner? = nil) async throws -> UpResult {
        if deterministic && qemu == .debian12 {
            // Tried on Debian 12's QEMU 7.2: with -icount (shift=0 or auto, sleep on or off, 1 or 2 harts,
            // with or without Sstc) OpenSBI starts but L1's Debian 6.12 kernel never prints a line and the
            // machine resets in a loop; the minimal L2 kernel does boot. QEMU 10 is needed.
            throw RVBenchError(.unsupported, "deterministic mode needs QEMU 10 as L0: Debian 12's QEMU 7.2 with -icount "
                + "does not boot the lab's L1 kernel (OpenSBI starts, then the machine resets without a kernel line); "
                + "run the lab with QEMU 10 (`rvbench lab up --qemu trixie --deterministic`, or `qemu: trixie` in the spec)")
        }
        try ControllerPrograms.require([.labUp], command: "lab up")
        let manifest = try LabManifest.load(from: paths.manifest)
        for (name, artifact) in manifest.artifacts where !FileManager.default.fileExists(atPath: artifact.path) {
            throw RVBenchError(.notFound, "lab artifact \(name) is missing at \(artifact.path); run `rvbench lab build`")
        }
        let store = LabStateStore(url: paths.stateFile)
        var recorded = store.load()
        if let s = recorded.state, s.isProcess {
            // A QEMU 10 lab: no libvirt domain to look at, only its process.
            if s.processAlive, let versions = try? await Self.remoteVersions(uri: s.libvirtURI, logger: logger, timeout: 20) {
                try Self.checkMode(of: s, qemu: qemu, deterministic: deterministic)
                return UpResult(state: s, reused: true, bootSeconds: nil, libvirtReadySeconds: nil, versions: versions)
            }
            progress("cleaning up a stale QEMU 10 lab")
            await ProcessL0.stopProcess(s)
            try? FileManager.default.removeItem(at: paths.runDirectory)
            recorded = .none
        }

        let local = try openLocal(localURI)
        defer { local.close() }
        let name = recorded.state?.domain ?? domainName
        let existing = try local.lookup(name: name)
        let active: Bool? = try existing.map { d in
            let s = try d.state()
            return s == .running || s == .paused || s == .blocked
        }
        var answers = false
        var versions: HypervisorVersions?
        if let s = recorded.state, active == true {
            versions = try? await Self.remoteVersions(uri: s.libvirtURI, logger: logger, timeout: 20)
            answers = versions != nil
        }
        switch LabReconciliation.decide(recorded: recorded, domainActive: active, answers: answers) {
        case .reuse(let s):
            try Self.checkMode(of: s, qemu: qemu, deterministic: deterministic)
            if s.buildID != manifest.id {
                progress("note: the running lab was booted from build \(s.buildID); the current build is \(manifest.id) (run `rvbench lab down` and `rvbench lab up` to switch)")
            }
            return UpResult(state: s, reused: true, bootSeconds: nil, libvirtReadySeconds: nil, versions: versions)
        case .start(let destroyLeftover, let dropState):
            if destroyLeftover, let existing {
                progress("destroying the leftover domain \(existing.name)")
                try? existing.destroy()
                try? existing.undefine()
            }
            if dropState {
                progress("dropping a stale lab state file")
            }
            try? FileManager.default.removeItem(at: paths.runDirectory)
        }

        return try await bootL0(qemu: qemu, manifest: manifest, deterministic: deterministic, owner: owner, local: local)
    }

    /// Starts L0 with the backend for `qemu`, waits for L1's readiness line and its libvirtd, and records
    /// the lab's state. On any error L0 is stopped and the run directory removed.
    func bootL0(qemu: QEMUFlavour, manifest: LabManifest, deterministic: Bool, owner: LabOwner?,
                local: LibvirtHypervisor) async throws -> UpResult {
        let backend: any L0Backend
        switch qemu {
        case .debian12:
            backend = LibvirtL0(local: local, xmlFile: paths.domainXMLFile, logger: logger, progress: progress)
        case .trixie:
            let binary = try await LabBuilder(paths: paths, source: URL(fileURLWithPath: "/"), workloadsOut: nil,
                                              logger: logger, progress: progress).buildTrixieQEMU()
            backend = ProcessL0(qemu: binary, runDirectory: paths.runDirectory, consoleLog: paths.consoleLog,
                                progress: progress)
        }
        try FileManager.default.createDirectory(at: paths.runDirectory, withIntermediateDirectories: true)
        let ports = try Self.freeLoopbackPorts(2)
        let base = manifest.artifacts["l1-initramfs"]!
        let seeded = try await seededInitramfs(base)
        if seeded != nil { progress("using the QEMU capabilities libvirt recorded on an earlier boot") }
        let spec = try l0Spec(qemu: qemu, manifest: manifest, initrd: seeded?.path ?? base.path, ports: ports,
                              deterministic: deterministic)

        let t0 = Date()
        // Whole seconds: the state file stores ISO 8601 without fractions.
        let startedAt = Date(timeIntervalSince1970: t0.timeIntervalSince1970.rounded(.down))
        let store = LabStateStore(url: paths.stateFile)
        var state = LabState(domain: domainName, localURI: localURI, libvirtPort: ports[0], sshPort: ports[1],
                             startedAt: startedAt, buildID: manifest.id, qemu: qemu.labName,
                             deterministic: deterministic, owner: owner)
        var running = false
        do {
            state = try await backend.boot(spec, state: state, marker: Self.readyMarker, timeout: bootTimeout) { s in
                running = true
                try store.save(s)
            }
            let boot = Date().timeIntervalSince(t0)
            progress(String(format: "L1 ready after %.1f s; waiting for its libvirtd", boot))
            guard let v = try await Self.remoteVersions(uri: state.libvirtURI, logger: logger, timeout: libvirtTimeout) else {
                throw RVBenchError(.guest, "L1's libvirtd did not answer at \(state.libvirtURI) within \(Int(libvirtTimeout)) s; "
                    + "see \(paths.consoleLog.path)")
            }
            let ready = Date().timeIntervalSince(t0)
            if seeded == nil {
                do {
                    try await captureCapabilities(state, base: base)
                } catch {
                    logger.warning("could not keep L1's QEMU capabilities for the next boot", metadata: ["error": "\(error)"])
                }
            }
            return UpResult(state: state, reused: false, bootSeconds: boot, libvirtReadySeconds: ready, versions: v)
        } catch {
            if running { try? await backend.stop(state) }
            let log = (try? String(contentsOf: paths.consoleLog, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(15).joined(separator: "\n")
            try? FileManager.default.removeItem(at: paths.runDirectory)
            throw RVBenchError(.guest, "lab up failed: \(error)\nlast L1 console lines:\n\(tail)")
        }
    }

    /// L0's machine for `qemu`: L1's kernel, initramfs and workload disk from the build, the forwarded
    /// ports, and for QEMU 10 the deterministic mode's one hart and the own L1 kernel's devices.
    func l0Spec(qemu: QEMUFlavour, manifest: LabManifest, initrd: String, ports: [Int], deterministic: Bool) throws -> LabDomainSpec {
        var spec = LabDomainSpec(
            name: domainName, kernel: manifest.artifacts["l1-kernel"]!.path, initrd: initrd,
            workloadDisk: manifest.artifacts["workload-disk"]?.path, dataDisk: manifest.artifacts["data-disk"]?.path,
            libvirtPort: ports[0], sshPort: ports[1], consoleLog: paths.consoleLog.path, icount: deterministic)
        guard qemu == .trixie else { return spec }
        if deterministic {
            // One hart: with -icount every hart advances the same virtual clock, so a second hart's
            // background work would show up in the timings of the first.
            spec.vcpus = 1
        }
        if manifest.l1KernelChoice == .own {
            // The own L1 kernel has the RISC-V IOMMU driver: add the IOMMU, the NVMe controller to assign and
            // the virtio-blk device for vp_vdpa, each backed by a fresh file in the run directory. The NVMe carries
            // the data disk (a copy of its image, serial `DataDisk.serial`): `native` reads it with L1's nvme driver,
            // `virtio` through a virtio-blk disk backed by it, `passthrough` through VFIO. L0's virtio-blk data disk
            // is then left out, so that one device in L1 has the serial and the pattern. The vp_vdpa device gets
            // its own copy of the data disk (vdpa_source: pci reads it through vhost-vdpa), under its own serial.
            spec.iommu = true
            let nvme = paths.runDirectory.appendingPathComponent(LabDevices.nvme.imageName)
            let vdpa = paths.runDirectory.appendingPathComponent(LabDevices.vdpaBlock.imageName)
            if let data = spec.dataDisk {
                try LabDevices.copyDataDisk(from: data, to: nvme)
                try LabDevices.copyDataDisk(from: data, to: vdpa)
                spec.dataDisk = nil
            } else {
                try LabDevices.createImage(at: nvme)
                try LabDevices.createImage(at: vdpa)
            }
            spec.nvmeImage = nvme.path
            spec.vdpaBlockImage = vdpa.path
        }
        return spec
    }

    /// A running lab must be in the mode asked for; switching means `lab down` first.
    static func checkMode(of s: LabState, qemu: QEMUFlavour, deterministic: Bool) throws {
        if s.qemu != qemu.labName {
            throw RVBenchError(.unsupported, "the running lab uses L0 QEMU \"\(s.qemu)\", not \"\(qemu.labName)\"; "
                + "run `rvbench lab down` first")
        }
        if s.deterministic != deterministic {
            throw RVBenchError(.unsupported, s.deterministic
                ? "the running lab is in deterministic mode (-icount); run `rvbench lab down` first, or ask for deterministic mode"
                : "the running lab is not in deterministic mode; run `rvbench lab down` first, then start it with -icount "
                    + "(`rvbench lab up --qemu trixie --deterministic`, or `deterministic: true` in the spec)")
        }
    }

    /// Records `owner` as the lab's owner (a resumed run taking over a lab its killed first session started).
    public func adopt(_ state: LabState, owner: LabOwner) throws {
        var state = state
        state.owner = owner
        try LabStateStore(url: paths.stateFile).save(state)
    }

    // MARK: - Capabilities cache

    /// Where the QEMU capabilities libvirt probed in L1 are kept, per L1 initramfs.
    func capabilitiesDirectory(_ base: Artifact) -> URL {
        paths.lab.appendingPathComponent("l1-capabilities", isDirectory: true)
            .appendingPathComponent(String(base.sha256.prefix(16)), isDirectory: true)
    }

    /// The L1 initramfs plus a third archive with libvirt's capabilities cache, if one was
    /// captured for this initramfs; built once and kept next to the captured files.
    func seededInitramfs(_ base: Artifact) async throws -> URL? {
        let dir = capabilitiesDirectory(base)
        let caps = dir.appendingPathComponent("capabilities.cpio")
        let seeded = dir.appendingPathComponent("initramfs.cpio")
        let fm = FileManager.default
        guard fm.fileExists(atPath: caps.path) else { return nil }
        if !fm.fileExists(atPath: seeded.path) {
            let partial = dir.appendingPathComponent("initramfs.cpio.partial")
            try await Subprocess.check(["sh", "-c", "cat \"$1\" \"$2\" > \"$3\"", "sh", base.path, caps.path, partial.path],
                                       timeout: 600)
            try fm.moveItem(at: partial, to: seeded)
        }
        return seeded
    }

    /// Copies `/var/cache/libvirt/qemu/capabilities/*.xml` out of L1 into a small cpio archive.
    func captureCapabilities(_ state: LabState, base: Artifact) async throws {
        let remote = "/var/cache/libvirt/qemu/capabilities"
        let names = try await ssh(state, "cd \(remote) && ls *.xml", timeout: 60)
            .split(separator: "\n").map(String.init).filter { $0.hasSuffix(".xml") && !$0.contains("/") }
        guard !names.isEmpty else { return }
        let dir = capabilitiesDirectory(base)
        let tree = dir.appendingPathComponent("tree")
        let target = tree.appendingPathComponent(String(remote.dropFirst()))
        try? FileManager.default.removeItem(at: tree)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for name in names {
            let xml = try await ssh(state, "cat \(remote)/\(name)", timeout: 60)
            let file = target.appendingPathComponent(name)
            try Data(xml.utf8).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        }
        let partial = dir.appendingPathComponent("capabilities.cpio.partial")
        try await LabBuilder.packCPIO(tree, to: partial)
        try FileManager.default.removeItem(at: tree)
        try FileManager.default.moveItem(at: partial, to: dir.appendingPathComponent("capabilities.cpio"))
        progress("kept L1's QEMU capabilities for the next boot (\(names.count) file)")
    }

    // MARK: - down

    /// What `down()` found and removed.
    public struct DownResult: Sendable, Equatable {
        public var destroyed: [String]
        public var removedState: Bool
    }

    /// Destroys and undefines L0 and removes the run directory. Idempotent.
    public func down() async throws -> DownResult {
        let store = LabStateStore(url: paths.stateFile)
        let recorded = store.load()
        var names = [domainName]
        if let s = recorded.state, s.domain != domainName { names.append(s.domain) }
        var destroyed: [String] = []
        if let s = recorded.state, s.isProcess, let pid = s.pid {
            if s.processAlive { destroyed.append("\(s.domain) (QEMU 10 process \(pid))") }
            try await ProcessL0.stop(s)
        }
        let local = try openLocal(recorded.state?.localURI ?? localURI)
        defer { local.close() }
        for name in names {
            guard let d = try local.lookup(name: name) else { continue }
            try d.destroy()
            try d.undefine()
            destroyed.append(name)
        }
        for name in names where try local.lookup(name: name) != nil {
            throw RVBenchError(.library, "domain \(name) is still defined after destroy and undefine; check `virsh -c \(localURI) list --all`")
        }
        let hadRun = FileManager.default.fileExists(atPath: paths.runDirectory.path)
        try? FileManager.default.removeItem(at: paths.runDirectory)
        return DownResult(destroyed: destroyed, removedState: hadRun)
    }

    // MARK: - status

    public struct Status: Sendable, Codable {
        public var running: Bool
        public var domainState: String?
        public var state: LabState?
        public var uptimeSeconds: Double?
        public var buildID: String?
        public var l0: HypervisorVersions?
        public var l1: HypervisorVersions?
        public var l1Kernel: String?
        public var l1Uptime: String?
        public var notes: [String]
    }

    /// What runs, with versions and uptime. Never starts or stops anything.
    public func status() async throws -> Status {
        let recorded = LabStateStore(url: paths.stateFile).load()
        var notes: [String] = []
        if case .unreadable(let why) = recorded { notes.append("the lab state file is unreadable (\(why))") }
        let manifest = try? LabManifest.load(from: paths.manifest)
        if manifest == nil { notes.append("no lab build yet; run `rvbench lab build`") }
        let local = try openLocal(recorded.state?.localURI ?? localURI)
        defer { local.close() }
        let l0 = try? local.versions()
        let name = recorded.state?.domain ?? domainName
        let domainState = try local.lookup(name: name).map { try $0.state() }
        let processRunning = recorded.state.map { $0.isProcess && $0.processAlive } ?? false
        var status = Status(running: domainState == .running || processRunning,
                            domainState: processRunning ? "QEMU 10 process \(recorded.state?.pid ?? 0)" : domainState?.rawValue,
                            state: recorded.state, uptimeSeconds: nil, buildID: manifest?.id, l0: l0, l1: nil,
                            l1Kernel: nil, l1Uptime: nil, notes: notes)
        if let s = recorded.state, domainState == .running || processRunning {
            status.uptimeSeconds = Date().timeIntervalSince(s.startedAt)
            if let v = s.qemuVersion, s.isProcess { status.notes.append("L0: \(v), run as a process (not a libvirt domain)") }
            status.l1 = try? await Self.remoteVersions(uri: s.libvirtURI, logger: logger, timeout: 20)
            if status.l1 == nil { status.notes.append("L1's libvirtd does not answer at \(s.libvirtURI)") }
            if let out = try? await ssh(s, "uname -r; cut -d' ' -f1 /proc/uptime", timeout: 30) {
                let lines = out.split(separator: "\n").map(String.init)
                status.l1Kernel = lines.first
                status.l1Uptime = lines.dropFirst().first
            } else {
                status.notes.append("L1's SSH server does not answer on port \(s.sshPort)")
            }
            if s.deterministic { status.notes.append("deterministic mode: L0 runs with -icount shift=0,sleep=off") }
            if let owner = s.owner {
                status.notes.append(owner.isAlive
                    ? "started by the run in \(owner.directory) (pid \(owner.pid)), which stops it when it ends"
                    : "started by the run in \(owner.directory), whose process \(owner.pid) is gone: "
                        + "`rvbench resume \(owner.directory)` takes it over, or `rvbench lab down` stops it")
            }
            if let m = manifest, m.id != s.buildID {
                status.notes.append("the running lab is from build \(s.buildID), the current build is \(m.id)")
            }
        } else if recorded.state != nil {
            status.notes.append("a state file exists but \(name) is not running; `rvbench lab up` will replace it")
        } else if domainState != nil {
            status.notes.append("domain \(name) exists without a state file; `rvbench lab down` removes it")
        }
        return status
    }

    // MARK: - SSH

    /// Where L1 is reached over SSH: root on the forwarded loopback port, with the lab's key. L1's host key
    /// changes with every build, so no key is checked (loopback only).
    public func sshTarget(_ state: LabState) -> SSHTarget {
        SSHTarget(user: "root", host: "127.0.0.1", port: state.sshPort, identityFile: paths.sshKey.path,
                  knownHostsFile: "/dev/null")
    }

    /// The `ssh` command line that reaches L1 as root with the lab's key.
    public func sshArguments(_ state: LabState) -> [String] {
        sshTarget(state).sshArguments(connectTimeout: 20)
    }

    /// Runs a shell command in L1 over SSH and returns its standard output.
    @discardableResult
    public func ssh(_ state: LabState, _ command: String, timeout: Double = 120) async throws -> String {
        try await sshTarget(state).shell(command, timeout: timeout, connectTimeout: 20)
    }

    // MARK: - Helpers

    /// The controller's libvirt, with a hint when its daemon is not running.
    func openLocal(_ uri: String) throws -> LibvirtHypervisor {
        do {
            return try LibvirtHypervisor(uri: uri, logger: logger)
        } catch {
            throw RVBenchError(.unsupported, "cannot reach the controller's libvirt at \(uri); start virtlogd and libvirtd (scripts/services.sh start) and run as root", cause: error)
        }
    }

    /// Versions behind `uri`, retried until `timeout`; nil if it never answered.
    static func remoteVersions(uri: String, logger: Logger, timeout: Double) async throws -> HypervisorVersions? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            try Task.checkCancellation()
            let result: HypervisorVersions? = await Task.detached {
                guard let hv = try? LibvirtHypervisor(uri: uri, logger: logger) else { return nil }
                defer { hv.close() }
                return try? hv.versions()
            }.value
            if let result { return result }
            if Date() >= deadline { return nil }
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }

    /// Reads console lines until one contains `marker`; throws on timeout or when the
    /// console ends first (L1 powered off or crashed).
    static func waitForLine(_ lines: AsyncThrowingStream<LineSplitter.Line, Error>, marker: String, timeout: Double,
                            tail: ConsoleTail, logger: Logger, progress: @escaping @Sendable (String) -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for try await line in lines {
                    let text = line.text
                    tail.append(text)
                    logger.trace("L1 console", metadata: ["line": "\(text)"])
                    if text.hasPrefix("rvbench-lab:") { progress("  \(text)") }
                    if text.contains(marker) { return true }
                }
                return false
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            if !first {
                throw RVBenchError(.guest, "L1 did not print '\(marker)' within \(Int(timeout)) s, or its console closed first")
            }
        }
    }

    /// `count` distinct free TCP ports on 127.0.0.1 (bound, read back, released).
    public static func freeLoopbackPorts(_ count: Int) throws -> [Int] {
        var fds: [Int32] = []
        defer { fds.forEach { _ = close($0) } }
        var ports: [Int] = []
        for _ in 0 ..< count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RVBenchError(.library, "socket() failed: \(String(cString: strerror(errno)))") }
            fds.append(fd)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = 0
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sp in
                    bind(fd, sp, len) == 0 && getsockname(fd, sp, &len) == 0
                }
            }
            guard ok else { throw RVBenchError(.library, "cannot bind a loopback port: \(String(cString: strerror(errno)))") }
            ports.append(Int(UInt16(bigEndian: addr.sin_port)))
        }
        return ports
    }
}

/// The last console lines, for error messages. `@unchecked Sendable`: guarded by `lock`.
final class ConsoleTail: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        lines.append(line)
        if lines.count > 40 { lines.removeFirst(lines.count - 40) }
    }

    var text: String {
        lock.lock(); defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }
}
