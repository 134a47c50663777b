// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
@testable import Lab
import Logging
import RVBenchCore
import Testing

extension Tag {
    @Tag static var lab: Self
}

func fixture(_ name: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw RVBenchError(.notFound, "fixture \(name) is missing")
    }
    return url
}

func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-labtests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct LabDomainXMLTests {
    static let spec = LabDomainSpec(
        kernel: "/cache/lab/host-root/0123456789abcdef/root/boot/vmlinux-6.12.57+deb13-riscv64",
        initrd: "/cache/lab/l1-initramfs/fedcba9876543210/initramfs.cpio",
        workloadDisk: "/cache/lab/workload-disk/00112233445566aa/disk.ext4",
        libvirtPort: 40001, sshPort: 40002, consoleLog: "/cache/lab/run/console.log")

    @Test func rendersTheExpectedL0Domain() throws {
        let expected = try String(contentsOf: try fixture("l0-domain.xml"), encoding: .utf8)
        #expect(LabDomainXML.render(Self.spec) == expected)
    }

    /// The data disk follows the workload disk, read-only, with the serial L1 finds it by.
    @Test func rendersTheDataDiskAfterTheWorkloadDisk() throws {
        var spec = Self.spec
        spec.dataDisk = "/cache/lab/data-disk/0011223344556677/data.img"
        let expected = try String(contentsOf: try fixture("l0-domain-data-disk.xml"), encoding: .utf8)
        #expect(LabDomainXML.render(spec) == expected)
    }

    @Test func forwardedPortsRoundTrip() {
        let ports = LabDomainXML.forwardedPorts(in: LabDomainXML.render(Self.spec))
        #expect(ports?.libvirt == 40001)
        #expect(ports?.ssh == 40002)
        #expect(LabDomainXML.forwardedPorts(in: "<domain/>") == nil)
    }

    @Test func escapesPathsAndOmitsAbsentDisk() {
        var spec = Self.spec
        spec.workloadDisk = nil
        spec.kernel = "/tmp/a'b&c/vmlinux"
        let xml = LabDomainXML.render(spec)
        #expect(xml.contains("<kernel>/tmp/a&apos;b&amp;c/vmlinux</kernel>"))
        #expect(!xml.contains("<disk"))
    }

    @Test func machineOptionsBecomeAMachineArgument() {
        var spec = Self.spec
        spec.machineOptions = ["aia=aplic-imsic"]
        #expect(spec.qemuArguments.starts(with: ["-cpu", "rv64,h=true", "-machine", "aia=aplic-imsic"]))
    }

    /// libvirt's own parser accepts the XML (the test driver parses the common domain schema;
    /// it drops the QEMU namespace, which only the QEMU driver keeps).
    @Test func libvirtParsesTheXML() throws {
        let hv = try LibvirtHypervisor(uri: "test:///default", logger: Logger(label: "test"))
        defer { hv.close() }
        var xml = LabDomainXML.render(Self.spec)
        xml = xml.replacingOccurrences(of: "<domain type='qemu'", with: "<domain type='test'")
        xml = xml.replacingOccurrences(of: "<name>rvbench-lab</name>", with: "<name>rvbench-lab-xml-\(UUID().uuidString.prefix(8))</name>")
        let domain = try hv.define(xml: xml)
        defer { try? domain.undefine() }
        let back = try domain.xml()
        #expect(back.contains("<loader type='rom'>/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin</loader>"))
        #expect(back.contains("<cmdline>console=ttyS0 rdinit=/init panic=1 quiet</cmdline>"))
        #expect(back.contains("<readonly/>"))
        #expect(back.contains("<label>+0:+0</label>"))
    }

    @Test func libvirtKeepsTheDataDisksSerial() throws {
        let hv = try LibvirtHypervisor(uri: "test:///default", logger: Logger(label: "test"))
        defer { hv.close() }
        var spec = Self.spec
        spec.dataDisk = "/cache/lab/data-disk/0011223344556677/data.img"
        var xml = LabDomainXML.render(spec)
        xml = xml.replacingOccurrences(of: "<domain type='qemu'", with: "<domain type='test'")
        xml = xml.replacingOccurrences(of: "<name>rvbench-lab</name>", with: "<name>rvbench-lab-data-\(UUID().uuidString.prefix(8))</name>")
        let domain = try hv.define(xml: xml)
        defer { try? domain.undefine() }
        let back = try domain.xml()
        #expect(back.contains("<serial>rvbench-data</serial>"))
        #expect(back.contains("<source file='/cache/lab/data-disk/0011223344556677/data.img'/>"))
    }
}

