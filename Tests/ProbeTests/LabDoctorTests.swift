// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
@testable import Probe
import Remote
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

    /// `lab/run/rvbench-lab/state.json`, or the older `lab/run/state.json`: the lab `rvbench lab up`
    /// starts. The instances that lab tests start (`rvbench-lab-test`, ...) are left out: such a lab
    /// records its state before its sshd answers, so a suite started in that window was refused.
    static var stateFile: URL? {
        let run = cacheRoot.appendingPathComponent("lab/run")
        let candidates = [run.appendingPathComponent("rvbench-lab/state.json"), run.appendingPathComponent("state.json")]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    static var sshTarget: SSHTarget? {
        guard let state = stateFile, let data = FileManager.default.contents(atPath: state.path),
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

    @Test("remote counters over SSH: perf events on L1's libvirtd, and KVM statistics deltas")
    func remoteCounters() async throws {
        let target = try #require(RunningLab.sshTarget)
        let host = RemoteHostFacts(sshTarget: target)
        let pidText = try await ssh(target, "pidof libvirtd", timeout: 60).stdoutString
        let pid = try #require(Int32(pidText.split(separator: " ").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let source = try await RemoteProbeCounterSource.make(host: host, pid: pid,
                                                             events: ["cycles", "task-clock", "cache-misses"])
        let (_, readings) = try await withCounters(source) { try await Task.sleep(nanoseconds: 500_000_000) }
        #expect(readings["task-clock"]?.rawValue != nil, "\(readings)")
        // Whatever the host cannot count is named, never 0.
        for name in ["cycles", "cache-misses"] {
            let r = try #require(readings[name])
            #expect(r.rawValue != nil || (r.unavailableReason ?? "").hasPrefix("perf_event_open on the host: "))
        }
        #expect(readings["kvm.host.exits"]?.rawValue != nil, "\(readings.names)")
    }
}
