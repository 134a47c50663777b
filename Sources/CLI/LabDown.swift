// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab down`.
struct LabDown: AsyncParsableCommand, LabSubcommand {
    static let configuration = labCommand("down", "Stop the lab and remove its domain and run state.")

    @OptionGroup var options: LabOptions

    func run() async throws {
        let r = try await options.lab().down()
        if r.destroyed.isEmpty && !r.removedState {
            labOut("lab down: nothing was running")
        } else {
            labOut("lab down: destroyed \(r.destroyed.isEmpty ? "no domain" : r.destroyed.joined(separator: ", "))"
                  + (r.removedState ? "; removed the run state" : ""))
        }
    }
}
