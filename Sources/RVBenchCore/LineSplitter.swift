// SPDX-License-Identifier: GPL-3.0-or-later

/// Splits a byte stream (a guest console, the output of a runner over SSH, a recorded log) into lines,
/// with bounded memory. A pure state machine: feed it chunks as they arrive, then `finish()` at the end.
///
/// - Line feeds end lines; carriage returns are dropped wherever they occur (serial consoles print
///   "\r\n", and sometimes "\r\r\n").
/// - A line keeps at most `maxLineBytes` bytes. The rest of a longer line is counted, not kept: the
///   line comes out once, with its first `maxLineBytes` bytes and its full `length`, flagged `oversized`.
///   A guest that never prints a newline cannot grow memory.
public struct LineSplitter: Sendable {
    /// One line of the stream.
    public struct Line: Sendable, Equatable {
        /// The line's first bytes (all of them unless `oversized`), without the line feed and without
        /// carriage returns.
        public var bytes: [UInt8]
        /// The line's full length in bytes, carriage returns not counted.
        public var length: Int

        public init(bytes: [UInt8], length: Int? = nil) {
            self.bytes = bytes
            self.length = length ?? bytes.count
        }

        /// Whether the line was longer than the splitter's bound, so `bytes` holds only its head.
        public var oversized: Bool { length > bytes.count }

        /// The bytes decoded as UTF-8; invalid sequences become U+FFFD.
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public let maxLineBytes: Int
    private var head: [UInt8] = []
    private var length = 0

    public init(maxLineBytes: Int = 4096) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
        head.reserveCapacity(min(maxLineBytes, 4096))
    }

    /// Consumes a chunk and returns the lines it completed.
    public mutating func feed<C: Collection>(_ chunk: C) -> [Line] where C.Element == UInt8 {
        var lines: [Line] = []
        for byte in chunk {
            switch byte {
            case 0x0D:
                continue
            case 0x0A:
                lines.append(take())
            default:
                length += 1
                if head.count < maxLineBytes { head.append(byte) }
            }
        }
        return lines
    }

    /// The unterminated last line, if the stream ended in the middle of one.
    public mutating func finish() -> Line? {
        length == 0 ? nil : take()
    }

    private mutating func take() -> Line {
        defer {
            head.removeAll(keepingCapacity: true)
            length = 0
        }
        return Line(bytes: head, length: length)
    }
}
