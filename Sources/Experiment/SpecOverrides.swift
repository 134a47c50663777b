// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Host
import RVBenchCore
import Yams

extension ExperimentSpec {
    /// The spec with the command line's overrides applied. The YAML text stays as written; the overrides
    /// are kept in `overrides`, which the manifest records, so `resume` and `reproduce` apply them again.
    ///
    /// `deterministic` needs a lab spec; a spec that sets `deterministic: false` or another `qemu` is
    /// refused rather than overridden.
    public func applying(_ overrides: SpecOverrides) throws -> ExperimentSpec {
        guard overrides.deterministic else { return self }
        guard case .lab(let options) = host else {
            throw RVBenchError(.badInput, "--deterministic needs a lab spec (host: lab): it runs the lab's L0 with -icount")
        }
        var spec = self
        spec.overrides.deterministic = true
        if options.deterministic && options.qemu == .trixie { return spec }
        let shown = source?.path ?? "spec"
        let keys = source.flatMap { (try? Yams.compose(yaml: $0.yaml))??.mapping?.keys.compactMap(\.string) } ?? []
        if keys.contains("deterministic") && !options.deterministic {
            throw RVBenchError(.badInput, "\(shown) sets deterministic: false; remove it or run without --deterministic")
        }
        if keys.contains("qemu") && options.qemu != .trixie {
            throw RVBenchError(.badInput, "\(shown) sets qemu: \(options.qemu.rawValue), but deterministic mode needs qemu: trixie "
                + "(Debian 12's QEMU 7.2 with -icount does not boot L1)")
        }
        spec.host = .lab(LabOptions(qemu: .trixie, deterministic: true))
        return spec
    }

    /// The spec with deterministic mode on (`rvbench run --deterministic`); see `applying(_:)`.
    public func withDeterministicMode(catalogue: WorkloadCatalogue) throws -> ExperimentSpec {
        try applying(SpecOverrides(deterministic: true))
    }
}
