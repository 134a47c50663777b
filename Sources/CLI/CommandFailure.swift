// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import RVBenchCore

/// How a failed command ends: one line on standard error and the exit status that the error's code
/// maps to (`RVBenchError.Code.exitStatus`). Every command goes through here.
enum CommandFailure {
    /// The line a failed command prints, without the trailing newline.
    static func message(for error: any Error) -> String {
        switch error {
        case let error as RVBenchError:
            // A cause from rvbench adds detail; a system error's text (Foundation's NSError dumps) does not.
            if let cause = error.cause as? RVBenchError { return "rvbench: \(error.message) (\(cause.message))" }
            return "rvbench: \(error.message)"
        case is CancellationError:
            return "rvbench: interrupted"
        default:
            return "rvbench: \(error)"
        }
    }

    /// Prints `error`'s message and returns the exit code for it. `ExitCode`, `CleanExit` and the
    /// argument parser's own errors pass through unchanged: it prints those itself.
    static func exitError(for error: any Error) -> any Error {
        guard error is RVBenchError || error is CancellationError else { return error }
        FileHandle.standardError.write(Data((message(for: error) + "\n").utf8))
        return ExitCode(ExitStatus(for: error).rawValue)
    }
}
