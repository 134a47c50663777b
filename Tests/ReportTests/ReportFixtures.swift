// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
@testable import Report

/// Hand-written inputs for the report tests. The strings are hostile on purpose: guest and spec
/// strings reach every report, so every renderer must escape them.
enum ReportFixtures {
    static let script = "<script>alert(1)</script>"
    static let attribute = "x\" onload=\"alert(2)"
    static let formula = "=HYPERLINK(\"http://evil.example\",\"click\")"

    static func quantiles(_ center: Double, _ spread: Double) -> Quantiles {
        Quantiles(p0: center - 3 * spread, p5: center - 2 * spread, p25: center - spread, p50: center,
                  p75: center + spread, p95: center + 2 * spread, p100: center + 3 * spread)
    }

    static func descriptive(_ center: Double, _ spread: Double, n: Int = 12) -> Descriptive {
        Descriptive(n: n, mean: center * 1.002, stddev: spread * 1.4, median: center, mad: spread,
                    cv: spread * 1.4 / (center * 1.002), quantiles: quantiles(center, spread))
    }

    static func comparison(_ candidate: String, baseline: String = "native", metric: String, direction: Direction = .lowerIsBetter,
                           ratio: Double, low: Double, high: Double, p: Double, verdict: Verdict) -> Comparison {
        Comparison(baseline: baseline, candidate: candidate, metric: metric, direction: direction,
                   nBaseline: 12, nCandidate: 12, ratioOfMeans: ratio,
                   ratioOfMeansCI: Interval(low: low, high: high, level: 0.95),
                   ratioOfMeansBCa: Interval(low: low - 0.001, high: high + 0.001, level: 0.95),
                   ratioOfMedians: ratio - 0.002, ratioOfMediansCI: Interval(low: low - 0.004, high: high + 0.003, level: 0.95),
                   ratioOfMediansBCa: Interval(low: low - 0.005, high: high + 0.004, level: 0.95),
                   welchT: 4.25, welchDF: 21.7, welchP: p / 2, mannWhitneyU: 130, mannWhitneyP: p,
                   hodgesLehmann: 0.031, cliffsDelta: 0.79, adjustedP: p, threshold: 0.01, alpha: 0.05,
                   verdict: verdict, resamples: 10_000, seed: 7)
            .withBootLevel(low: low, high: high, family: metric.hasPrefix("counter") ? .counter : .primary)
    }

    /// A document with every feature the reports show: an emulated host, modelled labels, notes,
    /// a not-run variant, an unavailable counter, a regression, an improvement, a failure, counters,
    /// and hostile strings in names and reasons.
    static let hostileResults = ResultsDocument(
        experiment: "hostile \(script) & co",
        hostKind: "emulated RISC-V host (QEMU TCG)",
        emulated: true,
        modelled: ["energy \(script) per inference (modelled from cycle counts)"],
        createdAt: "2026-11-26T12:00:00Z",
        workloads: [
            WorkloadResult(
                workload: script, metric: "wall_ns", kind: .primary, unit: "ns", direction: .lowerIsBetter, baseline: "native",
                variants: [
                    VariantResult(variant: "native", status: .run, descriptive: descriptive(1.25e9, 1.1e7)),
                    VariantResult(variant: attribute, status: .run, descriptive: descriptive(1.31e9, 1.3e7),
                                  failures: ["boot 1: guest printed \(script) then hung"]),
                    VariantResult(variant: "passthrough", status: .notRun(reason: "no VFIO type1 for riscv; \(attribute)"),
                                  descriptive: nil),
                ],
                comparisons: [comparison(attribute, metric: "wall_ns", ratio: 1.048, low: 1.031, high: 1.066, p: 0.0004,
                                         verdict: .regression)]),
            WorkloadResult(
                workload: "x264 | 320x240", metric: "fps", kind: .primary, unit: "frames/s", direction: .higherIsBetter, baseline: "native",
                variants: [
                    VariantResult(variant: "native", status: .run, descriptive: descriptive(41.7, 0.4)),
                    VariantResult(variant: formula, status: .run, descriptive: descriptive(43.9, 0.5)),
                    VariantResult(variant: "passthrough", status: .notRun(reason: "no VFIO type1 for riscv; \(attribute)"),
                                  descriptive: nil),
                ],
                comparisons: [comparison(formula, metric: "fps", direction: .higherIsBetter, ratio: 1.053, low: 1.04,
                                         high: 1.067, p: 0.002, verdict: .improvement)]),
            WorkloadResult(
                workload: "x264 | 320x240", metric: "counter.mmio_exit_user", kind: .counter, unit: "exits", direction: .lowerIsBetter,
                baseline: "native",
                variants: [
                    VariantResult(variant: "native", status: .run, descriptive: descriptive(120, 6)),
                    VariantResult(variant: formula, status: .run, descriptive: descriptive(51_200, 900)),
                ],
                comparisons: [comparison(formula, metric: "counter.mmio_exit_user", ratio: 426.7, low: 410.2, high: 441.9,
                                         p: 1e-9, verdict: .regression)]),
            WorkloadResult(
                workload: "x264 | 320x240", metric: "wall_ns", kind: .secondary, unit: "ns", direction: .lowerIsBetter, baseline: "native",
                variants: [
                    VariantResult(variant: "native", status: .run, descriptive: descriptive(2.4e6, 2e4)),
                    VariantResult(variant: formula, status: .run, descriptive: descriptive(2.41e6, 2.2e4)),
                ],
                comparisons: [comparison(formula, metric: "wall_ns", ratio: 1.004, low: 0.996, high: 1.012, p: 0.41,
                                         verdict: .inconclusive).withFamily(.secondary)]),
        ],
        notes: ["fixture document \(script) for the report tests, not a measurement"],
        unavailable: [UnavailableMetric(metric: "counter.cycles", variant: formula, reason: "<not supported> by the host PMU")])

