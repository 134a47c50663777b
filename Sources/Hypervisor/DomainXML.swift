// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// One disk of a guest, emulated by QEMU (the `virtio` datapath).
public struct DiskSpec: Sendable, Codable, Equatable {
    /// What the source path names on the host.
    public enum SourceType: String, Sendable, Codable, Equatable {
        /// A regular file (`<disk type='file'>`).
        case file
        /// A block device (`<disk type='block'>`).
        case block
    }

    /// Host path of the image file or block device.
    public var source: String
    /// Guest device name hint, e.g. `vda`.
    public var target: String
    public var type: SourceType
    public var readOnly: Bool
    /// Guest bus, e.g. `virtio`.
    public var bus: String
    /// Image format for QEMU's block layer, e.g. `raw`.
    public var format: String
    /// libvirt's cache mode (`none` opens the source with O_DIRECT, so the host's page cache serves no
    /// reads); nil leaves the hypervisor's default.
    public var cache: String?
    /// The serial number the guest sees (`<serial>`); nil for none.
    public var serial: String?

    public init(source: String, target: String = "vda", type: SourceType = .file, readOnly: Bool = false,
                bus: String = "virtio", format: String = "raw", cache: String? = nil, serial: String? = nil) {
        self.source = source
        self.target = target
        self.type = type
        self.readOnly = readOnly
        self.bus = bus
        self.format = format
        self.cache = cache
        self.serial = serial
    }

    private enum CodingKeys: String, CodingKey { case source, target, type, readOnly, bus, format, cache, serial }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(source: try c.decode(String.self, forKey: .source),
                  target: try c.decodeIfPresent(String.self, forKey: .target) ?? "vda",
                  type: try c.decodeIfPresent(SourceType.self, forKey: .type) ?? .file,
                  readOnly: try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false,
                  bus: try c.decodeIfPresent(String.self, forKey: .bus) ?? "virtio",
                  format: try c.decodeIfPresent(String.self, forKey: .format) ?? "raw",
                  cache: try c.decodeIfPresent(String.self, forKey: .cache),
                  serial: try c.decodeIfPresent(String.self, forKey: .serial))
    }
}

/// One vhost-vdpa disk of a guest (`<disk type='vhostvdpa'>`): QEMU's virtio-blk-pci device with libblkio's
/// `virtio-blk-vhost-vdpa` block driver on a vhost-vdpa character device, so the virtqueues go to the vDPA
/// device instead of QEMU's block layer (the `vdpa` datapath).
public struct VDPADiskSpec: Sendable, Codable, Equatable, ExpressibleByStringLiteral {
    /// The vhost-vdpa character device, e.g. `/dev/vhost-vdpa-0`.
    public var device: String
    public var readOnly: Bool
    /// The serial number the guest sees (`<serial>`); nil for none.
    public var serial: String?

    public init(device: String, readOnly: Bool = false, serial: String? = nil) {
        self.device = device; self.readOnly = readOnly; self.serial = serial
    }

    public init(stringLiteral device: String) { self.init(device: device) }

    private enum CodingKeys: String, CodingKey { case device, readOnly, serial }

    /// A plain string is the device alone.
    public init(from decoder: any Decoder) throws {
        if let device = try? decoder.singleValueContainer().decode(String.self) {
            self.init(device: device)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(device: try c.decode(String.self, forKey: .device),
                  readOnly: try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false,
                  serial: try c.decodeIfPresent(String.self, forKey: .serial))
    }
}

/// Everything that varies between the guests rvbench boots: a direct-kernel-boot riscv64 domain.
public struct GuestDomainSpec: Sendable, Codable, Equatable {
    /// The guest CPU model.
    public enum CPUMode: Sendable, Codable, Equatable {
        /// `<cpu mode='host-passthrough'/>`: the host's CPU as it is (QEMU `-cpu host`).
        case hostPassthrough
        /// `<cpu mode='custom'>` with this model name (QEMU `-cpu NAME`). Needs a libvirt whose
        /// CPU driver knows riscv64; libvirt 9.0 refuses it ("'riscv64' architecture is not
        /// supported by CPU driver").
        case named(String)
        /// No `<cpu>` element: QEMU's default CPU for the machine (`rv64` for riscv `virt`).
        /// The choice for TCG guests under libvirt 9.0.
        case hypervisorDefault

