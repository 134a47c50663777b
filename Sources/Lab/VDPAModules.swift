// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// The vDPA simulator modules Debian's riscv64 kernel is built without (VDPA_SIM, VDPA_SIM_BLK,
/// VDPA_SIM_NET, and the vringh helper they need), built out of tree for L1's kernel.
///
/// The build runs in a Debian 13 amd64 chroot (mmdebstrap) that has trixie's riscv64 cross compiler
/// (gcc-14, the compiler the kernel was built with), the kernel's own kbuild tools and
/// `linux-source-6.12`; the riscv64 `linux-headers` package supplies `.config` and `Module.symvers`.
extension LabBuilder {
    /// The modules, in load order after their in-tree dependencies (vhost_iotlb, vdpa, vhost_vdpa).
    public static let vdpaModules = ["vringh", "vdpa_sim", "vdpa_sim_blk", "vdpa_sim_net"]

    /// Builds (or reuses) the modules for `kernelRelease` (e.g. `6.12.117+deb13-riscv64`); returns the
    /// directory holding the `.ko` files.
    func buildVDPAModules(kernelRelease: String, mirror: String, release: ArchiveRelease,
                          steps: inout [LabBuildStep]) async throws -> URL {
        let t0 = Date()
        guard kernelRelease.hasSuffix("-riscv64"), let dash = kernelRelease.range(of: "-riscv64", options: .backwards) else {
            throw RVBenchError(.format, "unexpected L1 kernel release \(kernelRelease); expected VERSION-riscv64")
        }
        let abi = String(kernelRelease[..<dash.lowerBound])                 // 6.12.117+deb13
        let series = abi.split(separator: ".").prefix(2).joined(separator: ".") // 6.12
        let key = CacheKey(kind: "vdpa-modules", inputs: [
            "kernelRelease": kernelRelease, "suite": release.suite, "inRelease": release.sha256,
            "modules": Self.vdpaModules.joined(separator: ","), "recipe": "chroot kbuild v1",
        ])
        let dir = paths.artifact("vdpa-modules", key: key)
        let reused = try await cached(dir, what: "vDPA simulator modules for \(kernelRelease)", key: key) { out in
            let chroot = out.appendingPathComponent("chroot")
            let headers = out.appendingPathComponent("headers")
            let packages = ["gcc-riscv64-linux-gnu", "make", "bc", "bison", "flex", "libelf-dev", "libssl-dev", "kmod",
                            "xz-utils", "linux-kbuild-\(abi)", "linux-source-\(series)"]
            try await self.runWithProgress(["mmdebstrap", "--variant=apt", "--architectures=amd64",
                                            "--include=" + packages.joined(separator: ","), release.suite, chroot.path,
                                            "deb \(mirror) \(release.suite) main"],
                                           timeout: 1800, label: "vDPA build chroot", counting: nil)
            try await self.runWithProgress(["mmdebstrap", "--variant=extract", "--architectures=riscv64",
                                            "--include=linux-headers-\(kernelRelease)", release.suite, headers.path,
                                            "deb \(mirror) \(release.suite) main"],
                                           timeout: 1800, label: "riscv64 kernel headers", counting: nil)
            // The riscv64 headers (config, Module.symvers) go into the chroot, whose kbuild scripts are amd64.
            let src = chroot.appendingPathComponent("usr/src")
            for name in ["linux-headers-\(kernelRelease)", "linux-headers-\(abi)-common"] {
                try await Subprocess.check(["cp", "-a", headers.appendingPathComponent("usr/src/\(name)").path, src.path],
                                           timeout: 300)
            }
            let script = """
                set -e
                mkdir -p /build/src /build/vdpa
                cd /build/src
                tar -xJf /usr/src/linux-source-\(series).tar.xz --wildcards '*/drivers/vdpa/vdpa_sim/*' '*/drivers/vhost/vringh.c'
                cp */drivers/vhost/vringh.c */drivers/vdpa/vdpa_sim/vdpa_sim.[ch] */drivers/vdpa/vdpa_sim/vdpa_sim_blk.c \
                   */drivers/vdpa/vdpa_sim/vdpa_sim_net.c /build/vdpa/
                echo 'obj-m += vringh.o vdpa_sim.o vdpa_sim_blk.o vdpa_sim_net.o' > /build/vdpa/Kbuild
                make -C /usr/src/linux-headers-\(kernelRelease) M=/build/vdpa ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- modules
                dpkg-query -W -f '${Version}' linux-source-\(series) > /build/source-version
                """
            try await self.runWithProgress(["chroot", chroot.path, "sh", "-c", script], timeout: 1800,
                                           label: "vDPA modules", counting: nil)
            let built = chroot.appendingPathComponent("build/vdpa")
            let modules = out.appendingPathComponent("modules")
            try FileManager.default.createDirectory(at: modules, withIntermediateDirectories: true)
            for name in Self.vdpaModules {
                try FileManager.default.copyItem(at: built.appendingPathComponent("\(name).ko"),
                                                 to: modules.appendingPathComponent("\(name).ko"))
            }
            try FileManager.default.copyItem(at: chroot.appendingPathComponent("build/source-version"),
                                             to: out.appendingPathComponent("source-version"))
            try FileManager.default.removeItem(at: chroot)
            try FileManager.default.removeItem(at: headers)
        }
        let version = (try? String(contentsOf: dir.appendingPathComponent("source-version"), encoding: .utf8)) ?? "?"
        progress("vDPA simulator modules for \(kernelRelease) from linux-source-\(series) \(version)")
        steps.append(LabBuildStep(name: "vdpa-modules", key: key.short, reused: reused, seconds: Date().timeIntervalSince(t0)))
        return dir.appendingPathComponent("modules")
    }
}
