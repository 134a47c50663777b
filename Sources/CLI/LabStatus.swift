// SPDX-License-Identifier: GPL-3.0-or-later
import ArgumentParser
import Foundation
import Lab
import Logging
import RVBenchCore

/// `rvbench lab status`.
struct LabStatus: AsyncParsableCommand, LabSubcommand {
    static let configuration = labCommand("status", "Report whether the lab runs, its versions and its uptime.")

    @OptionGroup var options: LabOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let s = try await options.lab().status()
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            e.dateEncodingStrategy = .iso8601
            labOut(String(decoding: try e.encode(s), as: UTF8.self))
            return
        }
        labOut("lab: \(s.running ? "running" : "not running")" + (s.domainState.map { " (domain \($0))" } ?? ""))
        if let b = s.buildID { labOut("build: \(b)") }
        if let l0 = s.l0, !(s.running && s.state?.isProcess == true) { labOut("L0: libvirt \(l0.libvirtDaemon ?? l0.libvirtLibrary), \(l0.hypervisorType) \(l0.hypervisor ?? "?")") }
        if let st = s.state, s.running {
            if let up = s.uptimeSeconds { labOut(String(format: "uptime: %.0f s", up)) }
            labOut("libvirt: \(st.libvirtURI)")
            labOut("ssh: root@127.0.0.1 -p \(st.sshPort)")
        }
        if let l1 = s.l1 { labOut("L1: libvirt \(l1.libvirtDaemon ?? "?"), \(l1.hypervisorType) \(l1.hypervisor ?? "?")") }
        if let k = s.l1Kernel { labOut("L1 kernel: \(k)" + (s.l1Uptime.map { ", up \($0) s" } ?? "")) }
        for n in s.notes { labOut("note: \(n)") }
    }
}
