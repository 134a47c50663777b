// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Logging
import RVBenchCore

/// Builds the lab's artifacts (`rvbench lab build`), each cached under its content hash.
///
/// Steps, in order: the lab's SSH key, the trixie archive state, the guest (L2) kernel, the
/// host (L1) root, the workload root, the guest initramfs, the L1 initramfs, the workload
/// disk and the data disk. A step whose key directory exists is reused.
public struct LabBuilder: Sendable {
    public var paths: LabPaths
    /// The rvbench checkout (for `workloads/lab/...`).
    public var source: URL
    /// The workloads' build output (copied to `/opt/rvbench` on the workload disk), if built.
    public var workloadsOut: URL?
    /// Parallel jobs of the kernel build (the machine is shared: at most 2).
    public var jobs: Int
    /// Which kernel L1 boots: the lab's own (the default) or Debian's (`--l1-kernel debian`, the fallback).
    public var l1Kernel: LabL1Kernel
    public var logger: Logger
    /// One line per phase, for the terminal.
    public var progress: @Sendable (String) -> Void

    public init(paths: LabPaths, source: URL, workloadsOut: URL?, jobs: Int = 2, l1Kernel: LabL1Kernel = .own,
                logger: Logger, progress: @escaping @Sendable (String) -> Void) {
        self.paths = paths
        self.source = source
        self.workloadsOut = workloadsOut
        self.jobs = jobs
        self.l1Kernel = l1Kernel
        self.logger = logger
        self.progress = progress
    }

    /// Where L2's kernel and initramfs live inside L1.
    public static let l1GuestDirectory = "/var/lib/rvbench/guest"
    static let suite = "trixie"
    static let firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"

    var labDir: URL { source.appendingPathComponent("workloads/lab", isDirectory: true) }

    /// Builds what is missing and writes `manifest.json`; returns the manifest.
    @discardableResult
    public func build() async throws -> LabManifest {
        let started = Date()
        try ControllerPrograms.require([.labBuild], command: "lab build")
        var steps: [LabBuildStep] = []
        try FileManager.default.createDirectory(at: paths.lab, withIntermediateDirectories: true)

        try await ensureSSHKey()
        let mirror = try DebianMirror.fromAptConfiguration()
        let release = try await archiveRelease(mirror: mirror)
        progress("archive: \(release.suite) \(release.version ?? "") dated \(release.date ?? "?") (InRelease \(release.sha256.prefix(12)))")

        // The lab's own L1 kernel replaces Debian's kernel package in the host root and is L2's kernel too;
        // with Debian's L1 kernel, L2's is built from bookworm's linux-source-6.1.
        let ownKernel = l1Kernel == .own ? try await buildL1Kernel(mirror: mirror, steps: &steps) : nil
        let guestKernel: GuestKernelRecord
        if let ownKernel {
            guestKernel = try await guestKernelRecord(of: ownKernel)
        } else {
            guestKernel = try await buildGuestKernel(steps: &steps)
        }
        let hostPackages = Self.hostPackages(try PackageList.read(labDir.appendingPathComponent("host-packages.txt")),
                                             l1Kernel: l1Kernel)
        let hostRoot = try await buildRoot(name: "host-root", kind: "host", packages: hostPackages, mirror: mirror,
                                           release: release, pack: true, kernel: ownKernel, steps: &steps)
        var workloadPackages = ["busybox-static"]
        let wlList = source.appendingPathComponent("workloads/packages.txt")
        if FileManager.default.fileExists(atPath: wlList.path) {
            workloadPackages += try PackageList.read(wlList)
        } else {
            workloadPackages += ["ffmpeg", "libonnxruntime1.21"]
        }
        let workloadRoot = try await buildRoot(name: "workload-root", kind: "workload",
                                               packages: Array(Set(workloadPackages)).sorted(), mirror: mirror,
                                               release: release, pack: false, steps: &steps)

        // The L1 kernel and its configuration, checked against the lab's requirements.
        let hostRootDir = hostRoot.dir.appendingPathComponent("root")
        let kernelRelease = try ownKernel?.record.release ?? Self.kernelRelease(in: hostRootDir)
        let l1KernelImage = ownKernel?.image ?? hostRootDir.appendingPathComponent("boot/vmlinux-\(kernelRelease)")
        let l1Config = ownKernel?.config ?? hostRootDir.appendingPathComponent("boot/config-\(kernelRelease)")
        let requirements = try KernelRequirement.parse(
            String(contentsOf: labDir.appendingPathComponent("host-kernel.require"), encoding: .utf8))
        let checks = KernelConfig(parsing: try String(contentsOf: l1Config, encoding: .utf8)).check(requirements)
        let missing = checks.filter { $0.state == .missing }.map(\.option)
        progress("host kernel \(kernelRelease): \(checks.count - missing.count)/\(checks.count) required options present"
                 + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))"))

