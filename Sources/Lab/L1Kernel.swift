// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Which kernel the lab's KVM host (L1) boots.
public enum LabL1Kernel: String, Sendable, Codable, CaseIterable {
    /// Fallback: Debian 13's `linux-image-riscv64` (6.12), plus the vDPA simulator modules built out of
    /// tree, for when the archive no longer serves the own kernel's source. It has no RISC-V IOMMU driver,
    /// so the lab cannot assign devices with VFIO.
    case debian
    /// The default: the lab's own kernel, cross-built from Debian sid's `linux-source-7.2` with a trimmed
    /// configuration (`workloads/lab/host-kernel.config`) and the patches in `workloads/lab/patches/`:
    /// the RISC-V IOMMU, VFIO with type1, NVMe, vhost-vdpa, `vdpa_sim_blk` and `vp_vdpa`.
    case own

    /// The choice from `RVBENCH_L1_KERNEL` (`debian` or `own`), else `own`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> LabL1Kernel {
        guard let raw = env["RVBENCH_L1_KERNEL"], !raw.isEmpty else { return .own }
        guard let value = LabL1Kernel(rawValue: raw) else {
            throw RVBenchError(.badInput, "RVBENCH_L1_KERNEL=\(raw) is not a lab L1 kernel; use debian or own")
        }
        return value
    }
}

/// A Debian binary package as the archive's index describes it.
public struct IndexedPackage: Sendable, Codable, Equatable {
    public var name: String
    public var version: String
    /// Path of the `.deb` below the mirror's root (`pool/main/...`).
    public var filename: String
    public var sha256: String
    public var size: Int64

    public init(name: String, version: String, filename: String, sha256: String, size: Int64) {
        self.name = name
        self.version = version
        self.filename = filename
        self.sha256 = sha256
        self.size = size
    }

    /// Parses the first stanza of `apt-cache show PACKAGE` output; nil when a field is missing.
    public init?(aptCacheShow text: String) {
        let stanza = text.components(separatedBy: "\n\n").first ?? ""
        var fields: [String: String] = [:]
        for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let name = fields["Package"], let version = fields["Version"], let filename = fields["Filename"],
              let sha = fields["SHA256"], sha.count == 64, let size = fields["Size"].flatMap({ Int64($0) })
        else { return nil }
        self.init(name: name, version: version, filename: filename, sha256: sha, size: size)
    }
}

/// How the lab's own L1 kernel was made.
public struct L1KernelRecord: Sendable, Codable, Equatable {
    public var key: String
    /// `linux-source-7.2`.
    public var sourcePackage: String
    /// The Debian version the archive served, e.g. `7.2.13-1`.
    public var sourceVersion: String
    /// The suite it came from (`sid`).
    public var suite: String
    /// SHA-256 of the source `.deb`, as the archive's index gives it and as checked after download.
    public var sourceSHA256: String
    public var fragmentSHA256: String
    /// Patch file name to SHA-256, applied in name order.
    public var patches: [String: String]
    public var compiler: String
    /// `make kernelrelease`, e.g. `7.2.13-rvbench`.
    public var release: String
    public var configSHA256: String
    /// Fragment options that the final configuration does not have (kconfig dropped them).
    public var droppedOptions: [String]
    /// Loadable modules installed into the host root.
    public var modules: Int
}

/// The lab's own L1 kernel after its build: where its pieces are.
struct BuiltL1Kernel {
    var dir: URL
    var record: L1KernelRecord
    var image: URL { dir.appendingPathComponent("Image") }
    /// The same tree and configuration built once more for L2: only the vDSO differs (no time functions).
    var guestImage: URL { dir.appendingPathComponent("guest-Image") }
    var config: URL { dir.appendingPathComponent("config") }
    /// `lib/modules/<release>` below this directory (`make modules_install INSTALL_MOD_PATH=...`).
    var modulesRoot: URL { dir.appendingPathComponent("modroot") }
}

extension LabBuilder {
    /// The Debian source package the lab's own L1 kernel is built from, and the suite that has it.
    public static let l1SourcePackage = "linux-source-7.2"
    public static let l1SourceSuite = "sid"
    /// The kernel's local version (`CONFIG_LOCALVERSION`), so `uname -r` says whose kernel it is.
    static let l1LocalVersion = "-rvbench"

