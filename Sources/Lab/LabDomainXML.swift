// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import RVBenchCore

/// Everything that goes into the L0 domain: the emulated riscv64 KVM host, run by the
/// controller's own libvirt as a `type='qemu'` (TCG) domain.
public struct LabDomainSpec: Sendable, Codable, Equatable {
    public var name: String
    public var memoryMiB: Int
    public var vcpus: Int
    /// The x86_64 QEMU binary that emulates riscv64.
    public var emulator: String
    /// OpenSBI `fw_dynamic.bin`, loaded as `-bios`.
    public var firmware: String
    /// L1's kernel (Debian's riscv64 `vmlinux-*`, an Image with an EFI stub header).
    public var kernel: String
    /// L1's root file system as an uncompressed newc initramfs.
    public var initrd: String
    public var cmdline: String
    /// The workload disk (ext4), attached read-only as virtio; nil for none.
    public var workloadDisk: String?
    /// The data disk of the I/O workloads (`DataDisk`), attached read-only as virtio after the workload disk
    /// with serial `DataDisk.serial`; nil for none.
    public var dataDisk: String?
    /// The `-cpu` value: libvirt 9.0 has no riscv CPU model, so it goes through the QEMU
    /// command-line passthrough.
    public var cpu: String
    /// Extra `-machine` properties (e.g. `aia=aplic-imsic` with a newer QEMU); empty for none.
    public var machineOptions: [String]
    /// Controller loopback port forwarded to L1's libvirtd (16509).
    public var libvirtPort: Int
    /// Controller loopback port forwarded to L1's SSH server (22).
    public var sshPort: Int
    /// Where virtlogd writes L1's serial console; nil for none.
    public var consoleLog: String?
    /// Deterministic mode: `-icount shift=0,sleep=off` (one instruction per virtual nanosecond, no
    /// sleeping while idle; QEMU then runs all vCPUs on one TCG thread).
    public var icount: Bool
    /// QEMU 10 only: an emulated RISC-V IOMMU (`riscv-iommu-pci`); needs an L1 kernel with RISCV_IOMMU.
    public var iommu: Bool = false
    /// QEMU 10 only: the backing file of the NVMe controller that L1 assigns to L2 guests
    /// (`LabDevices.nvme`); nil for none.
    public var nvmeImage: String?
    /// QEMU 10 only: the backing file of the virtio-blk-pci device that L1 drives with `vp_vdpa`
    /// (`LabDevices.vdpaBlock`); nil for none.
    public var vdpaBlockImage: String?

    public init(name: String = "rvbench-lab", memoryMiB: Int = 6144, vcpus: Int = 2,
                emulator: String = "/usr/bin/qemu-system-riscv64",
                firmware: String = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin",
                kernel: String, initrd: String, cmdline: String = LabDomainSpec.defaultCmdline,
                workloadDisk: String? = nil, dataDisk: String? = nil, cpu: String = "rv64,h=true",
                machineOptions: [String] = [], libvirtPort: Int, sshPort: Int, consoleLog: String? = nil,
                icount: Bool = false) {
        self.name = name
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.emulator = emulator
        self.firmware = firmware
        self.kernel = kernel
        self.initrd = initrd
        self.cmdline = cmdline
        self.workloadDisk = workloadDisk
        self.dataDisk = dataDisk
        self.cpu = cpu
        self.machineOptions = machineOptions
        self.libvirtPort = libvirtPort
        self.sshPort = sshPort
        self.consoleLog = consoleLog
        self.icount = icount
    }

    /// L1's kernel command line: serial console, our /init, and a panic ends the VM.
    public static let defaultCmdline = "console=ttyS0 rdinit=/init panic=1 quiet"

    /// The QEMU arguments libvirt 9.0 cannot express: the CPU with the H extension, and the
    /// user network with the two loopback forwards. The NIC sits at slot 0x1f of the root bus,
    /// away from the root port libvirt adds at slot 1. `romfile=` (empty) loads no option ROM: L1
    /// boots its kernel directly, and the ROM (`efi-virtio.rom`) is only in a Recommends of QEMU.
    public var qemuArguments: [String] {
        var args = ["-cpu", cpu]
        if !machineOptions.isEmpty {
            args += ["-machine", machineOptions.joined(separator: ",")]
        }
        if icount {
            args += ["-icount", "shift=0,sleep=off"]
        }
        args += [
            "-netdev",
            "user,id=n0,hostfwd=tcp:127.0.0.1:\(libvirtPort)-:16509,hostfwd=tcp:127.0.0.1:\(sshPort)-:22",
            "-device", "virtio-net-pci,netdev=n0,bus=pcie.0,addr=0x1f,romfile=",
        ]
        return args
    }
}

