// SPDX-License-Identifier: GPL-3.0-or-later
import Probe
import RVBenchCore

/// What preflight decided for one variant.
public enum PreflightVerdict: Sendable, Equatable {
    /// The variant runs, with these resolved devices.
    case runnable(VariantPlan)
    /// The variant is reported as not run; the reason names what is missing and the fix.
    case notRun(variant: String, reason: String)
}

/// What the host offers, as `HostExecutor.prepare` learned it.
public struct HostOffer: Sendable {
    public var facts: ProbeFacts
    /// The block device mounted at the workload root; nil when nothing is mounted there.
    public var workloadDevice: String?
    public var layout: HostLayout
    /// The lab's L2 kernel version, when the host is the lab (it decides whether AIA guests can boot).
    public var labGuestKernel: String?
    /// The host's block device whose serial is `DataDisk.serial`: the data disk of the I/O workloads; nil for none.
    public var dataDevice: String?
    /// The vhost-vdpa devices that serve the data disk, by source, as `VDPADataDiskLookup` found or made them;
    /// a source is missing when the host was not asked for it (no vdpa variant with that source).
    public var vdpaDataDisks: [VDPASource: VDPADataDiskState]
    /// The PCI device behind `dataDevice` (the lab's NVMe with the own L1 kernel); nil for none or unknown.
    public var dataDeviceAddress: PCIAddress?
    /// A device that libvirt may take from its host driver for each passthrough boot and give back after
    /// (`managed='yes'`): the lab's NVMe with the own L1 kernel; nil on other hosts.
    public var managedDevice: PCIAddress?
    /// True when user-mode reads of the `time` CSR fault in a guest on this host: the lab whose L0 is Debian 12's
    /// QEMU 7.2. fio reads it, so the I/O workloads die of SIGILL in a guest there (natively they run).
    public var guestUserTimeCSRFaults = false

    public init(facts: ProbeFacts, workloadDevice: String?, layout: HostLayout, labGuestKernel: String? = nil,
                dataDevice: String? = nil, vdpaDataDisks: [VDPASource: VDPADataDiskState] = [:], dataDeviceAddress: PCIAddress? = nil,
                managedDevice: PCIAddress? = nil) {
        self.facts = facts; self.workloadDevice = workloadDevice; self.layout = layout; self.labGuestKernel = labGuestKernel
        self.dataDevice = dataDevice; self.vdpaDataDisks = vdpaDataDisks; self.dataDeviceAddress = dataDeviceAddress
        self.managedDevice = managedDevice
    }
}

/// Decides, from the host's facts, which variants can run here and with which devices.
public enum Preflight {
    /// One verdict per variant, in order. With `dataDisk`, the boots run I/O workloads, and a variant that
    /// cannot reach the data disk is not run.
    public static func plan(_ variants: [VariantSetup], on host: HostOffer, dataDisk: Bool = false) -> [PreflightVerdict] {
        variants.map { plan($0, on: host, dataDisk: dataDisk) }
    }

    public static func plan(_ variant: VariantSetup, on host: HostOffer, dataDisk: Bool = false) -> PreflightVerdict {
        let verdict = planDevices(variant, on: host)
        guard case .runnable(var plan) = verdict else { return verdict }
        plan.dataDisk = variant.kind == .passthrough ? assignedDataDisk(plan, on: host) : dataDiskSource(variant, on: host)
        if dataDisk, plan.dataDisk == nil {
            return .notRun(variant: variant.name, reason: dataDiskProblem(variant.kind, on: host))
        }
        if dataDisk, variant.kind.isGuest, host.guestUserTimeCSRFaults {
            return .notRun(variant: variant.name, reason: "the spec's I/O workloads run fio, which reads the time CSR "
                + "from user mode; in a guest of the lab with QEMU 7.2 as L0 that read faults and fio dies of SIGILL: "
                + "use the lab with QEMU 10 (qemu: trixie in the spec, or rvbench lab build --qemu trixie)")
        }
        return .runnable(plan)
    }

