// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Lab
import RVBenchCore
import Testing

/// The lab's own L1 kernel: its fragment, patches, source resolution, cache key, and the QEMU 10
/// devices that go with it.
@Suite struct L1KernelTests {
    static let labDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("workloads/lab")

    static func committed(_ name: String) throws -> String {
        try String(contentsOf: labDir.appendingPathComponent(name), encoding: .utf8)
    }

    @Test func theFragmentCarriesTheDatapathsAndEveryRequirement() throws {
        let fragment = KernelConfig(parsing: try Self.committed("host-kernel.config"))
        for option in ["KVM", "RISCV_IOMMU", "RISCV_IOMMU_PCI", "VFIO", "VFIO_PCI", "VFIO_IOMMU_TYPE1", "BLK_DEV_NVME",
                       "VHOST_VDPA", "VDPA_SIM_BLOCK", "VP_VDPA", "RISCV_PMU_SBI", "RISCV_IMSIC", "RISCV_APLIC"] {
            let (state, _) = fragment.state(of: option)
            #expect(state == .builtIn || state == .module, "\(option) is \(state) in host-kernel.config")
        }
        // Everything the lab checks of an L1 kernel, except KVM's VFIO device, which riscv KVM does not have.
        let requirements = try KernelRequirement.parse(try Self.committed("host-kernel.require"))
        let missing = fragment.check(requirements).filter { $0.state == .missing && $0.option != "KVM_VFIO" }.map(\.option)
        #expect(missing.isEmpty, "host-kernel.config lacks \(missing)")
        // EFI off needs NONPORTABLE (PORTABLE selects EFI); a fragment that only says "not set" is overridden.
        #expect(fragment.state(of: "NONPORTABLE").0 == .builtIn)
    }

    @Test func droppedOptionsAreThoseTheFinalConfigDoesNotKeep() {
        let fragment = "CONFIG_KVM=m\nCONFIG_VFIO=m\nCONFIG_HVC_RISCV_SBI=y\n# CONFIG_EFI is not set\nCONFIG_NR_CPUS=8\n"
        let final = "CONFIG_KVM=m\nCONFIG_VFIO=y\n# CONFIG_HVC_RISCV_SBI is not set\nCONFIG_EFI=y\nCONFIG_NR_CPUS=8\n"
        #expect(KernelConfig.dropped(fragment: fragment, final: final) == ["HVC_RISCV_SBI", "VFIO"])
        #expect(KernelConfig.dropped(fragment: fragment, final: fragment).isEmpty)
    }

