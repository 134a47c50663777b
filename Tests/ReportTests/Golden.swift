// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing

extension Tag {
    @Tag static var golden: Self
}

/// Expected-file comparisons. Set `RVBENCH_UPDATE_GOLDEN=1` to rewrite the expected files from
/// the current output instead of comparing (then review the diff with `git diff`).
enum Golden {
    static var updating: Bool {
        ProcessInfo.processInfo.environment["RVBENCH_UPDATE_GOLDEN"] == "1"
    }

    /// Tests/ReportTests/Fixtures in the source tree.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The repository root.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Compares `actual` with the file at `url`, or writes it when updating.
    static func check(_ actual: Data, against url: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if updating {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url)
            return
        }
        guard let expected = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing expected file \(url.path); run with RVBENCH_UPDATE_GOLDEN=1 to create it",
                         sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let firstDifference = zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(expected.count, actual.count)
            let expectedText = String(decoding: expected, as: UTF8.self)
            let actualText = String(decoding: actual, as: UTF8.self)
            let expectedLines = expectedText.split(separator: "\n", omittingEmptySubsequences: false)
            let actualLines = actualText.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(expectedLines.count, actualLines.count)
            let expectedLine = line < expectedLines.count ? String(expectedLines[line]) : "<end of file>"
            let actualLine = line < actualLines.count ? String(actualLines[line]) : "<end of file>"
            Issue.record("""
                \(url.lastPathComponent) differs from the expected file at byte \(firstDifference), line \(line + 1):
                  expected: \(expectedLine)
                  actual:   \(actualLine)
                if the change is intended, run with RVBENCH_UPDATE_GOLDEN=1 and review the diff
                """, sourceLocation: sourceLocation)
        }
    }
}
