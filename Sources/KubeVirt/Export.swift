// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import Foundation
import Lab
import Logging
import RVBenchCore

/// The lab artifacts a bundle's images are built from.
public struct ExportInputs: Sendable, Equatable {
    /// The L2 guest kernel (an Image).
    public var guestKernel: URL
    /// The initramfs whose `/init` is the workload runner.
    public var guestInitramfs: URL
    /// The ext4 workload disk (the workload root plus `/opt/rvbench`).
    public var workloadDisk: URL

    public init(guestKernel: URL, guestInitramfs: URL, workloadDisk: URL) {
        self.guestKernel = guestKernel; self.guestInitramfs = guestInitramfs; self.workloadDisk = workloadDisk
    }

    /// The artifacts of the last `rvbench lab build`.
    public static func fromLab(_ paths: LabPaths = .fromEnvironment()) throws -> ExportInputs {
        guard let manifest = try? LabManifest.load(from: paths.manifest) else {
            throw RVBenchError(.notFound, "no lab build at \(paths.manifest.path); run `rvbench lab build`, "
                + "or give --guest-kernel, --guest-initramfs and --workload-disk")
        }
        func path(_ name: String) throws -> URL {
            guard let a = manifest.artifacts[name] else {
                throw RVBenchError(.notFound, "the lab manifest has no \(name); rebuild the lab (rvbench lab build)")
            }
            return URL(fileURLWithPath: a.path)
        }
        return ExportInputs(guestKernel: try path("guest-kernel"), guestInitramfs: try path("guest-initramfs"),
                            workloadDisk: try path("workload-disk"))
    }
}

/// What `rvbench kubevirt export` is asked to do.
public struct ExportRequest: Sendable {
    public var spec: ExperimentSpec
    public var output: URL
    /// 8 lowercase hex digits naming every object; default: the first 8 of the spec's SHA-256.
    public var runID: String?
    public var namespace: String
    /// Where the images will be pushed, e.g. `registry.local:5000/lab` (the images become `REGISTRY/rvbench-NAME`).
    public var registry: String
    /// Vendor and device IDs of passthrough variants whose spec names a PCI address.
    public var pciIDs: [String: PCIID]
    public var inputs: ExportInputs
    public var commandLine: [String]
    /// Where images are assembled before they are packed (default: inside the output directory).
    public var scratch: URL?

    public init(spec: ExperimentSpec, output: URL, runID: String? = nil, namespace: String = "rvbench",
                registry: String = "localhost:5000", pciIDs: [String: PCIID] = [:], inputs: ExportInputs,
                commandLine: [String], scratch: URL? = nil) {
        self.spec = spec; self.output = output; self.runID = runID; self.namespace = namespace
        self.registry = registry; self.pciIDs = pciIDs; self.inputs = inputs; self.commandLine = commandLine
        self.scratch = scratch
    }
}

/// Writes a bundle: everything a KubeVirt cluster needs to run a spec's schedule.
public enum Exporter {
    /// Why a variant of this kind or setting cannot run on KubeVirt, or nil.
    public static func notRunReason(_ variant: VariantSpec) -> String? {
        if variant.kind == .vdpa {
            return "KubeVirt gives a VirtualMachineInstance no vhost-vdpa disk, so a vdpa variant cannot run on a cluster"
        }
        if variant.kind.isGuest, variant.aia != .none {
            return "the VirtualMachineInstance API has no field for the riscv virt machine's interrupt controller "
                + "(aia: \(variant.aia.rawValue)); the cluster's KubeVirt build chooses it"
        }
        return nil
    }

    /// The default run ID: the first 8 hex digits of the spec's SHA-256, so the same spec gives the same names.
    public static func defaultRunID(_ spec: ExperimentSpec) -> String {
        String((spec.source?.sha256 ?? SHA256.hex(of: "")).prefix(8))
    }

    /// Writes the bundle. On failure nothing is left in `request.output` (it was new or empty).
    public static func export(_ request: ExportRequest, logger: Logger = Logger(label: "rvbench.kubevirt")) async throws -> BundleManifest {
        let fm = FileManager.default
        let existed = fm.fileExists(atPath: request.output.path)
        let wasEmpty = ((try? fm.contentsOfDirectory(atPath: request.output.path)) ?? []).isEmpty
        do {
            return try await write(request, logger: logger)
        } catch {
            if wasEmpty, let left = try? fm.contentsOfDirectory(at: request.output, includingPropertiesForKeys: nil) {
                for url in left { try? fm.removeItem(at: url) }
                if !existed { try? fm.removeItem(at: request.output) }
            }
            throw error
        }
    }

