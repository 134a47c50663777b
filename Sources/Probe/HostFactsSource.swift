// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Remote
import RVBenchCore

/// Where host facts and KVM statistics come from: this machine (`LocalHostFacts`) or a riscv64
/// host over SSH (`RemoteHostFacts`). Both run the same C probe, so both report the same way.
public protocol HostFactsSource: Sendable {
    /// Runs `rvbench-probe facts`.
    func facts() async throws -> ProbeFacts
    /// Runs `rvbench-probe kvm-stats`.
    func kvmStatsSnapshot() async throws -> KVMStatsSnapshot
    /// The host-wide KVM counters (exits, mmio_exit_user, ...).
    /// - Throws: `RVBenchError(.unsupported)` naming the fix when debugfs has no KVM statistics.
    func kvmStats() async throws -> [String: UInt64]
}

extension HostFactsSource {
    public func kvmStats() async throws -> [String: UInt64] {
        let snapshot = try await kvmStatsSnapshot()
        guard snapshot.available else {
            throw RVBenchError(.unsupported, "no KVM statistics: \(snapshot.error ?? "debugfs has no kvm directory"); "
                + "load KVM and mount debugfs as root (mount -t debugfs none /sys/kernel/debug)")
        }
        return snapshot.global
    }
}

/// The probe binaries built from `workloads/probe`.
public enum ProbeBinary {
    /// Which build of the probe.
    public enum Flavour: String, Sendable {
        /// Static riscv64 binary (`make -C workloads/probe`), copied to the KVM host.
        case riscv64
        /// This machine's architecture (`make -C workloads/probe native`), for the controller and tests.
        case native

        var makeTarget: String { self == .riscv64 ? "riscv64" : "native" }
        var relativePath: String { self == .riscv64 ? "build/rvbench-probe" : "build/native/rvbench-probe" }
        /// An environment variable that names a ready binary instead.
        public var environmentVariable: String { self == .riscv64 ? "RVBENCH_PROBE" : "RVBENCH_PROBE_NATIVE" }
    }

    /// workloads/probe in the checkout that holds `start` (or the current directory), if any.
    public static func sourceDirectory(from start: URL? = nil) -> URL? {
        var dir = (start ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        for _ in 0 ..< 12 {
            let candidate = dir.appendingPathComponent("workloads/probe")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Makefile").path) {
                return candidate
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return nil
    }

    private static let builds = BuildSerializer()

    /// The probe binary: the file named by `$RVBENCH_PROBE` / `$RVBENCH_PROBE_NATIVE` if set, else
    /// built (or brought up to date) with make in the checkout's workloads/probe.
    /// - Throws: `RVBenchError(.notFound)` naming the fix when there is neither.
    public static func ensure(_ flavour: Flavour, sourceDirectory: URL? = nil) async throws -> URL {
        if let path = ProcessInfo.processInfo.environment[flavour.environmentVariable], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw RVBenchError(.notFound, "$\(flavour.environmentVariable) names \(path), which is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        guard let dir = sourceDirectory ?? Self.sourceDirectory() else {
            throw RVBenchError(.notFound, "no rvbench-probe (\(flavour.rawValue)): run rvbench from its checkout, "
                + "or build it with make -C workloads/probe \(flavour.makeTarget) and set $\(flavour.environmentVariable)")
        }
        let binary = dir.appendingPathComponent(flavour.relativePath)
        try await builds.run {
            let r = try await Subprocess.run(["make", "-s", "-C", dir.path, flavour.makeTarget], timeout: 300)
            guard r.status == 0, !r.timedOut else {
                let tail = r.stderrString.split(separator: "\n").suffix(8).joined(separator: "\n")
                let hint = flavour == .riscv64 ? "install gcc-riscv64-linux-gnu" : "install a C compiler (build-essential)"
                throw RVBenchError(.process, "building rvbench-probe (\(flavour.rawValue)) failed; \(hint)\n\(tail)")
            }
        }
        return binary
    }
}

/// Runs one build at a time in this process, so parallel callers never write the same file.
/// (An actor alone would not do: it lets a second call in while the first awaits make.)
private actor BuildSerializer {
    private var tail: Task<Void, any Error>?

    func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let previous = tail
        let task = Task {
            _ = try? await previous?.value
            try await body()
        }
        tail = task
        try await task.value
    }
}

/// Facts about this machine (the controller, or a local hypervisor), from the natively built probe.
public struct LocalHostFacts: HostFactsSource {
    /// The probe binary; nil to build or find it with `ProbeBinary.ensure(.native)`.
    public var probePath: URL?
    /// Read a recorded tree instead of the live system (`--root`).
    public var root: String?
    /// Let the probe mount debugfs when it is missing (it never does under a root). Off by default:
    /// asking the controller for facts should not change it.
    public var mountDebugfs: Bool
    public var timeout: Double

    public init(probePath: URL? = nil, root: String? = nil, mountDebugfs: Bool = false, timeout: Double = 60) {
        self.probePath = probePath; self.root = root; self.mountDebugfs = mountDebugfs; self.timeout = timeout
    }

