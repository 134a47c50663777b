// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import RVBenchCore

/// The container images a bundle holds, and what each one carries.
public enum BundleImage: String, Sendable, CaseIterable, Codable {
    /// The lab's guest kernel and runner initramfs, for `firmware.kernelBoot`.
    case guestBoot = "guest-boot"
    /// The workload disk (ext4 with ffmpeg, ONNX Runtime, models, clips and the runner), as a containerDisk.
    case workloadDisk = "workload-disk"
    /// The workload root as a container filesystem, for the native Jobs.
    case workloadRoot = "workload-root"

    /// Paths inside the images.
    public static let kernelPath = "/boot/Image"
    public static let initrdPath = "/boot/initramfs.cpio"
    public static let diskPath = "/disk/workload.img"
}

/// A pushed image: where the cluster pulls it from, pinned by digest.
public struct ImageReference: Sendable, Equatable, Codable {
    /// `REGISTRY/rvbench-NAME`.
    public var repository: String
    /// `sha256:…` of the image manifest.
    public var digest: String

    public init(repository: String, digest: String) {
        self.repository = repository; self.digest = digest
    }

    /// `repository@digest`: the form every object of the bundle uses.
    public var pinned: String { "\(repository)@\(digest)" }
}

/// A PCI vendor and device ID, 4 lowercase hex digits each.
public struct PCIID: Sendable, Hashable, CustomStringConvertible {
    public var vendor: String
    public var device: String

    /// Parses `VVVV:DDDD` (hex, either case).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }) else { return nil }
        vendor = parts[0].lowercased()
        device = parts[1].lowercased()
    }

    public var description: String { "\(vendor):\(device)" }
}

/// How a `passthrough` variant's device reaches a VMI: KubeVirt's device plugin advertises every
/// device matching `pciVendorSelector` as the extended resource `resourceName`, once the KubeVirt CR
/// permits it, and a VMI asks for one by that name.
public struct HostDeviceMapping: Sendable, Equatable, Codable {
    public var variant: String
    /// e.g. `devices.rvbench.io/pci-1af4-1042`.
    public var resourceName: String
    /// `VVVV:DDDD`, upper case, as KubeVirt's permittedHostDevices writes it.
    public var pciVendorSelector: String
    /// What could not be carried over from the spec (a device index), if anything.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case variant
        case resourceName = "resource_name"
        case pciVendorSelector = "pci_vendor_selector"
        case note
    }

    /// The resource name rvbench gives a vendor:device pair.
    public static func resourceName(for id: PCIID) -> String { "devices.rvbench.io/pci-\(id.vendor)-\(id.device)" }

    /// Maps a passthrough variant's `device`. A selector by ID maps directly; a PCI address needs the
    /// device's ID from `ids` (KubeVirt selects devices by ID, not by address).
    public static func map(_ variant: VariantSpec, ids: [String: PCIID]) throws -> HostDeviceMapping {
        let id: PCIID
        var note: String?
        switch variant.device {
        case .id(let vendor, let device, let index)?:
            guard let parsed = PCIID("\(vendor):\(device)") else {
                throw RVBenchError(.badInput, "variant \(variant.name): device \(vendor):\(device) is not VVVV:DDDD")
            }
            id = ids[variant.name] ?? parsed
            if index != 0 {
                note = "the spec asks for device index \(index); KubeVirt's device plugin hands out any permitted "
                    + "device with this ID, so the index is not kept"
            }
        case .address(let address)?:
            guard let given = ids[variant.name] else {
                throw RVBenchError(.badInput, "variant \(variant.name) names PCI address \(address), but KubeVirt selects "
                    + "host devices by vendor and device ID; pass --pci-id \(variant.name)=VVVV:DDDD "
                    + "(from `lspci -nn -s \(address)` on the node)")
            }
            id = given
            note = "the spec's address \(address) selects no device on a cluster; every node's \(id) devices qualify"
        case nil:
            throw RVBenchError(.badInput, "variant \(variant.name) is passthrough but names no device")
        }
        return HostDeviceMapping(variant: variant.name, resourceName: resourceName(for: id),
                                 pciVendorSelector: "\(id.vendor.uppercased()):\(id.device.uppercased())", note: note)
    }
}

