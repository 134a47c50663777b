// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore

/// `results.json` exactly as `ResultsDirectory.writeResults` writes it, for scripts and `jq`.
public enum JSONReport {
    public static func render(_ input: ReportInput) throws -> Data {
        try ResultsJSON.prettyData(input.results)
    }
}
