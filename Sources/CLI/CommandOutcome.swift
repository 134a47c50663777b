// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import RVBenchCore

/// What a command's `execute()` hands back instead of touching the process's streams, so tests can
/// read it: what to print and how to exit.
protocol CommandOutcome {
    /// The bytes for standard output, exactly as they are to be written.
    var standardOutputBytes: Data { get }
    /// Lines for standard error, without the final line break.
    var standardError: String { get }
    var status: ExitStatus { get }
}

extension CommandOutcome {
    /// Writes the outcome to standard output and standard error, then exits with its status unless
    /// that is success.
    func deliver() throws {
        if !standardOutputBytes.isEmpty { FileHandle.standardOutput.write(standardOutputBytes) }
        if !standardError.isEmpty { FileHandle.standardError.write(Data((standardError + "\n").utf8)) }
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

/// What `execute()` hands back for a command whose whole output is known when it ends: what to print and how
/// to exit.
public struct PrintedOutcome<Output: Sendable & Equatable>: Sendable, Equatable {
    /// `Data` is written as it is, a `String` with a line break after it.
    public var standardOutput: Output
    public var standardError: String
    public var status: ExitStatus
}

extension PrintedOutcome: CommandOutcome where Output: PrintableOutput {
    var standardOutputBytes: Data { standardOutput.printedBytes }
}

/// What a `PrintedOutcome` can hold for standard output.
protocol PrintableOutput {
    var printedBytes: Data { get }
}

extension Data: PrintableOutput {
    var printedBytes: Data { self }
}

extension String: PrintableOutput {
    /// The text and a line break.
    var printedBytes: Data { Data((self + "\n").utf8) }
}
