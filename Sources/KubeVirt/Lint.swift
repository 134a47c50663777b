// SPDX-License-Identifier: GPL-3.0-or-later

/// One problem `BundleLint` found in an object.
public struct LintFinding: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        /// KubeVirt's admission webhook (or the API server) would refuse the object everywhere.
        case error
        /// Upstream KubeVirt refuses it today; a build with riscv64 support admits it.
        case upstream
    }

    public var object: String
    /// The field, as the webhook names it: `spec.domain.firmware.kernelBoot.kernelArgs`.
    public var field: String
    public var message: String
    public var severity: Severity

    public init(object: String, field: String, message: String, severity: Severity = .error) {
        self.object = object; self.field = field; self.message = message; self.severity = severity
    }

    public var description: String { "\(object): \(field): \(message)" + (severity == .upstream ? " (upstream only)" : "") }
}

/// The admission rules of KubeVirt's VMI webhook (pkg/virt-api/webhooks/validating-webhook/admitters,
/// read at kubevirt/kubevirt d923fdb) that a JSON schema cannot express, and rvbench's own rules for
/// the objects it writes. The schema check (types, known fields) is separate: see docs/kubevirt.md.
public enum BundleLint {
    /// The architectures upstream's `ValidateVirtualMachineInstancePerArch` admits.
    public static let upstreamArchitectures: Set<String> = ["amd64", "arm64", "s390x"]

    /// Lints one VirtualMachineInstance. `permitted` holds the resource names the KubeVirt CR permits.
    public static func virtualMachineInstance(_ vmi: KubeValue, permitted: Set<String>) -> [LintFinding] {
        let name = vmi.at(["metadata", "name"])?.stringValue ?? "?"
        var out: [LintFinding] = []
        func add(_ field: String, _ message: String, _ severity: LintFinding.Severity = .error) {
            out.append(LintFinding(object: name, field: field, message: message, severity: severity))
        }
        out += metadata(vmi, object: name)
        let spec = vmi["spec"]
        let arch = spec?["architecture"]?.stringValue ?? ""
        if !upstreamArchitectures.contains(arch) {
            add("spec.architecture", "unsupported architecture: \(arch.isEmpty ? "(none)" : arch)", .upstream)
        }
        if spec?.at(["nodeSelector", "kubernetes.io/arch"])?.stringValue != "riscv64" {
            add("spec.nodeSelector", "a riscv64 guest needs the node selector kubernetes.io/arch: riscv64")
        }

        // validateKernelBoot
        let kernelBootField = "spec.domain.firmware.kernelBoot"
        if let kernelBoot = spec?.at(["domain", "firmware", "kernelBoot"]) {
            let args = kernelBoot["kernelArgs"]?.stringValue ?? ""
            if let container = kernelBoot["container"] {
                let containerField = kernelBootField + ".container"
                if (container["image"]?.stringValue ?? "").isEmpty {
                    add(containerField + ".image", "\(containerField) must be defined with an image")
                }
                let kernel = container["kernelPath"]?.stringValue ?? ""
                let initrd = container["initrdPath"]?.stringValue ?? ""
                if kernel.isEmpty, initrd.isEmpty {
                    add(containerField, "\(containerField) must be defined with at least one of the following: kernelPath, initrdPath")
                }
                if !kernel.isEmpty, let problem = pathProblem(kernel) { add(containerField + ".kernelPath", problem) }
                if !initrd.isEmpty, let problem = pathProblem(initrd) { add(containerField + ".initrdPath", problem) }
            } else if !args.isEmpty {
                add(kernelBootField + ".kernelArgs", "kernel arguments cannot be provided without an external kernel")
            }
        }

        // Disks and volumes name each other; containerDisk paths are absolute and clean.
        let disks = spec?.at(["domain", "devices", "disks"])?.listValue ?? []
        let volumes = spec?["volumes"]?.listValue ?? []
        let volumeNames = Set(volumes.compactMap { $0["name"]?.stringValue })
        var diskNames = Set<String>()
        for (i, disk) in disks.enumerated() {
            let diskName = disk["name"]?.stringValue ?? ""
            if !diskNames.insert(diskName).inserted {
                add("spec.domain.devices.disks[\(i)].name", "disk name \(diskName) is used twice")
            }
            if !volumeNames.contains(diskName) {
                add("spec.domain.devices.disks[\(i)].name", "disk \(diskName) has no volume of that name")
            }
        }
        for (i, volume) in volumes.enumerated() {
            if let path = volume.at(["containerDisk", "path"])?.stringValue, let problem = pathProblem(path) {
                add("spec.volumes[\(i)].containerDisk.path", problem)
            }
            if let image = volume.at(["containerDisk", "image"])?.stringValue, !image.contains("@sha256:") {
                add("spec.volumes[\(i)].containerDisk.image", "rvbench pins every image by digest; \(image) has none")
            }
        }
        if let image = spec?.at(["domain", "firmware", "kernelBoot", "container", "image"])?.stringValue,
           !image.contains("@sha256:") {
            add(kernelBootField + ".container.image", "rvbench pins every image by digest; \(image) has none")
        }

        // Host devices: each must name a resource the KubeVirt CR permits.
        for (i, device) in (spec?.at(["domain", "devices", "hostDevices"])?.listValue ?? []).enumerated() {
            let deviceName = device["deviceName"]?.stringValue ?? ""
            if !permitted.contains(deviceName) {
                add("spec.domain.devices.hostDevices[\(i)].deviceName",
                    "\(deviceName.isEmpty ? "(empty)" : deviceName) is not in the KubeVirt CR's permittedHostDevices")
            }
        }
        if spec?.at(["domain", "devices", "logSerialConsole"]) != .bool(true) {
            add("spec.domain.devices.logSerialConsole", "must be true: the results come back through the console log")
        }
        if let grace = spec?["terminationGracePeriodSeconds"], grace != .int(0) {
            add("spec.terminationGracePeriodSeconds", "must be 0: a finished guest has nothing to shut down")
        }
        return out
    }