/// The data disk's bytes: the Swift generator, the C reader (datadisk.h) and the manifests' Python hash agree.
@Suite struct DataDiskTests {
    @Test func theImagesHashIsTheOneTheIOWorkloadsExpect() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("data.img")
        try DataDisk.writeImage(to: image)
        let attributes = try FileManager.default.attributesOfItem(atPath: image.path)
        #expect((attributes[.size] as? NSNumber)?.int64Value == DataDisk.bytes)
        let hash = try await fileSHA256(image)  // sha256sum: fast for 64 MiB, unlike a debug build's own SHA-256
        #expect(hash == DataDisk.sha256)  // what the vdpa fill checks the vDPA device's bytes against
        let source = try SourceTree.locate()
        for name in ["fio-randread", "fio-seqread"] {
            let url = source.appendingPathComponent("workloads/\(name)/workload.json")
            let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            let verification = try #require(manifest["verification"] as? [String: Any])
            #expect(verification["expected"] as? String == hash, "\(name)")
        }
    }

    @Test func theFirstWordsAreTheSplitmixSequence() {
        // splitmix64 seeded with 0x7276626e63682d64 ("rvbench-d"), as datadisk.h and datadisk.py define it.
        #expect(DataDisk.word(0) == DataDisk.content(bytes: 8).withUnsafeBytes { $0.load(as: UInt64.self).littleEndian })
        let block = DataDisk.content(offset: 4096, bytes: 4096)
        #expect(block == DataDisk.content(bytes: 8192).suffix(4096))
        #expect(block != DataDisk.content(bytes: 4096))
    }
}

@Suite struct LabStateTests {
    static let sample = LabState(domain: "rvbench-lab", localURI: "qemu:///system", libvirtPort: 41000,
                                 sshPort: 41001, startedAt: Date(timeIntervalSince1970: 1_800_000_000),
                                 buildID: "0123456789abcdef")