    func run(_ command: String) async throws -> Data {
        let probe: URL
        if let probePath { probe = probePath } else { probe = try await ProbeBinary.ensure(.native) }
        var argv = [probe.path]
        if let root { argv += ["--root", root] }
        if !mountDebugfs { argv.append("--no-mount") }
        argv.append(command)
        let r = try await Subprocess.run(argv, timeout: timeout, outputLimit: 8 << 20)
        if r.timedOut { throw RVBenchError(.process, "rvbench-probe \(command) did not finish within \(Int(timeout)) s") }
        if r.status != 0 && r.stdout.isEmpty {
            throw RVBenchError(.process, "rvbench-probe \(command) exited with status \(r.status): \(r.stderrString)")
        }
        return r.stdout
    }

    public func facts() async throws -> ProbeFacts {
        try ProbeFacts.decode(try await run("facts"))
    }

    public func kvmStatsSnapshot() async throws -> KVMStatsSnapshot {
        try KVMStatsSnapshot.decode(try await run("kvm-stats"))
    }
}

/// Facts about a riscv64 host reached over SSH: the riscv64 probe is copied there once (to
/// `/tmp/rvbench-probe-<hash>`, so a changed probe gets a new name) and run.
public actor RemoteHostFacts: HostFactsSource {
    public nonisolated let sshTarget: SSHTarget
    /// The riscv64 probe on this machine; nil to build it with `ProbeBinary.ensure(.riscv64)`.
    public nonisolated let probePath: URL?
    /// Where the probe is put on the host.
    public nonisolated let remoteDirectory: String
    public nonisolated let timeout: Double
    /// Runs a shell command on the host instead of ssh (tests use a local shell).
    private let transport: [String]?
    private var installed: String?

    public init(sshTarget: SSHTarget, probePath: URL? = nil, remoteDirectory: String = "/tmp", timeout: Double = 120) {
        self.sshTarget = sshTarget; self.probePath = probePath; self.remoteDirectory = remoteDirectory
        self.timeout = timeout; self.transport = nil
    }

    init(sshTarget: SSHTarget, probePath: URL?, remoteDirectory: String, timeout: Double, transport: [String]) {
        self.sshTarget = sshTarget; self.probePath = probePath; self.remoteDirectory = remoteDirectory
        self.timeout = timeout; self.transport = transport
    }

    private func remote(_ command: String, input: Data? = nil) async throws -> ProcessResult {
        guard let transport else { return try await ssh(sshTarget, command, input: input, timeout: timeout) }
        let r = try await Subprocess.run(transport + [command], input: input, timeout: timeout)
        if r.timedOut { throw RVBenchError(.process, "\(command) did not finish within \(Int(timeout)) s") }
        return r
    }

    /// Where the probe's copy lives on the host (named by its content hash), without contacting the host.
    func expectedRemotePath() async throws -> String {
        let local: URL
        if let probePath { local = probePath } else { local = try await ProbeBinary.ensure(.riscv64) }
        return "\(remoteDirectory)/rvbench-probe-\(try SHA256.hex(ofFile: local).prefix(16))"
    }

    /// Copies the probe to the host unless a copy with the same content hash is there already;
    /// returns its path on the host.
    public func installProbe() async throws -> String {
        if let installed { return installed }
        let local: URL
        if let probePath { local = probePath } else { local = try await ProbeBinary.ensure(.riscv64) }
        let hash = try SHA256.hex(ofFile: local)
        let remote = "\(remoteDirectory)/rvbench-probe-\(hash.prefix(16))"
        let present = try await self.remote("test -x \(shellQuote(remote)) && echo present")
        if !present.stdoutString.contains("present") {
            let bytes: Data
            do { bytes = try Data(contentsOf: local) } catch {
                throw RVBenchError(.notFound, "cannot read the probe \(local.path); rebuild it with make -C workloads/probe",
                                   cause: error)
            }
            let tmp = shellQuote("\(remote).tmp") + ".$$"
            let copy = try await self.remote("cat > \(tmp) && chmod 755 \(tmp) && mv -f \(tmp) \(shellQuote(remote))",
                                             input: bytes)
            guard copy.status == 0 else {
                throw RVBenchError(.process, "copying rvbench-probe to \(sshTarget):\(remote) failed "
                    + "(status \(copy.status)): \(copy.stderrString.trimmingCharacters(in: .whitespacesAndNewlines)); "
                    + "check that /tmp on the host is writable")
            }
        }
        installed = remote
        return remote
    }

    func run(_ arguments: String) async throws -> Data {
        var r: ProcessResult
        if installed == nil, let expected = try? await expectedRemotePath() {
            // One round trip when the probe is already there: run it if present, else say so (status 97).
            r = try await self.remote("test -x \(shellQuote(expected)) || exit 97; exec \(shellQuote(expected)) \(arguments)")
            if r.status == 97 && r.stdout.isEmpty {
                let remote = try await installProbe()
                r = try await self.remote("\(shellQuote(remote)) \(arguments)")
            } else {
                installed = expected
            }
        } else {
            let remote = try await installProbe()
            r = try await self.remote("\(shellQuote(remote)) \(arguments)")
        }
        if r.status != 0 && r.stdout.isEmpty {
            throw RVBenchError(.process, "rvbench-probe \(arguments) on \(sshTarget) exited with status \(r.status): "
                + r.stderrString.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return r.stdout
    }

    public func facts() async throws -> ProbeFacts {
        try ProbeFacts.decode(try await run("facts"))
    }

    public func kvmStatsSnapshot() async throws -> KVMStatsSnapshot {
        try KVMStatsSnapshot.decode(try await run("kvm-stats"))
    }
}
