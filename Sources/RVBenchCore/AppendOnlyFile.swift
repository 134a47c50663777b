// SPDX-License-Identifier: GPL-3.0-or-later
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file of JSON lines that only grows at its end, written durably: `journal.jsonl` and `samples.jsonl`.
///
/// - **Appends.** A line goes out in one `write(2)` to a descriptor opened with `O_APPEND` (the loop
///   only continues after a short write or `EINTR`), followed by `fsync`. When `append` returns, the line
///   is on disk.
/// - **Truncation.** `truncate(to:)` cuts the file back (a rolled-back boot) and `fsync`s.
/// - **Repair.** A crash can leave a torn last line. `open(_:keeping:)` cuts the file to the length its
///   owner found valid before anything new is appended, and `wholeLines(in:)` is the one place lines and
///   their byte offsets are found, so readers agree on where the valid part ends.
/// - **One writer.** With `lock: true` the file holds an exclusive `flock` while it is open; the kernel
///   drops it when the process dies.
public final class AppendOnlyFile {
    /// A write to the file, for crash-simulation tests.
    public enum Operation: Equatable, Sendable {
        case append(bytes: Data)
        case truncate(length: Int64)
    }

    public let url: URL
    private var fd: Int32
    /// The file's length in bytes as this object last wrote or cut it.
    public private(set) var length: Int64
    /// Observes every write before it is made; tests set it to record what a crash could leave.
    public var observer: (@Sendable (Operation) -> Void)?

    private init(url: URL, fd: Int32, length: Int64) {
        self.url = url; self.fd = fd; self.length = length
    }

    deinit {
        close()
    }

    /// The file's name, as messages show it.
    public var name: String { url.lastPathComponent }

    /// Opens (creating if needed) `url` for appending.
    ///
    /// - Parameters:
    ///   - keeping: the length of the file's valid part. A longer file is cut back to it (and
    ///     `fsync`ed) before this returns: a torn last line, or lines that were never committed. Nil
    ///     keeps the whole file.
    ///   - lock: hold an exclusive `flock` on the file while it is open; `busyReason` says why it is busy
    ///     in the message when another process already holds it.
    public static func open(_ url: URL, keeping: Int64? = nil, lock: Bool = false,
                            busyReason: String = "another process holds it") throws -> AppendOnlyFile {
        let fd = openDescriptor(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else {
            throw RVBenchError(.badInput, "cannot open \(url.path) for appending (\(String(cString: strerror(errno)))); "
                + "check the directory's permissions")
        }
        if lock, flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno == EWOULDBLOCK ? busyReason : String(cString: strerror(errno))
            _ = closeDescriptor(fd)
            throw RVBenchError(.badInput, "cannot lock \(url.lastPathComponent) in \(url.deletingLastPathComponent().path) "
                + "(\(reason)); wait for it to finish or stop it first")
        }
        let file = AppendOnlyFile(url: url, fd: fd, length: size(of: url) ?? 0)
        if let keeping, file.length != keeping {
            try file.truncate(to: keeping)
        }
        return file
    }

    /// Closes the file; further writes throw. Idempotent.
    public func close() {
        if fd >= 0 {
            _ = closeDescriptor(fd)
            fd = -1
        }
    }

    /// Appends `line` (which should end in "\n") in one `write(2)`, then `fsync`s.
    public func append(_ line: Data) throws {
        guard fd >= 0 else { throw RVBenchError(.internal, "\(name) is closed") }
        observer?(.append(bytes: line))
        let failure = Self.writeAll(line, to: fd)
        guard failure == 0 else {
            throw RVBenchError(.library, "writing \(name) in \(url.deletingLastPathComponent().path) failed "
                + "(\(String(cString: strerror(failure)))); free some space, then `rvbench resume "
                + "\(url.deletingLastPathComponent().path)`")
        }
        length += Int64(line.count)
    }

    /// Writes all of `data` to `fd`, again after an interrupted or short `write(2)`, then `fsync`s.
    /// Returns 0, or the `errno` of the call that failed.
    static func writeAll(_ data: Data, to fd: Int32) -> Int32 {
        var failure: Int32 = 0
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                let n = writeDescriptor(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        return failure
    }

    /// Cuts the file to `length` bytes, then `fsync`s.
    public func truncate(to length: Int64) throws {
        guard fd >= 0 else { throw RVBenchError(.internal, "\(name) is closed") }
        observer?(.truncate(length: length))
        guard ftruncate(fd, off_t(length)) == 0, fsync(fd) == 0 else {
            throw RVBenchError(.library, "truncating \(name) in \(url.deletingLastPathComponent().path) failed "
                + "(\(String(cString: strerror(errno)))); check the file system")
        }
        self.length = length
    }

    /// The size of the file at `url`, or nil when it cannot be read.
    public static func size(of url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// `fsync`s a directory, so that files created or renamed in it survive a crash.
    public static func syncDirectory(_ url: URL) {
        let fd = openDescriptor(url.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            _ = closeDescriptor(fd)
        }
    }

    // MARK: Reading

    /// One line of an append-only file.
    public struct Line: Sendable, Equatable {
        /// 1-based line number.
        public var number: Int
        /// The line's bytes, without its "\n".
        public var bytes: ArraySlice<UInt8>
        /// Whether a "\n" ends it; only the last line of a file can lack one (a torn write).
        public var terminated: Bool
        /// The byte offset just past the line and its "\n": the file's length if it ended here.
        public var end: Int

        /// Whether the line holds nothing but spaces, tabs and carriage returns.
        public var isBlank: Bool { bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d } }
    }

    /// Every line of `data` in order, with its offsets. An unterminated last line is included with
    /// `terminated == false`; an empty tail after the last "\n" is not a line.
    public static func lines(in data: Data) -> [Line] {
        let bytes = [UInt8](data)
        var out: [Line] = []
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: 0x0a)
            let end = newline ?? bytes.count
            out.append(Line(number: out.count + 1, bytes: bytes[start ..< end], terminated: newline != nil,
                            end: newline.map { $0 + 1 } ?? bytes.count))
            start = end + 1
        }
        return out
    }
}

// The C functions under names that do not clash with the methods above.
@inline(__always) private func openDescriptor(_ path: String, _ flags: Int32) -> Int32 { open(path, flags, 0o644) }
@inline(__always) private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) private func writeDescriptor(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
