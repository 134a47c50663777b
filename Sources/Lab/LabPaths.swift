// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// Where the lab keeps its artifacts and its run state.
///
/// ```
/// $RVBENCH_CACHE/lab/
///   ssh/id_ed25519{,.pub}      the controller's key for L1's SSH server
///   <kind>/<key>/...           one directory per built artifact, named by its cache key
///   manifest.json              the last `lab build`: every input and output
///   run/<instance>/            exists only while that lab is up: state.json, console.log, l0.xml
/// ```
public struct LabPaths: Sendable, Equatable {
    /// The cache root (`$RVBENCH_CACHE`, or `~/.cache/rvbench`).
    public var cacheRoot: URL
    /// The lab instance (its L0 domain name): several labs can share one cache.
    public var instance: String

    public init(cacheRoot: URL, instance: String = "rvbench-lab") {
        self.cacheRoot = cacheRoot
        self.instance = instance
    }

    /// The cache root from `RVBENCH_CACHE`, or `$HOME/.cache/rvbench`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> LabPaths {
        if let dir = env["RVBENCH_CACHE"], !dir.isEmpty {
            return LabPaths(cacheRoot: URL(fileURLWithPath: dir, isDirectory: true))
        }
        let home = env["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return LabPaths(cacheRoot: home.appendingPathComponent(".cache/rvbench", isDirectory: true))
    }

    public var lab: URL { cacheRoot.appendingPathComponent("lab", isDirectory: true) }
    public var sshDirectory: URL { lab.appendingPathComponent("ssh", isDirectory: true) }
    public var sshKey: URL { sshDirectory.appendingPathComponent("id_ed25519") }
    public var sshPublicKey: URL { sshDirectory.appendingPathComponent("id_ed25519.pub") }
    public var manifest: URL { lab.appendingPathComponent("manifest.json") }
    public var runDirectory: URL {
        lab.appendingPathComponent("run", isDirectory: true).appendingPathComponent(instance, isDirectory: true)
    }
    public var stateFile: URL { runDirectory.appendingPathComponent("state.json") }
    public var consoleLog: URL { runDirectory.appendingPathComponent("console.log") }
    public var domainXMLFile: URL { runDirectory.appendingPathComponent("l0.xml") }

    /// The directory of one cached artifact.
    public func artifact(_ kind: String, key: CacheKey) -> URL {
        lab.appendingPathComponent(kind, isDirectory: true).appendingPathComponent(key.short, isDirectory: true)
    }
}
