// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// What `rvbench-probe facts` reports about a host, decoded strictly: every key the probe writes
/// must be present with the right type (null only where the probe may write null), and the schema
/// version must be one this rvbench reads.
///
/// This is the full probe record; `RVBenchCore.HostFacts` is the smaller summary kept in a
/// manifest (see `manifestHostFacts`).
public struct ProbeFacts: Codable, Sendable, Equatable {
    /// The probe output format this rvbench reads.
    public static let schemaVersion = 1

    public var schema: Int
    public var probeVersion: String
    /// "/" on a live host; the directory given with `--root` for a recorded tree.
    public var root: String
    /// `uname -m`, e.g. "riscv64"; "unknown" when it could not be read under a root.
    public var arch: String
    /// `uname -r`.
    @Nullable public var kernel: String?
    @Nullable public var cpuCount: Int?
    @Nullable public var memoryBytes: Int64?
    public var kvm: KVMDevice
    /// The kvm module: loaded, builtin, available, absent or unknown.
    public var kvmModule: ModuleState
    public var cpu: CPUInfo
    public var iommu: IOMMUInfo
    /// Every PCI device in /sys/bus/pci/devices.
    public var pci: [PCIDevice]
    public var vfio: VFIOInfo
    public var interrupts: InterruptInfo
    public var vdpa: VDPAInfo
    public var perf: PerfProbe
    public var kvmStats: KVMStatsAvailability

    enum CodingKeys: String, CodingKey {
        case schema
        case probeVersion = "probe_version"
        case root, arch, kernel
        case cpuCount = "cpu_count"
        case memoryBytes = "memory_bytes"
        case kvm
        case kvmModule = "kvm_module"
        case cpu, iommu, pci, vfio, interrupts, vdpa, perf
        case kvmStats = "kvm_stats"
    }

    public init(schema: Int = ProbeFacts.schemaVersion, probeVersion: String, root: String = "/", arch: String,
                kernel: String?, cpuCount: Int?, memoryBytes: Int64?, kvm: KVMDevice, kvmModule: ModuleState,
                cpu: CPUInfo, iommu: IOMMUInfo, pci: [PCIDevice], vfio: VFIOInfo, interrupts: InterruptInfo,
                vdpa: VDPAInfo, perf: PerfProbe, kvmStats: KVMStatsAvailability) {
        self.schema = schema; self.probeVersion = probeVersion; self.root = root; self.arch = arch
        self.kernel = kernel; self.cpuCount = cpuCount; self.memoryBytes = memoryBytes; self.kvm = kvm
        self.kvmModule = kvmModule; self.cpu = cpu; self.iommu = iommu; self.pci = pci; self.vfio = vfio
        self.interrupts = interrupts; self.vdpa = vdpa; self.perf = perf; self.kvmStats = kvmStats
    }

    /// Decodes the probe's standard output. A probe that reported `{"error": ...}` becomes an error.
    public static func decode(_ data: Data) throws -> ProbeFacts {
        try ProbeJSON.decode(ProbeFacts.self, from: data, what: "facts")
    }

    /// True when the host is riscv64.
    public var isRISCV64: Bool { arch == "riscv64" }

    /// The PCI device a selector names, if the host has it.
    public func device(_ selector: PCIDeviceSelector) -> PCIDevice? {
        switch selector {
        case .address(let address):
            return pci.first { PCIAddress(string: $0.name) == address }
        case .id(let vendor, let device, let index):
            let matches = pci.filter { $0.vendor == vendor && $0.device == device }.sorted { $0.name < $1.name }
            return index < matches.count ? matches[index] : nil
        }
    }

    /// The IOMMU group with this id.
    public func iommuGroup(_ id: String) -> IOMMUGroup? {
        iommu.groups.first { $0.id == id }
    }

    /// The summary kept in a manifest.
    public func manifestHostFacts(kind: String, emulated: Bool, libvirtURI: String? = nil,
                                  qemuVersion: String? = nil, libvirtVersion: String? = nil,
                                  emulator: String? = nil) -> HostFacts {
        HostFacts(kind: kind, emulated: emulated, arch: arch, kernel: kernel, isa: cpu.isa ?? cpu.hartISA,
                  aiaMode: interrupts.aiaMode, qemuVersion: qemuVersion, libvirtVersion: libvirtVersion,
                  cpuCount: cpuCount, memoryBytes: memoryBytes, libvirtURI: libvirtURI, emulator: emulator)
    }
}

