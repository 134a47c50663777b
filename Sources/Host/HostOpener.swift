// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Lab
import Logging
import Probe
import Remote
import RVBenchCore

/// Reaches the host a spec names: brings the lab up (or adopts the one an earlier session of the same run
/// started), or opens a board's libvirt URI, and probes it.
struct HostOpener: Sendable {
    let layout: HostLayout
    let logger: Logger
    let labProgress: @Sendable (String) -> Void

    /// An opened host: the libvirt connection, the SSH target, and the lab when it is one.
    struct Opened: Sendable {
        var hypervisor: LibvirtHypervisor
        var target: SSHTarget
        var uri: String
        var kind: String
        var emulated: Bool
        var lab: Lab?
        var startedLab: Bool
        /// The lab's L0 (e.g. "QEMU 10.0.13, run as a process, -icount shift=0,sleep=off, 1 hart"); nil for a board.
        var emulator: String?
        /// The lab's L0 is Debian 12's QEMU 7.2 (a libvirt domain), under which a guest's user-mode `time` CSR
        /// reads fault; false for QEMU 10 and for a board.
        var userTimeCSRFaults = false

        /// Probes the host (in parallel: each SSH session costs a handshake) and plans nothing yet.
        func attach(layout: HostLayout, logger: Logger) async throws -> AttachedHost {
            let hv = hypervisor
            let probe = RemoteHostFacts(sshTarget: target)
            var labManifest: LabManifest?
            if lab != nil {
                do {
                    labManifest = try LabManifest.load(from: LabPaths.fromEnvironment().manifest)
                } catch {
                    logger.warning("no lab manifest: the guest kernel's AIA support is not checked", metadata: ["error": "\(error)"])
                }
            }
            // The own L1 kernel's NVMe serves passthrough: VFIO's modules must be loaded before the probe looks.
            let ownKernelLab = labManifest?.l1KernelChoice == .own
            if ownKernelLab {
                do { try await LabPassthrough.loadVFIO(target) } catch {
                    // Preflight then reports passthrough as not run, with what the probe finds missing.
                    logger.warning("could not load VFIO in the lab's L1", metadata: ["error": "\(error)"])
                }
            }
            async let versionsTask = LibvirtQueue(label: "rvbench.libvirt.versions").run { try hv.versions() }
            async let mountsTask = target.shell("awk '$2==\"\(layout.workloadRoot)\"{print $1}' /proc/mounts", timeout: 60)
            async let dataTask = target.shell(DataDiskLookup.command, timeout: 60)
            let probed = try await probe.facts()
            let versions: HypervisorVersions?
            do { versions = try await versionsTask } catch {
                logger.warning("libvirt did not say its versions", metadata: ["error": "\(error)"])
                versions = nil
            }
            let device = try await mountsTask.trimmingCharacters(in: .whitespacesAndNewlines)
            let dataDevice = DataDiskLookup.device(fromOutput: (try? await dataTask) ?? "")
            let facts = probed.manifestHostFacts(kind: kind, emulated: emulated, libvirtURI: uri,
                                                 qemuVersion: versions?.hypervisor, libvirtVersion: versions?.libvirtDaemon,
                                                 emulator: emulator)
            // The lab's L2 kernel, when it is the lab's: its version decides whether AIA guests can boot.
            let guestKernel = labManifest?.guestKernel.sourceVersion
            var offer = HostOffer(facts: probed, workloadDevice: device.isEmpty ? nil : device, layout: layout,
                                  labGuestKernel: guestKernel, dataDevice: dataDevice)
            offer.guestUserTimeCSRFaults = userTimeCSRFaults
            if ownKernelLab {
                offer.managedDevice = PCIAddress(string: LabDevices.nvme.pciAddress)
                if let dataDevice {
                    offer.dataDeviceAddress = try? await LabPassthrough.pciAddress(of: dataDevice, on: target)
                }
            }
            return AttachedHost(hypervisor: hv, target: target, probe: probe, facts: facts, offer: offer)
        }

