// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Logging
import RVBenchCore

/// How L0 runs. `Lab` decides when L0 starts and stops and when L1 counts as ready; a backend knows
/// how to start L0 from a `LabDomainSpec`, watch L1's console and stop L0 again.
///
/// Two backends exist: a transient domain of the controller's libvirt (Debian 12's QEMU 7.2) and a
/// QEMU 10 process from the Debian 13 root that rvbench supervises itself.
protocol L0Backend: Sendable {
    /// Starts L0 from `spec` and returns once L1's console printed `marker`, with `state` completed by
    /// what this backend knows (e.g. the process id). `record` is called as soon as L0 runs, with what
    /// `lab down` needs to find it, so that a command killed during the boot leaves nothing behind that
    /// cannot be stopped. On any error L0 is stopped again before the error is thrown.
    func boot(_ spec: LabDomainSpec, state: LabState, marker: String, timeout: Double,
              record: (LabState) throws -> Void) async throws -> LabState

    /// Stops the L0 that `state` describes; nothing happens when it is not running.
    func stop(_ state: LabState) async throws
}

/// L0 as a transient domain of the controller's libvirt. Readiness is read from the domain's console.
struct LibvirtL0: L0Backend {
    let local: LibvirtHypervisor
    /// Where the rendered domain XML is kept, for the user to read.
    let xmlFile: URL
    let logger: Logger
    let progress: @Sendable (String) -> Void

    func boot(_ spec: LabDomainSpec, state: LabState, marker: String, timeout: Double,
              record: (LabState) throws -> Void) async throws -> LabState {
        let xml = LabDomainXML.render(spec)
        try Data(xml.utf8).write(to: xmlFile)
        let domain = try local.create(xml: xml, paused: true)
        do {
            try record(state)
            progress("L0 \(spec.name) created (libvirt port \(spec.libvirtPort), ssh port \(spec.sshPort)"
                + (spec.icount ? ", -icount shift=0,sleep=off" : "") + "); booting L1")
            let console = try domain.openConsole()
            defer { console.close() }
            let lines = console.lines()
            try domain.resume()
            try await Lab.waitForLine(lines, marker: marker, timeout: timeout, tail: ConsoleTail(),
                                      logger: logger, progress: progress)
            return state
        } catch {
            try? domain.destroy()
            try? domain.undefine()
            throw error
        }
    }

    func stop(_ state: LabState) async throws {
        guard let domain = try local.lookup(name: state.domain) else { return }
        try domain.destroy()
        try domain.undefine()
    }
}

/// L0 as a QEMU 10 process, daemonized with a pid file. Readiness is read from its console log file.
struct ProcessL0: L0Backend {
    let qemu: TrixieQEMU
    let runDirectory: URL
    let consoleLog: URL
    let progress: @Sendable (String) -> Void

    func boot(_ spec: LabDomainSpec, state: LabState, marker: String, timeout: Double,
              record: (LabState) throws -> Void) async throws -> LabState {
        let pidFile = runDirectory.appendingPathComponent("qemu.pid")
        let argv = qemu.command(TrixieL0.arguments(spec, qemu: qemu, pidFile: pidFile.path, consoleLog: consoleLog.path))
        try Data((argv.joined(separator: " ") + "\n").utf8).write(to: runDirectory.appendingPathComponent("qemu-command.txt"))
        let started = try await Subprocess.run(argv, timeout: 120)
        guard started.status == 0, let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RVBenchError(.process, "QEMU 10 did not start (status \(started.status)): \(started.stderrString.suffix(800))")
        }
        var state = state
        state.pid = pid
        state.qemuVersion = qemu.version
        do {
            try record(state)
            progress("L0 QEMU 10 process \(pid) started (libvirt port \(spec.libvirtPort), ssh port \(spec.sshPort)"
                + (spec.icount ? ", -icount shift=0,sleep=off" : "") + "); booting L1")
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                let log = (try? String(contentsOf: consoleLog, encoding: .utf8)) ?? ""
                if log.contains(marker) { break }
                guard state.processAlive else { throw RVBenchError(.guest, "L0 (QEMU 10) exited while L1 booted") }
                guard Date() < deadline else {
                    throw RVBenchError(.guest, "L1 printed no \"\(marker)\" within \(Int(timeout)) s")
                }
                try await Task.sleep(nanoseconds: 200_000_000)
            }
            return state
        } catch {
            await Self.stopProcess(state)
            throw error
        }
    }

    func stop(_ state: LabState) async throws {
        try await Self.stop(state)
    }

    /// Stops the QEMU 10 process `state` records, and fails if it is still there after SIGKILL.
    static func stop(_ state: LabState) async throws {
        guard let pid = state.pid else { return }
        await stopProcess(state)
        if state.processAlive {
            throw RVBenchError(.process, "the lab's QEMU 10 process \(pid) survived SIGKILL")
        }
    }

    /// SIGTERM, then SIGKILL after 10 s. Only a process whose command line names the lab is signalled
    /// (`LabState.processAlive` checks it), so a reused PID is never hit.
    static func stopProcess(_ state: LabState) async {
        guard let pid = state.pid, state.processAlive else { return }
        kill(pid, SIGTERM)
        for i in 0..<150 {
            if !state.processAlive { return }
            if i == 100 { kill(pid, SIGKILL) }
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
    }
}
