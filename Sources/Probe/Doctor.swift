// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Hypervisor
import RVBenchCore

/// One line of `rvbench doctor`: what was checked on which host, and for anything missing, what
/// that prevents and how to fix it.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// Present and usable.
        case ok
        /// Absent: `prevents` and `fix` say what that costs and what to do.
        case missing
        /// Present but limited, or present but not ready (e.g. a module not loaded yet).
        case warning
        /// Could not be found out.
        case unknown
    }

    /// "local", "remote" (with the SSH target), or "libvirt".
    public var host: String
    public var name: String
    public var status: Status
    public var detail: String
    /// What the missing piece prevents, e.g. "guests get no PMU counters".
    @NullableOrMissing public var prevents: String?
    /// How to fix it, e.g. "use --qemu trixie in the lab or a CPU with Sscofpmf".
    @NullableOrMissing public var fix: String?
    /// True when rvbench cannot run any KVM variant on that host without it; doctor then exits 3.
    public var required: Bool

    public init(host: String, name: String, status: Status, detail: String, prevents: String? = nil,
                fix: String? = nil, required: Bool = false) {
        self.host = host; self.name = name; self.status = status; self.detail = detail
        self.prevents = prevents; self.fix = fix; self.required = required
    }

    enum CodingKeys: String, CodingKey { case host, name, status, detail, prevents, fix, required }

    /// "remote root@h:22: Sscofpmf missing: guests get no PMU counters, and host perf cannot sample;
    /// use --qemu trixie in the lab or a CPU with Sscofpmf". Nil for checks that are ok or have no advice.
    public var adviceLine: String? {
        guard status != .ok, prevents != nil || fix != nil else { return nil }
        var line = "\(host): \(name) \(status.rawValue)"
        if let prevents { line += ": \(prevents)" }
        if let fix { line += "; \(fix)" }
        return line
    }
}

/// The checks of `rvbench doctor`, as a pure function of what was probed.
public enum Doctor {
    /// What could not be probed, and the names to show.
    public struct Context: Sendable {
        /// How the remote host is named in the output, e.g. "remote root@127.0.0.1:2222".
        public var remoteName: String
        /// Why the local probe failed, if it did.
        public var localError: String?
        /// Why the remote probe failed (ssh, copy, run), if it did.
        public var remoteError: String?
        /// The libvirt URI asked for (`--uri`); nil when none was.
        public var libvirtURI: String?
        /// Why the libvirt connection failed, if it did.
        public var libvirtError: String?
        /// The perf events rvbench itself (libpfm4 + perf_event_open, in process) could open locally.
        public var localCounters: [PerfEventStatus]?
        /// The controller programs (`ControllerPrograms`) that were looked for and not found; nil when not looked for.
        public var missingPrograms: [ControllerProgram]?

        public init(remoteName: String = "remote", localError: String? = nil, remoteError: String? = nil,
                    libvirtURI: String? = nil, libvirtError: String? = nil, localCounters: [PerfEventStatus]? = nil) {
            self.remoteName = remoteName; self.localError = localError; self.remoteError = remoteError
            self.libvirtURI = libvirtURI; self.libvirtError = libvirtError; self.localCounters = localCounters
        }
    }

