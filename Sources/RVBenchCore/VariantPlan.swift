// SPDX-License-Identifier: GPL-3.0-or-later

/// What preflight resolved for a variant that can run on this host: the devices its boots use.
/// The manifest records it, and every guest boot's domain XML is checked against it before the boot starts.
public struct VariantPlan: Sendable, Codable, Equatable {
    public var variant: String
    public var kind: VariantKind
    /// The guest's interrupt controller mode.
    public var aia: AIAMode
    /// The host block device behind the read-only workload disk (guests), or the mounted workload root (native).
    public var workloadDevice: String?
    /// `passthrough`: the host PCI device assigned to the guest (`<hostdev>`), and its IOMMU group.
    public var hostdev: PCIAddress?
    public var iommuGroup: String?
    /// `passthrough`: how the assigned device interrupts the guest, and whether the host isolates its MSIs
    /// (false when VFIO type1 runs with `allow_unsafe_interrupts=1`, as on the RISC-V IOMMU v1.0).
    public var interrupts: PassthroughInterrupts?
    /// `vdpa`: the vhost-vdpa character device the guest's datapath uses, and where its vDPA device comes from.
    public var vdpaDevice: String?
    public var vdpaSource: VDPASource?
    /// How the variant's boots reach the data disk of the I/O workloads; nil when the host has none or the
    /// variant's datapath cannot serve it yet.
    public var dataDisk: DataDiskSource?

    enum CodingKeys: String, CodingKey {
        case variant, kind, aia, hostdev
        case workloadDevice = "workload_device"
        case iommuGroup = "iommu_group"
        case interrupts
        case vdpaDevice = "vdpa_device"
        case vdpaSource = "vdpa_source"
        case dataDisk = "data_disk"
    }

    public init(variant: String, kind: VariantKind, aia: AIAMode = .none, workloadDevice: String? = nil,
                hostdev: PCIAddress? = nil, iommuGroup: String? = nil, vdpaDevice: String? = nil,
                dataDisk: DataDiskSource? = nil) {
        self.variant = variant; self.kind = kind; self.aia = aia; self.workloadDevice = workloadDevice
        self.hostdev = hostdev; self.iommuGroup = iommuGroup; self.vdpaDevice = vdpaDevice; self.dataDisk = dataDisk
    }
}

/// How an assigned device's interrupts reach a `passthrough` guest.
public struct PassthroughInterrupts: Sendable, Codable, Equatable {
    /// The guest's interrupt mode for the device: "INTx" (the guest kernel runs with `pci=nomsi`) or "MSI".
    public var mode: String
    /// False when the host's IOMMU does not remap the device's MSIs and VFIO type1 was told to accept that
    /// (`allow_unsafe_interrupts=1`).
    public var msiIsolation: Bool
    /// One sentence for manifests and reports.
    public var note: String

    enum CodingKeys: String, CodingKey {
        case mode
        case msiIsolation = "msi_isolation"
        case note
    }

    public init(mode: String, msiIsolation: Bool, note: String) {
        self.mode = mode; self.msiIsolation = msiIsolation; self.note = note
    }
}

/// Which driver held an assignable PCI device during one boot attempt (recorded in the manifest, by attempt).
public struct DeviceBinding: Sendable, Codable, Equatable {
    public var variant: String
    public var device: PCIAddress
    /// The bound driver ("nvme", "vfio-pci"), or "none".
    public var driver: String

    public init(variant: String, device: PCIAddress, driver: String) {
        self.variant = variant; self.device = device; self.driver = driver
    }
}
