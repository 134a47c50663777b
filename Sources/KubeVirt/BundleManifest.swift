// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// `bundle.json`: what `rvbench kubevirt export` wrote and what `collect` needs to read the logs back:
/// the spec, the run ID, every object with the boot it runs, the images with their digests, the
/// artifacts they were built from, and the variants that cannot run on a cluster.
public struct BundleManifest: Sendable, Equatable, Codable {
    public static let fileName = "bundle.json"
    public static let currentVersion = "1.0"

    /// One object of the bundle: a VMI (guest boot) or a Job (native boot).
    public struct Object: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable {
            case virtualMachineInstance = "VirtualMachineInstance"
            case job = "Job"
        }

        public var kind: Kind
        public var name: String
        /// The manifest's path in the bundle, e.g. `vmis/rvbench-…-virtio-b0.yaml`.
        public var file: String
        /// The variant as the spec names it.
        public var variant: String
        public var boot: Int
        public var round: Int
        /// Position in the schedule: apply in this order to keep the interleaving.
        public var sequence: Int
    }

    public struct NotRun: Sendable, Equatable, Codable {
        public var variant: String
        public var reason: String
    }

    public var schemaVersion: String
    public var rvbenchVersion: String
    public var experiment: String
    public var spec: SpecRecord
    public var seed: UInt64
    public var runID: String
    public var namespace: String
    public var registry: String
    /// Every object, in schedule order.
    public var objects: [Object]
    public var images: [String: OCIImageRecord]
    /// Where the cluster pulls each image from (pinned by digest).
    public var imageReferences: [String: String]
    /// The lab artifacts the images were built from.
    public var artifacts: [String: Artifact]
    public var hostDevices: [HostDeviceMapping]
    public var notRun: [NotRun]
    /// Findings of rvbench's lint that only upstream KubeVirt refuses (e.g. the riscv64 architecture).
    public var upstreamRefusals: [String]
    public var commandLine: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case rvbenchVersion = "rvbench_version"
        case experiment, spec, seed
        case runID = "run_id"
        case namespace, registry, objects, images
        case imageReferences = "image_references"
        case artifacts
        case hostDevices = "host_devices"
        case notRun = "not_run"
        case upstreamRefusals = "upstream_refusals"
        case commandLine = "command_line"
    }

    /// Reads `DIR/bundle.json`, checking its version first.
    public static func load(from bundle: URL) throws -> BundleManifest {
        let url = bundle.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RVBenchError(.notFound, "\(url.path) does not exist; give the directory `rvbench kubevirt export` wrote")
        }
        struct Version: Decodable {
            var schemaVersion: String
            enum CodingKeys: String, CodingKey { case schemaVersion = "schema_version" }
        }
        let version: Version
        do {
            version = try JSONDecoder().decode(Version.self, from: data)
        } catch {
            throw RVBenchError(.format, "\(url.path): \(ResultsJSON.describe(error))")
        }
        guard version.schemaVersion.split(separator: ".").first == "1" else {
            throw RVBenchError(.format, "\(url.path) has version \(version.schemaVersion); this rvbench reads 1.x; upgrade rvbench")
        }
        do {
            return try JSONDecoder().decode(BundleManifest.self, from: data)
        } catch {
            throw RVBenchError(.format, "\(url.path): \(ResultsJSON.describe(error))")
        }
    }
}
