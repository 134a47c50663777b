// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Probe
import RVBenchCore
import Testing

/// The running lab, from the state file `rvbench lab up` writes; nil when the lab is down.
enum RunningLab {
    static var cacheRoot: URL {
        if let dir = ProcessInfo.processInfo.environment["RVBENCH_CACHE"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rvbench")
    }

    static var sshTarget: SSHTarget? {
        let state = cacheRoot.appendingPathComponent("lab/run/state.json")
        guard let data = FileManager.default.contents(atPath: state.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let port = object["sshPort"] as? Int
        else { return nil }
        return SSHTarget(user: "root", host: "127.0.0.1", port: port,
                         identityFile: cacheRoot.appendingPathComponent("lab/ssh/id_ed25519").path,
                         knownHostsFile: "/dev/null")
    }
}

@Suite("doctor against the lab", .tags(.lab), .enabled(if: RunningLab.sshTarget != nil, "the lab is not up"))
struct LabDoctorTests {
    @Test("the riscv64 probe runs in L1 and reports a riscv64 KVM host")
    func remoteFacts() async throws {
        let target = try #require(RunningLab.sshTarget)
        let host = RemoteHostFacts(sshTarget: target)
        let facts = try await host.facts()
        #expect(facts.arch == "riscv64")
        #expect(facts.cpu.h)
        #expect(facts.kvm.present)
        #expect(facts.perf.probed)
        let checks = Doctor.checks(local: nil, remote: facts, libvirt: nil)
        #expect(!Doctor.somethingNeededIsMissing(checks), "\(Doctor.render(checks))")
        // A second call reuses the copy on the host.
        #expect(try await host.installProbe() == (try await host.installProbe()))
    }
}
