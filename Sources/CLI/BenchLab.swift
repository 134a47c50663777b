// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Hypervisor
import Lab
import Logging
import RVBenchCore

/// `rvbench bench lab`: how fast the lab builds, comes up and starts a guest.
public struct BenchLab: AsyncParsableCommand, LoggingCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Time the lab: cold build, cached lab up until libvirt answers, and L2 create until its first console line.",
        discussion: """
        The cold build runs only with --cold, in a temporary cache that is deleted afterwards (several \
        minutes). Otherwise the cached build is reused and its recorded step times are printed. The lab \
        must not be running already (the benchmark brings it up and down itself). Goals: cached `lab up` \
        to libvirt-ready at most 20 s; L2 create to first console line at most 6 s.

        \(ExitStatus.helpText)
        """
    )

    @Flag(name: .long, help: "Also time a build from an empty cache.")
    public var cold = false

    @Option(name: .long, help: "How many L2 guests to start (each timed).")
    public var guests: Int = 3

    @OptionGroup public var options: LabOptions

    var logLevel: Logger.Level { options.verbosity.logLevel }

    public init() {}

    public func run() async throws {
        let logger = options.logger()
        let source = try SourceTree.locate()
        let out = source.appendingPathComponent("workloads/build/out")
        if cold {
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-bench-cold-\(getpid())")
            defer { try? FileManager.default.removeItem(at: tmp) }
            var paths = options.paths
            paths.cacheRoot = tmp
            let t0 = Date()
            _ = try await LabBuilder(paths: paths, source: source, workloadsOut: out, logger: logger, progress: { _ in }).build()
            labOut(String(format: "cold lab build:                   %7.1f s", Date().timeIntervalSince(t0)))
        }
        let t0 = Date()
        _ = try await LabBuilder(paths: options.paths, source: source, workloadsOut: out, logger: logger, progress: { _ in }).build()
        labOut(String(format: "cached lab build (no-op):         %7.1f s", Date().timeIntervalSince(t0)))

        let lab = Lab(paths: options.paths, localURI: options.localURI, domainName: options.domain, logger: logger)
        if LabStateStore(url: options.paths.stateFile).load().state != nil {
            throw RVBenchError(.badInput, "the lab is running; bring it down first (rvbench lab down) so lab up is timed from cold boot")
        }
        let up = try await lab.up()
        do {
            labOut(String(format: "cached lab up to libvirt ready:   %7.1f s   (goal <= 20 s)", up.libvirtReadySeconds ?? .nan))
            let manifest = try LabManifest.load(from: options.paths.manifest)
            var times: [Double] = []
            for i in 0..<max(1, guests) {
                let spec = GuestDomainSpec(name: "rvbench-bench-l2-\(getpid())-\(i)", vcpus: 1, memoryMiB: 256,
                                           kernel: manifest.l1GuestKernelPath, initrd: manifest.l1GuestInitramfsPath,
                                           cmdline: "console=ttyS0 panic=1 quiet rdinit=/hello-init")
                let seconds = try await withHypervisor(uri: up.state.libvirtURI, logger: logger) { hv -> Double in
                    let created = Date()
                    return try await withDomain(on: hv, xml: DomainXML.guest(spec), paused: true, logger: logger) { domain in
                        let console = try domain.openConsole()
                        defer { console.close() }
                        try domain.resume()
                        for try await _ in console.lines() { return Date().timeIntervalSince(created) }
                        throw RVBenchError(.guest, "the guest printed nothing before its console closed")
                    }
                }
                times.append(seconds)
            }
            let sorted = times.sorted()
            labOut(String(format: "L2 create to first console line:  %7.1f s   (median of %d; goal <= 6 s)",
                          sorted[sorted.count / 2], sorted.count))
        } catch {
            _ = try? await lab.down()
            throw error
        }
        _ = try await lab.down()
    }
}