    /// How a variant of this kind reaches the host's data disk, or nil.
    static func dataDiskSource(_ variant: VariantSetup, on host: HostOffer) -> DataDiskSource? {
        guard let device = host.dataDevice else { return nil }
        switch variant.kind {
        case .native: return .host(device: device)
        case .virtio: return .virtioBlock(hostDevice: device)
        case .vdpa:
            if case .ready(_, let vhost)? = host.vdpaDataDisks[variant.vdpaSource] { return .vhostVDPA(device: vhost) }
            return nil
        case .passthrough: return nil
        }
    }

    /// The data disk of a passthrough guest: the assigned device itself, when it is the one that carries it.
    static func assignedDataDisk(_ plan: VariantPlan, on host: HostOffer) -> DataDiskSource? {
        guard let address = plan.hostdev, address == host.dataDeviceAddress else { return nil }
        return .assignedDevice(address)
    }

    /// Why a variant that must run I/O workloads has no data disk.
    static func dataDiskProblem(_ kind: VariantKind, on host: HostOffer) -> String {
        if host.dataDevice == nil {
            return "the spec's I/O workloads need the data disk, and the host has no block device with serial "
                + "\(DataDisk.serial) (rebuild the lab: rvbench lab build)"
        }
        if kind == .passthrough {
            return "the spec's I/O workloads need the data disk, and a passthrough guest cannot reach it: the assigned "
                + "device is not the one that carries it (only the lab's NVMe does, with the own L1 kernel: "
                + "rvbench lab build --l1-kernel own --qemu trixie, device 0000:00:10.0)"
        }
        return "the spec's I/O workloads need the data disk, and a \(kind.rawValue) guest cannot reach it yet: "
            + "its datapath does not serve the data disk's bytes in this version"
    }

    /// The verdict on everything but the data disk.
    static func planDevices(_ variant: VariantSetup, on host: HostOffer) -> PreflightVerdict {
        func notRun(_ reason: String) -> PreflightVerdict { .notRun(variant: variant.name, reason: reason) }
        let facts = host.facts
        if variant.kind.isGuest, variant.aia != .none,
           let reason = aiaProblem(facts: facts, guestKernelVersion: host.labGuestKernel, mode: variant.aia) {
            return notRun(reason)
        }
        var plan = VariantPlan(variant: variant.name, kind: variant.kind, aia: variant.aia, workloadDevice: host.workloadDevice)
        switch variant.kind {
        case .native:
            if host.workloadDevice == nil {
                return notRun("the workload root is not mounted at \(host.layout.workloadRoot) on the host; "
                    + "rebuild the lab (rvbench lab build)")
            }
        case .virtio:
            if !facts.kvm.openable { return notRun("no usable /dev/kvm on the host: KVM guests cannot run") }
            if host.workloadDevice == nil {
                return notRun("no workload disk on the host (nothing mounted at \(host.layout.workloadRoot)); rebuild the lab")
            }
        case .passthrough:
            guard let selector = variant.device else { return notRun("no device named in the spec (variants[].device)") }
            switch PassthroughPreflight.check(facts: facts, device: selector, managed: host.managedDevice) {
            case .runnable(let address, let group):
                plan.hostdev = address
                plan.iommuGroup = group
                plan.interrupts = passthroughInterrupts(facts: facts, group: group, aia: variant.aia)
            case .notRun(let reasons):
                return notRun(reasons.joined(separator: "; "))
            }
            if host.workloadDevice == nil {
                return notRun("no workload disk on the host (nothing mounted at \(host.layout.workloadRoot)); rebuild the lab")
            }
        case .vdpa:
            // The vdpa guest is a virtio guest whose data disk (vdb) is the vhost-vdpa disk; it has it for every
            // workload, so the label always names a boot that had the vDPA datapath.
            let state = host.vdpaDataDisks[variant.vdpaSource]
            if let reason = vdpaProblem(facts: facts, source: variant.vdpaSource, state: state) { return notRun(reason) }
            if !facts.kvm.openable { return notRun("no usable /dev/kvm on the host: KVM guests cannot run") }
            if host.workloadDevice == nil {
                return notRun("no workload disk on the host (nothing mounted at \(host.layout.workloadRoot)); rebuild the lab")
            }
            guard case .ready(_, let vhost)? = state else { return notRun("no vhost-vdpa device resolved") }
            plan.vdpaDevice = vhost
            plan.vdpaSource = variant.vdpaSource
        }
        return .runnable(plan)
    }

