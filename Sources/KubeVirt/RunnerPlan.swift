// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host

/// What the workload runner does in one boot: the same plan `rvbench run` gives it on the lab or a
/// board (workloads in the boot's order, iterations, warm-up, the boot's seed, the per-workload
/// timeout), written as kernel arguments for a guest or as a command line for a native Job.
public struct RunnerPlan: Sendable, Equatable {
    public var workloads: [String]
    public var iterations: Int
    public var warmup: Int
    public var seed: UInt64
    public var timeoutSeconds: Int

    /// The plan of one scheduled boot of `spec`: the seed is the spec's seed plus the boot's position
    /// in the schedule, as in a direct run.
    public init(boot: ScheduledBoot, spec: ExperimentSpec) {
        var seen = Set<String>()
        workloads = boot.workloads.map(\.workload.name).filter { seen.insert($0).inserted }
        iterations = boot.workloads.map(\.iterations).max() ?? 1
        warmup = boot.workloads.map(\.warmup).max() ?? 0
        seed = spec.seed &+ UInt64(boot.sequence)
        timeoutSeconds = Int(spec.timeouts.workloadSeconds)
    }

    /// The guest device the runner mounts the workload disk from: the VMI's first (and only) virtio disk.
    public static let guestDevice = "/dev/vda"

    /// The guest kernel's command line. The runner is the guest's init and reads its `rvbench.*`
    /// parameters; `rvbench.linger=0` powers the guest off right after the done line, which ends the
    /// VMI (phase Succeeded).
    public var kernelArgs: String {
        [
            "console=ttyS0", "panic=1", "quiet", "loglevel=3",
            "rvbench.workloads=\(workloads.joined(separator: ","))",
            "rvbench.iterations=\(iterations)", "rvbench.warmup=\(warmup)",
            "rvbench.seed=\(seed)", "rvbench.timeout=\(timeoutSeconds)",
            "rvbench.device=\(Self.guestDevice)", "rvbench.linger=0",
        ].joined(separator: " ")
    }

    /// Where the runner is in the workload root (and so in the native Job's image).
    public static let runnerPath = "/opt/rvbench/bin/rvbench-runner"

    /// The native Job's command: the runner with the workload root as `/`.
    public var command: [String] {
        [Self.runnerPath, "--workloads", workloads.joined(separator: ","), "--iterations", String(iterations),
         "--warmup", String(warmup), "--seed", String(seed), "--timeout", String(timeoutSeconds)]
    }
}
