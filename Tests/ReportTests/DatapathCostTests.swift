// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Stats
import Testing
@testable import Report

/// The I/O datapath table: per MB read, side by side per variant, from the run's own samples.
@Suite struct DatapathCostTests {
    static func sample(_ variant: String, _ workload: String, _ boot: Int, _ iteration: Int, _ metric: String,
                       _ value: Double, kind: MetricKind? = nil) -> Sample {
        Sample(experiment: "e", variant: variant, workload: workload, boot: boot, iteration: iteration, metric: metric,
               value: value, unit: "", timestamp: 0, kind: kind)
    }

    /// native, virtio and vdpa read 70 MB per iteration, two iterations per boot, two boots.
    static func input(boots: Int = 2, secondWorkload: Bool = false) throws -> ReportInput {
        var all: [Sample] = []
        let mmio: [String: Double] = ["virtio": 2800, "vdpa": 1400]
        for v in ["native", "virtio", "vdpa"] {
            for boot in 0..<boots {
                for it in 0..<2 {
                    all.append(sample(v, "fio-randread", boot, it, "iops", v == "native" ? 2000 + Double(it) : 100 + Double(boot)))
                    all.append(sample(v, "fio-randread", boot, it, "data_mb", 70))
                    all.append(sample(v, "fio-randread", boot, it, "interrupts", v == "native" ? 700 : 1400, kind: .counter))
                    if secondWorkload { all.append(sample(v, "fio-seqread", boot, it, "bw_mib_s", 10 + Double(it))) }
                }
                if let m = mmio[v] {
                    all.append(sample(v, "boot", boot, 0, "host.kvm.mmio_exit_user", m, kind: .counter))
                    all.append(sample(v, "boot", boot, 0, "host.kvm.exits", 3 * m, kind: .counter))
                }
                all.append(sample(v, "boot", boot, 0, "host.perf.task-clock", v == "native" ? 1.4e9 : 2.8e9, kind: .counter))
            }
        }
        let metrics: [MetricKey: MetricInfo] = [
            MetricKey(workload: "fio-randread", metric: "iops"): MetricInfo(kind: .primary, unit: "IO/s", direction: .higherIsBetter),
            MetricKey(workload: "fio-randread", metric: "data_mb"): MetricInfo(kind: .verification, unit: "MB", direction: .lowerIsBetter),
            MetricKey(workload: "fio-seqread", metric: "bw_mib_s"): MetricInfo(kind: .primary, unit: "MiB/s", direction: .higherIsBetter),
        ]
        var workloads = try Statistics.analyze(samples: all, baseline: "native", metrics: metrics,
                                               options: CompareOptions(resamples: 200),
                                               work: ["fio-randread": WorkUnit(metric: "data_mb", unit: "MB")])
        // A variant the host could not run keeps its reason in every cell.
        let i = try #require(workloads.firstIndex { $0.workload == "fio-randread" && $0.kind == .primary })
        workloads[i].variants.append(VariantResult(variant: "passthrough", status: .notRun(reason: "no IOMMU"), descriptive: nil))
        var results = ReportFixtures.hostileResults
        results.workloads = workloads
        return ReportInput(results: results)
    }

    @Test func eachVariantShowsExitsInterruptsAndCPUPerMB() throws {
        let cost = try #require(try Self.input().datapathCost(for: "fio-randread"))
        // Per boot: 2,800 user MMIO exits over 2 × 70 MB = 20 per MB; interrupts per iteration: 1,400 / 70;
        // task-clock 2.8e9 ns over 140 MB = 20 ms per MB.
        #expect(cost.rows == [
            ["native", "—", "—", "10.00", "10.00"],
            ["virtio", "20.00", "60.00", "20.00", "20.00"],
            ["vdpa", "10.00", "30.00", "20.00", "20.00"],
            ["passthrough", "not run: no IOMMU", "not run: no IOMMU", "not run: no IOMMU", "not run: no IOMMU"],
        ])
        #expect(cost.notes.contains { $0.contains("the guest's own boot and warm-up included") })
        let md = try String(decoding: Report.render(.md, Self.input()), as: UTF8.self)
        #expect(md.contains("### what the datapath costs, per MB read"))
        #expect(md.contains("| vdpa | 10.00 | 30.00 | 20.00 | 20.00 |"), "\(md)")
        let html = try String(decoding: Report.render(.html, Self.input()), as: UTF8.self)
        #expect(html.contains("What the datapath costs, per MB read"))
        #expect(html.contains("guest&#39;s QEMU") || html.contains("guest&#x27;s QEMU") || html.contains("guest&apos;s QEMU"))
    }

    @Test func perBootCountersAreNotDividedWhenTheBootRanAnotherWorkload() throws {
        let cost = try #require(try Self.input(secondWorkload: true).datapathCost(for: "fio-randread"))
        #expect(cost.rows[1] == ["virtio", "—", "—", "20.00", "—"])
        #expect(cost.notes.contains { $0.contains("ran more than one workload") })
        #expect(try Self.input().datapathCost(for: "boot") == nil)
    }
}
