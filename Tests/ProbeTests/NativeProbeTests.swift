// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
@testable import Probe
import Remote
import RVBenchCore
import Testing

/// The C probe, built natively with `make -C workloads/probe native`, run on the fixture trees
/// and on this machine.
@Suite("native rvbench-probe", .enabled(if: Subprocess.which("cc") != nil && Subprocess.which("make") != nil))
struct NativeProbeTests {
    func probe() async throws -> URL {
        try #require(try await NativeProbe.shared.path())
    }

    func run(_ args: [String]) async throws -> ProcessResult {
        try await Subprocess.run([try await probe().path] + args, timeout: 60)
    }

    @Test("facts --root TREE reproduces the committed JSON fixture",
          arguments: ["host-can", "no-iommu", "non-viable-group", "wrong-driver"])
    func treeMatchesFixture(name: String) async throws {
        let r = try await run(["--root", Fixtures.sysfsTree(name), "facts"])
        #expect(r.status == 0)
        var fromTree = try ProbeFacts.decode(r.stdout)
        #expect(fromTree.root == Fixtures.sysfsTree(name))
        // A tree cannot answer ioctls: the probe says so instead of guessing.
        #expect(fromTree.vfio.kvmVFIODevice == .unknown)
        #expect(fromTree.vfio.kvmVFIODetail == "not probed: --root given, so no ioctl is made")
        #expect(fromTree.kvm.apiVersion == nil)
        #expect(!fromTree.perf.probed && fromTree.perf.reason == "not probed: --root given, so no event is opened")
        // The fixture differs only in what the README says was set by hand.
        let fixture = try Fixtures.facts(name)
        fromTree.root = "/"
        fromTree.kvm.apiVersion = 12
        fromTree.vfio.kvmVFIODevice = fixture.vfio.kvmVFIODevice
        fromTree.vfio.kvmVFIODetail = fixture.vfio.kvmVFIODetail
        #expect(fromTree == fixture)
    }

    @Test("preflight on facts read from the trees: the wrong driver and the non-viable group are found")
    func preflightFromTrees() async throws {
        for (name, expected) in [("non-viable-group", "IOMMU group 2 is not viable: 0000:00:04.0 (nvme)"),
                                 ("wrong-driver", "0000:00:03.0 is bound to nvme, not vfio-pci")] {
            let facts = try await LocalHostFacts(probePath: try await probe(), root: Fixtures.sysfsTree(name)).facts()
            let reasons = PassthroughPreflight.check(facts: facts, device: PCIDeviceSelector(string: "0000:00:03.0")!).reasons
            #expect(reasons.contains { $0.hasPrefix(expected) }, "\(name): \(reasons)")
            // The KVM VFIO device is unknown under a tree, so preflight does not claim it is there.
            #expect(reasons.contains { $0.hasPrefix("whether KVM has a VFIO device is unknown") })
        }
    }