        let guestInitramfs = try await buildGuestInitramfs(hostRoot: hostRootDir, steps: &steps)
        // Debian's kernel lacks the vDPA simulators; the own kernel builds them as modules.
        let vdpaModules = ownKernel == nil
            ? try await buildVDPAModules(kernelRelease: kernelRelease, mirror: mirror, release: release, steps: &steps)
            : nil
        let l1Initramfs = try await buildL1Initramfs(hostRoot: hostRoot.dir, hostRootKey: hostRoot.record.key,
                                                     guestKernel: guestKernel.image, guestInitramfs: guestInitramfs,
                                                     vdpaModules: vdpaModules, steps: &steps)
        let (disk, treeHash) = try await buildWorkloadDisk(workloadRoot: workloadRoot.dir,
                                                           workloadRootKey: workloadRoot.record.key, steps: &steps)
        let dataDisk = try await buildDataDisk(steps: &steps)

        let id = String(SHA256.hex(of: steps.map { "\($0.name)=\($0.key)" }.joined(separator: "\n")).prefix(16))
        var previous: LabManifest?
        if FileManager.default.fileExists(atPath: paths.manifest.path) {
            previous = try? LabManifest.load(from: paths.manifest)
        }
        if let previous, steps.allSatisfy(\.reused), previous.id == id {
            progress("lab build: nothing to do; every artifact is cached (build \(id))")
            return previous
        }

        var artifacts: [String: Artifact] = [:]
        artifacts["l1-kernel"] = try await artifact(l1KernelImage)
        artifacts["l1-initramfs"] = try await artifact(l1Initramfs)
        artifacts["guest-kernel"] = guestKernel.image
        artifacts["guest-initramfs"] = try await artifact(guestInitramfs)
        artifacts["workload-disk"] = try await artifact(disk)
        artifacts["data-disk"] = try await artifact(dataDisk)
        artifacts["firmware"] = try await artifact(URL(fileURLWithPath: Self.firmware))

        let manifest = LabManifest(
            schema: LabManifest.schemaString, id: id, builtAt: Date(), archive: release,
            tools: try await toolVersions(), guestKernel: guestKernel, hostRoot: hostRoot.record,
            workloadRoot: workloadRoot.record, hostKernelRelease: kernelRelease,
            hostKernelConfigSHA256: try await fileSHA256(l1Config), hostKernelOptions: checks,
            workloadsTreeSHA256: treeHash, artifacts: artifacts,
            l1GuestKernelPath: Self.l1GuestDirectory + "/Image",
            l1GuestInitramfsPath: Self.l1GuestDirectory + "/initramfs.cpio", steps: steps, l1Kernel: ownKernel?.record)

