// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// A Debian package as it was unpacked into a root.
public struct PackageVersion: Sendable, Codable, Equatable, Comparable {
    public var name: String
    public var version: String
    public var architecture: String

    public init(name: String, version: String, architecture: String) {
        self.name = name
        self.version = version
        self.architecture = architecture
    }

    /// Parses apt's archive file name `name_version_arch.deb` (the epoch colon is `%3a`).
    public init?(debFileName: String) {
        guard debFileName.hasSuffix(".deb") else { return nil }
        let parts = debFileName.dropLast(4).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        name = String(parts[0])
        version = String(parts[1]).replacingOccurrences(of: "%3a", with: ":").replacingOccurrences(of: "%3A", with: ":")
        architecture = String(parts[2])
    }

    public static func < (a: PackageVersion, b: PackageVersion) -> Bool {
        (a.name, a.architecture, a.version) < (b.name, b.architecture, b.version)
    }
}

/// The Debian archive state a root was resolved against.
public struct ArchiveRelease: Sendable, Codable, Equatable {
    public var suite: String
    /// The `Date:` field of the suite's InRelease file.
    public var date: String?
    /// The `Version:` field (point release), if any.
    public var version: String?
    /// SHA-256 of the InRelease file.
    public var sha256: String
}

/// One step of `lab build`: built or reused.
public struct LabBuildStep: Sendable, Codable, Equatable {
    public var name: String
    public var key: String
    public var reused: Bool
    /// Wall time of the step on the controller (build time, or the time to check the cache).
    public var seconds: Double
}

/// The guest (L2) kernel and how it was made. With the lab's own L1 kernel, these are that build's fields
/// (same key, source, fragment and configuration); its image differs only in the vDSO.
public struct GuestKernelRecord: Sendable, Codable, Equatable {
    public var key: String
    public var sourcePackage: String
    public var sourceVersion: String
    public var sourceSHA256: String
    public var fragmentSHA256: String
    public var compiler: String
    public var configSHA256: String
    /// Fragment options that the final configuration does not have (kconfig dropped them).
    public var droppedOptions: [String]
    public var image: Artifact
}

/// A Debian root unpacked with mmdebstrap.
public struct RootRecord: Sendable, Codable, Equatable {
    public var key: String
    public var requested: [String]
    public var packages: [PackageVersion]
    public var fixupSHA256: String
}

/// Every input and output of a lab build.
public struct LabManifest: Sendable, Codable, Equatable {
    public var schema: String
    /// A hash over every artifact key: two builds with the same id have the same inputs.
    public var id: String
    public var builtAt: Date
    public var archive: ArchiveRelease
    public var tools: [String: String]
    public var guestKernel: GuestKernelRecord
    public var hostRoot: RootRecord
    public var workloadRoot: RootRecord
    /// The L1 kernel's release string, e.g. `6.12.57+deb13-riscv64`.
    public var hostKernelRelease: String
    /// SHA-256 of the L1 kernel's `/boot/config-*`.
    public var hostKernelConfigSHA256: String
    /// Each option of `workloads/lab/host-kernel.require` in the L1 kernel's config.
    public var hostKernelOptions: [KernelOptionCheck]
    /// The workloads' build output copied to `/opt/rvbench` on the workload disk; nil if absent.
    public var workloadsTreeSHA256: String?
    /// `l1-kernel`, `l1-initramfs`, `guest-kernel`, `guest-initramfs`, `workload-disk`, `firmware`.
    public var artifacts: [String: Artifact]
    /// Paths inside L1 where the guest kernel and initramfs are.
    public var l1GuestKernelPath: String
    public var l1GuestInitramfsPath: String
    public var steps: [LabBuildStep]
    /// The lab's own L1 kernel, when the build made one (`--l1-kernel own`); nil for Debian's kernel.
    public var l1Kernel: L1KernelRecord?

    /// Which kernel L1 boots in this build.
    public var l1KernelChoice: LabL1Kernel { l1Kernel == nil ? .debian : .own }

    public static let schemaString = "rvbench-lab-manifest-v1"

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return try e.encode(self)
    }

    public static func load(from url: URL) throws -> LabManifest {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RVBenchError(.notFound, "no lab build at \(url.deletingLastPathComponent().path); run `rvbench lab build` first")
        }
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        do {
            return try d.decode(LabManifest.self, from: data)
        } catch {
            throw RVBenchError(.format, "the lab manifest \(url.path) is unreadable; run `rvbench lab build` again", cause: error)
        }
    }
}