/// Whether a kernel module is there: loaded (in /sys/module with an initstate), built into the
/// kernel, available on disk (modules.dep), absent, or unknown (no module directory to look in).
public enum ModuleState: String, Codable, Sendable, CaseIterable {
    case loaded, builtin, available, absent, unknown

    /// Loaded or built in: usable now.
    public var isPresent: Bool { self == .loaded || self == .builtin }
}

/// A yes/no answer that may not have been obtainable.
public enum TriState: String, Codable, Sendable {
    case yes, no, unknown
}

/// /dev/kvm.
public struct KVMDevice: Codable, Sendable, Equatable {
    public var present: Bool
    public var openable: Bool
    /// Why it is missing or cannot be opened.
    @Nullable public var error: String?
    /// `KVM_GET_API_VERSION` (12 on every current kernel); nil when not asked.
    @Nullable public var apiVersion: Int?

    enum CodingKeys: String, CodingKey {
        case present, openable, error
        case apiVersion = "api_version"
    }

    public init(present: Bool, openable: Bool, error: String?, apiVersion: Int?) {
        self.present = present; self.openable = openable; self.error = error; self.apiVersion = apiVersion
    }
}

/// The ISA string of /proc/cpuinfo and the extensions rvbench cares about.
public struct CPUInfo: Codable, Sendable, Equatable {
    /// The `isa` line of the first hart: on newer kernels the extensions every hart has.
    @Nullable public var isa: String?
    /// The `hart isa` line of the first hart, where the kernel prints one.
    @Nullable public var hartISA: String?
    /// The MMU mode, e.g. "sv57".
    @Nullable public var mmu: String?
    /// How many `processor` entries /proc/cpuinfo lists.
    public var harts: Int
    /// Every extension of the ISA string, lowercased: single letters, then multi-letter names.
    public var extensions: [String]
    /// The hypervisor extension: KVM needs it.
    public var h: Bool
    /// The vector extension (RVV).
    public var v: Bool
    /// Supervisor-level AIA: interrupts for guests (IMSIC guest files).
    public var ssaia: Bool
    /// Machine-level AIA.
    public var smaia: Bool
    /// Counter overflow and mode filtering: perf sampling on the host and a PMU for KVM guests.
    public var sscofpmf: Bool

    enum CodingKeys: String, CodingKey {
        case isa
        case hartISA = "hart_isa"
        case mmu, harts, extensions, h, v, ssaia, smaia, sscofpmf
    }

    public init(isa: String?, hartISA: String?, mmu: String?, harts: Int, extensions: [String],
                h: Bool, v: Bool, ssaia: Bool, smaia: Bool, sscofpmf: Bool) {
        self.isa = isa; self.hartISA = hartISA; self.mmu = mmu; self.harts = harts; self.extensions = extensions
        self.h = h; self.v = v; self.ssaia = ssaia; self.smaia = smaia; self.sscofpmf = sscofpmf
    }
}

/// IOMMU units and groups.
public struct IOMMUInfo: Codable, Sendable, Equatable {
    /// Entries of /sys/class/iommu, e.g. "riscv-iommu.0".
    public var units: [String]
    /// /sys/kernel/iommu_groups, by numeric id.
    public var groups: [IOMMUGroup]
    /// True when the probe stopped listing groups at its bound.
    public var groupsTruncated: Bool

    enum CodingKeys: String, CodingKey {
        case units, groups
        case groupsTruncated = "groups_truncated"
    }

    public init(units: [String], groups: [IOMMUGroup], groupsTruncated: Bool = false) {
        self.units = units; self.groups = groups; self.groupsTruncated = groupsTruncated
    }

    /// True when the host has an IOMMU that isolates devices.
    public var present: Bool { !units.isEmpty || !groups.isEmpty }
}

/// One IOMMU group and the devices in it.
public struct IOMMUGroup: Codable, Sendable, Equatable {
    public var id: String
    /// The group's domain type, e.g. "DMA", "identity"; nil when not readable.
    @Nullable public var type: String?
    /// True when the group's `reserved_regions` has an `msi` region: the IOMMU driver maps an MSI doorbell
    /// (on the lab's kernel: the IMSIC interrupt files) into the group's domains, so that an assigned
    /// device's MSIs reach the interrupt controller. Nil when the file was not readable (or an older probe).
    @NullableOrMissing public var msiRegion: Bool?
    public var devices: [GroupDevice]

