// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
@testable import Lab
import RVBenchCore
import Testing

extension Tag {
    @Tag static var freshInstall: Self
}

/// A brand-new Debian 12 machine, as close as this machine can make one: a minbase root with exactly
/// `scripts/debian12-packages.txt` and no Recommends (scripts/fresh-root.sh, cached by the list's hash).
/// scripts/fresh-install-check.sh then runs deps.sh, the cross builds, the services script, the model
/// generator, the program list and the lab's L0 domain inside it.
///
/// The Swift toolchain is not a Debian package, so building rvbench itself is outside this test; the
/// test passes the code's own list of external programs (`ControllerPrograms`) and the L0 domain XML the
/// code renders into the root instead. The QEMU 10 L0 (`--qemu trixie`) comes from a root that `lab build`
/// extracts, not from the packages file, so only Debian 12's QEMU is started here.
/// Needs root; the first run downloads and installs the packages (minutes), later runs reuse the root.
@Suite(.tags(.freshInstall), .serialized) struct FreshInstallTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test(.enabled(if: getuid() == 0, "needs root: mmdebstrap, chroot and mounts"))
    func aCleanDebian12RootHasEverythingTheBuildLabAndServicesNeed() async throws {
        let script = Self.checkout.appendingPathComponent("scripts")
        let made = try await Subprocess.run([script.appendingPathComponent("fresh-root.sh").path], timeout: 3600,
                                            outputLimit: 1 << 20)
        try #require(made.status == 0, "scripts/fresh-root.sh failed: \(made.stderrString.suffix(3000))")
        let root = made.stdoutString.trimmingCharacters(in: .whitespacesAndNewlines)

        let work = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-fresh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let programs = work.appendingPathComponent("programs.txt")
        try ControllerPrograms.all.map { "\($0.name) \($0.package)" }.joined(separator: "\n")
            .appending("\n").write(to: programs, atomically: true, encoding: .utf8)
        // The L0 domain as `lab up` renders it, with placeholder files the check script creates in the root.
        let ports = Int.random(in: 20000...29999)
        let spec = LabDomainSpec(name: "rvbench-fresh-l0", kernel: "/src/l0-kernel", initrd: "/src/l0-initrd",
                                 workloadDisk: "/src/l0-disk", libvirtPort: ports, sshPort: ports + 1)
        let xml = work.appendingPathComponent("l0.xml")
        try LabDomainXML.render(spec).write(to: xml, atomically: true, encoding: .utf8)

        let check = try await Subprocess.run([script.appendingPathComponent("fresh-install-check.sh").path, root,
                                              programs.path, xml.path], timeout: 3600, outputLimit: 8 << 20)
        let output = check.stdoutString + check.stderrString
        let failures = output.split(separator: "\n").filter { $0.hasPrefix("FRESH-FAIL:") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(check.status == 0, "fresh-install-check.sh exited \(check.status):\n\(output.suffix(6000))")
        #expect(output.contains("fresh: every check passed"))
        #expect(output.contains("services: libvirtd answers on qemu:///system"))
        #expect(output.contains("Domain 'rvbench-fresh-l0' created"), "\(output.suffix(3000))")
    }
}