    static func write(_ request: ExportRequest, logger: Logger) async throws -> BundleManifest {
        let spec = request.spec
        let fm = FileManager.default
        let out = request.output
        if fm.fileExists(atPath: out.path), !((try? fm.contentsOfDirectory(atPath: out.path)) ?? []).isEmpty {
            throw RVBenchError(.badInput, "\(out.path) exists and is not empty; give a new directory with -o")
        }
        let runID = request.runID ?? defaultRunID(spec)
        guard runID.count == 8, runID.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw RVBenchError(.badInput, "run ID \(runID) is not 8 lowercase hex digits")
        }
        guard KubeNames.dnsLabel(request.namespace) == request.namespace else {
            throw RVBenchError(.badInput, "namespace \(request.namespace) is not a DNS-1123 label")
        }
        let registry = request.registry.hasSuffix("/") ? String(request.registry.dropLast()) : request.registry
        guard !registry.isEmpty, !registry.contains("@"), !registry.contains(where: \.isWhitespace) else {
            throw RVBenchError(.badInput, "--registry \(request.registry) is not a registry path such as localhost:5000/lab")
        }
        for name in request.pciIDs.keys where spec.variant(named: name)?.kind != .passthrough {
            throw RVBenchError(.badInput, "--pci-id \(name)=…: the spec has no passthrough variant \(name)")
        }

        // Variants a cluster cannot run, and the host devices of those it can.
        var notRun: [BundleManifest.NotRun] = []
        var hostDevices: [String: HostDeviceMapping] = [:]
        for variant in spec.variants {
            if let reason = notRunReason(variant) {
                notRun.append(.init(variant: variant.name, reason: reason))
            } else if variant.kind == .passthrough {
                hostDevices[variant.name] = try HostDeviceMapping.map(variant, ids: request.pciIDs)
            }
        }
        let skipped = Set(notRun.map(\.variant))
        let boots = Schedule(spec: spec).maximal.filter { !skipped.contains($0.variant.name) }
        var names = [String: BootKey]()
        for boot in boots {
            let name = KubeNames.objectName(runID: runID, variant: boot.variant.name, boot: boot.boot)
            if let other = names[name], other != boot.key {
                throw RVBenchError(.badInput, "variants \(other.variant) and \(boot.variant.name) give the same object "
                    + "name \(name); rename one (Kubernetes names are lower case, with - for _ . @)")
            }
            names[name] = boot.key
        }

