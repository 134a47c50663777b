// SPDX-License-Identifier: GPL-3.0-or-later
import RVBenchCore

/// What every human-readable format shows at its top, derived once from a `ReportInput`.
struct ReportHeader {
    /// The experiment name.
    var experiment: String
    /// The host type.
    var hostKind: String
    /// The emulated-host sentence when the host is emulated, else nil.
    var emulatedWarning: String?
    /// Label–value facts about the run, in display order.
    var facts: [(label: String, value: String)]
    /// Notes from results.json and manifest.json, then journal problems, without duplicates.
    var notes: [String]
    /// Everything modelled rather than measured.
    var modelled: [String]
    /// Variants that were not run, grouped by variant and reason.
    var notRun: [NotRunGroup]
    /// Metrics that could not be measured.
    var unavailable: [UnavailableMetric]

    struct NotRunGroup: Equatable {
        var variant: String
        var reason: String
        /// Workloads it applies to, in order of first appearance; empty when it applies to all.
        var workloads: [String]
    }

    /// The not-run table's columns.
    static let notRunColumns = ["variant", "workloads", "reason"]
    /// The unavailable-metrics table's columns.
    static let unavailableColumns = ["metric", "variant", "reason"]

    /// The not-run table's cells, data passed through `escape`.
    func notRunRows(_ escape: (String) -> String) -> [[String]] {
        notRun.map { group in
            [escape(group.variant),
             group.workloads.isEmpty ? "all" : group.workloads.map(escape).joined(separator: ", "),
             "not run: \(escape(group.reason))"]
        }
    }

    /// The unavailable-metrics table's cells, data passed through `escape`.
    func unavailableRows(_ escape: (String) -> String) -> [[String]] {
        unavailable.map { [escape($0.metric), escape($0.variant ?? "all"), escape($0.reason)] }
    }

    init(_ input: ReportInput) {
        let results = input.results
        experiment = results.experiment
        hostKind = results.hostKind
        emulatedWarning = results.emulated || input.manifest?.host.emulated == true
            ? ResultsDocument.emulatedHostWarning : nil

        var facts: [(String, String)] = [
            ("experiment", results.experiment),
            ("host", results.hostKind),
            ("results created", results.createdAt),
            ("schema version", results.schemaVersion),
        ]
        if let manifest = input.manifest {
            let host = manifest.host
            facts.append(("rvbench version", manifest.rvbenchVersion))
            facts.append(("seed", String(manifest.seed)))
            facts.append(("spec sha256", manifest.spec.sha256))
            let optional: [(String, String?)] = [
                ("architecture", host.arch),
                ("kernel", host.kernel),
                ("ISA", host.isa),
                ("AIA mode", host.aiaMode),
                ("QEMU", host.qemuVersion),
                ("libvirt", host.libvirtVersion),
                ("host CPUs", host.cpuCount.map(String.init)),
                ("emulated by", host.emulator),
            ]
            for case let (label, value?) in optional { facts.append((label, value)) }
            if !manifest.commandLine.isEmpty {
                facts.append(("command line", manifest.commandLine.joined(separator: " ")))
            }
        }
        self.facts = facts

        var notes: [String] = []
        for note in results.notes + (input.manifest?.notes ?? []) where !notes.contains(note) {
            notes.append(note)
        }
        if let problems = input.journal?.problems, let first = problems.first {
            notes.append("samples.jsonl has \(problems.count) unreadable line\(problems.count == 1 ? "" : "s"), "
                + "skipped; first: \(first)")
        }
        self.notes = notes
        modelled = results.modelled
        unavailable = results.unavailable

        var groups: [NotRunGroup] = []
        func add(variant: String, reason: String, workload: String?) {
            if let index = groups.firstIndex(where: { $0.variant == variant && $0.reason == reason }) {
                if let workload, !groups[index].workloads.contains(workload) { groups[index].workloads.append(workload) }
            } else {
                groups.append(NotRunGroup(variant: variant, reason: reason, workloads: workload.map { [$0] } ?? []))
            }
        }
        for workload in results.workloads {
            for variant in workload.variants {
                if let reason = variant.status.notRunReason {
                    add(variant: variant.variant, reason: reason, workload: workload.workload)
                }
            }
        }
        for record in input.journal?.notRun ?? [] {
            add(variant: record.variant, reason: record.reason, workload: record.workload)
        }
        notRun = groups
    }
}

/// Lookups over one `WorkloadResult`.
extension WorkloadResult {
    /// The comparison of `variant` against the baseline, if there is one.
    func comparison(for variant: String) -> Comparison? {
        comparisons.first { $0.candidate == variant }
    }

