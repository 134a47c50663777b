// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Where a riscv64 host is reached over SSH: `user@host:port`, with an optional identity file and
/// known_hosts file.
public struct SSHTarget: Sendable, Codable, Equatable, CustomStringConvertible {
    public var user: String
    /// A host name, an IPv4 address, or an IPv6 address without brackets.
    public var host: String
    public var port: Int
    /// Private key passed with `-i`.
    public var identityFile: String?
    /// A known_hosts file: the host key must already be in it (StrictHostKeyChecking=yes).
    /// Without one, a new host key is accepted and remembered (StrictHostKeyChecking=accept-new).
    /// `/dev/null` checks no key at all: only for the lab on loopback, whose key changes with each build.
    public var knownHostsFile: String?

    enum CodingKeys: String, CodingKey {
        case user, host, port
        case identityFile = "identity_file"
        case knownHostsFile = "known_hosts_file"
    }

    public init(user: String = "root", host: String, port: Int = 22, identityFile: String? = nil,
                knownHostsFile: String? = nil) {
        self.user = user; self.host = host; self.port = port
        self.identityFile = identityFile; self.knownHostsFile = knownHostsFile
    }

    /// Parses `[user@]host[:port]`, with IPv6 addresses in brackets (`root@[::1]:2222`).
    /// The user defaults to root and the port to 22. Returns nil for anything else, including
    /// names that could be taken for ssh options or hold shell characters.
    public init?(string: String, identityFile: String? = nil, knownHostsFile: String? = nil) {
        var rest = Substring(string)
        var user = "root"
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard Self.isValidUser(user) else { return nil }
        }
        var host: String
        var port = 22
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
            guard host.contains(":") else { return nil }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            switch parts.count {
            case 1:
                host = String(parts[0])
            case 2:
                host = String(parts[0])
                guard let p = Int(parts[1]) else { return nil }
                port = p
            default:
                return nil // a bare IPv6 address needs brackets
            }
        }
        guard Self.isValidHost(host), (1 ... 65535).contains(port) else { return nil }
        self.init(user: user, host: host, port: port, identityFile: identityFile, knownHostsFile: knownHostsFile)
    }

    static func isValidUser(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix("-") && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    static func isValidHost(_ s: String) -> Bool {
        !s.isEmpty && !s.hasPrefix("-")
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:%".contains($0)) }
    }

    /// `user@host:port`, with brackets around an IPv6 address.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(user)@\(h):\(port)"
    }

    /// The ssh command line up to (not including) the remote command.
    /// - Parameter connectTimeout: seconds for `ConnectTimeout`.
    public func sshArguments(connectTimeout: Int = 10) -> [String] {
        var args = ["ssh", "-T",
                    "-o", "BatchMode=yes",
                    "-o", "ConnectTimeout=\(connectTimeout)",
                    "-o", "ServerAliveInterval=5",
                    "-o", "ServerAliveCountMax=24", // two minutes: an emulated host under load can be slow to answer
                    "-o", "LogLevel=ERROR",
                    "-p", String(port), "-l", user]
        if knownHostsFile == "/dev/null" {
            args += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
        } else if let knownHostsFile {
            args += ["-o", "UserKnownHostsFile=\(knownHostsFile)", "-o", "StrictHostKeyChecking=yes"]
        } else {
            args += ["-o", "StrictHostKeyChecking=accept-new"]
        }
        if let identityFile {
            args += ["-i", identityFile, "-o", "IdentitiesOnly=yes"]
        }
        args.append(host)
        return args
    }
}

/// Runs `command` on `target` through ssh (`BatchMode=yes`, so it never prompts) and returns the
/// remote command's result; `input` goes to its standard input.
///
/// ssh's own failures (exit status 255) are tried again, `attempts` times in all with a short pause:
/// a loaded host (an emulated one above all) can miss a connection timeout or the keep-alives once.
/// Only idempotent commands may be run here; a command that must not run twice passes `attempts: 1`.
///
/// - Throws: `RVBenchError(.process)` when ssh itself fails every time (unreachable host, refused key,
///   unknown host key, a connection that timed out) or the timeout passes; the remote command's own
///   failures are in the returned status.
public func ssh(_ target: SSHTarget, _ command: String, input: Data? = nil, timeout: Double,
                connectTimeout: Int = 10, attempts: Int = 3) async throws -> ProcessResult {
    let argv = target.sshArguments(connectTimeout: connectTimeout) + ["--", command]
    var attempt = 1
    while true {
        let result = try await Subprocess.run(argv, input: input, timeout: timeout)
        if result.timedOut {
            throw RVBenchError(.process, "ssh \(target): \"\(command)\" did not finish within \(Int(timeout)) s; "
                + "check that the host is up and not overloaded")
        }
        guard result.status == 255 else { return result }
        if attempt < attempts {
            try await Task.sleep(nanoseconds: UInt64(attempt) * 2_000_000_000)
            attempt += 1
            continue
        }
        let reason = result.stderrString.split(separator: "\n").suffix(3).joined(separator: "; ")
        throw RVBenchError(.process, "ssh to \(target) failed\(attempts == 1 ? "" : " \(attempts) times"): "
            + "\(reason.isEmpty ? "exit status 255 (a dropped connection or keep-alive timeout prints nothing)" : reason); "
            + "check the address, that sshd runs there, and the key (--identity FILE)")
    }
}

extension SSHTarget {
    /// Runs `command` through the remote shell and returns its standard output.
    ///
    /// - Throws: `RVBenchError(.process)` when ssh or the command fails, or the timeout passes.
    /// ssh's own failures are tried again as in `ssh(_:_:input:timeout:connectTimeout:attempts:)`, so the
    /// command must be idempotent.
    public func shell(_ command: String, timeout: Double, connectTimeout: Int = 10) async throws -> String {
        let r = try await ssh(self, command, timeout: timeout, connectTimeout: connectTimeout)
        guard r.status == 0 else {
            let err = r.stderrString.trimmingCharacters(in: .whitespacesAndNewlines)
            throw RVBenchError(.process, "ssh \(self): \"\(command)\" exited with status \(r.status)"
                + (err.isEmpty ? "" : ": \(err.suffix(800))"))
        }
        return r.stdoutString
    }

    /// Kills every process with exactly this name on the host. Best effort: false when ssh itself failed
    /// (a host that cannot be reached has nothing to kill from here).
    @discardableResult
    public func killAll(named name: String, timeout: Double = 30) async -> Bool {
        let r = try? await Subprocess.run(sshArguments() + ["pkill -KILL -x \(shellQuote(name)) || true"], timeout: timeout)
        return r?.status == 0
    }
}