    public init(id: String, type: String?, msiRegion: Bool? = nil, devices: [GroupDevice]) {
        self.id = id; self.type = type; self.msiRegion = msiRegion; self.devices = devices
    }

    enum CodingKeys: String, CodingKey {
        case id, type, devices
        case msiRegion = "msi_region"
    }
}

/// A device in an IOMMU group.
public struct GroupDevice: Codable, Sendable, Equatable {
    /// The device name, e.g. "0000:00:03.0".
    public var name: String
    /// The bound driver, e.g. "vfio-pci"; nil when unbound.
    @Nullable public var driver: String?
    /// Lowercase hex without "0x", e.g. "1b36"; nil when the file is missing (non-PCI devices).
    @Nullable public var vendor: String?
    @Nullable public var device: String?
    /// The PCI class as six hex digits, e.g. "010802" for NVMe.
    @Nullable public var `class`: String?

    public init(name: String, driver: String?, vendor: String?, device: String?, class: String?) {
        self.name = name; self.driver = driver; self.vendor = vendor; self.device = device; self.class = `class`
    }

    enum CodingKeys: String, CodingKey { case name, driver, vendor, device, `class` }

    /// A PCI-to-PCI bridge (class 0604xx), which VFIO tolerates in a group whatever its driver.
    public var isBridge: Bool { `class`?.hasPrefix("0604") ?? false }
}

/// A PCI device of /sys/bus/pci/devices.
public struct PCIDevice: Codable, Sendable, Equatable {
    public var name: String
    @Nullable public var driver: String?
    @Nullable public var vendor: String?
    @Nullable public var device: String?
    @Nullable public var `class`: String?
    /// The IOMMU group id; nil without an IOMMU.
    @Nullable public var iommuGroup: String?

    enum CodingKeys: String, CodingKey {
        case name, driver, vendor, device, `class`
        case iommuGroup = "iommu_group"
    }

    public init(name: String, driver: String?, vendor: String?, device: String?, class: String?, iommuGroup: String?) {
        self.name = name; self.driver = driver; self.vendor = vendor; self.device = device
        self.class = `class`; self.iommuGroup = iommuGroup
    }
}

/// VFIO: device nodes, the vfio-pci driver, modules, and KVM's VFIO device.
public struct VFIOInfo: Codable, Sendable, Equatable {
    /// /dev/vfio/vfio (the legacy container, used with VFIO type1).
    public var container: Bool
    /// /dev/iommu (iommufd).
    public var iommufd: Bool
    /// /sys/bus/pci/drivers/vfio-pci: the driver is registered.
    public var vfioPCIDriver: Bool
    /// vfio, vfio_pci, vfio_iommu_type1 and iommufd.
    public var modules: [String: ModuleState]
    /// Whether KVM creates a `KVM_DEV_TYPE_VFIO` device (probed with `KVM_CREATE_DEVICE_TEST`).
    public var kvmVFIODevice: TriState
    /// How that was found out, or why not.
    public var kvmVFIODetail: String
    /// `vfio_iommu_type1`'s `allow_unsafe_interrupts` parameter (`Y` or `N`); nil while the module is not
    /// loaded. Without MSI isolation, type1 attaches a group only with `Y`.
    public var unsafeInterrupts: String?

    enum CodingKeys: String, CodingKey {
        case container, iommufd
        case vfioPCIDriver = "vfio_pci_driver"
        case modules
        case kvmVFIODevice = "kvm_vfio_device"
        case kvmVFIODetail = "kvm_vfio_detail"
        case unsafeInterrupts = "unsafe_interrupts"
    }

    public init(container: Bool, iommufd: Bool, vfioPCIDriver: Bool, modules: [String: ModuleState],
                kvmVFIODevice: TriState, kvmVFIODetail: String, unsafeInterrupts: String? = nil) {
        self.container = container; self.iommufd = iommufd; self.vfioPCIDriver = vfioPCIDriver
        self.modules = modules; self.kvmVFIODevice = kvmVFIODevice; self.kvmVFIODetail = kvmVFIODetail
        self.unsafeInterrupts = unsafeInterrupts
    }

    public func module(_ name: String) -> ModuleState { modules[name] ?? .unknown }
}

