// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Hypervisor
import Logging
import RVBenchCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum LocalLibvirt {
    static let socket = "/var/run/libvirt/libvirt-sock"
    static let firmware = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
    static var available: Bool {
        FileManager.default.fileExists(atPath: socket) && FileManager.default.fileExists(atPath: firmware)
    }
    /// `qemu:///system` unless `RVBENCH_TEST_LIBVIRT_URI` names another way to the same daemon,
    /// e.g. `qemu+tcp://127.0.0.1:PORT/system` through a TCP forward of its socket.
    static var uri: String {
        ProcessInfo.processInfo.environment["RVBENCH_TEST_LIBVIRT_URI"] ?? "qemu:///system"
    }
    static var isLocalSystem: Bool { uri == "qemu:///system" }
    /// A domain name for these tests that carries the test process's PID, so that a later run can
    /// tell the domains of a test process that was killed before its cleanup ran.
    static func domainName(_ kind: String) -> String {
        "\(orphanPrefix)\(kind)-p\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
    }
    static let orphanPrefix = "rvbench-hvtest-"

    /// Destroys and undefines the domains named by `domainName` whose test process no longer exists;
    /// returns their names. Another test process's live domains are left alone.
    @discardableResult
    static func sweepOrphans(_ hv: LibvirtHypervisor) throws -> [String] {
        var swept: [String] = []
        for name in try hv.domainNames(includeInactive: true) where name.hasPrefix(orphanPrefix) {
            guard let pid = ownerPID(of: name), kill(pid, 0) != 0, errno == ESRCH else { continue }
            if let dom = try hv.lookup(name: name) {
                try dom.destroy()
                try dom.undefine()
                swept.append(name)
            }
        }
        return swept
    }

    /// The PID in a name made by `domainName`, or nil for any other name.
    static func ownerPID(of name: String) -> pid_t? {
        let parts = name.split(separator: "-")
        guard parts.count >= 2, parts[parts.count - 2].hasPrefix("p"),
              let pid = pid_t(parts[parts.count - 2].dropFirst()), pid > 0 else { return nil }
        return pid
    }

    static var unavailableReason: Comment {
        "needs a running libvirtd (\(socket)) and OpenSBI (\(firmware), apt package opensbi); start virtlogd -d and libvirtd -d"
    }
}

/// Against the local libvirtd (`qemu:///system`): a riscv64 TCG domain that runs only OpenSBI,
/// whose banner must arrive through the console stream.
///
/// Serialized: every test sweeps the domains of dead test processes first, and one test creates
/// such a domain on purpose; run side by side, another test's sweep destroyed it while QEMU was
/// still starting ("process exited while connecting to monitor").
@Suite(.tags(.libvirtLocal), .serialized, .enabled(if: LocalLibvirt.available, LocalLibvirt.unavailableReason))
struct LibvirtLocalTests {
    static let firmware = LocalLibvirt.firmware

    /// TCG, so it needs no KVM; OpenSBI as `-bios` and no kernel: the firmware prints its banner and
    /// then has nothing to boot.
    static func firmwareOnlyXML(_ name: String) -> String {
        """
        <domain type='qemu'>
          <name>\(DomainXML.escape(name))</name>
          <memory unit='MiB'>128</memory>
          <vcpu placement='static'>1</vcpu>
          <os>
            <type arch='riscv64' machine='virt'>hvm</type>
            <loader readonly='yes' type='rom'>\(DomainXML.escape(firmware))</loader>
          </os>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>destroy</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <controller type='usb' model='none'/>
            <serial type='pty'><target port='0'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <memballoon model='none'/>
          </devices>
        </domain>
        """
    }

    @Test func aKilledTestProcessesDomainIsSweptAndALiveOnesIsKept() async throws {
        let logger = Logger(label: "rvbench.tests.hypervisor")
        // A PID that no longer exists: a child that has exited and been reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        #expect(LocalLibvirt.ownerPID(of: "rvbench-hvtest-x-p\(dead)-0123abcd") == dead)
        #expect(LocalLibvirt.ownerPID(of: "rvbench-lab") == nil)
        let orphan = "\(LocalLibvirt.orphanPrefix)orphan-p\(dead)-\(UUID().uuidString.prefix(8).lowercased())"
        let live = LocalLibvirt.domainName("live")
        try await withHypervisor(uri: LocalLibvirt.uri, logger: logger) { hv in
            let kept = try await withDomain(on: hv, xml: Self.firmwareOnlyXML(live), paused: true) { _ in
                let left = try hv.create(xml: Self.firmwareOnlyXML(orphan), paused: true)
                defer { try? left.destroy() }
                let swept = try LocalLibvirt.sweepOrphans(hv)
                #expect(swept.contains(orphan))
                #expect(try hv.lookup(name: orphan) == nil)
                return try hv.lookup(name: live) != nil
            }
            #expect(kept, "the sweep must not touch a domain whose test process is alive")
        }
    }