    /// How an assigned device interrupts the guest. On riscv64 the RISC-V IOMMU v1.0 does not remap MSIs (VFIO
    /// type1 needs `allow_unsafe_interrupts=1`), and without more the device's MSI writes are translated like its
    /// DMA: they fault in the IOMMU (`Fault 15`) and the device times out. So the guest uses INTx (`pci=nomsi`)
    /// unless the device's IOMMU group reports an `msi` reserved region: the IOMMU driver then maps the IMSIC
    /// interrupt files into VFIO's domain (the lab kernel's patch 0003), and a guest with an IMSIC
    /// (`aia: aplic-imsic`) keeps MSIs. A guest without an IMSIC has no MSI controller and uses INTx anyway.
    static func passthroughInterrupts(facts: ProbeFacts, group: String?, aia: AIAMode) -> PassthroughInterrupts {
        guard facts.isRISCV64 else {
            return PassthroughInterrupts(mode: "MSI", msiIsolation: facts.vfio.unsafeInterrupts != "Y",
                                         note: "passthrough interrupts: MSI")
        }
        let unsafe = facts.vfio.unsafeInterrupts == "Y"
        let isolation = "MSI isolation is absent (the RISC-V IOMMU v1.0 does not remap MSIs"
            + (unsafe ? "; vfio_iommu_type1 allow_unsafe_interrupts=1)" : ")")
        let mapped = group.map { facts.iommuGroup($0)?.msiRegion == true } ?? false
        if mapped, aia != .aplicIMSIC {
            return PassthroughInterrupts(
                mode: "INTx", msiIsolation: false,
                note: "the assigned device interrupts the guest with INTx: the guest has no IMSIC (aia: \(aia.rawValue)), "
                    + "so no MSI controller, although IOMMU group \(group ?? "?") reports an msi reserved region; " + isolation)
        }
        if mapped, let id = group {
            return PassthroughInterrupts(
                mode: "MSI", msiIsolation: false,
                note: "the assigned device interrupts the guest with MSIs: the host's IOMMU maps the IMSIC interrupt "
                    + "files 1:1 into the device's domain (IOMMU group \(id) reports an msi reserved region); " + isolation)
        }
        return PassthroughInterrupts(
            mode: "INTx", msiIsolation: false,
            note: "the assigned device interrupts the guest with INTx (guest kernel: pci=nomsi; IOMMU group "
                + "\(group ?? "?") reports no msi reserved region, so MSIs would fault in the IOMMU); " + isolation)
    }

    /// Why a guest with an AIA interrupt controller cannot run here, or nil.
    static func aiaProblem(facts: ProbeFacts, guestKernelVersion: String?, mode: AIAMode) -> String? {
        if !facts.cpu.ssaia {
            return "aia: \(mode.rawValue) needs Ssaia on the host, and its ISA string has none "
                + "(on the lab: qemu: trixie, whose QEMU 10 gives L1 AIA)"
        }
        if let version = guestKernelVersion, let (major, minor) = majorMinor(version), (major, minor) < (6, 10) {
            return "aia: \(mode.rawValue) needs APLIC/IMSIC drivers in the guest kernel (Linux 6.10 or later), "
                + "and the lab's L2 kernel is Linux \(version): the guest would print nothing"
        }
        return nil
    }

    static func majorMinor(_ version: String) -> (Int, Int)? {
        let parts = version.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    /// Why a vdpa variant cannot run here, or nil: it needs a vhost-vdpa device that serves the data disk.
    static func vdpaProblem(facts: ProbeFacts, source: VDPASource, state: VDPADataDiskState?) -> String? {
        switch state {
        case .ready: return nil
        case .unavailable(let reason):
            return "no vhost-vdpa device (vdpa_source: \(source.rawValue)) serves the data disk: \(reason)"
        case nil where facts.vdpa.vhostVDPADevices.isEmpty:
            return "no vhost-vdpa device on the host (needs the vhost_vdpa module and a vDPA device such as vdpa_sim_blk; "
                + "Debian's riscv64 kernel has no VDPA_SIM_BLK, which the lab builds out of tree)"
        case nil:
            return "the host has \(facts.vdpa.vhostVDPADevices.joined(separator: ", ")), but was not asked for one that "
                + "serves the data disk; report this as a bug"
        }
    }
}
