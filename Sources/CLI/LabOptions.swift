// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// Options every `lab` and lab-driving `bench` subcommand takes.
public struct LabOptions: ParsableArguments {
    @Option(name: .long, help: "The libvirt URI that runs L0.")
    public var localURI: String = "qemu:///system"

    @Option(name: .long, help: "The L0 domain's name.")
    public var domain: String = "rvbench-lab"

    @OptionGroup public var verbosity: VerbosityOptions

    public init() {}

    var paths: LabPaths {
        var paths = LabPaths.fromEnvironment()
        paths.instance = domain
        return paths
    }

    func logger() -> Logger {
        var logger = Logger(label: "rvbench.lab")
        logger.logLevel = verbosity.logLevel
        return logger
    }

    func progress() -> @Sendable (String) -> Void {
        let quiet = verbosity.quiet
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

/// Writes to standard output unbuffered, so results and progress lines keep their order.
func labOut(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}

/// A `rvbench lab` subcommand: it takes the lab options, and its verbosity sets the log level.
protocol LabSubcommand: LoggingCommand {
    var options: LabOptions { get }
}

extension LabSubcommand {
    var logLevel: Logger.Level { options.verbosity.logLevel }

    /// The configuration of a `lab` subcommand: its name, one line on what it does, and the exit statuses.
    static func labCommand(_ name: String, _ abstract: String) -> CommandConfiguration {
        CommandConfiguration(commandName: name, abstract: abstract, discussion: ExitStatus.helpText)
    }
}