        /// Closes the connection and brings the lab down if this run started it.
        func close(libvirt: LibvirtQueue, logger: Logger) async {
            let hv = hypervisor
            await libvirt.run { hv.close() }
            if startedLab, let lab {
                do { _ = try await lab.down() } catch {
                    logger.error("could not bring the lab down; run `rvbench lab down`", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    func open(_ host: HostSpec, directory: URL) async throws -> Opened {
        switch host {
        case .lab(let options):
            let lab = Lab(paths: LabPaths.fromEnvironment(), logger: logger, progress: labProgress)
            let me = LabOwner(directory: directory.standardizedFileURL.resolvingSymlinksInPath().path, pid: getpid())
            let up = try await lab.up(qemu: options.qemu, deterministic: options.deterministic, owner: me)
            // A lab that an earlier, killed session of this same run started is ours to stop.
            var adopted = false
            if up.reused, let owner = up.state.owner, owner.directory == me.directory, !owner.isAlive {
                try lab.adopt(up.state, owner: me)
                adopted = true
                logger.notice("taking over the lab started by an earlier session of this run",
                              metadata: ["lab.pid": "\(owner.pid)"])
            }
            var l0 = up.state.qemuVersion.map { "\($0), run as a process" } ?? "Debian 12 QEMU (libvirt domain)"
            if up.state.deterministic { l0 += ", -icount shift=0,sleep=off, 1 hart" }
            let hv: LibvirtHypervisor
            do {
                hv = try LibvirtHypervisor(uri: up.state.libvirtURI, logger: logger)
            } catch {
                if !up.reused || adopted { _ = try? await lab.down() }
                throw error
            }
            return Opened(hypervisor: hv, target: lab.sshTarget(up.state), uri: up.state.libvirtURI,
                          kind: "emulated RISC-V host (QEMU TCG)", emulated: true, lab: lab,
                          startedLab: !up.reused || adopted, emulator: l0,
                          userTimeCSRFaults: QEMUFlavour(rawValue: up.state.qemu) == .debian12)
        case .remote(let remote):
            guard let target = remote.resolvedSSH else {
                throw RVBenchError(.badInput, "host.ssh is required for a remote host: the native variant and the probe run over SSH")
            }
            let hv = try LibvirtHypervisor(uri: remote.uri, logger: logger)
            return Opened(hypervisor: hv, target: target, uri: remote.uri, kind: "riscv64 host \(target.host)",
                          emulated: false, lab: nil, startedLab: false, emulator: nil)
        }
    }
}

/// The lab's NVMe with the own L1 kernel: the device that `native` reads with L1's nvme driver, `virtio` through
/// a virtio-blk disk backed by it, and `passthrough` through VFIO. libvirt's `managed='yes'` moves it to vfio-pci
/// for each passthrough boot and back to nvme after; native and virtio boots check (and if need be restore) nvme.
enum LabPassthrough {
    /// Loads VFIO type1 with `allow_unsafe_interrupts=1` (the RISC-V IOMMU v1.0 cannot remap MSIs; VFIO refuses
    /// the device otherwise) and vfio-pci. Also sets the parameter when type1 was loaded without it.
    static func loadVFIO(_ target: SSHTarget) async throws {
        let p = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
        let out = try await target.shell("modprobe vfio_iommu_type1 allow_unsafe_interrupts=1 && echo Y > \(p) && "
            + "modprobe vfio-pci && cat \(p)", timeout: 60)
        guard out.trimmingCharacters(in: .whitespacesAndNewlines) == "Y" else {
            throw RVBenchError(.guest, "could not load VFIO type1 with allow_unsafe_interrupts=1 in the lab's L1: \(out)")
        }
    }

    /// The PCI device of a block device (`/sys/block/NAME/device/device`), e.g. the NVMe controller's.
    static func pciAddress(of blockDevice: String, on target: SSHTarget) async throws -> PCIAddress? {
        let name = blockDevice.split(separator: "/").last.map(String.init) ?? blockDevice
        let out = try await target.shell("readlink -f /sys/block/\(shellQuote(name))/device/device; true", timeout: 60)
        let last = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "/").last.map(String.init) ?? ""
        return PCIAddress(string: last)
    }

    /// The driver bound to `address` ("none" for no driver).
    static func driver(of address: PCIAddress, on target: SSHTarget) async throws -> String {
        let out = try await target.shell("d=$(readlink /sys/bus/pci/devices/\(address)/driver) && echo \"${d##*/}\" "
            + "|| echo none", timeout: 60)
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Gives `address` back to its host driver `driver` (clearing a `driver_override` that libvirt or a failed
    /// run left) and waits up to 60 s for `blockDevice` to appear. Returns the driver that holds it now.
    static func restore(_ address: PCIAddress, driver: String, blockDevice: String, on target: SSHTarget) async throws -> String {
        let dev = "/sys/bus/pci/devices/\(address)"
        let script = "a=\(address); d=\(dev); cur=$(readlink $d/driver); cur=${cur##*/}; "
            + "if [ \"$cur\" != \(driver) ]; then echo > $d/driver_override; "
            + "[ -e $d/driver ] && echo $a > $d/driver/unbind; echo $a > /sys/bus/pci/drivers_probe; fi; "
            + "i=0; while [ $i -lt 60 ] && [ ! -b \(shellQuote(blockDevice)) ]; do sleep 1; i=$((i+1)); done; "
            + "cur=$(readlink $d/driver); echo \"${cur##*/}\""
        let out = try await target.shell(script, timeout: 120).trimmingCharacters(in: .whitespacesAndNewlines)
        return out.isEmpty ? "none" : out
    }
}

/// Finds the host's data disk by its serial number, with shell built-ins only (L1 has a minimal userland).
enum DataDiskLookup {
    /// Prints `/dev/NAME` for every block device whose serial (virtio-blk: `serial`; NVMe: `device/serial`) is
    /// `DataDisk.serial`. virtio-blk's `serial` has no final newline, so `read` reports end of file while it
    /// still sets the variable: its status is not a test.
    static let command = "for d in /sys/block/*; do for f in \"$d/serial\" \"$d/device/serial\"; do "
        + "[ -r \"$f\" ] || continue; s=; read -r s < \"$f\"; "
        + "if [ \"$s\" = \(DataDisk.serial) ]; then echo \"/dev/${d##*/}\"; break; fi; "
        + "done; done; true"

    /// The one device the command printed; nil for none or several (an ambiguous data disk is not used).
    static func device(fromOutput output: String) -> String? {
        let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard lines.count == 1, let line = lines.first, line.hasPrefix("/dev/"), !line.contains(" ") else { return nil }
        return line
    }
}

/// What the run's manifest records about the lab: artifact hashes, tool and package versions.
public enum LabRecords {
    public struct Records: Sendable {
        public var artifacts: [String: Artifact] = [:]
        public var tools: [String: String] = [:]
        public var notes: [String] = []
    }

    /// Reads the lab's build manifest; a missing one becomes a note naming the fix.
    public static func read() -> Records {
        var r = Records()
        let paths = LabPaths.fromEnvironment()
        guard let lab = try? LabManifest.load(from: paths.manifest) else {
            r.notes.append("lab manifest not found at \(paths.manifest.path); run `rvbench lab build`")
            return r
        }
        for (name, a) in lab.artifacts { r.artifacts["lab/\(name)"] = a }
        for (name, v) in lab.tools { r.tools["lab/\(name)"] = v }
        r.tools["lab/build-id"] = lab.id
        r.tools["lab/host-kernel"] = lab.hostKernelRelease
        for p in lab.hostRoot.packages where ["qemu-system-riscv", "libvirt-daemon", "linux-image-riscv64"].contains(p.name)
            || p.name.hasPrefix("linux-image-6") {
            r.tools["l1/\(p.name)"] = p.version
        }
        for p in lab.workloadRoot.packages where ["ffmpeg", "libonnxruntime1.21", "libx264-164", "libdav1d7", "fio"].contains(p.name) {
            r.tools["workload-root/\(p.name)"] = p.version
        }
        return r
    }
}
