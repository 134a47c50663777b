// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Hypervisor
import Lab
import Logging
import RVBenchCore
import Testing
@testable import Experiment
import GuestWire
import Host
import Remote

/// Faults on the real path, each against the emulated lab: the guest's QEMU killed mid-run, a workload
/// that hangs, a guest that prints garbage, and the controller killed with SIGKILL and then resumed.
/// After each, the samples are complete and unique and nothing is left running.
@Suite(.tags(.lab), .serialized) struct LabFaultTests {
    static let source = LabTestSupport.source
    static let logger = Logger(label: "rvbench.labfault.test")

    /// micro-timer (3,000 sleeps an iteration): light, so that the faults, not the workload, take the time.
    static func spec(name: String, boots: Int = 1, iterations: Int = 2, workloadSeconds: Int = 400) -> String {
        """
        name: \(name)
        seed: 5
        host: lab
        variants:
          - name: native
            kind: native
          - name: virtio
            kind: virtio
            vcpus: 1
            memory_mib: 768
        workloads:
          - name: micro-timer
        repetitions:
          boots: \(boots)
          iterations: \(iterations)
          warmup: 0
        counters: none
        timeouts:
          boot_s: 300
          workload_s: \(workloadSeconds)
        retries:
          boot: 1
        """
    }

    /// Every (variant, workload, boot, iteration, metric) appears once, in the summary and on disk, and each
    /// variant has `boots × iterations` wall-time samples of micro-timer.
    static func expectCompleteAndUnique(_ summary: RunSummary, directory: URL, boots: Int = 1, iterations: Int = 2) throws {
        try expectCompleteAndUnique(summary.samples, boots: boots, iterations: iterations)
        let replayed = try ResultsDirectory(url: directory).readSamples().samples
        #expect(replayed.count == summary.samples.count, "samples.jsonl holds \(replayed.count), the summary \(summary.samples.count)")
    }

    static func expectCompleteAndUnique(_ samples: [Sample], boots: Int, iterations: Int = 2) throws {
        var seen = Set<String>()
        for s in samples {
            #expect(seen.insert("\(s.variant)/\(s.workload)/\(s.boot)/\(s.iteration)/\(s.metric)").inserted, "duplicate \(s)")
        }
        for variant in ["native", "virtio"] {
            let walls = samples.filter { $0.variant == variant && $0.workload == "micro-timer" && $0.metric == "wall_ns" }
            #expect(walls.count == boots * iterations,
                    "\(variant) has \(walls.count) wall_ns samples, expected \(boots * iterations)")
        }
    }

    /// No domain of any run in L1 and no workload runner on it.
    static func expectNothingLeftInL1(_ lab: Lab, _ state: LabState) async throws {
        let hv = try LibvirtHypervisor(uri: state.libvirtURI, logger: logger)
        defer { hv.close() }
        let domains = try hv.domainNames(includeInactive: true).filter { $0.hasPrefix("rvbench-") }
        #expect(domains.isEmpty, "domains left in L1: \(domains)")
        let runners = try await lab.ssh(state, "pgrep -x rvbench-runner || true", timeout: 60)
        #expect(runners.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "runner processes left in L1: \(runners)")
    }

    /// No L0 QEMU on the controller.
    static func expectLabDown() async throws {
        let pgrep = try await Subprocess.run(["pgrep", "-f", "guest=rvbench-lab(,| |$)"], timeout: 10)
        #expect(pgrep.status == 1, "the lab's QEMU survived: \(pgrep.stdoutString)")
    }

    /// Runs `body` with the lab up (started here unless it already ran) and brings it down after if started here.
    static func withLab(qemu: QEMUFlavour = .debian12, _ body: (Lab, LabState) async throws -> Void) async throws {
        let lab = Lab(paths: LabPaths.fromEnvironment(), logger: logger)
        let up = try await lab.up(qemu: qemu)
        do {
            try await body(lab, up.state)
        } catch {
            if !up.reused { _ = try? await lab.down() }
            throw error
        }
        if !up.reused {
            _ = try await lab.down()
            try await expectLabDown()
        }
    }

    /// Once the first attempt of `variant`'s boot 0 has a measured result (more are to come), runs `script` in L1;
    /// the task's value is whether its output contains `done`.
    static func inL1AfterFirstSample(of variant: String, _ progress: EventProgress, lab: Lab, state: LabState,
                                     waitSeconds: Double = 900, run script: String, done: String,
                                     timeout: Double = 30) -> Task<Bool, Never> {
        Task {
            guard await progress.wait(seconds: waitSeconds, for: { $0.isSample(variant: variant, boot: 0, attempt: 1) }) else {
                return false
            }
            let out = try? await lab.ssh(state, script, timeout: timeout)
            return out?.contains(done) == true
        }
    }

    /// Kills the QEMU of `variant`'s first attempt in L1 once that attempt has a measured result.
    static func killFirstAttempt(of variant: String, _ progress: EventProgress, lab: Lab, state: LabState,
                                 waitSeconds: Double = 900) -> Task<Bool, Never> {
        inL1AfterFirstSample(of: variant, progress, lab: lab, state: state, waitSeconds: waitSeconds,
                             run: "pkill -KILL -f 'guest=rvbench-[0-9a-f]*-\(variant)-b0-a1' && echo killed", done: "killed")
    }

    @Test func guestQEMUKilledMidRunIsRecordedAndRetried() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        // Ten iterations: the kill lands while iterations are left.
        let spec = try await LabTestSupport.prepare(Self.spec(name: "labkill", iterations: 10), file: "labkill.yaml")
        let dir = LabTestSupport.temporaryDirectory("labkill")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.withLab { lab, state in
            let progress = EventProgress()
            let killer = Self.killFirstAttempt(of: "virtio", progress, lab: lab, state: state)
            let outcome = try await RunSession.run(spec: spec, directory: dir, progress: progress, logger: Self.logger,
                                                   commandLine: ["test"], labProgress: { _ in })
            killer.cancel()
            #expect(await killer.value, "the guest's QEMU was not killed in the middle of its first attempt")
            let failures = outcome.summary.failures.filter { $0.variant == "virtio" }
            #expect(failures.count == 1, "\(outcome.summary.failures.map(\.reason))")
            #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0)
            try Self.expectCompleteAndUnique(outcome.summary, directory: dir, iterations: 10)
            try await Self.expectNothingLeftInL1(lab, state)
        }
    }

    /// A passthrough guest whose QEMU dies mid-run: libvirt gives the NVMe back to nvme, the retry gets it through
    /// vfio-pci again, and after the run nvme holds it and no domain is left in L1.
    @Test func passthroughGuestKilledMidRunGivesTheNVMeBackAndIsRetried() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let yaml = """
            name: labptkill
            seed: 7
            host: lab
            qemu: trixie
            variants:
              - name: native
                kind: native
              - name: passthrough
                kind: passthrough
                device: "\(LabDevices.nvme.pciAddress)"
                vcpus: 1
                memory_mib: 512
            workloads:
              - name: fio-randread
            repetitions:
              boots: 1
              iterations: 2
              warmup: 0
            counters: none
            timeouts:
              boot_s: 300
              workload_s: 900
            retries:
              boot: 1
            """
        let spec = try await LabTestSupport.prepare(yaml, file: "labptkill.yaml")
        let dir = LabTestSupport.temporaryDirectory("labptkill")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.withLab(qemu: .trixie) { lab, state in
            let progress = EventProgress()
            let killer = Self.killFirstAttempt(of: "passthrough", progress, lab: lab, state: state, waitSeconds: 1200)
            let outcome = try await RunSession.run(spec: spec, directory: dir, progress: progress, logger: Self.logger,
                                                   commandLine: ["test"], labProgress: { _ in })
            killer.cancel()
            #expect(await killer.value, "the passthrough guest's QEMU was not killed in the middle of its first attempt")
            #expect(outcome.summary.failures.filter { $0.variant == "passthrough" }.count == 1,
                    "\(outcome.summary.failures.map(\.reason))")
            #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0)
            #expect(outcome.summary.samples.filter { $0.variant == "passthrough" && $0.metric == "verified_bytes" }.count == 2)
            // Both attempts had the NVMe on vfio-pci; after the run nvme holds it again.
            let manifest = try ResultsDirectory(url: dir).readManifest()
            #expect(manifest.deviceBindings.values.filter { $0.variant == "passthrough" }.map(\.driver) == ["vfio-pci", "vfio-pci"],
                    "\(manifest.deviceBindings)")
            let driver = try await lab.ssh(state, "basename \"$(readlink /sys/bus/pci/devices/\(LabDevices.nvme.pciAddress)/driver)\"",
                                           timeout: 60)
            #expect(driver.trimmingCharacters(in: .whitespacesAndNewlines) == "nvme")
            try await Self.expectNothingLeftInL1(lab, state)
        }
    }

    @Test func l1LibvirtdRestartedMidGuestBootFailsThatBootCleanlyAndRetriesIt() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let spec = try await LabTestSupport.prepare(Self.spec(name: "labvirtd", iterations: 10), file: "labvirtd.yaml")
        let dir = LabTestSupport.temporaryDirectory("labvirtd")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.withLab { lab, state in
            // Restarts L1's libvirtd once the guest's first measured result arrived, and waits (bounded) until
            // the new daemon answers. The guest's QEMU keeps running; the run's connection and console break.
            let progress = EventProgress()
            let script = "pkill -x libvirtd; for i in $(seq 50); do pgrep -x libvirtd >/dev/null || break; sleep 0.2; done; "
                + "libvirtd --listen -d && pgrep -x libvirtd >/dev/null && echo restarted"
            let restarter = Self.inL1AfterFirstSample(of: "virtio", progress, lab: lab, state: state, run: script,
                                                      done: "restarted", timeout: 120)
            let outcome = try await RunSession.run(spec: spec, directory: dir, progress: progress, logger: Self.logger,
                                                   commandLine: ["test"], labProgress: { _ in })
            restarter.cancel()
            #expect(await restarter.value, "L1's libvirtd was not restarted in the middle of the guest's first attempt")
            // The boot either survived or failed once and was retried; nothing was lost or counted twice.
            let failures = outcome.summary.failures.filter { $0.variant == "virtio" }
            #expect(failures.count <= 1, "\(outcome.summary.failures.map(\.reason))")
            #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0, "\(outcome.summary.failures.map(\.reason))")
            try Self.expectCompleteAndUnique(outcome.summary, directory: dir, iterations: 10)
            try await Self.expectNothingLeftInL1(lab, state)
        }
    }

    @Test func hangingWorkloadTimesOutAndIsRetried() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let spec = try await LabTestSupport.prepare(Self.spec(name: "labhang", workloadSeconds: 30), file: "labhang.yaml")
        let dir = LabTestSupport.temporaryDirectory("labhang")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.withLab { lab, state in
            let outcome = try await RunSession.run(
                spec: spec, directory: dir, progress: SilentProgress(), logger: Self.logger, commandLine: ["test"],
                labProgress: { _ in }, faults: FaultPlan([.init(kind: .hang, variant: "virtio", boot: 0)]))
            let failures = outcome.summary.failures
            #expect(failures.count == 1, "\(failures.map(\.reason))")
            #expect(failures.first?.variant == "virtio")
            #expect(failures.first?.reason.contains("timed out after 30 s") == true, "\(failures.map(\.reason))")
            #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0)
            try Self.expectCompleteAndUnique(outcome.summary, directory: dir)
            try await Self.expectNothingLeftInL1(lab, state)
        }
    }

    @Test func guestPrintingGarbageIsRejectedStrictlyAndRetried() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let spec = try await LabTestSupport.prepare(Self.spec(name: "labgarbage"), file: "labgarbage.yaml")
        let dir = LabTestSupport.temporaryDirectory("labgarbage")
        defer { try? FileManager.default.removeItem(at: dir) }
        try await Self.withLab { lab, state in
            let outcome = try await RunSession.run(
                spec: spec, directory: dir, progress: SilentProgress(), logger: Self.logger, commandLine: ["test"],
                labProgress: { _ in },
                faults: FaultPlan([.init(kind: .garbage, variant: "virtio", boot: 0),
                                   .init(kind: .garbage, variant: "native", boot: 0)]))
            let failures = outcome.summary.failures
            #expect(Set(failures.map(\.variant)) == ["native", "virtio"], "\(failures.map(\.reason))")
            #expect(failures.allSatisfy { $0.reason.contains("malformed protocol lines") }, "\(failures.map(\.reason))")
            #expect(outcome.summary.bootsOK == 2 && outcome.summary.bootsFailed == 0)
            try Self.expectCompleteAndUnique(outcome.summary, directory: dir)
            // The forged lines (markup, a wrong protocol version, negative times) produced nothing.
            #expect(!outcome.summary.samples.contains { $0.workload.contains("<") || $0.value < 0 })
            for file in ["report.html", "report.md", "results.json", "samples.csv", "junit.xml"] {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                #expect(!text.contains("<script>"), "\(file) carries guest markup")
            }
            try await Self.expectNothingLeftInL1(lab, state)
        }
    }

    @Test func controllerKilledWithSIGKILLThenResumeFinishes() async throws {
        let lock = try await LabTestLock.acquire()
        defer { lock.release() }
        let binary = Self.source.appendingPathComponent(".build/debug/rvbench")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build rvbench first: swift build")
        let paths = LabPaths.fromEnvironment()
        // The killed run starts the lab itself, so that resume must take it over and stop it.
        _ = try await Lab(paths: paths, logger: Self.logger).down()
        let yaml = Self.spec(name: "labsigkill", boots: 2)
        _ = try await LabTestSupport.prepare(yaml, file: "labsigkill.yaml")
        let dir = LabTestSupport.temporaryDirectory("labsigkill")
        let specFile = LabTestSupport.temporaryDirectory("labsigkill-spec.yaml")
        defer {
            try? FileManager.default.removeItem(at: dir)
            try? FileManager.default.removeItem(at: specFile)
        }
        try Data(yaml.utf8).write(to: specFile)

        let env = ["RVBENCH_WORKLOADS": ProcessInfo.processInfo.environment["RVBENCH_WORKLOADS"] ?? ""]
            .filter { !$0.value.isEmpty }
        let run = Process()
        run.executableURL = binary
        run.arguments = ["run", specFile.path, "-o", dir.path]
        run.currentDirectoryURL = Self.source
        run.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        run.standardOutput = FileHandle.nullDevice
        let progressLines = Pipe()
        run.standardError = progressLines
        try run.run()
        // Kill it once a guest boot ended ok and a later boot started: its progress lines say when.
        let (lines, linesIn) = AsyncStream<String>.makeStream()
        progressLines.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; linesIn.finish(); return }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") { linesIn.yield(String(line)) }
        }
        let watcher = Task { () -> Bool in
            var guestDone = false
            for await line in lines {
                if line.contains("virtio boot") && line.contains(" ok in ") { guestDone = true; continue }
                if guestDone && line.contains(" attempt 1 started") {
                    kill(run.processIdentifier, SIGKILL)
                    return true
                }
            }
            return false
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(900))
            kill(run.processIdentifier, SIGKILL)
        }
        let killed = await watcher.value
        timeout.cancel()
        run.waitUntilExit()
        try #require(killed, "the run ended (status \(run.terminationStatus)) before it could be killed")
        let before = try ResultsDirectory(url: dir).readSamples().samples
        // The killed run left its lab running, owned by a process that is gone.
        let state = try #require(LabStateStore(url: paths.stateFile).load().state, "the killed run's lab is not recorded")
        #expect(state.owner?.pid == run.processIdentifier)

        let resume = try await Subprocess.run([binary.path, "resume", dir.path, "--quiet"], timeout: 1500)
        #expect(resume.status == 0, "resume: \(resume.stderrString.suffix(2000))")
        let samples = try ResultsDirectory(url: dir).readSamples().samples
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.html").path))
        // The kill came mid-run: resume had boots left to do.
        #expect(before.count < samples.count, "the run had finished before it was killed")
        // Nothing taken before the kill was lost.
        let after = Set(samples.map { "\($0.variant)/\($0.workload)/\($0.boot)/\($0.iteration)/\($0.metric)" })
        for s in before {
            #expect(after.contains("\(s.variant)/\(s.workload)/\(s.boot)/\(s.iteration)/\(s.metric)"), "lost \(s)")
        }
        try Self.expectCompleteAndUnique(samples, boots: 2)
        // Resume took the lab over and brought it down; no domain survives on the controller either.
        #expect(LabStateStore(url: paths.stateFile).load().state == nil)
        try await Self.expectLabDown()
    }
}
