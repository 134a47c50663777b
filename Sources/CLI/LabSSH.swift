// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab ssh`.
struct LabSSH: AsyncParsableCommand, LabSubcommand {
    static let configuration = labCommand("ssh", "Run a command in the lab's riscv64 host over SSH, or print the ssh command line.")

    @OptionGroup var options: LabOptions

    @Argument(parsing: .captureForPassthrough, help: "The command to run in L1.")
    var command: [String] = []

    func run() async throws {
        let lab = options.lab()
        guard let state = LabStateStore(url: options.paths.stateFile).load().state else {
            throw RVBenchError(.notFound, "the lab is not up; run `rvbench lab up`")
        }
        let command = self.command.first == "--" ? Array(self.command.dropFirst()) : self.command
        if command.isEmpty {
            labOut(lab.sshArguments(state).joined(separator: " "))
        } else {
            labOut(try await lab.ssh(state, command.joined(separator: " ")), terminator: "")
        }
    }
}
