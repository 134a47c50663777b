// SPDX-License-Identifier: GPL-3.0-or-later
import Foundation
import RVBenchCore
import Testing

/// The one splitter of guest output: consoles, runner output over SSH and recorded logs.
@Suite struct LineSplitterTests {
    private func split(_ chunks: [String], max: Int = 4096) -> [LineSplitter.Line] {
        var splitter = LineSplitter(maxLineBytes: max)
        var lines = chunks.flatMap { splitter.feed(Array($0.utf8)) }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    @Test func splitsOnLineFeedsAcrossChunks() {
        let lines = split(["hel", "lo\nwor", "ld\n", "\n", "tail"])
        #expect(lines.map(\.text) == ["hello", "world", "", "tail"])
        #expect(lines.allSatisfy { !$0.oversized })
    }

    @Test func dropsCarriageReturnsEvenWhenSplitFromTheirLineFeed() {
        let lines = split(["OpenSBI v1.2\r", "\n", "Platform\r\r\n", "a\rb\r\n"])
        #expect(lines.map(\.text) == ["OpenSBI v1.2", "Platform", "ab"])
        #expect(lines.map(\.length) == [12, 8, 2])
        #expect(lines.allSatisfy { !$0.bytes.contains(0x0D) })
    }

    @Test func aLineOfExactlyTheBoundIsNotOversized() {
        let lines = split(["abcd\r\n", "abcd"], max: 4)
        #expect(lines.map(\.text) == ["abcd", "abcd"])
        #expect(lines.allSatisfy { !$0.oversized })
    }

    @Test func aLongLineKeepsItsHeadAndItsLength() {
        let lines = split(["abcdefghij\nok\n"], max: 4)
        #expect(lines.map(\.text) == ["abcd", "ok"])
        #expect(lines.map(\.length) == [10, 2])
        #expect(lines.map(\.oversized) == [true, false])
    }

    @Test func aLongUnterminatedTailIsFlagged() {
        let lines = split(["abcdef"], max: 4)
        #expect(lines == [LineSplitter.Line(bytes: Array("abcd".utf8), length: 6)])
        #expect(lines.first?.oversized == true)
    }

    @Test func memoryStaysBoundedForAnEndlessLine() {
        var splitter = LineSplitter(maxLineBytes: 100)
        let chunk = [UInt8](repeating: 0x41, count: 1000)
        for _ in 0..<100 { #expect(splitter.feed(chunk).isEmpty) }
        let last = splitter.finish()
        #expect(last?.bytes.count == 100 && last?.length == 100_000)
        #expect(splitter.finish() == nil)
    }

    @Test func invalidUTF8IsDecodedLossily() {
        var splitter = LineSplitter()
        let lines = splitter.feed([0x61, 0xFF, 0x62, 0x0A])
        #expect(lines.first?.bytes == [0x61, 0xFF, 0x62])
        #expect(lines.first?.text == "a\u{FFFD}b")
    }

    @Test func finishWithNothingPendingGivesNothing() {
        var splitter = LineSplitter()
        _ = splitter.feed(Array("x\n".utf8))
        #expect(splitter.finish() == nil)
        _ = splitter.feed(Array("\r".utf8))
        #expect(splitter.finish() == nil, "a lone carriage return is no line")
    }
}
