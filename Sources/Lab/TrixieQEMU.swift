// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Logging
import RVBenchCore

/// The QEMU 10 root: where its binary, libraries, modules and firmware are.
public struct TrixieQEMU: Sendable, Codable, Equatable {
    /// The extracted Debian 13 amd64 root.
    public var root: String
    /// `qemu-system-riscv64 --version`'s first line.
    public var version: String
    /// Every package unpacked into the root, with versions.
    public var packages: [PackageVersion]
    /// The cache key of the root.
    public var key: String

    public var dynamicLoader: String { root + "/usr/lib64/ld-linux-x86-64.so.2" }
    public var libraryPath: String { root + "/usr/lib/x86_64-linux-gnu" }
    public var binary: String { root + "/usr/bin/qemu-system-riscv64" }
    public var modules: String { root + "/usr/lib/x86_64-linux-gnu/qemu" }
    public var dataDirectory: String { root + "/usr/share/qemu" }
    public var firmware: String { root + "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin" }

    /// The packages the root is built from (with their dependencies).
    public static let packages = ["qemu-system-riscv", "opensbi"]

    /// The system's QEMU module directory, which QEMU 10 also searches: a mount namespace puts the
    /// root's modules over it, since 7.2's modules abort QEMU 10.
    static let systemModules = "/usr/lib/x86_64-linux-gnu/qemu"

    /// The command that runs QEMU 10 with `arguments`: in a private mount namespace where the
    /// system's module directory shows the root's modules, through the root's dynamic loader.
    public func command(_ arguments: [String]) -> [String] {
        let qemu = [dynamicLoader, "--library-path", libraryPath, binary, "-L", dataDirectory] + arguments
        let script = "mount --bind \(shellQuote(modules)) \(Self.systemModules) && exec "
            + qemu.map(shellQuote).joined(separator: " ")
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    }
}

extension LabBuilder {
    /// Builds (or reuses) the Debian 13 amd64 root with QEMU 10, cached by content hash.
    public func buildTrixieQEMU() async throws -> TrixieQEMU {
        try FileManager.default.createDirectory(at: paths.lab, withIntermediateDirectories: true)
        let mirror = try DebianMirror.fromAptConfiguration()
        let release = try await archiveRelease(mirror: mirror)
        let key = CacheKey(kind: "qemu-trixie", inputs: [
            "packages": TrixieQEMU.packages.joined(separator: ","), "suite": release.suite, "inRelease": release.sha256,
            "arch": "amd64", "variant": "extract", "recipe": "mmdebstrap qemu10 v1",
        ])
        let dir = paths.artifact("qemu-trixie", key: key)
        _ = try await cached(dir, what: "QEMU 10 root (Debian 13 amd64)", key: key) { out in
            let root = out.appendingPathComponent("root")
            let argv = ["mmdebstrap", "--variant=extract", "--architectures=amd64",
                        "--include=" + TrixieQEMU.packages.joined(separator: ","), "--skip=cleanup/apt/cache",
                        release.suite, root.path, "deb \(mirror) \(release.suite) main"]
            try await self.mmdebstrapRetryingOnce(argv, root: root, label: "QEMU 10 root")
            let archives = root.appendingPathComponent("var/cache/apt/archives")
            let debs = ((try? FileManager.default.contentsOfDirectory(atPath: archives.path)) ?? [])
                .filter { $0.hasSuffix(".deb") }.sorted()
            try Data((debs.joined(separator: "\n") + "\n").utf8).write(to: out.appendingPathComponent("debs.txt"))
            try? FileManager.default.removeItem(at: archives)
        }
        let root = dir.appendingPathComponent("root").path
        var qemu = TrixieQEMU(root: root, version: "", packages: [], key: key.short)
        let debs = try String(contentsOf: dir.appendingPathComponent("debs.txt"), encoding: .utf8)
        qemu.packages = debs.split(separator: "\n").compactMap { PackageVersion(debFileName: String($0)) }.sorted()
        let r = try await Subprocess.run([qemu.dynamicLoader, "--library-path", qemu.libraryPath, qemu.binary, "--version"],
                                         timeout: 60)
        guard r.status == 0, let first = r.stdoutString.split(separator: "\n").first else {
            throw RVBenchError(.process, "QEMU 10 from \(root) does not run: \(r.stderrString.suffix(400))")
        }
        qemu.version = String(first)
        return qemu
    }
}

/// The QEMU 10 command line of the lab's L0: the same machine as the libvirt domain, plus AIA, the
/// harts' H, Sscofpmf and Ssaia/Smaia, an emulated RISC-V IOMMU and PCI devices for assignment tests.
public enum TrixieL0 {
    /// The harts of the QEMU 10 L0: the H extension (KVM in L1), Sscofpmf (counter overflow, for perf
    /// sampling in L1), Smaia/Ssaia (AIA with `aia=aplic-imsic`); Sstc is on by default. No V.
    public static let cpu = "rv64,h=true,sscofpmf=true,smaia=true,ssaia=true"

