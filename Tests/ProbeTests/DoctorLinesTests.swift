// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import Hypervisor
@testable import Probe
import Testing

@Suite("doctor checks")
struct DoctorLinesTests {
    func check(_ checks: [DoctorCheck], _ host: String, _ name: String) throws -> DoctorCheck {
        try #require(checks.first { $0.host == host && $0.name == name })
    }

    @Test("a host that can do everything has no advice besides its unprobed perf events")
    func hostCan() throws {
        let checks = Doctor.checks(local: nil, remote: try Fixtures.facts("host-can"), libvirt: nil)
        let remote = checks.filter { $0.host == "remote" }
        #expect(remote.map(\.name) == ["architecture", "/dev/kvm", "isa", "H", "AIA", "Sscofpmf", "V", "IOMMU",
                                       "NVMe 0000:00:03.0", "vfio-pci", "VFIO IOMMU backend", "KVM VFIO device",
                                       "MSI (AIA/IMSIC)", "MSI isolation", "vhost-vdpa", "perf events", "KVM statistics"])
        // MSI isolation is a warning on every riscv64 host with an IOMMU: the RISC-V IOMMU has none.
        #expect(remote.filter { $0.status != .ok }.map(\.name) == ["V", "MSI isolation", "perf events"])
        #expect(try check(checks, "remote", "NVMe 0000:00:03.0").detail == "1b36:0010, bound to vfio-pci, IOMMU group 2 (alone)")
        #expect(try check(checks, "remote", "AIA").detail == "Ssaia, Smaia")
        #expect(!Doctor.somethingNeededIsMissing(checks))
    }

    @Test("each missing optional feature gets one line: what it prevents and how to fix it")
    func missingLines() throws {
        let checks = Doctor.checks(local: nil, remote: try Fixtures.facts("no-iommu"), libvirt: nil,
                                   context: .init(remoteName: "remote root@10.0.0.2:22"))
        let advice = checks.compactMap(\.adviceLine)
        #expect(advice.contains("remote root@10.0.0.2:22: Sscofpmf missing: guests get no PMU counters, and host perf "
            + "cannot sample; use --qemu trixie in the lab or a CPU with Sscofpmf"))
        #expect(advice.contains { $0.hasPrefix("remote root@10.0.0.2:22: IOMMU missing: the passthrough variant; ") })
        #expect(advice.contains { $0.hasPrefix("remote root@10.0.0.2:22: AIA missing: guests get a software-emulated") })
        #expect(advice.contains("remote root@10.0.0.2:22: vfio-pci warning: the passthrough variant until it is loaded; "
            + "modprobe vfio-pci"))
        #expect(advice.contains("remote root@10.0.0.2:22: vhost-vdpa warning: the vdpa variant until the modules are "
            + "loaded; modprobe vhost_vdpa vdpa_sim_blk && vdpa dev add mgmtdev vdpasim_blk name vdpa-blk0 "
            + "(the lab's L1 does this when it boots; rvbench does not load them)"))
        #expect(try check(checks, "remote root@10.0.0.2:22", "KVM VFIO device").status == .missing)
        // Optional features only: the host can still run native and virtio.
        #expect(!Doctor.somethingNeededIsMissing(checks))
    }

    @Test("MSI isolation follows vfio_iommu_type1's allow_unsafe_interrupts; no IOMMU, no line")
    func msiIsolation() throws {
        var facts = try Fixtures.facts("host-can")
        let lines = [nil, "Y", "N"].map { value -> DoctorCheck? in
            facts.vfio.unsafeInterrupts = value
            return Doctor.checks(local: nil, remote: facts, libvirt: nil).first { $0.name == "MSI isolation" }
        }
        #expect(lines.map { $0?.status } == [.warning, .warning, .missing])
        #expect(lines.allSatisfy { $0?.detail.hasPrefix("absent: the RISC-V IOMMU (v1.0) does not remap MSIs") == true })
        #expect(lines[1]?.detail.hasSuffix("allow_unsafe_interrupts=Y") == true)
        #expect(lines[2]?.prevents?.contains("type1 refuses to attach the group") == true)
        // The interrupt mode: group 2 maps the IMSIC files (msi reserved region); without it, INTx.
        #expect(lines[1]?.detail.contains("IOMMU group 2 maps the IMSIC files") == true)
        var intx = facts
        for i in intx.iommu.groups.indices { intx.iommu.groups[i].msiRegion = false }
        let intxLine = Doctor.checks(local: nil, remote: intx, libvirt: nil).first { $0.name == "MSI isolation" }
        #expect(intxLine?.detail.contains("passthrough guests use INTx (pci=nomsi)") == true)
        let noIOMMU = Doctor.checks(local: nil, remote: try Fixtures.facts("no-iommu"), libvirt: nil)
        #expect(!noIOMMU.contains { $0.name == "MSI isolation" })
        // An NVMe outside any group cannot be assigned.
        facts.pci = facts.pci.map { d in
            var d = d
            if d.name == "0000:00:03.0" { d.iommuGroup = nil; d.driver = "nvme" }
            return d
        }
        let nvme = try check(Doctor.checks(local: nil, remote: facts, libvirt: nil), "remote", "NVMe 0000:00:03.0")
        #expect(nvme.status == .missing && nvme.detail == "1b36:0010, bound to nvme, in no IOMMU group")
    }

    @Test("no H extension and no /dev/kvm are needed: doctor reports them as such")
    func neededMissing() throws {
        var f = try Fixtures.facts("no-iommu")
        f.cpu.h = false
        f.kvm = KVMDevice(present: false, openable: false, error: "no /dev/kvm", apiVersion: nil)
        f.kvmModule = .available
        let checks = Doctor.checks(local: nil, remote: f, libvirt: nil)
        let kvm = try check(checks, "remote", "/dev/kvm")
        #expect(kvm.status == .missing && kvm.required && kvm.fix == "modprobe kvm")
        #expect(try check(checks, "remote", "H").required)
        #expect(Doctor.somethingNeededIsMissing(checks))
    }

    @Test("an x86_64 host given as the riscv64 host is refused")
    func wrongArchitecture() throws {
        let checks = Doctor.checks(local: nil, remote: try Fixtures.facts("x86-controller"), libvirt: nil)
        let arch = try check(checks, "remote", "architecture")
        #expect(arch.status == .missing && arch.detail == "x86_64, not riscv64")
        #expect(Doctor.somethingNeededIsMissing(checks))
    }

    @Test("the x86_64 controller: architecture, and the perf events that open")
    func controller() throws {
        let statuses = [PerfEventStatus(event: "perf::CYCLES", unavailable: "perf_event_open: No such file or directory (ENOENT)"),
                        PerfEventStatus(event: "perf::TASK-CLOCK", unavailable: nil)]
        let checks = Doctor.checks(local: try Fixtures.facts("x86-controller"), remote: nil, libvirt: nil,
                                   context: .init(localCounters: statuses))
        #expect(checks.filter { $0.host == "local" }.map(\.name) == ["architecture", "perf events", "perf events (libpfm4)"])
        let perf = try check(checks, "local", "perf events")
        #expect(perf.status == .warning)
        #expect(perf.detail.hasPrefix("open: task-clock, page-faults, context-switches, cpu-migrations; unavailable: cycles, "))
        #expect(perf.detail.hasSuffix("(No such file or directory)"))
        let pfm = try check(checks, "local", "perf events (libpfm4)")
        #expect(pfm.detail == "open: perf::TASK-CLOCK; unavailable: perf::CYCLES (perf_event_open: No such file or directory (ENOENT))")
        #expect(!Doctor.somethingNeededIsMissing(checks))
    }

    @Test("libvirt: versions, a failed connection, or not checked")
    func libvirt() {
        let v = HypervisorVersions(libvirtLibrary: "9.0.0", libvirtDaemon: "11.3.0", hypervisorType: "QEMU",
                                   hypervisor: "10.0.0", hostname: "l1")
        let ok = Doctor.checks(local: nil, remote: nil, libvirt: v, context: .init(libvirtURI: "qemu+tcp://127.0.0.1:5/system"))
        #expect(ok.map(\.detail) == ["qemu+tcp://127.0.0.1:5/system: library 9.0.0, daemon 11.3.0, host l1", "QEMU 10.0.0"])
        let failed = Doctor.checks(local: nil, remote: nil, libvirt: nil,
                                   context: .init(libvirtURI: "qemu+tcp://127.0.0.1:5/system", libvirtError: "connection refused"))
        #expect(failed.count == 1 && failed[0].status == .missing && failed[0].required)
        #expect(failed[0].detail == "cannot connect to qemu+tcp://127.0.0.1:5/system: connection refused")
        let none = Doctor.checks(local: nil, remote: nil, libvirt: nil)
        #expect(none.map(\.status) == [.unknown])
        #expect(!Doctor.somethingNeededIsMissing(none))
    }

    @Test("a remote host that cannot be probed is a needed thing missing")
    func remoteUnreachable() {
        let checks = Doctor.checks(local: nil, remote: nil, libvirt: nil,
                                   context: .init(remoteName: "remote root@h:22", remoteError: "ssh to root@h:22 failed"))
        #expect(checks[0].host == "remote root@h:22" && checks[0].status == .missing && checks[0].required)
        #expect(Doctor.somethingNeededIsMissing(checks))
    }

    @Test("the table has one row per check, then the advice lines")
    func render() throws {
        let checks = Doctor.checks(local: nil, remote: try Fixtures.facts("no-iommu"), libvirt: nil)
        let text = Doctor.render(checks)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0].hasPrefix("HOST"))
        #expect(lines[0].contains("CHECK") && lines[0].contains("STATUS") && lines[0].contains("DETAIL"))
        #expect(lines[1].hasPrefix("remote   architecture"))
        #expect(lines[checks.count + 1] == "")
        #expect(lines[checks.count + 2] == "what is missing, what it prevents, and how to fix it:")
        #expect(text.contains("\n- remote: Sscofpmf missing: guests get no PMU counters"))
    }

    @Test("checks encode as JSON with null for absent advice")
    func json() throws {
        let c = DoctorCheck(host: "local", name: "x", status: .ok, detail: "d")
        let text = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        #expect(text.contains(#""prevents":null"#) && text.contains(#""required":false"#))
        #expect(try JSONDecoder().decode(DoctorCheck.self, from: Data(text.utf8)) == c)
    }
}