    @Test("kvm-stats reads every counter file, per-VM directories by pid, and names unreadable files")
    func kvmStats() async throws {
        let source = LocalHostFacts(probePath: try await probe(), root: Fixtures.sysfsTree("host-can"))
        let s = try await source.kvmStatsSnapshot()
        #expect(s.available)
        #expect(s.global["exits"] == 48213 && s.global["mmio_exit_user"] == 1520 && s.global["csr_exit_kernel"] == 211)
        #expect(s.global.count == 9)
        #expect(s.vms == [.init(pid: 1234, fd: 12, dir: "1234-12",
                                stats: ["exits": 48213, "mmio_exit_user": 1520, "wfi_exit_stat": 3022])])
        #expect(s.unreadable == ["halt_poll_hist": "not a single decimal counter"])
        #expect(try await source.kvmStats()["ecall_exit_stat"] == 6120)
    }

    @Test("without KVM statistics, kvmStats() throws and names the fix")
    func noKVMStats() async throws {
        let source = LocalHostFacts(probePath: try await probe(), root: Fixtures.sysfsTree("no-iommu"))
        let error = try await #require(throws: RVBenchError.self) { try await source.kvmStats() }
        #expect(error.code == .unsupported)
        #expect(error.message.hasSuffix("mount -t debugfs none /sys/kernel/debug)"))
    }

    @Test("facts on this machine: uname, and perf events probed rather than assumed")
    func liveFacts() async throws {
        let facts = try await LocalHostFacts(probePath: try await probe()).facts()
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(facts.arch == machine)
        #expect(facts.root == "/")
        #expect(facts.perf.probed)
        #expect(facts.perf.events.map(\.name).contains("cycles"))
        let clock = try #require(facts.perf.events.first { $0.name == "task-clock" })
        #expect(clock.ok)
        for e in facts.perf.events where !e.ok {
            #expect(e.errno != nil && !(e.error ?? "").isEmpty)
        }
        // The in-process counters agree with the probe about cycles.
        let cycles = try #require(facts.perf.events.first { $0.name == "cycles" })
        #expect(PerfAvailability.probe(["perf::CYCLES"])[0].opens == cycles.ok)
    }

    @Test("perf --pid counts a busy child process; events that cannot open are named")
    func perfOnChild() async throws {
        _ = try await probe()  // build the probe first: the child must still be running when it counts
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done"]
        try child.run()
        defer { stopChild(child) }
        let r = try await run(["perf", "--pid", String(child.processIdentifier), "--threads",
                               "--events", "task-clock,perf::CONTEXT-SWITCHES,cycles", "--", "0.3"])
        #expect(r.status == 0, "\(r.stderrString)")
        let report = try ProbePerfReport.decode(r.stdout)
        #expect(report.pid == child.processIdentifier && report.threads == 1)
        #expect(report.seconds >= 0.29)
        let readings = report.readings
        #expect((readings["task-clock"]?.rawValue ?? 0) > 0, "\(readings)")
        #expect(readings["perf::CONTEXT-SWITCHES"]?.rawValue != nil)
        let cycles = try #require(readings["cycles"])
        if PerfAvailability.probe(["perf::CYCLES"])[0].unavailable != nil {
            #expect(cycles.rawValue == nil && cycles.unavailableReason?.hasPrefix("perf_event_open on the host: ") == true, "\(cycles)")
        } else {
            #expect((cycles.rawValue ?? 0) > 0, "\(cycles)")
        }
    }

    @Test("perf --exec counts a program and its children, passes its output through and keeps its status")
    func perfExec() async throws {
        // The child process does the page faults: only an inherited counter sees them.
        let script = "echo out-line; sh -c 'head -c 4000000 /dev/zero | od > /dev/null'; echo err-line >&2; exit 7"
        let r = try await run(["perf", "--exec", "--events", "task-clock,page-faults,nosuch-event-x", "--", "sh", "-c", script])
        // An unknown event is a usage error before anything runs.
        #expect(r.status == 2 && !r.stdoutString.contains("out-line"))
        let ok = try await run(["perf", "--exec", "--events", "task-clock,page-faults", "--", "sh", "-c", script])
        #expect(ok.status == 7)
        #expect(ok.stdoutString == "out-line\n", "the program's standard output must pass through untouched")
        #expect(ok.stderrString.contains("err-line"))
        let line = try #require(ok.stderrString.split(separator: "\n").last { $0.hasPrefix("rvbench-probe-report ") })
        let report = try ProbePerfReport.decode(Data(line.dropFirst("rvbench-probe-report ".count).utf8))
        let faults = try #require(report.readings["page-faults"]?.rawValue)
        let clock = try #require(report.readings["task-clock"]?.rawValue)
        #expect(faults > 50, "children's page faults were not inherited: \(faults)")
        #expect(clock > 1_000_000, "task-clock \(clock) ns is too small for a program that ran its children")
        let missing = try await run(["perf", "--exec", "--events", "task-clock", "--", "/nonexistent/program"])
        #expect(missing.status == 127 && missing.stderrString.contains("cannot run /nonexistent/program"))
    }

    @Test("perf ends when standard input closes (until-stdin-eof)")
    func perfUntilEOF() async throws {
        let r = try await Subprocess.run([try await probe().path, "perf", "--pid", String(getpid()),
                                          "--events", "task-clock", "--", "until-stdin-eof"],
                                         input: Data("stop\n".utf8), timeout: 30)
        #expect(r.status == 0)
        #expect(r.stderrString.contains("rvbench-probe: counting"))
        #expect(try ProbePerfReport.decode(r.stdout).events.map(\.name) == ["task-clock"])
    }

    @Test("usage errors are JSON errors with status 2", arguments: [
        (["perf", "--pid", "1", "--events", "bogus", "--", "1"], "perf: unknown event \"bogus\""),
        (["perf", "--events", "cycles", "--", "1"], "perf: --pid PID is required"),
        (["perf", "--pid", "1", "--events", "cycles", "--", "soon"], "perf: \"soon\" is neither SECONDS"),
        (["nonsense"], "usage: rvbench-probe"),
    ])
    func usage(args: [String], message: String) async throws {
        let r = try await run(args)
        #expect(r.status == 2)
        let error = try #require(throws: RVBenchError.self) { try ProbePerfReport.decode(r.stdout) }
        #expect(error.message.contains(message))
    }

    @Test("the riscv64 build is a static riscv64 executable",
          .enabled(if: Subprocess.which("riscv64-linux-gnu-gcc") != nil))
    func crossBuild() async throws {
        let url = try await ProbeBinary.ensure(.riscv64, sourceDirectory: Fixtures.probeSource)
        let bytes = try Data(contentsOf: url).prefix(20)
        #expect(Array(bytes.prefix(4)) == [0x7f, 0x45, 0x4c, 0x46]) // ELF
        #expect(bytes[18] == 0xf3 && bytes[19] == 0x00)             // e_machine EM_RISCV (243)
    }
}