    @Test func saveAndLoadRoundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = LabStateStore(url: dir.appendingPathComponent("run/state.json"))
        #expect(store.load() == .none)
        try store.save(Self.sample)
        #expect(store.load() == .state(Self.sample))
        #expect(Self.sample.libvirtURI == "qemu+tcp://127.0.0.1:41000/system")
        store.remove()
        #expect(store.load() == .none)
    }

    @Test func garbageIsUnreadableNotFatal() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("state.json")
        try Data("{not json".utf8).write(to: url)
        guard case .unreadable = LabStateStore(url: url).load() else {
            Issue.record("a broken state file must load as .unreadable")
            return
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var recorded: LabStateStore.LoadResult
        var active: Bool?
        var answers: Bool
        var expected: LabReconciliation
        var testDescription: String { "\(recorded) active=\(String(describing: active)) answers=\(answers)" }
    }

    static let cases: [Case] = [
        Case(recorded: .state(sample), active: true, answers: true, expected: .reuse(sample)),
        Case(recorded: .state(sample), active: true, answers: false, expected: .start(destroyLeftover: true, dropState: true)),
        Case(recorded: .state(sample), active: false, answers: false, expected: .start(destroyLeftover: true, dropState: true)),
        Case(recorded: .state(sample), active: nil, answers: false, expected: .start(destroyLeftover: false, dropState: true)),
        Case(recorded: .none, active: nil, answers: false, expected: .start(destroyLeftover: false, dropState: false)),
        Case(recorded: .none, active: true, answers: false, expected: .start(destroyLeftover: true, dropState: false)),
        Case(recorded: .unreadable("x"), active: nil, answers: false, expected: .start(destroyLeftover: false, dropState: true)),
        Case(recorded: .unreadable("x"), active: true, answers: false, expected: .start(destroyLeftover: true, dropState: true)),
    ]

    @Test(arguments: cases) func reconciliation(_ c: Case) {
        #expect(LabReconciliation.decide(recorded: c.recorded, domainActive: c.active, answers: c.answers) == c.expected)
    }

    func lab(_ dir: URL, name: String) -> Lab {
        Lab(paths: LabPaths(cacheRoot: dir), localURI: "test:///default", domainName: name, logger: Logger(label: "test"))
    }

    func testDomainXML(_ name: String) -> String {
        """
        <domain type='test'><name>\(name)</name><memory unit='MiB'>64</memory>
        <os><type arch='x86_64'>hvm</type></os></domain>
        """
    }

    /// `down` destroys the recorded domain, removes the run directory, and a second call finds nothing.
    @Test func downRemovesDomainAndRunStateAndIsIdempotent() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "rvbench-lab-down-\(UUID().uuidString.prefix(8))"
        let hv = try LibvirtHypervisor(uri: "test:///default", logger: Logger(label: "test"))
        defer { hv.close() }
        _ = try hv.create(xml: testDomainXML(name), paused: false)
        let lab = lab(dir, name: name)
        var state = Self.sample
        state.domain = name
        state.localURI = "test:///default"
        try LabStateStore(url: lab.paths.stateFile).save(state)
        try Data("console".utf8).write(to: lab.paths.consoleLog)

        let first = try await lab.down()
        #expect(first == Lab.DownResult(destroyed: [name], removedState: true))
        #expect(try hv.lookup(name: name) == nil)
        #expect(!FileManager.default.fileExists(atPath: lab.paths.runDirectory.path))
        let second = try await lab.down()
        #expect(second == Lab.DownResult(destroyed: [], removedState: false))
    }

    /// A leftover domain without a state file is reported, not silently adopted.
    @Test func statusReportsALeftoverDomain() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "rvbench-lab-status-\(UUID().uuidString.prefix(8))"
        let hv = try LibvirtHypervisor(uri: "test:///default", logger: Logger(label: "test"))
        defer { hv.close() }
        let d = try hv.create(xml: testDomainXML(name), paused: false)
        defer { try? d.destroy() }
        let status = try await lab(dir, name: name).status()
        #expect(status.running)
        #expect(status.state == nil)
        #expect(status.notes.contains { $0.contains("without a state file") })
        #expect(status.notes.contains { $0.contains("lab build") })
    }

    @Test func upWithoutABuildNamesTheFix() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        await #expect {
            _ = try await lab(dir, name: "rvbench-lab-nobuild").up()
        } throws: { error in
            (error as? RVBenchError)?.message.contains("rvbench lab build") == true
        }
    }

    @Test func freePortsAreDistinctLoopbackPorts() throws {
        let ports = try Lab.freeLoopbackPorts(3)
        #expect(Set(ports).count == 3)
        #expect(ports.allSatisfy { $0 > 0 && $0 < 65536 })
    }
}

@Suite struct CacheKeyTests {
    @Test func sameInputsSameKeyWhateverTheOrder() {
        let a = CacheKey(kind: "guest-kernel", inputs: ["a": "1", "b": "2"])
        var inputs: [String: String] = [:]
        inputs["b"] = "2"
        inputs["a"] = "1"
        #expect(a == CacheKey(kind: "guest-kernel", inputs: inputs))
        #expect(a.hex.count == 64)
        #expect(a.short == String(a.hex.prefix(16)))
    }

