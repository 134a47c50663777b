// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
@testable import Lab
import Logging
import RVBenchCore
import Testing

/// The whole chain on this machine: build (cached), L0 up, an L2 KVM guest defined and booted
/// through L1's remote libvirt, its console read through the stream API, KVM's exit counters
/// read in L1, then down with nothing left over.
///
/// Needs root, the controller's libvirtd, network access to the Debian archive on a cold cache,
/// and about 15 minutes on 2 cores from scratch.
@Suite(.tags(.lab), .serialized) struct LabIntegrationTests {
    let logger = Logger(label: "rvbench.lab.test")
    static let domain = "rvbench-lab-test"

    static func say(_ line: String) {
        FileHandle.standardError.write(Data("lab-test: \(line)\n".utf8))
    }

    @Test func buildUpBootL2ReadConsoleAndExitsThenDown() async throws {
        // One emulated lab at a time: other lab-tagged tests take the same lock.
        // Waits without blocking a thread of the cooperative pool (as few threads as cores).
        let lockFD = open("/tmp/rvbench-lab-tests.lock", O_CREAT | O_RDWR, 0o644)
        try #require(lockFD >= 0)
        while flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            try #require(errno == EWOULDBLOCK || errno == EINTR)
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        defer { flock(lockFD, LOCK_UN); close(lockFD) }
        let paths = LabPaths.fromEnvironment()
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let env = ProcessInfo.processInfo.environment
        let out = URL(fileURLWithPath: env["RVBENCH_WORKLOADS"] ?? source.appendingPathComponent("workloads/build/out").path)
        let builder = LabBuilder(paths: paths, source: source, workloadsOut: out, logger: logger) { Self.say($0) }
        let manifest = try await builder.build()
        #expect(manifest.hostKernelOptions.contains { $0.option == "KVM" && $0.state != .missing })

        // Its own L0 name (and run directory), so the test never touches a lab that `rvbench lab up` runs.
        let lab = Lab(paths: paths, domainName: Self.domain, logger: logger) { Self.say($0) }
        _ = try? await lab.down()
        let up = try await lab.up()
        do {
            try await exercise(lab: lab, up: up, manifest: manifest)
        } catch {
            _ = try? await lab.down()
            throw error
        }

        let down = try await lab.down()
        #expect(down.destroyed == [Self.domain])
        let hv = try LibvirtHypervisor(uri: "qemu:///system", logger: logger)
        defer { hv.close() }
        #expect(try hv.lookup(name: Self.domain) == nil)
        let pgrep = try await Subprocess.run(["pgrep", "-f", "guest=\(Self.domain)(,| |$)"], timeout: 10)
        #expect(pgrep.status == 1, "a QEMU process of the lab survived: \(pgrep.stdoutString)")
        #expect(!FileManager.default.fileExists(atPath: paths.runDirectory.path))
    }

    func exercise(lab: Lab, up: Lab.UpResult, manifest: LabManifest) async throws {
        let again = try await lab.up()
        #expect(again.reused)
        #expect(again.state == up.state)

        // The vDPA simulators built out of tree load in L1, and a simulated block device sits behind vhost-vdpa.
        let vdpa = try await lab.ssh(up.state, "grep -c '^vdpa_sim_blk ' /proc/modules; vdpa dev show; ls /dev/vhost-vdpa-0",
                                     timeout: 60)
        #expect(vdpa.contains("vdpa-blk0: type block mgmtdev vdpasim_blk") && vdpa.contains("/dev/vhost-vdpa-0"), "\(vdpa)")

        let exitsBefore = try await Self.kvmExits(lab, up.state)
        let spec = GuestDomainSpec(name: "rvbench-l2-labtest", vcpus: 1, memoryMiB: 256,
                                   kernel: manifest.l1GuestKernelPath, initrd: manifest.l1GuestInitramfsPath,
                                   cmdline: "console=ttyS0 panic=1 quiet rdinit=/hello-init rvbench.linger=120",
                                   // The workload disk, which L1 sees as /dev/vda, handed on read-only.
                                   disks: [DiskSpec(source: "/dev/vda", target: "vda", type: .block, readOnly: true)])
        try spec.validate()
        let hello = try await withHypervisor(uri: up.state.libvirtURI, logger: logger) { hv -> String? in
            #expect(try hv.domainCapabilities(arch: "riscv64", machine: "virt", virtType: "kvm").contains("kvm"))
            let created = Date()
            return try await withDomain(on: hv, xml: DomainXML.guest(spec), paused: true, logger: logger) { domain in
                let console = try domain.openConsole()
                let lines = console.lines()
                let t0 = Date()
                try domain.resume()
                var first: Double?
                var hello: String?
                var disk = false
                var done = false
                for try await line in lines {
                    if first == nil {
                        first = Date().timeIntervalSince(t0)
                        Self.say(String(format: "L2 first console line %.2f s after resume, %.2f s after create",
                                        first!, Date().timeIntervalSince(created)))
                    }
                    if line.text.hasPrefix("rvbench-guest-hello") { hello = line.text }
                    if line.text.hasPrefix("rvbench-guest-disk vda") { disk = true }
                    if line.text.contains("@@rvbench v1 done") {
                        Self.say(String(format: "L2 done line after %.2f s", Date().timeIntervalSince(t0)))
                        done = true
                        break
                    }
                    if Date().timeIntervalSince(t0) > 120 { break }
                }
                console.close()
                // The guest lingers, so its per-VM statistics are still there.
                let exitsAfter = try await Self.kvmExits(lab, up.state)
                Self.say("KVM exits in L1: before \(exitsBefore), after \(exitsAfter)")
                #expect(exitsAfter > exitsBefore)
                #expect(disk, "L2 did not see the workload disk as vda")
                #expect(done)
                return hello
            }
        }
        let line = try #require(hello, "L2 printed no hello line")
        // With the own L1 kernel, L2 runs that kernel build too (its guest link).
        if manifest.l1Kernel != nil {
            #expect(line.contains("kernel=\(manifest.hostKernelRelease) "), "\(line)")
        }
    }

    /// Sum of KVM's `exits` over every VM in L1 (debugfs keeps per-VM counts only while the VM lives).
    static func kvmExits(_ lab: Lab, _ state: LabState) async throws -> Int {
        let out = try await lab.ssh(state, "cat /sys/kernel/debug/kvm/exits", timeout: 60)
        guard let n = Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RVBenchError(.guest, "unexpected KVM exits value from L1: \(out)")
        }
        return n
    }
}