        /// Encoded as one string: `host-passthrough`, `default`, or the model name.
        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            switch text {
            case "host-passthrough": self = .hostPassthrough
            case "default": self = .hypervisorDefault
            default: self = .named(text)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .hostPassthrough: try c.encode("host-passthrough")
            case .hypervisorDefault: try c.encode("default")
            case .named(let model): try c.encode(model)
            }
        }
    }

    /// Domain name; unique per run.
    public var name: String
    /// Domain type: `kvm` for guests under KVM, `qemu` for TCG.
    public var virtType: String
    public var arch: String
    public var machine: String
    public var vcpus: Int
    public var memoryMiB: Int
    public var cpuMode: CPUMode
    /// AIA mode of the riscv `virt` machine (`aplic`, `aplic-imsic`, `none`); nil leaves QEMU's default.
    /// Emitted as `<features><aia value='…'/></features>`, which libvirt understands since 11.1.0.
    public var aia: String?
    /// Guest kernel (direct kernel boot; no firmware is loaded, KVM provides SBI).
    public var kernel: String
    public var initrd: String?
    public var cmdline: String
    /// Disks that QEMU emulates.
    public var disks: [DiskSpec]
    /// Host PCI devices assigned through VFIO (`<hostdev managed='yes'>`).
    public var hostdevs: [PCIAddress]
    /// vhost-vdpa disks (`/dev/vhost-vdpa-N`), each becoming a virtio disk whose datapath bypasses QEMU's
    /// block layer (`<disk type='vhostvdpa'>`, libvirt ≥ 9.8 with QEMU ≥ 8.1). With any, guest memory is
    /// shared memfd (`<memoryBacking>`), which libvirt requires for them.
    public var vdpaDevices: [VDPADiskSpec]
    /// A pty serial port and a console on it, for `virDomainOpenConsole`.
    public var serialConsole: Bool
    public var onPoweroff: String
    public var onReboot: String
    public var onCrash: String
    /// QEMU binary; nil lets libvirt choose.
    public var emulator: String?
    /// Extra QEMU arguments, through libvirt's `qemu:commandline` namespace.
    public var extraQEMUArgs: [String]

    public init(name: String, virtType: String = "kvm", arch: String = "riscv64", machine: String = "virt",
                vcpus: Int = 1, memoryMiB: Int = 512, cpuMode: CPUMode = .hostPassthrough, aia: String? = nil,
                kernel: String, initrd: String? = nil, cmdline: String, disks: [DiskSpec] = [],
                hostdevs: [PCIAddress] = [], vdpaDevices: [VDPADiskSpec] = [], serialConsole: Bool = true,
                onPoweroff: String = "destroy", onReboot: String = "destroy", onCrash: String = "destroy",
                emulator: String? = nil, extraQEMUArgs: [String] = []) {
        self.name = name
        self.virtType = virtType
        self.arch = arch
        self.machine = machine
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.cpuMode = cpuMode
        self.aia = aia
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
        self.disks = disks
        self.hostdevs = hostdevs
        self.vdpaDevices = vdpaDevices
        self.serialConsole = serialConsole
        self.onPoweroff = onPoweroff
        self.onReboot = onReboot
        self.onCrash = onCrash
        self.emulator = emulator
        self.extraQEMUArgs = extraQEMUArgs
    }

    private enum CodingKeys: String, CodingKey {
        case name, virtType, arch, machine, vcpus, memoryMiB, cpuMode, aia, kernel, initrd, cmdline, disks,
             hostdevs, vdpaDevices, serialConsole, onPoweroff, onReboot, onCrash, emulator, extraQEMUArgs
    }