    @Test func eachPatchIsSmallAndSaysWhatItStandsInFor() throws {
        let dir = Self.labDir.appendingPathComponent("patches")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".patch") }.sorted()
        #expect(names.count == 4)
        // The IMSIC mapping (0003) is a function, a reserved-region report and their hooks; the others are one-liners.
        let limits = ["0003-iommu-riscv-map-imsic-files.patch": 60]
        for name in names {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            let header = text.components(separatedBy: "\n--- a/").first ?? ""
            #expect(header.contains("Stands in for:"), "\(name) has no header naming the gap")
            let files = text.split(separator: "\n").filter { $0.hasPrefix("--- a/") }
            #expect(files.count == 1, "\(name) touches \(files.count) files")
            let changed = text.split(separator: "\n").filter { ($0.hasPrefix("+") || $0.hasPrefix("-")) && !$0.hasPrefix("+++")
                && !$0.hasPrefix("---") }
            #expect(changed.count <= limits[name, default: 8], "\(name) changes \(changed.count) lines")
        }
        let type1 = try String(contentsOf: dir.appendingPathComponent(names[1]), encoding: .utf8)
        #expect(type1.contains("+\tselect VFIO_IOMMU_TYPE1 if MMU && (X86 || S390 || ARM || ARM64 || RISCV)"))
        let imsic = try String(contentsOf: dir.appendingPathComponent(names[2]), encoding: .utf8)
        #expect(imsic.contains("IOMMU_RESV_MSI") && imsic.contains("allow_unsafe_interrupts"))
    }

    static let show = """
        Package: linux-source-7.2
        Source: linux
        Version: 7.2.13-1
        Installed-Size: 160024
        Depends: binutils, xz-utils
        Description: Linux kernel source for version 7.2 with Debian patches
         This package provides source code for the Linux kernel version 7.2.
        Filename: pool/main/l/linux/linux-source-7.2_7.2.13-1_all.deb
        Size: 164108840
        SHA256: 30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d

        Package: linux-source-7.2
        Version: 7.2.12-1

        """

    @Test func theArchiveIndexGivesVersionHashAndPath() throws {
        let p = try #require(IndexedPackage(aptCacheShow: Self.show))
        #expect(p == IndexedPackage(name: "linux-source-7.2", version: "7.2.13-1",
                                    filename: "pool/main/l/linux/linux-source-7.2_7.2.13-1_all.deb",
                                    sha256: "30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d",
                                    size: 164_108_840))
        #expect(IndexedPackage(aptCacheShow: Self.show.replacingOccurrences(of: "SHA256:", with: "MD5sum:")) == nil)
        #expect(IndexedPackage(aptCacheShow: "") == nil)
    }

    @Test func aSourceTheArchiveNoLongerServesIsAClearError() {
        let e = LabBuilder.sourceGone(searchOutput: "linux-source-7.4 - Linux kernel source for version 7.4\n"
                                      + "linux-source-7.3 - Linux kernel source for version 7.3\n")
        #expect(e.code == .notFound)
        #expect(e.message.hasPrefix("Debian sid no longer serves linux-source-7.2 (it serves linux-source-7.3, linux-source-7.4)"))
        #expect(e.message.contains("--l1-kernel debian"))
        #expect(LabBuilder.sourceGone(searchOutput: "").message.contains("(it serves no linux-source package)"))
    }

    @Test func theKernelKeyFollowsSourceFragmentPatchesAndCompiler() {
        let source = IndexedPackage(aptCacheShow: Self.show)!
        let patches = [(name: "0001-a.patch", sha256: "1"), (name: "0002-b.patch", sha256: "2")]
        let key = LabBuilder.l1KernelKey(source: source, fragmentSHA256: "f", patches: patches, compiler: "gcc 12.2.0")
        #expect(key == LabBuilder.l1KernelKey(source: source, fragmentSHA256: "f", patches: patches, compiler: "gcc 12.2.0"))
        var newer = source
        newer.version = "7.2.14-1"
        #expect(key != LabBuilder.l1KernelKey(source: newer, fragmentSHA256: "f", patches: patches, compiler: "gcc 12.2.0"))
        #expect(key != LabBuilder.l1KernelKey(source: source, fragmentSHA256: "g", patches: patches, compiler: "gcc 12.2.0"))
        #expect(key != LabBuilder.l1KernelKey(source: source, fragmentSHA256: "f", patches: [patches[0]], compiler: "gcc 12.2.0"))
        #expect(key != LabBuilder.l1KernelKey(source: source, fragmentSHA256: "f",
                                              patches: [patches[0], (name: "0002-b.patch", sha256: "3")], compiler: "gcc 12.2.0"))
        #expect(key != LabBuilder.l1KernelKey(source: source, fragmentSHA256: "f", patches: patches, compiler: "gcc 14.2.0"))
    }

    /// A sub-make's "Entering directory" lines once landed in the release (and so in the modules' path).
    @Test func aKernelReleaseIsOneWordAndTheBuildRunsWithoutAnEnclosingMakesVariables() {
        #expect(LabBuilder.isKernelRelease("7.2.13-rvbench"))
        #expect(LabBuilder.isKernelRelease("6.12.57+deb13-riscv64"))
        #expect(!LabBuilder.isKernelRelease(""))
        #expect(!LabBuilder.isKernelRelease("make[2]: Entering directory '/x'\n7.2.13-rvbench"))
        #expect(!LabBuilder.isKernelRelease("7.2.13 rvbench"))
        let env = LabBuilder.kernelMakeEnvironment
        #expect(env["ARCH"] == "riscv" && env["CROSS_COMPILE"] == "riscv64-linux-gnu-")
        for name in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL"] { #expect(env[name] == "", "\(name)") }
    }

    @Test func theOwnKernelReplacesDebiansKernelPackage() {
        let listed = ["busybox-static", "qemu-block-extra", "linux-image-riscv64", "linux-perf"]
        #expect(LabBuilder.hostPackages(listed, l1Kernel: .debian) == listed)
        #expect(LabBuilder.hostPackages(listed, l1Kernel: .own) == ["busybox-static", "qemu-block-extra", "linux-perf"])
    }

    @Test func theChoiceComesFromTheEnvironmentOrDefaultsToTheOwnKernel() throws {
        #expect(try LabL1Kernel.fromEnvironment([:]) == .own)
        #expect(try LabL1Kernel.fromEnvironment(["RVBENCH_L1_KERNEL": "own"]) == .own)
        #expect(throws: RVBenchError.self) { _ = try LabL1Kernel.fromEnvironment(["RVBENCH_L1_KERNEL": "sid"]) }
    }

    @Test func aManifestWithoutAnOwnKernelIsDebians() throws {
        var manifest = LabManifestTests.sample
        #expect(manifest.l1KernelChoice == .debian)
        manifest.l1Kernel = L1KernelRecord(
            key: "k", sourcePackage: "linux-source-7.2", sourceVersion: "7.2.13-1", suite: "sid", sourceSHA256: "s",
            fragmentSHA256: "f", patches: ["0001-a.patch": "1"], compiler: "gcc", release: "7.2.13-rvbench",
            configSHA256: "c", droppedOptions: [], modules: 19)
        let data = try manifest.encoded()
        let e = JSONDecoder()
        e.dateDecodingStrategy = .iso8601
        let back = try e.decode(LabManifest.self, from: data)
        #expect(back == manifest && back.l1KernelChoice == .own)
        #expect(String(decoding: data, as: UTF8.self).contains("\"release\" : \"7.2.13-rvbench\""))
    }

    @Test func qemu10GetsTheIOMMUTheNVMeAndTheVDPADeviceOnlyWithTheOwnKernel() {
        var spec = TrixieLabTests.spec(icount: false)
        let plain = TrixieL0.arguments(spec, qemu: TrixieLabTests.qemu, pidFile: "/p", consoleLog: "/l")
        #expect(!plain.contains("riscv-iommu-pci"))
        #expect(!plain.contains { $0.hasPrefix("nvme") || $0.contains("vdpablk0") })
        spec.iommu = true
        spec.nvmeImage = "/run/nvme0.img"
        spec.vdpaBlockImage = "/run/vdpablk0.img"
        let args = TrixieL0.arguments(spec, qemu: TrixieLabTests.qemu, pidFile: "/p", consoleLog: "/l")
        #expect(args.contains("virt,aia=aplic-imsic"))
        let iommu = args.firstIndex(of: "riscv-iommu-pci")
        #expect(iommu != nil && args[iommu! - 1] == "-device")
        #expect(args.contains("file=/run/nvme0.img,if=none,format=raw,id=nvme0"))
        #expect(args.contains("nvme,drive=nvme0,serial=rvbench-data,addr=0x10"))
        #expect(args.contains("file=/run/vdpablk0.img,if=none,format=raw,id=vdpablk0"))
        #expect(args.contains("virtio-blk-pci,drive=vdpablk0,disable-legacy=on,iommu_platform=on,serial=rvbench-vdpa0,addr=0x11"))
        // The workload disk and the network are still there.
        #expect(args.contains("virtio-blk-pci,drive=wl"))
        #expect(args.contains("virtio-net-pci,netdev=n0,romfile="))
    }

    @Test func theDevicesSitAtFixedAddressesL1Knows() throws {
        #expect(LabDevices.nvme.pciAddress == "0000:00:10.0")
        #expect(LabDevices.vdpaBlock.pciAddress == "0000:00:11.0")
        #expect(LabDevices.nvme.slot != LabDevices.vdpaBlock.slot)
        // host-init.sh binds the vDPA device by the same address.
        #expect(try Self.committed("host-init.sh").contains("vp=\(LabDevices.vdpaBlock.pciAddress)"))
    }

    @Test func backingImagesAreSparseAndFresh() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(LabDevices.nvme.imageName)
        try Data("old".utf8).write(to: url)
        try LabDevices.createImage(at: url)
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attrs[.size] as? NSNumber)?.int64Value == LabDevices.imageBytes)
        let head = try FileHandle(forReadingFrom: url).read(upToCount: 3)
        #expect(head == Data([0, 0, 0]))
    }
}
