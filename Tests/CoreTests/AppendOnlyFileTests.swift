// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import Testing
@testable import RVBenchCore

/// Collects an `AppendOnlyFile`'s writes. `@unchecked Sendable`: `operations` is only touched under `lock`.
private final class Writes: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [AppendOnlyFile.Operation] = []
    func add(_ op: AppendOnlyFile.Operation) { lock.lock(); list.append(op); lock.unlock() }
    var operations: [AppendOnlyFile.Operation] { lock.lock(); defer { lock.unlock() }; return list }
}

@Suite struct AppendOnlyFileTests {
    static func temporaryFile() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rvbench-append-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("records.jsonl")
    }

    @Test func appendsWholeLinesAndKeepsItsLength() throws {
        let url = try Self.temporaryFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let writes = Writes()
        let file = try AppendOnlyFile.open(url)
        file.observer = { writes.add($0) }
        try file.append(Data("{\"a\":1}\n".utf8))
        try file.append(Data("{\"b\":2}\n".utf8))
        #expect(file.length == 16 && AppendOnlyFile.size(of: url) == 16)
        try file.truncate(to: 8)
        #expect(file.length == 8)
        try file.append(Data("{\"c\":3}\n".utf8))
        file.close()
        #expect(try String(contentsOf: url, encoding: .utf8) == "{\"a\":1}\n{\"c\":3}\n")
        #expect(writes.operations == [.append(bytes: Data("{\"a\":1}\n".utf8)), .append(bytes: Data("{\"b\":2}\n".utf8)),
                                      .truncate(length: 8), .append(bytes: Data("{\"c\":3}\n".utf8))])
        #expect(throws: RVBenchError.self) { try file.append(Data("x\n".utf8)) }
    }

    @Test func reopeningContinuesAtTheEnd() throws {
        let url = try Self.temporaryFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try AppendOnlyFile.open(url).append(Data("one\n".utf8))
        let again = try AppendOnlyFile.open(url)
        #expect(again.length == 4)
        try again.append(Data("two\n".utf8))
        again.close()
        #expect(try String(contentsOf: url, encoding: .utf8) == "one\ntwo\n")
    }

    @Test(arguments: ["{\"torn", "{\"whole\":true}", "\u{0}\u{0}"])
    func openingCutsWhatLiesBeyondTheValidPart(_ torn: String) throws {
        let url = try Self.temporaryFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let good = "{\"n\":1}\n{\"n\":2}\n"
        try Data((good + torn).utf8).write(to: url)
        let data = try Data(contentsOf: url)
        let valid = AppendOnlyFile.lines(in: data).filter(\.terminated).last!.end
        let file = try AppendOnlyFile.open(url, keeping: Int64(valid))
        #expect(file.length == Int64(good.utf8.count))
        try file.append(Data("{\"n\":3}\n".utf8))
        file.close()
        #expect(try String(contentsOf: url, encoding: .utf8) == good + "{\"n\":3}\n")
    }

    @Test func linesCarryTheirNumbersAndOffsets() {
        let lines = AppendOnlyFile.lines(in: Data("ab\n\n \r\ncd".utf8))
        #expect(lines.map { Array($0.bytes) } == [Array("ab".utf8), [], Array(" \r".utf8), Array("cd".utf8)])
        #expect(lines.map(\.number) == [1, 2, 3, 4])
        #expect(lines.map(\.end) == [3, 4, 7, 9])
        #expect(lines.map(\.terminated) == [true, true, true, false])
        #expect(lines.map(\.isBlank) == [false, true, true, false])
        #expect(AppendOnlyFile.lines(in: Data()).isEmpty)
        #expect(AppendOnlyFile.lines(in: Data("x\n".utf8)).count == 1)
    }

    @Test func aLockedFileHasOneWriter() throws {
        let url = try Self.temporaryFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let first = try AppendOnlyFile.open(url, lock: true, busyReason: "someone else writes it")
        #expect { try AppendOnlyFile.open(url, lock: true, busyReason: "someone else writes it") } throws: { error in
            (error as? RVBenchError)?.message.contains("(someone else writes it)") == true
        }
        first.close()
        try AppendOnlyFile.open(url, lock: true).close()
    }

    @Test func aDirectoryItCannotWriteIsBadInput() {
        let url = URL(fileURLWithPath: "/proc/rvbench-no-such-dir/records.jsonl")
        #expect { try AppendOnlyFile.open(url) } throws: { error in
            (error as? RVBenchError)?.code == .badInput
        }
    }
}
