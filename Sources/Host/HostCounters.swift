// SPDX-License-Identifier: GPL-3.0-or-later
import Counters
import Foundation
import GuestWire
import Probe
import RVBenchCore

/// Host counters of a boot as samples: perf counts, KVM exit statistics, and the counters that could not
/// be counted (kept in `counters-unavailable.json`, never recorded as 0).
public enum HostCounters {
    /// The file that keeps counters that could not be counted, next to the journal, so that a resumed run
    /// and the reports see them.
    public static func unavailableFile(in directory: URL) -> URL {
        directory.appendingPathComponent("counters-unavailable.json")
    }

    /// Reads what `unavailableFile` holds (empty when there is none).
    ///
    /// - Throws: when the file exists but cannot be read or decoded.
    public static func readUnavailable(in directory: URL) throws -> [UnavailableMetric] {
        let url = unavailableFile(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        do {
            return try JSONDecoder().decode([UnavailableMetric].self, from: Data(contentsOf: url))
        } catch {
            throw RVBenchError(.format, "\(url.path) cannot be read (\(error)); delete it to forget the unavailable counters",
                               cause: error)
        }
    }

    /// Merges `missing` into `unavailableFile` (one entry per variant and metric).
    static func recordUnavailable(_ missing: [UnavailableMetric], in directory: URL) throws {
        func key(_ m: UnavailableMetric) -> String { "\(m.variant ?? "")/\(m.metric)" }
        var merged = Dictionary(try readUnavailable(in: directory).map { (key($0), $0) }, uniquingKeysWith: { _, b in b })
        for m in missing { merged[key(m)] = m }
        let all = merged.values.sorted { ($0.metric, $0.variant ?? "") < ($1.metric, $1.variant ?? "") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(all).write(to: unavailableFile(in: directory), options: .atomic)
    }

    /// Samples of the counters that have values (label `boot`, metric `host.perf.EVENT`); the others are
    /// recorded as unavailable with their reason.
    static func samples(_ readings: CounterReadings, variant: String, directory: URL) throws -> [BootSample] {
        var samples: [BootSample] = []
        var missing: [UnavailableMetric] = []
        for name in readings.names {
            let metric = MetricID.counter(.hostPerf, name)
            if let value = readings[name]?.scaledValue {
                samples.append(BootSample(workload: BootSample.bootLabel, iteration: 0, metric: metric, value: value))
            } else {
                missing.append(UnavailableMetric(metric: metric.name, variant: variant,
                                                 reason: readings[name]?.unavailableReason ?? "not counted"))
            }
        }
        if !missing.isEmpty { try recordUnavailable(missing, in: directory) }
        return samples
    }

    static func allUnavailable(_ events: [String], reason: String) -> CounterReadings {
        var out = CounterReadings()
        for e in events { out[e] = .unavailable(reason) }
        return out
    }

    /// Host KVM exit statistics of one guest over its life, as samples of the boot label: the VM's own
    /// debugfs directory when it is the only VM, else the global counters, which only count VMs that
    /// still exist (one guest runs at a time during a run).
    static func kvmSamples(_ snapshot: KVMStatsSnapshot) -> [BootSample] {
        guard snapshot.available else { return [] }
        let stats = snapshot.vms.count == 1 ? snapshot.vms[0].stats : snapshot.global
        return stats.keys.sorted().map { key in
            BootSample(workload: BootSample.bootLabel, iteration: 0, metric: .counter(.hostKVM, key), value: Double(stats[key]!))
        }
    }

    /// The report line `rvbench-probe perf --exec` leaves on standard error.
    static func probeExecReport(stderr: String) throws -> ProbePerfReport {
        let prefix = "rvbench-probe-report "
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix(prefix) }) else {
            throw RVBenchError(.process, "no \"\(prefix.trimmingCharacters(in: .whitespaces))\" line")
        }
        return try ProbePerfReport.decode(Data(line.dropFirst(prefix.count).utf8))
    }
}

/// Turns a boot's host counter readings into events on the boot's stream.
struct CounterYield: Sendable {
    let variant: String
    let directory: URL
    let continuation: AsyncThrowingStream<BootEvent, any Error>.Continuation

    func callAsFunction(_ readings: CounterReadings) throws {
        for sample in try HostCounters.samples(readings, variant: variant, directory: directory) {
            continuation.yield(.sample(sample))
        }
    }
}