/// Kubernetes names and label values derived from spec names.
public enum KubeNames {
    /// The label keys every object of a bundle carries.
    public static let runLabel = "rvbench.io/run"
    public static let variantLabel = "rvbench.io/variant"
    public static let bootLabel = "rvbench.io/boot"
    public static let roundLabel = "rvbench.io/round"
    public static let specLabel = "rvbench.io/spec-sha256"
    /// Annotations: the spec's full SHA-256 and the variant's name as the spec writes it.
    public static let specAnnotation = "rvbench.io/spec-sha256"
    public static let variantAnnotation = "rvbench.io/variant-name"
    public static let sequenceAnnotation = "rvbench.io/sequence"
    /// A label value holds at most 63 characters, so the spec label carries the first 32 hex digits
    /// (128 bits) of the SHA-256; the annotation carries all 64.
    public static let specLabelDigits = 32

    /// A DNS-1123 label: lower case letters, digits and `-`, starting and ending alphanumeric, at most
    /// `limit` characters. Other characters (`_`, `.`, `@`, upper case) become `-` or lower case.
    public static func dnsLabel(_ text: String, limit: Int = 63) -> String {
        var out = String(text.lowercased().map { c -> Character in
            (c.isASCII && (c.isLetter || c.isNumber)) ? c : "-"
        })
        while out.contains("--") { out = out.replacingOccurrences(of: "--", with: "-") }
        out = String(out.prefix(limit))
        while out.hasPrefix("-") { out.removeFirst() }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "x" : out
    }

    /// The object of one boot: `rvbench-RUN-VARIANT-bBOOT` (a VMI or a Job).
    public static func objectName(runID: String, variant: String, boot: Int) -> String {
        let suffix = "-b\(boot)"
        let head = "rvbench-\(runID)-"
        return head + dnsLabel(variant, limit: 63 - head.count - suffix.count) + suffix
    }
}

/// The objects of one bundle, built from a spec's schedule.
public struct ObjectBuilder: Sendable {
    public var spec: ExperimentSpec
    public var runID: String
    public var namespace: String
    public var images: [BundleImage: ImageReference]
    public var hostDevices: [String: HostDeviceMapping]

    public init(spec: ExperimentSpec, runID: String, namespace: String, images: [BundleImage: ImageReference],
                hostDevices: [String: HostDeviceMapping]) {
        self.spec = spec; self.runID = runID; self.namespace = namespace; self.images = images
        self.hostDevices = hostDevices
    }

    var specSHA256: String { spec.source?.sha256 ?? SHA256.hex(of: "") }

    func labels(_ boot: ScheduledBoot) -> KubeValue {
        .map([
            ("app.kubernetes.io/name", .string("rvbench")),
            (KubeNames.runLabel, .string(runID)),
            (KubeNames.variantLabel, .string(KubeNames.dnsLabel(boot.variant.name))),
            (KubeNames.bootLabel, .string(String(boot.boot))),
            (KubeNames.roundLabel, .string(String(boot.round))),
            (KubeNames.specLabel, .string(String(specSHA256.prefix(KubeNames.specLabelDigits)))),
        ])
    }

    func annotations(_ boot: ScheduledBoot) -> KubeValue {
        .map([
            (KubeNames.specAnnotation, .string(specSHA256)),
            (KubeNames.variantAnnotation, .string(boot.variant.name)),
            (KubeNames.sequenceAnnotation, .string(String(boot.sequence))),
        ])
    }

    func metadata(_ boot: ScheduledBoot) -> KubeValue {
        .map([
            ("name", .string(KubeNames.objectName(runID: runID, variant: boot.variant.name, boot: boot.boot))),
            ("namespace", .string(namespace)),
            ("labels", labels(boot)),
            ("annotations", annotations(boot)),
        ])
    }

    static let archSelector: KubeValue = .map([("kubernetes.io/arch", .string("riscv64"))])

    func image(_ which: BundleImage) -> String {
        images[which]?.pinned ?? "rvbench-\(which.rawValue)"
    }

