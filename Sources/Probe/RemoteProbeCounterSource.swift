// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Remote
import RVBenchCore

/// What `rvbench-probe perf` prints: each event summed over the threads of a process.
public struct ProbePerfReport: Codable, Sendable, Equatable {
    /// The probe output format (`ProbeFacts.schemaVersion`).
    public private(set) var schema = ProbeFacts.schemaVersion
    public var pid: Int32
    public var allThreads: Bool
    /// Threads seen, including those that appeared while counting.
    public var threads: Int
    /// Threads that appeared while counting; they were counted from when they were seen.
    public var threadsLate: Int
    /// True when the probe hit its bound on threads or descriptors.
    public var truncated: Bool
    public var seconds: Double
    public var events: [Event]

    public struct Event: Codable, Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var value: UInt64?
        public var timeEnabled: UInt64?
        public var timeRunning: UInt64?
        /// Σ value × enabled / running over the threads (perf's multiplexing estimate).
        public var scaled: Double?
        public var threads: Int?
        public var failedThreads: Int?
        public var userOnly: Bool?
        public var errno: Int?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case name, ok, value
            case timeEnabled = "time_enabled"
            case timeRunning = "time_running"
            case scaled, threads
            case failedThreads = "failed_threads"
            case userOnly = "user_only"
            case errno, error
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, pid
        case allThreads = "all_threads"
        case threads
        case threadsLate = "threads_late"
        case truncated, seconds, events
    }

    public static func decode(_ data: Data) throws -> ProbePerfReport {
        try ProbeJSON.decode(ProbePerfReport.self, from: data, what: "perf")
    }

    /// One reading per event; events that did not open are unavailable with the host's errno text.
    public var readings: CounterReadings {
        var out = CounterReadings()
        for e in events {
            if e.ok, let v = e.value, let en = e.timeEnabled, let run = e.timeRunning {
                out[e.name] = .value(v, enabled: en, running: run)
            } else {
                let why = e.error ?? "not counted"
                out[e.name] = .unavailable("perf_event_open on the host: \(why)" + (e.errno.map { " (errno \($0))" } ?? ""))
            }
        }
        return out
    }
}

/// KVM statistics between two snapshots, as readings: "kvm.vm.<name>" from the VM directories of
/// `pid`, and "kvm.host.<name>" from the host-wide counters. `nanoseconds` is stored as both
/// enabled and running time (these counters are never multiplexed).
public func kvmStatsReadings(before: KVMStatsSnapshot, after: KVMStatsSnapshot, pid: Int32?,
                             nanoseconds: UInt64) -> CounterReadings {
    var out = CounterReadings()
    guard before.available, after.available else {
        out["kvm"] = .unavailable("no KVM statistics on the host: \(after.error ?? before.error ?? "debugfs unavailable")")
        return out
    }
    func delta(_ a: [String: UInt64], _ b: [String: UInt64], prefix: String) {
        for name in Set(a.keys).union(b.keys) {
            if let x = a[name], let y = b[name], y >= x {
                out[prefix + name] = .value(y - x, enabled: nanoseconds, running: nanoseconds)
            } else {
                out[prefix + name] = .unavailable("counter \(name) vanished or went backwards between snapshots")
            }
        }
    }
    delta(before.global, after.global, prefix: "kvm.host.")
    if let pid {
        if let a = before.stats(ofPID: pid), let b = after.stats(ofPID: pid) {
            delta(a, b, prefix: "kvm.vm.")
        } else {
            out["kvm.vm"] = .unavailable("no KVM debugfs directory for pid \(pid) in both snapshots")
        }
    }
    return out
}

/// Counters of a process on a remote riscv64 host, read by `rvbench-probe perf` over SSH, plus
/// KVM's debugfs statistics before and after.
///
/// `start()` runs `rvbench-probe perf --pid PID --threads --events ... -- until-stdin-eof` and
/// returns once the probe reports that it counts; `stop()` closes its standard input, which ends
/// the count, and reads the result. Both block the calling thread for an SSH round trip.
public final class RemoteProbeCounterSource: CounterSource, @unchecked Sendable {
    // @unchecked Sendable: the mutable state (process, pipes, snapshots) is guarded by `lock`.
    public let target: SSHTarget
    /// The probe's path on the host (from `RemoteHostFacts.installProbe()`).
    public let remoteProbe: String
    public let pid: Int32
    /// Generic perf names the probe knows ("cycles", "task-clock", "perf::PAGE-FAULTS") or raw "rHEX".
    public let events: [String]
    public let threads: Bool
    public let includeKVMStats: Bool
    public let timeout: Double

    /// The command prefix that runs a shell command on the host: ssh's arguments and "--".
    /// Tests replace it with a local shell.
    var transport: [String]

    private let lock = NSLock()
    private var session: BlockingProcess?
    private var before: KVMStatsSnapshot?
    private var startedAt: UInt64 = 0

    public init(target: SSHTarget, remoteProbe: String, pid: Int32, events: [String], threads: Bool = true,
                includeKVMStats: Bool = true, timeout: Double = 60) {
        self.target = target; self.remoteProbe = remoteProbe; self.pid = pid; self.events = events
        self.threads = threads; self.includeKVMStats = includeKVMStats; self.timeout = timeout
        self.transport = target.sshArguments() + ["--"]
    }

    deinit {
        // A source dropped while counting must not leave its ssh (and the remote probe) running.
        session?.terminate()
    }