    @Test func everyInputAndTheKindCount() {
        let base = CacheKey(kind: "k", inputs: ["a": "1"])
        #expect(base != CacheKey(kind: "k", inputs: ["a": "2"]))
        #expect(base != CacheKey(kind: "k2", inputs: ["a": "1"]))
        #expect(base != CacheKey(kind: "k", inputs: ["a": "1", "b": ""]))
    }

    @Test func canonicalFormIsSortedJSON() {
        #expect(CacheKey.canonical(["b": "x\"y", "a": "1/2"]) == #"{"a":"1/2","b":"x\"y"}"#)
        let key = CacheKey(kind: "k", inputs: ["a": "1"])
        #expect(key.hex == SHA256.hex(of: #"{"a":"1","kind":"k","scheme":"rvbench-lab-cache-v1"}"#))
    }

    @Test func treeHashFollowsContentNotTimestamps() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("sub/f")
        try Data("one".utf8).write(to: file)
        let h1 = try await TreeHash.hex(of: dir)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 0)], ofItemAtPath: file.path)
        #expect(try await TreeHash.hex(of: dir) == h1)
        try Data("two".utf8).write(to: file)
        let h2 = try await TreeHash.hex(of: dir)
        #expect(h2 != h1)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link").path, withDestinationPath: "sub/f")
        #expect(try await TreeHash.hex(of: dir) != h2)
    }
}

@Suite struct KernelConfigTests {
    @Test func checksRequirementsAgainstAConfig() throws {
        let config = KernelConfig(parsing: try String(contentsOf: try fixture("kernel-config-sample"), encoding: .utf8))
        let reqs = try KernelRequirement.parse("""
            # comment line
            CONFIG_KVM        # guests
            CONFIG_VIRTIO_PCI
            CONFIG_VDPA_SIM   # vdpa
            VDPA_SIM_BLK
            CONFIG_NR_CPUS

            """)
        let checks = config.check(reqs)
        #expect(checks.map(\.option) == ["KVM", "VIRTIO_PCI", "VDPA_SIM", "VDPA_SIM_BLK", "NR_CPUS"])
        #expect(checks.map(\.state) == [.module, .builtIn, .missing, .missing, .value])
        #expect(checks[0].reason == "guests")
        #expect(checks[4].value == "64")
        #expect(config.values["DEFAULT_HOSTNAME"] == "\"(none)\"")
    }

    @Test func rejectsAMalformedRequirement() {
        #expect(throws: RVBenchError.self) {
            _ = try KernelRequirement.parse("CONFIG_KVM=y\n")
        }
    }

    @Test func theCommittedRequirementsParse() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("workloads/lab/host-kernel.require")
        let reqs = try KernelRequirement.parse(try String(contentsOf: source, encoding: .utf8))
        #expect(reqs.contains(KernelRequirement(option: "KVM", reason: "run L2 guests under KVM")))
        #expect(reqs.contains { $0.option == "VHOST_VDPA" })
        // The simulators are built out of tree (Debian's kernel has none), so they are not required of the config.
        #expect(!reqs.contains { $0.option.hasPrefix("VDPA_SIM") })
    }
}

@Suite struct BuildInputTests {
    @Test(arguments: [
        ("libc6_2.41-12_riscv64.deb", PackageVersion(name: "libc6", version: "2.41-12", architecture: "riscv64")),
        ("libvirt0_11.3.0-3_riscv64.deb", PackageVersion(name: "libvirt0", version: "11.3.0-3", architecture: "riscv64")),
        ("qemu-system-riscv_1%3a10.0.2+ds-2_riscv64.deb",
         PackageVersion(name: "qemu-system-riscv", version: "1:10.0.2+ds-2", architecture: "riscv64")),
    ])
    func parsesDebFileNames(_ name: String, _ expected: PackageVersion) {
        #expect(PackageVersion(debFileName: name) == expected)
    }

    @Test func rejectsOtherFileNames() {
        #expect(PackageVersion(debFileName: "lock") == nil)
        #expect(PackageVersion(debFileName: "a_b.deb") == nil)
    }