    /// Keys with a default may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            virtType: try c.decodeIfPresent(String.self, forKey: .virtType) ?? "kvm",
            arch: try c.decodeIfPresent(String.self, forKey: .arch) ?? "riscv64",
            machine: try c.decodeIfPresent(String.self, forKey: .machine) ?? "virt",
            vcpus: try c.decodeIfPresent(Int.self, forKey: .vcpus) ?? 1,
            memoryMiB: try c.decodeIfPresent(Int.self, forKey: .memoryMiB) ?? 512,
            cpuMode: try c.decodeIfPresent(CPUMode.self, forKey: .cpuMode) ?? .hostPassthrough,
            aia: try c.decodeIfPresent(String.self, forKey: .aia),
            kernel: try c.decode(String.self, forKey: .kernel),
            initrd: try c.decodeIfPresent(String.self, forKey: .initrd),
            cmdline: try c.decode(String.self, forKey: .cmdline),
            disks: try c.decodeIfPresent([DiskSpec].self, forKey: .disks) ?? [],
            hostdevs: try c.decodeIfPresent([PCIAddress].self, forKey: .hostdevs) ?? [],
            vdpaDevices: try c.decodeIfPresent([VDPADiskSpec].self, forKey: .vdpaDevices) ?? [],
            serialConsole: try c.decodeIfPresent(Bool.self, forKey: .serialConsole) ?? true,
            onPoweroff: try c.decodeIfPresent(String.self, forKey: .onPoweroff) ?? "destroy",
            onReboot: try c.decodeIfPresent(String.self, forKey: .onReboot) ?? "destroy",
            onCrash: try c.decodeIfPresent(String.self, forKey: .onCrash) ?? "destroy",
            emulator: try c.decodeIfPresent(String.self, forKey: .emulator),
            extraQEMUArgs: try c.decodeIfPresent([String].self, forKey: .extraQEMUArgs) ?? [])
    }

    /// The guest device names the vDPA disks get: the first `vdX` names that no disk uses.
    public var vdpaTargets: [String] {
        var used = Set(disks.map(\.target))
        var result: [String] = []
        var letters = "abcdefghijklmnopqrstuvwxyz".makeIterator()
        for _ in vdpaDevices {
            while let l = letters.next() {
                let candidate = "vd\(l)"
                if used.insert(candidate).inserted {
                    result.append(candidate)
                    break
                }
            }
        }
        return result
    }

    /// Checks what libvirt would otherwise reject later, or what XML cannot carry.
    /// Throws `RVBenchError(.badInput, …)` naming the field.
    public func validate() throws {
        func bad(_ message: String) -> RVBenchError { RVBenchError(.badInput, "guest \(name.debugDescription): \(message)") }
        if name.isEmpty || name.contains("/") {
            throw bad("the domain name must be non-empty and contain no '/'")
        }
        if vcpus < 1 { throw bad("vcpus must be at least 1") }
        if memoryMiB < 1 { throw bad("memoryMiB must be at least 1") }
        if kernel.isEmpty { throw bad("a kernel path is required (direct kernel boot)") }
        let lifecycle: Set = ["destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart"]
        for (field, value) in [("onPoweroff", onPoweroff), ("onReboot", onReboot), ("onCrash", onCrash)]
            where !lifecycle.contains(value) {
            throw bad("\(field) '\(value)' is not one of \(lifecycle.sorted().joined(separator: ", "))")
        }
        if let aia, !["aplic", "aplic-imsic", "none"].contains(aia) {
            throw bad("aia '\(aia)' is not one of aplic, aplic-imsic, none")
        }
        if vdpaTargets.count != vdpaDevices.count { throw bad("too many disks: no free vdX target for every vDPA device") }
        var texts = [name, virtType, arch, machine, kernel, cmdline] + extraQEMUArgs
        texts += vdpaDevices.flatMap { [$0.device] + [$0.serial].compactMap { $0 } }
        texts += [initrd, emulator, aia].compactMap { $0 }
        texts += disks.flatMap { [$0.source, $0.target, $0.bus, $0.format] + [$0.cache, $0.serial].compactMap { $0 } }
        if case .named(let model) = cpuMode { texts.append(model) }
        if texts.contains(where: { $0.unicodeScalars.contains(where: { !DomainXML.isXMLCharacter($0) }) }) {
            throw bad("a field contains a control character that XML cannot carry")
        }
    }
}