        try manifest.encoded().write(to: paths.manifest, options: .atomic)
        let built = steps.filter { !$0.reused }.map(\.name)
        progress("lab build: done in \(Self.format(Date().timeIntervalSince(started))); built \(built.isEmpty ? "nothing" : built.joined(separator: ", ")); build \(manifest.id); manifest \(paths.manifest.path)")
        return manifest
    }

    // MARK: - Steps
    /// L2's kernel when the lab builds its own L1 kernel: that build's guest image (see `BuiltL1Kernel.guestImage`).
    func guestKernelRecord(of kernel: BuiltL1Kernel) async throws -> GuestKernelRecord {
        let r = kernel.record
        return GuestKernelRecord(
            key: r.key, sourcePackage: r.sourcePackage, sourceVersion: r.sourceVersion, sourceSHA256: r.sourceSHA256,
            fragmentSHA256: r.fragmentSHA256, compiler: r.compiler, configSHA256: r.configSHA256,
            droppedOptions: r.droppedOptions, image: try await artifact(kernel.guestImage))
    }

    /// Every L2 kernel's vDSO offers no time functions: with QEMU 7.2 as L0, reading the `time` CSR from
    /// user mode in a KVM guest raises an illegal-instruction exception. Without them the C library uses the
    /// clock_gettime system call. Kbuild notices the changed flags and rebuilds the vDSO.
    static func removeVDSOTimeFunctions(in tree: URL) async throws {
        try await Subprocess.check(["sed", "-i", "/-DHAS_VGETTIMEOFDAY/d", "arch/riscv/kernel/vdso/Makefile"],
                                   directory: tree.path, timeout: 60)
    }

    func ensureSSHKey() async throws {
        if FileManager.default.fileExists(atPath: paths.sshKey.path),
           FileManager.default.fileExists(atPath: paths.sshPublicKey.path) { return }
        try FileManager.default.createDirectory(at: paths.sshDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try? FileManager.default.removeItem(at: paths.sshKey)
        try? FileManager.default.removeItem(at: paths.sshPublicKey)
        try await Subprocess.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rvbench-lab",
                                    "-f", paths.sshKey.path], timeout: 60)
        progress("ssh: generated the lab key \(paths.sshKey.path)")
    }

    func archiveRelease(mirror: String) async throws -> ArchiveRelease {
        let dir = paths.lab.appendingPathComponent("archive", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(Self.suite)-InRelease")
        let tmp = dir.appendingPathComponent(".\(Self.suite)-InRelease.tmp")
        try? FileManager.default.removeItem(at: tmp)
        let r = try await Subprocess.run(["/usr/lib/apt/apt-helper", "download-file",
                                          "\(mirror)/dists/\(Self.suite)/InRelease", tmp.path], timeout: 60)
        if r.status == 0, FileManager.default.fileExists(atPath: tmp.path) {
            _ = try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: tmp, to: file)
        } else if FileManager.default.fileExists(atPath: file.path) {
            progress("archive: cannot reach the Debian mirror; using the last known \(Self.suite) state (offline)")
        } else {
            throw RVBenchError(.process, "cannot download \(Self.suite)'s InRelease from \(mirror); check the network and apt's configuration\n\(r.stderrString)")
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        func field(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
        }
        return ArchiveRelease(suite: Self.suite, date: field("Date"), version: field("Version"),
                              sha256: SHA256.hex(of: Data(text.utf8)))
    }

    func buildGuestKernel(steps: inout [LabBuildStep]) async throws -> GuestKernelRecord {
        let t0 = Date()
        let tarball = try Self.linuxSourceTarball()
        let package = tarball.deletingPathExtension().deletingPathExtension().lastPathComponent
        let version = try await Subprocess.check(["dpkg-query", "-W", "-f=${Version}", package], timeout: 30)
        let tarSHA = try await fileSHA256(tarball)
        let fragment = labDir.appendingPathComponent("guest-kernel.config")
        let fragmentSHA = try SHA256.hex(ofFile: fragment)
        let compiler = try await Subprocess.check(["riscv64-linux-gnu-gcc", "--version"], timeout: 30)
            .split(separator: "\n").first.map(String.init) ?? "unknown"
        let key = CacheKey(kind: "guest-kernel", inputs: [
            "source": "\(package) \(version)", "sourceSHA256": tarSHA, "fragmentSHA256": fragmentSHA,
            "compiler": compiler, "recipe": "tinyconfig+merge_config+olddefconfig+Image, vDSO without time functions v2",
        ])
        let dir = paths.artifact("guest-kernel", key: key)
        let reused = try await cached(dir, what: "guest kernel \(package) \(version)", key: key) { out in
            let work = out.appendingPathComponent("src")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            self.progress("guest kernel: unpacking \(tarball.lastPathComponent)")
            try await Subprocess.check(["tar", "-xf", tarball.path, "-C", work.path, "--strip-components=1"], timeout: 600)
            try await Self.removeVDSOTimeFunctions(in: work)
            let env = Self.kernelMakeEnvironment
            try await Subprocess.check(["make", "-s", "tinyconfig"], environment: env, directory: work.path, timeout: 300)
            try await Subprocess.check(["scripts/kconfig/merge_config.sh", "-m", ".config", fragment.path],
                                       environment: env, directory: work.path, timeout: 300)
            try await Subprocess.check(["make", "-s", "olddefconfig"], environment: env, directory: work.path, timeout: 300)
            try await self.runWithProgress(["make", "-j\(self.jobs)", "Image"], environment: env, directory: work.path,
                                           timeout: 3600, label: "guest kernel", counting: "  CC ")
            try FileManager.default.copyItem(at: work.appendingPathComponent("arch/riscv/boot/Image"),
                                             to: out.appendingPathComponent("Image"))
            try FileManager.default.copyItem(at: work.appendingPathComponent(".config"),
                                             to: out.appendingPathComponent("config"))
            try FileManager.default.removeItem(at: work)
        }
        let config = try String(contentsOf: dir.appendingPathComponent("config"), encoding: .utf8)
        let parsed = KernelConfig(parsing: config)
        let fragmentText = try String(contentsOf: fragment, encoding: .utf8)
        let wanted = KernelConfig(parsing: fragmentText).values
        let dropped = wanted.keys.filter { parsed.values[$0] != wanted[$0] }.sorted()
        if !reused, !dropped.isEmpty {
            progress("guest kernel: kconfig did not keep \(dropped.joined(separator: ", "))")
        }
        steps.append(LabBuildStep(name: "guest-kernel", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return GuestKernelRecord(
            key: key.short, sourcePackage: package, sourceVersion: version, sourceSHA256: tarSHA,
            fragmentSHA256: fragmentSHA, compiler: compiler, configSHA256: SHA256.hex(of: Data(config.utf8)),
            droppedOptions: dropped, image: try await artifact(dir.appendingPathComponent("Image")))
    }

    struct BuiltRoot {
        var dir: URL
        var record: RootRecord
    }

    /// mmdebstrap (extract variant), the fix-ups, and for the host root: depmod and a packed cpio.
    func buildRoot(name: String, kind: String, packages: [String], mirror: String, release: ArchiveRelease,
                   pack: Bool, kernel: BuiltL1Kernel? = nil, steps: inout [LabBuildStep]) async throws -> BuiltRoot {
        let t0 = Date()
        let fixup = labDir.appendingPathComponent("fixup-root.sh")
        let fixupSHA = try SHA256.hex(ofFile: fixup)
        var inputs = [
            "packages": packages.joined(separator: ","), "suite": release.suite, "inRelease": release.sha256,
            "fixupSHA256": fixupSHA, "arch": "riscv64", "variant": "extract", "pack": pack ? "cpio" : "none",
            "recipe": "mmdebstrap+fixup+depmod v1",
        ]
        // The own L1 kernel's modules are installed into the root, so the root depends on that build.
        if let kernel { inputs["l1Kernel"] = kernel.record.key }
        let key = CacheKey(kind: name, inputs: inputs)
        let dir = paths.artifact(name, key: key)
        let reused = try await cached(dir, what: "\(kind) root (\(packages.count) packages)", key: key) { out in
            let root = out.appendingPathComponent("root")
            let debList = out.appendingPathComponent("debs.txt")
            let argv = ["mmdebstrap", "--variant=extract", "--architectures=riscv64", "--include=" + packages.joined(separator: ","),
                        "--skip=cleanup/apt/cache",
                        release.suite, root.path, "deb \(mirror) \(release.suite) main"]
            try await self.mmdebstrapRetryingOnce(argv, root: root, label: "\(kind) root")
            // The archives apt kept (--skip=cleanup/apt/cache) name every unpacked package and version;
            // the fix-ups delete them.
            let archives = root.appendingPathComponent("var/cache/apt/archives")
            let debs = ((try? FileManager.default.contentsOfDirectory(atPath: archives.path)) ?? [])
                .filter { $0.hasSuffix(".deb") }.sorted()
            guard !debs.isEmpty else {
                throw RVBenchError(.process, "mmdebstrap left no package archives for the \(kind) root; check mmdebstrap's --skip=cleanup/apt/cache support")
            }
            try Data((debs.joined(separator: "\n") + "\n").utf8).write(to: debList)
            self.progress("\(kind) root: fix-ups")
            try await Subprocess.check(["sh", fixup.path, kind, root.path], timeout: 600)
            if kind == "host" {
                if let kernel {
                    try await Self.installL1Kernel(kernel, into: root)
                }
                let release = try kernel?.record.release ?? Self.kernelRelease(in: root)
                try await Subprocess.check(["depmod", "-b", root.path, release], timeout: 600)
                try await Subprocess.check(["sh", "-c", "cd \"$1\" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 --reproducible > \"$2\"",
                                            "sh", root.path, out.appendingPathComponent("root.cpio").path], timeout: 900)
            }
        }
        let debs = try String(contentsOf: dir.appendingPathComponent("debs.txt"), encoding: .utf8)
        let versions = debs.split(separator: "\n").compactMap { PackageVersion(debFileName: String($0)) }.sorted()
        steps.append(LabBuildStep(name: name, key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return BuiltRoot(dir: dir, record: RootRecord(key: key.short, requested: packages, packages: versions,
                                                      fixupSHA256: fixupSHA))
    }

    /// Runs mmdebstrap into `root`. Downloads from the archive can fail transiently (a dropped
    /// connection ends mmdebstrap with SIGPIPE), so a failure is retried once from an empty directory.
    func mmdebstrapRetryingOnce(_ argv: [String], root: URL, label: String) async throws {
        do {
            try await runWithProgress(argv, timeout: 1800, label: label, counting: nil)
        } catch {
            progress("\(label): mmdebstrap failed; retrying once: \(String(describing: error).split(separator: "\n").first ?? "")")
            try? FileManager.default.removeItem(at: root)
            try await runWithProgress(argv, timeout: 1800, label: label, counting: nil)
        }
    }

    /// L2's stand-in initramfs: a static busybox and `guest-init.sh` as `/init`.
    func buildGuestInitramfs(hostRoot: URL, steps: inout [LabBuildStep]) async throws -> URL {
        let t0 = Date()
        let busybox = hostRoot.appendingPathComponent("usr/bin/busybox")
        let initScript = labDir.appendingPathComponent("guest-init.sh")
        // The workload runner is the guest's /init when the workloads are built; the stand-in
        // script stays at /hello-init (boot with `rdinit=/hello-init`) for quick boot checks.
        let runner = workloadsOut?.appendingPathComponent("bin/rvbench-runner")
        let runnerSHA = try runner.flatMap { FileManager.default.fileExists(atPath: $0.path) ? try SHA256.hex(ofFile: $0) : nil }
        let key = CacheKey(kind: "guest-initramfs", inputs: [
            "busyboxSHA256": try await fileSHA256(busybox), "initSHA256": try SHA256.hex(ofFile: initScript),
            "runnerSHA256": runnerSHA ?? "none",
            "recipe": "busybox+runner+hello-init newc v2",
        ])
        let dir = paths.artifact("guest-initramfs", key: key)
        let reused = try await cached(dir, what: "guest initramfs", key: key) { out in
            let tree = out.appendingPathComponent("tree")
            let fm = FileManager.default
            for sub in ["bin", "dev", "proc", "sys", "tmp"] {
                try fm.createDirectory(at: tree.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            try fm.copyItem(at: busybox, to: tree.appendingPathComponent("bin/busybox"))
            try fm.createDirectory(at: tree.appendingPathComponent("mnt"), withIntermediateDirectories: true)
            try fm.copyItem(at: initScript, to: tree.appendingPathComponent("hello-init"))
            if let runner, runnerSHA != nil {
                try fm.copyItem(at: runner, to: tree.appendingPathComponent("init"))
            } else {
                self.progress("guest initramfs: workloads not built (make -C workloads); /init is the stand-in script")
                try fm.copyItem(at: initScript, to: tree.appendingPathComponent("init"))
            }
            for file in ["init", "hello-init"] {
                try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tree.appendingPathComponent(file).path)
            }
            try await Self.packCPIO(tree, to: out.appendingPathComponent("initramfs.cpio"))
            try fm.removeItem(at: tree)
        }
        steps.append(LabBuildStep(name: "guest-initramfs", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return dir.appendingPathComponent("initramfs.cpio")
    }

    /// The host root's cpio followed by a second archive with `/init`, the controller's SSH key
    /// and L2's kernel and initramfs (the kernel unpacks concatenated archives in order).
    func buildL1Initramfs(hostRoot: URL, hostRootKey: String, guestKernel: Artifact, guestInitramfs: URL,
                          vdpaModules: URL?, steps: inout [LabBuildStep]) async throws -> URL {
        let t0 = Date()
        let initScript = labDir.appendingPathComponent("host-init.sh")
        let pub = try String(contentsOf: paths.sshPublicKey, encoding: .utf8)
        var moduleHashes: [String] = []
        if let vdpaModules {
            for name in Self.vdpaModules {
                moduleHashes.append(try SHA256.hex(ofFile: vdpaModules.appendingPathComponent("\(name).ko")))
            }
        }
        let key = CacheKey(kind: "l1-initramfs", inputs: [
            "hostRoot": hostRootKey, "initSHA256": try SHA256.hex(ofFile: initScript),
            "sshPublicKey": pub.trimmingCharacters(in: .whitespacesAndNewlines),
            "guestKernelSHA256": guestKernel.sha256, "guestInitramfsSHA256": try await fileSHA256(guestInitramfs),
            "vdpaModulesSHA256": vdpaModules == nil ? "none (in the kernel build)" : moduleHashes.joined(separator: ","),
            "recipe": "root.cpio+overlay.cpio v2",
        ])
        let dir = paths.artifact("l1-initramfs", key: key)
        let reused = try await cached(dir, what: "L1 initramfs", key: key) { out in
            let fm = FileManager.default
            let tree = out.appendingPathComponent("overlay")
            let guestDir = tree.appendingPathComponent(String(Self.l1GuestDirectory.dropFirst()))
            let ssh = tree.appendingPathComponent("root/.ssh")
            try fm.createDirectory(at: guestDir, withIntermediateDirectories: true)
            try fm.createDirectory(at: ssh, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.copyItem(at: initScript, to: tree.appendingPathComponent("init"))
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tree.appendingPathComponent("init").path)
            try Data(pub.utf8).write(to: ssh.appendingPathComponent("authorized_keys"))
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ssh.appendingPathComponent("authorized_keys").path)
            try fm.copyItem(atPath: guestKernel.path, toPath: guestDir.appendingPathComponent("Image").path)
            try fm.copyItem(at: guestInitramfs, to: guestDir.appendingPathComponent("initramfs.cpio"))
            if let vdpaModules {
                let modules = tree.appendingPathComponent("usr/lib/rvbench/vdpa")
                try fm.createDirectory(at: modules, withIntermediateDirectories: true)
                for name in Self.vdpaModules {
                    try fm.copyItem(at: vdpaModules.appendingPathComponent("\(name).ko"),
                                    to: modules.appendingPathComponent("\(name).ko"))
                }
            }
            let overlay = out.appendingPathComponent("overlay.cpio")
            try await Self.packCPIO(tree, to: overlay)
            try await Subprocess.check(["sh", "-c", "cat \"$1\" \"$2\" > \"$3\"", "sh",
                                        hostRoot.appendingPathComponent("root.cpio").path, overlay.path,
                                        out.appendingPathComponent("initramfs.cpio").path], timeout: 600)
            try fm.removeItem(at: tree)
            try fm.removeItem(at: overlay)
        }
        steps.append(LabBuildStep(name: "l1-initramfs", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return dir.appendingPathComponent("initramfs.cpio")
    }

    /// The workload root plus the workloads' build output at `/opt/rvbench`, as an ext4 image.
    func buildWorkloadDisk(workloadRoot: URL, workloadRootKey: String,
                           steps: inout [LabBuildStep]) async throws -> (URL, String?) {
        let t0 = Date()
        var treeHash: String?
        if let out = workloadsOut, FileManager.default.fileExists(atPath: out.path) {
            treeHash = try await TreeHash.hex(of: out)
        }
        let key = CacheKey(kind: "workload-disk", inputs: [
            "workloadRoot": workloadRootKey, "workloadsTree": treeHash ?? "none", "recipe": "cp -al+mke2fs -d ext4 v1",
        ])
        let dir = paths.artifact("workload-disk", key: key)
        let reused = try await cached(dir, what: "workload disk", key: key) { out in
            let tree = out.appendingPathComponent("tree")
            try await Subprocess.check(["cp", "-al", workloadRoot.appendingPathComponent("root").path, tree.path], timeout: 600)
            if let src = self.workloadsOut, treeHash != nil {
                let dest = tree.appendingPathComponent("opt/rvbench")
                try? FileManager.default.removeItem(at: dest)
                try await Subprocess.check(["cp", "-a", src.path, dest.path], timeout: 600)
            }
            let kib = try await Subprocess.check(["du", "-sk", tree.path], timeout: 600)
                .split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { Int($0) } ?? 0
            let size = kib + kib / 4 + 65536
            try await Subprocess.check(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "rvbench-work", "-d", tree.path,
                                        out.appendingPathComponent("disk.ext4").path, "\(size)k"], timeout: 1200)
            try FileManager.default.removeItem(at: tree)
        }
        steps.append(LabBuildStep(name: "workload-disk", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return (dir.appendingPathComponent("disk.ext4"), treeHash)
    }

    /// The data disk of the I/O workloads: `DataDisk.bytes` bytes of pattern `DataDisk.pattern`, a raw image that
    /// L0 gives L1 as a read-only virtio disk (and that other datapaths can serve from other devices).
    func buildDataDisk(steps: inout [LabBuildStep]) async throws -> URL {
        let t0 = Date()
        let key = CacheKey(kind: "data-disk", inputs: [
            "pattern": DataDisk.pattern, "bytes": String(DataDisk.bytes), "recipe": "DataDisk.writeImage raw v1",
        ])
        let dir = paths.artifact("data-disk", key: key)
        let reused = try await cached(dir, what: "data disk (\(DataDisk.bytes >> 20) MiB, \(DataDisk.pattern))", key: key) { out in
            try DataDisk.writeImage(to: out.appendingPathComponent("data.img"))
        }
        steps.append(LabBuildStep(name: "data-disk", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return dir.appendingPathComponent("data.img")
    }

    // MARK: - Helpers

    /// Builds into `<dir>.partial` and renames it into place, so an interrupted build never
    /// looks complete. Returns true when the artifact was already there.
    func cached(_ dir: URL, what: String, key: CacheKey, _ body: (URL) async throws -> Void) async throws -> Bool {
        let fm = FileManager.default
        if fm.fileExists(atPath: dir.path) {
            progress("reuse \(what) [\(key.short)]")
            return true
        }
        let partial = dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + ".partial")
        try? fm.removeItem(at: partial)
        try fm.createDirectory(at: partial, withIntermediateDirectories: true)
        let t0 = Date()
        progress("build \(what) [\(key.short)]")
        do {
            try await body(partial)
            let inputs = try JSONSerialization.data(withJSONObject: key.inputs, options: [.prettyPrinted, .sortedKeys])
            try inputs.write(to: partial.appendingPathComponent("inputs.json"))
            try fm.moveItem(at: partial, to: dir)
        } catch {
            try? fm.removeItem(at: partial)
            throw error
        }
        progress("built \(what) in \(Self.format(Date().timeIntervalSince(t0)))")
        return false
    }

    /// Runs a long command and reports a line per phase (mmdebstrap's `I:` lines) or, with
    /// `counting`, a line every 20 s with how many output lines started with that marker.
    func runWithProgress(_ argv: [String], environment: [String: String] = [:], directory: String? = nil,
                         timeout: Double, label: String, counting marker: String?) async throws {
        let reporter = ProgressReporter(label: label, marker: marker, progress: progress)
        let r = try await Subprocess.run(argv, environment: environment, directory: directory, timeout: timeout,
                                         outputLimit: 1 << 20) { _, chunk in reporter.feed(chunk) }
        if r.timedOut || r.status != 0 {
            let tail = (r.stderrString + r.stdoutString).split(separator: "\n").suffix(20).joined(separator: "\n")
            throw RVBenchError(.process, "\(label): \(argv[0]) \(r.timedOut ? "timed out" : "failed with status \(r.status)")\n\(tail)")
        }
    }

    func artifact(_ url: URL) async throws -> Artifact {
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        return Artifact(path: url.path, sha256: try await fileSHA256(url),
                        bytes: (attrs[.size] as? NSNumber)?.int64Value ?? 0)
    }

    func toolVersions() async throws -> [String: String] {
        var out: [String: String] = [:]
        for (name, argv) in [("mmdebstrap", ["mmdebstrap", "--version"]),
                             ("qemu-system-riscv64", ["qemu-system-riscv64", "--version"]),
                             ("riscv64-linux-gnu-gcc", ["riscv64-linux-gnu-gcc", "--version"]),
                             ("mke2fs", ["mke2fs", "-V"]),
                             ("opensbi", ["dpkg-query", "-W", "-f=${Version}", "opensbi"])] {
            if let r = try? await Subprocess.run(argv, timeout: 30), r.status == 0 {
                out[name] = (r.stdoutString + r.stderrString).split(separator: "\n").first.map(String.init) ?? ""
            }
        }
        return out
    }

    static func linuxSourceTarball() throws -> URL {
        let src = URL(fileURLWithPath: "/usr/src")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: src.path)) ?? []
        guard let name = names.filter({ $0.hasPrefix("linux-source-") && $0.hasSuffix(".tar.xz") }).sorted().last else {
            throw RVBenchError(.notFound, "no /usr/src/linux-source-*.tar.xz: with --l1-kernel debian, L2's kernel is built "
                + "from Debian 12's kernel source; run: apt-get install linux-source-6.1")
        }
        return src.appendingPathComponent(name)
    }

    /// The host root's package list for an L1 kernel: the own kernel replaces Debian's kernel package.
    static func hostPackages(_ listed: [String], l1Kernel: LabL1Kernel) -> [String] {
        switch l1Kernel {
        case .debian: return listed
        case .own: return listed.filter { !$0.hasPrefix("linux-image-") }
        }
    }

    /// Puts the own kernel's modules at `usr/lib/modules/<release>` and its configuration at
    /// `boot/config-<release>` (where the probe and `modprobe` look); depmod runs afterwards.
    static func installL1Kernel(_ kernel: BuiltL1Kernel, into root: URL) async throws {
        let release = kernel.record.release
        let modules = root.appendingPathComponent("usr/lib/modules", isDirectory: true)
        try FileManager.default.createDirectory(at: modules, withIntermediateDirectories: true)
        try await Subprocess.check(["cp", "-a", kernel.modulesRoot.appendingPathComponent("lib/modules/\(release)").path,
                                    modules.path], timeout: 600)
        let boot = root.appendingPathComponent("boot", isDirectory: true)
        try FileManager.default.createDirectory(at: boot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: kernel.config, to: boot.appendingPathComponent("config-\(release)"))
    }

    static func kernelRelease(in root: URL) throws -> String {
        let modules = root.appendingPathComponent("usr/lib/modules")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modules.path)) ?? []
        guard let release = names.sorted().last,
              FileManager.default.fileExists(atPath: root.appendingPathComponent("boot/vmlinux-\(release)").path) else {
            throw RVBenchError(.notFound, "the host root has no kernel in /boot with modules; check host-packages.txt has linux-image-riscv64")
        }
        return release
    }

    static func packCPIO(_ tree: URL, to output: URL) async throws {
        try await Subprocess.check(["sh", "-c", "cd \"$1\" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0 --reproducible > \"$2\"",
                                    "sh", tree.path, output.path], timeout: 900)
    }

    static func format(_ seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1f s", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
    }
}

/// SHA-256 of a file through `sha256sum` (fast for the multi-hundred-megabyte images).
func fileSHA256(_ url: URL) async throws -> String {
    let out = try await Subprocess.check(["sha256sum", "-b", url.path], timeout: 600)
    guard let hex = out.split(separator: " ").first, hex.count == 64 else {
        throw RVBenchError(.process, "sha256sum printed no hash for \(url.path)")
    }
    return String(hex)
}

/// Turns a child's output into occasional progress lines. `@unchecked Sendable`: all state
/// is guarded by `lock`.
final class ProgressReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let marker: String?
    private let progress: @Sendable (String) -> Void
    private let start = Date()
    private var lastReport = Date()
    private var count = 0
    private var partial = ""

    init(label: String, marker: String?, progress: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.marker = marker
        self.progress = progress
    }

    func feed(_ chunk: Data) {
        lock.lock(); defer { lock.unlock() }
        partial += String(decoding: chunk, as: UTF8.self)
        var lines = partial.split(separator: "\n", omittingEmptySubsequences: false)
        partial = String(lines.removeLast())
        let elapsed = LabBuilder.format(Date().timeIntervalSince(start))
        for line in lines {
            if let marker {
                if line.hasPrefix(marker) { count += 1 }
            } else if line.hasPrefix("I: ") {
                progress("\(label): \(line.dropFirst(3)) (\(elapsed))")
            }
        }
        if marker != nil, Date().timeIntervalSince(lastReport) >= 20 {
            lastReport = Date()
            progress("\(label): \(count) files compiled (\(elapsed))")
        }
    }
}

/// Reads package names, one or more per line, `#` starts a comment.
enum PackageList {
    static func read(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").flatMap { line -> [String] in
            let body = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
        }
    }
}

/// The Debian mirror of this machine's apt configuration (never written into the repository).
/// The same rules as `scripts/debian-mirror.sh`, which the workloads' sysroot uses.
public enum DebianMirror {
    /// The first non-security `deb` source in `sources.list`, then every `*.list` and `*.sources` file of
    /// `sources.list.d` (each group in name order, as apt reads them).
    public static func fromAptConfiguration(directory: String = "/etc/apt") throws -> String {
        let fm = FileManager.default
        let parts = ((try? fm.contentsOfDirectory(atPath: directory + "/sources.list.d")) ?? []).sorted()
        let files = [directory + "/sources.list"]
            + parts.filter { $0.hasSuffix(".list") }.map { directory + "/sources.list.d/" + $0 }
            + parts.filter { $0.hasSuffix(".sources") }.map { directory + "/sources.list.d/" + $0 }
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            if let m = file.hasSuffix(".sources") ? parseDeb822(text) : parseOneLine(text) { return m }
        }
        throw RVBenchError(.notFound, "no Debian archive in \(directory)/sources.list or \(directory)/sources.list.d/; "
                           + "configure apt first")
    }

    /// The first `URIs:` entry of a deb822 `deb` stanza whose suites are not a security suite.
    static func parseDeb822(_ text: String) -> String? {
        for stanza in text.components(separatedBy: "\n\n") {
            var uris: [String] = [], suites: [String] = [], types: [String] = []
            for line in stanza.split(separator: "\n") where !line.hasPrefix("#") {
                let words = { (n: Int) in line.dropFirst(n).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
                if line.hasPrefix("URIs:") { uris = words(5) }
                if line.hasPrefix("Suites:") { suites = words(7) }
                if line.hasPrefix("Types:") { types = words(6) }
            }
            if types.contains("deb"), let uri = uris.first(where: { !$0.contains("security") }),
               !suites.contains(where: { $0.contains("security") }) {
                return trimmed(uri)
            }
        }
        return nil
    }

    /// The URI of the first one-line `deb` entry (options in brackets skipped) whose suite is not a security suite.
    static func parseOneLine(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard f.first == "deb" else { continue }
            var i = 1
            if f.count > i, f[i].hasPrefix("[") {
                while i < f.count, !f[i].hasSuffix("]") { i += 1 }
                i += 1
            }
            if i + 1 < f.count, !f[i + 1].contains("security") { return trimmed(f[i]) }
        }
        return nil
    }

    static func trimmed(_ uri: String) -> String {
        var u = uri
        while u.hasSuffix("/") { u.removeLast() }
        return u
    }
}
