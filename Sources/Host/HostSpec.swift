// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Remote
import RVBenchCore

/// Where the variants run.
public enum HostSpec: Sendable, Equatable {
    /// The emulated riscv64 KVM host built by the Lab target.
    case lab(LabOptions)
    /// A riscv64 board (or any libvirt host) reached through a libvirt URI and SSH.
    case remote(RemoteHost)

    public var isLab: Bool {
        if case .lab = self { return true }
        return false
    }

    /// The lab's options; nil for a remote host.
    public var labOptions: LabOptions? {
        if case .lab(let options) = self { return options }
        return nil
    }
}

/// A remote hypervisor host.
public struct RemoteHost: Sendable, Equatable {
    /// A libvirt URI such as `qemu+ssh://root@board/system`.
    public var uri: String
    /// The SSH target for the probe and the native variant, `[user@]host[:port]`; nil when unused.
    public var ssh: SSHTarget?
    /// Path of the SSH private key, as written (a leading `~` is expanded by whoever uses it).
    public var identity: String?

    public init(uri: String, ssh: SSHTarget? = nil, identity: String? = nil) {
        self.uri = uri; self.ssh = ssh; self.identity = identity
    }

    /// The SSH target with the identity file expanded, as ssh is run with.
    public var resolvedSSH: SSHTarget? {
        guard var target = ssh else { return nil }
        if let identity { target.identityFile = NSString(string: identity).expandingTildeInPath }
        return target
    }
}