/// The L0 domain XML.
public enum LabDomainXML {
    /// A transient-friendly `type='qemu'` riscv64 `virt` domain with direct kernel boot.
    ///
    /// QEMU runs as root (`<seclabel type='static' model='dac'>` with `+0:+0`, no relabelling):
    /// the artifacts live in the invoking user's cache, which the `libvirt-qemu` user may not
    /// be able to reach, and relabelling them would change the cache.
    public static func render(_ spec: LabDomainSpec) -> String {
        func e(_ s: String) -> String { DomainXML.escape(s) }
        var lines: [String] = []
        lines.append("<domain type='qemu' xmlns:qemu='\(DomainXML.qemuNamespace)'>")
        lines.append("  <name>\(e(spec.name))</name>")
        lines.append("  <memory unit='MiB'>\(spec.memoryMiB)</memory>")
        lines.append("  <vcpu placement='static'>\(spec.vcpus)</vcpu>")
        lines.append("  <os>")
        lines.append("    <type arch='riscv64' machine='virt'>hvm</type>")
        lines.append("    <loader type='rom'>\(e(spec.firmware))</loader>")
        lines.append("    <kernel>\(e(spec.kernel))</kernel>")
        lines.append("    <initrd>\(e(spec.initrd))</initrd>")
        lines.append("    <cmdline>\(e(spec.cmdline))</cmdline>")
        lines.append("  </os>")
        lines.append("  <clock offset='utc'/>")
        lines.append("  <on_poweroff>destroy</on_poweroff>")
        lines.append("  <on_reboot>destroy</on_reboot>")
        lines.append("  <on_crash>destroy</on_crash>")
        lines.append("  <devices>")
        lines.append("    <emulator>\(e(spec.emulator))</emulator>")
        if let disk = spec.workloadDisk {
            lines.append("    <disk type='file' device='disk'>")
            lines.append("      <driver name='qemu' type='raw'/>")
            lines.append("      <source file='\(e(disk))'/>")
            lines.append("      <target dev='vda' bus='virtio'/>")
            lines.append("      <readonly/>")
            lines.append("    </disk>")
        }
        if let disk = spec.dataDisk {
            lines.append("    <disk type='file' device='disk'>")
            lines.append("      <driver name='qemu' type='raw'/>")
            lines.append("      <source file='\(e(disk))'/>")
            lines.append("      <target dev='vdb' bus='virtio'/>")
            lines.append("      <readonly/>")
            lines.append("      <serial>\(e(DataDisk.serial))</serial>")
            lines.append("    </disk>")
        }
        lines.append("    <controller type='usb' model='none'/>")
        lines.append("    <serial type='pty'>")
        if let log = spec.consoleLog {
            lines.append("      <log file='\(e(log))' append='off'/>")
        }
        lines.append("      <target port='0'/>")
        lines.append("    </serial>")
        lines.append("    <console type='pty'>")
        lines.append("      <target type='serial' port='0'/>")
        lines.append("    </console>")
        lines.append("    <memballoon model='none'/>")
        lines.append("  </devices>")
        lines.append("  <seclabel type='static' model='dac' relabel='no'>")
        lines.append("    <label>+0:+0</label>")
        lines.append("  </seclabel>")
        lines.append("  <qemu:commandline>")
        for arg in spec.qemuArguments {
            lines.append("    <qemu:arg value='\(e(arg))'/>")
        }
        lines.append("  </qemu:commandline>")
        lines.append("</domain>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The two forwarded ports of a rendered (or live) L0 domain, parsed back from its
    /// `hostfwd` arguments; nil if the XML has none.
    public static func forwardedPorts(in xml: String) -> (libvirt: Int, ssh: Int)? {
        func port(guest: Int) -> Int? {
            guard let range = xml.range(of: #"hostfwd=tcp:127\.0\.0\.1:(\d+)-:\#(guest)\b"#, options: .regularExpression)
            else { return nil }
            let match = xml[range]
            let digits = match.dropFirst("hostfwd=tcp:127.0.0.1:".count).prefix { $0.isNumber }
            return Int(digits)
        }
        guard let l = port(guest: 16509), let s = port(guest: 22) else { return nil }
        return (l, s)
    }
}