    /// The VirtualMachineInstance of one guest boot.
    public func virtualMachineInstance(_ boot: ScheduledBoot) -> KubeValue {
        let variant = boot.variant
        let plan = RunnerPlan(boot: boot, spec: spec)
        var cpu: [(String, KubeValue)] = [("cores", .int(variant.vcpus)), ("sockets", .int(1)), ("threads", .int(1))]
        cpu.append(("model", .string(variant.cpu)))
        var devices: [(String, KubeValue)] = [
            ("autoattachGraphicsDevice", .bool(false)),
            ("autoattachMemBalloon", .bool(false)),
            ("autoattachPodInterface", .bool(false)),
            ("autoattachSerialConsole", .bool(true)),
            ("logSerialConsole", .bool(true)),
            ("disks", .list([.map([("name", .string("workload")), ("disk", .map([("bus", .string("virtio"))]))])])),
        ]
        if variant.kind == .passthrough, let mapping = hostDevices[variant.name] {
            devices.append(("hostDevices", .list([.map([
                ("name", .string("assigned0")), ("deviceName", .string(mapping.resourceName)),
            ])])))
        }
        let domain: KubeValue = .map([
            ("cpu", .map(cpu)),
            ("memory", .map([("guest", .string("\(variant.memoryMiB)Mi"))])),
            ("resources", .map([("requests", .map([("memory", .string("\(variant.memoryMiB)Mi"))]))])),
            ("machine", .map([("type", .string(variant.machine))])),
            ("firmware", .map([("kernelBoot", .map([
                ("container", .map([
                    ("image", .string(image(.guestBoot))),
                    ("imagePullPolicy", .string("IfNotPresent")),
                    ("kernelPath", .string(BundleImage.kernelPath)),
                    ("initrdPath", .string(BundleImage.initrdPath)),
                ])),
                ("kernelArgs", .string(plan.kernelArgs)),
            ]))])),
            ("devices", .map(devices)),
        ])
        return .map([
            ("apiVersion", .string("kubevirt.io/v1")),
            ("kind", .string("VirtualMachineInstance")),
            ("metadata", metadata(boot)),
            ("spec", .map([
                ("architecture", .string("riscv64")),
                ("nodeSelector", Self.archSelector),
                ("terminationGracePeriodSeconds", .int(0)),
                ("domain", domain),
                ("volumes", .list([.map([
                    ("name", .string("workload")),
                    ("containerDisk", .map([
                        ("image", .string(image(.workloadDisk))),
                        ("imagePullPolicy", .string("IfNotPresent")),
                        ("path", .string(BundleImage.diskPath)),
                    ])),
                ])])),
            ])),
        ])
    }

    /// The Job of one native boot: the runner in a container whose filesystem is the workload root, on a
    /// riscv64 node, never restarted (a failed boot is the run's to record, not Kubernetes' to retry).
    public func job(_ boot: ScheduledBoot) -> KubeValue {
        let plan = RunnerPlan(boot: boot, spec: spec)
        let podMetadata: KubeValue = .map([("labels", labels(boot)), ("annotations", annotations(boot))])
        return .map([
            ("apiVersion", .string("batch/v1")),
            ("kind", .string("Job")),
            ("metadata", metadata(boot)),
            ("spec", .map([
                ("backoffLimit", .int(0)),
                ("completions", .int(1)),
                ("parallelism", .int(1)),
                ("template", .map([
                    ("metadata", podMetadata),
                    ("spec", .map([
                        ("restartPolicy", .string("Never")),
                        ("nodeSelector", Self.archSelector),
                        ("terminationGracePeriodSeconds", .int(0)),
                        // The runner powers the machine off when it is PID 1; with a shared process
                        // namespace the pause container is PID 1 and the runner just exits.
                        ("shareProcessNamespace", .bool(true)),
                        ("enableServiceLinks", .bool(false)),
                        ("automountServiceAccountToken", .bool(false)),
                        ("containers", .list([.map([
                            ("name", .string("runner")),
                            ("image", .string(image(.workloadRoot))),
                            ("imagePullPolicy", .string("IfNotPresent")),
                            ("command", .list(plan.command.map { .string($0) })),
                        ])])),
                    ])),
                ])),
            ])),
        ])
    }

    /// The merge patch for the KubeVirt CR that permits the bundle's host devices and turns on the
    /// HostDevices feature gate; nil when no variant assigns a device.
    public func kubeVirtPatch() -> KubeValue? {
        let mappings = hostDevices.values.sorted { $0.resourceName < $1.resourceName }
        guard !mappings.isEmpty else { return nil }
        var seen = Set<String>()
        let permitted = mappings.filter { seen.insert($0.resourceName).inserted }.map { m -> KubeValue in
            .map([
                ("pciVendorSelector", .string(m.pciVendorSelector)),
                ("resourceName", .string(m.resourceName)),
                ("externalResourceProvider", .bool(false)),
            ])
        }
        return .map([
            ("apiVersion", .string("kubevirt.io/v1")),
            ("kind", .string("KubeVirt")),
            ("metadata", .map([("name", .string("kubevirt")), ("namespace", .string("kubevirt"))])),
            ("spec", .map([("configuration", .map([
                ("developerConfiguration", .map([("featureGates", .list([.string("HostDevices")]))])),
                ("permittedHostDevices", .map([("pciHostDevices", .list(permitted))])),
            ]))])),
        ])
    }
}
