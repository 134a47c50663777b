// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Probe
import RVBenchCore
import Testing

@Suite("passthrough preflight")
struct PreflightTests {
    @Test("device selectors parse", arguments: [
        ("0000:00:03.0", PCIDeviceSelector.address(PCIAddress(domain: 0, bus: 0, slot: 3, function: 0)!)),
        ("00:03.0", .address(PCIAddress(domain: 0, bus: 0, slot: 3, function: 0)!)),
        ("0001:1F:1f.7", .address(PCIAddress(domain: 1, bus: 0x1f, slot: 0x1f, function: 7)!)),
        ("1B36:0010", PCIDeviceSelector.id(vendor: "1b36", device: "0010", index: 0)),
        ("1b36:0010#2", PCIDeviceSelector.id(vendor: "1b36", device: "0010", index: 2)),
    ])
    func selectors(text: String, expected: PCIDeviceSelector) {
        #expect(PCIDeviceSelector(string: text) == expected)
    }

    @Test("bad device selectors are refused",
          arguments: ["", "1b36", "zz:00.0", "0000:00:20.0", "00:03.8", "1b36:0010#-1", "1b36:10", "1b36:0010:1", "00:03"])
    func badSelectors(text: String) {
        #expect(PCIDeviceSelector(string: text) == nil)
    }

    @Test("a host that can: the device and its group are named")
    func hostCan() throws {
        let f = try Fixtures.facts("host-can")
        #expect(PassthroughPreflight.check(facts: f, device: PCIDeviceSelector(string: "0000:00:03.0")!)
            == .runnable(device: PCIAddress(string: "0000:00:03.0")!, iommuGroup: "2"))
        #expect(PassthroughPreflight.check(facts: f, device: PCIDeviceSelector(string: "1b36:0010")!)
            == .runnable(device: PCIAddress(string: "0000:00:03.0")!, iommuGroup: "2"))
    }

    @Test("a host with no IOMMU is not run, and every missing piece is named with its fix")
    func noIOMMU() throws {
        let result = PassthroughPreflight.check(facts: try Fixtures.facts("no-iommu"), device: PCIDeviceSelector(string: "0000:00:03.0")!)
        #expect(!result.isRunnable)
        let reasons = result.reasons
        #expect(reasons.count == 6)
        #expect(reasons[0].hasPrefix("no IOMMU: the device's DMA cannot be confined to the guest"))
        #expect(reasons[0].contains("Linux 6.13 or later") && reasons[0].contains("Debian 13's 6.12, --l1-kernel debian, has none"))
        #expect(reasons.contains { $0.hasPrefix("0000:00:03.0 is bound to nvme, not vfio-pci") })
        #expect(reasons.contains { $0.hasPrefix("vfio-pci is not loaded") && $0.hasSuffix("modprobe vfio-pci") })
        #expect(reasons.contains { $0.hasPrefix("neither VFIO type1 nor iommufd is available (vfio_iommu_type1 absent") })
        #expect(reasons.contains { $0.hasPrefix("KVM has no VFIO device") })
        #expect(reasons.contains { $0.hasPrefix("no IMSIC (interrupt controller: plic)") })
    }

    @Test("a non-viable group names the device that blocks it")
    func nonViable() throws {
        let result = PassthroughPreflight.check(facts: try Fixtures.facts("non-viable-group"),
                                                device: PCIDeviceSelector(string: "0000:00:03.0")!)
        #expect(result.reasons == [
            "IOMMU group 2 is not viable: 0000:00:04.0 (nvme) is still bound to a host driver, and VFIO assigns a group "
                + "only when every device in it is bound to vfio-pci or unbound; unbind it or bind to vfio-pci as well",
        ])
    }

    @Test("a device bound to the wrong driver is not taken from it")
    func wrongDriver() throws {
        let result = PassthroughPreflight.check(facts: try Fixtures.facts("wrong-driver"),
                                                device: PCIDeviceSelector(string: "0000:00:03.0")!)
        // iommufd alone is a usable backend here (vfio_iommu_type1 is absent), so the driver is the only reason.
        #expect(result.reasons.count == 1)
        #expect(result.reasons[0].hasPrefix("0000:00:03.0 is bound to nvme, not vfio-pci"))
        #expect(result.reasons[0].contains("echo vfio-pci > /sys/bus/pci/devices/0000:00:03.0/driver_override"))
    }

    @Test("a device that is not there is named")
    func missingDevice() throws {
        let result = PassthroughPreflight.check(facts: try Fixtures.facts("host-can"),
                                                device: PCIDeviceSelector(string: "1b36:0010#1")!)
        #expect(result.reasons.count == 1)
        #expect(result.reasons[0].hasPrefix("no PCI device 1b36:0010#1 on the host"))
    }

    @Test("a PCI bridge or an unbound device in the group does not block it")
    func bridgeTolerated() throws {
        var f = try Fixtures.facts("host-can")
        let index = try #require(f.iommu.groups.firstIndex { $0.id == "2" })
        f.iommu.groups[index].devices.append(GroupDevice(name: "0000:00:05.0", driver: "pcieport", vendor: "1b36",
                                                         device: "000c", class: "060400"))
        f.iommu.groups[index].devices.append(GroupDevice(name: "0000:00:06.0", driver: nil, vendor: "1af4",
                                                         device: "1042", class: "010000"))
        #expect(PassthroughPreflight.check(facts: f, device: PCIDeviceSelector(string: "0000:00:03.0")!).isRunnable)
    }

    @Test("an unknown KVM VFIO device is not assumed present")
    func kvmVFIOUnknown() throws {
        var f = try Fixtures.facts("host-can")
        f.vfio.kvmVFIODevice = .unknown
        f.vfio.kvmVFIODetail = "not probed: /dev/kvm cannot be opened"
        let reasons = PassthroughPreflight.check(facts: f, device: PCIDeviceSelector(string: "0000:00:03.0")!).reasons
        #expect(reasons == ["whether KVM has a VFIO device is unknown (not probed: /dev/kvm cannot be opened): "
            + "passthrough is not attempted blind; run the probe as root on the host so that it can ask KVM"])
    }
}