/// Domain XML for the guests rvbench boots. Pure functions from specs to text; every
/// interpolated value is escaped.
public enum DomainXML {
    /// The XML namespace of QEMU command-line passthrough.
    public static let qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

    /// A guest domain: direct kernel boot with no firmware (`-bios none` under KVM: libvirt
    /// passes no `-bios` when there is no `<loader>`, and QEMU's riscv `virt` machine loads no
    /// firmware under KVM), no graphics, no USB, no balloon, no RNG.
    ///
    /// Call `spec.validate()` first to reject what libvirt or XML would reject; characters that
    /// XML cannot carry at all are replaced by U+FFFD here.
    public static func guest(_ spec: GuestDomainSpec) -> String {
        var x = XMLWriter()
        let hasQEMUArgs = !spec.extraQEMUArgs.isEmpty
        var domainAttributes = [("type", spec.virtType)]
        if hasQEMUArgs { domainAttributes.append(("xmlns:qemu", qemuNamespace)) }
        x.open("domain", domainAttributes)
        x.leaf("name", text: spec.name)
        x.leaf("memory", ["unit": "MiB"], text: String(spec.memoryMiB))
        if !spec.vdpaDevices.isEmpty {
            // vhost-vdpa maps guest memory into the vDPA device: libvirt refuses the disk without shared memory.
            x.open("memoryBacking")
            x.empty("source", ["type": "memfd"])
            x.empty("access", ["mode": "shared"])
            x.close("memoryBacking")
        }
        x.leaf("vcpu", ["placement": "static"], text: String(spec.vcpus))
        x.open("os")
        x.leaf("type", ["arch": spec.arch, "machine": spec.machine], text: "hvm")
        x.leaf("kernel", text: spec.kernel)
        if let initrd = spec.initrd { x.leaf("initrd", text: initrd) }
        x.leaf("cmdline", text: spec.cmdline)
        x.close("os")
        if let aia = spec.aia {
            x.open("features")
            x.empty("aia", ["value": aia])
            x.close("features")
        }
        switch spec.cpuMode {
        case .hostPassthrough:
            x.empty("cpu", ["mode": "host-passthrough"])
        case .named(let model):
            x.open("cpu", ["mode": "custom", "match": "exact", "check": "none"])
            x.leaf("model", ["fallback": "forbid"], text: model)
            x.close("cpu")
        case .hypervisorDefault:
            break
        }
        x.empty("clock", ["offset": "utc"])
        x.leaf("on_poweroff", text: spec.onPoweroff)
        x.leaf("on_reboot", text: spec.onReboot)
        x.leaf("on_crash", text: spec.onCrash)
        x.open("devices")
        if let emulator = spec.emulator { x.leaf("emulator", text: emulator) }
        for disk in spec.disks {
            x.open("disk", ["type": disk.type.rawValue, "device": "disk"])
            var driver = [("name", "qemu"), ("type", disk.format)]
            if let cache = disk.cache { driver.append(("cache", cache)) }
            x.empty("driver", driver)
            x.empty("source", [(disk.type == .file ? "file" : "dev", disk.source)])
            x.empty("target", ["dev": disk.target, "bus": disk.bus])
            if disk.readOnly { x.empty("readonly") }
            if let serial = disk.serial { x.leaf("serial", text: serial) }
            x.close("disk")
        }
        for (disk, target) in zip(spec.vdpaDevices, spec.vdpaTargets) {
            // QEMU's virtio-blk-vhost-vdpa block driver requires cache.direct=on, hence cache='none'.
            x.open("disk", ["type": "vhostvdpa", "device": "disk"])
            x.empty("driver", ["name": "qemu", "type": "raw", "cache": "none", "io": "threads"])
            x.empty("source", ["dev": disk.device])
            x.empty("target", ["dev": target, "bus": "virtio"])
            if disk.readOnly { x.empty("readonly") }
            if let serial = disk.serial { x.leaf("serial", text: serial) }
            x.close("disk")
        }
        for address in spec.hostdevs {
            x.open("hostdev", ["mode": "subsystem", "type": "pci", "managed": "yes"])
            x.open("source")
            x.empty("address", [
                ("domain", "0x" + PCIAddress.hex(address.domain, 4)),
                ("bus", "0x" + PCIAddress.hex(address.bus, 2)),
                ("slot", "0x" + PCIAddress.hex(address.slot, 2)),
                ("function", "0x" + PCIAddress.hex(address.function, 1)),
            ])
            x.close("source")
            x.close("hostdev")
        }
        x.empty("controller", ["type": "usb", "model": "none"])
        if spec.serialConsole {
            x.open("serial", ["type": "pty"])
            x.empty("target", ["port": "0"])
            x.close("serial")
            x.open("console", ["type": "pty"])
            x.empty("target", ["type": "serial", "port": "0"])
            x.close("console")
        }
        x.empty("memballoon", ["model": "none"])
        x.close("devices")
        if hasQEMUArgs {
            x.open("qemu:commandline")
            for arg in spec.extraQEMUArgs { x.empty("qemu:arg", ["value": arg]) }
            x.close("qemu:commandline")
        }
        x.close("domain")
        return x.text
    }

