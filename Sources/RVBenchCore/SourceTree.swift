// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation

/// Finds the rvbench source tree (for `workloads/lab/...`): `RVBENCH_SOURCE`, else the first
/// directory above the working directory or the executable that holds `workloads/lab`.
public enum SourceTree {
    public static func locate(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let dir = env["RVBENCH_SOURCE"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir, isDirectory: true)
            guard isSourceTree(url) else {
                throw RVBenchError(.notFound, "RVBENCH_SOURCE=\(dir) has no workloads/lab; point it at the rvbench checkout")
            }
            return url
        }
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)]
        if let exe = Bundle.main.executableURL { starts.append(exe.deletingLastPathComponent()) }
        for start in starts {
            var dir = start.standardizedFileURL
            while true {
                if isSourceTree(dir) { return dir }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        throw RVBenchError(.notFound, "cannot find the rvbench source tree (workloads/lab); run from the checkout or set RVBENCH_SOURCE")
    }

    static func isSourceTree(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("workloads/lab/guest-kernel.config").path)
    }
}
