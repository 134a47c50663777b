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
    /// `vdpa`: the vhost-vdpa character device the guest's datapath uses.
    public var vdpaDevice: String?
    /// How the variant's boots reach the data disk of the I/O workloads; nil when the host has none or the
    /// variant's datapath cannot serve it yet.
    public var dataDisk: DataDiskSource?

    enum CodingKeys: String, CodingKey {
        case variant, kind, aia, hostdev
        case workloadDevice = "workload_device"
        case iommuGroup = "iommu_group"
        case vdpaDevice = "vdpa_device"
        case dataDisk = "data_disk"
    }

    public init(variant: String, kind: VariantKind, aia: AIAMode = .none, workloadDevice: String? = nil,
                hostdev: PCIAddress? = nil, iommuGroup: String? = nil, vdpaDevice: String? = nil,
                dataDisk: DataDiskSource? = nil) {
        self.variant = variant; self.kind = kind; self.aia = aia; self.workloadDevice = workloadDevice
        self.hostdev = hostdev; self.iommuGroup = iommuGroup; self.vdpaDevice = vdpaDevice; self.dataDisk = dataDisk
    }
}