    /// Escapes a value for XML text or a quoted attribute (either quote style).
    /// Line breaks and tabs become character references so attribute normalisation keeps them;
    /// characters XML 1.0 cannot carry at all become U+FFFD.
    public static func escape(_ value: String) -> String {
        value.replacingScalars { scalar in
            switch scalar {
            case "\n": return "&#10;"
            case "\r": return "&#13;"
            case "\t": return "&#9;"
            default: return isXMLCharacter(scalar) ? MarkupText.entity(scalar, apostrophe: "&apos;") : "\u{FFFD}"
            }
        }
    }

    /// True for the characters XML 1.0 allows in a document.
    static func isXMLCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x9, 0xA, 0xD: return true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}

/// Indented XML text, two spaces per level, single-quoted attributes in the given order.
struct XMLWriter {
    private(set) var text = ""
    private var depth = 0

    private mutating func line(_ s: String) {
        text += String(repeating: "  ", count: depth) + s + "\n"
    }

    private func tag(_ name: String, _ attributes: KeyValuePairs<String, String>) -> String {
        tag(name, attributes.map { ($0.key, $0.value) })
    }

    private func tag(_ name: String, _ attributes: [(String, String)]) -> String {
        var s = name
        for (key, value) in attributes { s += " \(key)='\(DomainXML.escape(value))'" }
        return s
    }

    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        open(name, attributes.map { ($0.key, $0.value) })
    }

    mutating func open(_ name: String, _ attributes: [(String, String)]) {
        line("<\(tag(name, attributes))>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    mutating func empty(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        empty(name, attributes.map { ($0.key, $0.value) })
    }

    mutating func empty(_ name: String, _ attributes: [(String, String)]) {
        line("<\(tag(name, attributes))/>")
    }

    mutating func leaf(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], text value: String) {
        line("<\(tag(name, attributes))>\(DomainXML.escape(value))</\(name)>")
    }
}