    @Test func mirrorComesFromTheFirstNonSecurityStanza() {
        let text = """
            Types: deb
            URIs: http://mirror.example.invalid/debian-security
            Suites: bookworm-security
            Components: main

            Types: deb
            # a comment
            URIs: http://mirror.example.invalid/debian/
            Suites: bookworm bookworm-updates
            Components: main
            """
        #expect(DebianMirror.parseDeb822(text) == "http://mirror.example.invalid/debian")
        #expect(DebianMirror.parseOneLine("deb http://mirror.example.invalid/debian bookworm main\n")
                == "http://mirror.example.invalid/debian")
    }

    /// mmdebstrap names its sources file 0000debian.sources, older machines use sources.list with options:
    /// the Swift reader and scripts/debian-mirror.sh must find the same archive in each layout.
    @Test(arguments: [
        ["sources.list.d/0000debian.sources": "Types: deb\nURIs: http://a.example.invalid/debian\nSuites: bookworm\n"],
        ["sources.list": "deb [arch=amd64 signed-by=/k.gpg] http://b.example.invalid/debian/ bookworm main\n"],
        ["sources.list": "deb http://s.example.invalid/debian-security bookworm-security main\n",
         "sources.list.d/extra.list": "deb-src http://x.example.invalid/debian bookworm main\ndeb http://c.example.invalid/debian bookworm main\n"],
        ["sources.list.d/debian.sources": "Types: deb-src\nURIs: http://x.example.invalid/debian\nSuites: bookworm\n\n"
            + "Types: deb\nURIs: http://d.example.invalid/debian\nSuites: bookworm\n"],
    ])
    func mirrorReaderAndScriptAgree(files: [String: String]) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let swift = try DebianMirror.fromAptConfiguration(directory: dir.path)
        #expect(swift.hasSuffix(".example.invalid/debian") && !swift.contains("//x.") && !swift.contains("//s."), "\(swift)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/debian-mirror.sh")
        let r = try await Subprocess.run(["env", "APT_DIR=\(dir.path)", script.path], timeout: 30)
        #expect(r.status == 0)
        #expect(r.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines) == swift)
    }

    @Test func noMirrorIsAClearError() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: RVBenchError.self) { try DebianMirror.fromAptConfiguration(directory: dir.path) }
    }

    @Test func packageListsIgnoreComments() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("p.txt")
        try Data("# head\nkmod  # modules\nbusybox-static, iproute2\n\n".utf8).write(to: url)
        #expect(try PackageList.read(url) == ["kmod", "busybox-static", "iproute2"])
    }
}

/// The QEMU 10 lab: its command line, and the state that lets `lab down` and `resume` find it.
@Suite struct TrixieLabTests {
    static let qemu = TrixieQEMU(root: "/cache/qemu-trixie/k/root", version: "QEMU emulator version 10.0.13",
                                 packages: [], key: "k")

    static func spec(icount: Bool) -> LabDomainSpec {
        LabDomainSpec(kernel: "/c/vmlinux", initrd: "/c/init.cpio", workloadDisk: "/c/disk.ext4",
                      libvirtPort: 41000, sshPort: 41001, consoleLog: "/run/console.log", icount: icount)
    }