/// `RemoteProbeCounterSource` with a local shell in place of ssh: the same start/stop protocol
/// (counting announced on stderr, ended by closing stdin) and KVM statistics from a fixture tree.
@Suite("remote counter source, over a local shell", .enabled(if: Subprocess.which("cc") != nil && Subprocess.which("make") != nil))
struct RemoteCounterSourceTests {
    @Test("start/stop counts a child process and adds KVM statistic deltas")
    func localShell() async throws {
        let probe = try #require(try await NativeProbe.shared.path())
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done"]
        try child.run()
        defer { stopChild(child) }
        let remoteProbe = "\(probe.path) --root \(Fixtures.sysfsTree("host-can"))"
        let source = RemoteProbeCounterSource(target: SSHTarget(host: "unused"), remoteProbe: remoteProbe,
                                              pid: child.processIdentifier, events: ["task-clock", "cycles"])
        source.transport = ["/bin/sh", "-c"]
        let (_, readings) = try await withCounters(source) { try await Task.sleep(nanoseconds: 200_000_000) }
        #expect((readings["task-clock"]?.rawValue ?? 0) > 0, "\(readings)")
        // The probe counts cycles exactly when this kernel opens the event; otherwise it says why, never 0.
        let cycles = try #require(readings["cycles"])
        if let reason = PerfAvailability.probe(["perf::CYCLES"])[0].unavailable {
            #expect(cycles.rawValue == nil, "this machine cannot count cycles (\(reason)), yet the probe reported \(cycles)")
            #expect(cycles.unavailableReason?.hasPrefix("perf_event_open on the host: ") == true, "\(cycles)")
        } else {
            #expect((cycles.rawValue ?? 0) > 0, "\(cycles)")
        }
        // The tree does not change between the snapshots: every delta is 0, and the child has no VM directory.
        #expect(readings["kvm.host.exits"]?.rawValue == 0)
        #expect(readings["kvm.vm"]?.unavailableReason?.hasPrefix("no KVM debugfs directory for pid") == true)
        #expect(throws: RVBenchError.self) { _ = try source.stop() }
    }