    public static func arguments(_ spec: LabDomainSpec, qemu: TrixieQEMU, pidFile: String, consoleLog: String) -> [String] {
        var args = [
            "-name", "guest=\(spec.name),debug-threads=on",
            "-machine", "virt,aia=aplic-imsic",
            // Named extensions rather than `max`: with `max` (QEMU 10.0) a shell loop in L1 ran 2.2x slower
            // (11 s against 5 s for 100,000 iterations, 2026-12-01), V off or on; this list runs it in 6 s.
            "-cpu", TrixieL0.cpu,
            "-smp", String(spec.vcpus),
            "-m", "\(spec.memoryMiB)M",
            "-bios", qemu.firmware,
            "-kernel", spec.kernel,
            "-initrd", spec.initrd,
            "-append", spec.cmdline,
            "-display", "none", "-monitor", "none",
            "-serial", "file:\(consoleLog)",
            "-no-reboot",
            "-daemonize", "-pidfile", pidFile,
        ]
        if let disk = spec.workloadDisk {
            args += ["-drive", "file=\(disk),if=none,format=raw,readonly=on,id=wl",
                     "-device", "virtio-blk-pci,drive=wl"]
        }
        if let disk = spec.dataDisk {
            args += ["-drive", "file=\(disk),if=none,format=raw,readonly=on,id=data",
                     "-device", "virtio-blk-pci,drive=data,serial=\(DataDisk.serial)"]
        }
        // riscv-iommu-pci only for an L1 kernel with the driver (the lab's own kernel): a RISC-V IOMMU resets
        // with translation off, which blocks all DMA until a driver programs it, and Debian's 6.12 has no
        // RISCV_IOMMU driver (upstream since 6.13). Tried: with the device and Debian's kernel, L1's
        // virtio-net and virtio-blk never finish probing (a kworker hangs) and libvirtd cannot start.
        if spec.iommu {
            args += ["-device", "riscv-iommu-pci"]
        }
        if let image = spec.nvmeImage {
            let d = LabDevices.nvme
            args += ["-drive", "file=\(image),if=none,format=raw,id=\(d.id)",
                     "-device", "nvme,drive=\(d.id),serial=\(LabDevices.nvmeSerial),addr=\(d.slotArgument)"]
        }
        if let image = spec.vdpaBlockImage {
            let d = LabDevices.vdpaBlock
            // Modern only (device 1af4:1042): vp_vdpa drives virtio 1.x devices. iommu_platform=on: the device's
            // DMA goes through riscv-iommu-pci (VIRTIO_F_ACCESS_PLATFORM), as vhost-vdpa's domain needs; without it
            // QEMU would read L1's physical memory at the IOVAs that vhost-vdpa hands the device.
            args += ["-drive", "file=\(image),if=none,format=raw,id=\(d.id)",
                     "-device", "virtio-blk-pci,drive=\(d.id),disable-legacy=on,iommu_platform=on,"
                        + "serial=\(LabDevices.vdpaBlockSerial),addr=\(d.slotArgument)"]
        }
        if spec.icount {
            args += ["-icount", "shift=0,sleep=off"]
        }
        args += [
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:\(spec.libvirtPort)-:16509,hostfwd=tcp:127.0.0.1:\(spec.sshPort)-:22",
            "-device", "virtio-net-pci,netdev=n0,romfile=",  // no option ROM: direct kernel boot
        ]
        return args
    }
}


/// The PCI devices that QEMU 10 gives L1 for the passthrough and vDPA datapaths, at fixed slots of
/// the root bus so that L1 (and the run) find them at fixed addresses.
public enum LabDevices {
    /// One device of L0's root bus.
    public struct Slot: Sendable, Equatable {
        /// QEMU's drive id.
        public var id: String
        /// The slot on the root bus (`addr=` for QEMU).
        public var slot: Int
        /// The address L1 sees, e.g. `0000:00:10.0`.
        public var pciAddress: String { String(format: "0000:00:%02x.0", slot) }
        /// `addr=0x10`.
        var slotArgument: String { String(format: "0x%02x", slot) }
        /// The backing file's name in the lab's run directory.
        public var imageName: String { "\(id).img" }
    }

    /// The NVMe controller that L1 assigns to L2 guests through VFIO (and reads natively with `nvme`).
    public static let nvme = Slot(id: "nvme0", slot: 0x10)
    /// The virtio-blk-pci device that L1 binds to `vp_vdpa`: a vDPA datapath over PCI.
    public static let vdpaBlock = Slot(id: "vdpablk0", slot: 0x11)
    /// The NVMe's serial number (`/sys/class/nvme/nvme0/serial` in L1, `nvme id-ctrl` in L2): the data disk's,
    /// since its backing image is a copy of the data disk (the virtio-blk data disk is then left out, so that
    /// one device in L1 carries the serial and the pattern).
    public static let nvmeSerial = DataDisk.serial
    /// The virtio-blk device's serial number.
    public static let vdpaBlockSerial = "rvbench-vdpa0"
    /// Copies the data disk image to `url`: the NVMe's backing file, fresh for each `lab up`.
    static func copyDataDisk(from source: String, to url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        do {
            try FileManager.default.copyItem(atPath: source, toPath: url.path)
        } catch {
            throw RVBenchError(.library, "cannot copy the data disk \(source) to \(url.path): \(error)", cause: error)
        }
    }

    /// Size of each backing file (sparse), created for each `lab up`.
    public static let imageBytes: Int64 = 64 << 20

    /// Creates (or truncates) a sparse backing file of `imageBytes`.
    static func createImage(at url: URL) throws {
        try? FileManager.default.removeItem(at: url)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw RVBenchError(.library, "cannot create \(url.path)")
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(imageBytes))
    }
}
