// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Probe
import RVBenchCore
import Testing

@Suite("probe facts decoding")
struct FactsTests {
    static let fixtureNames = ["host-can", "no-iommu", "non-viable-group", "wrong-driver", "x86-controller"]

    @Test("every fixture decodes and survives an encode/decode round trip", arguments: fixtureNames)
    func roundTrip(name: String) throws {
        let facts = try Fixtures.facts(name)
        let again = try ProbeFacts.decode(try JSONEncoder().encode(facts))
        #expect(again == facts)
    }

    @Test("a riscv64 host with an IOMMU, VFIO, AIA and vDPA decodes to those facts")
    func hostCan() throws {
        let f = try Fixtures.facts("host-can")
        #expect(f.isRISCV64)
        #expect(f.kernel == "6.12.48+deb13-riscv64")
        #expect(f.cpuCount == 2)
        #expect(f.memoryBytes == Int64(4_012_345) * 1024)
        #expect(f.kvm == KVMDevice(present: true, openable: true, error: nil, apiVersion: 12))
        #expect(f.cpu.h && f.cpu.ssaia && f.cpu.smaia && f.cpu.sscofpmf && !f.cpu.v)
        #expect(f.cpu.harts == 2)
        #expect(f.cpu.mmu == "sv57")
        #expect(f.cpu.extensions.prefix(7) == ["i", "m", "a", "f", "d", "c", "h"])
        #expect(f.cpu.extensions.contains("sstc"))
        #expect(f.iommu.units == ["riscv-iommu.0"])
        #expect(f.iommu.groups.map(\.id) == ["0", "1", "2"])
        #expect(f.iommuGroup("2")?.msiRegion == true && f.iommuGroup("1")?.msiRegion == false)
        #expect(f.iommuGroup("2")?.devices == [GroupDevice(name: "0000:00:03.0", driver: "vfio-pci", vendor: "1b36",
                                                           device: "0010", class: "010802")])
        #expect(f.pci.first { $0.name == "0000:00:01.0" }?.iommuGroup == nil)
        #expect(f.vfio.module("vfio_iommu_type1") == .loaded)
        #expect(f.vfio.kvmVFIODevice == .yes)
        #expect(f.interrupts.aiaMode == "aplic-imsic" && f.interrupts.imsic && !f.interrupts.plic)
        #expect(f.vdpa.vhostVDPADevices == ["vhost-vdpa-0"])
        #expect(f.vdpa.mgmtdevs == ["vdpasim_blk"])
        #expect(f.vdpa.module("vdpa_sim_blk") == .loaded)
        #expect(!f.perf.probed && f.perf.events.isEmpty)
        #expect(f.kvmStats.available)
    }

    @Test("module states: available on disk, absent, and unknown")
    func moduleStates() throws {
        let f = try Fixtures.facts("no-iommu")
        #expect(f.vfio.module("vfio_pci") == .available)
        #expect(f.vfio.module("vfio_iommu_type1") == .absent)
        #expect(f.vfio.module("not-probed") == .unknown)
        #expect(f.interrupts.aiaMode == "plic")
        #expect(!f.cpu.ssaia && !f.cpu.sscofpmf)
    }

    @Test("the recorded x86_64 controller: no ISA string, software perf events open, hardware ones do not")
    func controller() throws {
        let f = try Fixtures.facts("x86-controller")
        #expect(f.arch == "x86_64")
        #expect(f.cpu.isa == nil && f.cpu.extensions.isEmpty)
        #expect(f.perf.probed)
        #expect(f.perf.openable.contains("task-clock"))
        let cycles = try #require(f.perf.events.first { $0.name == "cycles" })
        #expect(!cycles.ok && cycles.errno == 2 && cycles.error == "No such file or directory")
    }

    @Test("a missing key is an error, even for a value that may be null")
    func missingKey() throws {
        var object = try Fixtures.json("host-can")
        object.removeValue(forKey: "kernel")
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
        #expect(error.code == .format)
        #expect(error.message.contains("missing key kernel"))
    }

    @Test("a nested missing key names its path")
    func nestedMissingKey() throws {
        var object = try Fixtures.json("host-can")
        var cpu = object["cpu"] as! [String: Any]
        cpu.removeValue(forKey: "sscofpmf")
        object["cpu"] = cpu
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
        #expect(error.message.contains("cpu.sscofpmf"))
    }

    @Test("a wrong type is an error")
    func wrongType() throws {
        var object = try Fixtures.json("host-can")
        var cpu = object["cpu"] as! [String: Any]
        cpu["harts"] = "2"
        object["cpu"] = cpu
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
    }

    @Test("an unknown module state is an error")
    func unknownEnumValue() throws {
        var object = try Fixtures.json("host-can")
        object["kvm_module"] = "maybe"
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
    }

    @Test("another schema version is refused with the fix")
    func schemaVersion() throws {
        var object = try Fixtures.json("host-can")
        object["schema"] = 2
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = try #require(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
        #expect(error.code == .format)
        #expect(error.message.contains("rebuild the probe"))
    }

    @Test("a probe error document becomes an error with the probe's message")
    func probeError() throws {
        let data = Data(#"{"error":"perf: no process 42"}"#.utf8)
        let error = try #require(throws: RVBenchError.self) { try ProbeFacts.decode(data) }
        #expect(error.message == "rvbench-probe facts failed: perf: no process 42")
    }

    @Test("the manifest summary carries arch, kernel, ISA and AIA mode")
    func manifestSummary() throws {
        let f = try Fixtures.facts("host-can")
        let h = f.manifestHostFacts(kind: "riscv64 board", emulated: false, libvirtURI: "qemu+ssh://root@b/system")
        #expect(h.arch == "riscv64")
        #expect(h.kernel == f.kernel)
        #expect(h.isa == f.cpu.isa)
        #expect(h.aiaMode == "aplic-imsic")
        #expect(h.cpuCount == 2)
        #expect(h.libvirtURI == "qemu+ssh://root@b/system")
    }

    @Test("kvm-stats output decodes; per-VM counters are found by pid")
    func kvmStats() throws {
        let text = """
        {"schema":1,"path":"/sys/kernel/debug/kvm","mounted_by_probe":false,"available":true,"error":null,
         "global":{"exits":10,"mmio_exit_user":3},
         "vms":[{"pid":7,"fd":12,"dir":"7-12","stats":{"exits":4}},{"pid":7,"fd":13,"dir":"7-13","stats":{"exits":5}}],
         "unreadable":{"halt_poll_hist":"not a single decimal counter"}}
        """
        let s = try KVMStatsSnapshot.decode(Data(text.utf8))
        #expect(s.global == ["exits": 10, "mmio_exit_user": 3])
        #expect(s.stats(ofPID: 7) == ["exits": 9])
        #expect(s.stats(ofPID: 8) == nil)
        #expect(s.unreadable.keys.sorted() == ["halt_poll_hist"])
        #expect(try KVMStatsSnapshot.decode(try JSONEncoder().encode(s)) == s)
    }
}