    /// The baseline's descriptive statistics, if the baseline ran.
    var baselineDescriptive: Descriptive? {
        variants.first { $0.variant == baseline }?.descriptive
    }

    /// Why a run variant has no comparison with the baseline.
    func noComparisonReason(for variant: String) -> String {
        guard let base = variants.first(where: { $0.variant == baseline }) else {
            return "no comparison: \(baseline) has no samples of \(metric)"
        }
        if let reason = base.status.notRunReason { return "no comparison: \(baseline) was not run (\(reason))" }
        if base.descriptive == nil { return "no comparison: \(baseline) has too few samples" }
        return "no comparison: too few usable samples"
    }

    /// A value typical of this metric, used to pick a display unit.
    var typicalValue: Double {
        baselineDescriptive?.median ?? variants.compactMap { $0.descriptive?.median }.first ?? 0
    }

    /// True for hardware, hypervisor and guest counters, shown side by side per workload.
    var isCounter: Bool { kind == .counter }

    /// True when no variant's values vary (or each has at most one value): nothing to plot.
    var isConstant: Bool {
        let described = variants.compactMap(\.descriptive)
        guard !described.isEmpty else { return true }
        let lows = described.map(\.quantiles.p0), highs = described.map(\.quantiles.p100)
        return lows.min() == highs.max()
    }
}

extension Verdict {
    /// How reports name the verdict.
    var label: String {
        switch self {
        case .regression: "regression"
        case .improvement: "improvement"
        case .equivalent: "equivalent"
        case .inconclusive: "inconclusive"
        case .noTest: "no test"
        }
    }
}

/// The Kalibera & Jones design table of a primary metric, as cells for any format.
struct DesignRows {
    static let header = ["variant", "boots × iterations", "between-boot SD", "within-boot SD", "boot cost",
                         "iteration cost", "optimal iterations per boot", "boots needed"]
    var caption: String
    var rows: [[String]]

    init?(_ result: WorkloadResult) {
        guard let first = result.design.first else { return nil }
        caption = "Design (Kalibera & Jones): variance between boots and within a boot, relative to the mean; "
            + "optimal iterations per boot from the measured boot and iteration costs; boots per side for a ±"
            + "\(Num.percent(first.targetRelativeHalfWidth)) ratio CI at that design."
        let mean = result.baselineDescriptive?.mean ?? 1
        func cost(_ x: Double?) -> String { x.map { Num.sig($0, 3) + " s" } ?? "not measured" }
        rows = result.design.map { d in
            [d.variant, "\(d.boots) × \(Num.sig(d.iterationsPerBoot, 3))",
             d.betweenBootVariance > 0 ? Num.percent(d.betweenBootVariance.squareRoot() / mean) : "none detected",
             Num.percent(d.withinBootVariance.squareRoot() / mean),
             cost(d.bootCostSeconds), cost(d.iterationCostSeconds),
             d.optimalIterationsPerBoot.map(String.init) ?? "—", String(d.bootsForTarget)]
        }
    }
}

extension WorkloadResult {
    /// A verification metric's check as text, for any format.
    var checkText: (consistent: Bool, text: String)? {
        guard let check else { return nil }
        let values = check.values.map { $0 == $0.rounded() && abs($0) < 1e15 ? Num.exact($0) : Num.sig($0, 6) }
            .joined(separator: ", ")
        if check.consistent { return (true, "consistent: every variant gave \(values)") }
        let more = check.distinct > check.values.count ? ", …" : ""
        return (false, "inconsistent: \(check.distinct) distinct values (\(values)\(more))")
    }
}

extension Comparison {
    /// The verdict as reports show it, with the underpowered mark when the design has too few boots.
    var verdictText: String {
        guard let bl = bootLevel else { return verdict.label }
        var text = verdict.label
        if bl.underpowered { text += " (underpowered: \(min(bl.bootsBaseline, bl.bootsCandidate)) boots)" }
        return text
    }

    /// "90% CI": the level of the headline interval.
    var levelLabel: String {
        let percent = headlineCI.level * 100
        let text = percent == percent.rounded() ? String(format: "%.0f", percent) : String(format: "%.1f", percent)
        return "\(text)% CI"
    }

    /// True for verdicts reports emphasise.
    var isNotable: Bool { verdict == .regression || verdict == .improvement }
}

extension ReportInput {
    /// The comparisons that answer the question: each workload's primary metric per candidate variant.
    var primaryRows: [(result: WorkloadResult, comparison: Comparison)] {
        results.workloads.filter { $0.kind == .primary }.flatMap { r in
            r.comparisons.filter { ($0.bootLevel?.family ?? .primary) == .primary }.map { (r, $0) }
        }
    }
}