    /// Installs the probe through `facts` and returns a source for `pid`.
    public static func make(host: RemoteHostFacts, pid: Int32, events: [String], threads: Bool = true,
                            includeKVMStats: Bool = true) async throws -> RemoteProbeCounterSource {
        let remote = try await host.installProbe()
        return RemoteProbeCounterSource(target: host.sshTarget, remoteProbe: remote, pid: pid, events: events,
                                        threads: threads, includeKVMStats: includeKVMStats)
    }

    private func sshArgv(_ command: String) -> [String] {
        transport + [command]
    }

    private func kvmSnapshot() throws -> KVMStatsSnapshot {
        let p = try BlockingProcess(sshArgv("\(remoteProbe) kvm-stats"), keepStdinOpen: false)
        let r = try p.finish(timeout: timeout)
        if r.status == 255 { throw RVBenchError(.process, "ssh to \(target) failed: \(r.stderr)") }
        return try KVMStatsSnapshot.decode(r.stdout)
    }

    public func start() throws {
        lock.lock(); defer { lock.unlock() }
        if session != nil { throw RVBenchError(.internal, "remote counters started twice; call stop() first") }
        before = includeKVMStats ? try kvmSnapshot() : nil
        var command = "\(remoteProbe) perf --pid \(pid)"
        if threads { command += " --threads" }
        command += " --events \(shellQuote(events.joined(separator: ","))) -- until-stdin-eof"
        let p = try BlockingProcess(sshArgv(command), keepStdinOpen: true)
        guard p.waitForStderr(containing: "rvbench-probe: counting", timeout: timeout) else {
            p.closeStdin()
            let r = try p.finish(timeout: 5)
            if r.status == 255 { throw RVBenchError(.process, "ssh to \(target) failed: \(r.stderr)") }
            _ = try ProbePerfReport.decode(r.stdout) // throws the probe's own error when it printed one
            throw RVBenchError(.process, "rvbench-probe perf on \(target) did not start counting: \(r.stderr)")
        }
        session = p
        startedAt = DispatchTime.now().uptimeNanoseconds
    }

    public func stop() throws -> CounterReadings {
        lock.lock(); defer { lock.unlock() }
        guard let p = session else { throw RVBenchError(.internal, "remote counters stopped before they were started") }
        session = nil
        let elapsed = DispatchTime.now().uptimeNanoseconds - startedAt
        p.closeStdin()
        let r = try p.finish(timeout: timeout)
        if r.status == 255 { throw RVBenchError(.process, "ssh to \(target) failed: \(r.stderr)") }
        var readings = try ProbePerfReport.decode(r.stdout).readings
        if let before {
            let after = try kvmSnapshot()
            readings.merge(kvmStatsReadings(before: before, after: after, pid: pid, nanoseconds: elapsed))
        }
        return readings
    }
}

/// A child process driven synchronously: its output is collected by two reader threads, and its
/// standard input can stay open until `closeStdin()`.
final class BlockingProcess: @unchecked Sendable {
    // @unchecked Sendable: `out`/`err` are guarded by `cond`; the rest is set once in init.
    private let process = Process()
    private let stdinPipe = Pipe()
    private let cond = NSCondition()
    private var out = Data()
    private var err = Data()
    private var openStreams = 2

    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    init(_ argv: [String], keepStdinOpen: Bool) throws {
        guard let exe = argv[0].contains("/") ? argv[0] : Subprocess.which(argv[0]) else {
            throw RVBenchError(.notFound, "\(argv[0]) is not installed" + (argv[0] == "ssh" ? "; install openssh-client" : ""))
        }
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = Array(argv.dropFirst())
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdinPipe
        do { try process.run() } catch {
            throw RVBenchError(.process, "cannot start \(argv[0])", cause: error)
        }
        if !keepStdinOpen { closeStdin() }
        for (handle, isErr) in [(outPipe.fileHandleForReading, false), (errPipe.fileHandleForReading, true)] {
            let t = Thread { [self] in
                while true {
                    let chunk = handle.availableData
                    cond.lock()
                    if chunk.isEmpty {
                        openStreams -= 1
                        cond.broadcast(); cond.unlock()
                        return
                    }
                    if isErr { if err.count < 1 << 20 { err.append(chunk) } } else if out.count < 16 << 20 { out.append(chunk) }
                    cond.broadcast(); cond.unlock()
                }
            }
            t.start()
        }
    }

    func closeStdin() {
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// Ends the process at once: closes its input, then SIGKILL (a child may have inherited a
    /// signal mask that blocks SIGTERM). ssh's end of the connection closes, so the remote probe
    /// reads end-of-file and exits too. Foundation reaps the child.
    func terminate() {
        closeStdin()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits until standard error contains `text`; false on timeout or when the process ended first.
    func waitForStderr(containing text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        cond.lock(); defer { cond.unlock() }
        while true {
            if String(decoding: err, as: UTF8.self).contains(text) { return true }
            if openStreams == 0 { return false }
            if !cond.wait(until: deadline) { return false }
        }
    }

    /// Waits for the process to end (SIGTERM, then SIGKILL, after `timeout`) and its output to drain.
    func finish(timeout: Double) throws -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            process.terminate()
            let killAt = Date().addingTimeInterval(5)
            while process.isRunning && Date() < killAt { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        cond.lock()
        let drainBy = Date().addingTimeInterval(5)
        while openStreams > 0 && cond.wait(until: drainBy) {}
        let result = Result(status: process.terminationStatus, stdout: out,
                            stderr: String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        cond.unlock()
        if timedOut {
            throw RVBenchError(.process, "\(process.executableURL?.lastPathComponent ?? "process") did not finish within "
                + "\(Int(timeout)) s and was stopped")
        }
        return result
    }
}
