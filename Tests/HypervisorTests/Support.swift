// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing

extension Tag {
    /// Needs the local libvirtd (`qemu:///system`) with qemu-system-riscv64 and OpenSBI.
    @Tag static var libvirtLocal: Self
}

/// Expected-output files under `Fixtures/`. With `RVBENCH_UPDATE_GOLDEN=1` in the environment,
/// `assertGolden` rewrites the file in the source tree instead of comparing.
enum Golden {
    static var updating: Bool { ProcessInfo.processInfo.environment["RVBENCH_UPDATE_GOLDEN"] == "1" }

    static func sourceURL(_ name: String, file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    static func read(_ name: String) throws -> String {
        guard let directory = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures"])
        }
        return try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if updating {
            try actual.write(to: sourceURL(name), atomically: true, encoding: .utf8)
            return
        }
        let expected = try read(name)
        #expect(actual == expected, "\(name) differs; rerun with RVBENCH_UPDATE_GOLDEN=1 to regenerate",
                sourceLocation: sourceLocation)
    }
}

/// A name no other test uses, so tests can share libvirt's process-wide test driver state.
func uniqueDomainName(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}