extension Direction {
    var label: String {
        switch self {
        case .lowerIsBetter: "lower is better"
        case .higherIsBetter: "higher is better"
        }
    }
}

extension ReportInput {
    /// Workloads in order of first appearance, each with its metrics' results in document order.
    var workloadGroups: [(workload: String, results: [WorkloadResult])] {
        var groups: [(workload: String, results: [WorkloadResult])] = []
        for result in results.workloads {
            if let index = groups.firstIndex(where: { $0.workload == result.workload }) {
                groups[index].results.append(result)
            } else {
                groups.append((result.workload, [result]))
            }
        }
        return groups
    }

    /// The journal's samples of one workload, metric and variant, in journal order.
    func samples(workload: String, metric: String, variant: String) -> [Sample] {
        (journal?.samples ?? []).filter { $0.workload == workload && $0.metric == metric && $0.variant == variant }
    }
}

/// What an I/O datapath costs, per MB the workload read from its data disk, side by side per variant: the
/// guest's user-space MMIO exits and all its KVM exits, the interrupts the kernel that ran the workload took,
/// and the host CPU time of the guest's QEMU (natively: of the runner and its children). Built from the
/// per-MB normalisations of the counters (`PerUnitOfWork`), so it exists only for a workload whose work is
/// counted in MB. The host counters are per boot: their figure is the boot's count over the MB its measured
/// iterations read, and it also covers the guest's own boot.
struct DatapathCostTable: Equatable {
    struct Column: Equatable {
        var title: String
        /// True for a host counter recorded per boot (workload label `boot`); false for the workload's own metric.
        var perBoot: Bool
        var metric: String
        /// Multiplies the per-MB value (task-clock is in ns; shown in ms).
        var scale: Double
    }

    static let columns: [Column] = [
        Column(title: "user-space MMIO exits / MB", perBoot: true, metric: "host.kvm.mmio_exit_user", scale: 1),
        Column(title: "KVM exits / MB", perBoot: true, metric: "host.kvm.exits", scale: 1),
        Column(title: "interrupts / MB", perBoot: false, metric: "interrupts", scale: 1),
        Column(title: "host CPU ms / MB (guest's QEMU; native: the runner)", perBoot: true, metric: "host.perf.task-clock",
               scale: 1e-6),
    ]

    var workload: String
    /// Variant name, then one cell per column, unescaped.
    var rows: [[String]]
    var notes: [String]
}

extension ReportInput {
    /// The datapath cost table of `workload`, or nil when its work is not counted in MB or nothing was counted.
    func datapathCost(for workload: String, bootLabel: String = "boot") -> DatapathCostTable? {
        let all = results.workloads
        let own = all.filter { $0.workload == workload }
        guard let primary = own.first(where: { $0.kind == .primary }) ?? own.first else { return nil }
        let workloadsRun = Set(all.map(\.workload)).subtracting([bootLabel])
        /// The column's normalisation per MB, if the run has one.
        func perMB(_ column: DatapathCostTable.Column) -> PerUnitOfWork? {
            // A per-boot counter is divided by this workload's MB only when it was the boot's only workload.
            if column.perBoot, workloadsRun != [workload] { return nil }
            let label = column.perBoot ? bootLabel : workload
            return all.first { $0.workload == label && $0.metric == column.metric }?.perUnit.flatMap { $0.unit == "MB" ? $0 : nil }
        }
        let found = DatapathCostTable.columns.map(perMB)
        guard found.contains(where: { $0 != nil }) else { return nil }
        var rows: [[String]] = []
        for variant in primary.variants {
            var cells = [variant.variant]
            if let reason = variant.status.notRunReason {
                cells += Array(repeating: "not run: \(reason)", count: found.count)
                rows.append(cells)
                continue
            }
            for (column, per) in zip(DatapathCostTable.columns, found) {
                cells.append(per?.value(for: variant.variant).map { Num.sig($0 * column.scale) } ?? "—")
            }
            rows.append(cells)
        }
        var notes = ["MB: 10^6 bytes the measured iterations read from the data disk (the workload's reads and its read-back check)."]
        if workloadsRun != [workload] {
            notes.append("KVM exits and host CPU time are counted per boot; this run's boots ran more than one workload, "
                + "so they are not divided by this workload's MB.")
        } else {
            notes.append("KVM exits and host CPU time are counted per boot: the boot's count over the MB of its measured "
                + "iterations, the guest's own boot and warm-up included. Interrupts are counted per iteration.")
        }
        notes.append("—: not counted (a native variant has no VM, so no KVM exits; other gaps are listed as unavailable metrics).")
        return DatapathCostTable(workload: workload, rows: rows, notes: notes)
    }
}
