// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

/// The list of controller programs and the packages file must agree, or a fresh machine misses a step.
@Suite struct ControllerProgramsTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Packages every Debian 12 root has (Essential: yes, or priority required), so the packages file need not name them.
    static let essential: Set<String> = ["apt", "dpkg", "coreutils", "findutils", "dash", "tar", "sed", "util-linux"]

    static func packagesFile() throws -> Set<String> {
        let text = try String(contentsOf: checkout.appendingPathComponent("scripts/debian12-packages.txt"), encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { line -> String? in
            let name = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            return name.isEmpty ? nil : name
        })
    }

    @Test func everyProgramsPackageIsInThePackagesFile() throws {
        let listed = try Self.packagesFile()
        #expect(listed.contains("libc6-dev-riscv64-cross"), "the cross compiler's libc headers are only a Recommends")
        #expect(listed.contains("kmod"))
        for program in ControllerPrograms.all {
            #expect(listed.contains(program.package) || Self.essential.contains(program.package),
                    "\(program.name) comes from \(program.package), which scripts/debian12-packages.txt does not list")
        }
    }

    @Test func namesAreUniqueAndEveryStageHasPrograms() {
        let names = ControllerPrograms.all.map(\.name)
        #expect(Set(names).count == names.count)
        for stage in ControllerProgram.Stage.allCases {
            #expect(!ControllerPrograms.needed(by: stage).isEmpty, "\(stage.rawValue) lists no programs")
        }
    }

    @Test func requireNamesEachMissingProgramAndItsPackage() {
        let absent: Set<String> = ["depmod", "mke2fs"]
        do {
            try ControllerPrograms.require([.labBuild], command: "lab build") { !absent.contains($0) }
            Issue.record("require did not throw with depmod and mke2fs missing")
        } catch let error as RVBenchError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("depmod (kmod"))
            #expect(error.message.contains("mke2fs (e2fsprogs"))
            #expect(error.message.contains("apt-get install --no-install-recommends e2fsprogs kmod"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: Never.self) { try ControllerPrograms.require([.labBuild, .labUp], command: "x") { _ in true } }
    }
}
