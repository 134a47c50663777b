// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// What `lab up` recorded about the running lab, in `run/state.json`.
public struct LabState: Sendable, Codable, Equatable {
    /// The L0 domain's name on the controller's libvirt.
    public var domain: String
    /// The controller's libvirt URI that runs L0.
    public var localURI: String
    /// Loopback port forwarded to L1's libvirtd.
    public var libvirtPort: Int
    /// Loopback port forwarded to L1's SSH server.
    public var sshPort: Int
    /// When L0 was started.
    public var startedAt: Date
    /// The lab build (manifest id) the running L0 was booted from.
    public var buildID: String
    /// `system` (Debian 12's QEMU) or `trixie` (QEMU from a Debian 13 root).
    public var qemu: String
    /// True when L0 runs with `-icount shift=0,sleep=off` (deterministic mode).
    public var deterministic: Bool
    /// Who started the lab: nil for `rvbench lab up`, else the run that started it (and will stop it).
    public var owner: LabOwner?
    /// The QEMU process of a `trixie` lab (no libvirt domain); nil for a `system` lab.
    public var pid: Int32?
    /// L0's QEMU version, when known.
    public var qemuVersion: String?

    public init(domain: String, localURI: String, libvirtPort: Int, sshPort: Int, startedAt: Date,
                buildID: String, qemu: String = "system", deterministic: Bool = false, owner: LabOwner? = nil) {
        self.domain = domain
        self.localURI = localURI
        self.libvirtPort = libvirtPort
        self.sshPort = sshPort
        self.startedAt = startedAt
        self.buildID = buildID
        self.qemu = qemu
        self.deterministic = deterministic
        self.owner = owner
    }

    enum CodingKeys: String, CodingKey {
        case domain, localURI, libvirtPort, sshPort, startedAt, buildID, qemu, deterministic, owner, pid, qemuVersion
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        domain = try c.decode(String.self, forKey: .domain)
        localURI = try c.decode(String.self, forKey: .localURI)
        libvirtPort = try c.decode(Int.self, forKey: .libvirtPort)
        sshPort = try c.decode(Int.self, forKey: .sshPort)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        buildID = try c.decode(String.self, forKey: .buildID)
        qemu = try c.decodeIfPresent(String.self, forKey: .qemu) ?? "system"
        deterministic = try c.decodeIfPresent(Bool.self, forKey: .deterministic) ?? false
        owner = try c.decodeIfPresent(LabOwner.self, forKey: .owner)
        pid = try c.decodeIfPresent(Int32.self, forKey: .pid)
        qemuVersion = try c.decodeIfPresent(String.self, forKey: .qemuVersion)
    }

    /// True when L0 is a QEMU 10 process rather than a libvirt domain.
    public var isProcess: Bool { qemu == QEMUFlavour.trixie.labName }

    /// True while the recorded QEMU process runs and is the lab's (its command line names the guest).
    public var processAlive: Bool {
        guard let pid, processExists(pid) else { return false }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        return String(decoding: cmdline, as: UTF8.self).contains("guest=\(domain),")
    }

    /// The libvirt URI of L1, as the controller reaches it.
    public var libvirtURI: String { "qemu+tcp://127.0.0.1:\(libvirtPort)/system" }
    /// The SSH target of L1, as `ssh -p PORT root@127.0.0.1` takes it.
    public var sshTarget: String { "root@127.0.0.1:\(sshPort)" }
}

/// The `rvbench run` (or `resume`) that started a lab, so that a later `resume` of the same run can
/// take the lab over when the process that started it was killed, and bring it down at the end.
public struct LabOwner: Sendable, Codable, Equatable {
    /// The run's results directory (standardized path).
    public var directory: String
    /// The process that started the lab.
    public var pid: Int32

    public init(directory: String, pid: Int32) {
        self.directory = directory
        self.pid = pid
    }

    /// True while the owning process exists.
    public var isAlive: Bool { processExists(pid) }
}

/// Reads and writes `run/state.json` atomically.
public struct LabStateStore: Sendable {
    public var url: URL

    public init(url: URL) {
        self.url = url
    }

    /// The recorded state; nil when there is none. A file that cannot be decoded counts as
    /// stale and is reported as `.unreadable`.
    public func load() -> LoadResult {
        guard let data = FileManager.default.contents(atPath: url.path) else { return .none }
        do {
            return .state(try Self.decoder.decode(LabState.self, from: data))
        } catch {
            return .unreadable(String(describing: error))
        }
    }

    public enum LoadResult: Sendable, Equatable {
        case none
        case state(LabState)
        case unreadable(String)

        public var state: LabState? {
            if case .state(let s) = self { return s }
            return nil
        }
    }

    public func save(_ state: LabState) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try Self.encoder.encode(state)
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try data.write(to: tmp)
        if rename(tmp.path, url.path) != 0 {
            throw RVBenchError(.library, "cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}

/// What `lab up` should do, given the recorded state and what is actually running.
public enum LabReconciliation: Sendable, Equatable {
    /// The recorded lab runs and answers: print it and return.
    case reuse(LabState)
    /// Start a fresh L0; first destroy a leftover domain if `destroyLeftover`, and drop a
    /// stale state file if `dropState`.
    case start(destroyLeftover: Bool, dropState: Bool)

    /// - Parameters:
    ///   - recorded: the state file's content.
    ///   - domainRunning: whether a domain with the lab's name is active on the local libvirt
    ///     (nil: no such domain).
    ///   - answers: whether L1's libvirt answers at the recorded port.
    public static func decide(recorded: LabStateStore.LoadResult, domainActive: Bool?, answers: Bool) -> LabReconciliation {
        switch (recorded, domainActive) {
        case (.state(let s), true?) where answers:
            return .reuse(s)
        case (.none, nil):
            return .start(destroyLeftover: false, dropState: false)
        case (.none, _?):
            return .start(destroyLeftover: true, dropState: false)
        case (_, nil):
            return .start(destroyLeftover: false, dropState: true)
        default:
            return .start(destroyLeftover: true, dropState: true)
        }
    }
}
