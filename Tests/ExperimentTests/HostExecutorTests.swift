// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import Logging
import Probe
import RVBenchCore
import Testing
@testable import Experiment

/// The executor's counter bookkeeping and fault plumbing, without a host.
@Suite struct HostExecutorCounterTests {
    @Test func probeExecReportIsTheLastReportLineOnStandardError() throws {
        let stderr = """
            some workload noise
            rvbench-probe-report {"schema":1,"pid":9,"all_threads":false,"threads":1,"threads_late":0,"truncated":false,\
            "seconds":1.5,"events":[{"name":"task-clock","ok":true,"value":1500,"time_enabled":10,"time_running":5,\
            "scaled":3000,"threads":1,"failed_threads":0,"user_only":false},{"name":"cycles","ok":false,"errno":2,\
            "error":"No such file or directory"}]}
            """
        let report = try HostExecutor.probeExecReport(stderr: stderr)
        #expect(report.readings["task-clock"]?.scaledValue == 3000)
        #expect(report.readings["cycles"]?.unavailableReason == "perf_event_open on the host: No such file or directory (errno 2)")
        #expect(throws: RVBenchError.self) { try HostExecutor.probeExecReport(stderr: "rvbench-runner: oops\n") }
    }

    @Test func unavailableCountersAreRecordedWithReasonsNeverAsZero() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-hexec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let executor = HostExecutor(logger: Logger(label: "test"))
        var readings = CounterReadings()
        readings["task-clock"] = .value(100, enabled: 10, running: 10)
        readings["cycles"] = .unavailable("perf_event_open on the host: Operation not supported (errno 95)")
        let samples = executor.counterSamples(readings, variant: "virtio", directory: dir)
        #expect(samples == [BootSample(workload: "boot", iteration: 0, metric: "host.perf.task-clock", value: 100, unit: "events",
                                       kind: .counter)])
        var more = CounterReadings()
        more["instructions"] = .unavailable("not counted")
        _ = executor.counterSamples(more, variant: "native", directory: dir)
        let recorded = HostExecutor.readUnavailable(in: dir)
        #expect(recorded == [
            UnavailableMetric(metric: "host.perf.cycles", variant: "virtio",
                              reason: "perf_event_open on the host: Operation not supported (errno 95)"),
            UnavailableMetric(metric: "host.perf.instructions", variant: "native", reason: "not counted"),
        ])
    }

    @Test func faultsReachTheGuestCommandLineOnlyForTheirAttempt() {
        let plan = FaultPlan([.init(kind: .hang, variant: "virtio", boot: 1)])
        #expect(plan.fault(variant: "virtio", boot: 1, attempt: 1) == .hang)
        #expect(plan.fault(variant: "virtio", boot: 1, attempt: 2) == nil)
        #expect(plan.fault(variant: "virtio", boot: 0, attempt: 1) == nil)
        let spec = HostExecutor.domainSpec(
            boot: ScheduledBoot(sequence: 0, round: 0, variant: VariantSpec(name: "virtio", kind: .virtio), boot: 0, workloads: []),
            name: "d", layout: .lab, device: "/dev/vdb", names: ["micro-timer"], iterations: 2, warmup: 0, seed: 1,
            workloadTimeout: 30, fault: .garbage)
        #expect(spec.cmdline.hasSuffix(" rvbench.fault=garbage"))
        let clean = HostExecutor.domainSpec(
            boot: ScheduledBoot(sequence: 0, round: 0, variant: VariantSpec(name: "virtio", kind: .virtio), boot: 0, workloads: []),
            name: "d", layout: .lab, device: "/dev/vdb", names: ["micro-timer"], iterations: 2, warmup: 0, seed: 1,
            workloadTimeout: 30)
        #expect(!clean.cmdline.contains("rvbench.fault"))
    }
}

/// AIA guests are reported as not run where they could not boot, instead of hanging until the boot timeout.
@Suite struct AIAGateTests {
    static func facts(ssaia: Bool) throws -> ProbeFacts {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ProbeTests/Fixtures/facts/host-can.json")
        var f = try ProbeFacts.decode(try Data(contentsOf: url))
        f.cpu.ssaia = ssaia
        return f
    }

    @Test func needsSsaiaOnTheHostAndAnAIAGuestKernel() throws {
        let withAIA = try Self.facts(ssaia: true)
        #expect(AIAGate.reason(facts: withAIA, guestKernelVersion: nil, mode: .aplicIMSIC) == nil)
        #expect(AIAGate.reason(facts: withAIA, guestKernelVersion: "6.12.57-1", mode: .aplicIMSIC) == nil)
        let old = try #require(AIAGate.reason(facts: withAIA, guestKernelVersion: "6.1.192-2", mode: .aplicIMSIC))
        #expect(old.contains("Linux 6.10 or later") && old.contains("Linux 6.1.192-2"))
        let none = try #require(AIAGate.reason(facts: try Self.facts(ssaia: false), guestKernelVersion: nil, mode: .aplic))
        #expect(none.hasPrefix("aia: aplic needs Ssaia on the host") && none.contains("qemu: trixie"))
    }
}