extension DomainXML {
    /// The `<disk type='file'|'block'>` elements of a domain XML, in order, as (guest target, host source):
    /// what a boot will really be given, read back from the text libvirt receives.
    public static func disks(in xml: String) -> [(target: String, source: String)] {
        var found: [(target: String, source: String)] = []
        var rest = Substring(xml)
        while let start = rest.range(of: "<disk "), let end = rest[start.upperBound...].range(of: "</disk>") {
            let element = rest[start.lowerBound ..< end.upperBound]
            rest = rest[end.upperBound...]
            func attribute(_ tag: String, _ name: String) -> String? {
                guard let t = element.range(of: "<\(tag) ") else { return nil }
                let text = element[t.upperBound...].prefix { $0 != ">" }
                guard let a = text.range(of: "\(name)='") else { return nil }
                return String(text[a.upperBound...].prefix { $0 != "'" })
            }
            guard let target = attribute("target", "dev"),
                  let source = attribute("source", "file") ?? attribute("source", "dev") else { continue }
            found.append((target, source))
        }
        return found
    }

    /// The `<disk type='vhostvdpa'>` elements of a domain XML, in order, as (guest target, vhost-vdpa device):
    /// what a boot will really be given, read back from the text libvirt receives.
    public static func vdpaDisks(in xml: String) -> [(target: String, source: String)] {
        var found: [(target: String, source: String)] = []
        var rest = Substring(xml)
        while let start = rest.range(of: "<disk "), let end = rest[start.upperBound...].range(of: "</disk>") {
            let element = rest[start.lowerBound ..< end.upperBound]
            rest = rest[end.upperBound...]
            let open = element.prefix { $0 != ">" }
            guard open.contains("type='vhostvdpa'") else { continue }
            func attribute(_ tag: String, _ name: String) -> String? {
                guard let t = element.range(of: "<\(tag) ") else { return nil }
                let text = element[t.upperBound...].prefix { $0 != ">" }
                guard let a = text.range(of: "\(name)='") else { return nil }
                return String(text[a.upperBound...].prefix { $0 != "'" })
            }
            guard let target = attribute("target", "dev"), let source = attribute("source", "dev") else { continue }
            found.append((target, source))
        }
        return found
    }

    /// Whether a domain XML shares guest memory through memfd, as vhost-vdpa disks need.
    public static func hasSharedMemfdMemory(in xml: String) -> Bool {
        guard let start = xml.range(of: "<memoryBacking>"),
              let end = xml[start.upperBound...].range(of: "</memoryBacking>") else { return false }
        let element = xml[start.upperBound ..< end.lowerBound]
        return element.contains("<source type='memfd'/>") && element.contains("<access mode='shared'/>")
    }

    /// The PCI addresses of the `<hostdev type='pci'>` elements of a domain XML, in order: what a boot will
    /// really be given, read back from the text libvirt receives.
    public static func hostdevAddresses(in xml: String) -> [PCIAddress] {
        var found: [PCIAddress] = []
        var rest = Substring(xml)
        while let start = rest.range(of: "<hostdev"), let end = rest[start.upperBound...].range(of: "</hostdev>") {
            let element = rest[start.lowerBound ..< end.upperBound]
            rest = rest[end.upperBound...]
            guard element.contains("type='pci'"), let address = element.range(of: "<address") else { continue }
            let tag = element[address.lowerBound...].prefix { $0 != ">" }
            func attribute(_ name: String) -> UInt64? {
                guard let r = tag.range(of: " \(name)='0x") else { return nil }
                return UInt64(tag[r.upperBound...].prefix { $0.isHexDigit }, radix: 16)
            }
            if let d = attribute("domain"), let b = attribute("bus"), let s = attribute("slot"), let f = attribute("function"),
               d <= 0xffff, b <= 0xff, s <= 0xff, f <= 0xff,
               let pci = PCIAddress(domain: UInt16(d), bus: UInt8(b), slot: UInt8(s), function: UInt8(f)) {
                found.append(pci)
            }
        }
        return found
    }
}
