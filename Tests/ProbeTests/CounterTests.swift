// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
@testable import Probe
import RVBenchCore
import Testing

/// Work for the counters to see: a busy loop, and fresh pages touched (page faults).
@inline(never)
func busyWork() -> UInt64 {
    var x: UInt64 = 1
    for i in 0 ..< 20_000_000 { x = x &* 6364136223846793005 &+ UInt64(i) }
    // Fresh anonymous pages from mmap, never malloc's recycled ones, so that touching them faults.
    let pages = 256
    guard let raw = mmap(nil, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
          raw != MAP_FAILED else { return x }
    let p = raw.assumingMemoryBound(to: UInt8.self)
    for i in 0 ..< pages { p[i * 4096] = UInt8(truncatingIfNeeded: x &+ UInt64(i)) }
    x &+= UInt64(p[4096 * 7])
    munmap(raw, pages * 4096)
    return x
}

@Suite("counters")
struct CounterTests {
    @Test("libpfm4 encodes generic perf names")
    func encode() throws {
        let clock = try PfmLibrary.encode("perf::TASK-CLOCK")
        #expect(clock.type == 1 && clock.config == 1)
        #expect(clock.qualifiedName.hasPrefix("perf::PERF_COUNT_SW_TASK_CLOCK"))
        let cycles = try PfmLibrary.encode("perf::CYCLES")
        #expect(cycles.type == 0 && cycles.config == 0)
        #expect(try PfmLibrary.encode("perf::PAGE-FAULTS").config == 2)
    }

    @Test("an unknown event name is a bad-input error with libpfm4's reason")
    func unknownName() throws {
        let error = try #require(throws: RVBenchError.self) { try PfmLibrary.encode("perf::NO-SUCH-EVENT") }
        #expect(error.code == .badInput)
        #expect(error.message.hasPrefix("libpfm4 cannot encode event \"perf::NO-SUCH-EVENT\": event not found"))
    }

    @Test("on this process: software events count a busy loop; what cannot open is unavailable with its reason, never 0")
    func countThisProcess() async throws {
        let events = ["perf::CYCLES", "perf::TASK-CLOCK", "perf::PAGE-FAULTS", "perf::NO-SUCH-EVENT"]
        let cyclesOpen = PerfAvailability.probe(["perf::CYCLES"])[0]
        let (x, readings) = try await withCounters(events: events, pid: getpid(), threads: true) { busyWork() }
        #expect(x != 0)
        #expect(readings.names == events.sorted())
        let clock = try #require(readings["perf::TASK-CLOCK"])
        #expect((clock.rawValue ?? 0) > 0, "task-clock: \(clock)")
        let faults = try #require(readings["perf::PAGE-FAULTS"])
        #expect((faults.rawValue ?? 0) > 0, "page-faults: \(faults)")
        if case .value(_, let enabled, let running) = clock { #expect(enabled > 0 && running > 0) }
        let cycles = try #require(readings["perf::CYCLES"])
        if let reason = cyclesOpen.unavailable {
            // This machine (a VM without a virtual PMU) cannot count cycles: that is reported, not hidden.
            #expect(cycles.rawValue == nil)
            #expect(cycles.unavailableReason?.hasPrefix("perf_event_open: ") == true)
            #expect(reason.hasPrefix("perf_event_open: "))
        } else {
            #expect((cycles.rawValue ?? 0) > 0)
        }
        #expect(readings["perf::NO-SUCH-EVENT"]?.unavailableReason?.contains("event not found") == true)
        #expect(readings.unavailable.keys.contains("perf::NO-SUCH-EVENT"))
    }

    @Test("the calling thread alone (pid 0) can be counted")
    func callingThread() throws {
        let group = PerfCounterGroup(events: ["perf::TASK-CLOCK"], pid: 0, threads: false)
        defer { group.close() }
        try group.start()
        #expect(busyWork() != 0)
        let r = try group.stop()
        #expect((r["perf::TASK-CLOCK"]?.rawValue ?? 0) > 0)
    }

    @Test("a closed group cannot start again, and close is idempotent")
    func closed() throws {
        let group = PerfCounterGroup(events: ["perf::TASK-CLOCK"], pid: 0, threads: false)
        group.close()
        group.close()
        #expect(throws: RVBenchError.self) { try group.start() }
    }

    @Test("a process that does not exist is an error at start")
    func noProcess() throws {
        let group = PerfCounterGroup(events: ["perf::TASK-CLOCK"], pid: 999_999_999, threads: true)
        defer { group.close() }
        let error = try #require(throws: RVBenchError.self) { try group.start() }
        #expect(error.code == .notFound)
    }

    @Test("withCounters stops the source when the body throws, and rethrows")
    func stopsOnThrow() async throws {
        struct Boom: Error {}
        let source = RecordedCounterSource(CounterReadings(["x": .value(1, enabled: 1, running: 1)]))
        await #expect(throws: Boom.self) {
            _ = try await withCounters(source) { () async throws -> Int in throw Boom() }
        }
        #expect(source.startCount == 1 && !source.isRunning)
    }

    @Test("the recorded source returns its readings in order, the last one repeating")
    func recorded() async throws {
        let a = CounterReadings(["e": .value(1, enabled: 10, running: 10)])
        let b = CounterReadings(["e": .unavailable("gone")])
        let source = RecordedCounterSource([a, b])
        for expected in [a, b, b] {
            let (_, r) = try await withCounters(source) { 0 }
            #expect(r == expected)
        }
        #expect(throws: RVBenchError.self) { _ = try source.stop() }
    }

    @Test("multiplexed values are scaled; unavailable readings have no value")
    func scaling() throws {
        #expect(CounterReading.value(100, enabled: 40, running: 10).scaledValue == 400)
        #expect(CounterReading.value(100, enabled: 40, running: 10).isMultiplexed)
        #expect(CounterReading.value(100, enabled: 40, running: 40).scaledValue == 100)
        #expect(CounterReading.value(5, enabled: 40, running: 0).scaledValue == nil)
        #expect(CounterReading.unavailable("x").rawValue == nil && CounterReading.unavailable("x").scaledValue == nil)
        let readings = CounterReadings(["a": .value(1, enabled: 2, running: 2), "b": .unavailable("no PMU")])
        let text = String(decoding: try JSONEncoder().encode(readings), as: UTF8.self)
        #expect(text.contains(#""unavailable":"no PMU""#) && text.contains(#""time_enabled":2"#))
        #expect(try JSONDecoder().decode(CounterReadings.self, from: Data(text.utf8)) == readings)
    }

    @Test("KVM statistics become deltas, per VM and host-wide")
    func kvmDeltas() {
        let before = KVMStatsSnapshot(available: true, error: nil, mountedByProbe: false,
                                      global: ["exits": 100, "mmio_exit_user": 10],
                                      vms: [.init(pid: 5, fd: 9, dir: "5-9", stats: ["exits": 40])], unreadable: [:])
        var after = before
        after.global = ["exits": 160, "mmio_exit_user": 12]
        after.vms[0].stats = ["exits": 90]
        let r = kvmStatsReadings(before: before, after: after, pid: 5, nanoseconds: 7)
        #expect(r["kvm.host.exits"] == .value(60, enabled: 7, running: 7))
        #expect(r["kvm.host.mmio_exit_user"] == .value(2, enabled: 7, running: 7))
        #expect(r["kvm.vm.exits"] == .value(50, enabled: 7, running: 7))
        let other = kvmStatsReadings(before: before, after: after, pid: 6, nanoseconds: 7)
        #expect(other["kvm.vm"]?.unavailableReason == "no KVM debugfs directory for pid 6 in both snapshots")
        var gone = after
        gone.available = false
        gone.error = "debugfs is not mounted"
        #expect(kvmStatsReadings(before: before, after: gone, pid: 5, nanoseconds: 7).readings
            == ["kvm": .unavailable("no KVM statistics on the host: debugfs is not mounted")])
    }

    @Test("the probe's perf report becomes readings")
    func perfReport() throws {
        let text = """
        {"schema":1,"pid":42,"all_threads":true,"threads":3,"threads_late":1,"truncated":false,"seconds":0.5,
         "events":[{"name":"cycles","ok":false,"errno":2,"error":"No such file or directory"},
                   {"name":"task-clock","ok":true,"value":900,"time_enabled":1000,"time_running":500,"scaled":1800.0,
                    "threads":3,"failed_threads":0,"user_only":false}]}
        """
        let report = try ProbePerfReport.decode(Data(text.utf8))
        #expect(report.threads == 3 && report.threadsLate == 1)
        let r = report.readings
        #expect(r["task-clock"] == .value(900, enabled: 1000, running: 500))
        #expect(r["cycles"] == .unavailable("perf_event_open on the host: No such file or directory (errno 2)"))
    }
}
