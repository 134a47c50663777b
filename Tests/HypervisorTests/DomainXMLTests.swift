// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Hypervisor
import RVBenchCore
import Testing

@Suite struct DomainXMLTests {
    static let kernel = "/var/cache/rvbench/guest/Image"
    static let initrd = "/var/cache/rvbench/guest/initrd.cpio"
    static let cmdline = "console=ttyS0 panic=1 rdinit=/init"

    @Test func virtioGuestMatchesFixture() throws {
        let spec = GuestDomainSpec(
            name: "rvbench-virtio-0001", vcpus: 2, memoryMiB: 1024, kernel: Self.kernel, initrd: Self.initrd,
            cmdline: Self.cmdline,
            disks: [DiskSpec(source: "/var/cache/rvbench/guest/data.img"),
                    DiskSpec(source: "/dev/loop0", target: "vdb", type: .block, readOnly: true)])
        try Golden.check(DomainXML.guest(spec), against: "guest-virtio.xml")
    }

    @Test func hostdevGuestMatchesFixture() throws {
        let spec = GuestDomainSpec(
            name: "rvbench-passthrough-0001", memoryMiB: 2048, cpuMode: .named("rv64"), aia: "aplic-imsic",
            kernel: Self.kernel, initrd: Self.initrd, cmdline: Self.cmdline,
            hostdevs: [try #require(PCIAddress(string: "0000:01:00.0")),
                       try #require(PCIAddress(string: "0001:0a:1f.7"))],
            emulator: "/usr/bin/qemu-system-riscv64")
        try Golden.check(DomainXML.guest(spec), against: "guest-hostdev.xml")
    }

    @Test func vdpaGuestMatchesFixture() throws {
        let spec = GuestDomainSpec(
            name: "rvbench-vdpa-0001", aia: "aplic-imsic", kernel: Self.kernel, initrd: nil,
            cmdline: Self.cmdline, disks: [DiskSpec(source: "/var/cache/rvbench/guest/root.img")],
            vdpaDevices: ["/dev/vhost-vdpa-0", "/dev/vhost-vdpa-1"],
            extraQEMUArgs: ["-no-reboot"])
        try Golden.check(DomainXML.guest(spec), against: "guest-vdpa.xml")
    }

    /// The `vdpa` variant's guest: the data disk as a read-only vhost-vdpa disk with the data disk's serial, and
    /// guest memory shared through memfd, which libvirt requires for vhost-vdpa.
    @Test func vdpaDataDiskGuestMatchesFixture() throws {
        let spec = GuestDomainSpec(
            name: "rvbench-vdpa-0003", kernel: Self.kernel, initrd: Self.initrd, cmdline: Self.cmdline,
            disks: [DiskSpec(source: "/dev/vda", target: "vda", type: .block, readOnly: true)],
            vdpaDevices: [VDPADiskSpec(device: "/dev/vhost-vdpa-0", readOnly: true, serial: "rvbench-data")])
        try spec.validate()
        let xml = DomainXML.guest(spec)
        try Golden.check(xml, against: "guest-vdpa-data.xml")
        #expect(DomainXML.vdpaDisks(in: xml).map { "\($0.target)=\($0.source)" } == ["vdb=/dev/vhost-vdpa-0"])
        #expect(DomainXML.hasSharedMemfdMemory(in: xml))
        #expect(!DomainXML.hasSharedMemfdMemory(in: DomainXML.guest(GuestDomainSpec(name: "x", kernel: "/k", cmdline: ""))))
    }

    @Test func aVDPADiskDecodesFromAPlainStringOrAnObject() throws {
        let json = #"{"name":"g","kernel":"/k","cmdline":"","vdpaDevices":["/dev/vhost-vdpa-0",{"device":"/dev/vhost-vdpa-1","readOnly":true,"serial":"s"}]}"#
        let spec = try JSONDecoder().decode(GuestDomainSpec.self, from: Data(json.utf8))
        #expect(spec.vdpaDevices == ["/dev/vhost-vdpa-0", VDPADiskSpec(device: "/dev/vhost-vdpa-1", readOnly: true, serial: "s")])
    }

    /// The I/O workloads' data disk: a read-only block device of the host with the host's page cache out of the
    /// way (`cache='none'`) and the serial the workloads' helper and the host lookup know it by.
    @Test func dataDiskGuestMatchesFixture() throws {
        let spec = GuestDomainSpec(
            name: "rvbench-virtio-0002", kernel: Self.kernel, initrd: Self.initrd, cmdline: Self.cmdline,
            disks: [DiskSpec(source: "/dev/vda", target: "vda", type: .block, readOnly: true),
                    DiskSpec(source: "/dev/vdb", target: "vdb", type: .block, readOnly: true, cache: "none",
                             serial: "rvbench-data")])
        let xml = DomainXML.guest(spec)
        try Golden.check(xml, against: "guest-data-disk.xml")
        #expect(DomainXML.disks(in: xml).map { "\($0.target)=\($0.source)" } == ["vda=/dev/vda", "vdb=/dev/vdb"])
    }

    @Test func disksAreReadBackFromFileAndBlockSources() throws {
        let spec = GuestDomainSpec(
            name: "g", kernel: "k", cmdline: "",
            disks: [DiskSpec(source: "/images/root.img"), DiskSpec(source: "/dev/sdb", target: "vdc", type: .block)],
            vdpaDevices: ["/dev/vhost-vdpa-0"])
        let disks = DomainXML.disks(in: DomainXML.guest(spec))
        #expect(disks.map { "\($0.target)=\($0.source)" } == ["vda=/images/root.img", "vdc=/dev/sdb", "vdb=/dev/vhost-vdpa-0"])
        #expect(DomainXML.disks(in: "<domain/>").isEmpty)
    }

    @Test func aDiskSpecWithoutCacheOrSerialDecodesAsBefore() throws {
        let disk = try JSONDecoder().decode(DiskSpec.self, from: Data(#"{"source": "/dev/vdb"}"#.utf8))
        #expect(disk.cache == nil && disk.serial == nil && disk.target == "vda")
        let full = DiskSpec(source: "/dev/vdb", target: "vdb", type: .block, readOnly: true, cache: "none", serial: "s")
        #expect(try JSONDecoder().decode(DiskSpec.self, from: JSONEncoder().encode(full)) == full)
    }

    @Test func vdpaDisksTakeTheFirstFreeTargets() {
        var spec = GuestDomainSpec(name: "g", kernel: "k", cmdline: "",
                                   disks: [DiskSpec(source: "a", target: "vda"), DiskSpec(source: "c", target: "vdc")],
                                   vdpaDevices: ["/dev/vhost-vdpa-0", "/dev/vhost-vdpa-1"])
        #expect(spec.vdpaTargets == ["vdb", "vdd"])
        spec.disks = []
        #expect(spec.vdpaTargets == ["vda", "vdb"])
    }

    @Test func hostileValuesAreEscaped() throws {
        let spec = GuestDomainSpec(
            name: "evil'\"<name>&</name>", kernel: "/k'><kernel>/etc/passwd</kernel>",
            cmdline: "console=ttyS0 init=/bin/sh -c 'echo \"<x>\" && reboot'\nsecond\tline\r",
            disks: [DiskSpec(source: "/tmp/a'b\"c.img", target: "vda' bus='ide")],
            extraQEMUArgs: ["-device", "x,id='a'&b"])
        let xml = DomainXML.guest(spec)
        #expect(xml.contains("<name>evil&apos;&quot;&lt;name&gt;&amp;&lt;/name&gt;</name>"))
        #expect(xml.contains("<kernel>/k&apos;&gt;&lt;kernel&gt;/etc/passwd&lt;/kernel&gt;</kernel>"))
        #expect(xml.contains(
            "<cmdline>console=ttyS0 init=/bin/sh -c &apos;echo &quot;&lt;x&gt;&quot; &amp;&amp; reboot&apos;&#10;second&#9;line&#13;</cmdline>"))
        #expect(xml.contains("<source file='/tmp/a&apos;b&quot;c.img'/>"))
        #expect(xml.contains("<target dev='vda&apos; bus=&apos;ide' bus='virtio'/>"))
        #expect(xml.contains("<qemu:arg value='x,id=&apos;a&apos;&amp;b'/>"))
        // Exactly one <kernel> and one <name> element survive: nothing was injected.
        #expect(xml.components(separatedBy: "<kernel>").count == 2)
        #expect(xml.components(separatedBy: "<name>").count == 2)
        // The result is well-formed XML.
        _ = try XMLDocument(xmlString: xml)
    }

    @Test func charactersXMLCannotCarryAreReplacedAndRejectedByValidate() throws {
        let spec = GuestDomainSpec(name: "g", kernel: "/k", cmdline: "a\u{1}b\u{0}")
        #expect(DomainXML.escape(spec.cmdline) == "a\u{FFFD}b\u{FFFD}")
        #expect(throws: RVBenchError.self) { try spec.validate() }
    }

    @Test func hypervisorDefaultCPUEmitsNoCPUElement() throws {
        let spec = GuestDomainSpec(name: "g", virtType: "qemu", cpuMode: .hypervisorDefault, kernel: "/k", cmdline: "")
        #expect(!DomainXML.guest(spec).contains("<cpu"))
        let decoded = try JSONDecoder().decode(GuestDomainSpec.CPUMode.self, from: Data(#""default""#.utf8))
        #expect(decoded == .hypervisorDefault)
        let passthrough = try JSONDecoder().decode(GuestDomainSpec.CPUMode.self, from: Data(#""host-passthrough""#.utf8))
        #expect(passthrough == .hostPassthrough)
    }

    @Test func aiaIsOnlyEmittedWhenSet() {
        var spec = GuestDomainSpec(name: "g", kernel: "/k", cmdline: "")
        #expect(!DomainXML.guest(spec).contains("<features>"))
        spec.aia = "aplic"
        #expect(DomainXML.guest(spec).contains("<features>\n    <aia value='aplic'/>\n  </features>"))
    }

    @Test func guestHasNoFirmwareGraphicsUSBOrBalloon() {
        let xml = DomainXML.guest(GuestDomainSpec(name: "g", kernel: "/k", cmdline: ""))
        #expect(!xml.contains("<loader"))
        #expect(!xml.contains("<graphics"))
        #expect(!xml.contains("<rng"))
        #expect(xml.contains("<controller type='usb' model='none'/>"))
        #expect(xml.contains("<memballoon model='none'/>"))
        #expect(xml.contains("<cpu mode='host-passthrough'/>"))
        #expect(xml.contains("<console type='pty'>"))
        #expect(!xml.contains("qemu:commandline"))
    }

    @Test(arguments: [
        ("0000:01:00.0", "0000:01:00.0"),
        ("01:00.0", "0000:01:00.0"),
        ("ffff:ff:1f.7", "ffff:ff:1f.7"),
        ("0001:0A:1F.3", "0001:0a:1f.3"),
        (" 0000:00:02.1\n", "0000:00:02.1"),
    ])
    func validPCIAddresses(text: String, canonical: String) throws {
        let address = try #require(PCIAddress(string: text))
        #expect(address.description == canonical)
    }

    @Test(arguments: [
        "", "0000:01:00", "0000:01:00.8", "0000:01:20.0", "00000:01:00.0", "0000:001:00.0",
        "0000:01:00.0.1", "g000:01:00.0", "0000:01:00.", ":01:00.0", "0000::00.0", "1:2:3:4.0",
        "0000:01:00.-1", "+000:01:00.0",
    ])
    func invalidPCIAddresses(text: String) {
        #expect(PCIAddress(string: text) == nil)
    }

    @Test func pciAddressFields() throws {
        let a = try #require(PCIAddress(string: "0002:03:04.5"))
        #expect((a.domain, a.bus, a.slot, a.function) == (2, 3, 4, 5))
        #expect(PCIAddress(bus: 0, slot: 0x20, function: 0) == nil)
    }

    @Test func specDecodesWithDefaultsAndRoundTrips() throws {
        let json = #"""
        {"name": "g1", "kernel": "/k", "cmdline": "console=ttyS0", "cpuMode": "rv64",
         "hostdevs": ["0000:01:00.0"], "disks": [{"source": "/d.img"}]}
        """#
        let spec = try JSONDecoder().decode(GuestDomainSpec.self, from: Data(json.utf8))
        #expect(spec.virtType == "kvm")
        #expect(spec.vcpus == 1 && spec.memoryMiB == 512)
        #expect(spec.cpuMode == .named("rv64"))
        #expect(spec.hostdevs.map(\.description) == ["0000:01:00.0"])
        #expect(spec.disks == [DiskSpec(source: "/d.img")])
        #expect(spec.onPoweroff == "destroy")
        let again = try JSONDecoder().decode(GuestDomainSpec.self, from: JSONEncoder().encode(spec))
        #expect(again == spec)

        let bad = #"{"name": "g", "kernel": "/k", "cmdline": "", "hostdevs": ["01:00"]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(GuestDomainSpec.self, from: Data(bad.utf8)) }
    }

    @Test func validateRejectsWhatLibvirtWould() {
        let good = GuestDomainSpec(name: "g", kernel: "/k", cmdline: "")
        #expect(throws: Never.self) { try good.validate() }
        var s = good
        s.name = "a/b"
        #expect(throws: RVBenchError.self) { try s.validate() }
        s = good
        s.vcpus = 0
        #expect(throws: RVBenchError.self) { try s.validate() }
        s = good
        s.aia = "imsic"
        #expect(throws: RVBenchError.self) { try s.validate() }
        s = good
        s.onReboot = "reboot"
        #expect(throws: RVBenchError.self) { try s.validate() }
    }
}
