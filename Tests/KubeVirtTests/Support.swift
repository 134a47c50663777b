// SPDX-License-Identifier: GPL-3.0-or-later
import Experiment
import GuestWire
import Host
import Foundation
import KubeVirt
import RVBenchCore
import Testing

extension Tag {
    /// Runs umoci, skopeo or Python's jsonschema (Debian packages in scripts/debian12-packages.txt).
    @Tag static var externalTools: Self
}

enum KubeFixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let schema = directory.appendingPathComponent("kubevirt-schema.json")
    static let validator = directory.appendingPathComponent("validate-bundle.py")
    static let inputs = ExportInputs(
        guestKernel: directory.appendingPathComponent("inputs/Image"),
        guestInitramfs: directory.appendingPathComponent("inputs/initramfs.cpio"),
        workloadDisk: directory.appendingPathComponent("inputs/disk.ext4"))

    static let catalogue: WorkloadCatalogue = {
        // The repository's own catalogue: the specs name real workloads.
        try! WorkloadCatalogue.load(from: repository.appendingPathComponent("workloads"))
    }()

    /// A spec from the repository or the fixtures, with a repository-relative display path.
    static func spec(_ relative: String) throws -> ExperimentSpec {
        try ExperimentSpec.load(from: repository.appendingPathComponent(relative), displayPath: relative,
                                catalogue: catalogue)
    }

    static func temporary(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rvbench-kube-\(name)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        return url
    }

    /// Exports `spec` into a fresh temporary directory with the fixture inputs.
    static func export(_ spec: ExperimentSpec, name: String, pciIDs: [String: PCIID] = [:]) async throws -> (URL, BundleManifest) {
        let out = temporary(name)
        let request = ExportRequest(spec: spec, output: out, pciIDs: pciIDs, inputs: inputs,
                                    commandLine: ["rvbench", "kubevirt", "export", spec.source?.path ?? "?", "-o", "BUNDLE"])
        return (out, try await Exporter.export(request))
    }

    /// Every text file of a bundle (not the image archives), by relative path.
    static func textFiles(of bundle: URL) throws -> [String: String] {
        var out: [String: String] = [:]
        let base = bundle.standardizedFileURL.path
        let enumerator = FileManager.default.enumerator(atPath: base)
        while let path = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory)
            guard !isDirectory.boolValue, !path.hasPrefix("images/") else { continue }
            out[path] = try String(contentsOfFile: base + "/" + path, encoding: .utf8)
        }
        return out
    }

    /// Machine-dependent text replaced by placeholders: the repository's path and rvbench's version.
    static func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: repository.standardizedFileURL.path + "/", with: "$REPO/")
            .replacingOccurrences(of: "\"\(RVBenchVersion.string)\"", with: "\"$VERSION\"")
            .replacingOccurrences(of: "rvbench \(RVBenchVersion.string))", with: "rvbench $VERSION)")
    }
}
