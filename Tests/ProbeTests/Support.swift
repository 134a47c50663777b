// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Probe
import RVBenchCore
import Testing

extension Tag {
    /// Needs the emulated lab to be up (`rvbench lab up`).
    @Tag static var lab: Self
}

enum Fixtures {
    /// Tests/ProbeTests/Fixtures.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// The repository root.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// workloads/probe.
    static let probeSource = repository.appendingPathComponent("workloads/probe")
    /// The recorded sysfs trees the C probe reads with --root (kept outside the test target: their
    /// symlinks form cycles that resource copying must not follow).
    static func sysfsTree(_ name: String) -> String {
        _ = treesWritten
        return probeSource.appendingPathComponent("fixtures/sysfs/\(name)").path
    }

    /// The trees hold empty directories, which git does not keep: make-trees.py writes them again (the
    /// same content as committed), once per test process and before any test reads a tree.
    private static let treesWritten: Void = {
        let script = probeSource.appendingPathComponent("fixtures/sysfs/make-trees.py")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script.lastPathComponent]
        p.currentDirectoryURL = script.deletingLastPathComponent()
        try? p.run()
        p.waitUntilExit()
    }()

    static func factsData(_ name: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent("facts/\(name).json"))
    }

    static func facts(_ name: String) throws -> ProbeFacts {
        try ProbeFacts.decode(try factsData(name))
    }

    /// The fixture as a mutable JSON object, for tests that change one key.
    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try factsData(name)) as! [String: Any]
    }
}

/// The natively built probe, built once per test process; nil when there is no C compiler.
actor NativeProbe {
    static let shared = NativeProbe()
    private var built: Result<URL, RVBenchError>?

    func path() async throws -> URL? {
        guard Subprocess.which("cc") != nil, Subprocess.which("make") != nil else { return nil }
        if let built { return try built.get() }
        do {
            let url = try await ProbeBinary.ensure(.native, sourceDirectory: Fixtures.probeSource)
            built = .success(url)
            return url
        } catch let error as RVBenchError {
            built = .failure(error)
            throw error
        }
    }
}