/// Interrupt controllers, from the device tree and /proc/interrupts.
public struct InterruptInfo: Codable, Sendable, Equatable {
    public var imsic: Bool
    public var aplic: Bool
    public var plic: Bool
    /// Lines of /proc/interrupts naming an MSI domain; nil when /proc/interrupts was unreadable.
    @Nullable public var msiIRQs: Int?
    /// "aplic-imsic", "imsic", "aplic" or "plic"; nil when none was found.
    @Nullable public var aiaMode: String?
    /// Where the facts came from: "devicetree", "proc-interrupts".
    public var sources: [String]

    enum CodingKeys: String, CodingKey {
        case imsic, aplic, plic
        case msiIRQs = "msi_irqs"
        case aiaMode = "aia_mode"
        case sources
    }

    public init(imsic: Bool, aplic: Bool, plic: Bool, msiIRQs: Int?, aiaMode: String?, sources: [String]) {
        self.imsic = imsic; self.aplic = aplic; self.plic = plic; self.msiIRQs = msiIRQs
        self.aiaMode = aiaMode; self.sources = sources
    }
}

/// vDPA and vhost-vdpa.
public struct VDPAInfo: Codable, Sendable, Equatable {
    /// /sys/bus/vdpa exists (the vdpa core is loaded).
    public var bus: Bool
    /// /dev/vhost-vdpa-* nodes.
    public var vhostVDPADevices: [String]
    /// /sys/bus/vdpa/devices entries.
    public var devices: [String]
    /// /sys/bus/vdpa/drivers entries, e.g. "vhost_vdpa".
    public var drivers: [String]
    /// Simulator management devices (/sys/devices/vdpasim_*); hardware ones are only listed over netlink.
    public var mgmtdevs: [String]
    /// vdpa, vhost_vdpa, vdpa_sim and vdpa_sim_blk.
    public var modules: [String: ModuleState]

    enum CodingKeys: String, CodingKey {
        case bus
        case vhostVDPADevices = "vhost_vdpa_devices"
        case devices, drivers, mgmtdevs, modules
    }

    public init(bus: Bool, vhostVDPADevices: [String], devices: [String], drivers: [String], mgmtdevs: [String],
                modules: [String: ModuleState]) {
        self.bus = bus; self.vhostVDPADevices = vhostVDPADevices; self.devices = devices
        self.drivers = drivers; self.mgmtdevs = mgmtdevs; self.modules = modules
    }

    public func module(_ name: String) -> ModuleState { modules[name] ?? .unknown }
}

/// The perf events the probe could open on itself.
public struct PerfProbe: Codable, Sendable, Equatable {
    /// /proc/sys/kernel/perf_event_paranoid.
    @Nullable public var paranoid: Int?
    /// False under `--root`: nothing was opened.
    public var probed: Bool
    /// Why nothing was probed.
    @Nullable public var reason: String?
    public var events: [PerfEventProbe]

    public init(paranoid: Int?, probed: Bool, reason: String?, events: [PerfEventProbe]) {
        self.paranoid = paranoid; self.probed = probed; self.reason = reason; self.events = events
    }

    enum CodingKeys: String, CodingKey { case paranoid, probed, reason, events }

    public var openable: [String] { events.filter(\.ok).map(\.name) }
    public var unavailable: [PerfEventProbe] { events.filter { !$0.ok } }
}

/// One perf event probed with `perf_event_open` on the probe process.
public struct PerfEventProbe: Codable, Sendable, Equatable {
    /// The generic perf name, e.g. "cycles", "task-clock".
    public var name: String
    /// "hardware" or "software".
    public var kind: String
    public var ok: Bool
    /// Only user space could be counted (kernel counting was not permitted).
    public var userOnly: Bool
    @Nullable public var errno: Int?
    /// strerror(errno), or a read error.
    @Nullable public var error: String?
    /// What a short loop counted, when it opened.
    @Nullable public var value: UInt64?

    enum CodingKeys: String, CodingKey {
        case name, kind, ok
        case userOnly = "user_only"
        case errno, error, value
    }

    public init(name: String, kind: String, ok: Bool, userOnly: Bool, errno: Int?, error: String?, value: UInt64?) {
        self.name = name; self.kind = kind; self.ok = ok; self.userOnly = userOnly
        self.errno = errno; self.error = error; self.value = value
    }
}

