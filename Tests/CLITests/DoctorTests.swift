// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
@testable import CLI
import Foundation
import Probe
import RVBenchCore
import Testing

@Suite("rvbench doctor")
struct DoctorTests {
    /// The local probe is built from this checkout (swift test runs in the package directory).
    static let hasCompiler = Subprocess.which("cc") != nil && Subprocess.which("make") != nil

    func parse(_ args: [String]) throws -> DoctorCommand {
        try DoctorCommand.parse(args)
    }

    @Test("the local machine alone: a table, exit 0", .enabled(if: hasCompiler))
    func localOnly() async throws {
        let outcome = try await parse([]).execute()
        #expect(outcome.status == .success, "\(outcome.standardOutput)\(outcome.standardError)")
        #expect(outcome.standardOutput.hasPrefix("HOST"))
        let arch = try #require(outcome.checks.first { $0.host == "local" && $0.name == "architecture" })
        #expect(arch.status == .ok)
        #expect(outcome.checks.contains { $0.name == "perf events (libpfm4)" && $0.detail.contains("perf::TASK-CLOCK") })
        #expect(outcome.checks.contains { $0.host == "libvirt" && $0.status == .unknown })
    }

    @Test("--json prints the checks and the local facts", .enabled(if: hasCompiler))
    func json() async throws {
        let outcome = try await parse(["--json", "--uri", "test:///default"]).execute()
        #expect(outcome.status == .success)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.standardOutput.utf8)) as? [String: Any])
        #expect(object["needed_missing"] as? Bool == false)
        #expect(object["remote"] is NSNull)
        let local = try ProbeFacts.decode(try JSONSerialization.data(withJSONObject: object["local"]!))
        #expect(local.root == "/")
        let libvirt = try #require(object["libvirt"] as? [String: Any])
        #expect(libvirt["hypervisorType"] as? String == "TEST")
        let checks = try #require(object["checks"] as? [[String: Any]])
        #expect(checks.contains { $0["host"] as? String == "libvirt" && $0["status"] as? String == "ok" })
    }

    @Test("libvirt that cannot be reached is a needed thing missing: exit 3", .enabled(if: hasCompiler))
    func libvirtDown() async throws {
        let outcome = try await parse(["--uri", "qemu+tcp://127.0.0.1:1/system"]).execute()
        #expect(outcome.status == .runFailed)
        let check = try #require(outcome.checks.first { $0.host == "libvirt" })
        #expect(check.status == .missing && check.detail.hasPrefix("cannot connect to qemu+tcp://127.0.0.1:1/system: "))
        #expect(outcome.standardOutput.hasSuffix("something needed is missing (exit status 3)\n"))
    }

    @Test("a remote host that cannot be reached: exit 3, with the fix",
          .enabled(if: hasCompiler && Subprocess.which("ssh") != nil && Subprocess.which("riscv64-linux-gnu-gcc") != nil))
    func remoteDown() async throws {
        let outcome = try await parse(["--ssh", "root@127.0.0.1:1", "--known-hosts", "/dev/null"]).execute()
        #expect(outcome.status == .runFailed)
        let probe = try #require(outcome.checks.first { $0.host == "remote root@127.0.0.1:1" })
        #expect(probe.name == "probe" && probe.status == .missing && probe.required)
        #expect(probe.detail.contains("ssh to root@127.0.0.1:1 failed"))
    }

    @Test("bad options are refused before anything runs", arguments: [
        ["--ssh", "bad host"], ["--identity", "/k"], ["--lab", "--uri", "test:///default"],
    ])
    func badOptions(args: [String]) throws {
        let error = try #require(throws: (any Error).self) { try DoctorCommand.parse(args) }
        #expect(DoctorCommand.exitCode(for: error).rawValue == 64, "\(error)")
    }

    @Test("--help documents the exit codes")
    func help() {
        let help = DoctorCommand.helpMessage(columns: 1000)
        #expect(help.contains("doctor exits with 0 when nothing needed is missing"))
        #expect(help.contains("3 when something needed is missing"))
        #expect(help.contains("--lab"))
    }

    @Test("doctor is a subcommand of rvbench")
    func registered() {
        #expect(RVBenchCommand.configuration.subcommands.contains { $0 == DoctorCommand.self })
    }
}
