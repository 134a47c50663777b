// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// rvbench's data disk: the fixed bytes that the I/O workloads (`fio-randread`, `fio-seqread`) read, so that
/// every variant reads identical content and checks it.
///
/// The content is pattern `rvbench-data-v1`: 64-bit little-endian words, word `i` (at byte `8 i`) being the
/// splitmix64 finaliser of `seed + (i + 1) × golden`. The same definition is in `workloads/src/datadisk.h`,
/// which the guest side reads it back with, and `workloads/scripts/datadisk.py`, which gives the manifests
/// their expected SHA-256.
public enum DataDisk {
    /// The pattern's name, as the workloads report it.
    public static let pattern = "rvbench-data-v1"
    /// The size of the image the lab builds (64 MiB).
    public static let bytes: Int64 = 64 << 20
    /// The serial number of the disk (virtio-blk or NVMe) that carries the image, by which a host's
    /// block device is found (`/sys/block/*/serial`, `/sys/block/*/device/serial`).
    public static let serial = "rvbench-data"
    /// The guest device name the data disk gets in a guest (the workload disk is `vda`).
    public static let guestTarget = "vdb"
    /// SHA-256 of the whole image (`bytes` bytes of the pattern), as the manifests of the I/O workloads expect it.
    public static let sha256 = "b98ea1719e1cdfbe1c8db411ae4ceb90ec4f786bc8bf2aba0c4ef15ad50c333e"

    static let seed: UInt64 = 0x7276_626e_6368_2d64
    static let golden: UInt64 = 0x9e37_79b9_7f4a_7c15

    /// Word `i` of the pattern.
    public static func word(_ i: UInt64) -> UInt64 {
        var z = seed &+ (i &+ 1) &* golden
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The first `bytes` bytes of the pattern, starting at byte `offset` (both multiples of 8).
    public static func content(offset: Int64 = 0, bytes: Int) -> Data {
        precondition(offset % 8 == 0 && bytes % 8 == 0, "the data disk is made of 8-byte words")
        var data = Data(count: bytes)
        data.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            let first = UInt64(offset / 8)
            for k in 0 ..< words.count { words[k] = word(first + UInt64(k)).littleEndian }
        }
        return data
    }

    /// Writes an image of `bytes` bytes (a multiple of 4096) to `url`, through a temporary file.
    ///
    /// - Throws: `RVBenchError(.library)` when the file cannot be written.
    public static func writeImage(to url: URL, bytes: Int64 = DataDisk.bytes) throws {
        precondition(bytes > 0 && bytes % 4096 == 0, "the data disk's size is a multiple of 4096")
        let partial = url.deletingLastPathComponent().appendingPathComponent(url.lastPathComponent + ".partial")
        try? FileManager.default.removeItem(at: partial)
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw RVBenchError(.library, "cannot create \(partial.path); check the directory's permissions")
        }
        do {
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            let chunk: Int64 = 1 << 20
            var offset: Int64 = 0
            while offset < bytes {
                let n = Int(min(chunk, bytes - offset))
                try handle.write(contentsOf: content(offset: offset, bytes: n))
                offset += Int64(n)
            }
            try handle.synchronize()
            try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: partial, to: url)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw RVBenchError(.library, "cannot write the data disk image \(url.path): \(error)", cause: error)
        }
    }
}

/// How the boots of a variant reach the data disk. Every source serves the same bytes (`DataDisk`), so the
/// I/O workloads' results differ only by the datapath. Passthrough (an assigned NVMe) will add its own case; a
/// variant without a source cannot run I/O workloads.
public enum DataDiskSource: Sendable, Codable, Equatable {
    /// The host reads its own block device (the `native` variant).
    case host(device: String)
    /// The guest gets a virtio-blk disk that QEMU emulates, backed by the host's block device (`virtio`).
    case virtioBlock(hostDevice: String)
    /// The guest gets a vhost-vdpa disk (`vdpa`): QEMU's virtio-blk-pci device with libblkio's
    /// `virtio-blk-vhost-vdpa` block driver over this vhost-vdpa character device, whose vDPA device the host
    /// filled with the data disk's bytes and checked (the lab: `vdpa_sim_blk`, a simulator in L1's kernel).
    case vhostVDPA(device: String)
    /// The guest reads the disk of a PCI device assigned to it through VFIO (`passthrough`): the lab's NVMe,
    /// whose backing image is the data disk.
    case assignedDevice(PCIAddress)

    /// The host's device behind the source: a block device, the vhost-vdpa character device, or the assigned
    /// PCI device's address.
    public var hostDevice: String {
        switch self {
        case .host(let device): return device
        case .virtioBlock(let device): return device
        case .vhostVDPA(let device): return device
        case .assignedDevice(let address): return address.description
        }
    }
}