        // Images.
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        let scratch = request.scratch ?? out.appendingPathComponent(".build", isDirectory: true)
        defer { if request.scratch == nil { try? fm.removeItem(at: scratch) } }
        let builder = OCIImageBuilder(scratch: scratch)
        var wanted: [BundleImage] = []
        if boots.contains(where: { $0.variant.kind.isGuest }) { wanted += [.guestBoot, .workloadDisk] }
        if boots.contains(where: { $0.variant.kind == .native }) { wanted.append(.workloadRoot) }
        // The inputs' hashes, once: the artifacts record them, and so do the images that copy them.
        var artifacts: [String: Artifact] = [:]
        let used: [(String, URL, Bool)] = [
            ("guest-kernel", request.inputs.guestKernel, wanted.contains(.guestBoot)),
            ("guest-initramfs", request.inputs.guestInitramfs, wanted.contains(.guestBoot)),
            ("workload-disk", request.inputs.workloadDisk, !wanted.isEmpty),
        ]
        for (name, url, needed) in used where needed {
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw RVBenchError(.notFound, "\(url.path) does not exist; rebuild the lab (rvbench lab build) or name the file")
            }
            artifacts["lab/\(name)"] = Artifact(path: url.path, sha256: try SHA256.hex(ofFile: url),
                                                bytes: try OCIImageBuilder.size(url))
        }
        func sha(_ name: String) -> String { artifacts["lab/\(name)"]?.sha256 ?? "" }
        var records: [String: OCIImageRecord] = [:]
        var references: [BundleImage: ImageReference] = [:]
        for image in wanted {
            logger.info("building image", metadata: ["image": "\(image.rawValue)"])
            let content: OCIImageBuilder.Content
            switch image {
            case .guestBoot:
                content = .files([(request.inputs.guestKernel, BundleImage.kernelPath, sha("guest-kernel")),
                                  (request.inputs.guestInitramfs, BundleImage.initrdPath, sha("guest-initramfs"))])
            case .workloadDisk:
                content = .files([(request.inputs.workloadDisk, BundleImage.diskPath, sha("workload-disk"))])
            case .workloadRoot:
                content = .rootOfExt4(request.inputs.workloadDisk)
            }
            let record = try await builder.build(name: image.rawValue, content: content, bundle: out)
            records[image.rawValue] = record
            references[image] = ImageReference(repository: "\(registry)/rvbench-\(image.rawValue)",
                                               digest: record.manifestDigest)
        }

        // Objects.
        let objects = ObjectBuilder(spec: spec, runID: runID, namespace: request.namespace, images: references,
                                    hostDevices: hostDevices)
        let patch = objects.kubeVirtPatch()
        let permitted = Set(hostDevices.values.map(\.resourceName))
        var entries: [BundleManifest.Object] = []
        var findings: [LintFinding] = []
        var files: [(String, String)] = []
        for boot in boots {
            let name = KubeNames.objectName(runID: runID, variant: boot.variant.name, boot: boot.boot)
            let value: KubeValue
            let entry: BundleManifest.Object
            if boot.variant.kind == .native {
                value = objects.job(boot)
                findings += BundleLint.job(value)
                entry = .init(kind: .job, name: name, file: "jobs/\(name).yaml", variant: boot.variant.name,
                              boot: boot.boot, round: boot.round, sequence: boot.sequence)
            } else {
                value = objects.virtualMachineInstance(boot)
                findings += BundleLint.virtualMachineInstance(value, permitted: permitted)
                entry = .init(kind: .virtualMachineInstance, name: name, file: "vmis/\(name).yaml",
                              variant: boot.variant.name, boot: boot.boot, round: boot.round, sequence: boot.sequence)
            }
            entries.append(entry)
            files.append((entry.file, value.yaml()))
        }
        let errors = findings.filter { $0.severity == .error }
        if !errors.isEmpty {
            throw RVBenchError(.internal, "the bundle failed rvbench's own lint:\n"
                + errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        var upstream: [String] = []
        for f in findings where f.severity == .upstream && !upstream.contains("\(f.field): \(f.message)") {
            upstream.append("\(f.field): \(f.message)")
        }

        let namespace: KubeValue = .map([
            ("apiVersion", .string("v1")), ("kind", .string("Namespace")),
            ("metadata", .map([("name", .string(request.namespace)),
                               ("labels", .map([("app.kubernetes.io/name", .string("rvbench"))]))])),
        ])
        files.append(("namespace.yaml", namespace.yaml()))
        if let patch { files.append(("kubevirt-patch.yaml", patch.yaml())) }
        let kustomization: KubeValue = .map([
            ("apiVersion", .string("kustomize.config.k8s.io/v1beta1")),
            ("kind", .string("Kustomization")),
            ("namespace", .string(request.namespace)),
            ("resources", .list([.string("namespace.yaml")] + entries.map { .string($0.file) })),
        ])
        files.append(("kustomization.yaml", kustomization.yaml()))
        files.append(("schedule.txt", entries.map { "\($0.kind.rawValue) \($0.name) \($0.file)\n" }.joined()))
        files.append(("run-in-order.sh", BundleText.script(namespace: request.namespace)))

        let manifest = BundleManifest(
            schemaVersion: BundleManifest.currentVersion, rvbenchVersion: RVBenchVersion.string, experiment: spec.name,
            spec: SpecRecord(path: spec.source?.path, yaml: spec.source?.yaml ?? ""), seed: spec.seed, runID: runID,
            namespace: request.namespace, registry: registry, objects: entries, images: records,
            imageReferences: Dictionary(uniqueKeysWithValues: references.map { ($0.key.rawValue, $0.value.pinned) }),
            artifacts: artifacts, hostDevices: hostDevices.values.sorted { $0.variant < $1.variant }, notRun: notRun,
            upstreamRefusals: upstream, commandLine: request.commandLine)
        files.append(("README.md", BundleText.readme(manifest)))
        files.append((BundleManifest.fileName, String(decoding: try ResultsJSON.prettyData(manifest), as: UTF8.self)))
        for (path, text) in files {
            let url = out.appendingPathComponent(path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
            if path.hasSuffix(".sh") { try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
        }
        return manifest
    }
}

