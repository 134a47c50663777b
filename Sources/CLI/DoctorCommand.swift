// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Counters
import Foundation
import Hypervisor
import Lab
import Logging
import Probe
import Remote
import RVBenchCore

/// `rvbench doctor`: what this machine and a riscv64 host can do, and what to fix.
public struct DoctorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this machine and a riscv64 KVM host for what each variant needs.",
        discussion: """
        Always checks the local machine (the controller) with the native rvbench-probe and with \
        rvbench's own perf counters. With --ssh it copies the riscv64 rvbench-probe to that host and \
        checks the architecture, /dev/kvm, the ISA string (H, AIA, Sscofpmf, V), IOMMU groups, VFIO, \
        vhost-vdpa, the perf events that really open, and KVM statistics. With --uri it connects to \
        libvirt and reports the libvirt and QEMU versions. --lab does both for the running lab. Each \
        missing piece gets one line saying what it prevents and how to fix it.

        doctor exits with 0 when nothing needed is missing (optional features such as Sscofpmf, V, \
        IOMMU, VFIO or vhost-vdpa may still be missing: their variants are then reported as not run), \
        3 when something needed is missing (the remote host cannot be probed or is not riscv64, it \
        has no usable /dev/kvm or no H extension, or libvirt cannot be reached at --uri), 1 on an \
        internal failure, and 64 for bad usage.

        \(ExitStatus.helpText)
        """
    )

    @Option(help: "libvirt URI to check, e.g. qemu+tcp://127.0.0.1:16509/system or qemu:///system.")
    public var uri: String?

    @Option(name: .customLong("ssh"), help: "The riscv64 host as [user@]host[:port], e.g. root@127.0.0.1:2222.")
    public var sshTarget: String?

    @Option(help: "SSH private key for --ssh.")
    public var identity: String?

    @Option(name: .customLong("known-hosts"), help: "known_hosts file that must hold the host's key (default: accept a new key).")
    public var knownHosts: String?

    @Flag(help: "Check the running lab: its L1 host over SSH and its libvirt (instead of --ssh and --uri).")
    public var lab = false

    @Flag(help: "Print the checks and the probed facts as JSON.")
    public var json = false

    public init() {}

    /// What the command prints and how it exits.
    public struct Outcome: Sendable {
        public var standardOutput: String
        public var standardError: String
        public var status: ExitStatus
        public var checks: [DoctorCheck]
    }

    public func validate() throws {
        if let sshTarget, SSHTarget(string: sshTarget) == nil {
            throw ValidationError("--ssh \(sshTarget) is not [user@]host[:port]; e.g. root@127.0.0.1:2222")
        }
        if identity != nil && sshTarget == nil {
            throw ValidationError("--identity needs --ssh")
        }
        if lab && (sshTarget != nil || uri != nil) {
            throw ValidationError("--lab sets the SSH target and the URI itself; leave out --ssh and --uri")
        }
    }

    /// The SSH target and URI to check: from the options, or from the running lab's state.
    func targets() throws -> (ssh: SSHTarget?, uri: String?) {
        guard lab else {
            return (sshTarget.flatMap { SSHTarget(string: $0, identityFile: identity, knownHostsFile: knownHosts) }, uri)
        }
        let paths = LabPaths.fromEnvironment()
        guard let state = LabStateStore(url: paths.stateFile).load().state,
              let target = SSHTarget(string: state.sshTarget, identityFile: paths.sshKey.path, knownHostsFile: "/dev/null")
        else {
            throw RVBenchError(.notFound, "the lab is not up (no \(paths.stateFile.path)); start it with rvbench lab up")
        }
        return (target, state.libvirtURI)
    }

    public func run() async throws {
        try await execute().deliver()
    }

    /// Runs every check without touching the process's streams.
    public func execute(logger: Logger = Logger(label: "rvbench.doctor")) async -> Outcome {
        let sshTarget: SSHTarget?, uri: String?
        do {
            (sshTarget, uri) = try targets()
        } catch {
            return Outcome(standardOutput: "", standardError: CommandFailure.message(for: error),
                           status: ExitStatus(for: error), checks: [])
        }
        var context = Doctor.Context()
        var local: ProbeFacts?
        do {
            local = try await LocalHostFacts().facts()
        } catch {
            context.localError = "\(error)"
        }
        context.localCounters = PerfAvailability.probe()
        var seen = Set<String>()
        context.missingPrograms = ControllerProgram.Stage.allCases
            .flatMap { ControllerPrograms.missing(for: $0) }.filter { seen.insert($0.name).inserted }

        var remote: ProbeFacts?
        if let target = sshTarget {
            context.remoteName = "remote \(target)"
            do {
                remote = try await RemoteHostFacts(sshTarget: target).facts()
            } catch {
                context.remoteError = "\(error)"
            }
        }

        var versions: HypervisorVersions?
        if let uri {
            context.libvirtURI = uri
            do {
                versions = try await withHypervisor(uri: uri, logger: logger) { try $0.versions() }
            } catch let error as RVBenchError {
                context.libvirtError = error.message
            } catch {
                context.libvirtError = "\(error)"
            }
        }

        let checks = Doctor.checks(local: local, remote: remote, libvirt: versions, context: context)
        let status: ExitStatus = Doctor.somethingNeededIsMissing(checks) ? .runFailed : .success
        if json {
            let report = DoctorReport(checks: checks, neededMissing: status != .success, local: local, remote: remote,
                                      libvirt: versions)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                let data = try encoder.encode(report)
                return Outcome(standardOutput: String(decoding: data, as: UTF8.self) + "\n", standardError: "",
                               status: status, checks: checks)
            } catch {
                let failure = RVBenchError(.internal, "cannot encode the doctor report as JSON", cause: error)
                return Outcome(standardOutput: "", standardError: CommandFailure.message(for: failure),
                               status: ExitStatus(for: failure), checks: checks)
            }
        }
        var text = Doctor.render(checks)
        if status != .success {
            text += "\nsomething needed is missing (exit status 3)\n"
        }
        return Outcome(standardOutput: text, standardError: "", status: status, checks: checks)
    }
}

/// `rvbench doctor --json`.
struct DoctorReport: Encodable {
    var checks: [DoctorCheck]
    var neededMissing: Bool
    @NullableOrMissing var local: ProbeFacts?
    @NullableOrMissing var remote: ProbeFacts?
    @NullableOrMissing var libvirt: HypervisorVersions?

    enum CodingKeys: String, CodingKey {
        case checks
        case neededMissing = "needed_missing"
        case local, remote, libvirt
    }
}

extension DoctorCommand.Outcome: CommandOutcome {
    var standardOutputBytes: Data { Data(standardOutput.utf8) }
}