    /// Lints one native Job.
    public static func job(_ job: KubeValue) -> [LintFinding] {
        let name = job.at(["metadata", "name"])?.stringValue ?? "?"
        var out = metadata(job, object: name)
        let pod = job.at(["spec", "template", "spec"])
        if pod?.at(["nodeSelector", "kubernetes.io/arch"])?.stringValue != "riscv64" {
            out.append(LintFinding(object: name, field: "spec.template.spec.nodeSelector",
                                   message: "the native runner needs the node selector kubernetes.io/arch: riscv64"))
        }
        if pod?["restartPolicy"]?.stringValue != "Never" || job.at(["spec", "backoffLimit"]) != .int(0) {
            out.append(LintFinding(object: name, field: "spec", message: "a native boot runs once: restartPolicy Never, backoffLimit 0"))
        }
        if pod?["shareProcessNamespace"] != .bool(true) {
            out.append(LintFinding(object: name, field: "spec.template.spec.shareProcessNamespace",
                                   message: "must be true, or the runner is PID 1 and tries to power the node off"))
        }
        for (i, c) in (pod?["containers"]?.listValue ?? []).enumerated() where !(c["image"]?.stringValue ?? "").contains("@sha256:") {
            out.append(LintFinding(object: name, field: "spec.template.spec.containers[\(i)].image",
                                   message: "rvbench pins every image by digest"))
        }
        return out
    }

    /// `storageadmitters.ValidatePath`: not `/`, absolute, without relative components.
    static func pathProblem(_ path: String) -> String? {
        if path == "/" { return "must not point to root" }
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        let clean = path.hasPrefix("/") && !parts.dropFirst().contains { $0.isEmpty || $0 == "." || $0 == ".." }
        return clean ? nil : "must be an absolute path to a file without relative components"
    }

    /// Names and labels: what the API server checks and a JSON schema does not.
    static func metadata(_ object: KubeValue, object name: String) -> [LintFinding] {
        var out: [LintFinding] = []
        if !isDNSSubdomain(name) || name.count > 63 {
            out.append(LintFinding(object: name, field: "metadata.name",
                                   message: "must be a DNS-1123 label of at most 63 characters"))
        }
        for (key, value) in object.at(["metadata", "labels"])?.mapValue ?? [] {
            let text = value.stringValue ?? ""
            if !isLabelValue(text) {
                out.append(LintFinding(object: name, field: "metadata.labels[\(key)]",
                                       message: "label value \"\(text)\" is not a valid label value (at most 63 "
                                           + "characters of letters, digits, -, _ and ., alphanumeric at both ends)"))
            }
        }
        return out
    }

    static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 253, let first = s.first, let last = s.last,
              first.isASCII, last.isASCII, first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    static func isLabelValue(_ s: String) -> Bool {
        if s.isEmpty { return true }
        guard s.count <= 63, let first = s.first, let last = s.last,
              first.isASCII, last.isASCII, first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }
}