    /// The environment of a kernel build: the cross compiler, and none of an enclosing make's variables. Run
    /// from `make test`, MAKEFLAGS and MAKELEVEL made the kernel's make print "Entering directory" lines into
    /// the output of `make kernelrelease`.
    static let kernelMakeEnvironment = ["ARCH": "riscv", "CROSS_COMPILE": "riscv64-linux-gnu-",
                                        "MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": "", "MAKEOVERRIDES": ""]

    /// `uname -r` material: one word of letters, digits, dots, pluses, minuses and underscores.
    static func isKernelRelease(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || ".+-_".unicodeScalars.contains($0) }
    }

    /// A private apt state for one suite under the cache (its lists survive between builds, so apt
    /// fetches index diffs, not whole indexes).
    func aptOptions(suite: String) -> (dir: URL, options: [String]) {
        let dir = paths.lab.appendingPathComponent("apt-\(suite)", isDirectory: true)
        let options = [
            "-o", "Dir::Etc::SourceList=\(dir.path)/sources.list", "-o", "Dir::Etc::SourceParts=\(dir.path)/sources.list.d",
            "-o", "Dir::State::Lists=\(dir.path)/lists", "-o", "Dir::Cache=\(dir.path)/cache",
            "-o", "Dir::State::Status=\(dir.path)/status", "-o", "Dir::Etc::Preferences=\(dir.path)/preferences",
            "-o", "Dir::Etc::PreferencesParts=\(dir.path)/preferences.d",
            "-o", "Acquire::Languages=none", "-o", "APT::Architecture=amd64", "-o", "APT::Architectures=amd64",
            "-o", "APT::Sandbox::User=root",
        ]
        return (dir, options)
    }

    /// Resolves `linux-source-7.2` in sid through apt's own client and this machine's mirror.
    /// Offline, the last resolved index is used. Fails, naming what the suite does serve, when the
    /// package is gone.
    func resolveL1Source(mirror: String) async throws -> IndexedPackage {
        let suite = Self.l1SourceSuite, name = Self.l1SourcePackage
        let (dir, options) = aptOptions(suite: suite)
        let fm = FileManager.default
        for sub in ["lists/partial", "cache/archives/partial", "sources.list.d", "preferences.d"] {
            try fm.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        if !fm.fileExists(atPath: dir.appendingPathComponent("status").path) {
            try Data().write(to: dir.appendingPathComponent("status"))
        }
        try Data("deb \(mirror) \(suite) main\n".utf8).write(to: dir.appendingPathComponent("sources.list"))
        let update = try await Subprocess.run(["apt-get", "-q"] + options + ["update"], timeout: 600)
        let show = try await Subprocess.run(["apt-cache"] + options + ["show", "--no-all-versions", name], timeout: 120)
        if update.status != 0 {
            guard show.status == 0 else {
                throw RVBenchError(.process, "cannot read Debian \(suite)'s package index from \(mirror) (apt-get update failed) "
                    + "and no earlier index is cached; check the network and apt's configuration\n"
                    + update.stderrString.suffix(600))
            }
            progress("L1 kernel source: cannot reach the Debian mirror; using the last known \(suite) index (offline)")
        }
        guard show.status == 0, let package = IndexedPackage(aptCacheShow: show.stdoutString) else {
            let search = try? await Subprocess.run(["apt-cache"] + options + ["search", "--names-only", "^linux-source-[0-9]"],
                                                   timeout: 120)
            throw Self.sourceGone(searchOutput: search?.stdoutString ?? "")
        }
        return package
    }

    /// The error when sid no longer serves the source package; `searchOutput` is `apt-cache search`'s
    /// "name - description" lines.
    static func sourceGone(searchOutput: String) -> RVBenchError {
        let served = searchOutput.split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }.sorted()
        return RVBenchError(.notFound, "Debian \(l1SourceSuite) no longer serves \(l1SourcePackage) (it serves "
            + (served.isEmpty ? "no linux-source package" : served.joined(separator: ", "))
            + "); the lab's own L1 kernel is written for 7.2: port workloads/lab/host-kernel.config and "
            + "workloads/lab/patches/ to the new source and change LabBuilder.l1SourcePackage, or build the lab with "
            + "--l1-kernel debian")
    }

    /// Downloads the source package (cached by its index hash) and checks its SHA-256.
    func downloadL1Source(_ package: IndexedPackage, steps: inout [LabBuildStep]) async throws -> URL {
        let t0 = Date()
        let key = CacheKey(kind: "linux-source", inputs: [
            "package": package.name, "version": package.version, "sha256": package.sha256, "suite": Self.l1SourceSuite,
        ])
        let dir = paths.artifact("linux-source", key: key)
        let (_, options) = aptOptions(suite: Self.l1SourceSuite)
        let reused = try await cached(dir, what: "\(package.name) \(package.version) from \(Self.l1SourceSuite) "
                                      + "(\(package.size / 1_000_000) MB)", key: key) { out in
            try await Subprocess.check(["apt-get", "-q"] + options + ["download", "\(package.name)=\(package.version)"],
                                       directory: out.path, timeout: 1800)
            let debs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".deb") }
            guard let deb = debs.first, debs.count == 1 else {
                throw RVBenchError(.process, "apt-get download left \(debs.count) packages in \(out.path); expected \(package.name)")
            }
            try FileManager.default.moveItem(at: out.appendingPathComponent(deb), to: out.appendingPathComponent("source.deb"))
            let sha = try await fileSHA256(out.appendingPathComponent("source.deb"))
            guard sha == package.sha256 else {
                throw RVBenchError(.format, "\(deb) has SHA-256 \(sha), but the \(Self.l1SourceSuite) index says "
                    + "\(package.sha256); run `rvbench lab build` again")
            }
        }
        steps.append(LabBuildStep(name: "linux-source", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return dir.appendingPathComponent("source.deb")
    }

    /// The patches of the own L1 kernel, in the order they are applied (file name order).
    func l1Patches() throws -> [URL] {
        let dir = labDir.appendingPathComponent("patches", isDirectory: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".patch") }.sorted()
        return names.map { dir.appendingPathComponent($0) }
    }

    /// The cache key of the own L1 kernel: the source package, the fragment, every patch, the
    /// compiler and the recipe.
    static func l1KernelKey(source: IndexedPackage, fragmentSHA256: String, patches: [(name: String, sha256: String)],
                            compiler: String) -> CacheKey {
        CacheKey(kind: "l1-kernel", inputs: [
            "source": "\(source.name) \(source.version)", "sourceSHA256": source.sha256, "suite": l1SourceSuite,
            "fragmentSHA256": fragmentSHA256,
            "patches": patches.map { "\($0.name)=\($0.sha256)" }.joined(separator: ","),
            "compiler": compiler, "localVersion": l1LocalVersion,
            "recipe": "tinyconfig+patches+merge_config+olddefconfig+Image+modules, guest Image with a vDSO without time functions v2",
        ])
    }

    /// Cross-builds (or reuses) the lab's own L1 kernel: `Image`, `config`, and the modules below `modroot/`.
    func buildL1Kernel(mirror: String, steps: inout [LabBuildStep]) async throws -> BuiltL1Kernel {
        let source = try await resolveL1Source(mirror: mirror)
        progress("L1 kernel source: \(source.name) \(source.version) from Debian \(Self.l1SourceSuite)")
        let deb = try await downloadL1Source(source, steps: &steps)
        let t0 = Date()
        let fragment = labDir.appendingPathComponent("host-kernel.config")
        let fragmentSHA = try SHA256.hex(ofFile: fragment)
        let patches = try l1Patches()
        let patchHashes = try patches.map { (name: $0.lastPathComponent, sha256: try SHA256.hex(ofFile: $0)) }
        let compiler = try await Subprocess.check(["riscv64-linux-gnu-gcc", "--version"], timeout: 30)
            .split(separator: "\n").first.map(String.init) ?? "unknown"
        let key = Self.l1KernelKey(source: source, fragmentSHA256: fragmentSHA, patches: patchHashes, compiler: compiler)
        let dir = paths.artifact("l1-kernel", key: key)
        let reused = try await cached(dir, what: "L1 kernel \(source.name) \(source.version)", key: key) { out in
            let fm = FileManager.default
            let unpacked = out.appendingPathComponent("deb")
            let work = out.appendingPathComponent("src")
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
            self.progress("L1 kernel: unpacking \(source.name) \(source.version)")
            try await Subprocess.check(["dpkg-deb", "-x", deb.path, unpacked.path], timeout: 600)
            let tarball = unpacked.appendingPathComponent("usr/src/\(source.name).tar.xz")
            try await Subprocess.check(["tar", "-xf", tarball.path, "-C", work.path, "--strip-components=1"], timeout: 1200)
            try fm.removeItem(at: unpacked)
            for patch in patches {
                self.progress("L1 kernel: applying \(patch.lastPathComponent)")
                try await Subprocess.check(["patch", "-p1", "--forward", "--batch", "-i", patch.path],
                                           directory: work.path, timeout: 60)
            }
            let env = Self.kernelMakeEnvironment.merging(["LOCALVERSION": Self.l1LocalVersion]) { $1 }
            try await Subprocess.check(["make", "-s", "tinyconfig"], environment: env, directory: work.path, timeout: 300)
            try await Subprocess.check(["scripts/kconfig/merge_config.sh", "-m", ".config", fragment.path],
                                       environment: env, directory: work.path, timeout: 300)
            try await Subprocess.check(["make", "-s", "olddefconfig"], environment: env, directory: work.path, timeout: 300)
            try await self.runWithProgress(["make", "-j\(self.jobs)", "Image", "modules"], environment: env,
                                           directory: work.path, timeout: 7200, label: "L1 kernel", counting: "  CC ")
            let release = try await Subprocess.check(["make", "-s", "--no-print-directory", "kernelrelease"],
                                                     environment: env, directory: work.path, timeout: 120)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.isKernelRelease(release) else {
                throw RVBenchError(.process, "`make kernelrelease` in \(work.path) printed \(release.debugDescription), "
                    + "not a kernel release like 7.2.13\(Self.l1LocalVersion)")
            }
            try await Subprocess.check(["make", "-s", "modules_install", "INSTALL_MOD_PATH=\(out.path)/modroot",
                                        "INSTALL_MOD_STRIP=1", "DEPMOD=true"],
                                       environment: env, directory: work.path, timeout: 600)
            try fm.copyItem(at: work.appendingPathComponent("arch/riscv/boot/Image"), to: out.appendingPathComponent("Image"))
            try fm.copyItem(at: work.appendingPathComponent(".config"), to: out.appendingPathComponent("config"))
            try Data((release + "\n").utf8).write(to: out.appendingPathComponent("release"))
            // L2's kernel is this one, so that native and guest variants run the same kernel and the lab
            // compiles one. Only its vDSO differs (see removeVDSOTimeFunctions); the relink is short.
            self.progress("L1 kernel: the guest's Image (vDSO without time functions)")
            try await Self.removeVDSOTimeFunctions(in: work)
            try await self.runWithProgress(["make", "-j\(self.jobs)", "Image"], environment: env, directory: work.path,
                                           timeout: 1800, label: "guest kernel", counting: "  CC ")
            try fm.copyItem(at: work.appendingPathComponent("arch/riscv/boot/Image"),
                            to: out.appendingPathComponent("guest-Image"))
            // rm, not FileManager: removing the tree's 80,000 files file by file took minutes.
            try await Subprocess.check(["rm", "-rf", work.path], timeout: 1200)
        }
        let config = try String(contentsOf: dir.appendingPathComponent("config"), encoding: .utf8)
        let release = try String(contentsOf: dir.appendingPathComponent("release"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let dropped = KernelConfig.dropped(fragment: try String(contentsOf: fragment, encoding: .utf8), final: config)
        if !reused, !dropped.isEmpty {
            progress("L1 kernel: kconfig did not keep \(dropped.joined(separator: ", "))")
        }
        let modules = try await Subprocess.check(["find", dir.appendingPathComponent("modroot").path, "-name", "*.ko"],
                                                 timeout: 60).split(separator: "\n").count
        steps.append(LabBuildStep(name: "l1-kernel", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        let record = L1KernelRecord(
            key: key.short, sourcePackage: source.name, sourceVersion: source.version, suite: Self.l1SourceSuite,
            sourceSHA256: source.sha256, fragmentSHA256: fragmentSHA,
            patches: Dictionary(uniqueKeysWithValues: patchHashes.map { ($0.name, $0.sha256) }), compiler: compiler,
            release: release, configSHA256: SHA256.hex(of: Data(config.utf8)), droppedOptions: dropped, modules: modules)
        return BuiltL1Kernel(dir: dir, record: record)
    }
}