    /// Every check for the local host (always the controller; also a KVM host when it is riscv64),
    /// the remote riscv64 host, and the libvirt connection.
    public static func checks(local: ProbeFacts?, remote: ProbeFacts?, libvirt: HypervisorVersions?,
                              context: Context = Context()) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        if let local {
            out += local.isRISCV64 ? kvmHostChecks(local, host: "local") : controllerChecks(local)
        } else if let error = context.localError {
            out.append(DoctorCheck(host: "local", name: "probe", status: .unknown, detail: "local probe failed: \(error)",
                                   prevents: "no local facts", fix: "build it with make -C workloads/probe native"))
        }
        if let counters = context.localCounters {
            out.append(localCountersCheck(counters))
        }
        if let missing = context.missingPrograms {
            out.append(programsCheck(missing))
        }
        if let remote {
            out += kvmHostChecks(remote, host: context.remoteName)
        } else if let error = context.remoteError {
            out.append(DoctorCheck(host: context.remoteName, name: "probe", status: .missing,
                                   detail: "cannot run rvbench-probe there: \(error)",
                                   prevents: "every check of the riscv64 host",
                                   fix: "check --ssh and --identity, and that sshd runs on the host", required: true))
        }
        out += libvirtChecks(libvirt, context: context)
        return out
    }

    /// True when a check that is needed is missing: `rvbench doctor` then exits 3.
    public static func somethingNeededIsMissing(_ checks: [DoctorCheck]) -> Bool {
        checks.contains { $0.required && $0.status == .missing }
    }

    // MARK: - The controller

    static func controllerChecks(_ f: ProbeFacts) -> [DoctorCheck] {
        var out = [DoctorCheck(host: "local", name: "architecture", status: .ok,
                               detail: "\(f.arch), kernel \(f.kernel ?? "unknown"): the controller; guests run on a riscv64 "
                                   + "host (a board through --ssh/--uri, or the lab)")]
        out.append(perfCheck(f, host: "local",
                             prevents: "counters of a hypervisor on this machine (qemu:///system) lack those events"))
        return out
    }

    /// One line for the controller's external programs: every one found, or which are missing, what
    /// that stops and the packages to install. `run` cannot reach any host without ssh, so that one is required.
    static func programsCheck(_ missing: [ControllerProgram]) -> DoctorCheck {
        guard !missing.isEmpty else {
            return DoctorCheck(host: "local", name: "programs", status: .ok,
                               detail: "all \(ControllerPrograms.all.count) programs that lab build, lab up, run and "
                                   + "scripts/services.sh start are installed")
        }
        let stages = ControllerProgram.Stage.allCases.filter { stage in missing.contains { $0.stages.contains(stage) } }
        let packages = Array(Set(missing.map(\.package))).sorted()
        return DoctorCheck(host: "local", name: "programs", status: .missing,
                           detail: "not installed: " + missing.map { "\($0.name) (\($0.package))" }.joined(separator: ", "),
                           prevents: stages.map(\.rawValue).joined(separator: ", ") + " cannot start them",
                           fix: "apt-get install --no-install-recommends \(packages.joined(separator: " ")), or run scripts/deps.sh",
                           required: missing.contains { $0.stages.contains(.run) })
    }

    // MARK: - A riscv64 KVM host

    static func kvmHostChecks(_ f: ProbeFacts, host: String) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        if f.isRISCV64 {
            out.append(DoctorCheck(host: host, name: "architecture", status: .ok,
                                   detail: "riscv64, kernel \(f.kernel ?? "unknown")"))
        } else {
            out.append(DoctorCheck(host: host, name: "architecture", status: .missing,
                                   detail: "\(f.arch), not riscv64", prevents: "every variant: rvbench measures riscv64 guests",
                                   fix: "point --ssh at a riscv64 host, or use the lab (rvbench lab up)", required: true))
        }

        if f.kvm.present && f.kvm.openable {
            out.append(DoctorCheck(host: host, name: "/dev/kvm", status: .ok,
                                   detail: "present and openable" + (f.kvm.apiVersion.map { ", KVM API \($0)" } ?? "")))
        } else {
            let why = f.kvm.present ? "/dev/kvm cannot be opened (\(f.kvm.error ?? "unknown error"))" : "no /dev/kvm"
            let fix = f.kvm.present
                ? "run as root or add the user to the kvm group"
                : (f.kvmModule == .available ? "modprobe kvm" : "use a kernel with CONFIG_KVM on a CPU with the H extension")
            out.append(DoctorCheck(host: host, name: "/dev/kvm", status: .missing, detail: why,
                                   prevents: "the virtio, vdpa and passthrough variants (only native can run)",
                                   fix: fix, required: true))
        }

        let isa = f.cpu.isa ?? f.cpu.hartISA
        if let isa {
            out.append(DoctorCheck(host: host, name: "isa", status: .ok, detail: isa))
        } else {
            out.append(DoctorCheck(host: host, name: "isa", status: .unknown, detail: "no isa line in /proc/cpuinfo",
                                   prevents: "the H, AIA, Sscofpmf and V checks", fix: "check /proc/cpuinfo on the host"))
        }
        if isa != nil {
            out.append(extensionCheck(host, "H", present: f.cpu.h,
                                      prevents: "KVM cannot run guests: only native can run",
                                      fix: "use a CPU with the H extension, or the lab (it runs -cpu rv64,h=true)",
                                      required: true))
            let aia = f.cpu.ssaia || f.cpu.smaia
            let aiaNames = [f.cpu.ssaia ? "Ssaia" : nil, f.cpu.smaia ? "Smaia" : nil].compactMap { $0 }
            out.append(DoctorCheck(
                host: host, name: "AIA", status: aia ? .ok : .missing,
                detail: aia ? aiaNames.joined(separator: ", ") : "no Ssaia/Smaia in the ISA string",
                prevents: aia ? nil : "guests get a software-emulated interrupt controller, and device MSIs cannot reach guests directly",
                fix: aia ? nil : "use --qemu trixie in the lab (aia=aplic-imsic) or a CPU with Ssaia"))
            out.append(extensionCheck(host, "Sscofpmf", present: f.cpu.sscofpmf,
                                      prevents: "guests get no PMU counters, and host perf cannot sample",
                                      fix: "use --qemu trixie in the lab or a CPU with Sscofpmf", required: false))
            out.append(extensionCheck(host, "V", present: f.cpu.v,
                                      prevents: "workloads cannot use RVV vector code; they run scalar",
                                      fix: "use a CPU with the V extension (RVV 1.0)", required: false))
        }

        out.append(iommuCheck(f, host: host))
        out += nvmeChecks(f, host: host)
        out += vfioChecks(f, host: host)
        out.append(msiCheck(f, host: host))
        if let isolation = msiIsolationCheck(f, host: host) { out.append(isolation) }
        out.append(vdpaCheck(f, host: host))
        out.append(perfCheck(f, host: host, prevents: "host counters of the guests' QEMU lack those events"))
        out.append(kvmStatsCheck(f, host: host))
        return out
    }

    static func extensionCheck(_ host: String, _ name: String, present: Bool, prevents: String, fix: String,
                               required: Bool) -> DoctorCheck {
        DoctorCheck(host: host, name: name, status: present ? .ok : .missing,
                    detail: present ? "in the ISA string" : "no \(name) in the ISA string",
                    prevents: present ? nil : prevents, fix: present ? nil : fix, required: required)
    }

    static func iommuCheck(_ f: ProbeFacts, host: String) -> DoctorCheck {
        guard f.iommu.present else {
            return DoctorCheck(host: host, name: "IOMMU", status: .missing, detail: "no IOMMU and no IOMMU groups",
                               prevents: "the passthrough variant",
                               fix: "use a kernel with the RISC-V IOMMU driver (Linux 6.13 or later) on a platform that has one "
                                   + "(in the lab: `rvbench lab build --l1-kernel own` and `lab up --qemu trixie`; Debian 13's "
                                   + "6.12 has no driver)")
        }
        let units = f.iommu.units.isEmpty ? "no unit listed" : f.iommu.units.joined(separator: ", ")
        let devices = f.iommu.groups.reduce(0) { $0 + $1.devices.count }
        return DoctorCheck(host: host, name: "IOMMU", status: .ok,
                           detail: "\(units); \(f.iommu.groups.count) groups, \(devices) devices")
    }

    static func vfioChecks(_ f: ProbeFacts, host: String) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        let pciState = f.vfio.module("vfio_pci")
        if f.vfio.vfioPCIDriver || pciState.isPresent {
            out.append(DoctorCheck(host: host, name: "vfio-pci", status: .ok, detail: "driver registered"))
        } else if pciState == .available {
            out.append(DoctorCheck(host: host, name: "vfio-pci", status: .warning, detail: "module available, not loaded",
                                   prevents: "the passthrough variant until it is loaded", fix: "modprobe vfio-pci"))
        } else {
            out.append(DoctorCheck(host: host, name: "vfio-pci", status: .missing, detail: "no vfio-pci (\(pciState.rawValue))",
                                   prevents: "the passthrough variant",
                                   fix: "use a kernel with CONFIG_VFIO_PCI"))
        }

        let type1 = f.vfio.module("vfio_iommu_type1")
        if (type1.isPresent && f.vfio.container) || f.vfio.iommufd {
            let which = [type1.isPresent && f.vfio.container ? "VFIO type1" : nil, f.vfio.iommufd ? "iommufd" : nil]
                .compactMap { $0 }.joined(separator: " and ")
            out.append(DoctorCheck(host: host, name: "VFIO IOMMU backend", status: .ok, detail: which))
        } else {
            let detail = "neither VFIO type1 (\(type1.rawValue), /dev/vfio/vfio \(f.vfio.container ? "present" : "absent")) "
                + "nor iommufd (/dev/iommu absent)"
            let fix = type1 == .available ? "modprobe vfio_iommu_type1"
                : "use a kernel with VFIO type1 for riscv (out of tree as of Linux 6.17; vendor kernels carry it) "
                    + "or with CONFIG_IOMMUFD and VFIO_DEVICE_CDEV"
            out.append(DoctorCheck(host: host, name: "VFIO IOMMU backend", status: .missing, detail: detail,
                                   prevents: "the passthrough variant: VFIO cannot map guest memory for device DMA", fix: fix))
        }

        switch f.vfio.kvmVFIODevice {
        case .yes:
            out.append(DoctorCheck(host: host, name: "KVM VFIO device", status: .ok, detail: f.vfio.kvmVFIODetail))
        case .no where f.vfio.module("vfio_iommu_type1").isPresent && f.vfio.container:
            out.append(DoctorCheck(host: host, name: "KVM VFIO device", status: .warning,
                                   detail: f.vfio.kvmVFIODetail + "; QEMU's legacy VFIO container path (libvirt's default "
                                       + "<hostdev>) only warns without it, its iommufd backend fails",
                                   prevents: "nothing rvbench uses: passthrough goes through VFIO type1's container"))
        case .no:
            out.append(DoctorCheck(host: host, name: "KVM VFIO device", status: .missing, detail: f.vfio.kvmVFIODetail,
                                   prevents: "the passthrough variant: QEMU cannot register the assigned device with KVM",
                                   fix: "use a kernel whose KVM has the VFIO device for riscv (out of tree as of Linux 6.17; "
                                       + "vendor kernels carry it)"))
        case .unknown:
            out.append(DoctorCheck(host: host, name: "KVM VFIO device", status: .unknown, detail: f.vfio.kvmVFIODetail,
                                   prevents: "knowing whether passthrough can run",
                                   fix: "run the probe as root on a host with /dev/kvm"))
        }
        return out
    }

    /// Each NVMe controller (PCI class 0108) and its IOMMU group: the device the lab assigns to guests.
    static func nvmeChecks(_ f: ProbeFacts, host: String) -> [DoctorCheck] {
        f.pci.filter { $0.class?.hasPrefix("0108") ?? false }.map { d in
            let ids = "\(d.vendor ?? "?"):\(d.device ?? "?")"
            let driver = d.driver.map { "bound to \($0)" } ?? "no driver"
            guard let id = d.iommuGroup else {
                return DoctorCheck(host: host, name: "NVMe \(d.name)", status: f.iommu.present ? .missing : .warning,
                                   detail: "\(ids), \(driver), in no IOMMU group",
                                   prevents: "assigning it to a guest (the passthrough variant)",
                                   fix: "use a kernel and platform whose IOMMU covers it")
            }
            let others = (f.iommuGroup(id)?.devices ?? []).filter { $0.name != d.name }.map(\.name)
            return DoctorCheck(host: host, name: "NVMe \(d.name)", status: .ok,
                               detail: "\(ids), \(driver), IOMMU group \(id)"
                                   + (others.isEmpty ? " (alone)" : " with \(others.joined(separator: ", "))"))
        }
    }

    /// MSI isolation for VFIO type1: the RISC-V IOMMU (v1.0) does not remap MSIs, so type1 attaches a
    /// group only with `allow_unsafe_interrupts`. Nil on hosts that are not riscv64 or have no IOMMU.
    static func msiIsolationCheck(_ f: ProbeFacts, host: String) -> DoctorCheck? {
        guard f.isRISCV64, f.iommu.present else { return nil }
        let name = "MSI isolation"
        // The interrupt mode an assigned device gets: MSI where the group's domains map the IMSIC files.
        let mapped = f.iommu.groups.filter { $0.msiRegion == true }.map(\.id)
        let mode = mapped.isEmpty
            ? "no IOMMU group reports an msi reserved region, so passthrough guests use INTx (pci=nomsi)"
            : "IOMMU group\(mapped.count == 1 ? "" : "s") \(mapped.joined(separator: ", ")) "
                + "\(mapped.count == 1 ? "maps" : "map") the IMSIC files "
                + "(msi reserved region), so passthrough guests of \(mapped.count == 1 ? "that group" : "those groups") keep MSIs"
        let absent = "absent: the RISC-V IOMMU (v1.0) does not remap MSIs; \(mode)"
        switch f.vfio.unsafeInterrupts {
        case "Y"?:
            return DoctorCheck(host: host, name: name, status: .warning,
                               detail: "\(absent); vfio_iommu_type1 allow_unsafe_interrupts=Y",
                               prevents: "isolating an assigned device's MSIs from other interrupt targets "
                                   + "(reports of passthrough runs say so)")
        case "N"?:
            return DoctorCheck(host: host, name: name, status: .missing,
                               detail: "\(absent); vfio_iommu_type1 allow_unsafe_interrupts=N",
                               prevents: "the passthrough variant: VFIO type1 refuses to attach the group",
                               fix: "echo Y > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts "
                                   + "(or options vfio_iommu_type1 allow_unsafe_interrupts=1 in /etc/modprobe.d)")
        default:
            return DoctorCheck(host: host, name: name, status: .warning,
                               detail: "\(absent); vfio_iommu_type1 not loaded, so allow_unsafe_interrupts is unknown",
                               prevents: "knowing whether type1 will attach a group",
                               fix: "modprobe vfio_iommu_type1 (the lab's L1 loads it with allow_unsafe_interrupts=1)")
        }
    }

    static func msiCheck(_ f: ProbeFacts, host: String) -> DoctorCheck {
        if f.interrupts.imsic {
            return DoctorCheck(host: host, name: "MSI (AIA/IMSIC)", status: .ok,
                               detail: "interrupt controller \(f.interrupts.aiaMode ?? "imsic")")
        }
        return DoctorCheck(host: host, name: "MSI (AIA/IMSIC)", status: .missing,
                           detail: "no IMSIC (\(f.interrupts.aiaMode ?? "no interrupt controller found"))",
                           prevents: "MSIs of an assigned device cannot be routed to the guest, so passthrough cannot run",
                           fix: "use a platform with AIA (QEMU virt with aia=aplic-imsic: --qemu trixie in the lab)")
    }

    static func vdpaCheck(_ f: ProbeFacts, host: String) -> DoctorCheck {
        let vhost = f.vdpa.module("vhost_vdpa"), sim = f.vdpa.module("vdpa_sim_blk")
        let devices = (f.vdpa.vhostVDPADevices.isEmpty ? "no /dev/vhost-vdpa-* yet"
            : f.vdpa.vhostVDPADevices.joined(separator: ", "))
            + (f.vdpa.devices.isEmpty ? "" : " (vdpa devices: \(f.vdpa.devices.joined(separator: ", ")))")
        // PCI devices driven by vp_vdpa: the source of `vdpa_source: pci`.
        let vp = f.pci.filter { $0.driver == "vp-vdpa" }.map(\.name)
        let modules = "vhost_vdpa \(vhost.rawValue), vdpa_sim_blk \(sim.rawValue)"
            + (vp.isEmpty ? "" : ", vp_vdpa on \(vp.joined(separator: ", "))")
        if vhost.isPresent && sim.isPresent {
            return DoctorCheck(host: host, name: "vhost-vdpa", status: .ok, detail: "\(modules); \(devices)")
        }
        if (vhost.isPresent || vhost == .available) && (sim.isPresent || sim == .available) {
            return DoctorCheck(host: host, name: "vhost-vdpa", status: .warning, detail: "\(modules); \(devices)",
                               prevents: "the vdpa variant until the modules are loaded",
                               fix: "modprobe vhost_vdpa vdpa_sim_blk && vdpa dev add mgmtdev vdpasim_blk name vdpa-blk0 (the lab's L1 does this when it boots; rvbench does not load them)")
        }
        if vhost.isPresent && !vp.isEmpty {
            return DoctorCheck(host: host, name: "vhost-vdpa", status: .warning, detail: "\(modules); \(devices)",
                               prevents: "vdpa variants with vdpa_source: simulator (vdpa_source: pci can use the vp_vdpa device)",
                               fix: "modprobe vdpa_sim_blk && vdpa dev add mgmtdev vdpasim_blk name vdpa-blk0")
        }
        return DoctorCheck(host: host, name: "vhost-vdpa", status: .missing, detail: modules,
                           prevents: "the vdpa variant",
                           fix: "load vhost_vdpa and a vDPA device driver (e.g. vdpa_sim_blk, then `vdpa dev add`); "
                               + "Debian's riscv64 kernel is built without VDPA_SIM, so the lab's L1 loads vdpa_sim modules "
                               + "that `rvbench lab build` builds out of tree, or its own kernel's (--l1-kernel own)")
    }

    static func perfCheck(_ f: ProbeFacts, host: String, prevents: String) -> DoctorCheck {
        guard f.perf.probed else {
            return DoctorCheck(host: host, name: "perf events", status: .unknown,
                               detail: f.perf.reason ?? "not probed")
        }
        let ok = f.perf.openable
        let bad = f.perf.unavailable
        var detail = "open: " + (ok.isEmpty ? "none" : ok.joined(separator: ", "))
        if !bad.isEmpty {
            detail += "; unavailable: " + groupedByReason(bad.map { ($0.name, $0.error ?? "errno \($0.errno ?? 0)") })
        }
        if ok.isEmpty {
            return DoctorCheck(host: host, name: "perf events", status: .missing, detail: detail,
                               prevents: "every host counter",
                               fix: "run as root or set kernel.perf_event_paranoid to 1 or less; on riscv64 enable the SBI PMU driver "
                                   + "(CONFIG_RISCV_PMU_SBI)")
        }
        if !bad.isEmpty {
            let hardware = f.perf.unavailable.contains { $0.kind == "hardware" }
            return DoctorCheck(host: host, name: "perf events", status: .warning, detail: detail,
                               prevents: prevents,
                               fix: hardware ? "hardware events need a PMU: bare metal, a VM with a virtual PMU, or on riscv64 "
                                   + "the SBI PMU (and Sscofpmf for sampling)" : "check perf_event_paranoid")
        }
        return DoctorCheck(host: host, name: "perf events", status: .ok, detail: detail)
    }

    /// The events rvbench's in-process counters (libpfm4 encoding, perf_event_open) open locally.
    static func localCountersCheck(_ statuses: [PerfEventStatus]) -> DoctorCheck {
        let ok = statuses.filter(\.opens).map(\.event)
        let bad = statuses.filter { !$0.opens }
        var detail = "open: " + (ok.isEmpty ? "none" : ok.joined(separator: ", "))
        if !bad.isEmpty {
            detail += "; unavailable: " + groupedByReason(bad.map { ($0.event, $0.unavailable ?? "") })
        }
        let name = "perf events (libpfm4)"
        if ok.isEmpty {
            return DoctorCheck(host: "local", name: name, status: .missing, detail: detail,
                               prevents: "local host counters (a hypervisor on this machine)",
                               fix: "run as root or set kernel.perf_event_paranoid to 1 or less")
        }
        if !bad.isEmpty {
            return DoctorCheck(host: "local", name: name, status: .warning, detail: detail,
                               prevents: "those events read as unavailable in counters of a local hypervisor",
                               fix: "hardware events need a PMU: bare metal or a VM with a virtual PMU")
        }
        return DoctorCheck(host: "local", name: name, status: .ok, detail: detail)
    }

    /// "cycles, instructions (reason A); x (reason B)": one reason per distinct cause keeps a line readable.
    static func groupedByReason(_ items: [(name: String, reason: String)]) -> String {
        var order: [String] = []
        var byReason: [String: [String]] = [:]
        for item in items {
            if byReason[item.reason] == nil { order.append(item.reason) }
            byReason[item.reason, default: []].append(item.name)
        }
        return order.map { "\(byReason[$0]!.joined(separator: ", ")) (\($0))" }.joined(separator: "; ")
    }

    static func kvmStatsCheck(_ f: ProbeFacts, host: String) -> DoctorCheck {
        if f.kvmStats.available {
            return DoctorCheck(host: host, name: "KVM statistics", status: .ok,
                               detail: f.kvmStats.path + (f.kvmStats.mountedByProbe ? " (debugfs mounted by the probe)" : ""))
        }
        return DoctorCheck(host: host, name: "KVM statistics", status: .missing,
                           detail: f.kvmStats.error ?? "no \(f.kvmStats.path)",
                           prevents: "exit counters (exits, mmio_exit_user, ...) in reports",
                           fix: "load KVM and mount debugfs as root: mount -t debugfs none /sys/kernel/debug")
    }

    // MARK: - libvirt

    static func libvirtChecks(_ versions: HypervisorVersions?, context: Context) -> [DoctorCheck] {
        guard let uri = context.libvirtURI else {
            if let versions {
                return libvirtOK(versions, uri: "libvirt")
            }
            return [DoctorCheck(host: "libvirt", name: "libvirt", status: .unknown, detail: "not checked",
                                prevents: nil, fix: "pass --uri URI (e.g. qemu+tcp://127.0.0.1:16509/system) to check it")]
        }
        if let versions { return libvirtOK(versions, uri: uri) }
        return [DoctorCheck(host: "libvirt", name: "libvirt", status: .missing,
                            detail: "cannot connect to \(uri): \(context.libvirtError ?? "unknown error")",
                            prevents: "every variant that runs a guest",
                            fix: "start libvirtd on the host (virtlogd -d; libvirtd -d), or check the URI", required: true)]
    }

    static func libvirtOK(_ v: HypervisorVersions, uri: String) -> [DoctorCheck] {
        var out = [DoctorCheck(host: "libvirt", name: "libvirt", status: .ok,
                               detail: "\(uri): library \(v.libvirtLibrary), daemon \(v.libvirtDaemon ?? "in-process")"
                                   + (v.hostname.map { ", host \($0)" } ?? ""))]
        if let hv = v.hypervisor {
            out.append(DoctorCheck(host: "libvirt", name: "hypervisor", status: .ok, detail: "\(v.hypervisorType) \(hv)"))
        } else {
            out.append(DoctorCheck(host: "libvirt", name: "hypervisor", status: .unknown,
                                   detail: "\(v.hypervisorType): version not reported"))
        }
        return out
    }

    // MARK: - Output

    /// The table of `rvbench doctor`, then the "what it prevents / how to fix" lines.
    public static func render(_ checks: [DoctorCheck]) -> String {
        let headers = ["HOST", "CHECK", "STATUS", "DETAIL"]
        let rows = checks.map { [$0.host, $0.name, $0.status.rawValue, $0.detail] }
        var widths = headers.map(\.count)
        for row in rows { for i in 0 ..< 3 { widths[i] = max(widths[i], row[i].count) } }
        func line(_ cells: [String]) -> String {
            (0 ..< 3).map { cells[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + cells[3]
        }
        var out = line(headers) + "\n"
        for row in rows { out += line(row) + "\n" }
        let advice = checks.compactMap(\.adviceLine)
        if !advice.isEmpty {
            out += "\nwhat is missing, what it prevents, and how to fix it:\n"
            for a in advice { out += "- \(a)\n" }
        }
        return out
    }
}