/// Whether KVM's debugfs statistics can be read.
public struct KVMStatsAvailability: Codable, Sendable, Equatable {
    public var path: String
    public var available: Bool
    /// The probe mounted debugfs to look.
    public var mountedByProbe: Bool
    @Nullable public var error: String?

    enum CodingKeys: String, CodingKey {
        case path, available
        case mountedByProbe = "mounted_by_probe"
        case error
    }

    public init(path: String, available: Bool, mountedByProbe: Bool, error: String?) {
        self.path = path; self.available = available; self.mountedByProbe = mountedByProbe; self.error = error
    }
}

/// `rvbench-probe kvm-stats`: KVM's debugfs counters, host-wide and per VM.
public struct KVMStatsSnapshot: Codable, Sendable, Equatable {
    /// The probe output format (`ProbeFacts.schemaVersion`).
    public private(set) var schema = ProbeFacts.schemaVersion
    public var available: Bool
    @Nullable public var error: String?
    public var mountedByProbe: Bool
    /// Every counter file of /sys/kernel/debug/kvm: e.g. exits, mmio_exit_user, csr_exit_kernel.
    public var global: [String: UInt64]
    /// One entry per `<pid>-<fd>` directory.
    public var vms: [VM]
    /// Files that held no single decimal counter, with the reason.
    public var unreadable: [String: String]

    public struct VM: Codable, Sendable, Equatable {
        /// The process that owns the VM (QEMU).
        public var pid: Int32
        public var fd: Int32
        public var dir: String
        public var stats: [String: UInt64]

        public init(pid: Int32, fd: Int32, dir: String, stats: [String: UInt64]) {
            self.pid = pid; self.fd = fd; self.dir = dir; self.stats = stats
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, available, error
        case mountedByProbe = "mounted_by_probe"
        case global, vms, unreadable
    }

    public init(available: Bool, error: String?, mountedByProbe: Bool, global: [String: UInt64], vms: [VM],
                unreadable: [String: String]) {
        self.available = available; self.error = error; self.mountedByProbe = mountedByProbe
        self.global = global; self.vms = vms; self.unreadable = unreadable
    }

    /// The counters of the VMs owned by `pid`, summed if it owns several.
    public func stats(ofPID pid: Int32) -> [String: UInt64]? {
        let mine = vms.filter { $0.pid == pid }
        guard !mine.isEmpty else { return nil }
        var sum: [String: UInt64] = [:]
        for vm in mine { sum.merge(vm.stats) { $0 &+ $1 } }
        return sum
    }

    public static func decode(_ data: Data) throws -> KVMStatsSnapshot {
        try ProbeJSON.decode(KVMStatsSnapshot.self, from: data, what: "kvm-stats")
    }
}

/// Decoding of the probe's output.
enum ProbeJSON {
    /// `{"error": "..."}`: what the probe prints instead of a document when it fails. Documents carry
    /// "schema" (and kvm-stats has an "error" field of its own), so only a schema-less object is a failure.
    private struct ErrorReport: Decodable {
        var error: String
        var schema: Int?
    }

    /// The schema number every document starts with.
    private struct Header: Decodable {
        var schema: Int?
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        if let report = try? JSONDecoder().decode(ErrorReport.self, from: data), report.schema == nil {
            throw RVBenchError(.process, "rvbench-probe \(what) failed: \(report.error)")
        }
        if let schema = (try? JSONDecoder().decode(Header.self, from: data))?.schema, schema != ProbeFacts.schemaVersion {
            throw RVBenchError(.format, "rvbench-probe \(what) wrote schema \(schema); this rvbench reads "
                + "\(ProbeFacts.schemaVersion); rebuild the probe from this checkout (make -C workloads/probe)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as RVBenchError {
            throw error
        } catch {
            let head = String(decoding: data.prefix(200), as: UTF8.self)
            throw RVBenchError(.format, "rvbench-probe \(what) printed output this rvbench cannot read "
                + "(\(describe(error))); first bytes: \(head.debugDescription); rebuild the probe from this checkout",
                cause: error)
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ p: [any CodingKey]) -> String { p.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing key \(path(ctx.codingPath + [key]))"
        case .typeMismatch(_, let ctx): return "wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case .valueNotFound(_, let ctx): return "null at \(path(ctx.codingPath))"
        case .dataCorrupted(let ctx): return "bad data at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