    @Test func openSBIBannerArrivesThroughTheConsoleStream() async throws {
        let logger = Logger(label: "rvbench.tests.hypervisor")
        let name = LocalLibvirt.domainName("opensbi")
        try await withHypervisor(uri: LocalLibvirt.uri, logger: logger) { hv in
            try LocalLibvirt.sweepOrphans(hv)
            let versions = try hv.versions()
            #expect(versions.hypervisorType == "QEMU")
            #expect(versions.libvirtDaemon != nil)
            #expect(hv.keepAliveEnabled, "the event loop thread runs, so the remote driver can send keepalives")

            let (lines, pid) = try await withDomain(on: hv, xml: Self.firmwareOnlyXML(name), paused: true) { dom in
                #expect(try dom.state() == .paused)
                let pid = try dom.qemuPID()
                if LocalLibvirt.isLocalSystem {
                    let pid = try #require(pid)
                    #expect(kill(pid, 0) == 0)
                } else {
                    #expect(pid == nil, "qemuPID is only known for the local qemu:///system")
                }
                let console = try dom.openConsole()
                let stream = console.lines()
                try dom.resume()
                // A guard against a guest that prints nothing: give up after two minutes.
                let guardTask = Task {
                    try await Task.sleep(for: .seconds(120))
                    console.close()
                }
                defer { guardTask.cancel() }
                var seen: [String] = []
                for try await line in stream {
                    seen.append(line.text)
                    if line.text.hasPrefix("Boot HART MEDELEG") || seen.count > 200 { break }
                }
                console.close()
                return (seen, pid)
            }
            #expect(lines.contains { $0.hasPrefix("OpenSBI v") })
            #expect(lines.contains { $0.hasPrefix("Platform Name") && $0.contains("riscv-virtio") })
            #expect(lines.contains { $0.hasPrefix("Boot HART MEDELEG") })
            #expect(lines.allSatisfy { !$0.contains("\r") })
            // Nothing outlives the test: the domain and its QEMU are gone.
            #expect(try hv.lookup(name: name) == nil)
            if let pid { #expect(kill(pid, 0) != 0) }
        }
    }

    @Test func closeUnblocksAReaderOfASilentConsole() async throws {
        let logger = Logger(label: "rvbench.tests.hypervisor")
        let name = LocalLibvirt.domainName("silent")
        try await withHypervisor(uri: LocalLibvirt.uri, logger: logger) { hv in
            try LocalLibvirt.sweepOrphans(hv)
            let count = try await withDomain(on: hv, xml: Self.firmwareOnlyXML(name), paused: true) { dom in
                // Paused: the guest prints nothing, so the reader thread blocks in virStreamRecv.
                let console = try dom.openConsole()
                let stream = console.lines()
                let closer = Task {
                    try await Task.sleep(for: .milliseconds(500))
                    console.close()
                }
                defer { closer.cancel() }
                var n = 0
                for try await _ in stream { n += 1 }
                #expect(console.isClosed)
                return n
            }
            #expect(count == 0)
            #expect(try hv.lookup(name: name) == nil)
        }
    }

    @Test func destroyingTheGuestEndsTheConsoleStream() async throws {
        let logger = Logger(label: "rvbench.tests.hypervisor")
        let name = LocalLibvirt.domainName("destroy")
        try await withHypervisor(uri: LocalLibvirt.uri, logger: logger) { hv in
            try LocalLibvirt.sweepOrphans(hv)
            let outcome = try await withDomain(on: hv, xml: Self.firmwareOnlyXML(name), paused: true) { dom in
                let console = try dom.openConsole()
                let stream = console.lines()
                try dom.resume()
                var seen: [String] = []
                var failure: (any Error)?
                do {
                    for try await line in stream {
                        seen.append(line.text)
                        if line.text.hasPrefix("Boot HART MEDELEG") { try dom.destroy() }
                    }
                } catch {
                    failure = error
                }
                return (seen.count, failure == nil)
            }
            #expect(outcome.0 > 0)
            #expect(outcome.1, "a destroyed guest ends its console stream without an error")
        }
    }

    /// A guest from `DomainXML.guest` boots to Linux under TCG. Needs a riscv64 kernel Image and
    /// initramfs, named by `RVBENCH_TEST_GUEST_KERNEL` and `RVBENCH_TEST_GUEST_INITRD` (e.g. the
    /// lab's guest kernel); skipped without them.
    @Test(.enabled(if: GuestArtifacts.available, "set RVBENCH_TEST_GUEST_KERNEL and RVBENCH_TEST_GUEST_INITRD to a riscv64 Image and initramfs"))
    func generatedGuestXMLBootsLinux() async throws {
        let artifacts = try #require(GuestArtifacts.paths)
        let spec = GuestDomainSpec(name: LocalLibvirt.domainName("guest"), virtType: "qemu", memoryMiB: 256,
                                   cpuMode: .hypervisorDefault, kernel: artifacts.kernel, initrd: artifacts.initrd,
                                   cmdline: "console=ttyS0 panic=1")
        try spec.validate()
        let logger = Logger(label: "rvbench.tests.hypervisor")
        try await withHypervisor(uri: LocalLibvirt.uri, logger: logger) { hv in
            try LocalLibvirt.sweepOrphans(hv)
            let banner = try await withDomain(on: hv, xml: DomainXML.guest(spec), paused: true) { dom -> String? in
                let console = try dom.openConsole()
                let stream = console.lines()
                try dom.resume()
                let guardTask = Task {
                    try await Task.sleep(for: .seconds(240))
                    console.close()
                }
                defer { guardTask.cancel() }
                for try await line in stream where line.text.contains("Linux version") {
                    console.close()
                    return line.text
                }
                return nil
            }
            #expect(banner != nil, "no 'Linux version' line on the guest console")
            #expect(try hv.lookup(name: spec.name) == nil)
        }
    }
}

enum GuestArtifacts {
    static var paths: (kernel: String, initrd: String)? {
        let env = ProcessInfo.processInfo.environment
        guard let kernel = env["RVBENCH_TEST_GUEST_KERNEL"], let initrd = env["RVBENCH_TEST_GUEST_INITRD"],
              FileManager.default.fileExists(atPath: kernel), FileManager.default.fileExists(atPath: initrd)
        else { return nil }
        return (kernel, initrd)
    }
    static var available: Bool { paths != nil }
}
