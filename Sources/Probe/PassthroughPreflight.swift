// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// The verdict of passthrough preflight.
public enum PreflightResult: Sendable, Equatable {
    /// Every check passed: the device's address and its IOMMU group.
    case runnable(device: PCIAddress, iommuGroup: String)
    /// The variant is reported as "not run" with these reasons; each names what is missing, what
    /// that prevents, and the fix.
    case notRun(reasons: [String])

    public var isRunnable: Bool {
        if case .runnable = self { return true }
        return false
    }

    public var reasons: [String] {
        if case .notRun(let reasons) = self { return reasons }
        return []
    }
}

/// Checks, from a host's probed facts, whether a device can be assigned to a KVM guest with VFIO.
public enum PassthroughPreflight {
    /// Drivers VFIO accepts for the other devices of a group, besides no driver at all.
    static let groupDriversAllowed: Set<String> = ["vfio-pci", "pci-stub"]

    /// Runs every check and collects every failure (it does not stop at the first):
    /// the device exists; an IOMMU is present and the device is in a group; the group is viable
    /// (each device bound to vfio-pci, unbound, or a bridge); vfio-pci is loaded; VFIO type1 or
    /// iommufd is available; /dev/kvm and KVM's VFIO device exist; MSIs can be routed (AIA/IMSIC on riscv64).
    ///
    /// `managed` names a device that libvirt may take from its host driver for each boot and give back after
    /// (`<hostdev managed='yes'>`): the lab's own NVMe. For it, a host driver is no failure, and KVM without a
    /// VFIO device is none either as long as VFIO type1 serves QEMU's legacy container path (QEMU then only
    /// warns "Failed to create KVM VFIO device"; its iommufd backend would fail), provided type1 accepts
    /// interrupts without MSI isolation (`allow_unsafe_interrupts`) where the IOMMU cannot remap them.
    public static func check(facts: ProbeFacts, device selector: PCIDeviceSelector,
                             managed: PCIAddress? = nil) -> PreflightResult {
        var reasons: [String] = []
        let device = facts.device(selector)
        if device == nil {
            reasons.append("no PCI device \(selector) on the host: there is nothing to assign; "
                + "name an existing device (lspci -Dnn lists address and vendor:device)")
        }

        // IOMMU and the device's group.
        var group: IOMMUGroup?
        if !facts.iommu.present {
            reasons.append("no IOMMU: the device's DMA cannot be confined to the guest, so VFIO refuses it; "
                + "enable the IOMMU (RISC-V IOMMU driver, Linux 6.13 or later, on a platform that has one; "
                + "in the lab, the own L1 kernel has it and Debian 13's 6.12, --l1-kernel debian, has none)")
        } else if let device {
            if let id = device.iommuGroup, let g = facts.iommuGroup(id) {
                group = g
            } else {
                reasons.append("\(device.name) is in no IOMMU group: VFIO can only assign grouped devices; "
                    + "check that the IOMMU covers this device's PCI segment")
            }
        }

        let isManaged = device.flatMap { PCIAddress(string: $0.name) }.map { $0 == managed } ?? false
        let type1Container = facts.vfio.module("vfio_iommu_type1").isPresent && facts.vfio.container

        // The device's own driver.
        if let device, let driver = device.driver, driver != "vfio-pci", !isManaged {
            reasons.append("\(device.name) is bound to \(driver), not vfio-pci: the host driver owns it and rvbench does not "
                + "take a device from a host driver; bind it to vfio-pci first "
                + "(echo vfio-pci > /sys/bus/pci/devices/\(device.name)/driver_override; "
                + "echo \(device.name) > /sys/bus/pci/drivers/\(driver)/unbind; "
                + "echo \(device.name) > /sys/bus/pci/drivers_probe)")
        }

        // Group viability: the other devices of the group.
        if let group, let device {
            let blockers = group.devices.filter { other in
                guard other.name != device.name, let driver = other.driver else { return false }
                return !groupDriversAllowed.contains(driver) && !other.isBridge
            }
            if !blockers.isEmpty {
                let list = blockers.map { "\($0.name) (\($0.driver ?? "unbound"))" }.joined(separator: ", ")
                reasons.append("IOMMU group \(group.id) is not viable: \(list) "
                    + (blockers.count == 1 ? "is" : "are") + " still bound to a host driver, and VFIO assigns a group only "
                    + "when every device in it is bound to vfio-pci or unbound; unbind "
                    + (blockers.count == 1 ? "it" : "them") + " or bind to vfio-pci as well")
            }
        }

        // vfio-pci.
        let vfioPCI = facts.vfio.module("vfio_pci")
        if !(facts.vfio.vfioPCIDriver || vfioPCI.isPresent) {
            if vfioPCI == .available {
                reasons.append("vfio-pci is not loaded: no driver can hold the device for the guest; modprobe vfio-pci")
            } else {
                reasons.append("the kernel has no vfio-pci (module \(vfioPCI.rawValue)): no driver can hold the device "
                    + "for the guest; use a kernel with CONFIG_VFIO_PCI")
            }
        }

        // The IOMMU backend of VFIO.
        let type1 = facts.vfio.module("vfio_iommu_type1")
        let type1Usable = type1.isPresent && facts.vfio.container
        if !type1Usable && !facts.vfio.iommufd {
            let fix = type1 == .available ? "modprobe vfio_iommu_type1"
                : "use a kernel with VFIO type1 for riscv (out of tree as of Linux 6.17; vendor kernels carry it) "
                    + "or with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV"
            reasons.append("neither VFIO type1 nor iommufd is available (vfio_iommu_type1 \(type1.rawValue), "
                + "/dev/vfio/vfio \(facts.vfio.container ? "present" : "absent"), /dev/iommu absent): VFIO cannot map "
                + "guest memory for the device's DMA; \(fix)")
        }

        // KVM and its VFIO device.
        if !(facts.kvm.present && facts.kvm.openable) {
            reasons.append("no usable /dev/kvm (\(facts.kvm.error ?? "cannot be opened")): no KVM guest can run; "
                + "load KVM on a CPU with the H extension")
        }
        if isManaged, type1Container, facts.vfio.unsafeInterrupts != "Y" {
            reasons.append("vfio_iommu_type1 does not allow interrupts without MSI isolation (allow_unsafe_interrupts="
                + "\(facts.vfio.unsafeInterrupts ?? "unknown")): the RISC-V IOMMU v1.0 cannot remap MSIs, so VFIO refuses "
                + "to attach the device; modprobe vfio_iommu_type1 allow_unsafe_interrupts=1")
        }
        switch facts.vfio.kvmVFIODevice {
        case .yes:
            break
        case .no where type1Container:
            // QEMU's legacy group/container path (libvirt's default <hostdev>) only warns ("Failed to create KVM
            // VFIO device"); its iommufd backend would fail, and rvbench does not use it.
            break
        case .no:
            reasons.append("KVM has no VFIO device (\(facts.vfio.kvmVFIODetail)): QEMU cannot register the assigned "
                + "device with KVM; use a kernel whose riscv KVM has KVM_DEV_TYPE_VFIO (out of tree as of Linux 6.17; "
                + "vendor kernels carry it)")
        case .unknown:
            reasons.append("whether KVM has a VFIO device is unknown (\(facts.vfio.kvmVFIODetail)): passthrough is not "
                + "attempted blind; run the probe as root on the host so that it can ask KVM")
        }

        // MSI routing.
        if facts.isRISCV64 && !facts.interrupts.imsic {
            reasons.append("no IMSIC (interrupt controller: \(facts.interrupts.aiaMode ?? "none found")): the device's "
                + "MSIs cannot be routed to the guest; use a platform with AIA (QEMU virt with aia=aplic-imsic, "
                + "--qemu trixie in the lab)")
        }

        if reasons.isEmpty, let device, let group {
            guard let address = PCIAddress(string: device.name) else {
                return .notRun(reasons: ["the probe named the device \"\(device.name)\", which is not a PCI address; "
                    + "check the probe's facts"])
            }
            return .runnable(device: address, iommuGroup: group.id)
        }
        if reasons.isEmpty {
            reasons.append("preflight could not identify the device's IOMMU group; check the probe's facts")
        }
        return .notRun(reasons: reasons)
    }
}
