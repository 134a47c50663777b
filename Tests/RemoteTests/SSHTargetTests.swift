// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Remote
import RVBenchCore
import Testing

@Suite("SSH targets")
struct SSHTargetTests {
    @Test("targets parse", arguments: [
        ("root@127.0.0.1:2222", "root", "127.0.0.1", 2222),
        ("board", "root", "board", 22),
        ("alice@board.example.org", "alice", "board.example.org", 22),
        ("board:2200", "root", "board", 2200),
        ("[::1]:2200", "root", "::1", 2200),
        ("bob@[fe80::1%eth0]", "bob", "fe80::1%eth0", 22),
    ])
    func parse(text: String, user: String, host: String, port: Int) throws {
        let t = try #require(SSHTarget(string: text))
        #expect(t.user == user && t.host == host && t.port == port)
        #expect(SSHTarget(string: t.description) == t)
    }

    @Test("bad targets are refused",
          arguments: ["", "@board", "board:0", "board:70000", "-oProxyCommand=x", "a b", "u@board:p", "::1",
                      "u;rm@board", "[::1", "[board]:22", "board:22:33"])
    func refuse(text: String) {
        #expect(SSHTarget(string: text) == nil)
    }

    @Test("ssh never prompts, accepts a new host key by default, and passes port and key")
    func arguments() {
        let t = SSHTarget(string: "root@127.0.0.1:2222", identityFile: "/k/id")!
        let args = t.sshArguments(connectTimeout: 7)
        #expect(args.first == "ssh" && args.last == "127.0.0.1")
        #expect(args.contains("BatchMode=yes") && args.contains("ConnectTimeout=7"))
        #expect(args.contains("StrictHostKeyChecking=accept-new"))
        #expect(args.joined(separator: " ").contains("-p 2222 -l root"))
        #expect(args.joined(separator: " ").contains("-i /k/id -o IdentitiesOnly=yes"))
    }

    @Test("a known_hosts file is enforced; /dev/null checks nothing (the lab)")
    func knownHosts() {
        let strict = SSHTarget(host: "b", knownHostsFile: "/k/known").sshArguments()
        #expect(strict.contains("UserKnownHostsFile=/k/known") && strict.contains("StrictHostKeyChecking=yes"))
        let lab = SSHTarget(host: "127.0.0.1", knownHostsFile: "/dev/null").sshArguments()
        #expect(lab.contains("UserKnownHostsFile=/dev/null") && lab.contains("StrictHostKeyChecking=no"))
    }

    @Test("shell quoting", arguments: [("abc", "abc"), ("a b", "'a b'"), ("it's", "'it'\\''s'"), ("", "''"),
                                       ("cycles,task-clock", "cycles,task-clock")])
    func quoting(input: String, quoted: String) {
        #expect(shellQuote(input) == quoted)
    }

    @Test("an unreachable host is an ssh error that names the fix",
          .enabled(if: Subprocess.which("ssh") != nil))
    func unreachable() async throws {
        let t = SSHTarget(host: "127.0.0.1", port: 1, knownHostsFile: "/dev/null")
        let error = try await #require(throws: RVBenchError.self) { try await ssh(t, "true", timeout: 30, attempts: 1) }
        #expect(error.code == .process)
        #expect(error.message.hasPrefix("ssh to root@127.0.0.1:1 failed: "))
        // Connection failures are tried again before they are reported.
        let again = try await #require(throws: RVBenchError.self) { try await ssh(t, "true", timeout: 30, attempts: 2) }
        #expect(again.message.hasPrefix("ssh to root@127.0.0.1:1 failed 2 times: "))
        #expect(error.message.hasSuffix("check the address, that sshd runs there, and the key (--identity FILE)"))
    }

    @Test("targets encode with snake_case keys")
    func codable() throws {
        let t = SSHTarget(user: "u", host: "h", port: 2, identityFile: "/i", knownHostsFile: nil)
        let text = String(decoding: try JSONEncoder().encode(t), as: UTF8.self)
        #expect(text.contains(#""identity_file":"\/i""#))
        #expect(try JSONDecoder().decode(SSHTarget.self, from: Data(text.utf8)) == t)
    }
}
