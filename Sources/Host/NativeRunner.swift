// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import GuestWire
import Logging
import Remote
import RVBenchCore

/// Runs the `native` variant: the workload runner directly on the host, over SSH, chrooted into the
/// workload root; host counters through `rvbench-probe perf --exec`.
struct NativeRunner: Sendable {
    let target: SSHTarget
    let layout: HostLayout
    /// The probe's path on the host, when counters are asked for.
    let remoteProbe: String?

    /// The remote command line of one run.
    func command(_ runner: RunnerArguments, counters: [String]) -> String {
        var command = "exec "
        if !counters.isEmpty, let remoteProbe {
            // Counts the runner and every process it starts, from its first instruction.
            command += "\(shellQuote(remoteProbe)) perf --exec --events \(shellQuote(counters.joined(separator: ","))) -- "
        }
        command += "\(shellQuote(layout.runner)) --root \(shellQuote(layout.workloadRoot))"
            + " --workloads \(shellQuote(runner.workloads.joined(separator: ",")))"
            + " --iterations \(runner.iterations) --warmup \(runner.warmup) --seed \(runner.seed)"
            + " --timeout \(runner.workloadTimeout)"
            + (runner.fault.map { " --fault \($0.rawValue)" } ?? "")
        return command
    }

    /// Runs one boot and reports its events; returns true when the runner exited by itself (nothing of the
    /// boot is left on the host).
    func run(_ request: BootRequest, translator: GuestLineTranslator,
             continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation) async throws -> Bool {
        let counters = request.counters
        continuation.yield(.booted)
        let r = try await Subprocess.run(target.sshArguments() + [command(request.runner, counters: counters)],
                                         outputLimit: 1 << 20, onOutput: { isStderr, chunk in
            if !isStderr { translator.feed(chunk) }
        })
        translator.finish()
        let yieldCounters = CounterYield(variant: request.variant.name, directory: request.directory,
                                         continuation: continuation)
        if !counters.isEmpty, translator.sawEnd {
            let readings: CounterReadings
            do {
                readings = try HostCounters.probeExecReport(stderr: r.stderrString).readings
            } catch {
                readings = HostCounters.allUnavailable(counters, reason: "rvbench-probe perf --exec gave no report: \(error)")
            }
            try yieldCounters(readings)
        }
        if !translator.sawEnd {
            let tail = r.stderrString.split(separator: "\n").suffix(3).joined(separator: " | ")
            continuation.yield(.failed(reason: "the runner on the host ended without a done line "
                + "(ssh status \(r.status)): \(tail)", workload: nil, iteration: nil))
        }
        return translator.sawEnd && (r.status == 0 || r.status == 2)
    }
}