    @Test("a source dropped while counting leaves no probe running")
    func droppedWhileCounting() async throws {
        let probe = try #require(try await NativeProbe.shared.path())
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        defer { stopChild(child) }
        let marker = "perf --pid \(child.processIdentifier) "
        func probesRunning() -> Int {
            let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
            return pids.filter { pid in
                guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
                let cmdline = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
                return cmdline.contains(probe.path) && cmdline.contains(marker)
            }.count
        }
        do {
            let source = RemoteProbeCounterSource(target: SSHTarget(host: "unused"), remoteProbe: probe.path,
                                                  pid: child.processIdentifier, events: ["task-clock"],
                                                  includeKVMStats: false)
            source.transport = ["/bin/sh", "-c"]
            try source.start()
            #expect(probesRunning() >= 1)
        }
        var left = probesRunning()
        let deadline = ContinuousClock.now + .seconds(300) // a hang guard; the suite may be starved of threads
        while left > 0, ContinuousClock.now < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
            left = probesRunning()
        }
        #expect(left == 0)
    }

    @Test("an event the probe does not know fails start() with the probe's message")
    func unknownEvent() async throws {
        let probe = try #require(try await NativeProbe.shared.path())
        let source = RemoteProbeCounterSource(target: SSHTarget(host: "unused"), remoteProbe: probe.path,
                                              pid: getpid(), events: ["perf::NO-SUCH-EVENT"], includeKVMStats: false)
        source.transport = ["/bin/sh", "-c"]
        let error = try #require(throws: RVBenchError.self) { try source.start() }
        #expect(error.message.contains("unknown event \"perf::NO-SUCH-EVENT\""))
    }
}

/// The cross-built riscv64 probe, run under user-mode emulation on the fixture trees.
@Suite("riscv64 rvbench-probe under qemu-riscv64-static",
       .enabled(if: Subprocess.which("riscv64-linux-gnu-gcc") != nil && Subprocess.which("qemu-riscv64-static") != nil))
struct CrossProbeTests {
    @Test("the riscv64 binary reads a tree exactly as the native one does")
    func sameFacts() async throws {
        let cross = try await ProbeBinary.ensure(.riscv64, sourceDirectory: Fixtures.probeSource)
        let native = try #require(try await NativeProbe.shared.path())
        let tree = Fixtures.sysfsTree("host-can")
        let a = try await Subprocess.run(["qemu-riscv64-static", cross.path, "--root", tree, "facts"], timeout: 120)
        let b = try await Subprocess.run([native.path, "--root", tree, "facts"], timeout: 60)
        #expect(a.status == 0, "\(a.stderrString)")
        #expect(try ProbeFacts.decode(a.stdout) == (try ProbeFacts.decode(b.stdout)))
        let stats = try await Subprocess.run(["qemu-riscv64-static", cross.path, "--root", tree, "kvm-stats"], timeout: 120)
        #expect(try KVMStatsSnapshot.decode(stats.stdout).global["exits"] == 48213)
    }
}

/// `RemoteHostFacts` with a local shell in place of ssh: the copy-once install and the probe run.
@Suite("remote host facts, over a local shell", .enabled(if: Subprocess.which("cc") != nil && Subprocess.which("make") != nil))
struct RemoteHostFactsTests {
    @Test("the probe is copied once under its content hash, then run")
    func installAndRun() async throws {
        let probe = try #require(try await NativeProbe.shared.path())
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-remote-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The tree stands in for the host's /proc and /sys (and keeps the probe from mounting anything).
        let transport = ["/usr/bin/env", "RVBENCH_SYSFS_ROOT=\(Fixtures.sysfsTree("host-can"))", "/bin/sh", "-c"]
        func host() -> RemoteHostFacts {
            RemoteHostFacts(sshTarget: SSHTarget(host: "unused"), probePath: probe, remoteDirectory: dir.path,
                            timeout: 60, transport: transport)
        }
        let first = host()
        let path = try await first.installProbe()
        let hash = try SHA256.hex(ofFile: probe)
        #expect(path == dir.path + "/rvbench-probe-" + hash.prefix(16))
        #expect(FileManager.default.contentsEqual(atPath: path, andPath: probe.path))
        #expect(FileManager.default.isExecutableFile(atPath: path))
        let written = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date

        let facts = try await first.facts()
        #expect(facts.arch == "riscv64" && facts.root == Fixtures.sysfsTree("host-can"))
        #expect(try await first.kvmStats()["exits"] == 48213)

        // Another connection finds the copy and does not write it again.
        try await Task.sleep(nanoseconds: 20_000_000)
        #expect(try await host().installProbe() == path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == written)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [(path as NSString).lastPathComponent])
    }
}

/// Ends a child started by a test. SIGKILL, because the test runner may hand its children a
/// signal mask in which SIGTERM is blocked.
func stopChild(_ child: Process) {
    if child.isRunning { kill(child.processIdentifier, SIGKILL) }
    child.waitUntilExit()
}
