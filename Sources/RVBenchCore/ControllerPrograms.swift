// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// An external program that rvbench starts on the controller, and the Debian 12 package that has it.
public struct ControllerProgram: Sendable, Equatable, Hashable {
    /// The commands that start the program.
    public enum Stage: String, Sendable, CaseIterable, Codable {
        /// `rvbench lab build`: roots, kernels, initramfs and disk images.
        case labBuild = "lab build"
        /// `rvbench lab up` and `lab down`: L0 and the way into L1.
        case labUp = "lab up"
        /// `rvbench run`: the native runner and the probe over SSH.
        case run
        /// `scripts/services.sh`: the controller's libvirt daemons.
        case services
        /// `rvbench kubevirt export`: the bundle's OCI images.
        case kubevirtExport = "kubevirt export"
    }

    /// The name looked up in `PATH`, or an absolute path.
    public var name: String
    /// The Debian 12 package that installs it (listed in `scripts/debian12-packages.txt`, or Essential).
    public var package: String
    public var stages: Set<Stage>
    /// What rvbench uses it for, in a few words.
    public var purpose: String

    public init(_ name: String, package: String, stages: Set<Stage>, purpose: String) {
        self.name = name; self.package = package; self.stages = stages; self.purpose = purpose
    }
}

/// The one list of external programs that `lab build`, `lab up`, `run` and the services script start.
/// `lab build` and `doctor` check it up front; the fresh-install test checks it on a clean Debian 12 root.
public enum ControllerPrograms {
    public static let all: [ControllerProgram] = [
        .init("mmdebstrap", package: "mmdebstrap", stages: [.labBuild], purpose: "riscv64 and amd64 roots"),
        .init("/usr/lib/apt/apt-helper", package: "apt", stages: [.labBuild], purpose: "the archive's InRelease"),
        .init("dpkg-query", package: "dpkg", stages: [.labBuild], purpose: "package versions"),
        .init("depmod", package: "kmod", stages: [.labBuild], purpose: "L1's module index"),
        .init("cpio", package: "cpio", stages: [.labBuild], purpose: "initramfs archives"),
        .init("mke2fs", package: "e2fsprogs", stages: [.labBuild], purpose: "the workload disk"),
        .init("ssh-keygen", package: "openssh-client", stages: [.labBuild], purpose: "the lab's SSH key"),
        .init("riscv64-linux-gnu-gcc", package: "gcc-riscv64-linux-gnu", stages: [.labBuild],
              purpose: "the L1 and guest kernels"),
        .init("gcc", package: "gcc", stages: [.labBuild], purpose: "the kernel's host tools"),
        .init("make", package: "make", stages: [.labBuild], purpose: "the guest kernel"),
        .init("bc", package: "bc", stages: [.labBuild], purpose: "the kernel build"),
        .init("flex", package: "flex", stages: [.labBuild], purpose: "the kernel's Kconfig"),
        .init("bison", package: "bison", stages: [.labBuild], purpose: "the kernel's Kconfig"),
        .init("perl", package: "perl", stages: [.labBuild], purpose: "the kernel build"),
        .init("xz", package: "xz-utils", stages: [.labBuild], purpose: "the kernel source tarball"),
        .init("patch", package: "patch", stages: [.labBuild], purpose: "the L1 kernel's patches"),
        .init("dpkg-deb", package: "dpkg", stages: [.labBuild], purpose: "the L1 kernel's source package"),
        .init("apt-get", package: "apt", stages: [.labBuild], purpose: "the L1 kernel source's index and download"),
        .init("tar", package: "tar", stages: [.labBuild, .kubevirtExport], purpose: "the kernel source tarball, image archives"),
        .init("sha256sum", package: "coreutils", stages: [.labBuild], purpose: "content hashes"),
        .init("chroot", package: "coreutils", stages: [.labBuild], purpose: "the vDPA module build"),
        .init("find", package: "findutils", stages: [.labBuild, .kubevirtExport], purpose: "initramfs file lists, image file times"),
        .init("sh", package: "dash", stages: [.labBuild, .labUp], purpose: "small shell steps"),
        .init("qemu-system-riscv64", package: "qemu-system-misc", stages: [.labBuild, .labUp],
              purpose: "L0, the emulated riscv64 host"),
        .init("unshare", package: "util-linux", stages: [.labUp], purpose: "the QEMU 10 L0's mount namespace"),
        .init("ssh", package: "openssh-client", stages: [.labUp, .run], purpose: "L1 and boards"),
        .init("libvirtd", package: "libvirt-daemon", stages: [.services], purpose: "the controller's libvirt"),
        .init("virtlogd", package: "libvirt-daemon", stages: [.services], purpose: "L0's console log"),
        .init("virsh", package: "libvirt-clients", stages: [.services], purpose: "the readiness check"),
        .init("umoci", package: "umoci", stages: [.kubevirtExport], purpose: "OCI image layouts without a daemon"),
        .init("debugfs", package: "e2fsprogs", stages: [.kubevirtExport], purpose: "the workload root out of the disk"),
        .init("touch", package: "coreutils", stages: [.kubevirtExport], purpose: "reproducible file times"),
        .init("chown", package: "coreutils", stages: [.kubevirtExport], purpose: "image files owned by QEMU's user"),
    ]

    /// The programs a stage needs.
    public static func needed(by stage: ControllerProgram.Stage) -> [ControllerProgram] {
        all.filter { $0.stages.contains(stage) }
    }

    /// The programs of `stage` that cannot be found; `exists` decides (by default, `PATH` and the file system).
    public static func missing(for stage: ControllerProgram.Stage,
                               exists: (String) -> Bool = ControllerPrograms.onPath) -> [ControllerProgram] {
        needed(by: stage).filter { !exists($0.name) }
    }

    /// True when `name` (a bare name or an absolute path) is an executable file, searched in `PATH`.
    public static func onPath(_ name: String) -> Bool {
        if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) }
        return Subprocess.which(name) != nil
    }

    /// Throws one error naming every missing program of `stages` and the packages that install them.
    public static func require(_ stages: [ControllerProgram.Stage], command: String,
                               exists: (String) -> Bool = ControllerPrograms.onPath) throws {
        var seen = Set<String>()
        let absent = stages.flatMap { Self.missing(for: $0, exists: exists) }.filter { seen.insert($0.name).inserted }
        guard !absent.isEmpty else { return }
        let packages = Array(Set(absent.map(\.package))).sorted()
        let names = absent.map { "\($0.name) (\($0.package), for \($0.purpose))" }.joined(separator: ", ")
        throw RVBenchError(.notFound, "\(command) needs programs that are not installed: \(names); "
                           + "install them with `apt-get install --no-install-recommends \(packages.joined(separator: " "))`, "
                           + "or run scripts/deps.sh")
    }
}
