// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import Lab
import Logging
import Probe
import Host
import RVBenchCore

/// `rvbench bench overhead`: what rvbench's own machinery costs in wall time, against a plain shell
/// script that does the same boots and workloads with ssh and virsh.
public struct BenchOverhead: AsyncParsableCommand, LoggingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "overhead",
        abstract: "Time `rvbench run` against a plain virsh/ssh script doing the same boots and workloads on the lab.",
        discussion: """
        Each pair runs one native boot (the runner over SSH in L1) and one KVM guest boot (created through \
        L1's libvirt) of the same workload, once through `rvbench run` (spec validation, journal, probe, \
        console stream, KVM statistics, statistics and every report) and once through a shell script that \
        only calls ssh and `virsh create` and waits for the guest to power off. The two kinds alternate in \
        ABBA order. The figure to read is the ratio of medians; the goal is at most 1.10. The lab is started \
        if it is not running, and stopped again at the end in that case.

        \(ExitStatus.helpText)
        """
    )

    @Option(name: .long, help: "Pairs of timed runs (each pair: one rvbench run and one script run).")
    public var pairs: Int = 3

    @Option(name: .long, help: "The workload both sides run.")
    public var workload: String = "micro-timer"

    @OptionGroup public var options: LabOptions

    var logLevel: Logger.Level { options.verbosity.logLevel }

    public init() {}

    public func validate() throws {
        guard pairs >= 1 else { throw ValidationError("--pairs must be at least 1") }
    }

    public func run() async throws {
        let logger = options.logger()
        let source = try SourceTree.locate()
        let catalogue = try RunSession.catalogue()
        guard catalogue.entry(named: workload) != nil else {
            throw RVBenchError(.badInput, "unknown workload \(workload); pick one of workloads/*/workload.json")
        }
        _ = try await LabBuilder(paths: options.paths, source: source,
                                 workloadsOut: source.appendingPathComponent("workloads/build/out"),
                                 logger: logger, progress: { _ in }).build()
        let lab = Lab(paths: options.paths, localURI: options.localURI, domainName: options.domain, logger: logger)
        let up = try await lab.up()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-bench-overhead-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try await measure(lab: lab, state: up.state, catalogue: catalogue, scratch: scratch, logger: logger)
        } catch {
            if !up.reused { _ = try? await lab.down() }
            throw error
        }
        if !up.reused { _ = try await lab.down() }
    }

    func measure(lab: Lab, state: LabState, catalogue: WorkloadCatalogue, scratch: URL, logger: Logger) async throws {
        let yaml = """
            name: bench-overhead
            seed: 7
            host: lab
            variants:
              - name: native
                kind: native
              - name: virtio
                kind: virtio
                vcpus: 1
                memory_mib: 768
            workloads:
              - name: \(workload)
            repetitions:
              boots: 1
              iterations: 1
              warmup: 0
            counters: none
            timeouts:
              boot_s: 300
              workload_s: 600
            """
        let spec = try ExperimentSpec.parse(yaml: yaml, file: "bench-overhead.yaml", catalogue: catalogue)
        var rvbench: [Double] = [], script: [Double] = []
        var scriptFile: URL?
        for pair in 0..<pairs {
            // ABBA: rvbench first in even pairs, the script first in odd ones.
            for side in pair % 2 == 0 ? [0, 1] : [1, 0] {
                if side == 0 || scriptFile == nil {
                    let dir = scratch.appendingPathComponent("run-\(pair)")
                    try? FileManager.default.removeItem(at: dir)
                    let t0 = Date()
                    let outcome = try await RunSession.run(spec: spec, directory: dir, progress: SilentProgress(),
                                                           logger: logger, commandLine: ["rvbench", "bench", "overhead"],
                                                           labProgress: { _ in })
                    let seconds = Date().timeIntervalSince(t0)
                    guard outcome.summary.bootsOK == 2 else {
                        throw RVBenchError(.guest, "the rvbench run failed: \(outcome.summary.failures.map(\.reason))")
                    }
                    if scriptFile == nil {
                        scriptFile = try writeScript(from: dir, state: state, lab: lab, scratch: scratch)
                    }
                    if side == 0 {
                        rvbench.append(seconds)
                        labOut(String(format: "pair %d: rvbench run    %7.2f s", pair + 1, seconds))
                        continue
                    }
                }
                let t0 = Date()
                let r = try await Subprocess.run(["bash", scriptFile!.path], timeout: 1200)
                let seconds = Date().timeIntervalSince(t0)
                guard r.status == 0 else {
                    throw RVBenchError(.process, "the plain script failed (status \(r.status)): \(r.stderrString.suffix(800))")
                }
                script.append(seconds)
                labOut(String(format: "pair %d: plain script   %7.2f s", pair + 1, seconds))
            }
        }
        func median(_ xs: [Double]) -> Double {
            let s = xs.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        let ratio = median(rvbench) / median(script)
        labOut(String(format: "median: rvbench %.2f s, plain script %.2f s; ratio %.3f (goal <= 1.10)",
                      median(rvbench), median(script), ratio))
        labOut("workload \(workload), 1 native boot + 1 KVM guest boot per run, 1 iteration each; emulated lab (QEMU TCG)")
    }

    /// The plain script: the runner over ssh, then the guest rvbench generated (same kernel, initramfs,
    /// disk and command line, except that it powers off at once) through `virsh create`.
    func writeScript(from run: URL, state: LabState, lab: Lab, scratch: URL) throws -> URL {
        let domains = run.appendingPathComponent("domains")
        guard let name = try FileManager.default.contentsOfDirectory(atPath: domains.path).first(where: { $0.hasSuffix(".xml") }) else {
            throw RVBenchError(.notFound, "the rvbench run wrote no domain XML under \(domains.path)")
        }
        let original = try String(contentsOf: domains.appendingPathComponent(name), encoding: .utf8)
        let guest = "rvbench-plain-\(getpid())"
        guard let nameRange = original.range(of: #"<name>[^<]*</name>"#, options: .regularExpression) else {
            throw RVBenchError(.format, "no <name> in \(name)")
        }
        var xml = original.replacingCharacters(in: nameRange, with: "<name>\(guest)</name>")
        xml = xml.replacingOccurrences(of: "rvbench.linger=60", with: "rvbench.linger=0")
        let xmlFile = scratch.appendingPathComponent("guest.xml")
        try Data(xml.utf8).write(to: xmlFile)
        let ssh = lab.sshTarget(state).sshArguments()
        let layout = HostLayout.lab
        let runner = "exec \(layout.runner) --root \(layout.workloadRoot) --workloads \(workload) --iterations 1 "
            + "--warmup 0 --seed 7 --timeout 600"
        let text = """
            #!/bin/bash
            # The same boots as `rvbench run`, with nothing but ssh and virsh.
            set -euo pipefail
            uri=\(shellQuote(state.libvirtURI))
            \(ssh.map(shellQuote).joined(separator: " ")) \(shellQuote(runner)) > \(shellQuote(scratch.appendingPathComponent("native.out").path))
            grep -q '^@@rvbench v1 done ' \(shellQuote(scratch.appendingPathComponent("native.out").path))
            virsh -q -c "$uri" create \(shellQuote(xmlFile.path)) > /dev/null
            # The transient guest disappears when it powers off after its last workload.
            for _ in $(seq 6000); do
                virsh -q -c "$uri" domstate \(guest) > /dev/null 2>&1 || exit 0
                sleep 0.1
            done
            virsh -q -c "$uri" destroy \(guest) > /dev/null 2>&1 || true
            echo "the guest did not power off within 600 s" >&2
            exit 1
            """
        let file = scratch.appendingPathComponent("plain.sh")
        try Data(text.utf8).write(to: file)
        return file
    }
}
