// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab`: the emulated riscv64 KVM host.
public struct LabCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Build, start and stop the emulated riscv64 KVM host.",
        discussion: """
        The lab is QEMU TCG (L0) on this machine running a Debian 13 riscv64 host (L1) with KVM, \
        libvirtd and an SSH server; guests (L2) run under KVM inside it. Timings from the lab show \
        functional behaviour and relative event counts, not silicon speed.
        """,
        subcommands: [LabBuild.self, LabUp.self, LabDown.self, LabStatus.self, LabSSH.self]
    )

    public init() {}
}

/// Options every `lab` subcommand takes.
public struct LabOptions: ParsableArguments {
    @Option(name: .long, help: "The libvirt URI that runs L0.")
    public var localURI: String = "qemu:///system"

    @Option(name: .long, help: "The L0 domain's name.")
    public var domain: String = "rvbench-lab"

    @Flag(name: .shortAndLong, help: "Log libvirt and console details.")
    public var verbose = false

    @Flag(name: .shortAndLong, help: "Print only results and errors.")
    public var quiet = false

    public init() {}

    var paths: LabPaths {
        var paths = LabPaths.fromEnvironment()
        paths.instance = domain
        return paths
    }

    func logger() -> Logger {
        var logger = Logger(label: "rvbench.lab") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : (quiet ? .error : .warning)
        return logger
    }

    func progress() -> @Sendable (String) -> Void {
        let quiet = self.quiet
        let start = Date()
        return { line in
            guard !quiet else { return }
            let t = Date().timeIntervalSince(start)
            FileHandle.standardOutput.write(Data((String(format: "[%6.1fs] ", t) + line + "\n").utf8))
        }
    }

    func lab() -> Lab {
        Lab(paths: paths, localURI: localURI, domainName: domain, logger: logger(), progress: progress())
    }
}

/// Maps an `RVBenchError` onto a message and an exit code.
func runLab<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RVBenchError {
        FileHandle.standardError.write(Data("rvbench lab: \(error.description)\n".utf8))
        throw ExitCode(error.code == .badInput ? ExitStatus.usage.rawValue : ExitStatus.failure.rawValue)
    }
}

/// Writes to standard output unbuffered, so results and progress lines keep their order.
func labOut(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