    static let hostileManifest = Manifest(
        experiment: hostileResults.experiment,
        spec: SpecRecord(path: "analysis/\(script).yaml", yaml: "name: hostile\nseed: 7\n"),
        seed: 7,
        artifacts: ["guest-kernel": Artifact(path: "/cache/\(script)/Image", sha256: SHA256.hex(of: "kernel"), bytes: 4_194_304)],
        host: HostFacts(kind: "emulated RISC-V host (QEMU TCG)", emulated: true, arch: "riscv64", kernel: "6.12.48+deb13-riscv64",
                        isa: "rv64imafdch_zicsr_zifencei_\(script)", aiaMode: "aplic-imsic", qemuVersion: "10.0.2",
                        libvirtVersion: "11.3.0", cpuCount: 2, emulator: "qemu-system-riscv64 7.2 (TCG) on x86_64"),
        tools: ["swift": "6.3.1", "gsl": "2.7.1"],
        domains: [attribute: "<domain type='kvm'><name>\(script)</name></domain>"],
        createdAt: "2026-11-26T11:58:00Z",
        commandLine: ["rvbench", "run", "analysis/\(script).yaml", "--name", attribute],
        notes: ["fixture document \(script) for the report tests, not a measurement", "manifest note \(attribute)"])

    static func sample(_ variant: String, _ workload: String, boot: Int, iteration: Int, metric: String, value: Double,
                       unit: String) -> Sample {
        Sample(experiment: hostileResults.experiment, variant: variant, workload: workload, boot: boot, iteration: iteration,
               metric: metric, value: value, unit: unit, timestamp: 1_795_694_400 + Double(boot * 10 + iteration) * 1.25)
    }

    static func hostileSamples() -> [Sample] {
        var samples: [Sample] = []
        for boot in 0 ..< 2 {
            for iteration in 0 ..< 3 {
                let step = Double(boot * 3 + iteration)
                samples.append(sample("native", script, boot: boot, iteration: iteration, metric: "wall_ns",
                                      value: 1.25e9 + step * 4e6, unit: "ns"))
                samples.append(sample(attribute, script, boot: boot, iteration: iteration, metric: "wall_ns",
                                      value: 1.31e9 - step * 3e6, unit: "ns"))
                samples.append(sample(formula, "x264 | 320x240", boot: boot, iteration: iteration, metric: "fps",
                                      value: -43.9 + Double(iteration) * 0.25, unit: "frames/s"))
            }
        }
        return samples
    }

    static let hostileJournal = JournalContents(
        samples: hostileSamples(),
        failures: [FailureRecord(experiment: hostileResults.experiment, variant: attribute, workload: script, boot: 1,
                                 reason: "guest printed \(script) then hung", timestamp: 1_795_694_500)],
        notRun: [NotRunRecord(experiment: hostileResults.experiment, variant: "passthrough",
                              reason: "no VFIO type1 for riscv; \(attribute)", timestamp: 1_795_694_399)],
        problems: [JournalProblem(line: 9, message: "truncated last line (the writer stopped mid-line): \(script)")])

    static let hostileInput = ReportInput(results: hostileResults, manifest: hostileManifest, journal: hostileJournal)

    /// The same results alone, as when only results.json is at hand.
    static let bareInput = ReportInput(results: hostileResults)
}

extension Comparison {
    /// The fixture's boot-level figures: 6 boots per side, the interval as given at 90%.
    func withBootLevel(low: Double, high: Double, family: ComparisonFamily) -> Comparison {
        var c = self
        c.bootLevel = BootLevel(bootsBaseline: 6, bootsCandidate: 6, ratio: ratioOfMeans,
                                logRatioSE: (log(high) - log(low)) / 3.6, df: 9.8,
                                ci: Interval(low: low, high: high, level: 0.9), pAbove: adjustedP, pBelow: 1 - adjustedP,
                                pEquivalence: 0.5, adjustedPDirectional: adjustedP, adjustedPEquivalence: 0.5,
                                family: family, familySize: 1, underpowered: false)
        return c
    }

    func withFamily(_ family: ComparisonFamily) -> Comparison {
        var c = self
        c.bootLevel?.family = family
        return c
    }
}