    @Test func argumentsCarryAIATheForwardsAndIcountOnlyWhenAsked() {
        let plain = TrixieL0.arguments(Self.spec(icount: false), qemu: Self.qemu, pidFile: "/run/qemu.pid",
                                       consoleLog: "/run/console.log")
        let joined = plain.joined(separator: " ")
        #expect(joined.contains("-name guest=rvbench-lab,debug-threads=on"))
        #expect(joined.contains("-machine virt,aia=aplic-imsic"))
        // Named extensions, not `max` (which ran L1 at half speed), and no V.
        #expect(joined.contains("-cpu rv64,h=true,sscofpmf=true,smaia=true,ssaia=true "))
        #expect(joined.contains("-bios /cache/qemu-trixie/k/root/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"))
        #expect(joined.contains("hostfwd=tcp:127.0.0.1:41000-:16509,hostfwd=tcp:127.0.0.1:41001-:22"))
        #expect(joined.contains("-daemonize -pidfile /run/qemu.pid"))
        #expect(joined.contains("file=/c/disk.ext4,if=none,format=raw,readonly=on"))
        #expect(!joined.contains("serial=rvbench-data"))
        var withData = Self.spec(icount: false)
        withData.dataDisk = "/c/data.img"
        let data = TrixieL0.arguments(withData, qemu: Self.qemu, pidFile: "/p", consoleLog: "/l").joined(separator: " ")
        #expect(data.contains("-drive file=/c/disk.ext4,if=none,format=raw,readonly=on,id=wl -device virtio-blk-pci,drive=wl "
            + "-drive file=/c/data.img,if=none,format=raw,readonly=on,id=data -device virtio-blk-pci,drive=data,serial=rvbench-data"))
        #expect(!plain.contains("-icount"))
        // No IOMMU unless asked: without a driver in L1 it blocks every DMA.
        #expect(!plain.contains("riscv-iommu-pci"))
        let det = TrixieL0.arguments(Self.spec(icount: true), qemu: Self.qemu, pidFile: "/p", consoleLog: "/l")
        #expect(det.contains("-icount") && det.contains("shift=0,sleep=off"))
    }

    @Test func commandRunsTheRootsQEMUWithItsModulesInAPrivateMountNamespace() {
        let argv = Self.qemu.command(["-append", "console=ttyS0 quiet"])
        #expect(Array(argv.prefix(6)) == ["unshare", "--mount", "--propagation", "private", "sh", "-c"])
        let script = argv[6]
        #expect(script.hasPrefix("mount --bind /cache/qemu-trixie/k/root/usr/lib/x86_64-linux-gnu/qemu /usr/lib/x86_64-linux-gnu/qemu && exec "))
        #expect(script.contains("/cache/qemu-trixie/k/root/usr/lib64/ld-linux-x86-64.so.2 --library-path /cache/qemu-trixie/k/root/usr/lib/x86_64-linux-gnu"))
        // An argument with a space stays one word.
        #expect(script.hasSuffix("-append 'console=ttyS0 quiet'"))
    }

    @Test func processStateRoundTripsAndADeadPidIsNotTheLab() throws {
        var s = LabStateTests.sample
        s.qemu = QEMUFlavour.trixie.labName
        s.pid = 999_999_999
        s.qemuVersion = "10.0.13"
        s.deterministic = true
        s.owner = LabOwner(directory: "/r/x", pid: 999_999_998)
        let data = try JSONEncoder().encode(s)
        let back = try JSONDecoder().decode(LabState.self, from: data)
        #expect(back == s && back.isProcess)
        #expect(!back.processAlive)
        #expect(!(back.owner?.isAlive ?? true))
        // This test process is alive, but its command line does not name the lab.
        s.pid = getpid()
        #expect(!s.processAlive)
        // States written before these fields existed still load.
        let old = #"{"domain":"rvbench-lab","localURI":"qemu:///system","libvirtPort":1,"sshPort":2,"startedAt":0,"buildID":"b","qemu":"system"}"#
        let decoded = try JSONDecoder().decode(LabState.self, from: Data(old.utf8))
        #expect(!decoded.isProcess && decoded.owner == nil && !decoded.deterministic)
    }

    @Test func deterministicModeOnQEMU72IsRefusedWithTheReason() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths = LabPaths.fromEnvironment()
        paths.cacheRoot = dir
        let lab = Lab(paths: paths, logger: Logger(label: "test"))
        let error = try await #require(throws: RVBenchError.self) { _ = try await lab.up(qemu: .debian12, deterministic: true) }
        #expect(error.code == .unsupported && error.message.contains("--qemu trixie --deterministic"))
    }
}
