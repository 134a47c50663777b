// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Logging

/// `--verbose` and `--quiet`, for every command that logs.
public struct VerbosityOptions: ParsableArguments, Sendable {
    @Flag(name: .shortAndLong, help: "Log libvirt, console and SSH details.")
    public var verbose = false

    @Flag(name: .shortAndLong, help: "Print only results and errors.")
    public var quiet = false

    public init() {}

    public func validate() throws {
        if verbose && quiet { throw ValidationError("--verbose and --quiet contradict each other; pass one of them") }
    }

    /// The level without either flag.
    static let defaultLevel = Logger.Level.warning

    /// debug with --verbose, error with --quiet, warning otherwise.
    public var logLevel: Logger.Level { verbose ? .debug : (quiet ? .error : Self.defaultLevel) }
}

/// A command whose options choose how much it logs; `RVBenchCommand.main` bootstraps logging at this level.
protocol LoggingCommand {
    var logLevel: Logger.Level { get }
}
