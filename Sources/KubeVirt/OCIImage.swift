// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RVBenchCore

/// One file an image carries, as recorded in the bundle's manifest: its path inside the image
/// (e.g. `/boot/Image`), SHA-256 and size, the same record a manifest keeps for an artifact.
public typealias ImageFile = Artifact

/// An OCI image layout packed as a tar archive, as the bundle records it.
public struct OCIImageRecord: Sendable, Equatable, Codable {
    /// The archive, relative to the bundle: `images/NAME.tar`.
    public var archive: String
    /// SHA-256 of the archive's bytes.
    public var archiveSHA256: String
    public var archiveBytes: Int64
    /// The tag of the image in the layout (`oci-archive:images/NAME.tar:TAG`).
    public var tag: String
    /// `sha256:…` of the image manifest: what the cluster pulls.
    public var manifestDigest: String
    public var architecture: String
    /// Files placed by path (the kernel, the initramfs, the disk); empty for a whole root filesystem.
    public var files: [ImageFile]
    /// For a root filesystem image: the ext4 image it was copied out of.
    public var rootFrom: String?

    enum CodingKeys: String, CodingKey {
        case archive
        case archiveSHA256 = "archive_sha256"
        case archiveBytes = "archive_bytes"
        case tag
        case manifestDigest = "manifest_digest"
        case architecture, files
        case rootFrom = "root_from"
    }
}

/// Builds OCI image layouts without a container daemon, with `umoci` (Debian's package), and packs
/// each as a tar archive that `skopeo copy oci-archive:…` pushes unchanged.
///
/// The images are reproducible: every file time is the epoch, the history entry and the config carry
/// the epoch as their time, and the archive is written with sorted names, numeric owners and the
/// epoch as every member's time. The same inputs give the same manifest digest and archive bytes.
public struct OCIImageBuilder: Sendable {
    /// The uid and gid KubeVirt's virt-launcher runs QEMU as; kernels, initrds and disks belong to it.
    public static let qemuUser = 107
    public static let tag = "latest"
    static let epoch = "1970-01-01T00:00:00Z"

    public var scratch: URL
    public var timeout: Double

    public init(scratch: URL, timeout: Double = 3600) {
        self.scratch = scratch; self.timeout = timeout
    }

    /// What goes into an image: files copied to paths (with their SHA-256, already known to the
    /// caller), or a whole root filesystem taken out of an ext4 image.
    public enum Content: Sendable {
        case files([(source: URL, path: String, sha256: String)])
        case rootOfExt4(URL)
    }

    /// Builds the image `name` and writes `DIR/images/NAME.tar`; `bundle` is the bundle's directory.
    public func build(name: String, content: Content, bundle: URL) async throws -> OCIImageRecord {
        try ControllerPrograms.require([.kubevirtExport], command: "kubevirt export")
        let fm = FileManager.default
        let work = scratch.appendingPathComponent("oci-\(name)", isDirectory: true)
        try? fm.removeItem(at: work)
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        let layout = work.appendingPathComponent("layout").path
        let unpacked = work.appendingPathComponent("bundle").path
        let image = "\(layout):\(Self.tag)"
        let rootless = getuid() != 0
        let rootlessFlag = rootless ? ["--rootless"] : []

        try await run(["umoci", "init", "--layout", layout])
        try await run(["umoci", "new", "--image", image])
        try await run(["umoci", "unpack"] + rootlessFlag + ["--image", image, unpacked])
        let rootfs = unpacked + "/rootfs"
        var files: [ImageFile] = []
        var rootFrom: String?
        switch content {
        case .files(let list):
            for (source, path, sha256) in list {
                let target = URL(fileURLWithPath: rootfs + path)
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? fm.removeItem(at: target)
                try fm.copyItem(at: source, to: target)
                try fm.setAttributes([.posixPermissions: 0o444], ofItemAtPath: target.path)
                files.append(ImageFile(path: path, sha256: sha256, bytes: try Self.size(target)))
                if !rootless {
                    try await run(["chown", "-R", "\(Self.qemuUser):\(Self.qemuUser)",
                                   target.deletingLastPathComponent().path])
                }
            }
        case .rootOfExt4(let disk):
            // debugfs reads the ext4 image without mounting it (no privileges, no loop device).
            try await run(["debugfs", "-R", "rdump / \(rootfs)", disk.path])
            try? fm.removeItem(atPath: rootfs + "/lost+found")
            rootFrom = disk.lastPathComponent
        }
        try await run(["find", rootfs, "-exec", "touch", "-h", "-d", "@0", "{}", "+"])
        try await run(["umoci", "repack"] + rootlessFlag + [
            "--history.created", Self.epoch, "--history.created_by", "rvbench kubevirt export",
            "--image", image, unpacked,
        ])
        try await run(["umoci", "config", "--no-history", "--image", image, "--architecture", "riscv64", "--os", "linux",
                       "--created", Self.epoch, "--author", "rvbench",
                       "--config.label", "org.opencontainers.image.title=rvbench-\(name)"])
        try await run(["umoci", "gc", "--layout", layout])
        let digest = try Self.manifestDigest(layout: URL(fileURLWithPath: layout), tag: Self.tag)

        let images = bundle.appendingPathComponent("images", isDirectory: true)
        try fm.createDirectory(at: images, withIntermediateDirectories: true)
        let archive = images.appendingPathComponent("\(name).tar")
        try? fm.removeItem(at: archive)
        try await run(["tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                       "--format=gnu", "-C", layout, "-cf", archive.path, "."])
        return OCIImageRecord(archive: "images/\(name).tar", archiveSHA256: try SHA256.hex(ofFile: archive),
                              archiveBytes: try Self.size(archive), tag: Self.tag, manifestDigest: digest,
                              architecture: "riscv64", files: files, rootFrom: rootFrom)
    }

    /// The digest `index.json` of an OCI layout gives the manifest tagged `tag`.
    public static func manifestDigest(layout: URL, tag: String) throws -> String {
        let data = try Data(contentsOf: layout.appendingPathComponent("index.json"))
        struct Index: Decodable {
            struct Descriptor: Decodable {
                var digest: String
                var annotations: [String: String]?
            }
            var manifests: [Descriptor]
        }
        let index = try JSONDecoder().decode(Index.self, from: data)
        guard let entry = index.manifests.first(where: { $0.annotations?["org.opencontainers.image.ref.name"] == tag }),
              entry.digest.hasPrefix("sha256:"), entry.digest.count == 71 else {
            throw RVBenchError(.format, "\(layout.path)/index.json has no manifest tagged \(tag)")
        }
        return entry.digest
    }

    static func size(_ url: URL) throws -> Int64 {
        ((try FileManager.default.attributesOfItem(atPath: url.path))[.size] as? NSNumber)?.int64Value ?? 0
    }

    private func run(_ argv: [String]) async throws {
        try await Subprocess.check(argv, timeout: timeout)
    }
}
