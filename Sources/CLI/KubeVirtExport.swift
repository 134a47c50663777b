// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Experiment
import Foundation
import KubeVirt
import Logging
import RVBenchCore

/// `rvbench kubevirt export SPEC -o DIR`: a bundle that runs the spec's schedule on a cluster.
public struct KubeVirtExport: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the VMIs, Jobs and images that run a spec's schedule on a KubeVirt cluster.",
        discussion: """
        One VirtualMachineInstance per guest boot and one Job per native boot of the schedule \
        (every round up to max_boots), the container images as OCI image layouts in tar archives \
        (built with umoci, no daemon), bundle.json with the image digests, a kustomization.yaml, \
        run-in-order.sh and a README. The images come from the last `rvbench lab build` unless \
        --guest-kernel, --guest-initramfs and --workload-disk name other files. Variants a cluster \
        cannot run (vdpa, an aia mode) are listed and later reported as not run.

        \(ExitStatus.helpText)
        """
    )

    @Argument(help: "The experiment spec (YAML), e.g. analysis/quickstart.yaml.")
    public var spec: String

    @Option(name: .shortAndLong, help: "The bundle directory to write (new or empty).")
    public var output: String

    @Option(name: .long, help: "Registry the images will be pushed to; they become REGISTRY/rvbench-NAME@DIGEST.")
    public var registry: String = "localhost:5000"

    @Option(name: .long, help: "Namespace of the objects.")
    public var namespace: String = "rvbench"

    @Option(name: .long, help: "Run ID in every object name, 8 lowercase hex digits (default: from the spec's SHA-256).")
    public var runID: String?

    @Option(name: .long, parsing: .singleValue,
            help: "VARIANT=VVVV:DDDD: the vendor and device ID of a passthrough variant's device (needed when the spec names a PCI address).")
    public var pciID: [String] = []

    @Option(name: .long, help: "The guest kernel (default: the lab's).")
    public var guestKernel: String?

    @Option(name: .long, help: "The runner initramfs (default: the lab's).")
    public var guestInitramfs: String?

    @Option(name: .long, help: "The ext4 workload disk (default: the lab's).")
    public var workloadDisk: String?

    public init() {}

    func pciIDs() throws -> [String: PCIID] {
        var out: [String: PCIID] = [:]
        for item in pciID {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = PCIID(parts[1]) else {
                throw ValidationError("--pci-id \(item): expected VARIANT=VVVV:DDDD, e.g. vfio=1af4:1042")
            }
            out[parts[0]] = id
        }
        return out
    }

    func inputs() throws -> ExportInputs {
        let given = [guestKernel, guestInitramfs, workloadDisk]
        if given.allSatisfy({ $0 == nil }) { return try ExportInputs.fromLab() }
        guard let k = guestKernel, let i = guestInitramfs, let d = workloadDisk else {
            throw RVBenchError(.badInput, "give all of --guest-kernel, --guest-initramfs and --workload-disk, or none")
        }
        for path in [k, i, d] where !FileManager.default.fileExists(atPath: path) {
            throw RVBenchError(.notFound, "\(path) does not exist")
        }
        return ExportInputs(guestKernel: URL(fileURLWithPath: k), guestInitramfs: URL(fileURLWithPath: i),
                            workloadDisk: URL(fileURLWithPath: d))
    }

    public func run() async throws {
        let ids = try pciIDs()
        do {
            let catalogue = try RunSession.catalogue()
            let spec = try ExperimentSpec.load(from: URL(fileURLWithPath: self.spec), displayPath: self.spec, catalogue: catalogue)
            let logger = Logger(label: "rvbench.kubevirt")  // the root command bootstrapped logging
            let request = ExportRequest(spec: spec, output: URL(fileURLWithPath: output, isDirectory: true), runID: runID,
                                        namespace: namespace, registry: registry, pciIDs: ids, inputs: try inputs(),
                                        commandLine: CommandLine.arguments)
            let bundle = try await Exporter.export(request, logger: logger)
            let vmis = bundle.objects.filter { $0.kind == .virtualMachineInstance }.count
            print("bundle \(output): \(vmis) VirtualMachineInstance(s), \(bundle.objects.count - vmis) Job(s), "
                + "\(bundle.images.count) image(s), run \(bundle.runID)")
            for n in bundle.notRun { print("  not run on a cluster: \(n.variant): \(n.reason)") }
            for r in bundle.upstreamRefusals { print("  upstream KubeVirt refuses: \(r)") }
            print("next: see \(output)/README.md, then `rvbench kubevirt collect \(output) LOGS... -o RESULTS`")
        } catch {
            throw error
        }
    }
}
