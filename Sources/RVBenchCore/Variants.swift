// SPDX-License-Identifier: GPL-3.0-or-later

/// How a variant runs the workloads.
public enum VariantKind: String, Sendable, Codable, CaseIterable {
    /// Directly on the riscv64 host.
    case native
    /// In a KVM guest whose devices QEMU emulates.
    case virtio
    /// In a KVM guest with a PCI device assigned through VFIO.
    case passthrough
    /// In a KVM guest whose virtio datapath is a vhost-vdpa device.
    case vdpa

    /// Whether the variant is a guest (every kind but `native`).
    public var isGuest: Bool { self != .native }
}

/// The RISC-V Advanced Interrupt Architecture mode of a `virt` machine.
public enum AIAMode: String, Sendable, Codable, CaseIterable {
    case none
    case aplic
    case aplicIMSIC = "aplic-imsic"
}

/// Where a `vdpa` variant's vDPA device comes from (the variant key `vdpa_source`).
public enum VDPASource: String, Sendable, Codable, CaseIterable {
    /// `vdpa_sim_blk`: the kernel's block simulator, a RAM disk the host fills with the data disk.
    case simulator
    /// `vp_vdpa`: a virtio-blk PCI device driven as a vDPA device. Its DMA goes through the host's IOMMU, in
    /// a domain vhost-vdpa owns; in the lab the device is L0's virtio-blk-pci, whose image is the data disk.
    case pci
}

/// Which QEMU emulates the lab's riscv64 host (L0).
public enum QEMUFlavour: String, Sendable, Codable, CaseIterable {
    /// Debian 12's qemu-system-misc 7.2 (no AIA, no Sscofpmf), as a transient domain of the controller's libvirt.
    case debian12
    /// QEMU 10 from a Debian 13 amd64 root, as a supervised process: AIA (`aia=aplic-imsic`), Sscofpmf
    /// (a guest PMU under KVM), `riscv-iommu-pci`, and an `-icount` that boots L1.
    ///
    /// Not a libvirt domain: libvirt 9.0's capability probe of QEMU 10 loses the monitor at
    /// `qom-list-types`, so the controller's libvirt cannot start it. rvbench runs it itself
    /// (daemonized, with a pid file), and `lab down` and the run that started it stop it.
    case trixie

    /// Also accepts `system`, the name `lab up --qemu` and older lab state files use for `debian12`.
    public init?(rawValue: String) {
        switch rawValue {
        case "debian12", "system": self = .debian12
        case "trixie": self = .trixie
        default: return nil
        }
    }

    /// The name the lab's state file and `lab up --qemu` use.
    public var labName: String { self == .debian12 ? "system" : "trixie" }
}

/// How the lab runs: which L0 QEMU, and whether deterministically.
public struct LabOptions: Sendable, Equatable, Codable {
    public var qemu: QEMUFlavour
    /// Run L0 with `-icount shift=0,sleep=off` and one hart: guest time becomes a function of
    /// instructions executed.
    public var deterministic: Bool

    public init(qemu: QEMUFlavour = .debian12, deterministic: Bool = false) {
        self.qemu = qemu
        self.deterministic = deterministic
    }
}
