// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import Foundation
import KubeVirt
import RVBenchCore
import Testing

/// `rvbench kubevirt export`: golden bundles, the schema, rvbench's lint and the OCI images.
@Suite(.serialized, .tags(.externalTools))
struct ExportTests {
    static let goldens: [(name: String, spec: String, pciIDs: [String: PCIID])] = [
        ("quickstart", "analysis/quickstart.yaml", [:]),
        ("passthrough-cluster", "Tests/KubeVirtTests/Fixtures/specs/passthrough-cluster.yaml", [:]),
    ]

    /// Compares every text file of the bundle with `Fixtures/golden/NAME/`; RVBENCH_UPDATE_GOLDEN=1 rewrites them.
    @Test(arguments: [0, 1]) func bundleMatchesGolden(_ index: Int) async throws {
        let golden = Self.goldens[index]
        let (bundle, _) = try await KubeFixtures.export(try KubeFixtures.spec(golden.spec), name: golden.name,
                                                        pciIDs: golden.pciIDs)
        defer { try? FileManager.default.removeItem(at: bundle) }
        let files = try KubeFixtures.textFiles(of: bundle).mapValues(KubeFixtures.normalized)
        let dir = KubeFixtures.directory.appendingPathComponent("golden/\(golden.name)", isDirectory: true)
        if ProcessInfo.processInfo.environment["RVBENCH_UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: dir)
            for (path, text) in files {
                let url = dir.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: url)
            }
        }
        let expected = try KubeFixtures.textFiles(of: dir)
        #expect(Set(files.keys) == Set(expected.keys))
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            #expect(text == expected[path], "\(path) differs from the golden file; RVBENCH_UPDATE_GOLDEN=1 and review the diff")
        }
    }

    @Test func quickstartBundleHasOneObjectPerScheduledBoot() async throws {
        let spec = try KubeFixtures.spec("analysis/quickstart.yaml")
        let (bundle, manifest) = try await KubeFixtures.export(spec, name: "objects")
        defer { try? FileManager.default.removeItem(at: bundle) }
        let schedule = Schedule(spec: spec).maximal
        #expect(manifest.objects.map(\.sequence) == schedule.map(\.sequence))
        #expect(manifest.objects.map(\.variant) == schedule.map(\.variant.name))
        #expect(manifest.objects.filter { $0.kind == .job }.map(\.variant) == Array(repeating: "native", count: 2))
        #expect(Set(manifest.images.keys) == ["guest-boot", "workload-disk", "workload-root"])
        #expect(manifest.upstreamRefusals == ["spec.architecture: unsupported architecture: riscv64"])
        // The script parses, and walks the objects in schedule order.
        let script = bundle.appendingPathComponent("run-in-order.sh").path
        #expect(FileManager.default.isExecutableFile(atPath: script))
        #expect(try await Subprocess.run(["sh", "-n", script]).status == 0)
        let order = try String(contentsOf: bundle.appendingPathComponent("schedule.txt"), encoding: .utf8)
        #expect(order.split(separator: "\n").map { String($0.split(separator: " ")[1]) } == manifest.objects.map(\.name))
        // The runner's plan: the boot's workloads in the boot's order, and the seed of a direct run.
        for boot in schedule where boot.variant.kind == .virtio {
            let object = try #require(manifest.objects.first { $0.sequence == boot.sequence })
            let text = try String(contentsOf: bundle.appendingPathComponent(object.file), encoding: .utf8)
            let names = boot.workloads.map(\.workload.name).joined(separator: ",")
            #expect(text.contains("rvbench.workloads=\(names) "))
            #expect(text.contains("rvbench.seed=\(spec.seed + UInt64(boot.sequence)) "))
            #expect(text.contains("rvbench.iterations=3 rvbench.warmup=1 "))
        }
    }

    /// Every VMI and the KubeVirt CR patch validate against KubeVirt's own schema, made strict.
    @Test(arguments: [0, 1]) func everyManifestValidatesAgainstKubeVirtSchema(_ index: Int) async throws {
        let golden = Self.goldens[index]
        let (bundle, manifest) = try await KubeFixtures.export(try KubeFixtures.spec(golden.spec), name: "schema-\(golden.name)",
                                                               pciIDs: golden.pciIDs)
        defer { try? FileManager.default.removeItem(at: bundle) }
        var files = manifest.objects.map { bundle.appendingPathComponent($0.file).path }
        let patch = bundle.appendingPathComponent("kubevirt-patch.yaml")
        let hasPatch = FileManager.default.fileExists(atPath: patch.path)
        if hasPatch { files.append(patch.path) }
        let lines = try await Self.validate(files)
        let checked = lines.filter { $0["skipped"] == nil }
        let vmis = manifest.objects.filter { $0.kind == .virtualMachineInstance }.count
        #expect(checked.count == vmis + (hasPatch ? 1 : 0))
        #expect(lines.filter { $0["skipped"] != nil }.count == manifest.objects.count - vmis)
        for line in checked {
            #expect((line["errors"] as? [String]) == [], "\(line)")
        }
        #expect(hasPatch == (golden.name == "passthrough-cluster"))
    }

    /// The validator is not a rubber stamp: an unknown field, a wrong type and a missing required field fail.
    @Test func schemaValidationRejectsBrokenVMIs() async throws {
        let (bundle, manifest) = try await KubeFixtures.export(try KubeFixtures.spec("analysis/quickstart.yaml"), name: "broken")
        defer { try? FileManager.default.removeItem(at: bundle) }
        let vmi = try #require(manifest.objects.first { $0.kind == .virtualMachineInstance })
        let text = try String(contentsOf: bundle.appendingPathComponent(vmi.file), encoding: .utf8)
        let broken: [(String, String)] = [
            ("unknown field", text.replacingOccurrences(of: "      kernelArgs:", with: "      kernelArguments:")),
            ("wrong type", text.replacingOccurrences(of: "cores: 1", with: "cores: \"one\"")),
            ("missing spec", text.components(separatedBy: "\nspec:\n")[0] + "\n"),
        ]
        for (what, yaml) in broken {
            #expect(yaml != text, "\(what): the mutation changed nothing")
            let file = bundle.appendingPathComponent("broken.yaml")
            try Data(yaml.utf8).write(to: file)
            let lines = try await Self.validate([file.path], expectFailure: true)
            #expect(((lines.first?["errors"] as? [String]) ?? []).count > 0, "\(what) passed the schema")
        }
    }

    /// `umoci` and `skopeo` read every archive back, with the digest the objects pin and the files put in.
    @Test func imagesReadBackWithTheirDigests() async throws {
        let (bundle, manifest) = try await KubeFixtures.export(try KubeFixtures.spec("analysis/quickstart.yaml"), name: "oci")
        defer { try? FileManager.default.removeItem(at: bundle) }
        for (name, record) in manifest.images {
            let archive = bundle.appendingPathComponent(record.archive)
            #expect(try SHA256.hex(ofFile: archive) == record.archiveSHA256)
            let inspect = try await Subprocess.check(["skopeo", "inspect", "oci-archive:\(archive.path):\(record.tag)"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.utf8)) as? [String: Any])
            #expect(json["Digest"] as? String == record.manifestDigest, "\(name)")
            #expect(json["Architecture"] as? String == "riscv64")
            #expect(json["Os"] as? String == "linux")
            #expect(manifest.imageReferences[name] == "localhost:5000/rvbench-\(name)@\(record.manifestDigest)")

            // umoci: unpack the layout and compare what it holds with the inputs.
            let work = KubeFixtures.temporary("umoci-\(name)")
            defer { try? FileManager.default.removeItem(at: work) }
            try FileManager.default.createDirectory(at: work.appendingPathComponent("layout"), withIntermediateDirectories: true)
            try await Subprocess.check(["tar", "-xf", archive.path, "-C", work.appendingPathComponent("layout").path])
            let stat = try await Subprocess.check(["umoci", "stat", "--json", "--image", work.path + "/layout:" + record.tag])
            #expect(stat.contains("rvbench kubevirt export"))
            try await Subprocess.check(["umoci", "unpack", "--image", work.path + "/layout:" + record.tag, work.path + "/b"])
            let rootfs = work.appendingPathComponent("b/rootfs")
            for file in record.files {
                #expect(try SHA256.hex(ofFile: rootfs.appendingPathComponent(String(file.path.dropFirst()))) == file.sha256)
                let attributes = try FileManager.default.attributesOfItem(atPath: rootfs.path + file.path)
                #expect((attributes[.ownerAccountID] as? NSNumber)?.intValue == OCIImageBuilder.qemuUser)
            }
            switch name {
            case "guest-boot":
                #expect(record.files.map(\.path) == [BundleImage.kernelPath, BundleImage.initrdPath])
                #expect(record.files[0].sha256 == (try SHA256.hex(ofFile: KubeFixtures.inputs.guestKernel)))
                #expect(record.files[1].sha256 == (try SHA256.hex(ofFile: KubeFixtures.inputs.guestInitramfs)))
            case "workload-disk":
                #expect(record.files.map(\.path) == [BundleImage.diskPath])
                #expect(record.files[0].sha256 == (try SHA256.hex(ofFile: KubeFixtures.inputs.workloadDisk)))
            default:
                #expect(record.files.isEmpty)
                let runner = rootfs.path + RunnerPlan.runnerPath
                #expect(FileManager.default.isExecutableFile(atPath: runner), "the workload root lacks the runner")
                #expect(!FileManager.default.fileExists(atPath: rootfs.path + "/lost+found"))
            }
        }
    }

    @Test func passthroughByAddressNeedsTheDeviceID() async throws {
        let spec = try KubeFixtures.spec("analysis/passthrough.yaml")
        await #expect { _ = try await KubeFixtures.export(spec, name: "address") } throws: { error in
            "\(error)".contains("--pci-id vfio=VVVV:DDDD")
        }
        let (bundle, manifest) = try await KubeFixtures.export(spec, name: "address", pciIDs: ["vfio": try #require(PCIID("10EE:9038"))])
        defer { try? FileManager.default.removeItem(at: bundle) }
        #expect(manifest.hostDevices.map(\.resourceName) == ["devices.rvbench.io/pci-10ee-9038"])
        #expect(manifest.hostDevices.first?.pciVendorSelector == "10EE:9038")
        #expect(manifest.hostDevices.first?.note?.contains("0000:01:00.0") == true)
        let patch = try String(contentsOf: bundle.appendingPathComponent("kubevirt-patch.yaml"), encoding: .utf8)
        #expect(patch.contains("\"HostDevices\"") && patch.contains("pciVendorSelector: \"10EE:9038\""))
    }

    @Test func refusesAnOccupiedDirectoryAndBadOptions() async throws {
        let spec = try KubeFixtures.spec("analysis/quickstart.yaml")
        let out = KubeFixtures.temporary("occupied")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: out.appendingPathComponent("keep"))
        defer { try? FileManager.default.removeItem(at: out) }
        func request(_ change: (inout ExportRequest) -> Void) -> ExportRequest {
            var r = ExportRequest(spec: spec, output: out, inputs: KubeFixtures.inputs, commandLine: [])
            change(&r)
            return r
        }
        await #expect(throws: RVBenchError.self) { _ = try await Exporter.export(request { _ in }) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["keep"])
        let fresh = KubeFixtures.temporary("options")
        for bad in [request { $0.output = fresh; $0.runID = "NOTHEX!!" }, request { $0.output = fresh; $0.namespace = "Bad_NS" },
                    request { $0.output = fresh; $0.registry = "a b" },
                    request { $0.output = fresh; $0.pciIDs = ["virtio": PCIID("1af4:1042")!] }] {
            await #expect(throws: RVBenchError.self) { _ = try await Exporter.export(bad) }
        }
        #expect(!FileManager.default.fileExists(atPath: fresh.path))
        // A failure while the images are built leaves nothing behind.
        var missing = KubeFixtures.inputs
        missing.workloadDisk = KubeFixtures.directory.appendingPathComponent("inputs/no-such-disk.ext4")
        let broken = request { $0.output = fresh; $0.inputs = missing }
        await #expect(throws: (any Error).self) { _ = try await Exporter.export(broken) }
        #expect(!FileManager.default.fileExists(atPath: fresh.path))
    }

    /// Runs the schema validator; returns its JSON lines.
    static func validate(_ files: [String], expectFailure: Bool = false) async throws -> [[String: Any]] {
        let r = try await Subprocess.run(["python3", KubeFixtures.validator.path, KubeFixtures.schema.path] + files, timeout: 300)
        #expect(r.status == (expectFailure ? 1 : 0), "validator: \(r.stderrString.suffix(2000))")
        return r.stdoutString.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
